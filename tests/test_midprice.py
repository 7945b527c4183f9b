"""Mid-price labels (DESIGN.md §3.7, docs/labeling.md "Mid-price labels") against numpy.

The reference arranges the inputs with test_label's ``Inputs`` (files by start time, valid
rows, each symbol's series in (ts_event, sequence, file, position) order) and computes the
rest itself, from the formulas: s = ask_px_00 + bid_px_00 (int64), exact window sums by
cumsum, m₋, m₊ as those sums over 2h, l per scheme, classes against α, and the balanced α as
``np.quantile(|l|, 1/3)`` over the fit part. Classes and α are compared exactly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import tickforge
from conftest import require_testdata
from test_label import Inputs

SMALL = {"lookback_rows": 50, "lookforward_input": 30, "lookforward_offset": 5, "jump_size": 7,
         "min_symbol_samples": 100, "nbins": 5}


def mid_values(s: np.ndarray, scheme: str, k: int, h: int = 0, n: int = 1) -> np.ndarray:
    """l of every row of the series s (int64 bid+ask): NaN where undefined."""
    h = h or k
    out = np.full(len(s), np.nan)
    kept = s[::n]
    J = len(kept)
    cs = np.zeros(J + 1, dtype=np.int64)
    np.cumsum(kept, out=cs[1:])
    j = np.arange(h - 1, J - k)
    if len(j) == 0:
        return out
    minus = (cs[j + 1] - cs[j + 1 - h]).astype(np.float64) / np.float64(2 * h)
    plus = (cs[j + k + 1] - cs[j + k + 1 - h]).astype(np.float64) / np.float64(2 * h)
    base = minus if scheme == "deeplob" else kept[j].astype(np.float64) / 2.0
    out[j * n] = (plus - base) / base
    return out


def classes(values: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(values < -alpha, 0, np.where(values > alpha, 2, 1))


def balanced_alpha(values: np.ndarray) -> float:
    return float(np.quantile(np.abs(values), np.arange(4) / 3)[1])


def columns_of(config: dict) -> list[tuple[str, str, int]]:
    return [(f"label_{s}_k{k}", s, k) for s in config["midprice_labels"] for k in config["midprice_horizons"]]


def check_run(paths, out: Path, config: dict, fit_part: str = "files"):
    inp = Inputs(paths)
    h = config.get("midprice_smoothing", 0)
    n = config.get("midprice_downsample", 1)
    thr = json.loads((out / "thresholds.json").read_text())
    n_fit = max(1, math.floor(len(inp.files) * config.get("fit_fraction", 0.5)))
    checked = 0
    for column, scheme, k in columns_of(config):
        entry = thr["midprice"][column]
        assert (entry["scheme"], entry["horizon"], entry["downsample"]) == (scheme, k, n)
        # The α: fixed, or the balancing one over the fit part, whose windows end at the cut.
        if "midprice_alpha" in config:
            expected_alpha = {name: config["midprice_alpha"] for name in inp.symbols}
            assert entry["alpha"] == config["midprice_alpha"] and entry["fitted"] is False
        elif fit_part == "files":
            pooled = []
            for name in inp.symbols:
                ser = inp.series[name]
                fit = ser[inp.file[ser] < n_fit]
                v = mid_values(inp.s[fit], scheme, k, h, n)
                pooled.append(v[~np.isnan(v)])
            alpha = balanced_alpha(np.concatenate(pooled))
            assert entry["alpha"] == alpha, column
            expected_alpha = {name: alpha for name in inp.symbols}
        else:  # per-symbol: each symbol's first half
            expected_alpha = {}
            for name in inp.symbols:
                ser = inp.series[name]
                v = mid_values(inp.s[ser[: len(ser) // 2]], scheme, k, h, n)
                expected_alpha[name] = balanced_alpha(v[~np.isnan(v)])
            assert entry["alpha"] == expected_alpha
        report = json.loads((out / "build_report.json").read_text())["symbols"]
        for name in inp.symbols:
            if len(inp.series[name]) < config["min_symbol_samples"]:
                assert "output" not in report[name]
                continue
            path = out / report[name]["output"]
            table = pq.read_table(path)
            got = table[column].to_numpy(zero_copy_only=False)
            v = mid_values(inp.s[inp.series[name]], scheme, k, h, n)
            defined = ~np.isnan(v)
            assert np.array_equal(table[column].is_null().to_numpy(zero_copy_only=False), ~defined)
            assert np.array_equal(got[defined].astype(np.int64), classes(v[defined], expected_alpha[name]))
            meta = json.loads(pq.read_schema(path).metadata[b"tickforge.label"])
            [m] = [m for m in meta["midprice"] if m["column"] == column]
            assert m["alpha"] == expected_alpha[name] and m["smoothing"] == (h or k)
            checked += int(defined.sum())
    return checked


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("midprice-books")
    return tickforge.synth_dbn(d, symbols=3, days=4, rows_per_day=3000, seed=21)


def test_fitted_alpha_and_classes_match_numpy(books, tmp_path):
    config = dict(SMALL, midprice_labels=["deeplob", "fi2010"], midprice_horizons=[1, 5, 50])
    tickforge.label_run(books, tmp_path, **config)
    checked = check_run(books, tmp_path, config)
    assert checked > 10000
    # The fitted α balances the fit part: about a third of its rows in each class.
    report = json.loads((tmp_path / "build_report.json").read_text())
    fit = np.zeros(3)
    for entry in report["symbols"].values():
        fit += entry["midprice_classes_fit"]["label_deeplob_k50"]
    assert abs(fit[1] / fit.sum() - 1 / 3) < 0.02
    assert min(fit[0], fit[2]) / fit.sum() > 0.25


def test_fixed_alpha_downsampling_and_smoothing(books, tmp_path):
    config = dict(SMALL, midprice_labels=["deeplob", "fi2010"], midprice_horizons=[3, 10],
                  midprice_alpha=2e-6, midprice_downsample=10, midprice_smoothing=2)
    tickforge.label_run(books, tmp_path, **config)
    assert check_run(books, tmp_path, config) > 2000


def test_fit_with_downsampling(books, tmp_path):
    config = dict(SMALL, midprice_labels=["fi2010"], midprice_horizons=[5], midprice_downsample=4,
                  fit_fraction=0.75)
    tickforge.label_run(books, tmp_path, **config)
    assert check_run(books, tmp_path, config) > 1000


def test_per_symbol_alpha(books, tmp_path):
    config = dict(SMALL, mode="per-symbol", midprice_labels=["deeplob"], midprice_horizons=[20])
    tickforge.label_run(books, tmp_path, **config)
    assert check_run(books, tmp_path, config, fit_part="per-symbol") > 1000


def test_fit_part_never_reads_past_the_cut(books, tmp_path):
    """The α of the first two days does not change when the later days change."""
    config = dict(SMALL, midprice_labels=["deeplob"], midprice_horizons=[50])
    a = tickforge.label_fit(books, tmp_path / "a.json", **config)
    other = tickforge.synth_dbn(tmp_path / "other", symbols=3, days=4, rows_per_day=2000, seed=99)
    b = tickforge.label_fit([*books[:2], *other[2:]], tmp_path / "b.json", **config)
    assert a["midprice"]["label_deeplob_k50"]["alpha"] == b["midprice"]["label_deeplob_k50"]["alpha"]


def test_build_reuses_the_fitted_alpha_and_refuses_a_conflict(books, tmp_path):
    config = dict(SMALL, midprice_labels=["deeplob"], midprice_horizons=[5])
    thr = tickforge.label_fit(books, tmp_path / "thresholds.json", **config)
    tickforge.label_build(books[3:], tmp_path / "thresholds.json", tmp_path / "later",
                          min_symbol_samples=10)
    alpha = thr["midprice"]["label_deeplob_k5"]["alpha"]
    inp = Inputs(books[3:])
    for name in inp.symbols:
        table = pq.read_table(tmp_path / "later" / f"AUDUSD_{name}_dataset.parquet")
        v = mid_values(inp.s[inp.series[name]], "deeplob", 5)
        ok = ~np.isnan(v)
        got = table["label_deeplob_k5"].to_numpy(zero_copy_only=False)
        assert np.array_equal(got[ok].astype(np.int64), classes(v[ok], alpha))
    with pytest.raises(Exception, match="midprice_horizons"):
        tickforge.label_build(books, tmp_path / "thresholds.json", tmp_path / "bad", midprice_horizons=[7])


@pytest.mark.parametrize("bad", [dict(midprice_labels=["tlob"]), dict(midprice_horizons=[0]),
                                 dict(midprice_smoothing=9, midprice_horizons=[5]),
                                 dict(midprice_downsample=0), dict(midprice_alpha=-1.0),
                                 dict(midprice_horizons=[5, 5])])
def test_bad_midprice_options_raise(books, tmp_path, bad):
    with pytest.raises(Exception, match="midprice|scheme|twice"):
        tickforge.label_run(books, tmp_path, **dict(SMALL, midprice_labels=["deeplob"], **bad))


def test_no_midprice_columns_by_default(books, tmp_path):
    tickforge.label_run(books, tmp_path, **SMALL)
    names = pq.read_schema(next(tmp_path.glob("*_dataset.parquet"))).names
    assert not [n for n in names if n.startswith("label_")]
    assert "midprice" not in json.loads((tmp_path / "thresholds.json").read_text())


REAL = ["XNAS.ITCH", "GLBX.MDP3", "IFEU.IMPACT", "NDEX.IMPACT"]


def real_books() -> list[Path]:
    return [require_testdata("databento-python", d, "test_data.mbp-10.dbn.zst") for d in REAL]


@pytest.mark.parametrize("alpha", [None, 0.0])
def test_real_mbp10_books(tmp_path, alpha):
    """Databento's MBP-10 sample files (four venues, four rows each): k = 1 labels."""
    files = real_books()
    config = dict(lookback_rows=1, lookforward_input=1, lookforward_offset=0, jump_size=1,
                  min_symbol_samples=0, nbins=2, midprice_labels=["deeplob", "fi2010"],
                  midprice_horizons=[1, 2])
    if alpha is not None:
        config["midprice_alpha"] = alpha
    tickforge.label_run(files, tmp_path, **config)
    assert check_run(files, tmp_path, config) >= 8
