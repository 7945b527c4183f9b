"""Binance CSV -> Hive-partitioned Parquet: tickforge store ingest vs polars and pyarrow.

1. Generates Binance public-data dumps once (reused by later runs) with `tickforge synth
   binance`: --symbols symbols x --days daily files of 1m klines and of aggTrades, spot format
   (no header, 12 and 8 columns).
2. Runs each contender in a fresh process, --repeat times interleaved, keeping its best wall
   time, its best CPU time (user + system, all threads) and its largest peak RSS:
   - tickforge: `Store(out).ingest(files)` (klines and aggtrades datasets, partitions
     exchange/symbol/[timeframe/]year/month/day, zstd level 1, dedup on, one atomic commit)
   - tickforge-noquality: the same with `quality=False`, so the ratio is the cost of the
     data-quality checks (docs/quality.md)
   - polars: `read_csv` per file + symbol/date columns, `concat`, `write_parquet(partition_by=...)`
     with the same partition keys, zstd
   - pyarrow: `csv.read_csv` per file + the same columns, `concat_tables`,
     `dataset.write_dataset` with Hive partitioning, zstd
3. Prints rows/s, wall and CPU ratios (tickforge against each peer; above 1x: tickforge is
   faster) and peak RSS.
4. DBN MBP-10 (DESIGN.md §5: within 2x of `zstd -d`): generates one .dbn.zst of --dbn-rows
   rows with `tickforge synth dbn` and runs, the same way, `Store(out).ingest([file])` (prices
   in fixed point, partitions dataset/symbol/year/month/day, dedup and quality on),
   `tickforge dbn to-parquet`, `zstd -d` alone and databento's `DBNStore.to_parquet`; prints
   the store ingest's ratio against `zstd -d` and against databento (below 1x: faster).

    .venv/bin/python bench/bench_store_ingest.py [--symbols 50] [--days 30] [--repeat 2] [--workdir DIR]
        [--contenders tickforge,tickforge-noquality,polars,pyarrow] [--dbn-rows 2000000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONTENDERS = ["tickforge", "tickforge-noquality", "polars", "pyarrow"]
KLINE_COLUMNS = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                 "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"]
AGG_COLUMNS = ["agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id", "transact_time",
               "is_buyer_maker", "is_best_match"]


def generate(out: Path, symbols: int, days: int, seed: int) -> tuple[list[Path], int]:
    stamp = out / "_stamp.json"
    want = {"symbols": symbols, "days": days, "seed": seed}
    if not (stamp.exists() and json.loads(stamp.read_text()) == want):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        import tickforge

        subprocess.run([str(tickforge.native_cli()), "synth", "binance", "--out", str(out), "--symbols", str(symbols),
                        "--days", str(days), "--start", "2024-01-01", "--market", "spot",
                        "--kinds", "klines,aggtrades", "--aggtrades-per-minute", "5",
                        "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
        stamp.write_text(json.dumps(want))
    files = sorted(p for p in out.rglob("*.csv"))
    rows = 0
    for path in files:
        with open(path, "rb") as f:
            rows += sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return files, rows


def split(files: list[Path]) -> tuple[list[Path], list[Path]]:
    klines = [f for f in files if "-aggTrades-" not in f.name]
    return klines, [f for f in files if "-aggTrades-" in f.name]


def run_tickforge(files: list[Path], out: Path, **options) -> None:
    import tickforge

    info = tickforge.Store(out).ingest(files, **options)
    assert info["rows_duplicate"] == 0


def run_tickforge_noquality(files: list[Path], out: Path) -> None:
    run_tickforge(files, out, quality=False)


def run_polars(files: list[Path], out: Path) -> None:
    import polars as pl

    klines, aggs = split(files)
    for group, columns, time_column, keys in [
        (klines, KLINE_COLUMNS, "open_time", ["exchange", "symbol", "timeframe", "year", "month", "day"]),
        (aggs, AGG_COLUMNS, "transact_time", ["exchange", "symbol", "year", "month", "day"]),
    ]:
        frames = []
        for path in group:
            frame = pl.read_csv(path, has_header=False, new_columns=columns)
            frames.append(frame.with_columns(pl.lit(path.name.split("-")[0]).alias("symbol")))
        frame = pl.concat(frames)
        stamp = pl.from_epoch(pl.col(time_column), time_unit="ms")
        frame = frame.with_columns(pl.lit("binance").alias("exchange"), pl.lit("1m").alias("timeframe"),
                                   stamp.dt.year().alias("year"), stamp.dt.month().alias("month"),
                                   stamp.dt.day().alias("day"))
        if "timeframe" not in keys:
            frame = frame.drop("timeframe")
        frame.write_parquet(out / ("klines" if group is klines else "aggtrades"), partition_by=keys,
                            compression="zstd")


def run_pyarrow(files: list[Path], out: Path) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.dataset as pads

    klines, aggs = split(files)
    for group, columns, time_column, keys in [
        (klines, KLINE_COLUMNS, "open_time", ["exchange", "symbol", "timeframe", "year", "month", "day"]),
        (aggs, AGG_COLUMNS, "transact_time", ["exchange", "symbol", "year", "month", "day"]),
    ]:
        tables = []
        for path in group:
            table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(column_names=columns))
            tables.append(table.append_column("symbol", pa.array([path.name.split("-")[0]] * table.num_rows)))
        table = pa.concat_tables(tables)
        stamp = pc.cast(table[time_column], pa.timestamp("ms"))
        table = table.append_column("exchange", pa.array(["binance"] * table.num_rows))
        if "timeframe" in keys:
            table = table.append_column("timeframe", pa.array(["1m"] * table.num_rows))
        table = (table.append_column("year", pc.year(stamp)).append_column("month", pc.month(stamp))
                 .append_column("day", pc.day(stamp)))
        pads.write_dataset(table, out / ("klines" if group is klines else "aggtrades"), format="parquet",
                           partitioning=keys, partitioning_flavor="hive", max_partitions=100_000,
                           file_options=pads.ParquetFileFormat().make_write_options(compression="zstd"))


DBN_CONTENDERS = ["tickforge-dbn", "dbn to-parquet", "zstd -d", "databento to_parquet"]


def generate_dbn(out: Path, rows: int, seed: int) -> Path:
    stamp = out / "_stamp.json"
    want = {"rows": rows, "seed": seed}
    if not (stamp.exists() and json.loads(stamp.read_text()) == want):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        import tickforge

        subprocess.run([str(tickforge.native_cli()), "synth", "dbn", "--out", str(out), "--symbols", "4", "--days", "1",
                        "--rows-per-day", str(rows), "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
        stamp.write_text(json.dumps(want))
    [path] = sorted(out.glob("*.dbn.zst"))
    return path


def run_dbn(name: str, path: Path, out: Path) -> None:
    """Run one DBN contender and print its wall and CPU time alone (not the interpreter's
    start-up and imports): the command run, or this process's work."""
    import resource

    def cpu() -> float:
        return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                      resource.getrusage(resource.RUSAGE_CHILDREN)))

    if name == "databento to_parquet":
        import databento  # noqa: F401  (imported before the clock starts, as tickforge is)
    import tickforge  # noqa: F401

    start, start_cpu = time.perf_counter(), cpu()
    run_dbn_contender(name, path, out)
    print(json.dumps({"wall": time.perf_counter() - start, "cpu": cpu() - start_cpu}))


def run_dbn_contender(name: str, path: Path, out: Path) -> None:
    if name == "tickforge-dbn":
        import tickforge

        info = tickforge.Store(out).ingest([path])
        assert info["rows_duplicate"] == 0
    elif name == "dbn to-parquet":
        import tickforge

        subprocess.run([str(tickforge.native_cli()), "dbn", "to-parquet", str(path), "--out", str(out)], check=True,
                       stdout=subprocess.DEVNULL)
    elif name == "zstd -d":
        with open(os.devnull, "wb") as sink:
            subprocess.run(["zstd", "-d", "-c", str(path)], check=True, stdout=sink)
    else:
        import warnings

        import databento as db

        warnings.simplefilter("ignore")  # pandas deprecation notices from inside databento
        out.mkdir(parents=True, exist_ok=True)
        db.DBNStore.from_file(path).to_parquet(out / "databento.parquet")


def child(name: str, src: Path, out: Path) -> None:
    if name in DBN_CONTENDERS:
        run_dbn(name, src, out)
        return
    files = sorted(src.rglob("*.csv"))
    {"tickforge": run_tickforge, "tickforge-noquality": run_tickforge_noquality, "polars": run_polars,
     "pyarrow": run_pyarrow}[name](files, out)


def measure_dbn(name: str, path: Path, work: Path) -> dict:
    out = work / f"out-{name.replace(' ', '_')}"
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run([sys.executable, __file__, "--child", name, str(path), str(out)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed with status {proc.returncode}:\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["files"] = sum(1 for _ in out.rglob("*.parquet"))
    result["mib"] = sum(p.stat().st_size for p in out.rglob("*.parquet")) / 2**20
    shutil.rmtree(out, ignore_errors=True)
    return result


def measure(name: str, src: Path, work: Path) -> dict:
    out = work / f"out-{name}"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", name, str(src), str(out)])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{name} failed with status {status}")
    files = sum(1 for _ in out.rglob("*.parquet"))
    size = sum(p.stat().st_size for p in out.rglob("*.parquet"))
    shutil.rmtree(out, ignore_errors=True)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024,
            "files": files, "mib": size / 2**20}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tickforge-bench-store")
    parser.add_argument("--contenders", default=",".join(CONTENDERS),
                        help="comma-separated subset of " + ", ".join(CONTENDERS) + " (tickforge always runs)")
    parser.add_argument("--dbn-rows", type=int, default=2_000_000,
                        help="MBP-10 rows of the DBN part (0: skip it)")
    parser.add_argument("--no-binance", action="store_true", help="run the DBN part only")
    args = parser.parse_args()
    if not args.no_binance:
        bench_binance(args)
    if args.dbn_rows > 0:
        bench_dbn(args)


def bench_dbn(args) -> None:
    path = generate_dbn(args.workdir / f"dbn-{args.dbn_rows}", args.dbn_rows, args.seed)
    print(f"\nDBN: {path.name}, {args.dbn_rows:,} MBP-10 rows, {path.stat().st_size / 2**20:.1f} MiB zstd")
    best: dict[str, dict] = {}
    for _ in range(args.repeat):
        for name in DBN_CONTENDERS:
            result = measure_dbn(name, path, args.workdir)
            have = best.setdefault(name, result)
            have["wall"] = min(have["wall"], result["wall"])
            have["cpu"] = min(have["cpu"], result["cpu"])
    print(f"{'contender':<21} {'wall s':>8} {'CPU s':>8} {'rows/s':>12} {'files':>6} {'MiB out':>8}")
    for name in DBN_CONTENDERS:
        r = best[name]
        print(f"{name:<21} {r['wall']:>8.2f} {r['cpu']:>8.2f} {args.dbn_rows / r['wall']:>12,.0f} "
              f"{r['files']:>6} {r['mib']:>8.1f}")
    ours = best["tickforge-dbn"]
    for peer, goal in [("zstd -d", "goal <= 2"), ("databento to_parquet", "goal <= 0.33"), ("dbn to-parquet", "")]:
        r = best[peer]
        print(f"  store ingest (DBN) / {peer:<20} = {ours['wall'] / r['wall']:6.2f}x wall, "
              f"{ours['cpu'] / r['cpu']:6.2f}x CPU  {goal}")


def bench_binance(args) -> None:
    contenders = ["tickforge"] + [c for c in args.contenders.split(",") if c in CONTENDERS and c != "tickforge"]
    src = args.workdir / f"binance-{args.symbols}x{args.days}"
    files, rows = generate(src, args.symbols, args.days, args.seed)
    klines, aggs = split(files)
    print(f"{len(files)} files ({len(klines)} klines, {len(aggs)} aggTrades), {rows:,} rows, "
          f"{sum(f.stat().st_size for f in files) / 2**20:.0f} MiB of CSV")
    best: dict[str, dict] = {}
    for _ in range(args.repeat):
        for name in contenders:
            result = measure(name, src, args.workdir)
            have = best.setdefault(name, result)
            have["wall"] = min(have["wall"], result["wall"])
            have["cpu"] = min(have["cpu"], result["cpu"])
            have["rss_mib"] = max(have["rss_mib"], result["rss_mib"])
    print(f"{'contender':<19} {'wall s':>8} {'CPU s':>8} {'rows/s':>12} {'peak RSS MiB':>13} {'files':>6} "
          f"{'MiB out':>8} {'tickforge wall x':>17} {'CPU x':>6}")
    ours = best["tickforge"]
    for name in contenders:
        r = best[name]
        ratio = "" if name == "tickforge" else f"{r['wall'] / ours['wall']:.2f}x"
        cpu_ratio = "" if name == "tickforge" else f"{r['cpu'] / ours['cpu']:.2f}x"
        print(f"{name:<19} {r['wall']:>8.2f} {r['cpu']:>8.2f} {rows / r['wall']:>12,.0f} {r['rss_mib']:>13.0f} "
              f"{r['files']:>6} {r['mib']:>8.1f} {ratio:>17} {cpu_ratio:>6}")


if __name__ == "__main__":
    main()
