"""Ingest and book building on Ray vs in one process, on the same generated data.

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

    .venv/bin/python bench/bench_ray.py [--files 24] [--per-minute 400] [--mbo-days 4] [--small 160] [--listing 1000000]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=24, help="aggTrades day files (>= 20)")
    parser.add_argument("--per-minute", type=float, default=400, help="aggTrades per minute per file")
    parser.add_argument("--mbo-days", type=int, default=4, help="synthetic MBO days for the book build")
    parser.add_argument("--mbo-messages", type=int, default=400_000, help="MBO messages per day")
    parser.add_argument("--small", type=int, default=160, help="tiny files for the over-subscribed run")
    parser.add_argument("--listing", type=int, default=1_000_000, help="files listed by the big store")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
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
    finally:
        if ray.is_initialized():
            ray.shutdown()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
