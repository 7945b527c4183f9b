"""DBN MBP-10 .dbn.zst -> Parquet: tickforge vs Databento's Python path vs `zstd -d` alone.

Runs every contender on the same generated file, each in a fresh process (so peak RSS is its
own), several times, and prints the median wall seconds, the median CPU seconds (user + system,
all threads: the fairer figure on a busy machine), peak RSS, the output's size and the ratios
DESIGN.md §5 names: tickforge should be >= 3x faster than DBNStore.to_parquet / to_df and
within 2x of zstd -d. It also times Arrow's Parquet writer alone (pyarrow, one thread) on the
table tickforge decoded, with tickforge's encodings, and prints the floor that writer puts
under any converter built on it: its CPU plus zstd -d's, spread over 2 cores.

    .venv/bin/python bench/bench_dbn_to_parquet.py [--rows 2000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tickforge


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _child(name: str, path: str, out: str) -> None:
    """Run one contender in this (fresh) process and print its time, CPU time and peak RSS."""
    start = time.perf_counter()
    self_cpu = _cpu(resource.RUSAGE_SELF)
    if name == "tickforge":
        subprocess.run([str(tickforge.native_cli()), "dbn", "to-parquet", path, "--out", out],
                       check=True, stdout=subprocess.DEVNULL)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    elif name == "arrow writer alone":
        import pyarrow.parquet as pq

        table, codings = _tickforge_codings(path)
        start, self_cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)  # the write alone
        pq.write_table(table, os.path.join(out, "arrow.parquet"), **codings)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    elif name == "zstd -d":
        with open(os.devnull, "wb") as sink:
            subprocess.run(["zstd", "-d", "-c", path], check=True, stdout=sink)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    else:
        import warnings

        import databento as db

        warnings.simplefilter("ignore")  # pandas deprecation notices from inside databento

        store = db.DBNStore.from_file(path)
        if name == "databento to_parquet":
            store.to_parquet(os.path.join(out, "databento.parquet"))
        else:
            store.to_df()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds = time.perf_counter() - start
    # The contender's CPU alone: the command run, or this process since the start (not the
    # interpreter's start-up and imports).
    cpu = _cpu(resource.RUSAGE_CHILDREN) + _cpu(resource.RUSAGE_SELF) - self_cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_mib": rss / 1024}))


def _tickforge_codings(tickforge_file: str):
    """tickforge's decoded table, read from its file, and the pyarrow write_table arguments that
    give Arrow's writer tickforge's per-column dictionaries, encodings and zstd levels (1; -1
    where a column is delta-encoded)."""
    import pyarrow.parquet as pq

    file = pq.ParquetFile(tickforge_file)
    group = file.metadata.row_group(0)
    dictionary, encoding, level = [], {}, {}
    for i in range(group.num_columns):
        column = group.column(i)
        encodings = set(column.encodings)
        if encodings & {"PLAIN_DICTIONARY", "RLE_DICTIONARY"}:
            dictionary.append(column.path_in_schema)
        for name in ("DELTA_BINARY_PACKED", "BYTE_STREAM_SPLIT"):
            if name in encodings:
                encoding[column.path_in_schema] = name
        level[column.path_in_schema] = -1 if encoding.get(column.path_in_schema) == "DELTA_BINARY_PACKED" else 1
    return file.read(), {"row_group_size": group.num_rows, "compression": "zstd", "compression_level": level,
                         "use_dictionary": dictionary, "column_encoding": encoding}


def _measure(name: str, path: Path, out: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        proc = subprocess.run([sys.executable, __file__, "--child", name, str(path), str(out)],
                              check=True, capture_output=True, text=True)
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        run["mib"] = sum(p.stat().st_size for p in out.rglob("*.parquet")) / 2**20
        runs.append(run)
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "rss_mib": max(r["rss_mib"] for r in runs),
        "mib": runs[-1]["mib"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--symbols", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("NAME", "PATH", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    with tempfile.TemporaryDirectory(prefix="tickforge-bench-") as tmp:
        tmp = Path(tmp)
        [path] = tickforge.synth_dbn(tmp / "in", symbols=args.symbols, days=1,
                                     rows_per_day=args.rows, seed=7)
        raw_mib = args.rows * 368 / 2**20
        print(f"input: {path.name}, {args.rows:,} MBP-10 rows, "
              f"{path.stat().st_size / 2**20:.1f} MiB zstd, {raw_mib:.1f} MiB raw")
        contenders = ["tickforge", "zstd -d", "databento to_parquet", "databento to_df"]
        results = {}
        for name in contenders:
            results[name] = _measure(name, path, tmp / "out", args.repeat)
            if name == "tickforge":  # keep its file for the writer-alone run
                [decoded] = (tmp / "out").glob("*.parquet")
                decoded = decoded.rename(tmp / decoded.name)
        # The part of tickforge's time that is Arrow's Parquet writer: the same writer on the
        # table tickforge decoded, with tickforge's encodings.
        results["arrow writer alone"] = _measure("arrow writer alone", decoded, tmp / "out", args.repeat)

    print(f"\n{'contender':<22} {'seconds':>9} {'CPU s':>7} {'rows/s':>13} {'peak RSS':>10} {'MiB out':>8}")
    for name, r in results.items():
        size = f"{r['mib']:8.1f}" if r["mib"] else f"{'':8}"
        print(f"{name:<22} {r['seconds']:>9.3f} {r['cpu']:>7.2f} {args.rows / r['seconds']:>13,.0f} "
              f"{r['rss_mib']:>7.0f} MiB {size}")
    tf = results["tickforge"]
    zstd = results["zstd -d"]
    peer = results["databento to_parquet"]
    print("\nratios (wall; CPU in brackets):")
    print(f"  dbn to-parquet / zstd -d              = {tf['seconds'] / zstd['seconds']:6.2f}x "
          f"[{tf['cpu'] / zstd['cpu']:5.2f}x]  (goal <= 2)")
    print(f"  dbn to-parquet / databento to_parquet = {tf['seconds'] / peer['seconds']:6.2f}x "
          f"[{tf['cpu'] / peer['cpu']:5.2f}x]  (goal <= 0.33)")
    print(f"  databento to_parquet / tickforge      = {peer['seconds'] / tf['seconds']:6.2f}x  (goal >= 3)")
    print(f"  databento to_df      / tickforge      = {results['databento to_df']['seconds'] / tf['seconds']:6.2f}x  (goal >= 3)")
    writer = results["arrow writer alone"]
    floor = (writer["cpu"] + zstd["cpu"]) / 2
    print(f"  floor of any converter on Arrow's writer, on 2 cores: (writer CPU {writer['cpu']:.2f} s + zstd -d CPU "
          f"{zstd['cpu']:.2f} s) / 2 = {floor:.2f} s = {floor / zstd['seconds']:.2f}x zstd -d")


if __name__ == "__main__":
    main()
