"""`tickforge pipeline run pipeline.yaml` (docs/pipeline.md): ingest, then build or update the
labeled dataset; a second run with no new input does nothing and says so.

Oracles: the store's own version counter and listing (nothing committed on an idle run), and a
full `label build` of the final snapshot with the recorded thresholds, compared column by
column with pyarrow (the update must equal it).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import tickforge
from conftest import cli, run

LABEL = dict(lookback_rows=300, lookforward_input=300, lookforward_offset=30, nbins=5, jump_size=10,
             min_symbol_samples=500, currency="FX")


def store_version(store: Path) -> int:
    return json.loads(run("store", "info", store, "--json").stdout)["version"]


@pytest.fixture()
def project(tmp_path):
    """A folder with four generated days (three in raw/, one held back) and a pipeline file
    whose paths are relative to it."""
    files = sorted(tickforge.synth_dbn(tmp_path / "all", symbols=3, days=4, rows_per_day=5000, seed=41,
                                       start_date="2024-05-06"))
    raw = tmp_path / "raw"
    raw.mkdir()
    for f in files[:3]:
        shutil.copy(f, raw / f.name)
    (tmp_path / "label.json").write_text(json.dumps(LABEL))
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text("store: store\ningest: [raw]\nname: fx\nlabel_config: label.json\nlabel: {nbins: 5}\n")
    return tmp_path, pipeline, files


def test_first_run_ingests_and_builds_then_idle_run_does_nothing(project):
    root, pipeline, files = project
    first = json.loads(run("pipeline", "run", pipeline, "--json").stdout)
    stages = {s["stage"]: s for s in first["stages"]}
    assert first["changed"] and stages["ingest"]["changed"] and stages["label"]["changed"]
    assert stages["label"]["detail"]["method"] == "build"
    store = root / "store"
    info = json.loads(run("store", "info", store, "--dataset", "labeled/fx", "--json").stdout)
    assert info["lineage"]["config"]["lookback_rows"] == LABEL["lookback_rows"]
    assert len(info["lineage"]["source"]["symbols"]) == 3
    version = store_version(store)
    # the second run finds nothing new: no commit, and it says so per stage
    second = run("pipeline", "run", pipeline)
    assert "nothing new" in second.stdout and "up to date" in second.stdout
    assert "nothing to do" in second.stdout
    assert store_version(store) == version
    doc = json.loads(run("pipeline", "run", pipeline, "--json").stdout)
    assert not doc["changed"] and [s["changed"] for s in doc["stages"]] == [False, False]
    assert store_version(store) == version


def test_new_day_is_ingested_and_labels_updated_like_a_rebuild(project):
    root, pipeline, files = project
    run("pipeline", "run", pipeline)
    shutil.copy(files[3], root / "raw" / files[3].name)
    proc = run("pipeline", "run", pipeline, "--json")
    doc = json.loads(proc.stdout)
    stages = {s["stage"]: s for s in doc["stages"]}
    assert stages["ingest"]["changed"]
    assert stages["label"]["detail"]["method"] == "incremental"
    assert [d.rsplit("/", 1)[-1] for d in stages["label"]["detail"]["added"]] == ["day=9"]
    store = root / "store"
    info = json.loads(run("store", "info", store, "--dataset", "labeled/fx", "--json").stdout)
    listed = {Path(f["path"]).name: store / f["path"] for f in info["files"]}
    oracle = root / "oracle"
    run("label", "build", "--config", root / "label.json", "--store", store, "--thresholds",
        listed["thresholds.json"], "--out", oracle)
    want = sorted(oracle.glob("*_dataset.parquet"))
    assert want and sorted(p.name for p in want) == sorted(n for n in listed if n.endswith("_dataset.parquet"))
    for path in want:
        x, y = pq.read_table(listed[path.name]), pq.read_table(path)
        assert x.num_rows == y.num_rows
        assert x.schema.equals(y.schema, check_metadata=True)
        for column in y.column_names:
            assert x.column(column).equals(y.column(column)), f"{path.name}: {column}"
    # and a third run is idle again
    assert "nothing to do" in run("pipeline", "run", pipeline).stdout


def test_changed_label_keys_are_reported_not_refit(project):
    root, pipeline, files = project
    run("pipeline", "run", pipeline)
    pipeline.write_text(pipeline.read_text().replace("nbins: 5", "nbins: 7"))
    proc = run("pipeline", "run", pipeline)
    assert "note:" in proc.stdout and "nbins" in proc.stdout
    info = json.loads(run("store", "info", root / "store", "--dataset", "labeled/fx", "--json").stdout)
    assert info["lineage"]["config"]["nbins"] == 5


def test_bad_pipeline_files_name_file_and_key(project):
    root, pipeline, files = project
    bad = root / "bad.yaml"
    bad.write_text("store: store\ningest: [raw]\nnam: fx\n")
    proc = run("pipeline", "run", bad, check=False)
    assert proc.returncode != 0
    assert "bad.yaml" in proc.stderr and "'nam'" in proc.stderr and "did you mean 'name'" in proc.stderr
    bad.write_text("store: store\nname: fx\nlabel: {lookback: 3}\n")
    proc = run("pipeline", "run", bad, check=False)
    assert proc.returncode != 0 and "lookback" in proc.stderr and "bad.yaml" in proc.stderr
    # an input that does not exist is named
    bad.write_text("store: store\ningest: [missing]\n")
    proc = run("pipeline", "run", bad, check=False)
    assert proc.returncode != 0 and "missing" in proc.stderr


def test_python_pipeline_run(project):
    root, pipeline, files = project
    doc = tickforge.pipeline_run(pipeline)
    assert doc["changed"]
    assert not tickforge.pipeline_run(pipeline)["changed"]


def test_progress_callback_sees_every_stage_and_ends_at_the_totals(project):
    """pipeline_run(progress=) reports the ingest, then the label stages, each ending final at
    its totals; an update (label_update(progress=)) reports the split of the new day."""
    root, pipeline, files = project
    updates = []
    tickforge.pipeline_run(pipeline, progress=updates.append)
    stages = [u["stage"] for u in updates]
    assert stages[0] == "ingest" and {"split", "fit", "build"} <= set(stages), sorted(set(stages))
    finals = {u["stage"]: u for u in updates if u["final"]}
    assert finals["ingest"]["files_done"] == finals["ingest"]["files_total"] == 3
    assert finals["ingest"]["rows_done"] == sum(tickforge.read_dbn(f).num_rows for f in files[:3])
    for stage in ("ingest", "split"):
        done = [u["rows_done"] for u in updates if u["stage"] == stage]
        assert done == sorted(done)
    shutil.copy(files[3], root / "raw" / files[3].name)
    run("store", "ingest", root / "store", root / "raw" / files[3].name)
    updates.clear()
    result = tickforge.label_update(root / "store", "fx", progress=updates.append)
    assert result["method"] == "incremental"
    split = [u for u in updates if u["stage"] == "split" and u["final"]]
    assert split and split[0]["files_done"] == split[0]["files_total"] >= 1
    assert split[0]["rows_done"] == tickforge.read_dbn(files[3]).num_rows
