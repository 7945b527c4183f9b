"""`tickforge label update` (docs/labeling.md "Updating a labeled dataset").

The oracle is a full `label build` of the new store snapshot with the thresholds.json the
labeled dataset recorded: every dataset file the update commits must equal that build's file
column by column (pyarrow), with the same schema and metadata and the same row count, and the
report's per-symbol counts must match the build's. That build is itself checked against raw
DBN labels and a numpy reference in test_label_store.py and test_label.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tickforge
from conftest import cli, run

CONFIG = dict(lookback_rows=300, lookforward_input=300, lookforward_offset=30, nbins=5, jump_size=10,
              min_symbol_samples=500, currency="FX")
# Mid-price labels, downsampled: their windows and every-n-th-row positions must splice too.
MID = dict(CONFIG, midprice_labels=["deeplob", "fi2010"], midprice_horizons=[10, 50], midprice_downsample=3)


def run_json(*args):
    return json.loads(run(*args, "--json").stdout)


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    """Five daily DBN files of three symbols, and a sixth file of late rows for day 3."""
    root = tmp_path_factory.mktemp("label_update")
    files = tickforge.synth_dbn(root / "dbn", symbols=3, days=5, rows_per_day=5000, seed=31, start_date="2024-03-04")
    late = tickforge.synth_dbn(root / "late", symbols=3, days=1, rows_per_day=1500, seed=77, start_date="2024-03-06")
    return root, sorted(files), late


def make_store(tmp_path: Path, files, config: dict) -> tuple[Path, Path]:
    store = tmp_path / "store"
    run("store", "ingest", store, *files)
    config_path = tmp_path / "label.json"
    config_path.write_text(json.dumps(config))
    run("label", "run", "--config", config_path, "--store", store, "--into", store, "--name", "fx")
    return store, config_path


def labeled_files(store: Path, name: str = "labeled/fx") -> dict[str, Path]:
    info = run_json("store", "info", store, "--dataset", name)
    return {Path(f["path"]).name: store / f["path"] for f in info["files"]}


def rows_on_day(path: Path, day: str) -> int:
    """Rows of a dataset file whose ts_recv falls on `day` (the store's day partition)."""
    ns = np.asarray(pq.read_table(path, columns=["ts_recv"]).column("ts_recv").cast(pa.int64()))
    return int(np.sum(ns // 86_400_000_000_000 == np.datetime64(day, "D").astype(np.int64)))


def rebuild_oracle(store: Path, config: Path, out: Path) -> Path:
    thresholds = labeled_files(store)["thresholds.json"]
    run("label", "build", "--config", config, "--store", store, "--thresholds", thresholds, "--out", out)
    return out


def assert_equals_rebuild(store: Path, oracle: Path):
    files = labeled_files(store)
    got = {n: p for n, p in files.items() if n.endswith("_dataset.parquet")}
    want = {p.name: p for p in sorted(oracle.glob("*_dataset.parquet"))}
    assert sorted(got) == sorted(want) and want
    for name, path in want.items():
        x, y = pq.read_table(files[name]), pq.read_table(path)
        assert x.num_rows == y.num_rows, name
        assert x.schema.equals(y.schema, check_metadata=True), name
        for column in y.column_names:
            assert x.column(column).equals(y.column(column)), f"{name}: column {column} differs"
    report = json.loads(files["build_report.json"].read_text())
    expected = json.loads((oracle / "build_report.json").read_text())
    for symbol, entry in expected["symbols"].items():
        mine = {k: v for k, v in report["symbols"][symbol].items() if k != "output_bytes"}
        assert mine == {k: v for k, v in entry.items() if k != "output_bytes"}, symbol
    assert report["totals"] == expected["totals"]
    assert report["files"] == expected["files"]


@pytest.mark.parametrize("config", [CONFIG, MID], ids=["movement", "midprice"])
def test_appended_day_equals_full_rebuild(days, tmp_path, config):
    root, files, late = days
    store, config_path = make_store(tmp_path, files[:3], config)
    before = run_json("store", "info", store, "--dataset", "labeled/fx")
    previous_version = before["version"]
    run("store", "ingest", store, files[3])
    result = run_json("label", "update", "--store", store, "--name", "fx")
    assert result["method"] == "incremental" and not result["up_to_date"]
    assert [d.rsplit("/", 1)[-1] for d in result["added"]] == ["day=7"]
    assert result["replaced"] == [] and result["removed"] == []
    assert_equals_rebuild(store, rebuild_oracle(store, config_path, tmp_path / "oracle"))
    # only the new day's rows and the windows reaching into it were computed
    reach = config["lookback_rows"] + config["lookforward_offset"] + config["lookforward_input"] + 2
    if config is MID:
        reach = max(reach, (50 + 3 + 1) + (50 - 1) * 3 + 3 + 1)
    files = labeled_files(store)
    report = json.loads(files["build_report.json"].read_text())
    assert sorted(report["update"]["symbols"]) == sorted(report["symbols"])
    for symbol, counts in report["update"]["symbols"].items():
        entry = report["symbols"][symbol]
        new_rows = rows_on_day(files[entry["output"]], "2024-03-07")
        assert 0 < new_rows <= counts["computed"] <= new_rows + reach
        assert counts["copied"] == entry["valid"] - counts["computed"] > 0
    # the lineage names the previous version, the new source version, the same thresholds
    lineage = run_json("store", "info", store, "--dataset", "labeled/fx")["lineage"]
    assert lineage["previous_version"] == previous_version
    assert lineage["source"]["version"] == result["source_version"] == previous_version + 1
    assert lineage["update"]["previous_source_version"] == before["lineage"]["source"]["version"]
    assert lineage["thresholds_sha256"] == before["lineage"]["thresholds_sha256"]
    assert lineage["config_sha256"] == before["lineage"]["config_sha256"]


def test_second_update_does_nothing(days, tmp_path):
    root, files, late = days
    store, config_path = make_store(tmp_path, files[:3], CONFIG)
    run("store", "ingest", store, files[3])
    run("label", "update", "--store", store, "--name", "fx")
    version = run_json("store", "info", store)["version"]
    proc = run("label", "update", "--store", store, "--name", "fx")
    assert "up to date" in proc.stdout
    assert run_json("store", "info", store)["version"] == version
    # an ingest that adds nothing (the same file again) leaves it up to date as well
    run("store", "ingest", store, files[3])
    assert run_json("label", "update", "--store", store, "--name", "fx")["up_to_date"]


def test_late_rows_for_an_old_day_relabel_its_windows_only(days, tmp_path):
    root, files, late = days
    store, config_path = make_store(tmp_path, files, CONFIG)
    # late rows for day 3 land in its partition beside the rows it had
    run("store", "ingest", store, *late)
    result = run_json("label", "update", "--store", store, "--name", "fx")
    assert result["method"] == "incremental"
    assert [d.rsplit("/", 1)[-1] for d in result["replaced"]] == ["day=6"] and result["added"] == []
    assert_equals_rebuild(store, rebuild_oracle(store, config_path, tmp_path / "oracle"))
    files = labeled_files(store)
    report = json.loads(files["build_report.json"].read_text())
    reach = CONFIG["lookback_rows"] + CONFIG["lookforward_offset"] + CONFIG["lookforward_input"] + 2
    for symbol, counts in report["update"]["symbols"].items():
        # day 3 (old and late rows) and the windows around it, not the days after it
        entry = report["symbols"][symbol]
        day_rows = rows_on_day(files[entry["output"]], "2024-03-06")
        assert day_rows <= counts["computed"] <= day_rows + 2 * reach
        assert counts["copied"] == entry["valid"] - counts["computed"]
        later = sum(rows_on_day(files[entry["output"]], day) for day in ("2024-03-07", "2024-03-08"))
        assert later > 2 * reach  # so copied rows follow the replaced day too


def test_downsampled_midprice_late_rows(days, tmp_path):
    root, files, late = days
    store, config_path = make_store(tmp_path, files[:4], MID)
    run("store", "ingest", store, *late)
    result = run_json("label", "update", "--store", store, "--name", "fx")
    assert result["method"] == "incremental"
    assert_equals_rebuild(store, rebuild_oracle(store, config_path, tmp_path / "oracle"))


def test_rebuild_flag_and_errors(days, tmp_path):
    root, files, late = days
    store, config_path = make_store(tmp_path, files[:3], CONFIG)
    run("store", "ingest", store, files[3])
    result = run_json("label", "update", "--store", store, "--name", "fx", "--rebuild")
    assert result["method"] == "rebuild" and result["reason"] == "asked for"
    assert_equals_rebuild(store, rebuild_oracle(store, config_path, tmp_path / "oracle"))
    missing = run("label", "update", "--store", store, "--name", "nope", check=False)
    assert missing.returncode != 0 and "labeled/nope" in missing.stderr
    # a labeled dataset built from raw files has no store source to follow
    run("label", "run", "--config", config_path, "--input", *files[:3], "--into", store, "--name", "raw")
    raw = run("label", "update", "--store", store, "--name", "raw", check=False)
    assert raw.returncode != 0 and "raw files" in raw.stderr


def test_python_label_update(days, tmp_path):
    root, files, late = days
    store, config_path = make_store(tmp_path, files[:3], CONFIG)
    run("store", "ingest", store, files[3])
    result = tickforge.label_update(store, "fx")
    assert result["method"] == "incremental" and result["version"] == run_json("store", "info", store)["version"]
    again = tickforge.label_update(store, "fx")
    # Nothing committed: the version named is the one that holds the dataset, as before.
    assert again["up_to_date"] and again["version"] == again["previous_version"] == result["version"]


def test_late_rows_in_files_of_many_row_groups(tmp_path):
    """Datasets of several 32,768-row groups: the changed rows are found by row group statistics
    (groups before and after them counted unread) and the splice still equals a rebuild."""
    files = sorted(tickforge.synth_dbn(tmp_path / "dbn", symbols=2, days=4, rows_per_day=60000, seed=5,
                                       start_date="2024-06-03"))
    late = tickforge.synth_dbn(tmp_path / "late", symbols=2, days=1, rows_per_day=3000, seed=6,
                               start_date="2024-06-04")
    store, config_path = make_store(tmp_path, files, CONFIG)
    sizes = [pq.ParquetFile(p).metadata.num_row_groups for n, p in labeled_files(store).items()
             if n.endswith("_dataset.parquet")]
    assert min(sizes) >= 3
    run("store", "ingest", store, *late)
    result = run_json("label", "update", "--store", store, "--name", "fx")
    assert result["method"] == "incremental" and len(result["replaced"]) == 1
    assert_equals_rebuild(store, rebuild_oracle(store, config_path, tmp_path / "oracle"))


def row_groups_end(metadata: pq.FileMetaData, count: int) -> int:
    """The byte offset just past row group count - 1, from the footer's column chunk offsets."""
    end = 4
    for g in range(count):
        group = metadata.row_group(g)
        for c in range(group.num_columns):
            chunk = group.column(c)
            start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
            end = max(end, start + chunk.total_compressed_size)
    return end


@pytest.mark.parametrize("config", [CONFIG, MID], ids=["movement", "midprice"])
def test_appended_day_copies_whole_row_groups_as_bytes(tmp_path, config):
    """An appended day after datasets of several 32,768-row groups: the row groups no new
    window reaches are the old file's bytes, unchanged, and the file still equals a rebuild
    (read by pyarrow and polars)."""
    files = sorted(tickforge.synth_dbn(tmp_path / "dbn", symbols=2, days=4, rows_per_day=60000, seed=11,
                                       start_date="2024-06-03"))
    store, config_path = make_store(tmp_path, files[:3], config)
    old = {n: p.read_bytes() for n, p in labeled_files(store).items() if n.endswith("_dataset.parquet")}
    run("store", "ingest", store, files[3])
    result = run_json("label", "update", "--store", store, "--name", "fx")
    assert result["method"] == "incremental"
    assert_equals_rebuild(store, rebuild_oracle(store, config_path, tmp_path / "oracle"))
    new = labeled_files(store)
    copied_groups = 0
    for name, before in old.items():
        old_meta = pq.ParquetFile(pa.BufferReader(before)).metadata
        new_meta = pq.ParquetFile(new[name]).metadata
        # the groups wholly before the recomputed rows: the old file's groups, byte for byte
        symbol = name[len("FX_"):-len("_dataset.parquet")]
        counts = json.loads(new["build_report.json"].read_text())["update"]["symbols"][symbol]
        count, rows = 0, 0
        while count < old_meta.num_row_groups and rows + old_meta.row_group(count).num_rows <= counts["copied"]:
            rows += old_meta.row_group(count).num_rows
            count += 1
        assert count >= 2, name
        assert counts["copied_as_bytes"] == rows
        copied_groups += count
        end = row_groups_end(old_meta, count)
        assert new[name].read_bytes()[:end] == before[:end], name
        for g in range(count):
            assert new_meta.row_group(g).to_dict() == old_meta.row_group(g).to_dict(), (name, g)
        assert new_meta.num_rows > old_meta.num_rows
        polars_frame = pl.read_parquet(new[name])
        assert polars_frame.height == new_meta.num_rows
        assert polars_frame["classification_label"].to_arrow().equals(
            pq.read_table(new[name]).column("classification_label").combine_chunks())
    assert copied_groups >= 4
