"""Labeling (docs/labeling.md) against an independent numpy reference implementation.

The reference below reads the DBN inputs with ``tickforge.read_dbn(..., price_type="fixed")``
(verified against Databento's decoder elsewhere) and computes everything else itself, following
docs/labeling.md literally:

* files ordered by metadata ``start``, then by name; valid rows; each symbol's series ordered
  by (ts_event, sequence, file index, position in file);
* movements from exact integer window sums converted to double once;
* the global fit set (fit files, seeded file sampling with splitmix64, candidates every
  ``jump_size`` rows on the fit series, |m| < max_abs_movement, seeded per-file caps) and the
  per-symbol fit set (first half of each symbol's series, caps per symbol and file);
* ``np.quantile`` boundaries and ``np.digitize`` labels.

The engine must produce the same bits: boundaries, movements and labels are compared exactly.
Test data is generated with ``tickforge.synth_dbn`` (small files, so windows are small too and
cross file boundaries), some raw files patched to add invalid prices, ties in
(ts_event, sequence), a row of a later file inside an earlier file's time range, equal metadata
starts and names that sort differently from start times.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tickforge

M64 = (1 << 64) - 1
INT64_MAX = (1 << 63) - 1

DEFAULTS = {
    "currency": "AUDUSD",
    "lookback_rows": 5000,
    "lookforward_input": 5000,
    "lookforward_offset": 500,
    "nbins": 13,
    "fit_fraction": 0.5,
    "file_sample_fraction": 1.0,
    "jump_size": 100,
    "max_samples_per_file": 10000,
    "max_abs_movement": 0.1,
    "min_symbol_samples": 1000,
    "min_price": None,
    "max_price": None,
    "seed": 0,
    "mode": "global",
}

# Small windows, so movements exist on small files and windows cross file boundaries.
SMALL = {"lookback_rows": 50, "lookforward_input": 30, "lookforward_offset": 5, "jump_size": 7,
         "min_symbol_samples": 100}


# ---------------------------------------------------------------------------------------------
# splitmix64
# ---------------------------------------------------------------------------------------------


def splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def key_file(seed: int, f: int) -> int:
    return splitmix64(splitmix64(seed & M64) ^ f)


def key_sample(seed: int, sym: int, t: int) -> int:
    return splitmix64(splitmix64(splitmix64((seed + 1) & M64) ^ sym) ^ t)


def test_splitmix64_reference_values():
    # The first outputs of the canonical splitmix64 generator seeded with 0 and 1234567.
    assert splitmix64(0) == 0xE220A8397B1DCDAF
    assert splitmix64(0x9E3779B97F4A7C15) == 0x6E789E6AA1B965F4
    state = 1234567
    outs = []
    for _ in range(3):
        outs.append(splitmix64(state))
        state = (state + 0x9E3779B97F4A7C15) & M64
    assert outs == [6457827717110365317, 3203168211198807973, 9817491932198370423]


# ---------------------------------------------------------------------------------------------
# Reference implementation
# ---------------------------------------------------------------------------------------------


def round_half_away(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def window_movements(s: np.ndarray, L: int, F: int, O: int) -> tuple[np.ndarray, np.ndarray]:
    """movement(t) for every t of the series s (int64 bid+ask); NaN and False where undefined."""
    n = len(s)
    out = np.full(n, np.nan)
    ok = np.zeros(n, dtype=bool)
    hi = n - 1 - O - F
    if hi < L:
        return out, ok
    assert s.dtype == np.int64 and (s > 0).all()
    cs = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(s, out=cs[1:])
    # Prefix sums of positive values below 2^62: every difference is the exact window sum.
    assert int(cs[-1]) < (1 << 62)
    t = np.arange(L, hi + 1)
    back_sum = cs[t] - cs[t - L]
    fwd_sum = cs[t + 1 + O + F] - cs[t + 1 + O]
    back = back_sum.astype(np.float64) / np.float64(2 * L)
    fwd = fwd_sum.astype(np.float64) / np.float64(2 * F)
    out[t] = (fwd - back) / back
    ok[t] = True
    # Spot-check the window sums with Python ints.
    for i in (0, len(t) // 2, len(t) - 1):
        ti = int(t[i])
        assert int(back_sum[i]) == sum(int(v) for v in s[ti - L:ti])
        assert int(fwd_sum[i]) == sum(int(v) for v in s[ti + 1 + O:ti + 1 + O + F])
    return out, ok


class Inputs:
    """The DBN inputs, read with tickforge.read_dbn and arranged as docs/labeling.md says."""

    def __init__(self, paths, min_price=None, max_price=None):
        paths = [Path(p) for p in paths]
        keyed = sorted((tickforge.read_dbn_metadata(p)["start"], p.name, p) for p in paths)
        self.files = [p for _, _, p in keyed]
        tables = [tickforge.read_dbn(p, price_type="fixed") for p in self.files]
        self.table = pa.concat_tables(tables)
        self.file = np.concatenate([np.full(t.num_rows, f, dtype=np.int64)
                                    for f, t in enumerate(tables)])
        self.pos = np.concatenate([np.arange(t.num_rows, dtype=np.int64) for t in tables])
        self.file_rows = [t.num_rows for t in tables]
        tab = self.table
        bid = tab["bid_px_00"].to_numpy()
        ask = tab["ask_px_00"].to_numpy()
        valid = (bid != INT64_MAX) & (ask != INT64_MAX) & (bid > 0) & (ask > 0)
        assert (bid[valid] < (1 << 61)).all() and (ask[valid] < (1 << 61)).all()
        s = np.zeros(len(bid), dtype=np.int64)
        s[valid] = bid[valid] + ask[valid]
        if min_price is not None:
            valid &= s >= 2 * round_half_away(min_price * 1e9)
        if max_price is not None:
            valid &= s <= 2 * round_half_away(max_price * 1e9)
        self.valid = valid
        self.s = s
        self.sym_col = tab["symbol"].to_numpy(zero_copy_only=False)
        self.ts = tab["ts_event"].cast(pa.int64()).to_numpy()
        self.seq = tab["sequence"].to_numpy().astype(np.int64)
        # "the sorted list of all symbols of all input files"
        self.symbols = sorted(set(self.sym_col.tolist()))
        self.series = {}
        self.rows_in = {}
        for name in self.symbols:
            of_sym = self.sym_col == name
            self.rows_in[name] = int(of_sym.sum())
            idx = np.flatnonzero(of_sym & valid)
            order = np.lexsort((self.pos[idx], self.file[idx], self.seq[idx], self.ts[idx]))
            self.series[name] = idx[order]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.files]


class Reference:
    """Fit and labels of docs/labeling.md for one config, computed with numpy."""

    def __init__(self, paths, **config):
        unknown = set(config) - set(DEFAULTS)
        assert not unknown, unknown
        self.cfg = {**DEFAULTS, **config}
        self.inp = Inputs(paths, self.cfg["min_price"], self.cfg["max_price"])
        c = self.cfg
        self.L, self.F, self.O = c["lookback_rows"], c["lookforward_input"], c["lookforward_offset"]
        n = len(self.inp.files)
        self.n_fit = max(1, math.floor(n * c["fit_fraction"]))
        self.k = max(1, math.floor(self.n_fit * c["file_sample_fraction"]))
        keys = sorted((key_file(c["seed"], f), f) for f in range(self.n_fit))
        self.sampled = {f for _, f in keys[: self.k]}
        # Diagnostics about the fit, so tests can check that their parameters bite.
        self.candidates_before_filters = 0
        self.dropped_abs = 0
        self.dropped_unsampled = 0
        self.capped_files = 0
        if c["mode"] == "global":
            pooled = self._fit_global()
            self.pooled = pooled
            self.boundaries = np.quantile(pooled, np.arange(c["nbins"] + 1) / c["nbins"])
        else:
            assert c["mode"] == "per-symbol"
            self.pooled_by_symbol = self._fit_per_symbol()
            self.boundaries_by_symbol = {
                name: np.quantile(p, np.arange(c["nbins"] + 1) / c["nbins"])
                for name, p in self.pooled_by_symbol.items() if len(p)
            }

    # -- fit ---------------------------------------------------------------------------------

    def _candidates(self, si: int, fit_rows: np.ndarray, sampled) -> list[tuple]:
        """(file, key, sym, t, movement) for the kept candidates of one symbol's fit series."""
        c = self.cfg
        inp = self.inp
        mv, ok = window_movements(inp.s[fit_rows], self.L, self.F, self.O)
        m = len(fit_rows)
        out = []
        for t in range(self.L, m - self.O - self.F, c["jump_size"]):  # t <= m-1-O-F
            assert ok[t]
            self.candidates_before_filters += 1
            f = int(inp.file[fit_rows[t]])
            if sampled is not None and f not in sampled:
                self.dropped_unsampled += 1
                continue
            if not abs(mv[t]) < c["max_abs_movement"]:
                self.dropped_abs += 1
                continue
            out.append((f, key_sample(c["seed"], si, t), si, t, float(mv[t])))
        return out

    def _cap(self, cands: list[tuple]) -> list[float]:
        cap = self.cfg["max_samples_per_file"]
        by_file: dict[int, list[tuple]] = {}
        for cand in cands:
            by_file.setdefault(cand[0], []).append(cand)
        kept = []
        for f in sorted(by_file):
            group = sorted(by_file[f], key=lambda x: (x[1], x[2], x[3]))
            if len(group) > cap:
                self.capped_files += 1
            kept.extend(x[4] for x in group[:cap])
        return kept

    def _fit_global(self) -> np.ndarray:
        inp = self.inp
        cands = []
        for si, name in enumerate(inp.symbols):
            ser = inp.series[name]
            fit_rows = ser[inp.file[ser] < self.n_fit]
            cands.extend(self._candidates(si, fit_rows, self.sampled))
        return np.array(self._cap(cands), dtype=np.float64)

    def _fit_per_symbol(self) -> dict[str, np.ndarray]:
        inp = self.inp
        pooled = {}
        for si, name in enumerate(inp.symbols):
            ser = inp.series[name]
            fit_rows = ser[: len(ser) // 2]
            pooled[name] = np.array(self._cap(self._candidates(si, fit_rows, None)),
                                    dtype=np.float64)
        return pooled

    # -- labels and datasets -------------------------------------------------------------------

    def boundaries_for(self, name: str) -> np.ndarray:
        if self.cfg["mode"] == "global":
            return self.boundaries
        return self.boundaries_by_symbol[name]

    def output_symbols(self) -> list[str]:
        return [n for n in self.inp.symbols
                if len(self.inp.series[n]) >= self.cfg["min_symbol_samples"]]

    def skipped_symbols(self) -> list[str]:
        return [n for n in self.inp.symbols
                if len(self.inp.series[n]) < self.cfg["min_symbol_samples"]]

    def labeled(self, name: str, boundaries=None):
        """(movement, defined, label) over the symbol's full series."""
        b = self.boundaries_for(name) if boundaries is None else np.asarray(boundaries)
        mv, ok = window_movements(self.inp.s[self.inp.series[name]], self.L, self.F, self.O)
        label = np.zeros(len(mv), dtype=np.int64)
        label[ok] = np.digitize(mv[ok], b[1:-1])
        assert label.max(initial=0) < self.cfg["nbins"]
        return mv, ok, label

    def fit_part(self, name: str, fit_file_names=None) -> np.ndarray:
        """Mask over the series: rows of the fit part (fit files; first half in per-symbol mode)."""
        ser = self.inp.series[name]
        if self.cfg["mode"] == "per-symbol":
            mask = np.zeros(len(ser), dtype=bool)
            mask[: len(ser) // 2] = True
            return mask
        if fit_file_names is None:
            return self.inp.file[ser] < self.n_fit
        fit_idx = [f for f, p in enumerate(self.inp.files) if p.name in set(fit_file_names)]
        return np.isin(self.inp.file[ser], fit_idx)

    def dataset(self, name: str, boundaries=None) -> pa.Table:
        mv, ok, label = self.labeled(name, boundaries)
        table = self.inp.table.take(pa.array(self.inp.series[name]))
        table = table.append_column(
            "price_movement", pa.array(np.where(ok, mv, 0.0), mask=~ok, type=pa.float64()))
        table = table.append_column(
            "classification_label", pa.array(label.astype(np.uint8), mask=~ok, type=pa.uint8()))
        return table

    def class_counts(self, name: str, fit_file_names=None, boundaries=None):
        _, ok, label = self.labeled(name, boundaries)
        fit = self.fit_part(name, fit_file_names)
        nb = self.cfg["nbins"]
        return (np.bincount(label[ok & fit], minlength=nb).tolist(),
                np.bincount(label[ok & ~fit], minlength=nb).tolist())


# ---------------------------------------------------------------------------------------------
# Comparison helpers
# ---------------------------------------------------------------------------------------------


def ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ia = a.view(np.int64)
    ib = b.view(np.int64)
    ia = np.where(ia < 0, np.int64(-(1 << 63)) - ia, ia)
    ib = np.where(ib < 0, np.int64(-(1 << 63)) - ib, ib)
    return np.abs(ia - ib)


def assert_same_doubles(got, want, what: str):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if not np.array_equal(got.view(np.int64), want.view(np.int64)):
        diff = np.flatnonzero(got.view(np.int64) != want.view(np.int64))
        u = ulps(got, want)
        raise AssertionError(
            f"{what}: {len(diff)} of {len(got)} values differ in their bits; "
            f"max difference {int(u.max())} ULP; first at index {int(diff[0])}: "
            f"got {got[diff[0]]!r}, want {want[diff[0]]!r}")


def cfg_kwargs(**overrides) -> dict:
    """Engine kwargs: explicit keys only (None values left out)."""
    return {k: v for k, v in overrides.items() if v is not None}


def read_json(path) -> dict:
    return json.loads(Path(path).read_text())


def dataset_name(currency: str, symbol: str) -> str:
    return f"{currency}_{symbol}_dataset.parquet"


def all_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file()}


# The build report's layout beyond docs/labeling.md's list of contents is the engine's choice;
# these helpers find the documented items under their natural names.


def _first_key(entry: dict, *names):
    for name in names:
        if name in entry:
            return entry[name]
    raise AssertionError(f"none of {names} in report entry with keys {sorted(entry)}")


def report_symbols(report: dict) -> dict[str, dict]:
    symbols = _first_key(report, "symbols", "per_symbol")
    if isinstance(symbols, dict):
        return symbols
    return {e["symbol"]: e for e in symbols}


def report_counts(entry: dict) -> tuple[list[int], list[int]]:
    counts = entry.get("class_counts")
    if isinstance(counts, dict):
        fit = _first_key(counts, "fit", "fit_part")
        rest = _first_key(counts, "rest", "after_fit", "other")
    else:
        fit = _first_key(entry, "classes_fit", "class_counts_fit", "fit_class_counts")
        rest = _first_key(entry, "classes_rest", "class_counts_rest", "rest_class_counts")
    return list(fit), list(rest)


def check_thresholds(thr: dict, ref: Reference):
    c = ref.cfg
    assert thr["nbins"] == c["nbins"]
    assert thr["mode"] == c["mode"]
    assert thr["seed"] == c["seed"]
    if c["mode"] == "global":
        assert_same_doubles(thr["boundaries"], ref.boundaries, "thresholds.json boundaries")
        assert thr["sample_size"] == len(ref.pooled)
        stats = thr["movement_stats"]
        assert stats["count"] == len(ref.pooled)
        assert stats["min"] == ref.pooled.min()
        assert stats["max"] == ref.pooled.max()
        assert stats["mean"] == pytest.approx(ref.pooled.mean(), rel=1e-9, abs=1e-15)
        assert stats["std"] == pytest.approx(ref.pooled.std(), rel=1e-6) or \
            stats["std"] == pytest.approx(ref.pooled.std(ddof=1), rel=1e-6)
        fit_files = thr["fit_files"]
        assert [Path(e["name"]).name for e in fit_files] == ref.inp.names[: ref.n_fit], \
            "fit_files are not the first n_fit files by (metadata start, name)"
        assert [bool(e["sampled"]) for e in fit_files] == \
            [f in ref.sampled for f in range(ref.n_fit)], "sampled fit files differ"
    else:
        got = thr["boundaries"]
        assert isinstance(got, dict)
        assert set(ref.boundaries_by_symbol) <= set(got)
        for name, want in ref.boundaries_by_symbol.items():
            assert_same_doubles(got[name], want, f"per-symbol boundaries of {name}")
    conf = thr["config"]
    for key in ("lookback_rows", "lookforward_input", "lookforward_offset", "nbins", "jump_size",
                "max_samples_per_file", "seed", "mode"):
        assert conf[key] == c[key], key


def check_dataset(path: Path, want: pa.Table):
    got = pq.read_table(path)
    assert got.column_names == want.column_names
    assert got.num_rows == want.num_rows, f"{path.name}: {got.num_rows} rows, want {want.num_rows}"
    for name in want.column_names:
        g = got.column(name).combine_chunks()
        w = want.column(name).combine_chunks()
        assert g.type == w.type, f"{path.name}: column {name} is {g.type}, want {w.type}"
        if name == "price_movement":
            assert g.is_null().equals(w.is_null()), f"{path.name}: price_movement nulls differ"
            assert_same_doubles(g.fill_null(0.0).to_numpy(), w.fill_null(0.0).to_numpy(),
                                f"{path.name}: price_movement")
        elif not g.equals(w):
            ga, wa = g.to_pylist(), w.to_pylist()
            first = next(i for i in range(len(ga)) if ga[i] != wa[i])
            raise AssertionError(f"{path.name}: column {name} differs first at row {first}: "
                                 f"got {ga[first]!r}, want {wa[first]!r} "
                                 f"({sum(a != b for a, b in zip(ga, wa))} rows differ)")


def check_build(out_dir: Path, report: dict, ref: Reference, *, boundaries=None,
                fit_file_names=None, extra_files=()):
    out_dir = Path(out_dir)
    currency = ref.cfg["currency"]
    expected = {dataset_name(currency, n) for n in ref.output_symbols()}
    present = all_files(out_dir)
    allowed = expected | {"build_report.json", "thresholds.json", *extra_files}
    assert expected <= present, f"missing datasets: {sorted(expected - present)}"
    assert present <= allowed, f"unexpected files left in the output: {sorted(present - allowed)}"
    assert read_json(out_dir / "build_report.json") == report
    entries = report_symbols(report)
    for name in ref.output_symbols():
        check_dataset(out_dir / dataset_name(currency, name), ref.dataset(name, boundaries))
    for name in ref.inp.symbols:
        assert name in entries, f"symbol {name} missing from build_report.json"
        entry = entries[name]
        mv, ok, label = ref.labeled(name, boundaries)
        fit, rest = ref.class_counts(name, fit_file_names, boundaries)
        text = json.dumps(entry)
        if name in ref.skipped_symbols():
            assert dataset_name(currency, name) not in text, \
                f"{name} has {len(ref.inp.series[name])} valid rows and should be skipped"
            continue
        assert dataset_name(currency, name) in text
        got_fit, got_rest = report_counts(entry)
        assert got_fit == fit, f"{name}: fit-part class counts {got_fit}, want {fit}"
        assert got_rest == rest, f"{name}: rest class counts {got_rest}, want {rest}"
        assert _first_key(entry, "rows_in", "rows") == ref.inp.rows_in[name]
        assert _first_key(entry, "valid", "rows_valid", "valid_rows") == len(ref.inp.series[name])
        assert _first_key(entry, "labeled", "rows_labeled", "labeled_rows") == int(ok.sum())
        ser = ref.inp.series[name]
        for key, row in (("first_ts_event", ser[0]), ("last_ts_event", ser[-1])):
            if isinstance(entry.get(key), int):
                assert entry[key] == int(ref.inp.ts[row]), f"{name}: {key}"


# ---------------------------------------------------------------------------------------------
# Test data
# ---------------------------------------------------------------------------------------------

REC_SIZE = 368  # MBP-10 record
FIELDS = {"ts_event": (8, "<Q"), "sequence": (44, "<I"), "bid_px_00": (48, "<q"),
          "ask_px_00": (56, "<q")}
META_START = 26  # DBN v3 metadata: magic+version (4), length (4), dataset (16), schema (2)


def patch_raw(path: Path, edits, start=None):
    data = bytearray(path.read_bytes())
    (mlen,) = struct.unpack_from("<I", data, 4)
    base = 8 + mlen
    assert data[base] * 4 == REC_SIZE
    for row, field, value in edits:
        off, fmt = FIELDS[field]
        struct.pack_into(fmt, data, base + row * REC_SIZE + off, int(value))
    if start is not None:
        struct.pack_into("<Q", data, META_START, int(start))
    path.write_bytes(bytes(data))


def make_quirky(root: Path) -> Path:
    """Five raw days, four symbols, patched for every ordering and validity rule."""
    d = root / "quirky"
    files = tickforge.synth_dbn(d, symbols=4, days=5, rows_per_day=5000, seed=11, zstd=False)
    tabs = [tickforge.read_dbn(f, price_type="fixed", pretty_ts=False) for f in files]
    sym = [t["symbol"].to_numpy(zero_copy_only=False) for t in tabs]
    ts = [t["ts_event"].to_numpy().astype(np.int64) for t in tabs]
    seq = [t["sequence"].to_numpy().astype(np.int64) for t in tabs]

    def rows(f, s):
        return np.flatnonzero(sym[f] == s)

    edits = {f: [] for f in range(5)}
    # Invalid prices, in a fit file and after the cut.
    r = rows(0, "6AM4")
    edits[0] += [(r[100], "bid_px_00", INT64_MAX), (r[200], "ask_px_00", 0),
                 (r[300], "bid_px_00", -5), (r[301], "ask_px_00", -(1 << 40))]
    r = rows(2, "6EM4")
    edits[2] += [(r[50], "ask_px_00", INT64_MAX), (r[51], "bid_px_00", 0)]
    # A row of day 2 whose ts_event falls inside day 1 (across the default fit cut).
    r1, r2 = rows(1, "6AM4"), rows(2, "6AM4")
    edits[2] += [(r2[10], "ts_event", ts[1][r1[len(r1) // 2]] + 1)]
    # A row of day 1 with the same (ts_event, sequence) as a row of day 0: file index decides.
    r0, r1 = rows(0, "M6EM4"), rows(1, "M6EM4")
    mid = r0[len(r0) // 2]
    edits[1] += [(r1[5], "ts_event", ts[0][mid]), (r1[5], "sequence", seq[0][mid])]
    # Two rows of one file with the same (ts_event, sequence): position decides.
    r3 = rows(3, "6EM4")
    edits[3] += [(r3[40], "ts_event", ts[3][r3[20]]), (r3[40], "sequence", seq[3][r3[20]])]
    # A later row moved before an earlier one inside one file.
    r4 = rows(4, "M6AM4")
    edits[4] += [(r4[60], "ts_event", ts[4][r4[30]] - 1)]
    starts = [tickforge.read_dbn_metadata(f)["start"] for f in files]
    for f, path in enumerate(files):
        patch_raw(path, edits[f], start=starts[3] if f == 4 else None)
    # Names sort differently from start times; days 3 and 4 share a start, so names decide and
    # day 4's data (named "aaa...") comes before day 3's.
    renames = {0: "zzz-first.mbp-10.dbn", 3: "aab-day3.mbp-10.dbn", 4: "aaa-day4.mbp-10.dbn"}
    for f, new in renames.items():
        files[f].rename(d / new)
    return d


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("label-data")


@pytest.fixture(scope="module")
def quirky(data_root) -> Path:
    return make_quirky(data_root)


@pytest.fixture(scope="module")
def mixed(data_root) -> Path:
    """Six zstd days: 4 symbols for 3 days, 2 for 2 days, then 3 for 1 day."""
    d = data_root / "mixed"
    tickforge.synth_dbn(d, symbols=4, days=3, rows_per_day=4000, seed=5, start_date="2024-04-01")
    tickforge.synth_dbn(d, symbols=2, days=2, rows_per_day=3000, seed=6, start_date="2024-04-04")
    tickforge.synth_dbn(d, symbols=3, days=1, rows_per_day=4000, seed=7, start_date="2024-04-08")
    assert len(list(d.glob("*.dbn.zst"))) == 6
    return d


@pytest.fixture(scope="module")
def plain(data_root) -> Path:
    d = data_root / "plain"
    tickforge.synth_dbn(d, symbols=3, days=4, rows_per_day=6000, seed=3)
    return d


def dbn_files(d: Path) -> list[Path]:
    return sorted([*d.glob("*.dbn"), *d.glob("*.dbn.zst")])


def abs_quantile_threshold(ref_kwargs: dict, paths, q: float) -> float:
    """A max_abs_movement that drops about (1-q) of the fit candidates."""
    ref = Reference(paths, **{**ref_kwargs, "max_abs_movement": 1.0})
    inp = ref.inp
    vals = []
    for name in inp.symbols:
        ser = inp.series[name]
        fit_rows = ser[inp.file[ser] < ref.n_fit]
        mv, ok = window_movements(inp.s[fit_rows], ref.L, ref.F, ref.O)
        vals.extend(np.abs(mv[ok]).tolist())
    return float(f"{np.quantile(vals, q):.3g}")


# ---------------------------------------------------------------------------------------------
# Tests: fit + build against the reference
# ---------------------------------------------------------------------------------------------


def fit_and_build(inputs, tmp_path: Path, **config):
    thr_path = tmp_path / "thresholds.json"
    out = tmp_path / "out"
    thr = tickforge.label_fit(inputs, thr_path, **config)
    assert read_json(thr_path) == thr
    report = tickforge.label_build(inputs, thr_path, out, **config)
    return thr, report, out


QUIRKY_CASES = {
    "small-windows": dict(SMALL, nbins=13),
    "offset0-nbins3": dict(SMALL, lookforward_offset=0, lookback_rows=40, lookforward_input=40,
                           jump_size=5, nbins=3),
    "nbins21-sampled-capped": dict(SMALL, nbins=21, file_sample_fraction=0.5, fit_fraction=0.8,
                                   max_samples_per_file=60, seed=12345, currency="EURUSD"),
    "price-range": dict(SMALL, nbins=13, min_price=0.6531, max_price=1.0805, seed=7,
                        max_samples_per_file=150),
    # Both 6E symbols lose every row; they still count in the symbol list that keys the draws.
    "price-range-drops-symbols": dict(SMALL, nbins=9, max_price=0.9, max_samples_per_file=100,
                                      seed=8),
    "fit-fraction-0.8-seed-max": dict(SMALL, nbins=5, fit_fraction=0.8, seed=M64,
                                      file_sample_fraction=0.6, jump_size=3),
}


@pytest.mark.parametrize("case", sorted(QUIRKY_CASES))
def test_global_matches_reference(quirky, tmp_path, case):
    config = QUIRKY_CASES[case]
    files = dbn_files(quirky)
    ref = Reference(files, **config)
    # The data exercises what it should.
    assert len(ref.pooled) >= config["nbins"]
    if config.get("file_sample_fraction", 1.0) < 1:
        assert ref.dropped_unsampled > 0
    if config.get("max_samples_per_file", 10000) < 10000:
        assert ref.capped_files > 0
    if "min_price" in config:
        assert any(0 < len(ref.inp.series[n]) < ref.inp.rows_in[n] - 10 for n in ref.inp.symbols)
    if config.get("max_price") == 0.9:
        assert sum(len(ref.inp.series[n]) == 0 for n in ref.inp.symbols) == 2
    thr, report, out = fit_and_build(quirky, tmp_path, **config)
    check_thresholds(thr, ref)
    check_build(out, report, ref)


def test_quirky_data_has_its_quirks(quirky):
    """The patched data really contains what the ordering tests rely on."""
    files = dbn_files(quirky)
    ref = Reference(files, **SMALL)
    inp = ref.inp
    assert inp.names == ["zzz-first.mbp-10.dbn", "glbx-mdp3-20240402.mbp-10.dbn",
                         "glbx-mdp3-20240403.mbp-10.dbn", "aaa-day4.mbp-10.dbn",
                         "aab-day3.mbp-10.dbn"]
    assert sorted(inp.names) != inp.names
    assert (~inp.valid).sum() >= 6
    # Some series are not in (file, position) order.
    shuffled = 0
    for name in inp.symbols:
        ser = inp.series[name]
        key = inp.file[ser] * 10**9 + inp.pos[ser]
        shuffled += int((np.diff(key) < 0).sum())
    assert shuffled >= 3


def test_max_abs_movement_drops(quirky, tmp_path):
    files = dbn_files(quirky)
    base = dict(SMALL, nbins=7, seed=3)
    limit = abs_quantile_threshold(base, files, 0.7)
    config = dict(base, max_abs_movement=limit)
    ref = Reference(files, **config)
    assert ref.dropped_abs > 0 and len(ref.pooled) > 20
    assert np.abs(ref.pooled).max() < limit
    thr, report, out = fit_and_build(quirky, tmp_path, **config)
    check_thresholds(thr, ref)
    check_build(out, report, ref)


def test_mixed_symbol_sets_and_skipped_symbols(mixed, tmp_path):
    """A symbol missing from some files; one under min_symbol_samples is skipped and reported."""
    files = dbn_files(mixed)
    base = dict(SMALL, nbins=13, file_sample_fraction=0.7, max_samples_per_file=80, seed=99)
    ref0 = Reference(files, **base)
    counts = sorted(len(ref0.inp.series[n]) for n in ref0.inp.symbols)
    # Skip the least liquid symbol.
    config = dict(base, min_symbol_samples=counts[0] + 1, currency="GBPUSD")
    ref = Reference(files, **config)
    assert len(ref.skipped_symbols()) == 1
    present = {n: sorted(set(ref.inp.file[ref.inp.series[n]].tolist())) for n in ref.inp.symbols}
    assert any(len(v) < len(files) for v in present.values())  # a symbol missing from some files
    assert ref.capped_files > 0
    thr, report, out = fit_and_build(mixed, tmp_path, **config)
    check_thresholds(thr, ref)
    check_build(out, report, ref)
    entries = report_symbols(report)
    assert ref.skipped_symbols()[0] in entries


def test_subset_of_files_changes_symbol_list(mixed, tmp_path):
    """Inputs given as a list of files (not a directory); later symbols absent from the subset."""
    files = Reference(dbn_files(mixed), **SMALL).inp.files
    subset = [files[0], files[3], files[4], files[1]]  # given out of order
    config = dict(SMALL, nbins=9, seed=4, fit_fraction=0.5, max_samples_per_file=70)
    ref = Reference(subset, **config)
    thr, report, out = fit_and_build([str(p) for p in subset], tmp_path, **config)
    check_thresholds(thr, ref)
    check_build(out, report, ref)


def test_per_symbol_mode(plain, tmp_path):
    files = dbn_files(plain)
    config = dict(SMALL, nbins=11, mode="per-symbol", max_samples_per_file=90, seed=21)
    ref = Reference(files, **config)
    assert ref.capped_files > 0
    assert all(len(p) >= 11 for p in ref.pooled_by_symbol.values())
    thr, report, out = fit_and_build(plain, tmp_path, **config)
    check_thresholds(thr, ref)
    check_build(out, report, ref)


def test_per_symbol_mode_quirky(quirky, tmp_path):
    config = dict(SMALL, nbins=21, mode="per-symbol", lookforward_offset=0, seed=5,
                  min_price=0.6529)
    ref = Reference(dbn_files(quirky), **config)
    thr, report, out = fit_and_build(quirky, tmp_path, **config)
    check_thresholds(thr, ref)
    check_build(out, report, ref)


def test_production_parameters(data_root, tmp_path):
    """Defaults (L = F = 5000, O = 500, jump 100, max 10000 per file) with nbins 21."""
    d = data_root / "prod"
    tickforge.synth_dbn(d, symbols=2, days=4, rows_per_day=30000, seed=8)
    files = dbn_files(d)
    ref = Reference(files, nbins=21)
    assert len(ref.pooled) > 100
    thr, report, out = fit_and_build(d, tmp_path, nbins=21)
    check_thresholds(thr, ref)
    check_build(out, report, ref)


# ---------------------------------------------------------------------------------------------
# Tests: run, build reuse, leakage
# ---------------------------------------------------------------------------------------------


def test_run_equals_fit_then_build(quirky, tmp_path):
    config = dict(SMALL, nbins=13, file_sample_fraction=0.5, seed=77)
    ref = Reference(dbn_files(quirky), **config)
    out = tmp_path / "run"
    report = tickforge.label_run(quirky, out, **config)
    check_thresholds(read_json(out / "thresholds.json"), ref)
    check_build(out, report, ref)


def test_run_with_config_file_and_override(plain, tmp_path):
    cfg = tmp_path / "label.json"
    cfg.write_text(json.dumps(dict(SMALL, nbins=4, seed=2, currency="NZDUSD")))
    ref = Reference(dbn_files(plain), **dict(SMALL, nbins=6, seed=2, currency="NZDUSD"))
    out = tmp_path / "run"
    report = tickforge.label_run(plain, out, config=cfg, nbins=6)
    check_thresholds(read_json(out / "thresholds.json"), ref)
    check_build(out, report, ref)


def test_cli_run(plain, tmp_path):
    cfg = tmp_path / "label.json"
    config = dict(SMALL, nbins=8, seed=9, max_samples_per_file=50)
    cfg.write_text(json.dumps(config))
    out = tmp_path / "cli"
    proc = subprocess.run([str(tickforge.native_cli()), "label", "run", "--config", str(cfg),
                           "--input", str(plain), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    ref = Reference(dbn_files(plain), **config)
    check_thresholds(read_json(out / "thresholds.json"), ref)
    check_build(out, read_json(out / "build_report.json"), ref)


def test_build_reuses_thresholds_on_later_file(quirky, tmp_path):
    """label_build on a later file alone labels with the fitted boundaries, unchanged."""
    files = Reference(dbn_files(quirky), **SMALL).inp.files
    config = dict(SMALL, nbins=13, seed=1, min_symbol_samples=10)
    thr_path = tmp_path / "thresholds.json"
    thr = tickforge.label_fit(files, thr_path, **config)
    ref_all = Reference(files, **config)
    check_thresholds(thr, ref_all)
    later = [files[-1]]
    ref = Reference(later, **config)
    out = tmp_path / "later"
    report = tickforge.label_build(later, thr_path, out, **config)
    fit_names = [Path(e["name"]).name for e in thr["fit_files"]]
    check_build(out, report, ref, boundaries=ref_all.boundaries, fit_file_names=fit_names)
    for name in ref.output_symbols():
        fit, rest = ref.class_counts(name, fit_names, ref_all.boundaries)
        assert sum(fit) == 0 and sum(rest) > 0


def test_fit_never_reads_past_the_cut(data_root, tmp_path):
    """Replacing the files after the cut changes nothing in the fit."""
    a = data_root / "cut-a"
    b = data_root / "cut-b"
    tickforge.synth_dbn(a, symbols=3, days=4, rows_per_day=4000, seed=31)
    b.mkdir()
    for p in sorted(a.glob("*.dbn.zst"))[:2]:
        shutil.copy(p, b / p.name)
    # Different data, same dates and symbols, for days 3 and 4.
    tickforge.synth_dbn(b, symbols=3, days=2, rows_per_day=5000, seed=32,
                        start_date="2024-04-03")
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    config = dict(SMALL, nbins=13, seed=6)
    thr_a = tickforge.label_fit(a, tmp_path / "a.json", **config)
    thr_b = tickforge.label_fit(b, tmp_path / "b.json", **config)
    ref_a = Reference(dbn_files(a), **config)
    check_thresholds(thr_a, ref_a)
    assert [e["name"] for e in thr_a["fit_files"]] == [e["name"] for e in thr_b["fit_files"]]
    assert_same_doubles(thr_b["boundaries"], thr_a["boundaries"], "boundaries with new later files")
    assert thr_a["sample_size"] == thr_b["sample_size"]
    # The fit-file-only reference (fit_fraction 1 on the first two files) agrees as well.
    ref_fit_only = Reference(dbn_files(a)[:2], **dict(config, fit_fraction=1.0))
    assert_same_doubles(thr_a["boundaries"], ref_fit_only.boundaries, "fit-files-only reference")
    # And the fit files recorded are exactly the first half.
    assert [Path(e["name"]).name for e in thr_a["fit_files"]] == [p.name for p in dbn_files(a)[:2]]


def test_seed_changes_the_draws(quirky, tmp_path):
    config = dict(SMALL, nbins=13, file_sample_fraction=0.5, fit_fraction=0.8,
                  max_samples_per_file=40)
    seen = set()
    for seed in (0, 1, 2, 3):
        ref = Reference(dbn_files(quirky), **dict(config, seed=seed))
        thr = tickforge.label_fit(quirky, tmp_path / f"t{seed}.json", **dict(config, seed=seed))
        check_thresholds(thr, ref)
        seen.add(tuple(ref.boundaries.tolist()))
    assert len(seen) > 1


# ---------------------------------------------------------------------------------------------
# Tests: configuration errors
# ---------------------------------------------------------------------------------------------

CONFIG_ERRORS = (tickforge.TickforgeError, ValueError, TypeError, KeyError)


def test_unknown_config_key_raises(plain, tmp_path):
    with pytest.raises(CONFIG_ERRORS):
        tickforge.label_fit(plain, tmp_path / "t.json", **SMALL, lookback=10)
    with pytest.raises(CONFIG_ERRORS):
        tickforge.label_run(plain, tmp_path / "o1", **SMALL, nbin=5)
    cfg = tmp_path / "label.json"
    cfg.write_text(json.dumps(dict(SMALL, not_a_key=1)))
    with pytest.raises(CONFIG_ERRORS):
        tickforge.label_run(plain, tmp_path / "o2", config=cfg)
    assert not list((tmp_path).rglob("*_dataset.parquet"))


@pytest.mark.parametrize("bad", [dict(nbins=1), dict(nbins=256), dict(mode="uniform"),
                                 dict(features=["volume", "colour"])])
def test_invalid_config_values_raise(plain, tmp_path, bad):
    with pytest.raises(CONFIG_ERRORS):
        tickforge.label_run(plain, tmp_path / "o", **dict(SMALL, **bad))
    assert not list((tmp_path).rglob("*_dataset.parquet"))


def test_valid_features_and_nbins_limits(plain, tmp_path):
    config = dict(SMALL, nbins=255, features=["volume", "variance", "trade_counts"],
                  jump_size=1)
    ref = Reference(dbn_files(plain), **{k: v for k, v in config.items() if k != "features"})
    thr, report, out = fit_and_build(plain, tmp_path, **config)
    check_thresholds(thr, ref)
    check_build(out, report, ref)


# ---------------------------------------------------------------------------------------------
# Tests: bad input files
# ---------------------------------------------------------------------------------------------


def copy_dir(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def truncate(path: Path, keep: float):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.mark.parametrize("which", ["fit-file", "later-file"])
def test_corrupt_file_fails_the_build(plain, tmp_path, which):
    d = copy_dir(plain, tmp_path / "in")
    files = dbn_files(d)
    bad = files[0] if which == "fit-file" else files[-1]
    truncate(bad, 0.6)
    out = tmp_path / "out"
    with pytest.raises(tickforge.TickforgeError) as info:
        tickforge.label_run(d, out, **SMALL)
    assert bad.name in str(info.value)
    assert re.search(r"(byte|offset)\D{0,3}\d+", str(info.value)), str(info.value)
    left = all_files(out) if out.exists() else set()
    assert not any("dataset" in f or f.endswith(".parquet") for f in left), left
    assert left <= {"thresholds.json"}, f"files left behind: {sorted(left)}"


def test_corrupt_file_fails_label_build(plain, tmp_path):
    d = copy_dir(plain, tmp_path / "in")
    thr_path = tmp_path / "thresholds.json"
    tickforge.label_fit(d, thr_path, **SMALL)
    bad = dbn_files(d)[-1]
    truncate(bad, 0.5)
    out = tmp_path / "out"
    with pytest.raises(tickforge.TickforgeError) as info:
        tickforge.label_build(d, thr_path, out, **SMALL)
    assert bad.name in str(info.value)
    left = all_files(out) if out.exists() else set()
    assert not left, f"files left behind: {sorted(left)}"


def test_skip_bad_files_records_them(plain, tmp_path):
    d = copy_dir(plain, tmp_path / "in")
    good = dbn_files(d)
    garbage = d / "glbx-mdp3-garbage.mbp-10.dbn.zst"
    garbage.write_bytes(np.random.default_rng(0).bytes(5000))
    not_dbn = d / "glbx-mdp3-notdbn.dbn"
    not_dbn.write_bytes(b"this is not a DBN file\n" * 20)
    config = dict(SMALL, nbins=13, seed=3)
    out = tmp_path / "out"
    with pytest.raises(tickforge.TickforgeError):
        tickforge.label_run(d, tmp_path / "strict", **config)
    report = tickforge.label_run(d, out, skip_bad_files=True, **config)
    text = json.dumps(report)
    assert garbage.name in text and not_dbn.name in text
    # Unreadable files cannot be ordered or read: the result is that of the good files alone.
    ref = Reference(good, **config)
    check_thresholds(read_json(out / "thresholds.json"), ref)
    check_build(out, report, ref)


@pytest.mark.parametrize("kind", ["zst", "raw"])
def test_skip_bad_files_truncated(plain, quirky, tmp_path, kind):
    """A file that breaks part-way is skipped whole; the rest is labeled as without it."""
    d = copy_dir(plain if kind == "zst" else quirky, tmp_path / "in")
    config = dict(SMALL, nbins=13, seed=5)
    files = Reference(dbn_files(d), **config).inp.files
    bad = files[-1]
    if kind == "zst":
        truncate(bad, 0.5)
    else:  # cut a raw file in the middle of a record, after many good records
        data = bad.read_bytes()
        base = 8 + struct.unpack_from("<I", data, 4)[0]
        cut = base + (len(data) - base) // 2 // REC_SIZE * REC_SIZE + 100
        bad.write_bytes(data[:cut])
    out = tmp_path / "out"
    with pytest.raises(tickforge.TickforgeError) as info:
        tickforge.label_run(d, tmp_path / "strict", **config)
    assert bad.name in str(info.value)
    report = tickforge.label_run(d, out, skip_bad_files=True, **config)
    assert bad.name in json.dumps(report)
    ref = Reference(files[:-1], **config)
    check_thresholds(read_json(out / "thresholds.json"), ref)
    check_build(out, report, ref)
