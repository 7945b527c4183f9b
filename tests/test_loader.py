"""RepresentDataLoader (DESIGN.md §3.4-3.5) against independent oracles.

Oracles:

* images: ``tickforge.render`` (itself checked against a numpy reference in test_features.py)
  for the same sample and options, plus shape/dtype/scale checks in numpy;
* samples, labels, splits and purge gaps: recomputed here from the datasets' own columns
  (``ts_event``, ``sequence``, ``classification_label``) read with pyarrow, following the plan
  semantics: samples are rows t = W-1 + j*stride with a label; split cut points at fractions of
  the global [min ts_event, max ts_event] range, r1/r2 = first rows at or after the cuts,
  train t <= r1-1-H, val r1+W-1 <= t <= r2-1-H, test t >= r2+W-1 (H = lookforward_offset +
  lookforward_input from the datasets' "tickforge.label" metadata);
* batches: class counts floor(B/C) per class plus B%C distinct extra classes; every class's
  samples are used round-robin in passes (reshuffled per pass), so within an epoch the use
  counts of a class's samples never differ by more than one;
* determinism, resume, epochs, rank shards, torch DataLoader workers: compared across loaders.

Images are small (T=20 bins of 10 rows) so the whole file runs in about a minute.
"""

from __future__ import annotations

import collections
import gc
import hashlib
import itertools
import json
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

import tickforge  # noqa: E402

T = 20          # time bins
TPB = 10        # ticks per bin
W = T * TPB     # window rows
LOOKBACK, FORWARD, OFFSET = 200, 200, 20
H = OFFSET + FORWARD
NBINS = 5
B = 32
ROWS = 402
CURRENCY = "AUDUSD"
# Where the engine's caches cut a symbol's rows: the tests make sure windows across these
# rows are among those compared with tickforge.render (any row is compared the same way).
BIN_SEGMENT_ROWS = 2048 * TPB
RAW_SEGMENT_ROWS = 1 << 16


# ---------------------------------------------------------------------------------------------
# Data and the oracle
# ---------------------------------------------------------------------------------------------


@dataclass
class SymbolData:
    symbol: str
    path: Path
    ts: np.ndarray      # int64 ns
    seq: np.ndarray     # uint32
    label: np.ndarray   # int16, -1 where null

    @property
    def n(self) -> int:
        return len(self.ts)


@dataclass
class Data:
    dir: Path
    sets: dict[str, SymbolData]

    def path(self, symbol: str) -> Path:
        return self.sets[symbol].path


def read_data(directory: Path) -> Data:
    sets = {}
    for path in sorted(directory.glob("*_dataset.parquet")):
        symbol = path.name[len(CURRENCY) + 1 : -len("_dataset.parquet")]
        table = pq.read_table(path, columns=["ts_event", "sequence", "classification_label"])
        ts = table["ts_event"].to_numpy().view(np.int64)
        seq = table["sequence"].to_numpy()
        label = table["classification_label"].fill_null(255).to_numpy().astype(np.int16)
        label[label == 255] = -1
        sets[symbol] = SymbolData(symbol, path, ts, seq, label)
    return Data(directory, sets)


def horizon_of(path: Path) -> int:
    meta = json.loads(pq.read_schema(path).metadata[b"tickforge.label"])
    return int(meta["lookforward_offset"]) + int(meta["lookforward_input"])


def cut_rows(data: Data, fractions=(0.7, 0.15, 0.15)) -> dict[str, tuple[int, int]]:
    """r1, r2 per symbol: first rows with ts >= cut1, cut2 (cuts computed in double as the spec)."""
    t_min = min(int(d.ts.min()) for d in data.sets.values())
    t_max = max(int(d.ts.max()) for d in data.sets.values())
    span = float(t_max) - float(t_min)
    cut1 = int(float(t_min) + fractions[0] * span)
    cut2 = int(float(t_min) + (fractions[0] + fractions[1]) * span)
    return {
        s: (int(np.searchsorted(d.ts, cut1, "left")), int(np.searchsorted(d.ts, cut2, "left")))
        for s, d in data.sets.items()
    }


def oracle(data: Data, *, stride: int = TPB, split: str | None = None,
           fractions=(0.7, 0.15, 0.15), symbols=None) -> dict[tuple[str, int], int]:
    """{(symbol, row): label} of every sample the plan semantics allow."""
    cuts = cut_rows(data, fractions) if split else None
    out = {}
    for s in symbols or sorted(data.sets):
        d = data.sets[s]
        t = np.arange(W - 1, d.n, stride)
        t = t[d.label[t] >= 0]
        if split:
            r1, r2 = cuts[s]
            if split == "train":
                t = t[t <= r1 - 1 - H]
            elif split == "val":
                t = t[(t >= r1 + W - 1) & (t <= r2 - 1 - H)]
            else:
                t = t[t >= r2 + W - 1]
        out.update({(s, int(r)): int(d.label[r]) for r in t})
    return out


# ---------------------------------------------------------------------------------------------
# Loader helpers
# ---------------------------------------------------------------------------------------------


def make(directory, batch_size=B, features="volume", **kwargs):
    kwargs.setdefault("time_bins", T)
    kwargs.setdefault("ticks_per_bin", TPB)
    kwargs.setdefault("return_index", True)
    return tickforge.RepresentDataLoader(directory, batch_size, features, **kwargs)


@dataclass
class Rec:
    digest: str
    labels: list[int]
    samples: list[tuple[str, int]]

    def key(self):
        return (self.digest, tuple(self.labels), tuple(self.samples))


def digest(features) -> str:
    array = features.numpy() if hasattr(features, "numpy") else np.asarray(features)
    return hashlib.blake2b(np.ascontiguousarray(array).data, digest_size=16).hexdigest()


def record(item) -> Rec:
    features, labels, index = item
    rows = index["row"]
    rows = rows.tolist() if hasattr(rows, "tolist") else list(rows)
    return Rec(digest(features), [int(x) for x in labels.tolist()], list(zip(index["symbol"], map(int, rows))))


def run(loader, epoch: int | None = None, limit: int | None = None) -> list[Rec]:
    """Records of the batches of one epoch (or its first `limit` batches)."""
    if epoch is not None:
        loader.set_epoch(epoch)
    out = []
    for item in loader:
        out.append(record(item))
        if limit is not None and len(out) == limit:
            break
    return out


def keys(recs):
    return [r.key() for r in recs]


def samples_of(recs) -> set[tuple[str, int]]:
    return {s for r in recs for s in r.samples}


_render_cache: dict = {}


def render(data: Data, symbol: str, row: int, features="volume") -> np.ndarray:
    key = (str(data.dir), symbol, row, tuple([features] if isinstance(features, str) else features))
    if key not in _render_cache:
        _render_cache[key] = tickforge.render(
            data.path(symbol), row=row, features=features, time_bins=T, ticks_per_bin=TPB
        )
    return _render_cache[key]


def check_image_array(images: np.ndarray, planes: int | None) -> None:
    """Shape, dtype and scale of a batch of images, in plain numpy."""
    assert images.dtype == np.float32
    shape = (B, ROWS, T) if planes is None else (B, planes, ROWS, T)
    assert images.shape == shape
    assert np.isfinite(images).all()
    flat = images.reshape(B, -1, ROWS * T)
    peak = np.abs(flat).max(axis=2)
    # Each plane is scaled by its own max |value|: the peak is 1, or 0 for an empty plane.
    assert np.all(np.isclose(peak, 1.0, atol=1e-6) | (peak == 0)), peak


def crosses(row: int, period: int) -> bool:
    """Whether the window ending at `row` straddles a multiple of `period`."""
    return (row - W + 1) // period != row // period


def assert_class_layout(labels, classes: list[int], batch_size: int = B):
    counts = collections.Counter(labels)
    assert set(counts) <= set(classes), (counts, classes)
    C = len(classes)
    base, extra = divmod(batch_size, C)
    got = sorted(counts.get(c, 0) for c in classes)
    assert got == [base] * (C - extra) + [base + 1] * extra, (dict(counts), classes)
    return [c for c in classes if counts.get(c, 0) == base + 1]


# ---------------------------------------------------------------------------------------------
# Fixtures: datasets built once per module
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Data:
    base = tmp_path_factory.mktemp("loader")
    tickforge.synth_dbn(base / "raw", symbols=3, days=3, rows_per_day=20_000, seed=7)
    tickforge.label_run(base / "raw", base / "out", lookback_rows=LOOKBACK, lookforward_input=FORWARD,
                        lookforward_offset=OFFSET, nbins=NBINS, min_symbol_samples=100)
    d = read_data(base / "out")
    assert len(d.sets) == 3
    for s in d.sets.values():
        assert horizon_of(s.path) == H
        assert np.all(np.diff(s.ts) >= 0)
    assert max(s.n for s in d.sets.values()) > BIN_SEGMENT_ROWS + W
    return d


@pytest.fixture(scope="module")
def everything(data) -> dict:
    return oracle(data)


@pytest.fixture(scope="module")
def classes(everything) -> list[int]:
    return sorted(set(everything.values()))


@pytest.fixture(scope="module")
def baseline(data):
    """Epoch 0 of the default loader (seed 11), with its stats after the epoch."""
    loader = make(data.dir, seed=11)
    recs = run(loader)
    return {"recs": recs, "len": len(loader), "dist": loader.class_distribution(),
            "cache": loader.cache_stats(), "loader": loader}


@pytest.fixture(scope="module")
def small_row_groups(data, tmp_path_factory) -> Data:
    """The same datasets rewritten with 1,000-row row groups (metadata kept)."""
    out = tmp_path_factory.mktemp("rowgroups")
    for s in data.sets.values():
        pq.write_table(pq.read_table(s.path), out / s.path.name, row_group_size=1000)
    return read_data(out)


@pytest.fixture(scope="module")
def skewed(data, tmp_path_factory) -> Data:
    """Class 2 removed everywhere, class 4 left on three samples only."""
    out = tmp_path_factory.mktemp("skewed")
    kept = 0
    for s in data.sets.values():
        table = pq.read_table(s.path)
        label = s.label.copy()
        label[label == 2] = -1
        rows = np.flatnonzero(label == 4)
        aligned = rows[(rows >= W - 1) & ((rows - (W - 1)) % TPB == 0)]
        keep = aligned[: max(0, 3 - kept)]
        kept += len(keep)
        drop = np.setdiff1d(rows, keep)
        label[drop] = -1
        column = pa.array(np.where(label < 0, 0, label).astype(np.uint8), mask=label < 0)
        index = table.schema.get_field_index("classification_label")
        table = table.set_column(index, table.schema.field(index), column)
        pq.write_table(table, out / s.path.name)
    assert kept == 3
    return read_data(out)


@pytest.fixture(scope="module")
def long_symbol(tmp_path_factory) -> Data:
    """One symbol with more rows than one raw segment of the unaligned path."""
    base = tmp_path_factory.mktemp("long")
    tickforge.synth_dbn(base / "raw", symbols=1, days=2, rows_per_day=40_000, seed=5)
    tickforge.label_run(base / "raw", base / "out", lookback_rows=LOOKBACK, lookforward_input=FORWARD,
                        lookforward_offset=OFFSET, nbins=NBINS, min_symbol_samples=100)
    d = read_data(base / "out")
    assert len(d.sets) == 1 and next(iter(d.sets.values())).n > RAW_SEGMENT_ROWS + 4 * W
    return d


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------


def compare_with_render(data: Data, batches, features="volume", per_batch=2, limit=40) -> int:
    """Compare the first images of (features, labels, index) batches with tickforge.render."""
    compared = 0
    for features_t, _, index in batches:
        images = features_t.numpy()
        for i in range(min(per_batch, len(index["row"]))):
            symbol, row = index["symbol"][i], int(index["row"][i])
            np.testing.assert_array_equal(images[i], render(data, symbol, row, features),
                                          err_msg=f"{symbol} row {row}")
            compared += 1
            if compared >= limit:
                return compared
    return compared


def test_images_equal_render(data):
    loader = make(data.dir, seed=3)
    chosen = []   # (symbol, row, image): the first sample of early batches, windows across segments
    crossing = 0
    for n, (features, labels, index) in enumerate(loader):
        assert isinstance(features, torch.Tensor) and features.dtype == torch.float32
        assert isinstance(labels, torch.Tensor) and labels.dtype == torch.int64
        assert tuple(labels.shape) == (B,)
        images = features.numpy()
        check_image_array(images, None)
        # Labels, timestamps and sequence numbers are the dataset's own at that row.
        for i, (symbol, row) in enumerate(zip(index["symbol"], index["row"].tolist())):
            d = data.sets[symbol]
            assert W - 1 <= row < d.n and (row - (W - 1)) % TPB == 0
            assert int(labels[i]) == d.label[row] >= 0
            assert int(index["ts_event"][i]) == d.ts[row]
            assert int(index["sequence"][i]) == d.seq[row]
            if (i == 0 and n < 12) or (crosses(row, BIN_SEGMENT_ROWS) and crossing < 6):
                crossing += crosses(row, BIN_SEGMENT_ROWS)
                chosen.append((symbol, row, images[i].copy()))
        if n >= 11 and crossing >= 6:
            break
    assert crossing >= 6
    for symbol, row, image in chosen:
        np.testing.assert_array_equal(image, render(data, symbol, row), err_msg=f"{symbol} row {row}")


def test_images_several_features(data):
    requested = ["trade_counts", "volume", "variance"]
    loader = make(data.dir, features=requested, seed=4)
    features, labels, index = next(iter(loader))
    assert tuple(features.shape) == (B, 3, ROWS, T)
    images = features.numpy()
    check_image_array(images, 3)
    for i in range(4):
        symbol, row = index["symbol"][i], int(index["row"][i])
        np.testing.assert_array_equal(images[i], render(data, symbol, row, ["volume", "variance", "trade_counts"]))
        # Planes stack as volume, variance, trade_counts whatever the order asked for.
        for plane, name in enumerate(["volume", "variance", "trade_counts"]):
            np.testing.assert_array_equal(images[i, plane], render(data, symbol, row, name))


@pytest.mark.parametrize("stride", [None, 1])  # windows on the bin grid, and off it (raw rows)
def test_micro_pip_size_option(data, stride):
    loader = make(data.dir, seed=4, micro_pip_size=5e-5, stride=stride)
    features, _, index = next(iter(loader))
    images = features.numpy()
    if stride == 1:
        assert any((int(r) - (W - 1)) % TPB for r in index["row"][:3])
    differs = 0
    for i in range(3):
        symbol, row = index["symbol"][i], int(index["row"][i])
        want = tickforge.render(data.path(symbol), row=row, time_bins=T, ticks_per_bin=TPB, micro_pip_size=5e-5)
        np.testing.assert_array_equal(images[i], want)
        differs += not np.array_equal(want, render(data, symbol, row))
    assert differs > 0


def test_return_index_false_gives_pairs(data):
    item = next(iter(make(data.dir, return_index=False)))
    assert isinstance(item, tuple) and len(item) == 2
    assert tuple(item[0].shape) == (B, ROWS, T) and tuple(item[1].shape) == (B,)


def test_row_groups_do_not_change_batches(small_row_groups, baseline):
    assert pq.ParquetFile(next(iter(small_row_groups.sets.values())).path).metadata.num_row_groups > 5
    recs = run(make(small_row_groups.dir, seed=11))
    assert keys(recs) == keys(baseline["recs"])


# ---------------------------------------------------------------------------------------------
# Plan: samples, class-uniform batches, over-sampling
# ---------------------------------------------------------------------------------------------


def test_epoch_samples_and_length(data, everything, baseline):
    recs = baseline["recs"]
    assert baseline["len"] == len(everything) // B == len(recs)
    assert baseline["loader"]._engine.num_samples == len(everything)
    for r in recs:
        assert len(r.samples) == B == len(r.labels)
        for sample, label in zip(r.samples, r.labels):
            assert everything.get(sample) == label, sample


def test_class_counts_every_batch(baseline, classes):
    assert classes == list(range(NBINS))
    extras = collections.Counter()
    for r in baseline["recs"]:
        extras.update(assert_class_layout(r.labels, classes))
    # The remainder classes are drawn per batch, not fixed: every class gets some.
    assert set(extras) == set(classes), extras


def test_class_distribution_sums_to_epoch(baseline):
    dist = baseline["dist"]
    counted = collections.Counter(l for r in baseline["recs"] for l in r.labels)
    assert sum(dist.values()) == baseline["len"] * B
    assert {c: n for c, n in dist.items() if n} == dict(counted)


@pytest.mark.parametrize("batch_size", [3, 7])
def test_class_counts_batch_not_multiple_of_classes(data, classes, batch_size):
    recs = run(make(data.dir, batch_size=batch_size, seed=2), limit=60)
    assert len(recs) == 60
    for r in recs:
        extra = assert_class_layout(r.labels, classes, batch_size)
        assert len(extra) == len(set(extra)) == batch_size % len(classes)


def assert_balanced_use(recs, oracle_samples: dict):
    """Within an epoch, each class's samples are used in passes: use counts differ by <= 1."""
    by_class = collections.defaultdict(list)
    for sample, label in oracle_samples.items():
        by_class[label].append(sample)
    use = collections.Counter()
    for r in recs:
        use.update(r.samples)
        for label, members in by_class.items():
            counts = [use[s] for s in members]
            assert max(counts) - min(counts) <= 1, (label, min(counts), max(counts))


def test_each_class_used_in_passes(baseline, everything):
    assert_balanced_use(baseline["recs"], everything)


@pytest.mark.parametrize("shuffle", [False, "local"])
def test_other_shuffle_modes_keep_the_plan_rules(data, everything, classes, baseline, shuffle):
    loader = make(data.dir, seed=11, shuffle=shuffle)
    assert len(loader) == baseline["len"]
    recs = run(loader)
    for r in recs:
        assert_class_layout(r.labels, classes)
        for sample, label in zip(r.samples, r.labels):
            assert everything[sample] == label
    assert_balanced_use(recs, everything)
    assert keys(run(make(data.dir, seed=11, shuffle=shuffle), limit=10)) == keys(recs[:10])
    assert keys(recs) != keys(baseline["recs"])


def test_absent_and_rare_classes(skewed):
    expected = oracle(skewed)
    present = sorted(set(expected.values()))
    assert present == [0, 1, 3, 4]
    assert sum(1 for v in expected.values() if v == 4) == 3
    loader = make(skewed.dir, batch_size=30, seed=8)
    assert len(loader) == len(expected) // 30
    recs = run(loader)
    assert len(recs) == len(loader)
    for r in recs:
        assert 2 not in r.labels
        assert_class_layout(r.labels, present, 30)  # 7 of each class, 2 distinct extras
        for sample, label in zip(r.samples, r.labels):
            assert expected[sample] == label
    assert_balanced_use(recs, expected)
    rare = collections.Counter(s for r in recs for s, l in zip(r.samples, r.labels) if l == 4)
    assert len(rare) == 3 and min(rare.values()) >= 7 * len(recs) // 3 - 1


# ---------------------------------------------------------------------------------------------
# Determinism, epochs, resume
# ---------------------------------------------------------------------------------------------


def test_same_seed_same_batches_other_seed_differs(data, baseline):
    again = run(make(data.dir, seed=11))
    assert keys(again) == keys(baseline["recs"])
    other = run(make(data.dir, seed=12))
    assert len(other) == len(again)
    differ = sum(a.samples != b.samples for a, b in zip(again, other))
    assert differ == len(other)
    assert [a.digest for a in again] != [b.digest for b in other]


def test_threads_and_prefetch_do_not_change_batches(data, baseline):
    assert keys(run(make(data.dir, seed=11, threads=3, prefetch=1))) == keys(baseline["recs"])


def test_small_cache_evicts_and_gives_the_same_batches(data, baseline):
    budget = 2_200_000  # below the ~2.9 MB of aggregates the epoch needs
    loader = make(data.dir, seed=11, cache_bytes=budget)
    assert keys(run(loader, limit=10)) == keys(baseline["recs"][:10])
    stats = loader.cache_stats()
    assert stats["evictions"] > 0 and 0 < stats["bytes"] <= budget
    assert baseline["cache"]["bytes"] > budget


def test_set_epoch(data, baseline):
    loader = make(data.dir, seed=11)
    e2 = run(loader, epoch=2, limit=25)
    assert keys(run(loader, epoch=2, limit=25)) == keys(e2)
    e3 = run(loader, epoch=3, limit=25)
    assert all(a.samples != b.samples for a, b in zip(e2, e3))
    assert keys(run(make(data.dir, seed=11), epoch=2, limit=25)) == keys(e2)
    # Plain iteration walks epochs 0, 1, ...
    fresh = make(data.dir, seed=11)
    first = run(fresh)
    second = run(fresh)
    assert keys(first) == keys(baseline["recs"])
    assert keys(second) == keys(run(make(data.dir, seed=11), epoch=1))
    assert keys(second) != keys(first)


def test_resume_mid_epoch(data):
    full = run(make(data.dir, seed=5), epoch=2)
    loader = make(data.dir, seed=5)
    loader.set_epoch(2)
    assert loader.state_dict()["epoch"] == 2 and loader.state_dict()["next_batch"] == 0
    it = iter(loader)
    head = [record(next(it)) for _ in range(7)]
    assert keys(head) == keys(full[:7])
    state = json.loads(json.dumps(loader.state_dict()))  # plain data
    assert state["epoch"] == 2 and state["next_batch"] == 7
    resumed = make(data.dir, seed=5)
    resumed.load_state_dict(state)
    tail = run(resumed)
    assert keys(tail) == keys(full[7:])
    # The resumed loader then goes on with epoch 3, as the uninterrupted one would.
    assert keys(run(resumed, limit=5)) == keys(run(make(data.dir, seed=5), epoch=3, limit=5))
    # Iterating the interrupted loader itself again also resumes where it stopped.
    assert keys(run(loader)) == keys(full[7:])
    with pytest.raises(ValueError):
        make(data.dir, seed=6).load_state_dict(state)


# ---------------------------------------------------------------------------------------------
# Ranks
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("world_size", [2, 3])
def test_rank_shards_disjoint(data, everything, classes, world_size):
    loaders = [make(data.dir, seed=9, rank=r, world_size=world_size) for r in range(world_size)]
    lengths = {len(l) for l in loaders}
    assert lengths == {len(everything) // (B * world_size)}
    assert sum(l._engine.num_samples for l in loaders) == len(everything)
    seen = []
    for loader in loaders:
        recs = run(loader, epoch=0) + run(loader, epoch=1)
        assert len(recs) == 2 * len(loader)
        for r in recs:
            assert_class_layout(r.labels, classes)
        seen.append(samples_of(recs))
    for a, b in itertools.combinations(range(world_size), 2):
        assert not seen[a] & seen[b], f"ranks {a} and {b} share samples"
    union = set().union(*seen)
    assert union <= set(everything)
    # Ranks plan independently: their first batches differ.
    firsts = [run(l, epoch=0, limit=1)[0].samples for l in loaders]
    assert len({tuple(f) for f in firsts}) == world_size


# ---------------------------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------------------------


def used_rows(samples) -> dict[str, tuple[int, int]]:
    """Per symbol, the lowest window row and the highest horizon row the samples touch."""
    out = {}
    for symbol, t in samples:
        lo, hi = t - W + 1, t + H
        a, b = out.get(symbol, (lo, hi))
        out[symbol] = (min(a, lo), max(b, hi))
    return out


def used_ts(data: Data, samples) -> tuple[int, int]:
    """The earliest and latest ts_event of any row the samples touch (window or horizon)."""
    lo = hi = None
    for symbol, (a, b) in used_rows(samples).items():
        ts = data.sets[symbol].ts
        first, last = int(ts[max(a, 0)]), int(ts[min(b, len(ts) - 1)])
        lo = first if lo is None else min(lo, first)
        hi = last if hi is None else max(hi, last)
    return lo, hi


@pytest.mark.parametrize("fractions", [(0.7, 0.15, 0.15), (0.5, 0.3, 0.2)])
def test_splits_by_time_with_purge(data, fractions):
    expected = {s: oracle(data, split=s, fractions=fractions) for s in ("train", "val", "test")}
    assert all(len(v) >= 4 * B for v in expected.values()), {k: len(v) for k, v in expected.items()}
    observed = {}
    for split, want in expected.items():
        loader = make(data.dir, seed=1, split=split, split_fractions=list(fractions))
        assert loader._engine.num_samples == len(want), split
        assert len(loader) == len(want) // B
        recs = run(loader)
        observed[split] = samples_of(recs)
        assert observed[split] <= set(want), split
        for r in recs:
            for sample, label in zip(r.samples, r.labels):
                assert want[sample] == label
    # No row of a later split's window or horizon touches a row any training sample uses,
    # in rows of each symbol and in time across all symbols.
    order = [("train", set(expected["train"])), ("val", observed["val"]), ("test", observed["test"])]
    for (early_name, early), (late_name, late) in itertools.combinations(order, 2):
        early_rows, late_rows = used_rows(early), used_rows(late)
        for symbol in set(early_rows) & set(late_rows):
            assert early_rows[symbol][1] < late_rows[symbol][0], (early_name, late_name, symbol)
        assert used_ts(data, early)[1] < used_ts(data, late)[0], (early_name, late_name)
    # Val samples also clear the test rows they could see (val horizon < first test window).
    val_all = set(expected["val"])
    test_all = set(expected["test"])
    assert used_ts(data, val_all)[1] < used_ts(data, test_all)[0]


def test_splits_without_column_statistics(data, tmp_path):
    """The cut points come from the data's ts_event range, whether or not the writer of the
    Parquet files kept column statistics (pyarrow, polars and Spark may not)."""
    out = tmp_path / "nostats"
    out.mkdir()
    for s in data.sets.values():
        pq.write_table(pq.read_table(s.path), out / s.path.name, write_statistics=False)
    assert pq.ParquetFile(out / s.path.name).metadata.row_group(0).column(0).statistics is None
    got = {}
    for split in ("train", "val", "test"):
        try:
            got[split] = make(out, split=split)._engine.num_samples
        except tickforge.TickforgeError as error:
            got[split] = f"error: {error}"
    assert got == {split: len(oracle(data, split=split)) for split in ("train", "val", "test")}


def test_split_cut_points_do_not_depend_on_symbols_filter(data, tmp_path):
    """The cut points are global: a symbol's split does not change with the symbols loaded.

    Otherwise a model trained with symbols=[X] and validated on all symbols (or the reverse)
    validates on rows it was trained on. One symbol here covers only the later part of the
    time range, so its own range and the global one differ a lot."""
    out = tmp_path / "late"
    shutil.copytree(data.dir, out)
    late = sorted(data.sets)[1]
    path = out / data.path(late).name
    table = pq.read_table(path)
    pq.write_table(table.slice(int(table.num_rows * 0.6)), path)
    everything_late = read_data(out)
    for split in ("train", "val", "test"):
        want = {k for k in oracle(everything_late, split=split) if k[0] == late}
        try:
            got = make(out, split=split, symbols=[late], batch_size=1)._engine.num_samples
        except tickforge.TickforgeError as error:
            got = f"error: {error}"
        assert got == len(want), (split, late)
    # And so no leakage across runs: validating on all symbols a model trained on the late one.
    train = samples_of(run(make(out, split="train", symbols=[late], batch_size=4, seed=1), epoch=0))
    val = samples_of(run(make(out, split="val", seed=1), epoch=0))
    train_rows = [t + H for s, t in train if s == late]
    val_rows = [t - W + 1 for s, t in val if s == late]
    assert not train_rows or not val_rows or max(train_rows) < min(val_rows), (max(train_rows), min(val_rows))


def test_split_rejects_bad_values(data):
    with pytest.raises(tickforge.TickforgeError, match="dev"):
        make(data.dir, split="dev")
    with pytest.raises((tickforge.TickforgeError, ValueError)):
        make(data.dir, split="val", split_fractions=[0.5, 0.5, 0.5])


# ---------------------------------------------------------------------------------------------
# Symbols, sample fraction, stride
# ---------------------------------------------------------------------------------------------


def test_symbols_filter(data):
    names = sorted(data.sets)
    one = make(data.dir, symbols=[names[1]], seed=2)
    assert one.symbols == [names[1]]
    assert one._engine.num_samples == len(oracle(data, symbols=[names[1]]))
    recs = run(one, limit=10)
    assert {s for s, _ in samples_of(recs)} == {names[1]}
    two = make(data.dir, symbols=[names[2], names[0]], seed=2)
    assert sorted(two.symbols) == sorted([names[0], names[2]])
    assert two._engine.num_samples == len(oracle(data, symbols=[names[0], names[2]]))
    assert {s for s, _ in samples_of(run(two, limit=20))} == {names[0], names[2]}
    with pytest.raises(tickforge.TickforgeError, match="NOPE"):
        make(data.dir, symbols=[names[0], "NOPE"])


@pytest.mark.parametrize("fraction", [0.5, 0.2])
def test_sample_fraction(data, everything, fraction):
    loader = make(data.dir, sample_fraction=fraction, seed=4)
    n = loader._engine.num_samples
    assert abs(n / len(everything) - fraction) < 0.03, n
    assert len(loader) == n // B
    recs = run(loader)
    seen = samples_of(recs)
    assert seen <= set(everything) and len(seen) <= n
    for r in recs:
        for sample, label in zip(r.samples, r.labels):
            assert everything[sample] == label
    assert keys(run(make(data.dir, sample_fraction=fraction, seed=4), limit=5)) == keys(recs[:5])


@pytest.mark.parametrize("stride", [1, 7, 2 * TPB])
def test_stride(data, stride):
    expected = oracle(data, stride=stride)
    loader = make(data.dir, stride=stride, seed=6)
    assert loader._engine.num_samples == len(expected)
    assert len(loader) == len(expected) // B
    batches = []
    for item in loader:
        features, labels, index = item
        check_image_array(features.numpy(), None)
        for i, (symbol, row) in enumerate(zip(index["symbol"], index["row"].tolist())):
            assert expected[(symbol, row)] == int(labels[i])
        batches.append(item)
        if len(batches) == 6:
            break
    rows = [int(r) for _, _, ix in batches for r in ix["row"]]
    if stride == 1:
        assert any((r - (W - 1)) % TPB for r in rows)  # the unaligned path is exercised
    assert compare_with_render(data, batches, per_batch=3, limit=18) >= 12


def test_stride_one_across_raw_segments(long_symbol):
    """Unaligned windows near the engine's raw-segment cut render like any other."""
    loader = make(long_symbol.dir, batch_size=64, stride=1, seed=3)
    near = []
    for features, labels, index in loader:
        for i, row in enumerate(index["row"].tolist()):
            if abs(row - RAW_SEGMENT_ROWS) <= 2 * W:
                near.append((index["symbol"][i], row, features[i].numpy().copy()))
        if len(near) >= 8:
            break
    assert len(near) >= 8
    assert any(crosses(row, RAW_SEGMENT_ROWS) for _, row, _ in near)
    for symbol, row, image in near[:10]:
        np.testing.assert_array_equal(image, render(long_symbol, symbol, row), err_msg=f"row {row}")


def test_stride_one_prices_too_far_apart_for_offsets(data, tmp_path):
    """Raw rows whose prices span more micro-pips than an int32 holds render like the others
    (the engine keeps such rows in fixed point)."""
    s = next(iter(data.sets.values()))
    table = pq.read_table(s.path)
    index = table.schema.get_field_index("ask_px_09")
    px = table["ask_px_09"].to_numpy().copy()
    # 2^32 micro-pips above the book: dropped from images, and where a 32-bit offset would wrap
    # around, those rows would look like the book's own.
    px[::50] += (1 << 32) * 10_000
    table = table.set_column(index, table.schema.field(index), pa.array(px))
    pq.write_table(table, tmp_path / s.path.name)
    features, _, index = next(iter(make(tmp_path, stride=1, seed=2)))
    rows = [int(r) for r in index["row"][:4]]
    assert any((r - (W - 1)) % TPB for r in rows)
    for i, row in enumerate(rows):
        want = tickforge.render(tmp_path / s.path.name, row=row, time_bins=T, ticks_per_bin=TPB)
        np.testing.assert_array_equal(features[i].numpy(), want, err_msg=f"row {row}")


# ---------------------------------------------------------------------------------------------
# Zero-copy tensors and buffer lifetime
# ---------------------------------------------------------------------------------------------


def test_zero_copy_tensors(data, monkeypatch):
    handed = []
    original = torch.from_numpy

    def spy(array):
        handed.append(array)
        return original(array)

    monkeypatch.setattr(torch, "from_numpy", spy)
    loader = make(data.dir, seed=2, threads=2, prefetch=2)
    pointers = []
    for n, (features, labels, _) in enumerate(loader):
        array, label_array = handed[-2], handed[-1]
        # The engine's own buffer: numpy does not own it, and the tensor views it.
        assert not array.flags.owndata and not isinstance(array.base, np.ndarray)
        assert features.data_ptr() == array.__array_interface__["data"][0]
        assert labels.data_ptr() == label_array.__array_interface__["data"][0]
        assert np.shares_memory(features.numpy(), array)
        assert features.is_contiguous()
        features[0, 0, 0] = 123.0
        assert array[0, 0, 0] == 123.0
        pointers.append(features.data_ptr())
        del features, labels, array, label_array
        handed.clear()
        if n == 39:
            break
    # Released buffers go back to the engine's pool and come round again.
    assert len(set(pointers)) < len(pointers) // 2


def test_held_batches_stay_intact(data, baseline):
    loader = make(data.dir, seed=11, prefetch=2)
    held, digests = [], []
    for n, (features, labels, index) in enumerate(loader):
        held.append((features, labels))
        digests.append(digest(features))
        if n == 19:
            break
    # Keep consuming (buffers of released batches get reused) while the first 20 are held.
    for n, _ in enumerate(loader):
        if n == 20:
            break
    assert [digest(f) for f, _ in held] == digests == [r.digest for r in baseline["recs"][:20]]
    assert [l.tolist() for _, l in held] == [r.labels for r in baseline["recs"][:20]]


# ---------------------------------------------------------------------------------------------
# torch DataLoader
# ---------------------------------------------------------------------------------------------


def test_torch_dataloader_workers(data, hang_guard):
    hang_guard(120)
    single = run(make(data.dir, seed=13, sample_fraction=0.3))
    assert len(single) > 10
    in_process = [record(item) for item in DataLoader(make(data.dir, seed=13, sample_fraction=0.3),
                                                      batch_size=None, num_workers=0)]
    assert keys(in_process) == keys(single)
    loader = make(data.dir, seed=13, sample_fraction=0.3)
    workers = [record(item) for item in DataLoader(loader, batch_size=None, num_workers=2, timeout=60)]
    # Each worker renders every other batch; together they give the epoch, once each, in order.
    assert len(workers) == len(single)
    assert len({r.key() for r in workers}) == len(workers)
    assert sorted(keys(workers)) == sorted(keys(single))
    assert keys(workers) == keys(single)


def test_torch_dataloader_workers_spawned_persistent_and_resumed(data, hang_guard):
    """Workers started by spawn get a pickled loader; persistent workers advance the epoch
    themselves; a run interrupted after k batches resumes from state_dict(batches_seen=k)."""
    hang_guard(240)
    single = make(data.dir, seed=13, sample_fraction=0.3)
    epochs = [run(single, epoch=e) for e in range(2)]
    spawned = [record(item) for item in DataLoader(make(data.dir, seed=13, sample_fraction=0.3), batch_size=None,
                                                   num_workers=2, multiprocessing_context="spawn", timeout=120)]
    assert keys(spawned) == keys(epochs[0])

    persistent = DataLoader(make(data.dir, seed=13, sample_fraction=0.3), batch_size=None, num_workers=2,
                            persistent_workers=True, timeout=60)
    for e in range(2):
        assert keys([record(item) for item in persistent]) == keys(epochs[e])
    del persistent

    k = 5
    loader = make(data.dir, seed=13, sample_fraction=0.3)
    loader.set_epoch(1)
    taken = []
    for item in DataLoader(loader, batch_size=None, num_workers=2, timeout=60):
        taken.append(record(item))
        if len(taken) == k:
            break
    state = loader.state_dict(batches_seen=len(taken))
    assert state["epoch"] == 1 and state["next_batch"] == k
    resumed = make(data.dir, seed=13, sample_fraction=0.3)
    resumed.load_state_dict(state)
    rest = [record(item) for item in DataLoader(resumed, batch_size=None, num_workers=2, timeout=60)]
    assert keys(taken + rest) == keys(epochs[1])


def test_torch_dataloader_workers_after_use_in_main_process(data, hang_guard):
    """A loader iterated in the main process (say, a first epoch) still works with workers.

    DataLoader forks its workers; the engine's render threads of the finished epoch are still
    parked on the loader's condition variable then, and a forked child must not inherit that
    state (glibc condition variables are not fork-safe)."""
    hang_guard(120)
    loader = make(data.dir, seed=13, sample_fraction=0.3)
    first = run(loader)
    loader.set_epoch(0)
    workers = [record(item) for item in DataLoader(loader, batch_size=None, num_workers=2, timeout=10)]
    assert keys(workers) == keys(first)


def test_torch_dataloader_workers_while_an_iteration_is_suspended(data, hang_guard):
    """Forking DataLoader workers while the main process holds a suspended iterator (say, one
    peeked at for shapes) must not hang the workers: at that moment the render threads are
    parked on the loader's condition variable."""
    hang_guard(120)
    loader = make(data.dir, seed=13, sample_fraction=0.3)
    expected = run(make(data.dir, seed=13, sample_fraction=0.3))
    peek = iter(loader)
    next(peek)
    time.sleep(0.3)  # let the render threads fill the prefetch window and park
    loader.set_epoch(0)
    workers = [record(item) for item in DataLoader(loader, batch_size=None, num_workers=2, timeout=10)]
    assert keys(workers) == keys(expected)
    del peek


def consume_with_deadline(iterator, seconds: float):
    """Records of the rest of `iterator`, or None if it blocks for more than `seconds`."""
    out, done = [], threading.Event()

    def consume():
        for item in iterator:
            out.append(record(item))
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    return out if done.wait(seconds) else None


def test_abandoned_iterator_does_not_stop_a_newer_one(data, baseline):
    """An old iterator collected while a newer one runs (a dropped generator, or one kept
    alive by a traceback until the garbage collector runs) must not stop the newer one."""
    loader = make(data.dir, seed=11)
    old = iter(loader)
    first = record(next(old))
    new = iter(loader)
    second = record(next(new))  # resumes after batch 0
    # The old one is done: it says so rather than taking batches of the new one's stream.
    with pytest.raises(RuntimeError, match="replaced by a newer iter"):
        next(old)
    del old
    gc.collect()
    rest = consume_with_deadline(new, 15)
    assert rest is not None, "the newer iteration blocked after the old iterator was collected"
    assert keys([first, second] + rest) == keys(baseline["recs"])


# ---------------------------------------------------------------------------------------------
# Config files
# ---------------------------------------------------------------------------------------------


def test_config_file_matches_kwargs(data, tmp_path):
    config = tmp_path / "loader.yaml"
    config.write_text(
        f"parquet_dir: {data.dir}\n"
        "batch_size: 16\n"
        "features: [volume, trade_counts]\n"
        f"time_bins: {T}\n"
        f"ticks_per_bin: {TPB}\n"
        "seed: 21\n"
        "sample_fraction: 0.5\n"
        "stride: 20\n"
        "return_index: true\n"
    )
    from_file = tickforge.RepresentDataLoader(config=config)
    from_kwargs = tickforge.RepresentDataLoader(data.dir, 16, ["volume", "trade_counts"], time_bins=T,
                                                ticks_per_bin=TPB, seed=21, sample_fraction=0.5, stride=20,
                                                return_index=True)
    assert len(from_file) == len(from_kwargs)
    a, b = run(from_file, limit=8), run(from_kwargs, limit=8)
    assert keys(a) == keys(b)
    assert all(len(r.samples) == 16 and all((row - (W - 1)) % 20 == 0 for _, row in r.samples) for r in a)
    # Arguments win over the file.
    overridden = tickforge.RepresentDataLoader(config=config, seed=22)
    assert keys(run(overridden, limit=8)) == keys(run(tickforge.RepresentDataLoader(
        data.dir, 16, ["volume", "trade_counts"], time_bins=T, ticks_per_bin=TPB, seed=22,
        sample_fraction=0.5, stride=20, return_index=True), limit=8))


def test_config_file_unknown_key(data, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(f"parquet_dir: {data.dir}\nbatch_size: 16\nfeatures: volume\nbatch_szie: 3\n")
    with pytest.raises(ValueError, match="batch_szie"):
        tickforge.RepresentDataLoader(config=config)
    with pytest.raises(TypeError, match="bogus"):
        make(data.dir, bogus=1)


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


def copy_dir(data: Data, dest: Path) -> Path:
    shutil.copytree(data.dir, dest)
    return dest


def test_missing_directory_and_no_datasets(tmp_path):
    with pytest.raises(tickforge.TickforgeError, match="nowhere"):
        make(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(tickforge.TickforgeError, match="empty"):
        make(tmp_path / "empty")


def test_truncated_dataset_named(data, tmp_path):
    d = copy_dir(data, tmp_path / "trunc")
    victim = sorted(d.glob("*_dataset.parquet"))[1]
    with open(victim, "r+b") as f:
        f.truncate(victim.stat().st_size // 2)
    with pytest.raises(tickforge.TickforgeError, match=victim.name):
        for _ in make(d):
            pass


def test_corrupt_pages_named(data, tmp_path):
    d = copy_dir(data, tmp_path / "corrupt")
    victim = sorted(d.glob("*_dataset.parquet"))[1]
    meta = pq.ParquetFile(victim).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    # Scramble the pages of a book column the index does not read: the error comes on iteration.
    column = meta.row_group(0).column(names.index("bid_sz_03"))
    start, size = column.data_page_offset, column.total_compressed_size
    with open(victim, "r+b") as f:
        f.seek(start + 16)
        f.write(bytes(np.random.default_rng(0).integers(0, 256, size - 32, dtype=np.uint8)))
    loader = make(d, symbols=[victim.name[len(CURRENCY) + 1 : -len("_dataset.parquet")]])
    with pytest.raises(tickforge.TickforgeError, match=victim.name):
        for _ in loader:
            pass


def test_dataset_removed_after_open_named(data, tmp_path):
    d = copy_dir(data, tmp_path / "gone")
    loader = make(d, seed=1)
    victim = sorted(d.glob("*_dataset.parquet"))[0]
    victim.unlink()
    with pytest.raises(tickforge.TickforgeError, match=victim.name):
        for _ in loader:
            pass


def test_not_a_labeled_dataset_named(data, tmp_path):
    d = copy_dir(data, tmp_path / "nolabel")
    victim = sorted(d.glob("*_dataset.parquet"))[0]
    pq.write_table(pq.read_table(victim).drop(["classification_label"]), victim)
    with pytest.raises(tickforge.TickforgeError, match="classification_label"):
        make(d)
    with pytest.raises(tickforge.TickforgeError, match=victim.name):
        make(d)


def test_bad_options(data):
    with pytest.raises(tickforge.TickforgeError, match="rank"):
        make(data.dir, rank=2, world_size=2)
    with pytest.raises(tickforge.TickforgeError, match="world_size must be >= 1, got 0"):
        make(data.dir, world_size=0)
    # No sample at all is an empty epoch, said so: an image window longer than every dataset.
    longest = max(s.n for s in data.sets.values())
    with pytest.warns(UserWarning, match="no samples: every epoch is empty"):
        empty = make(data.dir, time_bins=longest // TPB + 1)
    assert len(empty) == 0 and run(empty) == []
    with pytest.raises(tickforge.TickforgeError, match="colour"):
        make(data.dir, features="colour")
    with pytest.raises(tickforge.TickforgeError, match="fewer than one batch"):
        make(data.dir, batch_size=10**6)
    with pytest.raises(tickforge.TickforgeError):
        make(data.dir, sample_fraction=0)


# ---------------------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------------------


def test_cache_stats_show_hits(baseline):
    first = baseline["cache"]
    assert first["hits"] > 0 and first["misses"] > 0 and first["entries"] > 0
    assert 0 < first["bytes"] <= (1 << 30) and first["evictions"] == 0
    loader = baseline["loader"]
    run(loader, epoch=1, limit=20)
    later = loader.cache_stats()
    # Everything fits the default budget: a second pass is all hits.
    assert later["misses"] == first["misses"]
    assert later["hits"] >= first["hits"] + 20 * B
