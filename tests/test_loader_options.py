"""The loader's options of DESIGN.md §3.8 (normalization, sampling, strictness) and report(),
against independent oracles.

Oracles:

* ``normalization="none"``: the combined cumulative grid recomputed in numpy from the book
  rows (the bin aggregates of test_features.py's reference, placed, cumulated and subtracted
  here), not scaled;
* ``normalization="zscore"``: the training statistics are numpy's mean and population std
  (float64) of the unscaled training images (every sample of the training split at stride
  ticks_per_bin, or samples floor(i·n/N) of them for normalization_samples=N), and each image
  of any split is float32((raw - mean) / std) of its unscaled image;
* ``sampling``: sample sets recomputed from the datasets' columns (test_loader.oracle), batch
  compositions counted here;
* ``strictness`` and report(): files damaged here, counts recomputed from the batches handed out.

The datasets are small (T=20 bins of 10 rows) so the file runs in well under a minute.
"""

from __future__ import annotations

import collections
import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tickforge  # noqa: E402
from test_features import LEVELS, ROWS, bin_cells, grid_row, micro_pip_unit, mid_micro_pips, read_book  # noqa: E402
from test_loader import (  # noqa: E402
    CURRENCY, FORWARD, LOOKBACK, NBINS, OFFSET, T, TPB, W, keys, oracle, read_data, record, run, samples_of,
)
from test_loader import make as make_loader  # noqa: E402

B = 16
FEATURES = ["volume", "trade_counts"]  # two planes: statistics are per plane


def make(directory, batch_size=B, features="volume", **kwargs):
    return make_loader(directory, batch_size, features, **kwargs)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    base = tmp_path_factory.mktemp("loader_options")
    tickforge.synth_dbn(base / "raw", symbols=3, days=2, rows_per_day=6_000, seed=11)
    tickforge.label_run(base / "raw", base / "out", lookback_rows=LOOKBACK, lookforward_input=FORWARD,
                        lookforward_offset=OFFSET, nbins=NBINS, min_symbol_samples=100)
    d = read_data(base / "out")
    assert len(d.sets) == 3
    return d


def fresh(data, tmp_path) -> Path:
    """A copy of the datasets (no statistics stored beside them yet)."""
    out = tmp_path / "datasets"
    shutil.copytree(data.dir, out, ignore=shutil.ignore_patterns("tickforge_zscore_*"))
    return out


_books: dict = {}


def reference_raw(path: Path, t: int, features) -> np.ndarray:
    """The unscaled combined cumulative grid (planes, 402, T) of the sample ending at row t."""
    if path not in _books:
        _books[path] = read_book(path)
    book = _books[path]
    unit = micro_pip_unit(1e-5)
    m = mid_micro_pips(book, t, unit)
    cells = bin_cells(book, t - W + 1, T, TPB, unit)
    ys = np.full((2, LEVELS, T), -1, dtype=np.int64)
    for idx in zip(*np.nonzero(cells["defined"])):
        y = grid_row(int(cells["P"][idx]), m)
        if y is not None:
            ys[idx] = y
    out = []
    for feature in [f for f in ("volume", "variance", "trade_counts") if f in features]:
        grids = np.zeros((2, ROWS, T), dtype=np.float32)
        for s in range(2):
            for level in range(LEVELS):
                k = np.nonzero(ys[s, level] >= 0)[0]
                grids[s, ys[s, level, k], k] = cells[feature][s, level, k]
        bid, ask = grids.astype(np.float64)
        out.append(np.cumsum(ask, axis=0) - np.cumsum(bid[::-1], axis=0)[::-1])
    return np.stack(out)


def batches(loader, epoch=0, limit=None):
    """(images as numpy, labels, [(symbol, row)]) of an epoch."""
    loader.set_epoch(epoch)
    out = []
    for features, labels, index in loader:
        out.append((features.numpy().copy(), labels.numpy().copy(),
                    list(zip(index["symbol"], map(int, index["row"])))))
        if limit is not None and len(out) == limit:
            break
    return out


def training_samples(data) -> list[tuple[str, int]]:
    """The samples zscore statistics are fit on: the training split at stride ticks_per_bin, in
    index order (symbol, then row)."""
    return sorted(oracle(data, stride=TPB, split="train"))


def raw_images(data, samples, features=FEATURES) -> np.ndarray:
    """The loader's own unscaled images of `samples` (a natural, unshuffled loader of batch 1
    over the training split serves them in index order)."""
    loader = make(data.dir, batch_size=1, features=features, normalization="none", sampling="natural",
                  shuffle=False, split="train", stride=TPB)
    wanted = set(samples)
    out = {}
    for images, _, index in batches(loader):
        if index[0] in wanted:
            out[index[0]] = images[0]
    assert len(out) == len(wanted)
    return np.stack([out[s] for s in samples])


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------


def test_defaults_and_bad_values(data):
    loader = make(data.dir)
    o = loader.options
    assert (o["normalization"], o["sampling"], o["strictness"]) == ("max_abs", "class_uniform", "strict")
    assert o["normalization_stats"] == "" and o["normalization_samples"] == 4096
    for key, value in [("normalization", "minmax"), ("sampling", "random"), ("strictness", "loose")]:
        with pytest.raises(tickforge.TickforgeError, match=key):
            make(data.dir, **{key: value})
    with pytest.raises(tickforge.TickforgeError, match="normalization_stats"):
        make(data.dir, normalization_stats="stats.json")  # only with zscore
    # JSON has no NaN or infinity: the key is named, not the parser's 'invalid literal'.
    with pytest.raises(ValueError, match=r"sample_fraction=nan: options must be finite numbers"):
        make(data.dir, sample_fraction=float("nan"))
    with pytest.raises(ValueError, match=r"split_fractions\[1\]=inf"):
        make(data.dir, split_fractions=[0.5, float("inf"), 0.1])


def test_config_file_keys(data, tmp_path):
    config = tmp_path / "loader.json"
    config.write_text(json.dumps({"normalization": "none", "sampling": "natural", "strictness": "lenient"}))
    loader = tickforge.RepresentDataLoader(data.dir, B, "volume", config=config, time_bins=T, ticks_per_bin=TPB)
    report = loader.report()
    assert (report["normalization"]["mode"], report["sampling"], report["strictness"]) == \
        ("none", "natural", "lenient")


# ---------------------------------------------------------------------------------------------
# Normalization
# ---------------------------------------------------------------------------------------------


def test_none_is_the_unscaled_grid(data):
    raw = make(data.dir, batch_size=B, features=FEATURES, normalization="none", seed=2, return_index=True)
    scaled = make(data.dir, batch_size=B, features=FEATURES, seed=2, return_index=True)
    checked = 0
    for (images, _, samples), (unit_images, _, same) in zip(batches(raw, limit=3), batches(scaled, limit=3)):
        assert samples == same  # normalization does not change the plan
        assert np.abs(images).max() > 1.5  # really unscaled
        for i in range(4):
            symbol, row = samples[i]
            ref = reference_raw(data.path(symbol), row, FEATURES)
            np.testing.assert_allclose(images[i], ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())
            peak = np.abs(images[i]).reshape(len(FEATURES), -1).max(axis=1)
            expected = images[i] / np.where(peak > 0, peak, 1)[:, None, None]
            np.testing.assert_allclose(unit_images[i], expected, rtol=1e-6, atol=1e-7)
            checked += 1
    assert checked == 12


def zscore_stats(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    planes = images.astype(np.float64).transpose(1, 0, 2, 3).reshape(images.shape[1], -1)
    return planes.mean(axis=1), planes.std(axis=1)


def test_zscore_training_statistics_equal_numpys(data, tmp_path):
    d = fresh(data, tmp_path)
    loader = make(d, batch_size=B, features=FEATURES, normalization="zscore", split="train", seed=1)
    norm = loader.report()["normalization"]
    samples = training_samples(data)
    assert norm["fitted"] and norm["samples"] == len(samples) < 4096
    mean, std = zscore_stats(raw_images(data, samples))
    assert [p["feature"] for p in norm["planes"]] == ["volume", "trade_counts"]
    np.testing.assert_allclose([p["mean"] for p in norm["planes"]], mean, rtol=1e-9)
    np.testing.assert_allclose([p["std"] for p in norm["planes"]], std, rtol=1e-9)
    # Stored beside the datasets, as JSON, and found again by the next training loader.
    path = Path(norm["stats_path"])
    assert path.parent == d and path.name.startswith("tickforge_zscore_")
    stored = json.loads(path.read_text())
    assert [p["mean"] for p in stored["planes"]] == [p["mean"] for p in norm["planes"]]
    again = make(d, batch_size=B, features=FEATURES, normalization="zscore", split="train", seed=4)
    assert not again.report()["normalization"]["fitted"]
    # The training images themselves are (raw - mean) / std.
    raw = make(d, batch_size=B, features=FEATURES, normalization="none", split="train", seed=1)
    for (z, _, samples), (r, _, same) in zip(batches(loader, limit=2), batches(raw, limit=2)):
        assert samples == same
        expected = ((r.astype(np.float64) - mean[None, :, None, None]) / std[None, :, None, None]).astype(np.float32)
        np.testing.assert_array_equal(z, expected)


def test_zscore_subsample(data, tmp_path):
    d = fresh(data, tmp_path)
    loader = make(d, features=FEATURES, normalization="zscore", split="train", normalization_samples=7)
    norm = loader.report()["normalization"]
    samples = training_samples(data)
    n = len(samples)
    chosen = [samples[i * n // 7] for i in range(7)]
    mean, std = zscore_stats(raw_images(data, chosen))
    assert norm["samples"] == 7
    np.testing.assert_allclose([p["mean"] for p in norm["planes"]], mean, rtol=1e-9)
    np.testing.assert_allclose([p["std"] for p in norm["planes"]], std, rtol=1e-9)


def test_zscore_validation_reuses_the_training_statistics(data, tmp_path):
    d = fresh(data, tmp_path)
    with pytest.raises(tickforge.TickforgeError, match="split='train'.*normalization_stats"):
        make(d, features=FEATURES, normalization="zscore", split="val")
    train = make(d, features=FEATURES, normalization="zscore", split="train")
    stats = train.report()["normalization"]
    mean = np.array([p["mean"] for p in stats["planes"]])
    std = np.array([p["std"] for p in stats["planes"]])
    for split in ("val", "test"):
        z = make(d, features=FEATURES, normalization="zscore", split=split, seed=3)
        got = z.report()["normalization"]
        assert not got["fitted"] and got["stats_path"] == stats["stats_path"]
        raw = make(d, features=FEATURES, normalization="none", split=split, seed=3)
        for (zi, _, samples), (ri, _, same) in zip(batches(z, limit=2), batches(raw, limit=2)):
            assert samples == same
            expected = ((ri.astype(np.float64) - mean[None, :, None, None]) / std[None, :, None, None])
            np.testing.assert_array_equal(zi, expected.astype(np.float32))
    # An explicit file is used as given, wherever it lies.
    moved = tmp_path / "elsewhere.json"
    shutil.move(stats["stats_path"], moved)
    with pytest.raises(tickforge.TickforgeError, match="no training statistics"):
        make(d, features=FEATURES, normalization="zscore", split="val")
    explicit = make(d, features=FEATURES, normalization="zscore", split="val", normalization_stats=moved)
    assert explicit.report()["normalization"]["planes"] == stats["planes"]
    # Statistics of other features are refused, naming the file.
    with pytest.raises(tickforge.TickforgeError, match="elsewhere.json"):
        make(d, features="volume", normalization="zscore", split="val", normalization_stats=moved)


def test_zscore_ranks_share_the_statistics(data, tmp_path):
    d = fresh(data, tmp_path)
    planes = []
    for rank in range(2):
        # Each rank fits on every rank's training samples: fit twice, identical.
        for stale in d.glob("tickforge_zscore_*"):
            stale.unlink()
        loader = make(d, features=FEATURES, normalization="zscore", split="train", rank=rank, world_size=2)
        planes.append(loader.report()["normalization"]["planes"])
    assert planes[0] == planes[1]


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("world_size", [1, 3])
def test_natural_each_sample_once_over_ranks(data, world_size):
    everything = oracle(data, split="train")
    loaders = [make(data.dir, sampling="natural", split="train", seed=8, rank=r, world_size=world_size)
               for r in range(world_size)]
    assert {len(l) for l in loaders} == {len(everything) // (B * world_size)}
    for epoch in (0, 1):
        seen = []
        for loader in loaders:
            recs = run(loader, epoch=epoch)
            assert len(recs) == len(loader)
            for r in recs:
                for sample, label in zip(r.samples, r.labels):
                    assert everything[sample] == label
            got = [s for r in recs for s in r.samples]
            assert len(got) == len(set(got)), "a sample twice on one rank"
            seen.append(set(got))
        for a, b in itertools.combinations(range(world_size), 2):
            assert not seen[a] & seen[b]
        union = set().union(*seen)
        # Every sample once, but the last partial round of B · world_size, which waits.
        assert union <= set(everything)
        assert len(union) == len(everything) - len(everything) % (B * world_size)
    # The order is seeded by (seed, epoch): the same again, another for another epoch or seed.
    first = keys(run(make(data.dir, sampling="natural", split="train", seed=8), epoch=0, limit=3))
    assert first == keys(run(make(data.dir, sampling="natural", split="train", seed=8), epoch=0, limit=3))
    assert first != keys(run(make(data.dir, sampling="natural", split="train", seed=8), epoch=1, limit=3))
    assert first != keys(run(make(data.dir, sampling="natural", split="train", seed=9), epoch=0, limit=3))


def test_natural_keeps_the_natural_class_shares(data):
    everything = oracle(data)
    loader = make(data.dir, sampling="natural", seed=1)
    recs = run(loader)
    counts = collections.Counter(label for r in recs for label in r.labels)
    expected = collections.Counter(everything.values())
    # All but fewer than B samples of each class are served, once.
    for c, n in expected.items():
        assert n - B < counts[c] <= n


def symbol_sets(everything) -> dict[int, set[str]]:
    out = collections.defaultdict(set)
    for (symbol, _), label in everything.items():
        out[label].add(symbol)
    return out


@pytest.mark.parametrize("batch_size", [B, 23])
def test_class_symbol_uniform_balances_symbols_within_classes(data, batch_size):
    everything = oracle(data)
    by_class = symbol_sets(everything)
    classes = sorted(by_class)
    loader = make(data.dir, batch_size=batch_size, sampling="class_symbol_uniform", seed=4)
    recs = run(loader)
    assert len(recs) == len(everything) // batch_size
    extra_to = collections.Counter()
    base, more = divmod(batch_size, len(classes))
    for r in recs:
        per_class = collections.Counter(r.labels)
        assert sorted(per_class[c] for c in classes) == [base] * (len(classes) - more) + [base + 1] * more
        for c in classes:
            symbols = collections.Counter(s for (s, _), label in zip(r.samples, r.labels) if label == c)
            assert set(symbols) <= by_class[c]
            counts = [symbols.get(s, 0) for s in sorted(by_class[c])]
            assert max(counts) - min(counts) <= 1, (c, counts)
            if max(counts) > min(counts):
                extra_to.update(s for s in by_class[c] if symbols.get(s, 0) == max(counts))
        for sample, label in zip(r.samples, r.labels):
            assert everything[sample] == label
    # The remainder is spread by the seeded generator: every symbol gets it sometimes.
    assert set(extra_to) == set(data.sets)
    # Reproducible from (seed, epoch); another epoch differs.
    again = make(data.dir, batch_size=batch_size, sampling="class_symbol_uniform", seed=4)
    assert keys(run(again, epoch=0, limit=4)) == keys(recs[:4])
    assert keys(run(again, epoch=1, limit=4)) != keys(recs[:4])


def test_class_symbol_uniform_resumes_mid_epoch(data):
    full = run(make(data.dir, sampling="class_symbol_uniform", seed=6), epoch=1)
    loader = make(data.dir, sampling="class_symbol_uniform", seed=6)
    loader.set_epoch(1)
    it = iter(loader)
    head = [record(next(it)) for _ in range(5)]
    state = loader.state_dict()
    resumed = make(data.dir, sampling="class_symbol_uniform", seed=6)
    resumed.load_state_dict(state)
    assert keys(head) + keys(run(resumed)) == keys(full)


def test_natural_resumes_mid_epoch_on_each_rank(data):
    for rank in range(2):
        options = dict(sampling="natural", seed=3, rank=rank, world_size=2)
        full = run(make(data.dir, **options), epoch=2)
        loader = make(data.dir, **options)
        loader.set_epoch(2)
        it = iter(loader)
        head = [record(next(it)) for _ in range(4)]
        resumed = make(data.dir, **options)
        resumed.load_state_dict(loader.state_dict())
        assert keys(head) + keys(run(resumed)) == keys(full)


def test_class_symbol_uniform_shards_disjoint(data):
    loaders = [make(data.dir, sampling="class_symbol_uniform", seed=2, rank=r, world_size=2) for r in range(2)]
    assert len(loaders[0]) == len(loaders[1])
    a, b = (samples_of(run(l)) for l in loaders)
    assert not a & b


# ---------------------------------------------------------------------------------------------
# Strictness
# ---------------------------------------------------------------------------------------------


def test_lenient_skips_and_reports_bad_datasets(data, tmp_path):
    d = fresh(data, tmp_path)
    victims = sorted(d.glob("*_dataset.parquet"))
    truncated = victims[1]
    with open(truncated, "r+b") as f:
        f.truncate(truncated.stat().st_size // 2)
    junk = d / f"{CURRENCY}_JUNK_dataset.parquet"
    junk.write_bytes(b"PAR1 not really")
    with pytest.raises(tickforge.TickforgeError, match=r"AUDUSD_JUNK_dataset\.parquet|" + truncated.name):
        make(d)
    loader = make(d, strictness="lenient", seed=1)
    report = loader.report()
    assert sorted(Path(s["path"]).name for s in report["skipped"]) == sorted([truncated.name, junk.name])
    for s in report["skipped"]:
        assert Path(s["path"]).name in s["reason"]
    kept = [p.name[len(CURRENCY) + 1: -len("_dataset.parquet")] for p in victims if p != truncated]
    assert loader.symbols == kept
    # The others serve exactly the samples they serve alone (cut points from their own times).
    served = samples_of(run(loader))
    alone = oracle(data, symbols=kept)
    assert served <= set(alone) and report["samples"] == len(alone)
    assert set(report["samples_per_symbol"]) == set(kept)
    # With every dataset bad, lenient has nothing to go on: an error listing them.
    for p in d.glob("*_dataset.parquet"):
        p.write_bytes(b"junk")
    with pytest.raises(tickforge.TickforgeError, match="every dataset was skipped"):
        make(d, strictness="lenient")


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sampling", ["class_uniform", "natural", "class_symbol_uniform"])
def test_report_counts_what_was_served(data, sampling):
    everything = oracle(data)
    loader = make(data.dir, sampling=sampling, seed=5)
    recs = {0: run(loader, epoch=0), 1: run(loader, epoch=1, limit=3)}
    report = loader.report()
    per_symbol = collections.Counter(s for s, _ in everything)
    assert report["samples"] == len(everything)
    assert report["samples_per_symbol"] == dict(per_symbol)
    classes = collections.Counter(everything.values())
    assert report["samples_per_class"] == [classes.get(c, 0) for c in range(NBINS)]
    assert [e["epoch"] for e in report["epochs"]] == [0, 1]
    for entry in report["epochs"]:
        got = recs[entry["epoch"]]
        assert entry["batches"] == len(got) and entry["samples"] == len(got) * B
        served = collections.Counter(label for r in got for label in r.labels)
        assert entry["class_actual"] == [served.get(c, 0) for c in range(NBINS)]
        symbols = collections.Counter(s for r in got for s, _ in r.samples)
        assert entry["samples_per_symbol"] == {s: symbols.get(s, 0) for s in sorted(data.sets)}
        if sampling == "natural":
            share = np.array([classes.get(c, 0) for c in range(NBINS)]) / len(everything)
        else:
            share = np.array([1 / len(classes) if c in classes else 0 for c in range(NBINS)])
        np.testing.assert_allclose(entry["class_target"], share * entry["samples"], rtol=1e-12)
        if sampling != "natural":  # each batch is within one of its class's share
            assert np.all(np.abs(np.array(entry["class_actual"]) - entry["class_target"]) <= entry["batches"])
    cache = report["cache"]
    assert cache == loader.cache_stats() and cache["misses"] > 0
    assert report["skipped"] == []


# ---------------------------------------------------------------------------------------------
# Stride 1 with shuffle='local': per-phase aggregates
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("features", ["volume", ["variance", "trade_counts"]])
def test_local_shuffle_off_grid_equals_render(data, features):
    from test_loader import render

    loader = make(data.dir, features=features, stride=1, shuffle="local", seed=2)
    compared = 0
    for images, _, samples in batches(loader, limit=12):
        for i in range(3):
            symbol, row = samples[i]
            np.testing.assert_array_equal(images[i], render(data, symbol, row, features), err_msg=f"{symbol} {row}")
            compared += 1
    assert compared == 36
    # Windows of one phase share aggregates: most lookups hit.
    stats = loader.cache_stats()
    assert stats["hits"] > stats["misses"]
