"""Labeling on Ray (docs/ray.md "Labeling on Ray"): label_fit, label_build and label_run as one
Ray task per input file (the split) and one per symbol (fit candidates, build), against the
local functions on the same inputs as the oracle (themselves checked against a numpy reference
in test_label.py): thresholds.json byte for byte, every dataset file byte for byte, reports
and store commits field for field.

Small generated data and small windows; the session's 2-CPU Ray cluster (conftest.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import tickforge

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install tickforge[ray])")
import tickforge.ray as tray  # noqa: E402

CONFIG = dict(lookback_rows=200, lookforward_input=200, lookforward_offset=20, nbins=5, jump_size=7,
              min_symbol_samples=300, currency="FX")
# Timing and the task count are no part of what is compared.
VOLATILE = {"seconds", "rows_per_second", "tasks"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Six daily DBN files (three symbols, then two) and a store of them."""
    root = tmp_path_factory.mktemp("ray_label")
    dbn = root / "dbn"
    tickforge.synth_dbn(dbn, symbols=3, days=4, rows_per_day=2500, seed=31, start_date="2024-05-01")
    tickforge.synth_dbn(dbn, symbols=2, days=2, rows_per_day=2000, seed=32, start_date="2024-05-05")
    files = sorted(dbn.glob("*.dbn*"))
    store = root / "store"
    tickforge.Store(store).ingest(files)
    return root, files, store


def bytes_of(folder: Path) -> dict[str, bytes]:
    """Every visible file of a folder (scratch folders are hidden) with its contents."""
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())
            if p.is_file() and not p.name.startswith((".", "_"))}


def without(doc: dict, keys=VOLATILE) -> dict:
    return {k: v for k, v in doc.items() if k not in keys}


def assert_same_folder(got: Path, want: Path):
    g, w = bytes_of(got), bytes_of(want)
    assert sorted(g) == sorted(w)
    assert any(name.endswith("_dataset.parquet") for name in w)
    for name in w:
        if name == "build_report.json":
            assert without(json.loads(g[name])) == without(json.loads(w[name]))
        else:
            assert g[name] == w[name], f"{name} differs"
    assert not [p for p in Path(got).iterdir() if p.name.startswith(("_tickforge-label", "."))], "scratch left"


@pytest.mark.parametrize("mode", ["global", "per-symbol"])
def test_fit_on_ray_equals_the_local_fit_byte_for_byte(ray_cluster, data, tmp_path, mode):
    _, files, _ = data
    # A small per-file cap and a sampled half of the fit files: the seeded draws decide.
    config = dict(CONFIG, mode=mode, max_samples_per_file=40, file_sample_fraction=0.5, fit_fraction=0.7)
    want = tickforge.label_fit(files, tmp_path / "local" / "thresholds.json", config=config)
    got = tray.label_fit(files, tmp_path / "ray" / "thresholds.json", config=config, max_in_flight=3)
    assert got.pop("tasks") > len(files)  # a split per file, then a fit per symbol
    assert got == want
    assert (tmp_path / "ray" / "thresholds.json").read_bytes() == (tmp_path / "local" / "thresholds.json").read_bytes()
    assert want["sample_size"] > 0 and [f["sampled"] for f in want["fit_files"]].count(True) >= 1
    assert os.listdir(tmp_path / "ray") == ["thresholds.json"]  # the split's scratch went


def test_fit_on_a_store_snapshot_equals_the_local_one(ray_cluster, data, tmp_path):
    _, _, store = data
    want = tickforge.label_store("fit", store=store, version=1, out=tmp_path / "local.json", config=CONFIG)
    got = tray.label_fit(None, tmp_path / "ray.json", store=store, version=1, config=CONFIG)
    got.pop("tasks")
    assert got == want
    assert (tmp_path / "ray.json").read_bytes() == (tmp_path / "local.json").read_bytes()


def test_run_and_build_on_ray_write_the_local_folders_file_for_file(ray_cluster, data, tmp_path):
    _, files, _ = data
    want_run = tickforge.label_run(files, tmp_path / "local_run", config=CONFIG)
    got_run = tray.label_run(files, tmp_path / "ray_run", config=CONFIG, max_in_flight=2)
    assert without(got_run) == without(want_run)
    assert_same_folder(tmp_path / "ray_run", tmp_path / "local_run")
    thresholds = tmp_path / "local_run" / "thresholds.json"
    want = tickforge.label_build(files, thresholds, tmp_path / "local_build", config=CONFIG)
    got = tray.label_build(files, thresholds, tmp_path / "ray_build", config=CONFIG)
    assert without(got) == without(want)
    assert_same_folder(tmp_path / "ray_build", tmp_path / "local_build")
    # The oracle's own check: a dataset per symbol with enough rows, its rows those of the run.
    names = [e["output"] for e in want["symbols"].values() if "output" in e]
    assert len(names) == 3
    for name in names:
        assert pq.read_table(tmp_path / "ray_build" / name).equals(pq.read_table(tmp_path / "local_run" / name))


def committed(store: Path, name: str) -> tuple[dict, dict[str, bytes]]:
    info = tickforge.Store(store).info()
    files = {Path(f["path"]).name: (store / f["path"]).read_bytes()
             for f in tickforge.Store(store).files(f"labeled/{name}")}
    return info, files


def test_run_into_a_store_commits_what_the_local_commit_holds(ray_cluster, data, tmp_path):
    _, files, _ = data
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    for root in (local, on_ray):
        tickforge.Store(root).ingest(files)
    want = tickforge.label_store("run", store=local, into=local, name="fx", config=CONFIG)
    got = tray.label_run(None, into=on_ray, name="fx", store=on_ray, config=CONFIG)
    assert got["committed"]["version"] == want["committed"]["version"] == 2
    assert got["committed"]["dataset"] == "labeled/fx"
    lineage_got, lineage_want = got["committed"]["lineage"], want["committed"]["lineage"]
    assert without(lineage_got, {"created_at", "source"}) == without(lineage_want, {"created_at", "source"})
    assert lineage_got["source"] == {**lineage_want["source"], "store": lineage_got["source"]["store"]}
    assert tickforge.Store(on_ray).info()["version"] == 2
    _, got_files = committed(on_ray, "fx")
    _, want_files = committed(local, "fx")
    assert sorted(got_files) == sorted(want_files)
    for name, blob in want_files.items():
        if name == "build_report.json":
            assert without(json.loads(got_files[name])) == without(json.loads(blob))
        else:
            assert got_files[name] == blob, name
    # No scratch folder stays in the store.
    assert not [p for p in on_ray.iterdir() if p.name.startswith("_tickforge-label")]
    # The raw files as the source, with build and given thresholds: the lineage names them.
    thresholds = json.loads(want_files["thresholds.json"])
    raw = tray.label_build(files, thresholds, into=on_ray, name="raw", config=CONFIG)
    local_raw = tickforge.label_store("build", inputs=files, thresholds=thresholds, into=local, name="raw",
                                      config=CONFIG)
    assert raw["committed"]["lineage"]["source"] == local_raw["committed"]["lineage"]["source"]
    assert committed(on_ray, "raw")[1].keys() == committed(local, "raw")[1].keys()


def killer(marker: Path, stage: str, which):
    def die_once(at: str, what, path: str) -> None:
        # Only inside a Ray worker (never the driver or a test process): the first attempt of
        # one task has written everything, then its worker dies.
        if ray.get_runtime_context().worker.mode != ray.WORKER_MODE:
            return
        if at == stage and what == which and not marker.exists():
            marker.write_text(path)
            os._exit(1)

    return die_once


@pytest.mark.parametrize("stage, which", [("split", 2), ("build", "SYM1")])
def test_a_task_killed_after_writing_is_retried_and_the_commit_equals_a_clean_one(ray_cluster, data, tmp_path,
                                                                                  stage, which):
    _, files, _ = data
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    for root in (clean, killed):
        tickforge.Store(root).ingest(files)
    symbols = tray.label_run(None, into=clean, name="fx", store=clean, config=CONFIG)["symbols"]
    if stage == "build":
        which = sorted(symbols)[1]
    marker = tmp_path / "marker"
    tray.label_run(None, into=killed, name="fx", store=killed, config=CONFIG,
                   _after_stage=killer(marker, stage, which))
    assert marker.exists()  # the kill happened; Ray ran the task again
    got, want = committed(killed, "fx"), committed(clean, "fx")
    assert got[0]["version"] == want[0]["version"] == 2
    for name, blob in want[1].items():
        if name != "build_report.json":
            assert got[1][name] == blob, name
    files_listed = tickforge.Store(killed).files("labeled/fx")
    assert len({f["path"] for f in files_listed}) == len(files_listed) == len(want[1])
    assert not [p for p in killed.iterdir() if p.name.startswith("_tickforge-label")]


def test_a_bad_file_fails_the_job_or_is_skipped_as_locally(ray_cluster, data, tmp_path):
    _, files, _ = data
    # A real file's metadata (so it is listed, by its start time), then a torn record.
    raw = tickforge.synth_dbn(tmp_path / "raw", symbols=1, days=1, rows_per_day=400, seed=3, zstd=False,
                              start_date="2024-05-03")[0]
    bad = tmp_path / "zzz-broken.dbn"
    bad.write_bytes(raw.read_bytes()[:-77])
    inputs = [*files, bad]
    with pytest.raises(Exception, match="zzz-broken"):
        tray.label_run(inputs, tmp_path / "fail", config=CONFIG)
    assert not [p for p in (tmp_path / "fail").iterdir() if p.name.endswith("_dataset.parquet")]
    want = tickforge.label_run(inputs, tmp_path / "local", config=CONFIG, skip_bad_files=True)
    got = tray.label_run(inputs, tmp_path / "ray", config=CONFIG, skip_bad_files=True)
    assert [b["path"] for b in got["bad_files"]] == [b["path"] for b in want["bad_files"]] == [str(bad)]
    assert without(got, VOLATILE | {"bad_files"}) == without(want, VOLATILE | {"bad_files"})
    assert bytes_of(tmp_path / "ray")["thresholds.json"] == bytes_of(tmp_path / "local")["thresholds.json"]


def test_file_uris_serve_for_label_inputs_and_outputs(ray_cluster, data, tmp_path):
    _, files, _ = data
    want = tickforge.label_run(files, tmp_path / "local", config=CONFIG)
    got = tray.label_run([f.as_uri() for f in files], (tmp_path / "ray").as_uri(), config=CONFIG)
    assert without(got) == without(want)
    assert_same_folder(tmp_path / "ray", tmp_path / "local")
    # Filesystems the engine's readers cannot open are refused by name, not copied silently.
    with pytest.raises(ValueError, match="mock"):
        tray.label_fit(["mock:///x.dbn"], tmp_path / "t.json", config=CONFIG)
