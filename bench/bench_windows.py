"""Book-window loader benchmark (representation="snapshots", docs/loader.md "Book windows"):
tickforge RepresentDataLoader vs a numpy sliding-window peer inside
torch.utils.data.DataLoader(num_workers=2), on the same data, in one run.

    python bench/bench_windows.py [--workdir DIR] [--batches 3000] [--peer-batches 100]

Data: synthetic MBP-10 (2 symbols x 2 days, 400k rows a day) labeled with label_deeplob_k50.
Both sides serve (100, 40) windows (T=100, L=10), batch 32, z-scored with the training split's
per-column statistics, on the training split. The peer is what users of the DeepLOB
literature write: the symbol's book columns loaded into one float64 numpy array in RAM
(columns ask px, ask sz, bid px, bid sz per level), a map-style Dataset whose __getitem__
slices the window and normalizes it with the same statistics, batched by the DataLoader with 2
worker processes, on the samples tickforge's plan chose. The peer's windows are checked equal
to tickforge's first. The goal (the issue): >= 100,000 windows/s on 2 cores, >= 10x the peer.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

SYMBOLS, DAYS, ROWS_PER_DAY, SEED = 2, 2, 400_000, 7
T, LEVELS, B = 100, 10, 32
COLUMN = "label_deeplob_k50"
INT64_MAX = (1 << 63) - 1


def columns(levels):
    return [f"{side}_{kind}_{l:02d}" for l in range(levels)
            for side, kind in (("ask", "px"), ("ask", "sz"), ("bid", "px"), ("bid", "sz"))]


def make_data(workdir: Path) -> Path:
    import tickforge

    out = workdir / f"windows-{SYMBOLS}x{DAYS}x{ROWS_PER_DAY}"
    if (out / "build_report.json").exists():
        return out
    raw = workdir / f"raw-{SYMBOLS}x{DAYS}x{ROWS_PER_DAY}"
    books = tickforge.synth_dbn(raw, symbols=SYMBOLS, days=DAYS, rows_per_day=ROWS_PER_DAY, seed=SEED)
    tickforge.label_run(books, out, lookback_rows=500, lookforward_input=500, lookforward_offset=50, nbins=3,
                        midprice_labels=["deeplob"], midprice_horizons=[50])
    return out


class PeerDataset:
    """The numpy way: every book value of a symbol in one array, windows sliced from it."""

    def __init__(self, directory: Path, symbols: list[str], stats: dict, samples: list[tuple[int, int]]):
        import pyarrow.parquet as pq

        self.arrays, self.mean, self.std = [], [], []
        for name in symbols:
            path = next(directory.glob(f"*_{name}_dataset.parquet"))
            table = pq.read_table(path, columns=columns(LEVELS))
            raw = np.stack([table[c].to_numpy().astype(np.int64) for c in columns(LEVELS)], axis=1)
            values = raw.astype(np.float64)
            for c in range(0, raw.shape[1], 2):
                values[:, c] = np.where(raw[:, c] == INT64_MAX, np.nan, raw[:, c] / 1e9)
            self.arrays.append(values)
            entry = stats[name]
            self.mean.append(np.array(entry["mean"]))
            std = np.array(entry["std"])
            self.std.append(np.where(std > 0, std, 1.0))
        self.samples = samples
        self.labels = [0] * len(samples)

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        symbol, t = self.samples[i]
        x = (self.arrays[symbol][t - T + 1:t + 1] - self.mean[symbol]) / self.std[symbol]
        return np.nan_to_num(x, nan=0.0).astype(np.float32), self.labels[i]


def main() -> None:
    import torch

    import tickforge

    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tickforge-bench"))
    parser.add_argument("--batches", type=int, default=3000)
    parser.add_argument("--peer-batches", type=int, default=100)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    data = make_data(args.workdir)

    def loader(**extra):
        return tickforge.RepresentDataLoader(data, B, representation="snapshots", window=T, levels=LEVELS,
                                             label_column=COLUMN, normalization="zscore", split="train",
                                             return_index=True, seed=1, threads=2, **extra)

    # tickforge: warm one pass over the batches measured, then time them.
    tf = loader()
    planned = []
    start = time.perf_counter()
    for b, (x, y, index) in enumerate(tf):
        planned.extend(zip(index["symbol"], [int(r) for r in index["row"]]))
        if b + 1 == args.batches:
            break
    cold_rate = len(planned) / (time.perf_counter() - start)
    tf.set_epoch(0)
    start = time.perf_counter()
    cpu = time.process_time()
    n = 0
    for b, (x, y, _) in enumerate(tf):
        n += x.shape[0]
        if b + 1 == args.batches:
            break
    tf_seconds = time.perf_counter() - start
    tf_cpu = time.process_time() - cpu
    tf_rate = n / tf_seconds

    # The peer on the same samples.
    stats = json.loads((data / "snapshot_stats.json").read_text())[f"levels={LEVELS}"]
    symbols = tf.symbols
    samples = [(symbols.index(s), t) for s, t in planned[: args.peer_batches * B]]
    build = time.perf_counter()
    dataset = PeerDataset(data, symbols, stats, samples)
    build = time.perf_counter() - build
    # Equal windows first: tickforge's first batch against the peer's.
    first = next(iter(loader()))[0].numpy()
    for i in range(B):
        assert np.array_equal(first[i], dataset[i][0]), f"window {i} differs from the peer's"
    peer = torch.utils.data.DataLoader(dataset, batch_size=B, num_workers=2, shuffle=False)
    it = iter(peer)
    next(it)  # workers started
    start = time.perf_counter()
    m = 0
    for x, _ in it:
        m += x.shape[0]
    peer_seconds = time.perf_counter() - start
    peer_rate = m / peer_seconds

    print(f"data: {data} ({SYMBOLS} symbols x {DAYS} days x {ROWS_PER_DAY} rows), windows ({T}, {4 * LEVELS}), "
          f"batch {B}, zscore, split train, {os.cpu_count()} cores")
    print(f"{'':28} {'windows/s':>12} {'s':>8}")
    print(f"{'tickforge (2 threads)':28} {tf_rate:12,.0f} {tf_seconds:8.2f}   cpu {tf_cpu / n * 1e6:.1f} us/window")
    print(f"{'tickforge, first pass':28} {cold_rate:12,.0f}          (cache filling; return_index on)")
    print(f"{'numpy peer (2 workers)':28} {peer_rate:12,.0f} {peer_seconds:8.2f}   (+{build:.1f} s to load "
          f"{sum(a.nbytes for a in dataset.arrays) / 2**20:.0f} MiB into RAM)")
    print(f"ratio tickforge / peer: {tf_rate / peer_rate:.1f}x  (goal >= 10x and >= 100,000 windows/s)")


if __name__ == "__main__":
    main()
