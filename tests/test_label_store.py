"""Labeling from the store, labeled datasets committed with lineage, and the loader reading a
store version (docs/labeling.md "Inputs", "Into a store"; docs/store.md).

The oracle for labels from a store snapshot is labeling the same rows as raw DBN files (itself
checked against a numpy reference in test_label.py): the two must agree bit for bit. Lineage
hashes of raw files are checked against hashlib; loader batches against the folder form.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import tickforge
from conftest import cli, run

CONFIG = dict(lookback_rows=300, lookforward_input=300, lookforward_offset=30, nbins=5, jump_size=10,
              min_symbol_samples=500, currency="FX")
IMAGE = dict(time_bins=8, ticks_per_bin=10)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Daily multi-symbol DBN files, a store holding them, and a label config."""
    root = tmp_path_factory.mktemp("label_store")
    dbn = root / "dbn"
    tickforge.synth_dbn(dbn, symbols=3, days=4, rows_per_day=6000, seed=21)
    store = root / "store"
    run("store", "ingest", store, *sorted(dbn.glob("*.dbn.zst")))
    config = root / "label.json"
    config.write_text(json.dumps(CONFIG))
    return root, dbn, store, config


def datasets(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.glob("*_dataset.parquet"))}


def assert_same_outputs(a: Path, b: Path):
    ta, tb = json.loads((a / "thresholds.json").read_text()), json.loads((b / "thresholds.json").read_text())
    assert ta["boundaries"] == tb["boundaries"]
    assert ta["sample_size"] == tb["sample_size"]
    da, db = datasets(a), datasets(b)
    assert list(da) == list(db) and da
    for name in da:
        x, y = pq.read_table(da[name]), pq.read_table(db[name])
        assert x.schema.equals(y.schema, check_metadata=True), name
        assert x.equals(y), f"{name}: rows differ"


def test_store_snapshot_labels_bit_identical_to_raw_files(data, tmp_path):
    root, dbn, store, config = data
    run("label", "run", "--config", config, "--input", dbn, "--out", tmp_path / "raw")
    run("label", "run", "--config", config, "--store", store, "--dataset", "mbp10", "--out", tmp_path / "store")
    assert_same_outputs(tmp_path / "raw", tmp_path / "store")
    # fit then build from the store equals run from the raw files too
    run("label", "fit", "--config", config, "--store", store, "--out", tmp_path / "fb" / "thresholds.json")
    run("label", "build", "--config", config, "--store", store, "--thresholds", tmp_path / "fb" / "thresholds.json",
        "--out", tmp_path / "fb")
    assert_same_outputs(tmp_path / "raw", tmp_path / "fb")
    # the fit files are the store's first days, in the order of their data
    fit = json.loads((tmp_path / "store" / "thresholds.json").read_text())["fit_files"]
    assert [f["name"].rsplit("/", 1)[-1] for f in fit] == ["day=1", "day=2"]


def test_plain_parquet_inputs_label_like_dbn(data, tmp_path):
    root, dbn, store, config = data
    files = sorted(dbn.glob("*.dbn.zst"))
    pqdir = tmp_path / "pq"
    tickforge.dbn_to_parquet(files, pqdir, price_type="fixed")
    assert len(list(pqdir.glob("*.parquet"))) == len(files)
    run("label", "run", "--config", config, "--input", *files, "--out", tmp_path / "raw")
    run("label", "run", "--config", config, "--input", pqdir, "--out", tmp_path / "pq_out")
    assert_same_outputs(tmp_path / "raw", tmp_path / "pq_out")


def test_symbol_and_day_selection(data, tmp_path):
    root, dbn, store, config = data
    out = tmp_path / "days"
    run("label", "run", "--config", config, "--store", store, "--start", "2024-04-02", "--end", "2024-04-04",
        "--out", out)
    report = json.loads((out / "build_report.json").read_text())
    assert [f["name"].rsplit("/", 1)[-1] for f in report["files"]] == ["day=2", "day=3"]
    symbols = sorted(report["symbols"])
    out = tmp_path / "symbols"
    run("label", "run", "--config", config, "--store", store, "--symbols", ",".join(symbols[:2]), "--out", out)
    report = json.loads((out / "build_report.json").read_text())
    assert sorted(report["symbols"]) == symbols[:2]


@pytest.mark.parametrize("args, needle, listing", [
    (["--store", "{root}/nostore"], "nostore", None),
    (["--store", "{store}", "--dataset", "mbp1"], "mbp1", "mbp10"),
    (["--store", "{store}", "--version", "9"], "version 9", "versions 1 to"),
    (["--store", "{store}", "--symbols", "NOPE"], "NOPE", "symbols:"),
])
def test_missing_store_dataset_version_symbol_are_named(data, tmp_path, args, needle, listing):
    root, dbn, store, config = data
    args = [a.format(root=root, store=store) for a in args]
    proc = run("label", "run", "--config", config, *args, "--out", tmp_path / "o", check=False)
    assert proc.returncode != 0
    assert needle in proc.stderr, proc.stderr
    if listing:
        assert listing in proc.stderr, proc.stderr


def store_json(*args):
    return json.loads(run(*args, "--json").stdout)


def test_into_store_commits_with_lineage(data, tmp_path):
    root, dbn, store, config = data
    target = tmp_path / "target"
    run("store", "ingest", target, *sorted(dbn.glob("*.dbn.zst")))
    run("label", "run", "--config", config, "--store", target, "--into", target, "--name", "fx")
    run("label", "run", "--config", config, "--input", dbn, "--out", tmp_path / "folder")
    info = store_json("store", "info", target, "--dataset", "labeled/fx")
    assert info["version"] == 2
    lineage = info["lineage"]
    assert lineage["source"]["dataset"] == "mbp10" and lineage["source"]["version"] == 1
    assert lineage["config"]["nbins"] == CONFIG["nbins"]
    assert len(lineage["config_sha256"]) == 64 and len(lineage["thresholds_sha256"]) == 64
    assert lineage["tickforge_version"] == tickforge.__version__
    assert lineage["created_at"].endswith("Z")
    # the committed files are the folder form's, thresholds and report beside them
    names = sorted(Path(f["path"]).name for f in info["files"])
    assert names == sorted([*datasets(tmp_path / "folder"), "build_report.json", "thresholds.json"])
    for f in info["files"]:
        if f["path"].endswith("_dataset.parquet"):
            got = pq.read_table(target / f["path"])
            assert got.equals(pq.read_table(tmp_path / "folder" / Path(f["path"]).name))
    # a scan of the labeled dataset reads its Parquet rows, not the JSON files beside them
    scanned = tickforge.Store(target).read("labeled/fx", ["ts_event"])
    folder_rows = sum(pq.ParquetFile(p).metadata.num_rows for p in datasets(tmp_path / "folder").values())
    assert scanned.num_rows == folder_rows > 0
    # store log lists both commits, the label one with its lineage
    log = store_json("store", "log", target)
    assert [e["operation"] for e in log] == ["ingest", "label"]
    assert "lineage" not in log[0] and log[1]["lineage"]["source"]["version"] == 1
    assert "mbp10@1" in run("store", "log", target).stdout
    # raw files as the source: names, sizes and sha256 of each file
    run("label", "run", "--config", config, "--input", dbn, "--into", target, "--name", "raw")
    raw = store_json("store", "info", target, "--dataset", "labeled/raw")["lineage"]["source"]["files"]
    want = sorted(dbn.glob("*.dbn.zst"))
    assert sorted(Path(f["path"]).name for f in raw) == [p.name for p in want]
    for f in raw:
        blob = Path(f["path"]).read_bytes()
        assert f["bytes"] == len(blob) and f["sha256"] == hashlib.sha256(blob).hexdigest()
    # the same config hashes the same; another config differently
    again = tmp_path / "again.json"
    again.write_text(json.dumps({**CONFIG, "nbins": 4}))
    run("label", "run", "--config", again, "--store", target, "--version", "1", "--into", target, "--name", "fx")
    newer = store_json("store", "info", target, "--dataset", "labeled/fx")["lineage"]
    assert newer["config_sha256"] != lineage["config_sha256"]
    assert raw and store_json("store", "info", target, "--dataset", "labeled/raw")["lineage"]["config_sha256"] \
        == lineage["config_sha256"]
    # the earlier version still reads its own files
    old = store_json("store", "info", target, "--dataset", "labeled/fx", "--version", "2")
    for f in old["files"]:
        assert f["version"] == 2


def loader_keys(loader, limit=6):
    out = []
    for i, (x, y, index) in enumerate(loader):
        out.append((x.numpy().tobytes(), y.numpy().tolist(), index["symbol"], list(index["ts_event"])))
        if i + 1 == limit:
            break
    return out


def test_loader_reads_a_store_version_like_the_folder(data, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    root, dbn, store, config = data
    target = tmp_path / "target"
    run("store", "ingest", target, *sorted(dbn.glob("*.dbn.zst")))
    run("label", "run", "--config", config, "--store", target, "--into", target, "--name", "fx")
    run("label", "run", "--config", config, "--input", dbn, "--out", tmp_path / "folder")
    kw = dict(seed=3, return_index=True, **IMAGE)
    from_store = tickforge.RepresentDataLoader(store=target, dataset="labeled/fx", batch_size=8,
                                               features=["volume"], **kw)
    from_folder = tickforge.RepresentDataLoader(tmp_path / "folder", 8, ["volume"], **kw)
    assert from_store.symbols == from_folder.symbols
    assert loader_keys(from_store) == loader_keys(from_folder)
    info = store_json("store", "info", target, "--dataset", "labeled/fx")
    assert from_store.lineage == info["lineage"]
    assert from_folder.lineage is None
    # a second version; version=2 still reads the first, and files no commit lists are unseen
    again = tmp_path / "again.json"
    again.write_text(json.dumps({**CONFIG, "nbins": 3}))
    run("label", "run", "--config", again, "--store", target, "--into", target, "--name", "fx")
    stray = target / "labeled" / "fx" / "v000003" / "FX_STRAY_dataset.parquet"
    stray.write_bytes((tmp_path / "folder" / next(iter(datasets(tmp_path / "folder")))).read_bytes())
    newest = tickforge.RepresentDataLoader(store=target, dataset="labeled/fx", batch_size=8, features=["volume"], **kw)
    pinned = tickforge.RepresentDataLoader(store=target, dataset="labeled/fx", version=2, batch_size=8,
                                           features=["volume"], **kw)
    assert newest.num_classes == 3 and pinned.num_classes == CONFIG["nbins"]
    assert "STRAY" not in newest.symbols and newest.lineage["config"]["nbins"] == 3
    fresh_folder = tickforge.RepresentDataLoader(tmp_path / "folder", 8, ["volume"], **kw)
    assert loader_keys(pinned) == loader_keys(fresh_folder)
    # Statistics fit by a training loader live in the store, not in the working directory: a
    # validation loader started elsewhere finds them.
    zscore = dict(kw, normalization="zscore", normalization_samples=16)
    for split, cwd in (("train", tmp_path / "a"), ("val", tmp_path / "b")):
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        loader = tickforge.RepresentDataLoader(store=target, dataset="labeled/fx", batch_size=8, features=["volume"],
                                               split=split, **zscore)
        stats = loader.report()["normalization"]
        assert not any(cwd.iterdir())
        assert Path(stats["stats_path"]).parent == target.resolve() / "_tickforge" / "stats" / "labeled" / "fx"
        assert stats["fitted"] == (split == "train")
    with pytest.raises(Exception, match="labeled/nope"):
        tickforge.RepresentDataLoader(store=target, dataset="labeled/nope", batch_size=8, features=["volume"])
    with pytest.raises(Exception, match="version 7"):
        tickforge.RepresentDataLoader(store=target, dataset="labeled/fx", version=7, batch_size=8,
                                      features=["volume"])


def check_labeled_consistent(store: Path) -> int:
    """Every snapshot's labeled files exist and read; return the newest labeled/fx version."""
    log = store_json("store", "log", store)
    newest = 0
    for entry in log:
        info = run("store", "info", store, "--dataset", "labeled/fx", "--version", entry["version"], "--json",
                   check=False)
        if info.returncode != 0:
            continue
        doc = json.loads(info.stdout)
        for f in doc["files"]:
            # In place; or committed by a run killed before it moved its files (the log entry is
            # the commit point: readers take the staged file, the next writer moves it); or
            # replaced by a later commit: retired, still readable there.
            places = [store / f["path"], store / "_tickforge" / "staging" / str(f["version"]) / Path(f["path"]).name,
                      store / "_tickforge" / "retired" / f["path"]]
            path = next((p for p in places if p.exists()), places[0])
            assert path.exists(), f"{f['path']} of version {entry['version']} is gone"
            if f["path"].endswith(".parquet"):
                assert pq.read_table(path).num_rows == f["rows"]
        assert "lineage" in doc
        newest = doc["version"]
    return newest


def test_killed_label_commit_leaves_previous_versions_complete(data, tmp_path):
    root, dbn, store, config = data
    target = tmp_path / "target"
    run("store", "ingest", target, *sorted(dbn.glob("*.dbn.zst")))
    run("label", "run", "--config", config, "--store", target, "--into", target, "--name", "fx")
    rng = random.Random(5)
    for trial in range(6):
        proc = subprocess.Popen([cli(), "label", "run", "--config", str(config), "--store", str(target),
                                 "--into", str(target), "--name", "fx"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert check_labeled_consistent(target) >= 2
    run("label", "run", "--config", config, "--store", target, "--into", target, "--name", "fx")
    check_labeled_consistent(target)
    # the last run removed what the killed ones left; staging holds nothing
    assert not list(target.glob("_tickforge-label-*"))
    staging = target / "_tickforge" / "staging"
    assert not staging.exists() or not any(staging.iterdir())


def test_killed_run_into_a_folder_leaves_no_scratch_after_the_next(data, tmp_path):
    root, dbn, store, config = data
    out = tmp_path / "out"
    args = [cli(), "label", "run", "--config", str(config), "--input", str(dbn), "--out", str(out)]
    for delay in (0.3, 0.8):
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    subprocess.run(args, check=True, capture_output=True)
    hidden = [p.name for p in out.iterdir() if p.name.startswith(("_", "."))]
    assert hidden == [], hidden


def test_rows_out_of_time_order_label_like_sorted_rows(data, tmp_path):
    """A file's rows far out of ts_event order (shuffled, reversed) give the sorted file's labels:
    the split's sorted runs, their merge past 16 runs, and the series merge keep series order."""
    import numpy as np
    import pyarrow as pa

    root, dbn, store, config = data
    files = sorted(dbn.glob("*.dbn.zst"))
    tables = [tickforge.read_dbn(f, price_type="fixed") for f in files]
    for t in tables:  # (symbol, ts_event, sequence) identify a row, so any row order has one series order
        keys = pa.table({"s": t["symbol"], "t": t["ts_event"], "q": t["sequence"]})
        assert keys.group_by(["s", "t", "q"]).aggregate([]).num_rows == t.num_rows
    sorted_dir, mixed_dir = tmp_path / "sorted", tmp_path / "mixed"
    sorted_dir.mkdir()
    mixed_dir.mkdir()
    rng = np.random.default_rng(4)
    for i, t in enumerate(tables):
        pq.write_table(t, sorted_dir / f"day{i}.parquet")
        n = t.num_rows
        if i % 2 == 0:
            order = np.arange(n)[::-1]  # every row starts a run: the runs are merged again and again
        else:
            order = np.arange(n)
            for start in range(0, n, 500):  # shuffled within blocks: a few runs
                rng.shuffle(order[start:start + 500])
        pq.write_table(t.take(pa.array(order)), mixed_dir / f"day{i}.parquet")
    run("label", "run", "--config", config, "--input", sorted_dir, "--out", tmp_path / "a")
    run("label", "run", "--config", config, "--input", mixed_dir, "--out", tmp_path / "b")
    assert_same_outputs(tmp_path / "a", tmp_path / "b")


def test_mixed_schema_dbn_is_an_error_listing_the_types(testdata, tmp_path):
    """read_dbn of a live capture (several record types, no schema) used to return its first
    type's 2 records of 46 silently; now it is an error counting every type (oracle:
    databento_dbn's decoder), and naming a schema reads that type as asked."""
    import re
    from collections import Counter

    path = testdata / "databento-python" / "LIVE" / "test_data.live.dbn.zst"
    if not path.exists():
        pytest.skip(f"test data not found: {path}")
    databento_dbn = pytest.importorskip("databento_dbn")
    zstandard = pytest.importorskip("zstandard")
    decoder = databento_dbn.DBNDecoder()
    with open(path, "rb") as f:
        decoder.write(zstandard.ZstdDecompressor().stream_reader(f).read())
    records = [r for r in decoder.decode() if type(r).__name__ not in ("Metadata", "SymbolMappingMsg")]
    kinds = Counter(int(r.rtype) for r in records)
    want = sorted(kinds.values())
    mbp10 = sum(type(r).__name__ == "MBP10Msg" for r in records)
    with pytest.raises(Exception) as err:
        tickforge.read_dbn(path)
    message = str(err.value)
    assert "mixes record types" in message and path.name in message, message
    got = sorted(int(n) for n in re.findall(r": (\d+) records", message))
    assert got == want, message
    assert len(tickforge.read_dbn(path, schema="mbp-10")) == mbp10 > 0
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps(CONFIG))
    proc = run("label", "run", "--config", config, "--input", path, "--out", tmp_path / "o", check=False)
    assert proc.returncode != 0 and "mixes record types" in proc.stderr, proc.stderr
    # The command line names the schema as read_dbn does.
    proc = run("dbn", "to-parquet", path, "--out", tmp_path / "p", check=False)
    assert proc.returncode != 0 and "--schema" in proc.stderr, proc.stderr
    proc = run("dbn", "to-parquet", path, "--schema", "mbp-10", "--out", tmp_path / "p", "--json")
    assert pq.read_table(tmp_path / "p" / "test_data.live.parquet").num_rows == mbp10
    # The records of the other types are counted, not dropped unsaid.
    skipped = json.loads(proc.stdout)["files"][0]["skipped_records"]
    assert sorted(skipped.values()) == sorted(n for rtype, n in kinds.items() if rtype != 0x0A)
    assert skipped["trades"] == kinds[0x00] and sum(skipped.values()) + mbp10 == len(records)
    proc = run("dbn", "to-parquet", path, "--schema", "mbp-10", "--out", tmp_path / "q")
    assert f"{len(records) - mbp10} records of other schemas than mbp-10 not converted" in proc.stderr, proc.stderr


def test_labeling_while_another_process_ingests_sees_one_version(data, tmp_path):
    root, dbn, store, config = data
    target = tmp_path / "target"
    run("store", "ingest", target, *sorted(dbn.glob("*.dbn.zst")))
    more = tmp_path / "more"
    tickforge.synth_dbn(more, symbols=3, days=3, rows_per_day=6000, seed=22, start_date="2024-04-05")
    ingest = subprocess.Popen([cli(), "store", "ingest", str(target), *map(str, sorted(more.glob("*.dbn.zst")))],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    run("label", "run", "--config", config, "--store", target, "--out", tmp_path / "during")
    assert ingest.wait() == 0, ingest.stderr.read()
    # whatever version the run saw, it labeled that version's files exactly
    report = json.loads((tmp_path / "during" / "build_report.json").read_text())
    days = len(report["files"])
    assert days in (4, 7)
    version = 1 if days == 4 else 2
    run("label", "run", "--config", config, "--store", target, "--version", version, "--out", tmp_path / "pinned")
    assert_same_outputs(tmp_path / "during", tmp_path / "pinned")


def test_python_label_store_matches_the_command_line(data, tmp_path):
    root, dbn, store, config = data
    target = tmp_path / "target"
    run("store", "ingest", target, *sorted(dbn.glob("*.dbn.zst")))
    run("label", "run", "--config", config, "--store", target, "--out", tmp_path / "cli")
    doc = tickforge.label_store("run", store=target, into=target, name="py", config=dict(CONFIG))
    assert doc["committed"]["dataset"] == "labeled/py" and doc["committed"]["version"] == 2
    assert doc["committed"]["lineage"]["source"]["version"] == 1
    info = store_json("store", "info", target, "--dataset", "labeled/py")
    assert info["lineage"]["config_sha256"] == doc["committed"]["lineage"]["config_sha256"]
    folder = target / "labeled" / "py" / "v000002"
    assert_same_outputs(tmp_path / "cli", folder)
    fit = tickforge.label_store("fit", store=target, version=1, out=tmp_path / "py" / "thresholds.json",
                                config=dict(CONFIG))
    built = tickforge.label_store("build", store=target, version=1, thresholds=tmp_path / "py" / "thresholds.json",
                                  out=tmp_path / "py", config=dict(CONFIG))
    assert fit["boundaries"] == json.loads((tmp_path / "cli" / "thresholds.json").read_text())["boundaries"]
    assert built["totals"]["datasets"] == len(datasets(tmp_path / "cli"))
    assert_same_outputs(tmp_path / "cli", tmp_path / "py")
    with pytest.raises(Exception, match="NOPE"):
        tickforge.label_store("run", store=target, symbols=["NOPE"], out=tmp_path / "x", config=dict(CONFIG))
