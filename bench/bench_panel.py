"""Cross-sectional panel: tickforge vs pandas concat and polars streaming, time and peak RSS.

1. Generates per-symbol Parquet files (reused by later runs): --max-symbols files of --rows rows,
   a `ts` timestamp column, a `target` column and --cols float64 feature columns.
2. For each symbol count in --symbols, runs every contender in a fresh process on the first N
   files, --repeat times (interleaved), and keeps its best wall time, its best CPU time (user +
   system, all threads) and its largest peak RSS (ru_maxrss). The machine is shared, so the best
   of a few runs is the fairer wall figure, and CPU time shows the work done whatever the load:
   - sink to Parquet (float32, zstd level 1):
     tickforge `streaming_concat(dir, order=...).sink_parquet(out)` for order symbol and time;
     polars `scan_parquet` per file + symbol literal + float32 cast, `concat`, `sink_parquet`
     (streaming engine), and the same sorted by (ts, symbol) for time order
   - in memory: tickforge `collect()` (a pyarrow Table), polars `collect(engine="streaming")`,
     pandas `read_parquet` per file + `assign(symbol=...)`, `pd.concat`, float32 cast (the seed's
     path; skipped when the machine lacks the memory for it)
   - tickforge `to_reader()` consumed batch by batch in Python (streaming, nothing kept)
3. Prints a table with each tickforge contender's wall and CPU time against its polars peer
   (above 1x: tickforge is faster).

    .venv/bin/python bench/bench_panel.py [--symbols 100 300 728] [--rows 10000] [--cols 100]
                                          [--repeat 2] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONTENDERS = [
    "tickforge symbol",
    "polars symbol",
    "tickforge time",
    "polars time",
    "tickforge collect",
    "polars collect",
    "pandas concat",
    "tickforge reader",
]
# Each tickforge contender and the polars run doing the same job.
PEERS = {
    "tickforge symbol": "polars symbol",
    "tickforge time": "polars time",
    "tickforge collect": "polars collect",
}


def generate(out: Path, symbols: int, rows: int, cols: int, seed: int) -> list[Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamp = out / "_stamp.json"
    want = {"symbols": symbols, "rows": rows, "cols": cols, "seed": seed}
    files = [out / f"SYM{i:04d}.parquet" for i in range(symbols)]
    if stamp.exists():
        have = json.loads(stamp.read_text())
        # Files come from one seeded stream, so the first N of a larger set are the same files.
        if have["symbols"] >= symbols and {**have, "symbols": symbols} == want:
            return files
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    start = 1_704_067_200_000_000_000  # 2024-01-01
    for i, path in enumerate(files):
        # Ragged: each symbol starts at its own minute and skips some minutes.
        minutes = np.sort(rng.choice(rows * 11 // 10, rows, replace=False)) + int(rng.integers(0, 100))
        ts = pa.array(start + minutes * 60_000_000_000, pa.timestamp("ns"))
        target = rng.normal(size=rows)
        target[rng.random(rows) < 0.05] = np.nan
        columns = {"ts": ts, "target": pa.array(target, from_pandas=True)}
        block = rng.normal(size=(cols, rows))
        for c in range(cols):
            columns[f"f{c:03d}"] = block[c]
        pq.write_table(pa.table(columns), path, compression="snappy")
    stamp.write_text(json.dumps(want))
    return files


def link_subset(files: list[Path], n: int, out: Path) -> Path:
    d = out / f"n{n}"
    if d.exists() and len(list(d.glob("*.parquet"))) == n:
        return d
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    for f in files[:n]:
        (d / f.name).symlink_to(f)
    return d


def child(name: str, src: str, out: str) -> None:
    """Run one contender in this fresh process; print seconds, peak RSS and rows."""
    files = sorted(Path(src).glob("*.parquet"))
    # Imports stay out of the measured time (a library is loaded once per process).
    import pyarrow.parquet  # noqa: F401

    if name.startswith("tickforge"):
        import tickforge  # noqa: F401
    elif name.startswith("polars"):
        import polars  # noqa: F401
    else:
        import pandas  # noqa: F401
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_start = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    rows = 0
    if name.startswith("tickforge"):
        import tickforge

        if name == "tickforge reader":
            for batch in tickforge.streaming_concat(src).to_reader():
                rows += batch.num_rows
        elif name == "tickforge collect":
            rows = tickforge.streaming_concat(src).collect().num_rows
        else:
            order = name.split()[1]
            report = tickforge.streaming_concat(src, order=order).sink_parquet(out)
            rows = report["rows_out"]
    elif name.startswith("polars"):
        import polars as pl

        frames = []
        for f in files:
            lf = pl.scan_parquet(f).with_columns(pl.lit(f.stem).alias("symbol"))
            schema = lf.collect_schema()
            lf = lf.with_columns(
                [pl.col(c).cast(pl.Float32) for c, t in schema.items() if t == pl.Float64]
            )
            frames.append(lf)
        lf = pl.concat(frames, how="vertical_relaxed")
        if name == "polars collect":
            rows = lf.collect(engine="streaming").height
        else:
            if name == "polars time":
                lf = lf.sort(["ts", "symbol"], maintain_order=True)
            lf.sink_parquet(out, compression="zstd", compression_level=1)
            import pyarrow.parquet as pq

            rows = pq.ParquetFile(out).metadata.num_rows
    elif name == "pandas concat":
        import numpy as np
        import pandas as pd

        parts = [pd.read_parquet(f).assign(symbol=f.stem) for f in files]
        df = pd.concat(parts, ignore_index=True)
        del parts
        for c in df.columns:
            if df[c].dtype == np.float64:
                df[c] = df[c].astype(np.float32)
        rows = len(df)
    else:
        raise SystemExit(f"unknown contender {name}")
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_start
    print(json.dumps({"seconds": seconds, "cpu_s": cpu, "rss_mib": usage.ru_maxrss / 1024, "rows": rows}))


def measure(name: str, src: Path, out: Path) -> dict | None:
    if out.exists():
        out.unlink()
    proc = subprocess.run([sys.executable, __file__, "--child", name, str(src), str(out)],
                          capture_output=True, text=True)
    if out.exists():
        out.unlink()
    if proc.returncode != 0:
        print(f"  {name}: failed ({proc.returncode}): {proc.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def available_mib() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, nargs="+", default=[100, 300, 728])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--cols", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="runs per contender; best time kept")
    parser.add_argument("--only", nargs="+", choices=CONTENDERS, default=CONTENDERS)
    parser.add_argument("--workdir", type=Path, default=None, help="keep data here between runs")
    parser.add_argument("--child", nargs=3, metavar=("NAME", "SRC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    work = args.workdir or Path(tempfile.mkdtemp(prefix="tickforge-bench-panel-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(args, work)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> None:
    start = time.perf_counter()
    files = generate(work / "data", max(args.symbols), args.rows, args.cols, args.seed)
    gib = sum(f.stat().st_size for f in files) / 2**30
    print(f"input: {len(files)} files x {args.rows:,} rows x ({args.cols} float64 + ts + target), "
          f"{gib:.2f} GiB on disk ({time.perf_counter() - start:.1f} s to generate or reuse)")
    results = []
    for n in args.symbols:
        src = link_subset(files, n, work)
        float64_mib = n * args.rows * (args.cols + 2) * 8 / 2**20
        runs: dict[str, list[dict]] = {name: [] for name in args.only}
        for _ in range(args.repeat):
            for name in args.only:
                if name == "pandas concat" and available_mib() < 2.6 * float64_mib + 2048:
                    print(f"  {n} symbols, {name}: skipped, needs about {2.6 * float64_mib:,.0f} MiB "
                          f"and {available_mib():,.0f} MiB is available", file=sys.stderr)
                    continue
                res = measure(name, src, work / "out.parquet")
                if res:
                    runs[name].append(res)
                    print(f"  {n} symbols, {name}: {res['seconds']:.2f} s, {res['rss_mib']:,.0f} MiB, "
                          f"{res['rows']:,} rows", flush=True)
        for name in args.only:
            got = runs[name]
            best = None
            if got:
                best = {"seconds": min(r["seconds"] for r in got),
                        "cpu_s": min(r["cpu_s"] for r in got),
                        "rss_mib": max(r["rss_mib"] for r in got), "rows": got[0]["rows"]}
            results.append((n, name, best))

    print()
    print("| symbols | contender | wall s (best) | CPU s (best) | peak RSS MiB | rows "
          "| wall vs polars peer | CPU vs polars peer |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    by = {(n, name): r for n, name, r in results}
    for n, name, r in results:
        if r is None:
            print(f"| {n} | {name} | - | - | - | - | skipped | |")
            continue
        peer = by.get((n, PEERS.get(name, "")))
        wall = f"{peer['seconds'] / r['seconds']:.2f}x" if peer else ""
        cpu = f"{peer['cpu_s'] / r['cpu_s']:.2f}x" if peer else ""
        print(f"| {n} | {name} | {r['seconds']:.2f} | {r['cpu_s']:.2f} | {r['rss_mib']:,.0f} "
              f"| {r['rows']:,} | {wall} | {cpu} |")
    print()
    tf = [(n, by.get((n, "tickforge symbol")), by.get((n, "tickforge time"))) for n in args.symbols]
    for n, s, t in tf:
        parts = []
        for label, r in (("symbol", s), ("time", t)):
            if r:
                ok = "met" if r["rss_mib"] <= 1536 else "NOT met"
                parts.append(f"order={label}: peak {r['rss_mib']:,.0f} MiB (goal <= 1536 MiB: {ok})")
        print(f"{n} symbols: " + "; ".join(parts))


if __name__ == "__main__":
    main()
