"""Ingest, book building and labeling on Ray vs in one process, on the same generated data.

The job: `--files` daily Binance aggTrades dumps (`tickforge synth binance`, `--per-minute`
trades a minute) ingested into a fresh store, plus `--mbo-days` synthetic MBO days rebuilt into
MBP-10 books. Run three ways on the same files:

1. locally: `Store.ingest(files)` (its reader threads) and `tickforge.build_books(files)`;
2. on Ray with 2 CPUs (`ray.init(num_cpus=2)`, one task per input file, one commit):
   `tickforge.ray.ingest` and `tickforge.ray.build_books`. Cluster start-up and the workers'
   first import are excluded (a warm-up task runs first). Prints the Ray/local time ratio
   (goal <= 1.3x on 2 CPUs), tasks/s, and the driver's commit time;
3. a simulated larger cluster: `ray.init(num_cpus=8)` over-subscribing this machine's cores,
   on `--small` tiny files (one 1m-klines day each), against the same tiny job at 2 CPUs: the
   tasks/s of both and the peak number of tasks running at once, to show tasks spread over the
   CPUs Ray has rather than serialising on the driver; and the driver's commit of those tiny
   files onto a store that lists `--listing` files already (a synthetic listing).

4. labeling: `--label-files` synthetic MBP-10 DBN days ingested into a store and labeled from
   it into `labeled/bench` (`label run --store --into`), locally (`Store.ingest`,
   `tickforge.label_store`) and on Ray (`tickforge.ray.ingest`, `tickforge.ray.label_run`:
   a split task per day, a fit and a build task per symbol) with 2 CPUs, then with 8
   (over-subscribed); the outputs are checked equal, byte for byte.

    .venv/bin/python bench/bench_ray.py [--files 24] [--per-minute 400] [--mbo-days 4] [--small 160] [--listing 1000000]
    .venv/bin/python bench/bench_ray.py --only-label [--label-files 24] [--label-rows 40000] [--label-symbols 4]

Times are wall-clock seconds of one run each (the machine is shared: run it on a quiet one).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import ray

import tickforge
import tickforge.ray as tray
from tickforge import _tickforge


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def warm_up(cpus: int) -> None:
    """Start every worker and import tickforge in it, so that start-up is not timed."""
    @ray.remote(num_cpus=1)
    def touch() -> int:
        import tickforge.ray  # noqa: F401
        return os.getpid()

    ray.get([touch.remote() for _ in range(cpus * 2)])


def peak_concurrency(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


def ray_ingest(root: Path, files: list[Path], **kwargs) -> tuple[float, float, dict, int]:
    """Ingest on Ray; return (seconds, summary, peak tasks running at once)."""
    spans_dir = Path(tempfile.mkdtemp(prefix="bench-ray-spans-"))

    def note(task: str, manifest: str, started: float) -> None:
        # Runs in the worker just after the task staged its file.
        (spans_dir / task).write_text(f"{started} {time.time()}")

    seconds, info = timed(tray.ingest, root, files, _after_stage=note, **kwargs)
    spans = [tuple(map(float, p.read_text().split())) for p in spans_dir.iterdir()]
    shutil.rmtree(spans_dir, ignore_errors=True)
    return seconds, info, peak_concurrency(spans)


def driver(info: dict) -> str:
    s = info["seconds"]
    return f"commit {s['commit']:.2f} s, cleanup {s['cleanup']:.2f} s"


LABEL_CONFIG = dict(lookback_rows=500, lookforward_input=500, lookforward_offset=50, nbins=13, jump_size=20,
                    min_symbol_samples=1000, currency="FX")


def labeled_files(root: Path) -> dict[str, bytes]:
    store = tickforge.Store(root, create=False)
    return {Path(f["path"]).name: (root / f["path"]).read_bytes() for f in store.files("labeled/bench")
            if f["path"].endswith(("_dataset.parquet", "thresholds.json"))}


def label_part(work: Path, args) -> None:
    """Ingest + label of the same DBN days, locally and on Ray (2 CPUs, then 8 over-subscribed)."""
    days = tickforge.synth_dbn(work / "dbn", symbols=args.label_symbols, days=args.label_files,
                               rows_per_day=args.label_rows, seed=7)
    print(f"label data: {len(days)} MBP-10 DBN days of {args.label_symbols} symbols, "
          f"{args.label_rows:,} rows a day ({sum(p.stat().st_size for p in days) / 1e6:.0f} MB)")
    local_root = work / "label-local"
    ingest_l, _ = timed(tickforge.Store(local_root).ingest, days)
    label_l, _ = timed(tickforge.label_store, "run", store=local_root, into=local_root, name="bench",
                       config=LABEL_CONFIG)
    local = ingest_l + label_l
    print(f"label, local:          ingest {ingest_l:6.2f} s, label run --into {label_l:6.2f} s, total {local:6.2f} s")
    want = labeled_files(local_root)
    for cpus in (2, 8):
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
        warm_up(cpus)
        root = work / f"label-ray{cpus}"
        ingest_r, info = timed(tray.ingest, root, days)
        label_r, report = timed(tray.label_run, None, store=root, into=root, name="bench", config=LABEL_CONFIG)
        ray.shutdown()
        assert labeled_files(root) == want, "the labeled files on Ray differ from the local ones"
        total = ingest_r + label_r
        tasks = info["tasks"] + report["tasks"]
        what = "2 CPUs" if cpus == 2 else "8 CPUs (over-subscribed)"
        print(f"label, ray {what}: ingest {ingest_r:6.2f} s, label run --into {label_r:6.2f} s "
              f"({report['tasks']} tasks), total {total:6.2f} s, {tasks / total:.1f} tasks/s, "
              f"ratio ray/local {total / local:.2f}x" + ("   (goal <= 1.3x)" if cpus == 2 else "")
              + f"; label alone {label_r / label_l:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=24, help="aggTrades day files (>= 20)")
    parser.add_argument("--per-minute", type=float, default=400, help="aggTrades per minute per file")
    parser.add_argument("--mbo-days", type=int, default=4, help="synthetic MBO days for the book build")
    parser.add_argument("--mbo-messages", type=int, default=400_000, help="MBO messages per day")
    parser.add_argument("--small", type=int, default=160, help="tiny files for the over-subscribed run")
    parser.add_argument("--listing", type=int, default=1_000_000, help="files listed by the big store")
    parser.add_argument("--label-files", type=int, default=24, help="MBP-10 DBN days to label (>= 20)")
    parser.add_argument("--label-rows", type=int, default=40_000, help="MBP-10 rows a day")
    parser.add_argument("--label-symbols", type=int, default=4, help="symbols of the label data")
    parser.add_argument("--only-label", action="store_true", help="run the labeling part alone")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        if args.only_label:
            label_part(work, args)
            return
        symbols = max(1, (args.files + 1) // 2)
        days = (args.files + symbols - 1) // symbols
        dumps = tickforge.synth_binance(work / "dumps", symbols=symbols, days=days, kinds="aggtrades",
                                        aggtrades_per_minute=args.per_minute)[: args.files]
        mbo = tickforge.synth_mbo(work / "mbo", days=args.mbo_days, messages_per_day=args.mbo_messages)
        small = tickforge.synth_binance(work / "small", symbols=args.small, days=1, kinds="klines")
        print(f"data: {len(dumps)} aggTrades files ({sum(p.stat().st_size for p in dumps) / 1e6:.0f} MB), "
              f"{len(mbo)} MBO days, {len(small)} tiny klines files; {os.cpu_count()} cores here")

        local_ingest, local_info = timed(tickforge.Store(work / "local").ingest, dumps)
        local_books, _ = timed(tickforge.build_books, mbo, work / "books-local")
        local = local_ingest + local_books
        print(f"local:          ingest {local_ingest:7.2f} s ({local_info['rows_written']:,} rows), "
              f"books {local_books:6.2f} s, total {local:7.2f} s")

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        warm_up(2)
        ingest_s, info, peak = ray_ingest(work / "ray2", dumps)
        books_s, _ = timed(tray.build_books, mbo, work / "books-ray")
        assert info["rows_written"] == local_info["rows_written"], (info, local_info)
        on_ray = ingest_s + books_s
        tasks = len(dumps) + len(mbo)
        print(f"ray, 2 CPUs:    ingest {ingest_s:7.2f} s ({driver(info)}, peak {peak} tasks at once), "
              f"books {books_s:6.2f} s, total {on_ray:7.2f} s, {tasks / on_ray:.2f} tasks/s")
        print(f"ratio ray/local (2 CPUs, start-up excluded): {on_ray / local:.2f}x   (goal <= 1.3x)")
        small_2, small_info_2, small_peak_2 = ray_ingest(work / "small2", small)
        ray.shutdown()

        ray.init(num_cpus=8, include_dashboard=False, log_to_driver=False)
        warm_up(8)
        small_8, small_info_8, small_peak_8 = ray_ingest(work / "small8", small)
        # The same staged commit onto a store that lists --listing files already (synthetic
        # entries, store/synthetic.h): what the one commit costs on a big store.
        big = tickforge.Store(work / "big")
        big.ingest(small[0])
        _tickforge.store_append_synthetic_listing(str(work / "big"), "klines", args.listing,
                                                  max(100, args.listing // 1000), 10)
        big_s, big_info, _ = ray_ingest(work / "big", small[1:])
        ray.shutdown()
        print(f"tiny files, 2 CPUs:                 {len(small) / small_2:7.1f} tasks/s, "
              f"peak {small_peak_2} at once, {driver(small_info_2)} of {small_2:.2f} s")
        print(f"tiny files, 8 CPUs (over-subscribed): {len(small) / small_8:7.1f} tasks/s, "
              f"peak {small_peak_8} at once, {driver(small_info_8)} of {small_8:.2f} s")
        print(f"commit of {len(small) - 1} staged files onto a store listing {args.listing:,} files: "
              f"{driver(big_info)} (job {big_s:.2f} s)")
        label_part(work, args)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
