"""Store commits and opens at scale: a one-file commit at 10 k, 100 k and 1 M listed files, the
size of its log entry, and opening the newest version + planning a one-symbol-day scan.

Listings of 10 k / 100 k / 1 M files are generated directly (``store_append_synthetic_listing``,
src/tickforge/store/synthetic.h): real log entries and a real Parquet checkpoint listing
synthetic klines files (one per symbol-day) whose Parquet files are not written, in 10 commits.
Everything timed on them runs the store's real code: the one-file commit is a real
``Store.write`` of one new symbol-day (1,440 rows, a real file, dedup included), and the scan
planned is of that real file. A real store of --real-files small files (every file written)
measures open + filtered scan against pyarrow.dataset discovering the same folders.

The one-file commit is timed cold (the first commit of a freshly opened Store, as every
`tickforge store ingest` process makes: it reads of the newest checkpoint the row groups of the
partition it writes, the entries after it and the totals they record) and warm (the next
commits of the same Store). Neither writes a checkpoint; the commit that does (every
checkpoint_interval commits, default 100) reads the whole listing and is timed apart on a
Store opened with checkpoint_interval=1, whose commits after its first build on the snapshot
the last one made; its extra cost is printed whole and spread over the commits of one interval.

Goals (the issue): commit time at 1 M / at 10 k <= 1.5; a log entry of a few KB; open + plan at
1 M <= 1 s.

    .venv/bin/python bench/bench_store_scale.py [--sizes 10000,100000,1000000] [--repeat 3]

Times are the best of --repeat runs (the machine is shared; slower runs measure the others);
the commits' CPU seconds (process time, all threads) are printed too, as a loaded machine
stretches wall times.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pads

import tickforge
from tickforge import _tickforge

DAY_MS = 86_400_000
CHECKPOINT_INTERVAL = 100  # StoreOptions::checkpoint_interval's default
T0 = 1_704_067_200_000  # 2024-01-01, after the synthetic listing's days (from 2020-01-01)
CONSTANTS = {"exchange": "binance", "timeframe": "1m"}


def day_frame(symbol: str, day: int, rows: int = 1440) -> pd.DataFrame:
    ts = T0 + day * DAY_MS + 60_000 * np.arange(rows, dtype=np.int64)
    price = 100.0 + np.arange(rows) * 0.01
    return pd.DataFrame({"timestamp": ts, "open": price, "high": price + 1, "low": price - 1,
                         "close": price, "volume": 1.0, "symbol": symbol})


def day_filter(symbol: str, day: int) -> list:
    date = pd.Timestamp(T0 + day * DAY_MS, unit="ms")
    return [("symbol", "==", symbol), ("year", "==", date.year), ("month", "==", date.month),
            ("day", "==", date.day)]


def best(fn, repeat: int, cpu: list | None = None) -> tuple[float, object]:
    """Return the best wall time of `repeat` runs; append the best CPU time (all threads) to `cpu`."""
    times, cpus, result = [], [], None
    for k in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn(k)
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    if cpu is not None:
        cpu.append(min(cpus))
    return min(times), result


def scale_case(root: Path, files: int, repeat: int) -> dict:
    store = tickforge.Store(root)
    store.write("klines", day_frame("REAL", 0), type="klines", constants=CONSTANTS)
    start = time.perf_counter()
    _tickforge.store_append_synthetic_listing(str(root), "klines", files, max(100, files // 1000), 10)
    generated = time.perf_counter() - start

    # Cold: a freshly opened Store's first commit (a new process's), each of --repeat on a new
    # Store. Warm: later commits of one Store.
    def cold(k: int) -> dict:
        return tickforge.Store(root, create=False).write("klines", day_frame("BENCH", 1 + k), type="klines",
                                                         constants=CONSTANTS)

    cold_cpu: list = []
    cold_s, _ = best(cold, repeat, cold_cpu)
    store.write("klines", day_frame("BENCH", repeat + 1), type="klines", constants=CONSTANTS)

    def commit(k: int) -> dict:
        return store.write("klines", day_frame("BENCH", repeat + 2 + k), type="klines", constants=CONSTANTS)

    warm_cpu: list = []
    commit_s, info = best(commit, repeat, warm_cpu)
    entry = root / "_tickforge" / "log" / f"{info['version']:012d}.json"

    def open_and_plan(_: int) -> dict:
        reader, stats = tickforge.Store(root, create=False).scan_with_stats(
            "klines", ["timestamp", "close"], day_filter("BENCH", 1))
        return {"rows": reader.read_all().num_rows, **stats}

    open_s, stats = best(open_and_plan, repeat)
    assert stats["rows"] == 1440 and stats["files_selected"] == 1, stats

    # A commit that writes a checkpoint: with interval 1 every commit does. Each reads the whole
    # listing: the first of this Store from the checkpoint, the timed ones from the snapshot
    # the last one made.
    checkpointing = tickforge.Store(root, create=False, checkpoint_interval=1)
    checkpointing.write("klines", day_frame("BENCH", 2 * repeat + 2), type="klines", constants=CONSTANTS)

    def checkpoint_commit(k: int) -> dict:
        return checkpointing.write("klines", day_frame("BENCH", 2 * repeat + 3 + k), type="klines",
                                   constants=CONSTANTS)

    checkpoint_s, _ = best(checkpoint_commit, repeat)
    return {"files": stats["files_total"], "generate_s": generated, "cold_s": cold_s, "commit_s": commit_s,
            "cold_cpu_s": cold_cpu[0], "commit_cpu_s": warm_cpu[0],
            "entry_bytes": entry.stat().st_size, "open_plan_s": open_s, "checkpoint_s": checkpoint_s}


def real_case(root: Path, files: int, repeat: int) -> dict:
    store = tickforge.Store(root)
    symbols = 20
    days = files // symbols
    frames = [day_frame(f"S{s:02d}USDT", d, rows=60) for s in range(symbols) for d in range(days)]
    store.write("klines", pd.concat(frames), type="klines", constants=CONSTANTS)
    target = day_filter("S07USDT", days // 2)

    def ours(_: int) -> int:
        return tickforge.Store(root, create=False).read("klines", ["timestamp", "close"], target).num_rows

    def peer(_: int) -> int:
        data = pads.dataset(root / "klines", format="parquet", partitioning="hive")
        expr = None
        for column, _op, value in target:
            term = pads.field(column) == value
            expr = term if expr is None else expr & term
        return data.to_table(columns=["timestamp", "close"], filter=expr).num_rows

    ours_s, ours_rows = best(ours, repeat)
    peer_s, peer_rows = best(peer, repeat)
    assert ours_rows == peer_rows == 60, (ours_rows, peer_rows)
    return {"files": symbols * days, "ours_s": ours_s, "peer_s": peer_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--real-files", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench_store_scale_"))
    try:
        rows = []
        print(f"{'listed files':>12} {'generate s':>10} {'cold commit s':>13} {'commit s':>9} {'entry KB':>9} "
              f"{'open+plan s':>11} {'ckpt commit s':>13} {'cold cpu s':>10} {'warm cpu s':>10}")
        for files in sizes:
            row = scale_case(work / f"store_{files}", files, args.repeat)
            rows.append(row)
            print(f"{row['files']:>12,} {row['generate_s']:>10.2f} {row['cold_s']:>13.3f} {row['commit_s']:>9.3f} "
                  f"{row['entry_bytes'] / 1024:>9.1f} {row['open_plan_s']:>11.3f} {row['checkpoint_s']:>13.3f} "
                  f"{row['cold_cpu_s']:>10.3f} {row['commit_cpu_s']:>10.3f}")
            shutil.rmtree(work / f"store_{files}")
        first, last = rows[0], rows[-1]
        print(f"one-file commit at {last['files']:,} / at {first['files']:,} files: "
              f"{last['commit_s'] / first['commit_s']:.2f}x warm, {last['cold_s'] / first['cold_s']:.2f}x cold "
              f"(goal <= 1.5); CPU seconds: {last['commit_cpu_s'] / first['commit_cpu_s']:.2f}x warm, "
              f"{last['cold_cpu_s'] / first['cold_cpu_s']:.2f}x cold")
        print(f"open newest + plan one symbol-day at {last['files']:,} files: {last['open_plan_s']:.3f} s (goal <= 1 s)")
        extra = max(0.0, last["checkpoint_s"] - last["commit_s"])
        print(f"checkpoint every {CHECKPOINT_INTERVAL} commits: the commit writing it at {last['files']:,} files takes "
              f"{last['checkpoint_s']:.3f} s, {extra:.3f} s more than one without, {extra / CHECKPOINT_INTERVAL:.4f} s "
              f"per commit amortized")
        real = real_case(work / "real", args.real_files, args.repeat)
        print(f"real store of {real['files']:,} files, open + scan one symbol-day: tickforge {real['ours_s']:.3f} s, "
              f"pyarrow.dataset (hive discovery) {real['peer_s']:.3f} s: {real['peer_s'] / real['ours_s']:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
