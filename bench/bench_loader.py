"""Depth-image loader benchmark (DESIGN.md §5): tickforge RepresentDataLoader vs a torch
DataLoader over a Python/numpy implementation of the prototype's processor, on the same data.

    python bench/bench_loader.py [--workdir DIR] [--batches 60] [--peer-batches 8]

Data: synthetic MBP-10 (2 symbols x 3 days, 800k rows a day) labeled with lookback 5000,
lookforward 5000, offset 500, 13 classes, so the default image size (T=500 bins of 100 rows,
W = 50,000 rows) has ~23k samples at the default stride. The data is kept in --workdir and
reused by later runs with the same parameters.

Measures:
  (a) 1 feature (402, 500), batch 32, default stride: samples/s after warm-up, and the time
      next() blocks per batch when the consumer takes --consumer-ms per batch (p50/p99);
  (b) the same with 3 features;
  (c) stride 1 (windows off the bin grid: bins looked up in sliding segments), with the default
      shuffle and with shuffle='local';
  (d) the peer: torch.utils.data.DataLoader(num_workers=2, batch_size=32) over a map-style
      Dataset that, per sample, reads the window rows with polars and renders the image in
      numpy as DESIGN.md §3.4 describes (checked equal to tickforge's images first), on the
      samples tickforge's plan chose in (a);
  (e) peak RSS (VmHWM) of a process that runs the tickforge loader with cache_bytes=256 MiB,
      stride 1 (sliding-segment cache) and the default stride (aggregate cache);
  (f) the memory-write limit: samples/s of a memcpy (numpy copyto) of batches of finished
      images on the same machine, on as many threads at once as the loader renders on (its
      default 2), printed beside each rate with their ratio, and for the default stride on a
      line of its own (goal: the loader within 2x of it).

The table also gives the process CPU time per sample (all threads) and the rate it allows on
idle cores: on a shared machine the samples/s column drops with other load, that one does not.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SYMBOLS, DAYS, ROWS_PER_DAY, SEED = 2, 3, 800_000, 3
LABEL = dict(lookback_rows=5000, lookforward_input=5000, lookforward_offset=500, nbins=13)
T, TPB = 500, 100
W = T * TPB
B = 32
ROWS, HALF = 402, 200
MICRO_PIP_UNIT = 10_000  # 1e-5 in 1e-9 fixed point
INT64_MAX = (1 << 63) - 1
BOOK_COLUMNS = [f"{s}_{f}_{l:02d}" for l in range(10) for s in ("bid", "ask") for f in ("px", "sz", "ct")]
CACHE_256 = 256 << 20
RSS_BUDGET = 1 << 30  # DESIGN.md §5: the default loader memory budget
CORES = os.cpu_count() or 1


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def make_data(workdir: Path) -> Path:
    import tickforge

    stamp = workdir / "stamp.json"
    # A rebuilt engine may write datasets differently (row groups): regenerate then.
    native = Path(tickforge._tickforge.__file__).stat()
    params = dict(symbols=SYMBOLS, days=DAYS, rows_per_day=ROWS_PER_DAY, seed=SEED, **LABEL,
                  version=tickforge.__version__, engine=[native.st_size, native.st_mtime_ns])
    out = workdir / "labeled"
    if stamp.exists() and json.loads(stamp.read_text()) == params and list(out.glob("*_dataset.parquet")):
        print(f"data: reusing {out}")
        return out
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tickforge.synth_dbn(workdir / "raw", symbols=SYMBOLS, days=DAYS, rows_per_day=ROWS_PER_DAY, seed=SEED)
    t1 = time.perf_counter()
    tickforge.label_run(workdir / "raw", out, **LABEL)
    t2 = time.perf_counter()
    stamp.write_text(json.dumps(params))
    print(f"data: synth {t1 - t0:.1f} s, label {t2 - t1:.1f} s -> {out}")
    return out


# ---------------------------------------------------------------------------------------------
# tickforge
# ---------------------------------------------------------------------------------------------


def cpu_seconds() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def bench_tickforge(data: Path, features, *, stride=None, shuffle=True, warmup: int, batches: int,
                    wait_batches: int, consumer_ms: float, seed: int = 0) -> dict:
    import tickforge

    loader = tickforge.RepresentDataLoader(data, B, features, stride=stride, shuffle=shuffle, seed=seed,
                                           return_index=True)
    it = iter(loader)
    samples = []
    t0 = time.perf_counter()
    for _ in range(warmup):
        _, _, index = next(it)
        samples += list(zip(index["symbol"], index["row"].tolist()))
    warm_s = time.perf_counter() - t0
    # Throughput: the consumer does nothing but take batches. Process CPU time (all threads) per
    # sample is the load-independent cost: it bounds the rate on idle cores.
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    for _ in range(batches):
        features_t, labels, index = next(it)
        samples += list(zip(index["symbol"], index["row"].tolist()))
        del features_t, labels
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    # Wait: a consumer that takes consumer_ms per batch (a training step); how long does
    # next() block while the loader renders ahead?
    waits = []
    for _ in range(wait_batches):
        t = time.perf_counter()
        features_t, labels, index = next(it)
        waits.append(time.perf_counter() - t)
        del features_t, labels
        time.sleep(consumer_ms / 1000)
    result = dict(rate=batches * B / elapsed, cpu_ms=cpu / (batches * B) * 1000, warm_s=warm_s,
                  waits_ms=np.array(waits) * 1000, samples=samples, batches=batches, num_samples=loader._engine.num_samples,
                  cache=loader.cache_stats())
    del it, loader  # stop its render threads (they prefetch ahead) before the next measurement
    gc.collect()
    return result


def render_threads() -> int:
    """The loader's render threads at its defaults (LoaderOptions::threads)."""
    import tickforge

    return int(json.loads(tickforge._tickforge.loader_config("{}"))["threads"])


def memcpy_limit(planes: int, threads: int, seconds: float = 0.5) -> float:
    """Samples/s of only writing the output: `threads` threads (as many as the loader renders
    on), each copying a batch of B (planes, 402, T) float32 images into a batch buffer of its
    own (numpy copyto, which releases the GIL), the bound no renderer passes."""
    import threading

    pairs = []
    for i in range(threads):
        src = np.random.default_rng(i).random((B, planes, ROWS, T), dtype=np.float32)
        dst = np.empty_like(src)
        np.copyto(dst, src)  # fault the pages in
        pairs.append((src, dst))
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    ends = [0.0] * threads

    def copy(i: int) -> None:
        src, dst = pairs[i]
        start.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            np.copyto(dst, src)
            counts[i] += 1
        ends[i] = time.perf_counter()

    workers = [threading.Thread(target=copy, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    return sum(counts) * B / (max(ends) - t0)


# ---------------------------------------------------------------------------------------------
# The peer: the prototype's per-sample processor in Python/numpy inside a torch DataLoader
# ---------------------------------------------------------------------------------------------


def micro_pips(px: np.ndarray) -> np.ndarray:
    """price / unit rounded half away from zero, in integers."""
    a = np.abs(px)
    q, r = np.divmod(a, MICRO_PIP_UNIT)
    q += 2 * r >= MICRO_PIP_UNIT
    return np.where(px < 0, -q, q)


def render_numpy(frame: dict[str, np.ndarray], features=("volume",)) -> np.ndarray:
    """One depth image from the W rows of a window (DESIGN.md §3.4)."""
    planes = {f: [] for f in ("volume", "variance", "trade_counts")}
    grids = {f: (np.zeros((T, ROWS)), np.zeros((T, ROWS))) for f in features}  # (bid, ask) per feature
    last = W - 1
    m = (int(frame["ask_px_00"][last]) + int(frame["bid_px_00"][last])) // (2 * MICRO_PIP_UNIT)
    bins = np.arange(T)
    for side_i, side in enumerate(("bid", "ask")):
        for level in range(10):  # deeper levels later: they win a shared cell
            px = frame[f"{side}_px_{level:02d}"].reshape(T, TPB)
            defined = (px != INT64_MAX) & (px > 0)
            count = defined.sum(axis=1)
            p = np.where(defined, micro_pips(np.where(defined, px, 0)), 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                P = np.floor_divide(p.sum(axis=1), np.maximum(count, 1))
            y = np.full(T, -1)
            below = (P >= m - HALF) & (P <= m - 1)
            above = (P >= m + 1) & (P <= m + HALF)
            y[below] = (m - 1) - P[below]
            y[above] = HALF + 2 + (P[above] - (m + 1))
            keep = (count > 0) & (y >= 0)
            if not keep.any():
                continue
            values = {}
            if "volume" in features or "variance" in features:
                sz = frame[f"{side}_sz_{level:02d}"].reshape(T, TPB).astype(np.float64)
                sz = np.where(defined, sz, np.nan)
                if "volume" in features:
                    values["volume"] = np.nanmedian(sz[keep], axis=1)
                if "variance" in features:
                    v = np.nanvar(sz[keep], axis=1, ddof=1) if TPB > 1 else np.zeros(keep.sum())
                    values["variance"] = np.nan_to_num(v)
            if "trade_counts" in features:
                ct = frame[f"{side}_ct_{level:02d}"].reshape(T, TPB).astype(np.float64)
                values["trade_counts"] = np.where(defined, ct, 0).sum(axis=1)[keep]
            for name, value in values.items():
                grids[name][side_i][bins[keep], y[keep]] = value.astype(np.float32)
    out = []
    for name in ("volume", "variance", "trade_counts"):
        if name not in features:
            continue
        bid, ask = grids[name]
        ask_cum = np.cumsum(ask, axis=1)
        bid_cum = np.cumsum(bid[:, ::-1], axis=1)[:, ::-1]
        combined = (ask_cum - bid_cum).T  # (402, T)
        peak = np.abs(combined).max()
        out.append((combined / peak if peak > 0 else np.zeros_like(combined)).astype(np.float32))
    return out[0] if len(out) == 1 else np.stack(out)


class PrototypeDataset:
    """Map-style dataset: per sample, read the window rows and render them in numpy."""

    def __init__(self, data: Path, samples: list[tuple[str, int]], labels: dict, features=("volume",)):
        self.paths = {s: str(data / f"AUDUSD_{s}_dataset.parquet") for s, _ in samples}
        self.samples = samples
        self.labels = labels
        self.features = tuple(features)

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        import polars as pl
        import torch

        symbol, row = self.samples[i]
        frame = pl.scan_parquet(self.paths[symbol]).select(BOOK_COLUMNS).slice(row - W + 1, W).collect()
        columns = {c: frame[c].to_numpy() for c in BOOK_COLUMNS}
        image = render_numpy(columns, self.features)
        return torch.from_numpy(image), self.labels[(symbol, row)]


def labels_of(data: Path, samples) -> dict:
    import pyarrow.parquet as pq

    out = {}
    for symbol in {s for s, _ in samples}:
        labels = pq.read_table(data / f"AUDUSD_{symbol}_dataset.parquet",
                               columns=["classification_label"])["classification_label"].to_numpy(zero_copy_only=False)
        for s, row in samples:
            if s == symbol:
                out[(s, row)] = int(labels[row])
    return out


def check_peer(data: Path, samples, n: int = 3) -> float:
    """Largest difference between the peer's images and tickforge.render's on a few samples."""
    import tickforge

    ds = PrototypeDataset(data, samples[:n], labels_of(data, samples[:n]), ("volume", "variance", "trade_counts"))
    worst = 0.0
    for i, (symbol, row) in enumerate(samples[:n]):
        ours, _ = ds[i]
        ref = tickforge.render(data / f"AUDUSD_{symbol}_dataset.parquet", row=row,
                               features=["volume", "variance", "trade_counts"])
        worst = max(worst, float(np.abs(ours.numpy() - ref).max()))
    return worst


def peer_cpu_ms(data: Path, samples, n: int = 6) -> float:
    """CPU time (all threads of this process) per sample of the peer's __getitem__, warm."""
    ds = PrototypeDataset(data, samples[: n + 1], labels_of(data, samples[: n + 1]))
    ds[0]
    cpu0 = cpu_seconds()
    for i in range(1, n + 1):
        ds[i]
    return (cpu_seconds() - cpu0) / n * 1000


def bench_peer(data: Path, samples, batches: int, polars_threads: int = 0) -> dict:
    import torch
    from torch.utils.data import DataLoader

    samples = samples[: (batches + 1) * B]
    ds = PrototypeDataset(data, samples, labels_of(data, samples))
    if polars_threads:
        os.environ["POLARS_MAX_THREADS"] = str(polars_threads)  # read by the spawned workers
    # spawn, not fork: polars' thread pool (used in this process by check_peer) deadlocks in a
    # forked child. Worker start-up falls in the warm-up batch, which is not timed.
    loader = DataLoader(ds, batch_size=B, num_workers=2, shuffle=False, multiprocessing_context="spawn")
    it = iter(loader)
    t0 = time.perf_counter()
    images, labels = next(it)  # warm-up: worker start and first batch
    warm_s = time.perf_counter() - t0
    assert images.shape == (B, ROWS, T) and images.dtype == torch.float32
    t0 = time.perf_counter()
    n = 0
    for images, labels in it:
        n += 1
    elapsed = time.perf_counter() - t0
    return dict(rate=n * B / elapsed, warm_s=warm_s, batches=n)


# ---------------------------------------------------------------------------------------------
# RSS in a child process
# ---------------------------------------------------------------------------------------------

RSS_CHILD = r"""
import json, resource, sys, time
import torch, tickforge

def hwm():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

data, stride, cache, batches = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
base = hwm()
loader = tickforge.RepresentDataLoader(data, 32, "volume", stride=None if stride == "default" else int(stride),
                                       cache_bytes=cache)
t0 = time.perf_counter()
for i, (features, labels) in enumerate(loader):
    del features, labels
    if i + 1 == batches:
        break
elapsed = time.perf_counter() - t0
print(json.dumps(dict(base=base, peak=hwm(), maxrss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      cache=loader.cache_stats(), seconds=elapsed, batches=batches)))
"""


def rss_child(data: Path, stride: str, cache: int, batches: int) -> dict:
    out = subprocess.run([sys.executable, "-c", RSS_CHILD, str(data), stride, str(cache), str(batches)],
                         capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def dataset_bytes(data: Path) -> tuple[int, int, int]:
    """Parquet bytes, total rows, and the in-memory size of the rows' book (10 levels x 2 sides
    x (8-byte price + 4-byte size + 4-byte count))."""
    import pyarrow.parquet as pq

    files = sorted(data.glob("*_dataset.parquet"))
    rows = sum(pq.read_metadata(f).num_rows for f in files)
    return sum(f.stat().st_size for f in files), rows, rows * 20 * 16


# ---------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "tickforge-bench-loader")
    ap.add_argument("--batches", type=int, default=60, help="measured batches, 1 feature")
    ap.add_argument("--batches-3", type=int, default=30, help="measured batches, 3 features")
    ap.add_argument("--batches-stride1", type=int, default=30, help="measured batches, stride 1")
    ap.add_argument("--peer-batches", type=int, default=8)
    ap.add_argument("--consumer-ms", type=float, default=50.0, help="consumer work per batch in the wait test")
    ap.add_argument("--peer-polars-threads", type=int, default=0,
                    help="POLARS_MAX_THREADS in the peer's workers (0: polars' default)")
    ap.add_argument("--rss-batches", type=int, default=8, help="batches the RSS child runs (stride 1)")
    args = ap.parse_args()

    t_start = time.perf_counter()
    load_start = os.getloadavg()
    data = make_data(args.workdir)
    pq_bytes, rows, book_bytes = dataset_bytes(data)
    print(f"dataset: {rows:,} rows, {pq_bytes / 2**20:.0f} MiB Parquet, {book_bytes / 2**20:.0f} MiB of decoded book rows")

    runs = {}
    runs["1 feature"] = bench_tickforge(data, "volume", warmup=5, batches=args.batches,
                                        wait_batches=min(args.batches, 40), consumer_ms=args.consumer_ms)
    print(f"(a) 1 feature: {runs['1 feature']['rate']:.0f} samples/s", flush=True)
    runs["3 features"] = bench_tickforge(data, ["volume", "variance", "trade_counts"], warmup=3,
                                         batches=args.batches_3, wait_batches=min(args.batches_3, 20),
                                         consumer_ms=args.consumer_ms)
    print(f"(b) 3 features: {runs['3 features']['rate']:.0f} samples/s", flush=True)
    # Six warm-up batches: about the batches it takes random windows to fill the cache with the
    # sliding segments of all 74 row groups (~400 MiB, under the default 1 GiB), so the rate is the
    # steady one.
    runs["stride 1"] = bench_tickforge(data, "volume", stride=1, warmup=6, batches=args.batches_stride1,
                                       wait_batches=5, consumer_ms=args.consumer_ms)
    print(f"(c) stride 1: {runs['stride 1']['rate']:.1f} samples/s", flush=True)
    runs["stride 1, shuffle=local"] = bench_tickforge(data, "volume", stride=1, shuffle="local", warmup=2,
                                                      batches=args.batches_stride1 * 3, wait_batches=10,
                                                      consumer_ms=args.consumer_ms)
    print(f"(c) stride 1, shuffle='local': {runs['stride 1, shuffle=local']['rate']:.1f} samples/s", flush=True)

    samples = runs["1 feature"]["samples"]
    worst = check_peer(data, samples)
    print(f"(d) peer images vs tickforge.render (3 features, 3 samples): max |diff| = {worst:.2e}", flush=True)
    peer = bench_peer(data, samples, args.peer_batches, args.peer_polars_threads)
    peer["cpu_ms"] = peer_cpu_ms(data, samples)
    print(f"(d) peer: {peer['rate']:.1f} samples/s", flush=True)

    rss_raw = rss_child(data, "1", CACHE_256, args.rss_batches)
    rss_bins = rss_child(data, "default", CACHE_256, 100)
    print("(e) done", flush=True)

    def p(values, q):
        return float(np.percentile(values, q)) if len(values) else float("nan")

    goals = {"1 feature": 5000, "3 features": 2000, "stride 1": 1000, "stride 1, shuffle=local": 1000}
    planes_of = {"1 feature": 1, "3 features": 3, "stride 1": 1, "stride 1, shuffle=local": 1}
    threads = render_threads()
    limits = {n: memcpy_limit(n, threads) for n in sorted(set(planes_of.values()))}
    limit_one_thread = memcpy_limit(1, 1)  # shown for comparison with earlier runs, which used it
    print()
    print(f"tickforge RepresentDataLoader vs torch DataLoader(num_workers=2) over a Python/numpy processor; "
          f"batch {B}, T={T}, ticks_per_bin={TPB}, {os.cpu_count()} CPUs; consumer {args.consumer_ms:.0f} ms/batch "
          f"in the wait test")
    header = (f"{'case':<36}{'samples/s':>11}{'vs peer':>9}{'p50 wait':>10}{'p99 wait':>10}"
              f"{'cpu/sample':>12}{'max on ' + str(CORES) + ' idle cores':>22}{'memcpy limit':>15}{'ratio':>7}   goal")
    print(header)
    print("-" * (len(header) + 34))
    for name, r in runs.items():
        ok_rate = r["rate"] >= goals[name]
        p99 = p(r["waits_ms"], 99)
        goal = f">= {goals[name]:,} samples/s: {'MET' if ok_rate else 'NOT MET'}"
        if name == "1 feature":
            goal += f"; p99 wait < 5 ms: {'MET' if p99 < 5 else 'NOT MET'}"
        print(f"{'tickforge, ' + name:<36}{r['rate']:>11,.1f}{r['rate'] / peer['rate']:>8.1f}x"
              f"{p(r['waits_ms'], 50):>8.1f}ms{p99:>8.1f}ms{r['cpu_ms']:>10.2f}ms"
              f"{CORES * 1000 / r['cpu_ms']:>15,.0f} samp/s"
              f"{limits[planes_of[name]]:>15,.0f}{limits[planes_of[name]] / r['rate']:>6.1f}x   {goal}")
    print(f"memcpy limit: samples/s of copying batches of finished images on {threads} threads at once (as many "
          f"as the loader's {threads} render threads; numpy copyto, each thread its own batch) on this machine, the "
          f"output's memory-write bound; ratio = limit / loader rate (goal at the default stride: within 2x)")
    default = runs["1 feature"]
    ratio = limits[1] / default["rate"]
    # The same on idle cores: the rate the CPU time per sample allows on the loader's threads,
    # against the copy on as many threads (measured between the runs).
    idle_ratio = limits[1] / (min(CORES, threads) * 1000 / default["cpu_ms"])
    print(f"default stride: {default['rate']:,.0f} samples/s, memory-write limit {limits[1]:,.0f} samples/s, "
          f"ratio {ratio:.2f} (on {min(CORES, threads)} idle cores {idle_ratio:.2f}; limit and loader on {threads} threads)   goal within 2x: "
          f"{'MET' if ratio <= 2 else 'NOT MET'}")
    print(f"  (the same copy on 1 thread: {limit_one_thread:,.0f} samples/s, ratio {limit_one_thread / default['rate']:.2f})")
    print(f"{'peer (prototype, 1 feature)':<36}{peer['rate']:>11,.1f}{1:>8.1f}x{'':>10}{'':>10}"
          f"{peer['cpu_ms']:>10.1f}ms{CORES * 1000 / peer['cpu_ms']:>15,.1f} samp/s   seed target >= 1,000 samples/s")
    print()
    for name, r in [("stride 1, cache 256 MiB", rss_raw), ("default stride, cache 256 MiB", rss_bins)]:
        peak, base = r["peak"], r["base"]
        print(f"RSS {name:<31} peak {peak / 2**20:>7.0f} MiB (after imports {base / 2**20:.0f} MiB, loader "
              f"+{(peak - base) / 2**20:.0f} MiB; cache holds {r['cache']['bytes'] / 2**20:.0f} MiB, "
              f"{r['cache']['evictions']} evictions, {r['batches']} batches in {r['seconds']:.0f} s)   "
              f"goal peak <= {RSS_BUDGET / 2**30:.0f} GiB: {'MET' if peak <= RSS_BUDGET else 'NOT MET'}; "
              f"loader growth <= cache_bytes: {'MET' if peak - base <= CACHE_256 else 'NOT MET'}")
    print(f"  dataset decoded book rows {book_bytes / 2**20:.0f} MiB = {book_bytes / CACHE_256:.1f}x the 256 MiB cache")
    print()
    for name, r in runs.items():
        print(f"{name}: warm-up {r['warm_s']:.1f} s, {r['num_samples']:,} samples, cache {r['cache']}")
    print(f"peer: warm-up {peer['warm_s']:.1f} s over {peer['batches']} batches; "
          f"images equal tickforge's to {worst:.1e}")
    load_end = os.getloadavg()
    print(f"total {time.perf_counter() - t_start:.0f} s; load average (1 min) at start {load_start[0]:.1f}, "
          f"at end {load_end[0]:.1f} on {CORES} cores"
          + ("  -- the machine was busy with other work: rates are low; cpu/sample is the steadier figure"
             if max(load_start[0], load_end[0]) > CORES + 0.5 else ""))


if __name__ == "__main__":
    main()
