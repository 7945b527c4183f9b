"""Depth images (DESIGN.md §3.4) against an independent numpy reference implementation.

The reference below follows §3.4 literally, plus the choices the engine documents where the
design is silent:

* a level whose price is INT64_MAX in a row is left out of that bin's aggregates for that
  side/level (price mean, size median/variance, count sum); a cell with no defined rows is
  dropped;
* micro-pip price p = price/unit rounded half away from zero, unit = round(micro_pip_size·1e9),
  all in integers; P = floor(Σp / count) with exact integer floor division;
* m = trunc((ask_px_00 + bid_px_00) / 2 / unit) toward zero at row t, in integers;
* volume = median of sizes (mean of the two middle values for even counts); variance = sample
  variance (ddof 1), 0 with fewer than 2 values; trade_counts = sum of counts; each cell is a
  float32, the cumulation is float64;
* y = (m-1) - P for m-200 ≤ P ≤ m-1, y = 202 + (P - (m+1)) for m+1 ≤ P ≤ m+200, else dropped
  (P == m too: rows 200 and 201 stay empty); the deeper level wins a shared cell;
* ask grid cumulated over y ascending, bid grid over y descending, combined = ask - bid,
  scaled per feature plane by max |combined| (0 when that is 0);
* the sample ending at row t uses rows t-W+1..t; bin k (column k, k = 0 oldest) covers rows
  t-W+1+k·tpb .. t-W+(k+1)·tpb; planes stack as volume, variance, trade_counts whatever the
  order requested; one feature gives (402, T), several (N, 402, T).

Datasets are written with pyarrow (hand-made books with every edge case, random books, a book
long enough for the default T=500, ticks_per_bin=100) or come from ``tickforge.synth_dbn`` +
``tickforge.label_run``.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tickforge

INT64_MAX = (1 << 63) - 1
LEVELS = 10
ROWS = 402
HALF = 200
FEATURE_ORDER = ("volume", "variance", "trade_counts")
SIDES = ("bid", "ask")
FIELDS = ("px", "sz", "ct")


def col(side: str, field: str, level: int) -> str:
    return f"{side}_{field}_{level:02d}"


BOOK_COLUMNS = [col(s, f, l) for l in range(LEVELS) for s in SIDES for f in FIELDS]


def assert_close(got, ref):
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Reference implementation
# ---------------------------------------------------------------------------------------------


def micro_pip_unit(micro_pip_size: float) -> int:
    return int(round(micro_pip_size * 1e9))


def round_half_away_int(x: int, unit: int) -> int:
    """x / unit rounded half away from zero, on Python integers."""
    q, r = divmod(abs(x), unit)
    if 2 * r >= unit:
        q += 1
    return -q if x < 0 else q


def round_half_away(px: np.ndarray, unit: int) -> np.ndarray:
    """Vectorised round_half_away_int for int64 prices (not INT64_MAX)."""
    a = np.abs(px.astype(np.int64))
    q, r = np.divmod(a, np.int64(unit))
    q = q + (2 * r >= unit).astype(np.int64)
    return np.where(px < 0, -q, q)


def trunc_div(a: int, b: int) -> int:
    """a / b truncated toward zero (b > 0), on Python integers."""
    q = abs(a) // b
    return -q if a < 0 else q


def mid_micro_pips(book: dict, t: int, unit: int) -> int:
    s = int(book[col("ask", "px", 0)][t]) + int(book[col("bid", "px", 0)][t])
    return trunc_div(s, 2 * unit)


def grid_row(P: int, m: int) -> int | None:
    if m - HALF <= P <= m - 1:
        return (m - 1) - P
    if m + 1 <= P <= m + HALF:
        return HALF + 2 + (P - (m + 1))
    return None


def bin_cells(book: dict, first: int, T: int, tpb: int, unit: int) -> dict:
    """Per side, level and bin (arrays of shape (2, LEVELS, T), sides bid then ask):
    ``defined`` (some row defines the level), ``P`` (floor of the mean micro-pip price) and the
    three float32 feature values (0 where not defined)."""
    shape = (2, LEVELS, T)
    out = {"defined": np.zeros(shape, dtype=bool), "P": np.zeros(shape, dtype=np.int64)}
    for f in FEATURE_ORDER:
        out[f] = np.zeros(shape, dtype=np.float32)
    rows = slice(first, first + T * tpb)
    for s, side in enumerate(SIDES):
        for level in range(LEVELS):
            px = np.asarray(book[col(side, "px", level)][rows]).reshape(T, tpb)
            sz = np.asarray(book[col(side, "sz", level)][rows]).reshape(T, tpb).astype(np.float64)
            ct = np.asarray(book[col(side, "ct", level)][rows]).reshape(T, tpb).astype(np.float64)
            defined = px != INT64_MAX
            n = defined.sum(axis=1)
            has = n > 0
            p = np.where(defined, round_half_away(np.where(defined, px, 0), unit), 0)
            out["defined"][s, level] = has
            out["P"][s, level] = np.where(has, p.sum(axis=1) // np.maximum(n, 1), 0)  # floor
            sizes = np.where(defined, sz, np.nan)[has]
            volume = np.zeros(T)
            variance = np.zeros(T)
            if sizes.size:
                volume[has] = np.nanmedian(sizes, axis=1)
                many = n[has] >= 2
                var = np.zeros(len(sizes))
                if many.any():
                    var[many] = np.nanvar(sizes[many], axis=1, ddof=1)
                variance[has] = var
            out["volume"][s, level] = volume.astype(np.float32)
            out["variance"][s, level] = variance.astype(np.float32)
            out["trade_counts"][s, level] = np.where(defined, ct, 0).sum(axis=1).astype(np.float32)
    return out


def reference_image(book: dict, t: int, *, features="volume", time_bins=500, ticks_per_bin=100,
                    micro_pip_size=1e-5) -> np.ndarray:
    names = [features] if isinstance(features, str) else list(features)
    planes = [f for f in FEATURE_ORDER if f in names]
    T, tpb = time_bins, ticks_per_bin
    W = T * tpb
    first = t - W + 1
    assert first >= 0
    unit = micro_pip_unit(micro_pip_size)
    m = mid_micro_pips(book, t, unit)
    cells = bin_cells(book, first, T, tpb, unit)
    # Grid row of every (side, level, bin), -1 when dropped; computed on Python integers.
    ys = np.full((2, LEVELS, T), -1, dtype=np.int64)
    for idx in zip(*np.nonzero(cells["defined"])):
        y = grid_row(int(cells["P"][idx]), m)
        if y is not None:
            ys[idx] = y
    out = []
    for feature in planes:
        grids = np.zeros((2, ROWS, T), dtype=np.float32)
        for s in range(2):
            for level in range(LEVELS):  # deeper levels come later and win a shared cell
                k = np.nonzero(ys[s, level] >= 0)[0]
                grids[s, ys[s, level, k], k] = cells[feature][s, level, k]
        bid, ask = grids.astype(np.float64)
        ask_cum = np.cumsum(ask, axis=0)
        bid_cum = np.cumsum(bid[::-1], axis=0)[::-1]
        combined = ask_cum - bid_cum
        peak = np.abs(combined).max()
        plane = combined / peak if peak > 0 else np.zeros_like(combined)
        out.append(plane.astype(np.float32))
    return out[0] if len(out) == 1 else np.stack(out)


# ---------------------------------------------------------------------------------------------
# Books and datasets
# ---------------------------------------------------------------------------------------------


def empty_book(n: int) -> dict:
    book = {}
    for name in BOOK_COLUMNS:
        if "_px_" in name:
            book[name] = np.full(n, INT64_MAX, dtype=np.int64)
        else:
            book[name] = np.zeros(n, dtype=np.uint32)
    return book


def default_ts(n: int) -> np.ndarray:
    return 1_700_000_000_000_000_000 + np.arange(n, dtype=np.int64) * 1_000


def write_book(path: Path, book: dict, *, ts=None, row_group_size=None, drop=(), retype=None,
               extra=True) -> Path:
    n = len(book[col("bid", "px", 0)])
    ts = default_ts(n) if ts is None else np.asarray(ts, dtype=np.int64)
    arrays, names = [], []
    arrays.append(pa.array(ts, type=pa.int64()).cast(pa.timestamp("ns", tz="UTC")))
    names.append("ts_event")
    if extra:
        arrays.append(pa.array(np.arange(n, dtype=np.uint32)))
        names.append("sequence")
    for name in BOOK_COLUMNS:
        if name in drop:
            continue
        values = book[name]
        if retype and name in retype:
            arrays.append(pa.array(values.astype(retype[name].to_pandas_dtype()), type=retype[name]))
        elif "_px_" in name:
            arrays.append(pa.array(values.astype(np.int64), type=pa.int64()))
        else:
            arrays.append(pa.array(values.astype(np.uint32), type=pa.uint32()))
        names.append(name)
    if extra:
        arrays.append(pa.array(["SYM"] * n, type=pa.string()))
        names.append("symbol")
    table = pa.Table.from_arrays(arrays, names=names)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def read_book(path: Path) -> dict:
    table = pq.read_table(path, columns=BOOK_COLUMNS)
    return {name: table.column(name).to_numpy() for name in BOOK_COLUMNS}


def random_book(n: int, rng: np.random.Generator, *, unit: int = 10_000, base: int = 1_000_000_000,
                empty_p: float = 0.05, tie_p: float = 0.05, jump_p: float = 0.01,
                step_p: float = 1.0, negative: bool = False) -> dict:
    """A random book: a mid random walk (with jumps, so levels leave the ±200 range), prices
    that are not multiples of the micro-pip (rounding and floor of means matter), random empty
    levels, levels sharing a price, sizes and counts with garbage under empty levels."""
    tick = unit * int(rng.integers(1, 8))
    steps = rng.integers(-2, 3, size=n) * tick * (rng.random(n) < step_p)
    jumps = (rng.random(n) < jump_p) * rng.integers(-300, 301, size=n) * unit
    mid = base + np.cumsum(steps + jumps)
    if negative:
        mid = -mid
    spread = rng.integers(1, 4, size=n) * tick
    book = {}
    for side, sign in (("bid", -1), ("ask", 1)):
        prev = None
        for level in range(LEVELS):
            gap = rng.integers(0, 3 * unit, size=n)  # sub-micro-pip noise included
            offset = spread // 2 + level * tick + gap + (rng.integers(0, 40, size=n) * unit
                                                        * (rng.random(n) < 0.1))
            px = (mid + sign * offset).astype(np.int64)
            if prev is not None:
                tie = rng.random(n) < tie_p
                px = np.where(tie, prev, px)
            prev = px
            empty = rng.random(n) < empty_p
            if level == 0:
                empty[:] = False
            px = np.where(empty, INT64_MAX, px)
            sz = rng.integers(0, 1000, size=n).astype(np.uint32)
            ct = rng.integers(0, 30, size=n).astype(np.uint32)
            sz = np.where(empty, rng.integers(100_000, 1_000_000, size=n), sz).astype(np.uint32)
            ct = np.where(empty, rng.integers(10_000, 100_000, size=n), ct).astype(np.uint32)
            book[col(side, "px", level)] = px
            book[col(side, "sz", level)] = sz
            book[col(side, "ct", level)] = ct
    return book


def render(path, **kwargs):
    got = tickforge.render(path, **kwargs)
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.float32
    assert np.isfinite(got).all()
    return got


def check(path: Path, book: dict, t: int, **kwargs) -> np.ndarray:
    """Render row t with the engine and the reference; compare; return the engine's image."""
    got = render(path, row=t, **kwargs)
    ref = reference_image(book, t, **kwargs)
    assert got.shape == ref.shape
    assert_close(got, ref)
    return got


ALL = list(FEATURE_ORDER)


# ---------------------------------------------------------------------------------------------
# The reference itself, on hand-computed values
# ---------------------------------------------------------------------------------------------


def test_reference_helpers():
    assert [round_half_away_int(x, 10_000) for x in (1_005_000, 1_004_999, -1_005_000, -1_004_999,
                                                    -1_005_001, 0, 5_000, -5_000, 4_999, -4_999)] \
        == [101, 100, -101, -100, -101, 0, 1, -1, 0, 0]
    xs = np.array([1_005_000, 1_004_999, -1_005_000, -1_004_999, -1_005_001, 0, 5_000, -5_000])
    assert round_half_away(xs, 10_000).tolist() == [round_half_away_int(int(x), 10_000) for x in xs]
    assert trunc_div(-2_015_000, 20_000) == -100 and trunc_div(2_015_000, 20_000) == 100
    assert grid_row(99, 100) == 0 and grid_row(-100, 100) == 199 and grid_row(-101, 100) is None
    assert grid_row(101, 100) == 202 and grid_row(300, 100) == 401 and grid_row(301, 100) is None
    assert grid_row(100, 100) is None


def single_row_book() -> dict:
    book = empty_book(1)
    book[col("bid", "px", 0)][0] = 1_000_000_000  # 1.00000 -> 100000 micro-pips
    book[col("ask", "px", 0)][0] = 1_000_020_000  # 1.00002 -> 100002, m = 100001
    book[col("bid", "sz", 0)][0] = 3
    book[col("ask", "sz", 0)][0] = 5
    book[col("bid", "ct", 0)][0] = 4
    book[col("ask", "ct", 0)][0] = 2
    return book


def test_hand_computed_single_row(tmp_path):
    book = single_row_book()
    path = write_book(tmp_path / "one.parquet", book)
    expected = np.zeros((ROWS, 1), dtype=np.float32)
    expected[0, 0] = -3 / 5  # bid at y = (m-1) - P = 0, cumulated downwards from y = 0
    expected[202:, 0] = 1.0  # ask at y = 202 + P - (m+1) = 202, cumulated upwards
    assert_close(reference_image(book, 0, time_bins=1, ticks_per_bin=1), expected)
    got = check(path, book, 0, time_bins=1, ticks_per_bin=1)
    assert got.shape == (ROWS, 1)
    assert_close(got, expected)

    counts = np.zeros((ROWS, 1), dtype=np.float32)
    counts[0, 0] = -1.0  # bid 4 vs ask 2
    counts[202:, 0] = 0.5
    both = check(path, book, 0, time_bins=1, ticks_per_bin=1, features=["trade_counts", "volume"])
    assert both.shape == (2, ROWS, 1)
    assert_close(both[0], expected)
    assert_close(both[1], counts)
    # One row: the variance of every cell is 0, so the plane is 0 (no NaN).
    var = check(path, book, 0, time_bins=1, ticks_per_bin=1, features="variance")
    assert (var == 0).all()


@pytest.mark.parametrize("sizes,median", [([1, 2, 7, 100], 4.5), ([9, 1, 100, 2, 7], 7.0),
                                          ([5, 6], 5.5), ([8], 8.0), ([1, 2, 7, 100, 4, 4], 4.0)])
def test_hand_computed_median_and_variance(tmp_path, sizes, median):
    n = len(sizes)
    book = empty_book(n)
    book[col("bid", "px", 0)][:] = 1_000_000_000
    book[col("ask", "px", 0)][:] = 1_000_020_000
    book[col("bid", "sz", 0)][:] = sizes
    book[col("ask", "sz", 0)][:] = 1000  # constant: volume 1000, variance 0
    book[col("bid", "ct", 0)][:] = np.arange(n) + 1
    path = write_book(tmp_path / "mv.parquet", book)
    got = check(path, book, n - 1, time_bins=1, ticks_per_bin=n, features=ALL)
    assert got.shape == (3, ROWS, 1)
    vol, var, cnt = got
    assert vol[0, 0] == pytest.approx(-median / 1000, rel=1e-6)
    assert (vol[1:200, 0] == 0).all() and (vol[202:, 0] == 1).all()
    if n >= 2:
        assert var[0, 0] == -1.0 and (var[1:, 0] == 0).all()  # only the bid cell has variance
    else:
        assert (var == 0).all()
    assert cnt[0, 0] == -1.0 and (cnt[1:, 0] == 0).all()  # asks have no trades


# ---------------------------------------------------------------------------------------------
# Random books, small shapes
# ---------------------------------------------------------------------------------------------

SHAPES = [(7, 5), (20, 3), (1, 1), (3, 4), (1, 6), (5, 1)]
MICRO_PIPS = [1e-5, 1e-4, 5e-6]


@pytest.mark.parametrize("micro_pip_size", MICRO_PIPS)
@pytest.mark.parametrize("shape", SHAPES, ids=[f"T{t}-tpb{b}" for t, b in SHAPES])
def test_random_book_small_shapes(tmp_path, shape, micro_pip_size):
    T, tpb = shape
    W = T * tpb
    rng = np.random.default_rng(1000 * T + tpb)
    n = W + 37
    unit = micro_pip_unit(micro_pip_size)
    book = random_book(n, rng, unit=unit)
    path = write_book(tmp_path / "rb.parquet", book, row_group_size=11)
    rows = sorted({W - 1, W, n // 2 + W // 2, n - 2, n - 1} & set(range(W - 1, n)))
    for t in rows:
        kw = dict(time_bins=T, ticks_per_bin=tpb, micro_pip_size=micro_pip_size)
        one = check(path, book, t, features="volume", **kw)
        assert one.shape == (ROWS, T)
        many = check(path, book, t, features=ALL, **kw)
        assert many.shape == (3, ROWS, T)
        assert_close(many[0], one)


@pytest.mark.parametrize("row_group_size", [None, 1, 4, 13, 64])
def test_row_groups_do_not_matter(tmp_path, row_group_size):
    T, tpb = 6, 4
    rng = np.random.default_rng(7)
    book = random_book(100, rng)
    path = write_book(tmp_path / "rg.parquet", book, row_group_size=row_group_size)
    for t in (23, 24, 50, 63, 64, 99):
        check(path, book, t, features=ALL, time_bins=T, ticks_per_bin=tpb)


def test_negative_prices_random(tmp_path):
    rng = np.random.default_rng(99)
    book = random_book(80, rng, negative=True, base=5_000_000)
    path = write_book(tmp_path / "neg.parquet", book, row_group_size=9)
    for t in (19, 40, 79):
        check(path, book, t, features=ALL, time_bins=5, ticks_per_bin=4)
        check(path, book, t, features=ALL, time_bins=20, ticks_per_bin=1, micro_pip_size=1e-6)


def test_prices_near_zero_random(tmp_path):
    """Mids around zero: prices of both signs in one window."""
    rng = np.random.default_rng(5)
    book = random_book(60, rng, base=0)
    path = write_book(tmp_path / "zero.parquet", book)
    for t in (14, 30, 59):
        check(path, book, t, features=ALL, time_bins=5, ticks_per_bin=3)


# ---------------------------------------------------------------------------------------------
# Hand-made edge cases
# ---------------------------------------------------------------------------------------------


def two_level_book(n: int, bid0: int = 1_000_000_000, ask0: int = 1_000_020_000) -> dict:
    book = empty_book(n)
    book[col("bid", "px", 0)][:] = bid0
    book[col("ask", "px", 0)][:] = ask0
    book[col("bid", "sz", 0)][:] = 10
    book[col("ask", "sz", 0)][:] = 10
    book[col("bid", "ct", 0)][:] = 1
    book[col("ask", "ct", 0)][:] = 1
    return book


def test_levels_outside_range_dropped(tmp_path):
    # m = 100001 micro-pips. Bid levels at m-200 (kept, y=199) and m-201 (dropped);
    # ask levels at m+200 (kept, y=401) and m+201 (dropped).
    book = two_level_book(1)
    unit = 10_000
    m = 100_001
    book[col("bid", "px", 1)][0] = (m - 200) * unit
    book[col("bid", "sz", 1)][0] = 7
    book[col("bid", "px", 2)][0] = (m - 201) * unit
    book[col("bid", "sz", 2)][0] = 1000
    book[col("ask", "px", 1)][0] = (m + 200) * unit
    book[col("ask", "sz", 1)][0] = 3
    book[col("ask", "px", 2)][0] = (m + 201) * unit
    book[col("ask", "sz", 2)][0] = 1000
    path = write_book(tmp_path / "range.parquet", book)
    got = check(path, book, 0, time_bins=1, ticks_per_bin=1)
    combined = np.zeros(ROWS)
    combined[0] = -17  # bid_cum (downwards from y=401): 7 at y=199 plus 10 at y=0
    combined[1:200] = -7
    combined[202:] = 10
    combined[401] = 13
    assert_close(got[:, 0], combined / 17)


def test_levels_just_outside_after_rounding(tmp_path):
    # Prices that round (half away from zero) onto the range edges or just past them.
    book = two_level_book(2)
    m = 100_001
    unit = 10_000
    book[col("bid", "px", 1)][:] = (m - 201) * unit + 5_000  # m-200.5 rounds up to m-200: kept
    book[col("bid", "sz", 1)][:] = 7
    book[col("bid", "px", 2)][:] = (m - 201) * unit + 4_999  # rounds to m-201: dropped
    book[col("bid", "sz", 2)][:] = 1000
    book[col("ask", "px", 1)][:] = (m + 200) * unit + 4_999  # rounds to m+200: kept
    book[col("ask", "sz", 1)][:] = 3
    book[col("ask", "px", 2)][:] = (m + 200) * unit + 5_000  # rounds to m+201: dropped
    book[col("ask", "sz", 2)][:] = 1000
    path = write_book(tmp_path / "edge.parquet", book)
    got = check(path, book, 1, time_bins=1, ticks_per_bin=2)
    assert got[199, 0] == pytest.approx(-7 / 17) and got[401, 0] == pytest.approx(13 / 17)


def test_mean_price_floor(tmp_path):
    # Bin mean of micro-pip prices 100000 and 99999 -> 99999.5 -> floor 99999 (y=1).
    book = two_level_book(2)
    book[col("bid", "px", 1)][0] = 1_000_000_000
    book[col("bid", "px", 1)][1] = 999_990_000
    book[col("bid", "sz", 1)][:] = 5
    path = write_book(tmp_path / "floor.parquet", book)
    got = check(path, book, 1, time_bins=1, ticks_per_bin=2)
    # y=0: level 0 (10) + y=1: level 1 (5) -> bid_cum(0)=15, bid_cum(1)=5
    assert got[0, 0] == pytest.approx(-1.0) and got[1, 0] == pytest.approx(-5 / 15)
    assert got[2, 0] == 0


def test_empty_levels_left_out_of_aggregates(tmp_path):
    """INT64_MAX rows of a level are left out of its mean price, median, variance and counts;
    a level empty over a whole bin is dropped; sizes/counts under empty levels are garbage."""
    n = 12
    T, tpb = 3, 4
    book = two_level_book(n)
    # bid level 1: defined in rows 0, 2 (bin 0), nowhere in bin 1, rows 8..11 in bin 2
    px = np.full(n, INT64_MAX, dtype=np.int64)
    px[[0, 2]] = [999_950_000, 999_940_000]
    px[8:12] = [999_900_000, 999_910_000, 999_920_000, 999_930_000]
    book[col("bid", "px", 1)] = px
    book[col("bid", "sz", 1)] = np.where(px == INT64_MAX, 4_000_000, np.arange(n) * 3 + 1).astype(np.uint32)
    book[col("bid", "ct", 1)] = np.where(px == INT64_MAX, 90_000, np.arange(n)).astype(np.uint32)
    # ask level 3 defined in 3 of the 4 rows of bin 1 only (odd count median), garbage elsewhere
    px = np.full(n, INT64_MAX, dtype=np.int64)
    px[[4, 5, 7]] = [1_000_100_000, 1_000_110_000, 1_000_125_000]
    book[col("ask", "px", 3)] = px
    book[col("ask", "sz", 3)] = np.where(px == INT64_MAX, 3_000_000, [0, 0, 0, 0, 8, 2, 0, 30, 0, 0, 0, 0]).astype(np.uint32)
    book[col("ask", "ct", 3)] = np.where(px == INT64_MAX, 77_777, 5).astype(np.uint32)
    # ask level 9 defined only in the last row (single value: variance 0)
    book[col("ask", "px", 9)][11] = 1_000_150_000
    book[col("ask", "sz", 9)][:] = 123_456
    book[col("ask", "sz", 9)][11] = 40
    book[col("ask", "ct", 9)][:] = 99_999
    book[col("ask", "ct", 9)][11] = 0
    path = write_book(tmp_path / "empty.parquet", book, row_group_size=5)
    got = check(path, book, n - 1, time_bins=T, ticks_per_bin=tpb, features=ALL)
    assert np.abs(got).max() <= 1.0
    # Spot checks of the reference's aggregates (so the reference itself is tested too).
    cells = bin_cells(book, 0, T, tpb, 10_000)
    BID, ASK = 0, 1

    def cell(side, level, k):
        return (int(cells["P"][side, level, k]), float(cells["volume"][side, level, k]),
                float(cells["variance"][side, level, k]), float(cells["trade_counts"][side, level, k]))

    assert not cells["defined"][BID, 1, 1]
    assert cell(BID, 1, 0) == (99_994, 4.0, 18.0, 2.0)  # prices 99995, 99994; sizes 1, 7
    assert cell(ASK, 3, 1) == ((100_010 + 100_011 + 100_013) // 3, 8.0, float(np.float32(652 / 3)), 15.0)
    assert cell(ASK, 9, 2) == (100_015, 40.0, 0.0, 0.0)
    assert not cells["defined"][ASK, 9, 0] and not cells["defined"][ASK, 9, 1]


def test_fully_empty_bins(tmp_path):
    """Bins where every level but the top of book is empty, and a side empty over whole bins."""
    n = 20
    rng = np.random.default_rng(3)
    book = random_book(n, rng)
    for level in range(1, LEVELS):
        book[col("ask", "px", level)][0:8] = INT64_MAX
        book[col("bid", "px", level)][4:12] = INT64_MAX
    for level in range(LEVELS):
        book[col("bid", "px", level)][12:16] = INT64_MAX
    path = write_book(tmp_path / "bins.parquet", book)
    check(path, book, n - 1, time_bins=5, ticks_per_bin=4, features=ALL)
    check(path, book, n - 1, time_bins=10, ticks_per_bin=2, features=ALL)
    check(path, book, 15, time_bins=4, ticks_per_bin=4, features=ALL)


def test_ties_deeper_level_wins(tmp_path):
    book = two_level_book(3)
    # bid levels 1, 2, 3 at the same raw price; level 3 has the deepest index and must win
    for level, size in ((1, 11), (2, 22), (3, 33)):
        book[col("bid", "px", level)][:] = 999_900_000
        book[col("bid", "sz", level)][:] = size
        book[col("bid", "ct", level)][:] = level
    # ask levels 4 and 6 land on one cell only after rounding and the floor of the mean
    book[col("ask", "px", 4)][:] = [1_000_104_999, 1_000_095_000, 1_000_100_000]  # 100010 x3
    book[col("ask", "sz", 4)][:] = 44
    book[col("ask", "px", 6)][:] = [1_000_100_000, 1_000_100_000, 1_000_104_000]  # 100010 x3
    book[col("ask", "sz", 6)][:] = 66
    # ask level 5 in between lands elsewhere (level order, not price order, decides)
    book[col("ask", "px", 5)][:] = 1_000_200_000
    book[col("ask", "sz", 5)][:] = 55
    # level 0 and 1 of the bid side land on one cell too: level 1 wins over level 0
    book[col("bid", "px", 4)][:] = 999_800_000
    book[col("bid", "sz", 4)][:] = 1
    book[col("bid", "px", 5)][:] = 1_000_000_000  # same as bid level 0
    book[col("bid", "sz", 5)][:] = 2
    path = write_book(tmp_path / "ties.parquet", book)
    got = check(path, book, 2, time_bins=1, ticks_per_bin=3, features=ALL)
    vol = got[0][:, 0]
    m = 100_001
    y_bid0 = (m - 1) - 100_000  # bid level 0 and 5: level 5 (2) wins
    y_bid1 = (m - 1) - 99_990  # levels 1..3: level 3 (33) wins
    y_bid4 = (m - 1) - 99_980  # level 4 (1)
    y_ask = 202 + 100_010 - (m + 1)  # ask levels 4 and 6: level 6 (66) wins
    y_ask5 = 202 + 100_020 - (m + 1)
    bid = np.zeros(ROWS)
    bid[[y_bid0, y_bid1, y_bid4]] = [2, 33, 1]
    ask = np.zeros(ROWS)
    ask[202] = 10
    ask[y_ask] = 66
    ask[y_ask5] = 55
    combined = np.cumsum(ask) - np.cumsum(bid[::-1])[::-1]
    assert_close(vol, combined / np.abs(combined).max())


def test_one_sided_book_asks_empty_in_window(tmp_path):
    """All ask levels empty in every row but the last, which only has ask_px_00 (for the mid)."""
    n = 15
    rng = np.random.default_rng(11)
    book = random_book(n, rng)
    for level in range(LEVELS):
        book[col("ask", "px", level)][:] = INT64_MAX
    book[col("ask", "px", 0)][-1] = book[col("bid", "px", 0)][-1] + 40_000
    path = write_book(tmp_path / "onesided.parquet", book)
    got = check(path, book, n - 1, time_bins=5, ticks_per_bin=3, features=ALL)
    assert (got[:, 202:, :4] <= 0).all()  # no asks in the first 4 bins: only -bid_cum there
    # asks empty in every window row, row t included: bid-only image around the ask-less mid
    book2 = random_book(n, rng)
    for level in range(LEVELS):
        book2[col("ask", "px", level)][: n - 1] = INT64_MAX
    path2 = write_book(tmp_path / "onesided2.parquet", book2)
    got2 = check(path2, book2, n - 2, time_bins=7, ticks_per_bin=2, features=ALL)
    assert got2.shape == (3, ROWS, 7)


def test_one_sided_book_no_ask_at_all(tmp_path):
    """ask_px_00 is INT64_MAX at row t too: m computed in integers is huge, every level is
    dropped and the image is 0 (no NaN, no overflow)."""
    n = 6
    book = two_level_book(n)
    for level in range(LEVELS):
        book[col("ask", "px", level)][:] = INT64_MAX
    path = write_book(tmp_path / "noask.parquet", book)
    got = check(path, book, n - 1, time_bins=2, ticks_per_bin=3, features=ALL)
    assert (got == 0).all()


def test_level_at_mid_dropped(tmp_path):
    """P == m is dropped; rows 200 and 201 of the grids stay empty."""
    book = two_level_book(2)
    # m = trunc((1.00000 + 1.00002)/2) = 100001; bid level 1 and ask level 1 at exactly m
    book[col("bid", "px", 1)][:] = 1_000_010_000
    book[col("bid", "sz", 1)][:] = 500
    book[col("ask", "px", 1)][:] = 1_000_010_000
    book[col("ask", "sz", 1)][:] = 700
    # ask level 2 mean = m as well after the floor: 100001 and 100002 -> 100001.5 -> 100001
    book[col("ask", "px", 2)][:] = [1_000_010_000, 1_000_020_000]
    book[col("ask", "sz", 2)][:] = 900
    path = write_book(tmp_path / "atmid.parquet", book)
    got = check(path, book, 1, time_bins=1, ticks_per_bin=2)
    expected = np.zeros(ROWS)
    expected[0] = -1.0  # bid level 0 at y=0
    expected[202:] = 1.0  # ask level 0 at y=202
    assert_close(got[:, 0], expected)
    # Only levels at the mid: all dropped, the plane is 0.
    only = empty_book(2)
    only[col("bid", "px", 0)][:] = 1_000_010_000
    only[col("ask", "px", 0)][:] = 1_000_010_000
    only[col("bid", "sz", 0)][:] = 5
    only[col("ask", "sz", 0)][:] = 6
    path = write_book(tmp_path / "onlymid.parquet", only)
    assert (check(path, only, 1, time_bins=2, ticks_per_bin=1) == 0).all()


def test_mid_truncates_toward_zero_negative(tmp_path):
    """Negative prices: p rounds half away from zero, P floors, m truncates toward zero."""
    book = empty_book(2)
    # bid -1.01500e-3 / ask -1.00000e-3 at 1e-5: bid p = -101.5 -> -102, ask p = -100;
    # m = trunc(-2015000 / 20000) = trunc(-100.75) = -100 (floor would give -101).
    book[col("bid", "px", 0)][:] = -1_015_000
    book[col("ask", "px", 0)][:] = -1_000_000
    book[col("bid", "sz", 0)][:] = 3
    book[col("ask", "sz", 0)][:] = 5
    # bid level 1: p = -1_034_999/1e4 -> -103 and -1_035_000 -> -104 (half away), mean -103.5
    # -> floor -104
    book[col("bid", "px", 1)][:] = [-1_034_999, -1_035_000]
    book[col("bid", "sz", 1)][:] = 7
    # ask level 1: -995_000 -> -100 (half away from zero gives -100, not -99): P = -100
    book[col("ask", "px", 1)][:] = -995_000
    book[col("ask", "sz", 1)][:] = 11
    # ask level 2: -985_001 -> -99 (rounds to nearest), P = -99 = m+1 -> y=202
    book[col("ask", "px", 2)][:] = -985_001
    book[col("ask", "sz", 2)][:] = 13
    path = write_book(tmp_path / "negmid.parquet", book)
    got = check(path, book, 1, time_bins=1, ticks_per_bin=2)
    m = -100
    assert mid_micro_pips(book, 1, 10_000) == m
    bid = np.zeros(ROWS)
    bid[(m - 1) - (-102)] = 3  # y=1
    bid[(m - 1) - (-104)] = 7  # y=3
    ask = np.zeros(ROWS)  # ask levels 0 and 1 at P = -100 = m: dropped
    ask[202 + (-99) - (m + 1)] = 13
    combined = np.cumsum(ask) - np.cumsum(bid[::-1])[::-1]
    assert_close(got[:, 0], combined / np.abs(combined).max())


def test_positive_mid_truncates(tmp_path):
    # m = trunc(2_000_015_000 / 20_000) = trunc(100_000.75) = 100000
    book = empty_book(1)
    book[col("bid", "px", 0)][0] = 999_995_000  # p = 99999.5 -> 100000 = m: dropped
    book[col("ask", "px", 0)][0] = 1_000_020_000
    book[col("bid", "sz", 0)][0] = 4
    book[col("ask", "sz", 0)][0] = 8
    book[col("bid", "px", 1)][0] = 999_984_999  # p = 99998.4999 -> 99998 -> y=1
    book[col("bid", "sz", 1)][0] = 2
    path = write_book(tmp_path / "posmid.parquet", book)
    assert mid_micro_pips(book, 0, 10_000) == 100_000
    got = check(path, book, 0, time_bins=1, ticks_per_bin=1)
    expected = np.zeros(ROWS)
    expected[:2] = -2 / 8
    expected[202 + 100_002 - 100_001:] = 1.0
    assert_close(got[:, 0], expected)


def test_zero_planes(tmp_path):
    """Constant sizes (variance 0) and no trades (counts 0): those planes are 0, not NaN."""
    n = 12
    rng = np.random.default_rng(21)
    book = random_book(n, rng, empty_p=0.0)
    for side in SIDES:
        for level in range(LEVELS):
            book[col(side, "sz", level)][:] = 17 + level
            book[col(side, "ct", level)][:] = 0
    path = write_book(tmp_path / "zero.parquet", book)
    got = check(path, book, n - 1, time_bins=4, ticks_per_bin=3, features=ALL)
    assert np.abs(got[0]).max() == pytest.approx(1.0)
    assert (got[1] == 0).all() and (got[2] == 0).all()
    assert (check(path, book, n - 1, time_bins=4, ticks_per_bin=3, features="variance") == 0).all()
    assert (check(path, book, n - 1, time_bins=2, ticks_per_bin=6, features="trade_counts") == 0).all()
    # Everything out of range: the volume plane is 0 too.
    far = two_level_book(4)
    far[col("bid", "px", 0)][:3] = 900_000_000
    far[col("ask", "px", 0)][:3] = 1_100_000_000
    far[col("bid", "px", 0)][3] = 1_000_000_000
    far[col("ask", "px", 0)][3] = 1_000_020_000
    path = write_book(tmp_path / "far.parquet", far)
    got = check(path, far, 3, time_bins=3, ticks_per_bin=1, features=ALL)
    assert (got[:, :, :2] == 0).all() and np.abs(got[0]).max() == 1.0


@pytest.mark.parametrize("requested", [["trade_counts", "volume"], ["variance", "volume"],
                                       ["trade_counts", "variance"],
                                       ["trade_counts", "variance", "volume"],
                                       ["variance", "trade_counts", "volume"],
                                       ("volume", "trade_counts"), ["variance"], "trade_counts"])
def test_feature_order_is_fixed(tmp_path, requested):
    rng = np.random.default_rng(8)
    book = random_book(40, rng)
    path = write_book(tmp_path / "order.parquet", book)
    kw = dict(time_bins=6, ticks_per_bin=5)
    got = check(path, book, 39, features=requested, **kw)
    names = [requested] if isinstance(requested, str) else list(requested)
    order = [f for f in FEATURE_ORDER if f in names]
    singles = [render(path, row=39, features=f, **kw) for f in order]
    if len(order) == 1:
        assert got.shape == (ROWS, 6)
        assert_close(got, singles[0])
    else:
        assert got.shape == (len(order), ROWS, 6)
        for plane, single in zip(got, singles):
            assert_close(plane, single)
    # Each plane is normalised on its own.
    planes = got if got.ndim == 3 else got[None]
    for plane in planes:
        assert np.abs(plane).max() == pytest.approx(1.0)


@pytest.mark.parametrize("requested", [["volume", "volume"], ["variance", "volume", "variance"],
                                       ["trade_counts", "trade_counts", "volume", "volume"]])
def test_duplicate_feature_names(tmp_path, requested):
    """A feature listed twice: either an error, or one plane per distinct feature (in the fixed
    order). Never an extra plane the engine did not fill."""
    rng = np.random.default_rng(12)
    book = random_book(40, rng)
    path = write_book(tmp_path / "dup.parquet", book)
    kw = dict(time_bins=6, ticks_per_bin=5)
    try:
        got = render(path, row=39, features=requested, **kw)
    except ValueError:
        return
    distinct = [f for f in FEATURE_ORDER if f in requested]
    expected = reference_image(book, 39, features=distinct, **kw)
    assert got.shape == expected.shape
    assert_close(got, expected)


@pytest.mark.parametrize("micro_pip_size", [1e-4, 5e-6, 1e-6, 2.5e-5, 1e-9, 3e-9])
def test_micro_pip_sizes(tmp_path, micro_pip_size):
    rng = np.random.default_rng(int(micro_pip_size * 1e10) + 1)
    unit = micro_pip_unit(micro_pip_size)
    book = random_book(50, rng, unit=max(unit, 1), base=700_000_000)
    path = write_book(tmp_path / "mp.parquet", book)
    for t in (24, 49):
        check(path, book, t, features=ALL, time_bins=5, ticks_per_bin=5, micro_pip_size=micro_pip_size)
    # The same book at another micro-pip size: different grids (most levels fall elsewhere).
    check(path, book, 49, features="volume", time_bins=10, ticks_per_bin=2, micro_pip_size=1e-5)


def test_micro_pip_1e4_hand(tmp_path):
    # unit 100000: bid 0.65000 -> 6500, ask 0.65003 -> 6500.3 -> 6500; m = trunc(1300030000/200000)
    # = 6500 -> bid and ask level 0 both dropped; levels 1 at 6499 / 6501.
    book = empty_book(1)
    book[col("bid", "px", 0)][0] = 650_000_000
    book[col("ask", "px", 0)][0] = 650_030_000
    book[col("bid", "px", 1)][0] = 649_950_000  # 6499.5 -> 6500: dropped
    book[col("bid", "px", 2)][0] = 649_949_999  # 6499.49999 -> 6499: y=0
    book[col("ask", "px", 1)][0] = 650_050_000  # 6500.5 -> 6501: y=202
    for side in SIDES:
        for level in range(3):
            book[col(side, "sz", level)][0] = 10 * (level + 1) + (side == "ask")
    path = write_book(tmp_path / "mp4.parquet", book)
    got = check(path, book, 0, time_bins=1, ticks_per_bin=1, micro_pip_size=1e-4)
    expected = np.zeros(ROWS)
    expected[0] = -30 / 30
    expected[202:] = 21 / 30
    assert_close(got[:, 0], expected)


# ---------------------------------------------------------------------------------------------
# ts= selection
# ---------------------------------------------------------------------------------------------


def test_ts_selects_last_row_at_or_before(tmp_path):
    n = 40
    rng = np.random.default_rng(17)
    book = random_book(n, rng)
    ts = 1_700_000_000_000_000_000 + np.cumsum(rng.integers(0, 3, size=n)) * 1_000_000
    ts[20:23] = ts[20]  # duplicates: the last of them is selected
    ts[23:] = np.maximum(ts[23:], ts[20] + 5)
    ts = np.maximum.accumulate(ts)
    path = write_book(tmp_path / "ts.parquet", book, ts=ts, row_group_size=7)
    kw = dict(time_bins=4, ticks_per_bin=3, features=ALL)

    def expected_row(x: int) -> int:
        return int(np.searchsorted(ts, x, side="right")) - 1

    probes = {int(ts[20]), int(ts[20]) + 1, int(ts[25]), int(ts[25]) - 1, int(ts[-1]),
              int(ts[-1]) + 10**12, int(ts[11]), int(ts[30]) + 1}
    for x in sorted(probes):
        r = expected_row(x)
        if r < 11:
            continue
        got = render(path, ts=x, **kw)
        assert_close(got, reference_image(book, r, **kw))
        assert np.array_equal(got, render(path, row=r, **kw))
    assert expected_row(int(ts[20])) == 22
    # ts before the first row: no row.
    with pytest.raises((tickforge.TickforgeError, IndexError)):
        tickforge.render(path, ts=int(ts[0]) - 1, **kw)
    # ts at a row without a full window.
    with pytest.raises((tickforge.TickforgeError, IndexError), match="window"):
        tickforge.render(path, ts=int(ts[3]), **kw)


def test_ts_accepts_numpy_and_pandas_style_ints(tmp_path):
    book = random_book(10, np.random.default_rng(2))
    ts = default_ts(10)
    path = write_book(tmp_path / "tsn.parquet", book, ts=ts)
    a = render(path, ts=int(ts[7]), time_bins=2, ticks_per_bin=2)
    b = render(path, row=7, time_bins=2, ticks_per_bin=2)
    assert np.array_equal(a, b)


# ---------------------------------------------------------------------------------------------
# Defaults on a long book
# ---------------------------------------------------------------------------------------------


def test_defaults_large_book(tmp_path):
    rng = np.random.default_rng(2024)
    W = 500 * 100
    n = W + 1500
    # A slow walk with a couple of jumps: most cells on the grid, some dropped.
    book = random_book(n, rng, empty_p=0.02, tie_p=0.02, jump_p=0.00004, step_p=0.001)
    path = write_book(tmp_path / "large.parquet", book, row_group_size=8192)
    got = check(path, book, n - 1)  # all defaults
    assert got.shape == (ROWS, 500)
    check(path, book, W - 1)
    check(path, book, W + 777, features=ALL)


# ---------------------------------------------------------------------------------------------
# Datasets from synth_dbn + label_run
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def labeled(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("features-labeled")
    files = tickforge.synth_dbn(root / "dbn", symbols=2, days=2, rows_per_day=3000, seed=4, zstd=False)
    tickforge.label_run(files, root / "out", lookback_rows=50, lookforward_input=50,
                        lookforward_offset=5, min_symbol_samples=10, nbins=3)
    datasets = sorted((root / "out").glob("*_dataset.parquet"))
    assert datasets
    return datasets


@pytest.mark.parametrize("shape,micro_pip_size", [((20, 5), 1e-5), ((7, 5), 1e-6), ((50, 20), 1e-5),
                                                  ((1, 1), 1e-5), ((30, 3), 5e-6), ((10, 10), 1e-4)])
def test_labeled_datasets_match_reference(labeled, shape, micro_pip_size):
    T, tpb = shape
    W = T * tpb
    for path in labeled:
        book = read_book(path)
        n = len(book[col("bid", "px", 0)])
        assert n > W
        rows = sorted({W - 1, W + 13, (n + W) // 2, n - 1})
        for t in rows:
            check(path, book, t, features=ALL, time_bins=T, ticks_per_bin=tpb,
                  micro_pip_size=micro_pip_size)
        # ts= on a real dataset
        ts = pq.read_table(path, columns=["ts_event"]).column(0).cast(pa.int64()).to_numpy()
        t = rows[-2]
        r = int(np.searchsorted(ts, ts[t], side="right")) - 1
        got = render(path, ts=int(ts[t]), features="volume", time_bins=T, ticks_per_bin=tpb,
                     micro_pip_size=micro_pip_size)
        assert_close(got, reference_image(book, r, features="volume", time_bins=T,
                                          ticks_per_bin=tpb, micro_pip_size=micro_pip_size))


def test_labeled_images_are_not_trivial(labeled):
    """Sanity: on a real book the default micro-pip gives non-zero planes of every feature."""
    path = labeled[0]
    got = render(path, row=999, features=ALL, time_bins=50, ticks_per_bin=20)
    for plane in got:
        assert np.abs(plane).max() == pytest.approx(1.0)
        assert (plane < 0).any() and (plane > 0).any()


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def small_dataset(tmp_path) -> Path:
    return write_book(tmp_path / "small.parquet", random_book(30, np.random.default_rng(1)),
                      row_group_size=8)


@pytest.mark.parametrize("row", [0, 10, 18, 30, 31, 1000, -1])
def test_row_without_full_window(small_dataset, row):
    # W = 20: rows 19..29 are fine; before 19 there is no full window, 30+ is past the end.
    with pytest.raises((tickforge.TickforgeError, IndexError), match=r"(?i)window|row|range"):
        tickforge.render(small_dataset, row=row, time_bins=5, ticks_per_bin=4)


def test_first_and_last_full_windows(small_dataset):
    book = read_book(small_dataset)
    check(small_dataset, book, 19, time_bins=5, ticks_per_bin=4)
    check(small_dataset, book, 29, time_bins=5, ticks_per_bin=4)
    check(small_dataset, book, 29, time_bins=30, ticks_per_bin=1)
    with pytest.raises((tickforge.TickforgeError, IndexError)):
        tickforge.render(small_dataset, row=29, time_bins=31, ticks_per_bin=1)


def test_error_is_value_error_subclass():
    assert issubclass(tickforge.TickforgeError, ValueError)


@pytest.mark.parametrize("missing", ["ask_sz_03", "bid_px_00", "bid_ct_09", "ask_px_07"])
def test_missing_column_named(tmp_path, missing):
    book = random_book(30, np.random.default_rng(2))
    path = write_book(tmp_path / "missing.parquet", book, drop=(missing,))
    with pytest.raises(tickforge.TickforgeError, match=missing):
        tickforge.render(path, row=29, time_bins=5, ticks_per_bin=4)


def test_missing_ts_event_named(tmp_path):
    book = random_book(30, np.random.default_rng(2))
    path = write_book(tmp_path / "nots.parquet", book)
    table = pq.read_table(path).drop(["ts_event"])
    pq.write_table(table, path)
    with pytest.raises(tickforge.TickforgeError, match="ts_event"):
        tickforge.render(path, ts=1_700_000_000_000_000_000, time_bins=5, ticks_per_bin=4)


@pytest.mark.parametrize("name,type_", [("bid_px_02", pa.float64()), ("ask_sz_05", pa.int64())])
def test_mistyped_column_named(tmp_path, name, type_):
    book = random_book(30, np.random.default_rng(2))
    path = write_book(tmp_path / "typed.parquet", book, retype={name: type_})
    with pytest.raises(tickforge.TickforgeError, match=name):
        tickforge.render(path, row=29, time_bins=5, ticks_per_bin=4)


@pytest.mark.parametrize("features", ["volumes", ["volume", "spread"], "", ["Volume"]])
def test_unknown_feature(small_dataset, features):
    with pytest.raises(ValueError) as info:
        tickforge.render(small_dataset, row=29, time_bins=5, ticks_per_bin=4, features=features)
    bad = features if isinstance(features, str) else [f for f in features if f not in FEATURE_ORDER][0]
    if bad:
        assert bad in str(info.value)


def test_no_feature(small_dataset):
    with pytest.raises(ValueError):
        tickforge.render(small_dataset, row=29, time_bins=5, ticks_per_bin=4, features=[])


@pytest.mark.parametrize("kwargs", [dict(time_bins=0), dict(ticks_per_bin=0), dict(time_bins=-3),
                                    dict(micro_pip_size=0.0), dict(micro_pip_size=-1e-5),
                                    dict(micro_pip_size=1e-10)])
def test_bad_options(small_dataset, kwargs):
    base = dict(time_bins=5, ticks_per_bin=4)
    base.update(kwargs)
    with pytest.raises(ValueError):
        tickforge.render(small_dataset, row=29, **base)


def test_row_and_ts_exclusive(small_dataset):
    with pytest.raises((ValueError, TypeError)):
        tickforge.render(small_dataset, time_bins=5, ticks_per_bin=4)
    with pytest.raises((ValueError, TypeError)):
        tickforge.render(small_dataset, row=29, ts=1_700_000_000_000_000_000, time_bins=5,
                         ticks_per_bin=4)


def test_missing_file(tmp_path):
    with pytest.raises(tickforge.TickforgeError, match="nope.parquet"):
        tickforge.render(tmp_path / "nope.parquet", row=0, time_bins=1, ticks_per_bin=1)


def test_render_draws_the_features_the_dataset_was_labeled_for(tmp_path):
    """label config `features` is recorded in the dataset; render without features draws them."""
    files = tickforge.synth_dbn(tmp_path / "dbn", symbols=1, days=1, rows_per_day=3000, seed=7, zstd=False)
    tickforge.label_run(files, tmp_path / "out", lookback_rows=50, lookforward_input=50, lookforward_offset=5,
                        min_symbol_samples=10, nbins=3, features=["variance", "volume"])
    path = sorted((tmp_path / "out").glob("*_dataset.parquet"))[0]
    recorded = json.loads(pq.read_schema(path).metadata[b"tickforge.label"])
    assert recorded["features"] == ["variance", "volume"]
    row = pq.ParquetFile(path).metadata.num_rows - 1
    both = tickforge.render(path, row=row, time_bins=5, ticks_per_bin=4)
    assert both.shape == (2, 402, 5)
    explicit = tickforge.render(path, row=row, time_bins=5, ticks_per_bin=4, features=["volume", "variance"])
    np.testing.assert_array_equal(both, explicit)
    one = tickforge.render(path, row=row, time_bins=5, ticks_per_bin=4, features="volume")
    np.testing.assert_array_equal(one, both[0])
