"""Book windows (representation="snapshots", DESIGN.md §3.7) against numpy.

Datasets come from label run on synthetic MBP-10 books with mid-price labels. The reference
reads each dataset with pyarrow: the window of sample t is rows t-T+1..t, columns per level
ask_px, ask_sz, bid_px, bid_sz (prices fixed point / 1e9), z-scored per column with the mean
and population std of the symbol's rows before the training cut (undefined prices excluded,
written as 0). Windows are compared exactly against numpy using the stored statistics, and
the stored statistics against numpy's to 1e-9 relative.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import tickforge

LEVELS = 3
T = 20
B = 12
COLUMN = "label_deeplob_k10"
K = 10
INT64_MAX = (1 << 63) - 1


def window_columns(levels: int) -> list[str]:
    return [f"{side}_{kind}_{l:02d}" for l in range(levels) for side, kind in
            (("ask", "px"), ("ask", "sz"), ("bid", "px"), ("bid", "sz"))]


class Dataset:
    def __init__(self, path: Path, levels: int = LEVELS, column: str = COLUMN):
        table = pq.read_table(path)
        self.path = path
        self.symbol = path.name[len("AUDUSD_"):-len("_dataset.parquet")]
        self.ts = table["ts_event"].to_numpy().view(np.int64)
        raw = np.stack([table[c].to_numpy().astype(np.int64) for c in window_columns(levels)], axis=1)
        values = raw.astype(np.float64)
        for c in range(0, raw.shape[1], 2):  # prices
            undefined = raw[:, c] == INT64_MAX
            values[:, c] = np.where(undefined, np.nan, raw[:, c].astype(np.float64) / 1e9)
        self.values = values
        label = table[column].fill_null(255).to_numpy().astype(np.int16)
        label[label == 255] = -1
        self.label = label

    def stats(self, train_rows: int):
        part = self.values[:train_rows]
        with warnings.catch_warnings():  # columns of a level no row has are all NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(part, axis=0), np.nanstd(part, axis=0)

    def window(self, t: int, mean, std, zscore=True, rows=T) -> np.ndarray:
        x = self.values[t - rows + 1:t + 1]
        if zscore:
            x = (x - mean) / np.where(std > 0, std, 1.0)
        return np.where(np.isnan(x), 0.0, x).astype(np.float32)


def cut_rows(sets: dict, fractions=(0.7, 0.15, 0.15)):
    t_min = min(int(d.ts.min()) for d in sets.values())
    t_max = max(int(d.ts.max()) for d in sets.values())
    span = float(t_max) - float(t_min)
    cut1 = int(float(t_min) + fractions[0] * span)
    cut2 = int(float(t_min) + (fractions[0] + fractions[1]) * span)
    return {s: (int(np.searchsorted(d.ts, cut1)), int(np.searchsorted(d.ts, cut2))) for s, d in sets.items()}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("windows")
    books = tickforge.synth_dbn(root / "raw", symbols=2, days=3, rows_per_day=4000, seed=4)
    tickforge.label_run(books, root / "out", lookback_rows=50, lookforward_input=30, lookforward_offset=5,
                        jump_size=7, min_symbol_samples=100, nbins=5,
                        midprice_labels=["deeplob"], midprice_horizons=[K])
    return root / "out"


@pytest.fixture(scope="module")
def sets(datasets) -> dict:
    return {d.symbol: d for d in map(Dataset, sorted(datasets.glob("*_dataset.parquet")))}


def make(directory, **kwargs):
    kwargs.setdefault("representation", "snapshots")
    kwargs.setdefault("normalization", "zscore")
    kwargs.setdefault("window", T)
    kwargs.setdefault("levels", LEVELS)
    kwargs.setdefault("label_column", COLUMN)
    kwargs.setdefault("return_index", True)
    kwargs.setdefault("seed", 2)
    return tickforge.RepresentDataLoader(directory, B, **kwargs)


def batches(loader, epoch=0, limit=None):
    loader.set_epoch(epoch)
    out = []
    for features, labels, index in loader:
        out.append((features.numpy().copy(), labels.numpy().copy(),
                    list(zip(index["symbol"], [int(r) for r in index["row"]]))))
        if limit and len(out) == limit:
            break
    return out


def stored_stats(directory: Path, symbol: str):
    doc = json.loads((directory / "snapshot_stats.json").read_text())
    entry = doc[f"levels={LEVELS}"][symbol]
    return np.array(entry["mean"]), np.array(entry["std"]), entry["train_rows"]


def test_windows_equal_numpy(datasets, sets):
    loader = make(datasets, split="train")
    cuts = cut_rows(sets)
    got = batches(loader, limit=20)
    assert got and got[0][0].shape == (B, T, 4 * LEVELS) and got[0][0].dtype == np.float32
    checked = 0
    for symbol, d in sets.items():
        mean, std, train_rows = stored_stats(datasets, symbol)
        assert train_rows == cuts[symbol][0]
        ref_mean, ref_std = d.stats(train_rows)
        np.testing.assert_allclose(mean, ref_mean, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(std, ref_std, rtol=1e-9, atol=1e-9)
    for features, labels, samples in got:
        for i, (symbol, t) in enumerate(samples):
            d = sets[symbol]
            mean, std, _ = stored_stats(datasets, symbol)
            np.testing.assert_array_equal(features[i], d.window(t, mean, std))
            assert labels[i] == d.label[t] >= 0
            checked += 1
    assert checked == 20 * B


def test_no_normalization_and_channel_dim(datasets, sets):
    got = batches(make(datasets, normalization="none", channel_dim=True), limit=3)
    for features, _, samples in got:
        assert features.shape == (B, 1, T, 4 * LEVELS)
        for i, (symbol, t) in enumerate(samples):
            np.testing.assert_array_equal(features[i, 0], sets[symbol].window(t, None, None, zscore=False))


def test_samples_labels_and_class_layout(datasets, sets):
    loader = make(datasets, stride=3)
    assert loader.num_classes == 3
    expected = {}
    for symbol, d in sets.items():
        t = np.arange(T - 1, len(d.label), 3)
        t = t[d.label[t] >= 0]
        expected.update({(symbol, int(r)): int(d.label[r]) for r in t})
    assert loader._engine.num_samples == len(expected)
    for features, labels, samples in batches(loader):
        assert sorted(np.bincount(labels, minlength=3).tolist())[0] >= B // 3
        for s, label in zip(samples, labels):
            assert expected[s] == label


def test_splits_purge_window_and_horizon(datasets, sets):
    cuts = cut_rows(sets)
    rows = {}
    for split in ("train", "val", "test"):
        loader = make(datasets, split=split, stride=1)
        samples = [s for _, _, ss in batches(loader) for s in ss]
        assert samples, split
        rows[split] = samples
    for symbol in sets:
        train = [t for s, t in rows["train"] if s == symbol]
        val = [t for s, t in rows["val"] if s == symbol]
        test = [t for s, t in rows["test"] if s == symbol]
        r1, r2 = cuts[symbol]
        # No val window (t-T+1) or label (t-K+1..t+K) touches a training row, and no training
        # label looks past the cut.
        assert max(train) + K < r1 <= min(val) - T + 1
        assert min(val) - K + 1 >= r1
        assert max(val) + K < r2 <= min(test) - T + 1


def test_val_loader_reuses_the_stored_statistics(datasets, sets, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for d in sets.values():
        (copy / d.path.name).write_bytes(d.path.read_bytes())
    make(copy, split="train")
    doc = json.loads((copy / "snapshot_stats.json").read_text())
    symbol = sorted(sets)[0]
    doc[f"levels={LEVELS}"][symbol]["mean"] = [1.0] * (4 * LEVELS)
    (copy / "snapshot_stats.json").write_text(json.dumps(doc))
    got = batches(make(copy, split="val"), limit=2)
    _, std, _ = stored_stats(copy, symbol)
    seen = 0
    for features, _, samples in got:
        for i, (s, t) in enumerate(samples):
            if s == symbol:
                np.testing.assert_array_equal(features[i], sets[s].window(t, np.ones(4 * LEVELS), std))
                seen += 1
    assert seen > 0


def test_ranks_disjoint_and_resume(datasets):
    a, b = make(datasets, rank=0, world_size=2), make(datasets, rank=1, world_size=2)
    sa = {s for _, _, ss in batches(a) for s in ss}
    sb = {s for _, _, ss in batches(b) for s in ss}
    assert sa and sb and not sa & sb
    full = batches(make(datasets), epoch=1)
    loader = make(datasets)
    loader.set_epoch(1)
    it = iter(loader)
    for _ in range(3):
        next(it)
    state = loader.state_dict()
    resumed = make(datasets)
    resumed.load_state_dict(state)
    tail = []
    for features, labels, index in resumed:
        tail.append((features.numpy().copy(), list(zip(index["symbol"], [int(r) for r in index["row"]]))))
    assert len(tail) == len(full) - 3
    for (f1, s1), (f2, _, s2) in zip(tail, full[3:]):
        assert s1 == s2 and np.array_equal(f1, f2)


def test_small_cache_gives_the_same_windows(datasets):
    a = batches(make(datasets), limit=10)
    b = batches(make(datasets, cache_bytes=12 << 20, threads=1), limit=10)
    for (f1, l1, s1), (f2, l2, s2) in zip(a, b):
        assert s1 == s2 and np.array_equal(f1, f2)


@pytest.mark.parametrize("bad", [dict(representation="pictures"), dict(levels=11), dict(window=0),
                                 dict(normalization="minmax"), dict(label_column="label_deeplob_k99")])
def test_bad_options_raise(datasets, bad):
    with pytest.raises(Exception, match="representation|levels|window|normalization|label column"):
        make(datasets, **bad)


@pytest.mark.parametrize("venue", ["GLBX.MDP3", "NDEX.IMPACT"])
def test_real_books_windows(tmp_path, venue):
    """Databento's MBP-10 sample of a venue (four rows): every window against numpy."""
    from conftest import require_testdata

    files = [require_testdata("databento-python", venue, "test_data.mbp-10.dbn.zst")]
    tickforge.label_run(files, tmp_path, lookback_rows=1, lookforward_input=1, lookforward_offset=0, jump_size=1,
                        min_symbol_samples=0, nbins=2, fit_fraction=1.0, midprice_labels=["deeplob"],
                        midprice_horizons=[1])
    [path] = sorted(tmp_path.glob("*_dataset.parquet"))
    d = Dataset(path, levels=10, column="label_deeplob_k1")
    loader = tickforge.RepresentDataLoader(tmp_path, 2, representation="snapshots", window=2, levels=10, normalization="zscore",
                                           label_column="label_deeplob_k1", return_index=True,
                                           split_fractions=[0.9, 0.05, 0.05])
    entry = json.loads((tmp_path / "snapshot_stats.json").read_text())["levels=10"][d.symbol]
    ref_mean, ref_std = d.stats(entry["train_rows"])
    np.testing.assert_allclose(entry["mean"], np.nan_to_num(ref_mean), rtol=1e-12)
    np.testing.assert_allclose(entry["std"], np.nan_to_num(ref_std), rtol=1e-9, atol=1e-9)
    seen = 0
    for features, labels, index in loader:
        assert features.shape == (2, 2, 40)
        for i, t in enumerate(index["row"]):
            want = d.window(int(t), np.array(entry["mean"]), np.array(entry["std"]), rows=2)
            np.testing.assert_array_equal(features[i].numpy(), want)
            assert labels[i] == d.label[int(t)] >= 0
            seen += 1
    assert seen == 2


def test_rolling_five_day_statistics(tmp_path):
    """normalization="zscore_5d": each row z-scored with the previous 5 days' statistics (days
    with rows, by UTC day of ts_event); no window reaches into the first day."""
    books = tickforge.synth_dbn(tmp_path / "raw", symbols=1, days=8, rows_per_day=700, seed=8)
    out = tmp_path / "out"
    tickforge.label_run(books, out, lookback_rows=20, lookforward_input=10, lookforward_offset=0, jump_size=3,
                        min_symbol_samples=10, nbins=3, midprice_labels=["deeplob"], midprice_horizons=[K])
    [path] = sorted(out.glob("*_dataset.parquet"))
    d = Dataset(path)
    day = d.ts // 86_400_000_000_000
    days = np.unique(day)
    assert len(days) == 8
    first_rows = [int(np.searchsorted(day, x)) for x in days]
    loader = make(out, normalization="zscore_5d", stride=1)
    entry = json.loads((out / "snapshot_stats.json").read_text())[f"levels={LEVELS},rolling_days=5"][d.symbol]
    assert entry["day_first_row"] == first_rows
    for i in range(1, len(days)):
        past = d.values[first_rows[max(0, i - 5)]:first_rows[i]]
        np.testing.assert_allclose(entry["day_mean"][i], np.nanmean(past, axis=0), rtol=1e-9)
        np.testing.assert_allclose(entry["day_std"][i], np.nanstd(past, axis=0), rtol=1e-7, atol=1e-9)
    mean = [np.array(m) for m in entry["day_mean"]]
    std = [np.array(s) for s in entry["day_std"]]
    checked = 0
    rows = []
    for features, _, samples in batches(loader):
        for i, (_, t) in enumerate(samples):
            rows.append(t)
            if checked >= 300:
                continue
            want = np.empty((T, 4 * LEVELS), dtype=np.float32)
            for r in range(t - T + 1, t + 1):
                di = int(np.searchsorted(first_rows, r, "right")) - 1
                x = (d.values[r] - mean[di]) / np.where(std[di] > 0, std[di], 1.0)
                want[r - (t - T + 1)] = np.where(np.isnan(x), 0.0, x).astype(np.float32)
            np.testing.assert_array_equal(features[i], want)
            checked += 1
    assert checked == 300
    assert min(rows) - T + 1 >= first_rows[1]
