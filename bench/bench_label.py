"""Labeling: tickforge vs the prototype's per-row Python loop, plus tickforge's peak RSS.

1. Generates >= --rows MBP-10 rows (default 5,000,000) over --days files with --symbols
   instruments (tickforge.synth_dbn).
2. Times tickforge.label_run on all files with the production parameters
   (L = F = 5000, O = 500, nbins 21, jump 100).
3. Times a faithful Python version of the prototype's loop on a prefix of one symbol's series
   (--py-rows rows, default 200,000): per row, np.mean over the back and forward slices of
   mid = (bid + ask) / 2 as floats, then np.digitize against the boundaries tickforge fitted.
   Checks that its labels agree with tickforge's on that prefix and prints any disagreement
   (the float formulas differ, so a movement sitting on a boundary may land in the other class).
4. Runs the CLI (`tickforge label run`) in a fresh process at 1x and 4x the input (4x the days)
   and reads its peak RSS.

With --one-file 1000000,20000000 it only measures the CLI's peak RSS on a single input file of
each size (one day, --symbols instruments) and prints each against the smallest: labeling
reads files in bounded batches, so the ratio should stay near 1 however large one file is.

With --update it measures the store path instead, all on one set of --update-days daily files
(--update-rows-per-day rows each): `label run` from the store snapshot of all days but the
last against `label run` on the same days as raw DBN files (the peer), then, after the last
day is ingested, `label update` of labeled/NAME against a full `label build` of the new
snapshot with the same thresholds (the peer), checking the two give equal datasets; each CLI
run in a fresh process with its peak RSS.

    .venv/bin/python bench/bench_label.py [--rows 5000000] [--symbols 4] [--days 5]
    .venv/bin/python bench/bench_label.py --one-file 1000000,5000000,20000000
    .venv/bin/python bench/bench_label.py --update [--update-days 30] [--update-rows-per-day 200000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import tickforge

PRODUCTION = {
    "lookback_rows": 5000,
    "lookforward_input": 5000,
    "lookforward_offset": 500,
    "nbins": 21,
    "jump_size": 100,
}
CURRENCY = "AUDUSD"


def _child(cfg: str, inputs: str, out: str) -> None:
    """Run the CLI once from this fresh process; print its seconds and peak RSS."""
    start = time.perf_counter()
    subprocess.run([str(tickforge.native_cli()), "label", "run", "--config", cfg,
                    "--input", inputs, "--out", out], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                      "rss_mib": usage.ru_maxrss / 1024}))


def _child_cmd(cli_args: str) -> None:
    """Run the CLI with the JSON list of arguments from this fresh process; print its seconds
    and peak RSS."""
    start = time.perf_counter()
    subprocess.run([str(tickforge.native_cli()), *json.loads(cli_args)], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                      "rss_mib": usage.ru_maxrss / 1024}))


def measure_cmd(*cli_args) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child-cmd", json.dumps([str(a) for a in cli_args])],
                          check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def generate(out_dir: Path, rows: int, symbols: int, days: int, seed: int) -> int:
    """Write the files (reusing them if a previous run left them); return the total rows."""
    per_day = math.ceil(rows / days)
    stamp = out_dir / "rows.json"
    want = {"rows_per_day": per_day, "days": days, "symbols": symbols, "seed": seed}
    if not (stamp.exists() and json.loads(stamp.read_text()) == want):
        shutil.rmtree(out_dir, ignore_errors=True)
        tickforge.synth_dbn(out_dir, symbols=symbols, days=days, rows_per_day=per_day, seed=seed)
        stamp.write_text(json.dumps(want))
    return per_day * days  # synth_dbn writes exactly rows_per_day records per file


def load_series(files: list[Path], symbol: str) -> dict[str, np.ndarray]:
    """One symbol's valid rows in series order, prices as floats (the prototype's view)."""
    keyed = sorted((tickforge.read_dbn_metadata(p)["start"], p.name, p) for p in files)
    cols = ["ts_event", "sequence", "symbol", "bid_px_00", "ask_px_00"]
    parts = []
    for f, (_, _, path) in enumerate(keyed):
        t = tickforge.read_dbn(path, price_type="float", pretty_ts=False).select(cols)
        sym = t["symbol"].to_numpy(zero_copy_only=False)
        idx = np.flatnonzero(sym == symbol)
        part = {c: t[c].to_numpy()[idx] for c in ("ts_event", "sequence", "bid_px_00",
                                                  "ask_px_00")}
        part["file"] = np.full(len(idx), f)
        part["pos"] = idx
        parts.append(part)
    data = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    bid, ask = data["bid_px_00"], data["ask_px_00"]
    valid = np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (ask > 0)
    data = {k: v[valid] for k, v in data.items()}
    order = np.lexsort((data["pos"], data["file"], data["sequence"], data["ts_event"]))
    return {k: v[order] for k, v in data.items()}


def prototype_loop(mid: np.ndarray, thresholds: np.ndarray, L: int, F: int, O: int,
                   start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """The prototype's per-row labeling: two numpy means per row, then digitize."""
    inner = thresholds[1:-1]
    movements = np.empty(stop - start)
    labels = np.empty(stop - start, dtype=np.int64)
    for i, t in enumerate(range(start, stop)):
        back = np.mean(mid[t - L:t])
        fwd = np.mean(mid[t + 1 + O:t + 1 + O + F])
        movement = (fwd - back) / back
        movements[i] = movement
        labels[i] = np.digitize(movement, inner)
    return movements, labels


def measure_cli(cfg: Path, inputs: Path, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run([sys.executable, __file__, "--child", str(cfg), str(inputs), str(out)],
                          check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000, help="total input rows (1x)")
    parser.add_argument("--symbols", type=int, default=4)
    parser.add_argument("--days", type=int, default=5, help="files at 1x (4x uses 4x the days)")
    parser.add_argument("--py-rows", type=int, default=200_000,
                        help="rows of one symbol labeled by the Python loop")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-rss", action="store_true", help="skip the 1x/4x RSS runs")
    parser.add_argument("--one-file", default=None, metavar="ROWS,ROWS",
                        help="only measure peak RSS on one file of each of these row counts")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the dbn_to_parquet context measurement")
    parser.add_argument("--workdir", type=Path, default=None, help="keep data and outputs here")
    parser.add_argument("--update", action="store_true",
                        help="measure label from the store vs raw files and label update vs a full rebuild")
    parser.add_argument("--update-days", type=int, default=30, help="daily files of the --update run")
    parser.add_argument("--update-rows-per-day", type=int, default=200_000, help="rows per day of the --update run")
    parser.add_argument("--child", nargs=3, metavar=("CFG", "INPUT", "OUT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--child-cmd", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    if args.child_cmd:
        _child_cmd(args.child_cmd)
        return

    work = args.workdir or Path(tempfile.mkdtemp(prefix="tickforge-bench-label-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.one_file:
            one_file_rss(args, work)
        elif args.update:
            store_update(args, work)
        else:
            run(args, work)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def one_file_rss(args, work: Path) -> None:
    """Peak RSS of `label run` on single files of growing size, against the smallest."""
    cfg = work / "label.json"
    cfg.write_text(json.dumps({"currency": CURRENCY, **PRODUCTION}))
    rows_list = sorted(int(r) for r in args.one_file.split(","))
    results = []
    for rows in rows_list:
        src = work / f"one-{rows}"
        start = time.perf_counter()
        total = generate(src, rows, args.symbols, 1, args.seed)
        size = sum(p.stat().st_size for p in src.glob("*.dbn.zst"))
        print(f"one file of {total:,} rows ({size / 2**20:,.0f} MiB zstd), "
              f"{time.perf_counter() - start:.1f} s to generate", flush=True)
        res = measure_cli(cfg, src, work / f"one-out-{rows}")
        shutil.rmtree(work / f"one-out-{rows}", ignore_errors=True)
        results.append((total, size, res))
    print()
    print("| rows in one file | file MiB | CLI wall s | rows/s | peak RSS MiB | RSS vs smallest | rows vs smallest |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    base_rows, _, base = results[0]
    for total, size, res in results:
        print(f"| {total:,} | {size / 2**20:,.0f} | {res['seconds']:.1f} | {total / res['seconds']:,.0f} | "
              f"{res['rss_mib']:,.0f} | {res['rss_mib'] / base['rss_mib']:.2f}x | {total / base_rows:.0f}x |")


def store_update(args, work: Path) -> None:
    """Label from the store vs raw files, and label update of one new day vs a full rebuild."""
    days = args.update_days
    src = work / f"days-{days}"
    start = time.perf_counter()
    total = generate(src, args.update_rows_per_day * days, args.symbols, days, args.seed)
    files = sorted(src.glob("*.dbn.zst"), key=lambda p: tickforge.read_dbn_metadata(p)["start"])
    print(f"input: {total:,} MBP-10 rows in {len(files)} daily files, {args.symbols} symbols "
          f"({time.perf_counter() - start:.1f} s to generate)", flush=True)
    raw = work / "raw"
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir()
    for f in files[:-1]:
        os.link(f, raw / f.name)
    cfg = work / "label.json"
    cfg.write_text(json.dumps({"currency": CURRENCY, **PRODUCTION}))
    store = work / "store"
    shutil.rmtree(store, ignore_errors=True)
    rows_old = args.update_rows_per_day * (days - 1)

    ingest = measure_cmd("store", "ingest", store, *files[:-1])
    print(f"store ingest of {days - 1} days: {ingest['seconds']:.1f} s", flush=True)
    from_store = measure_cmd("label", "run", "--config", cfg, "--store", store, "--into", store, "--name", "fx")
    from_raw = measure_cmd("label", "run", "--config", cfg, "--input", raw, "--out", work / "raw-out")
    shutil.rmtree(work / "raw-out", ignore_errors=True)
    print(f"label run, {days - 1} days: from the store {from_store['seconds']:.1f} s, "
          f"from raw files {from_raw['seconds']:.1f} s", flush=True)

    measure_cmd("store", "ingest", store, files[-1])
    update = measure_cmd("label", "update", "--store", store, "--name", "fx")
    listed = tickforge.Store(store, create=False).files("labeled/fx")
    thresholds = next(store / f["path"] for f in listed if f["path"].endswith("thresholds.json"))
    rebuild = measure_cmd("label", "build", "--config", cfg, "--store", store, "--thresholds", thresholds,
                          "--into", store, "--name", "fx_rebuild")
    updated = {Path(f["path"]).name: store / f["path"] for f in listed if f["path"].endswith("_dataset.parquet")}
    rebuilt = {Path(f["path"]).name: store / f["path"]
               for f in tickforge.Store(store, create=False).files("labeled/fx_rebuild")
               if f["path"].endswith("_dataset.parquet")}
    identical = sorted(updated) == sorted(rebuilt) and all(
        pq.read_table(updated[n]).equals(pq.read_table(rebuilt[n])) for n in rebuilt)
    print()
    print("| run | rows labeled | wall s | CPU s | peak RSS MiB | vs peer (wall) |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| label run from the store snapshot ({days - 1} days) | {rows_old:,} | {from_store['seconds']:.2f} | "
          f"{from_store['cpu_seconds']:.2f} | {from_store['rss_mib']:,.0f} | "
          f"{from_raw['seconds'] / from_store['seconds']:.2f}x faster |")
    print(f"| peer: label run from the same days as raw DBN files | {rows_old:,} | {from_raw['seconds']:.2f} | "
          f"{from_raw['cpu_seconds']:.2f} | {from_raw['rss_mib']:,.0f} | 1x |")
    print(f"| label update, one new day on {days - 1} labeled days | {total:,} | {update['seconds']:.2f} | "
          f"{update['cpu_seconds']:.2f} | {update['rss_mib']:,.0f} | "
          f"{rebuild['seconds'] / update['seconds']:.1f}x faster |")
    print(f"| peer: label build of the new snapshot, same thresholds | {total:,} | {rebuild['seconds']:.2f} | "
          f"{rebuild['cpu_seconds']:.2f} | {rebuild['rss_mib']:,.0f} | 1x |")
    print()
    print(f"store vs raw files: {from_raw['seconds'] / from_store['seconds']:.2f}x; update vs rebuild: "
          f"{rebuild['seconds'] / update['seconds']:.1f}x; updated datasets equal the rebuild's: {identical}")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
          "(wall-clock ratios need an otherwise idle machine)")


def run(args, work: Path) -> None:
    L = PRODUCTION["lookback_rows"]
    F = PRODUCTION["lookforward_input"]
    O = PRODUCTION["lookforward_offset"]

    # 1. Data.
    in1 = work / "in-1x"
    start = time.perf_counter()
    total_rows = generate(in1, args.rows, args.symbols, args.days, args.seed)
    files = sorted(in1.glob("*.dbn.zst"))
    print(f"input: {total_rows:,} MBP-10 rows in {len(files)} files, {args.symbols} symbols "
          f"({time.perf_counter() - start:.1f} s to generate)")

    # 2. tickforge, in process.
    out = work / "out-1x"
    shutil.rmtree(out, ignore_errors=True)
    start, cpu_start = time.perf_counter(), time.process_time()
    report = tickforge.label_run(in1, out, currency=CURRENCY, **PRODUCTION)
    tf_seconds = time.perf_counter() - start
    tf_cpu = time.process_time() - cpu_start
    tf_rate = total_rows / tf_seconds
    print(f"tickforge label_run: {tf_seconds:.2f} s wall, {tf_cpu:.2f} s CPU (all threads), "
          f"{tf_rate:,.0f} input rows/s (report: {report.get('seconds', '?')} s)")
    thresholds = json.loads((out / "thresholds.json").read_text())
    boundaries = np.array(thresholds["boundaries"], dtype=np.float64)
    print(f"  fit sample size {thresholds.get('sample_size')}, nbins {thresholds['nbins']}")

    # 3. The Python loop on a prefix of the largest symbol.
    datasets = sorted(out.glob(f"{CURRENCY}_*_dataset.parquet"))
    sizes = {p: pq.ParquetFile(p).metadata.num_rows for p in datasets}
    biggest = max(sizes, key=sizes.get)
    symbol = biggest.name[len(CURRENCY) + 1:-len("_dataset.parquet")]
    series = load_series(files, symbol)
    n = len(series["ts_event"])
    mid = (series["bid_px_00"] + series["ask_px_00"]) / 2
    lo, hi = L, min(L + args.py_rows, n - O - F)
    if hi <= lo:
        sys.exit(f"symbol {symbol} has only {n} valid rows: nothing to label with L={L}")
    start, cpu_start = time.perf_counter(), time.process_time()
    py_movements, py_labels = prototype_loop(mid, boundaries, L, F, O, lo, hi)
    py_seconds = time.perf_counter() - start
    py_cpu = time.process_time() - cpu_start
    py_rate = (hi - lo) / py_seconds
    print(f"python loop: {hi - lo:,} rows of {symbol} (series of {n:,}) in {py_seconds:.2f} s "
          f"wall, {py_cpu:.2f} s CPU, {py_rate:,.0f} rows/s")

    tf = pq.read_table(biggest, columns=["ts_event", "sequence", "price_movement",
                                         "classification_label"])
    assert tf.num_rows == n, f"tickforge wrote {tf.num_rows} rows for {symbol}, series has {n}"
    tf_ts = tf["ts_event"].cast(pa.int64()).to_numpy()
    same_order = np.array_equal(tf_ts, series["ts_event"].astype(np.int64)) and np.array_equal(
        tf["sequence"].to_numpy(), series["sequence"])
    tf_labels = tf["classification_label"].to_numpy(zero_copy_only=False)[lo:hi]
    tf_moves = tf["price_movement"].to_numpy(zero_copy_only=False)[lo:hi]
    agree = tf_labels.astype(np.float64) == py_labels
    pct = 100.0 * agree.mean()
    print(f"  row order identical to tickforge's dataset: {same_order}")
    print(f"  label agreement on the prefix: {agree.sum():,}/{len(agree):,} = {pct:.4f}%")
    print(f"  max |movement difference|: {np.nanmax(np.abs(tf_moves - py_movements)):.3e}")
    bad = np.flatnonzero(~agree)
    for i in bad[:20]:
        m_py, m_tf = py_movements[i], tf_moves[i]
        k = int(np.argmin(np.abs(boundaries - m_py)))
        print(f"    t={lo + i}: python {m_py!r} -> {py_labels[i]}, tickforge {m_tf!r} -> "
              f"{tf_labels[i]}, nearest boundary b_{k} = {boundaries[k]!r}")
    if len(bad) > 20:
        print(f"    ... {len(bad) - 20} more")

    # The stage the goal names, like for like: movements + labels of the same in-memory series
    # with tickforge's kernel (the one label build runs) against the Python loop.
    tf_ds = pq.read_table(biggest, columns=["bid_px_00", "ask_px_00", "classification_label"])
    bid_fixed = tf_ds["bid_px_00"].to_numpy()
    ask_fixed = tf_ds["ask_px_00"].to_numpy()
    start, cpu_start = time.perf_counter(), time.process_time()
    k_moves, k_labels = tickforge.compute_labels(bid_fixed, ask_fixed, boundaries, lookback_rows=L,
                                                 lookforward_input=F, lookforward_offset=O)
    k_seconds = max(time.perf_counter() - start, 1e-9)
    k_cpu = max(time.process_time() - cpu_start, 1e-9)
    k_rate, k_cpu_rate = n / k_seconds, n / k_cpu
    dataset_labels = tf_ds["classification_label"].to_numpy(zero_copy_only=False)
    kernel_matches_dataset = np.array_equal(np.where(k_labels < 0, np.nan, k_labels.astype(float)),
                                            dataset_labels.astype(float), equal_nan=True)
    kernel_agree = 100.0 * np.mean(k_labels[lo:hi] == py_labels)
    print(f"tickforge kernel: {n:,} rows of {symbol} in {k_seconds * 1e3:.1f} ms wall, "
          f"{k_rate:,.0f} rows/s; labels equal the dataset's: {kernel_matches_dataset}; "
          f"agreement with the python loop on its prefix {kernel_agree:.4f}%")

    # Context: decoding and writing the same rows as Parquet, without any labeling.
    base = None
    if not args.no_baseline:
        pq_out = work / "parquet-baseline"
        shutil.rmtree(pq_out, ignore_errors=True)
        start, cpu_start = time.perf_counter(), time.process_time()
        tickforge.dbn_to_parquet(files, pq_out, price_type="fixed")
        base = (time.perf_counter() - start, time.process_time() - cpu_start)
        shutil.rmtree(pq_out, ignore_errors=True)
        print(f"context, dbn_to_parquet of the same files: {base[0]:.2f} s wall, "
              f"{base[1]:.2f} s CPU")

    # 4. Peak RSS of the CLI at 1x and 4x.
    rss_rows = []
    if not args.no_rss:
        cfg = work / "label.json"
        cfg.write_text(json.dumps({"currency": CURRENCY, **PRODUCTION}))
        for scale in (1, 4):
            src = in1 if scale == 1 else work / f"in-{scale}x"
            rows = total_rows if scale == 1 else generate(
                src, args.rows * scale, args.symbols, args.days * scale, args.seed)
            nfiles = len(list(src.glob("*.dbn.zst")))
            res = measure_cli(cfg, src, work / f"cli-{scale}x")
            rss_rows.append((scale, rows, nfiles, res["seconds"], res["cpu_seconds"],
                             rows / res["seconds"], res["rss_mib"]))
            shutil.rmtree(work / f"cli-{scale}x", ignore_errors=True)

    # Summary.
    ratio = tf_rate / py_rate
    tf_cpu_rate = total_rows / tf_cpu
    py_cpu_rate = (hi - lo) / py_cpu
    cpu_ratio = tf_cpu_rate / py_cpu_rate
    print()
    print("| contender | rows | wall s | CPU s | rows/s (wall) | rows/CPU-s | "
          "vs python (wall) | vs python (CPU) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| tickforge movements + labels kernel (same series, in memory) | {n:,} | "
          f"{k_seconds:.3f} | {k_cpu:.3f} | {k_rate:,.0f} | {k_cpu_rate:,.0f} | "
          f"{k_rate / py_rate:,.0f}x | {k_cpu_rate / ((hi - lo) / py_cpu):,.0f}x |")
    print(f"| tickforge label_run (all files: decode, fit, label, write) | {total_rows:,} | "
          f"{tf_seconds:.2f} | {tf_cpu:.2f} | {tf_rate:,.0f} | {tf_cpu_rate:,.0f} | "
          f"{ratio:,.1f}x | {cpu_ratio:,.1f}x |")
    print(f"| python per-row loop (labels only, prefix of {symbol}) | {hi - lo:,} | "
          f"{py_seconds:.2f} | {py_cpu:.2f} | {py_rate:,.0f} | {py_cpu_rate:,.0f} | 1x | 1x |")
    if base:
        print(f"| context: dbn_to_parquet, same files (no labeling) | {total_rows:,} | "
              f"{base[0]:.2f} | {base[1]:.2f} | {total_rows / base[0]:,.0f} | "
              f"{total_rows / base[1]:,.0f} | | |")
    print()
    kernel_ratio = k_rate / py_rate
    print(f"movements + labels (the DESIGN.md §5 stage): {kernel_ratio:,.0f}x the python loop "
          f"(goal >= 100x: {'met' if kernel_ratio >= 100 else 'NOT met'}); labels identical to the "
          f"loop's on its prefix: {kernel_agree:.4f}%")
    print(f"end to end (decode DBN, split, fit, label, write Parquet) vs the loop's labels alone: "
          f"{ratio:,.1f}x wall-clock, {cpu_ratio:,.1f}x per CPU second; "
          f"dataset label agreement on the prefix {pct:.4f}%")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
          "(wall-clock ratios need an otherwise idle machine)")
    if rss_rows:
        print()
        print("| input | rows | files | CLI wall s | CLI CPU s | rows/s | peak RSS MiB |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for scale, rows, nfiles, sec, cpu, rate, rss in rss_rows:
            print(f"| {scale}x | {rows:,} | {nfiles} | {sec:.2f} | {cpu:.2f} | {rate:,.0f} | "
                  f"{rss:,.0f} |")
        if len(rss_rows) == 2:
            print(f"\npeak RSS 4x / 1x: {rss_rows[1][6] / rss_rows[0][6]:.2f} "
                  f"(input 4x / 1x: {rss_rows[1][1] / rss_rows[0][1]:.2f})")


if __name__ == "__main__":
    main()
