"""The store's delta log, checkpoints and vacuum, from Python and the command line.

Oracles: a Python model of the rows each version holds, and the Parquet files the dataset
folders held on disk right after each commit (what Hive readers saw then).
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tickforge

DAY_MS = 86_400_000
T0 = 1_704_067_200_000  # 2024-01-01 UTC
CONSTANTS = {"exchange": "binance", "timeframe": "1m"}


def klines(symbol: str, start_ms: int, n: int, tag: float) -> pd.DataFrame:
    ts = start_ms + 60_000 * np.arange(n, dtype=np.int64)
    return pd.DataFrame({"timestamp": ts, "open": tag, "high": tag + 1, "low": tag - 1, "close": tag,
                         "volume": 1.0, "symbol": symbol})


def rows(table, columns) -> list[tuple]:
    return sorted(map(tuple, table.select(columns).to_pandas().itertuples(index=False)))


def folder_files(root: Path, dataset: str) -> set[str]:
    folder = root / dataset
    return {p.relative_to(root).as_posix() for p in folder.rglob("*.parquet")} if folder.exists() else set()


def test_every_version_reads_back_exactly_through_checkpoints_and_deltas(tmp_path):
    store = tickforge.Store(tmp_path, checkpoint_interval=3)
    rng = random.Random(11)
    model: dict[int, dict[str, pd.DataFrame]] = {}
    on_disk: dict[int, dict[str, set[str]]] = {}
    frames = {"klines": [], "trades": []}
    minute = 0
    for step in range(24):
        if step % 5 == 4:
            info = store.compact("klines", target_rows=10_000)  # replaces files, rows unchanged
        elif step >= 10 and step % 3 == 0:
            # A dataset created mid-way, with its own partition keys.
            frame = pd.DataFrame({"timestamp": T0 + 1000 * np.arange(step, dtype=np.int64) + step * DAY_MS,
                                  "price": float(step), "symbol": rng.choice(["AAA", "BBB"])})
            info = store.write("trades", frame, type="generic")
            frames["trades"].append(frame)
        else:
            frame = klines(rng.choice(["BTCUSDT", "ETHUSDT"]), T0 + minute * 60_000 + rng.randrange(3) * DAY_MS,
                           rng.randrange(5, 40), float(step))
            minute += 40
            info = store.write("klines", frame, type="klines", constants=CONSTANTS)
            frames["klines"].append(frame)
        version = info["version"]
        model[version] = {name: pd.concat(fs) for name, fs in frames.items() if fs}
        on_disk[version] = {name: folder_files(tmp_path, name) for name in model[version]}
    assert len(model) >= 20
    checkpoints = sorted((tmp_path / "_tickforge" / "checkpoints").glob("*.parquet"))
    assert len(checkpoints) >= 6
    manifest = json.loads((tmp_path / "_tickforge" / "manifest.json").read_text())
    assert manifest["version"] == max(model) and "datasets" not in manifest
    reopened = tickforge.Store(tmp_path, create=False)
    for version, datasets in model.items():
        assert reopened.info(version)["version"] == version
        for name, frame in datasets.items():
            table = reopened.read(name, version=version)
            columns = list(frame.columns)
            expected = sorted(map(tuple, frame[columns].itertuples(index=False)))
            assert rows(table, columns) == expected, (version, name)
            assert {f["path"] for f in reopened.files(name, version)} == on_disk[version][name], (version, name)
    # Each entry lists its own change only: a few files, not the whole store.
    last = json.loads((tmp_path / "_tickforge" / "log" / f"{max(model):012d}.json").read_text())
    assert last["format_version"] == 2
    assert sum(len(v) for v in last["added"].values()) <= 3


def test_store_options_are_checked():
    with pytest.raises(tickforge.TickforgeError, match="checkpoint_interval"):
        tickforge.Store("/tmp/never-made", checkpoint_interval=0)
    with pytest.raises(tickforge.TickforgeError, match="unknown"):
        tickforge.Store("/tmp/never-made", checkpoint_intervals=5)


def history_with_retired_files(root: Path) -> tuple[tickforge.Store, dict[int, int]]:
    """Two writes, a compaction (retiring their files), a write; rows per version."""
    store = tickforge.Store(root)
    counts = {}
    for k, n in enumerate([30, 20]):
        counts[store.write("klines", klines("BTCUSDT", T0 + k * 30 * 60_000, n, 1.0), type="klines",
                           constants=CONSTANTS)["version"]] = None
    counts[store.compact("klines")["version"]] = None
    counts[store.write("klines", klines("ETHUSDT", T0, 10, 2.0), type="klines", constants=CONSTANTS)["version"]] = None
    for version in counts:
        counts[version] = store.read("klines", version=version).num_rows
    return store, counts


def retired(root: Path) -> set[str]:
    folder = root / "_tickforge" / "retired"
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_vacuum_keeps_what_retained_versions_read_and_deletes_the_rest(tmp_path):
    store, counts = history_with_retired_files(tmp_path)
    before = retired(tmp_path)
    assert len(before) == 2 and counts == {1: 30, 2: 50, 3: 50, 4: 60}
    # A week's window holds every version: nothing goes.
    week = store.vacuum()
    assert week["files_deleted"] == 0 and week["files_kept"] == 2 and retired(tmp_path) == before
    dry = store.vacuum(older_than=0, retain_versions=2, dry_run=True)
    assert dry["dry_run"] and set(dry["deleted"]) == before and dry["bytes_freed"] > 0
    assert retired(tmp_path) == before
    # Versions 3 and 4 are kept; they read none of the retired files.
    done = store.vacuum(older_than="0s", retain_versions=2)
    assert done["oldest_retained_version"] == 3 and set(done["deleted"]) == before
    assert retired(tmp_path) == set()
    assert store.read("klines", version=3).num_rows == counts[3]
    assert store.read("klines").num_rows == counts[4]
    assert store.info(1)["datasets"]["klines"]["rows"] == 30  # the log is kept
    with pytest.raises(tickforge.TickforgeError, match="version 1 can no longer be scanned.*vacuum"):
        store.read("klines", version=1)


def test_vacuum_command(tmp_path):
    exe = tickforge.native_cli()
    if not exe.exists():
        pytest.skip(f"native command not found: {exe} (set TICKFORGE_CLI)")
    store, counts = history_with_retired_files(tmp_path)
    before = retired(tmp_path)
    out = subprocess.run([str(exe), "store", "vacuum", str(tmp_path), "--older-than", "0s", "--dry-run", "--json"],
                         capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report["dry_run"] and set(report["deleted"]) == before and report["oldest_retained_version"] == 4
    assert retired(tmp_path) == before
    out = subprocess.run([str(exe), "store", "vacuum", str(tmp_path), "--older-than", "0s"],
                         capture_output=True, text=True, check=True)
    assert "deleted 2 retired files" in out.stdout
    assert retired(tmp_path) == set()
    assert store.read("klines").num_rows == counts[4]
    bad = subprocess.run([str(exe), "store", "vacuum", str(tmp_path), "--older-than", "7 days"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "duration '7 days'" in bad.stderr
