"""Data-quality checks recorded at each commit (``store quality``, ``tickforge.store_quality``).

Generated data carries defects patched in at known rows; the counts and example rows must be
exactly those, and equal a pandas/numpy reimplementation of each check run on the files the
store wrote. Real files (Binance and nautilus klines, DBN MBP-10/MBO) must give the counts an
independent pandas computation on the sources gives.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tickforge
from conftest import require_testdata

MINUTE = 60_000
DAY = 86_400_000
T0 = 1_704_067_200_000  # 2024-01-01
UNDEF = np.iinfo(np.int64).max
TICK = 1_000_000_000  # DBN fixed-point prices: 1e-9


# --- the oracle: the checks reimplemented on the files the store wrote ----------------------------


class Findings:
    """check -> count and (file, row) examples, as the store reports them."""

    def __init__(self):
        self.count = defaultdict(int)
        self.where = defaultdict(list)

    def flag(self, check, path, rows, n=None):
        rows = list(np.asarray(rows).ravel())
        n = np.ones(len(rows), dtype=np.int64) if n is None else np.asarray(n).ravel()
        for row, k in zip(rows, n):
            self.count[check] += int(k)
            self.where[check].append((path, int(row)))

    def counts(self):
        return {k: v for k, v in self.count.items() if v}


def live_files(root: Path, dataset: str) -> list[tuple[str, pd.DataFrame]]:
    """The dataset's files (one commit: all live), each as (store path, rows), by first time."""
    out = []
    for path in sorted((root / dataset).rglob("*.parquet")):
        df = pq.read_table(path).to_pandas()
        out.append((path.relative_to(root).as_posix(), df))
    time = "timestamp" if "timestamp" in out[0][1] else "ts_recv"
    return sorted(out, key=lambda f: int(pd.Series(f[1][time]).astype("int64").iloc[0]))


def klines_oracle(files, interval=MINUTE) -> Findings:
    f = Findings()
    prev = None
    for path, df in files:
        ts = df["timestamp"].to_numpy(np.int64)
        o, h, l, c = (df[k].to_numpy(float) for k in ("open", "high", "low", "close"))
        full = np.concatenate([[prev], ts]) if prev is not None else ts
        d = np.diff(full)
        rows = np.arange(len(ts))[-len(d):] if len(d) else np.array([], int)
        f.flag("duplicate_interval", path, rows[d == 0])
        f.flag("time_backwards", path, rows[d < 0])
        miss = np.where(d > 0, d // interval - 1, 0)
        f.flag("missing_interval", path, rows[miss > 0], miss[miss > 0])
        f.flag("off_grid", path, np.flatnonzero(ts % interval != 0))
        f.flag("non_positive_price", path, np.flatnonzero((o <= 0) | (h <= 0) | (l <= 0) | (c <= 0)))
        bad = (h < np.maximum(o, c)) | (l > np.minimum(o, c)) | (l > h)
        f.flag("ohlc_inconsistent", path, np.flatnonzero(bad))
        prev = ts[-1]
    return f


def dropped_repeats(f: Findings, check, files, input_df, key, time="timestamp"):
    """Rows of the input dropped as repeats of an earlier input row: each sits next to the last
    kept row before it in its day's file."""
    day = input_df[time] // DAY
    by_day = {int(pd.Series(df[time]).iloc[0]) // DAY: path for path, df in files}
    for d, part in input_df.groupby(day, sort=False):
        repeated = part[key].duplicated().to_numpy()
        kept_before = np.cumsum(~repeated)
        f.flag(check, by_day[d], (kept_before - 1)[repeated])


def aggtrades_oracle(files) -> Findings:
    f = Findings()
    prev_id = prev_t = None
    for path, df in files:
        ids = df["trade_id"].to_numpy(np.int64)
        ts = df["timestamp"].to_numpy(np.int64)
        if prev_id is not None:
            ids_all, ts_all = np.concatenate([[prev_id], ids]), np.concatenate([[prev_t], ts])
            rows = np.arange(len(ids))
        else:
            ids_all, ts_all, rows = ids, ts, np.arange(1, len(ids))
        di, dt = np.diff(ids_all), np.diff(ts_all)
        f.flag("id_repeat", path, rows[di == 0])
        f.flag("id_backwards", path, rows[di < 0])
        f.flag("id_gap", path, rows[di > 1])
        f.flag("time_backwards", path, rows[dt < 0])
        f.flag("non_positive_price", path, np.flatnonzero(df["trade_price"].to_numpy(float) <= 0))
        prev_id, prev_t = ids[-1], ts[-1]
    return f


def book_oracle(files, k=25.0) -> Findings:
    f = Findings()
    deltas = []  # (delta, path, row), over the whole partition
    for path, df in files:
        ts = pd.Series(df["ts_recv"]).astype("int64").to_numpy()
        rows = np.arange(1, len(ts))
        f.flag("time_backwards", path, rows[np.diff(ts) < 0])
        seq = df["sequence"].to_numpy(np.int64)
        nz = np.flatnonzero(seq != 0)
        gaps = nz[1:][np.diff(seq[nz]) > 1]
        f.flag("sequence_gap", path, gaps)
        levels = sorted(c for c in df.columns if c.startswith("bid_px_"))
        hole = np.zeros(len(df), bool)
        for side in ("bid", "ask"):
            defined = np.stack([df[f"{side}_px_{i:02d}"].to_numpy(np.int64) != UNDEF for i in range(len(levels))], 1)
            undefined_above = np.cumsum(~defined, axis=1) > 0
            hole |= (defined[:, 1:] & undefined_above[:, :-1]).any(axis=1)
        f.flag("undefined_level", path, np.flatnonzero(hole))
        b, a = df["bid_px_00"].to_numpy(np.int64), df["ask_px_00"].to_numpy(np.int64)
        both = (b != UNDEF) & (a != UNDEF)
        f.flag("crossed", path, np.flatnonzero(both & (b > a)))
        f.flag("locked", path, np.flatnonzero(both & (b == a)))
        valid = np.flatnonzero(both & (b <= a))
        mid = (b[valid].astype(float) + a[valid].astype(float)) / 2
        for j in range(1, len(valid)):
            if mid[j] != mid[j - 1]:
                deltas.append((mid[j] - mid[j - 1], path, valid[j]))
    if deltas:
        threshold = k * np.median([abs(d) for d, _, _ in deltas])
        for d, path, row in deltas:
            if threshold > 0 and abs(d) > threshold:
                f.flag("mid_jump", path, [row])
    return f


def counts_of(report: dict, dataset: str) -> dict:
    return {name: c["count"] for name, c in report["datasets"][dataset]["checks"].items()}


def examples_of(report: dict, dataset: str) -> dict:
    return {name: sorted((e["file"], e["row"]) for e in c["examples"])
            for name, c in report["datasets"][dataset]["checks"].items()}


def assert_matches(report, dataset, oracle: Findings):
    assert counts_of(report, dataset) == oracle.counts()
    examples = examples_of(report, dataset)
    for check, where in oracle.where.items():
        if len(where) <= 5:  # every defect is an example when there are few (5 per file kept)
            assert examples[check] == sorted(where), check


# --- generated data with defects at known rows ------------------------------------------------


def klines_with_defects() -> pd.DataFrame:
    n = 2 * 1440
    ts = T0 + np.arange(n, dtype=np.int64) * MINUTE
    base = 100 + np.cumsum(np.random.default_rng(1).normal(0, 0.1, n))
    df = pd.DataFrame({"timestamp": ts, "open": base, "high": base + 1, "low": base - 1, "close": base + 0.5,
                       "volume": 1.0, "symbol": "BTCUSDT"})
    df.loc[300, "high"] = df.loc[300, "open"] - 0.5  # high below open
    df.loc[400, "low"] = 0.0  # zero price
    df.loc[500, "timestamp"] += 7  # off the minute grid
    dup = df.iloc[[200]].assign(close=1.0)  # the same minute again, other values
    df = pd.concat([df.iloc[:201], dup, df.iloc[201:]], ignore_index=True)
    # Drop one minute inside day 1 and the first minute of day 2 (a gap across partitions).
    df = df.drop(index=[100, 1441]).reset_index(drop=True)
    return df


def test_klines_defects_at_known_rows(tmp_path):
    root = tmp_path / "store"
    store = tickforge.Store(root)
    data = klines_with_defects()
    info = store.write("klines", data, type="klines", constants={"exchange": "binance", "timeframe": "1m"})
    assert info["rows_duplicate"] == 1
    report = tickforge.store_quality(root)
    assert counts_of(report, "klines") == {"missing_interval": 2, "duplicate_interval": 1, "ohlc_inconsistent": 1,
                                           "non_positive_price": 1, "off_grid": 1}
    files = live_files(root, "klines")
    day1, day2 = files[0][0], files[1][0]
    # Input rows: minute 100 dropped, so minute 101 is row 100; the duplicate of minute 200
    # (row 199 after the drop) follows it; minutes 300/400/500 are rows 300/400/500.
    assert examples_of(report, "klines") == {
        "missing_interval": [(day1, 100), (day2, 0)],
        "duplicate_interval": [(day1, 199)],
        "ohlc_inconsistent": [(day1, 299)],
        "non_positive_price": [(day1, 399)],
        "off_grid": [(day1, 499)],
    }
    oracle = klines_oracle(files)
    dropped_repeats(oracle, "duplicate_interval", files, data, "timestamp")
    assert_matches(report, "klines", oracle)
    assert report["datasets"]["klines"]["rows"] == len(data) - 1
    assert report["totals"]["missing_interval"] == 2


def test_aggtrades_id_gap_repeat_and_time_backwards(tmp_path):
    root = tmp_path / "store"
    n = 2000
    ts = T0 + np.arange(n, dtype=np.int64) * (DAY // 1000)  # two days
    df = pd.DataFrame({"timestamp": ts, "trade_id": np.arange(1, n + 1, dtype=np.int64), "trade_price": 10.0,
                       "trade_quantity": 1.0, "trade_is_buyer_maker": False, "symbol": "BTCUSDT"})
    df.loc[200, "timestamp"] = df.loc[199, "timestamp"] - 5000  # time backwards
    df.loc[300, "trade_price"] = 0.0
    repeat = df.iloc[[119]].assign(trade_price=11.0)  # id 120 again, dropped as a repeat
    df = pd.concat([df.iloc[:120], repeat, df.iloc[120:]], ignore_index=True)
    df = df.drop(index=[50, 1001]).reset_index(drop=True)  # id 51 missing, id 1001 (first of day 2) missing
    store = tickforge.Store(root)
    store.write("aggtrades", df, type="aggtrades", constants={"exchange": "binance"})
    report = store.quality()
    assert counts_of(report, "aggtrades") == {"id_gap": 2, "id_repeat": 1, "time_backwards": 1,
                                              "non_positive_price": 1}
    files = live_files(root, "aggtrades")
    oracle = aggtrades_oracle(files)
    dropped_repeats(oracle, "id_repeat", files, df, "trade_id")
    assert_matches(report, "aggtrades", oracle)
    assert examples_of(report, "aggtrades")["id_repeat"] == [(files[0][0], 118)]


def test_funding_missing_interval(tmp_path):
    root = tmp_path / "store"
    h8 = 8 * 3_600_000
    ts = T0 + np.arange(9, dtype=np.int64) * h8 + np.array([0, 5, 3, 0, 9, 1, 0, 2, 4])  # drift of a few ms
    df = pd.DataFrame({"timestamp": ts, "funding_rate": 0.0001, "symbol": "BTCUSDT"}).drop(index=[4])
    store = tickforge.Store(root)
    store.write("funding", df, type="funding", constants={"exchange": "binance"})
    report = store.quality()
    assert counts_of(report, "funding") == {"missing_interval": 1}
    files = live_files(root, "funding")
    # Row 4 (day 2's 08:00) is gone: day 2's file holds 00:00 and 16:00, its row 1.
    assert examples_of(report, "funding")["missing_interval"] == [(files[1][0], 1)]


def book_with_defects() -> pd.DataFrame:
    n = 300
    rng = np.random.default_rng(7)
    bid = 1000 * TICK + np.cumsum(rng.choice([-1, 0, 1], n)) * TICK
    bid[120:] += 1000 * TICK  # a mid jump at row 120
    ask = bid + 2 * TICK
    ask[20] = bid[20] - TICK  # crossed
    ask[40] = bid[40]  # locked
    bid1, ask1 = bid - TICK, ask + TICK
    bid_60 = bid[60]
    bid[60] = UNDEF  # an undefined best bid above a defined second level
    seq = np.arange(1, n + 1, dtype=np.int64)
    seq[80:] += 3  # a sequence gap at row 80
    ts = 1_704_067_200_000_000_000 + np.arange(n, dtype=np.int64) * 1_000_000
    ts[150] = ts[149] - 10  # time backwards
    df = pd.DataFrame({"ts_recv": pd.to_datetime(ts, unit="ns"), "sequence": seq.astype(np.uint32),
                       "bid_px_00": bid, "ask_px_00": ask, "bid_px_01": bid1, "ask_px_01": ask1, "symbol": "ESH4"})
    assert bid_60 != UNDEF
    # Row 170 again, identical in every column: a duplicate record (kept, it is its own row).
    return pd.concat([df.iloc[:171], df.iloc[[170]], df.iloc[171:]], ignore_index=True)


def test_mbp10_crossed_locked_gap_jump_duplicate(tmp_path):
    root = tmp_path / "store"
    df = book_with_defects()
    store = tickforge.Store(root)
    store.write("mbp10", pa.Table.from_pandas(df, preserve_index=False), type="mbp10",
                constants={"dataset": "TEST"})
    report = store.quality()
    counts = counts_of(report, "mbp10")
    assert {k: counts[k] for k in ("crossed", "locked", "undefined_level", "sequence_gap", "time_backwards",
                                   "duplicate_record")} == {
        "crossed": 1, "locked": 1, "undefined_level": 1, "sequence_gap": 1, "time_backwards": 1,
        "duplicate_record": 1}
    examples = examples_of(report, "mbp10")
    path = live_files(root, "mbp10")[0][0]
    assert examples["crossed"] == [(path, 20)]
    assert examples["locked"] == [(path, 40)]
    assert examples["undefined_level"] == [(path, 60)]
    assert examples["sequence_gap"] == [(path, 80)]
    assert examples["time_backwards"] == [(path, 150)]
    assert examples["duplicate_record"] == [(path, 171)]
    assert (path, 120) in examples["mid_jump"]
    oracle = book_oracle(live_files(root, "mbp10"))
    oracle.flag("duplicate_record", path, [171])
    assert_matches(report, "mbp10", oracle)


def test_commit_records_quality_and_compaction_retires_it(tmp_path):
    root = tmp_path / "store"
    store = tickforge.Store(root)
    consts = {"exchange": "binance", "timeframe": "1m"}
    day = pd.DataFrame({"timestamp": T0 + np.arange(10) * MINUTE, "open": 1.0, "high": 2.0, "low": 0.5,
                        "close": 1.5, "volume": 1.0, "symbol": "BTCUSDT"})
    store.write("klines", day.iloc[:5].assign(open=0.0), type="klines", constants=consts)  # 5 zero opens
    store.write("klines", day.iloc[5:], type="klines", constants=consts)
    assert counts_of(store.quality(), "klines") == {"non_positive_price": 5, "ohlc_inconsistent": 5}
    assert counts_of(store.quality(version=2), "klines") == counts_of(store.quality(version=1), "klines")
    store.compact("klines", min_files=2)
    after = store.quality()
    # The compaction checked its merged file afresh; the retired files no longer count.
    assert after["datasets"]["klines"]["files"] == 1
    assert after["datasets"]["klines"]["rows"] == 10
    assert counts_of(after, "klines") == {"non_positive_price": 5, "ohlc_inconsistent": 5}
    # Filters: another symbol or a later day selects nothing.
    assert store.quality(symbol="ETHUSDT")["datasets"]["klines"]["files"] == 0
    assert store.quality(since="2024-01-02")["datasets"]["klines"]["files"] == 0
    assert store.quality(since="2024-01-01")["datasets"]["klines"]["files"] == 1
    # Quality off: the commit records none and its files count as unchecked.
    store.write("klines", day.assign(timestamp=day.timestamp + DAY), type="klines", constants=consts, quality=False)
    assert store.quality()["datasets"]["klines"]["files_unchecked"] == 1
    with pytest.raises(Exception, match="unknown key"):
        store.quality(datset="klines")


# --- real files against pandas on the sources -------------------------------------------------


def read_kline_csv(path: Path) -> pd.DataFrame:
    first = path.read_text().split("\n", 1)[0]
    header = 0 if not first.split(",")[0].strip().lstrip("-").isdigit() else None
    df = pd.read_csv(path, header=header)
    df = df.iloc[:, :5]
    df.columns = ["timestamp", "open", "high", "low", "close"]
    ts = df["timestamp"].astype(np.int64)
    df["timestamp"] = np.where(ts >= 10**14, ts // 1000, ts)  # the parser's µs rule
    return df


def kline_source_counts(df: pd.DataFrame) -> dict:
    ts = df["timestamp"].to_numpy(np.int64)
    d = np.diff(ts)
    o, h, l, c = (df[k].to_numpy(float) for k in ("open", "high", "low", "close"))
    counts = {
        "missing_interval": int(np.where(d > 0, d // MINUTE - 1, 0).clip(0).sum()),
        "duplicate_interval": int(pd.Series(ts).duplicated().sum()),
        "time_backwards": int((d < 0).sum()),
        "off_grid": int((ts % MINUTE != 0).sum()),
        "non_positive_price": int(((o <= 0) | (h <= 0) | (l <= 0) | (c <= 0)).sum()),
        "ohlc_inconsistent": int(((h < np.maximum(o, c)) | (l > np.minimum(o, c)) | (l > h)).sum()),
    }
    return {k: v for k, v in counts.items() if v}


@pytest.mark.parametrize("parts", [("binance", "ALGOUSDT-1m-2024-02.csv"), ("binance", "NEARUSDT-1m-2026-06.csv"),
                                   ("nautilus", "ADABTC-1m-2021-11-27.csv"), ("patched", "ALGOUSDT-1m-2024-02.csv")])
def test_real_klines_counts_equal_pandas(tmp_path, parts):
    if parts[0] == "patched":
        # The real month with defects patched into its lines: a minute deleted, one repeated,
        # a zero open, a high below the close.
        lines = require_testdata("binance", parts[1]).read_text().splitlines()
        lines.insert(2001, lines[2000])
        del lines[1000]
        cells = lines[3000].split(",")
        cells[1] = "0"
        lines[3000] = ",".join(cells)
        cells = lines[4000].split(",")
        cells[2] = str(float(cells[4]) / 2)
        lines[4000] = ",".join(cells)
        src = tmp_path / parts[1]
        src.write_text("\n".join(lines) + "\n")
    else:
        src = require_testdata(*parts)
    sources = [src]
    if parts[0] == "nautilus":  # two consecutive days in one commit: the boundary counts too
        sources.append(require_testdata("nautilus", "ADABTC-1m-2021-11-28.csv"))
    root = tmp_path / "store"
    store = tickforge.Store(root)
    store.ingest([str(s) for s in sources], verify_checksum=False)
    report = store.quality()
    expected = kline_source_counts(pd.concat([read_kline_csv(s) for s in sources], ignore_index=True))
    assert counts_of(report, "klines") == expected
    if parts[0] == "patched":
        assert expected == {"missing_interval": 1, "duplicate_interval": 1, "non_positive_price": 1,
                            "ohlc_inconsistent": 2}
    assert report["datasets"]["klines"]["rows"] == sum(len(read_kline_csv(s)) for s in sources) - (
        expected.get("duplicate_interval", 0))
    oracle = klines_oracle(live_files(root, "klines"))
    if parts[0] == "patched":
        oracle.count["duplicate_interval"] += 1  # dropped on the way in: not in the files
    assert_matches(report, "klines", oracle)


@pytest.mark.parametrize("parts", [("dbn", "test_data.mbp-10.v3.dbn.zst"), ("dbn", "test_data.mbo.v3.dbn.zst"),
                                   ("nautilus", "databento", "esh4-glbx-mdp3-20231224.mbo.dbn.zst")])
def test_real_dbn_counts_equal_pandas(tmp_path, parts):
    src = require_testdata(*parts)
    root = tmp_path / "store"
    store = tickforge.Store(root)
    store.ingest([str(src)])
    report = store.quality()
    (dataset,) = report["datasets"]
    files = live_files(root, dataset)
    oracle = book_oracle(files) if dataset == "mbp10" else Findings()
    # Duplicate records: rows equal in every column to an earlier one of their partition.
    for path, df in files:
        dup = np.flatnonzero(df.astype(str).duplicated().to_numpy())
        oracle.flag("duplicate_record", path, dup)
    assert_matches(report, dataset, oracle)
    assert report["datasets"][dataset]["rows"] == sum(len(df) for _, df in files)


# --- the command line ---------------------------------------------------------------------------


def test_cli_quality_json_and_fail_on(tmp_path):
    cli = tickforge.native_cli()
    if not cli.exists():
        pytest.skip("the tickforge command is not built")
    root = tmp_path / "store"
    store = tickforge.Store(root)
    store.write("mbp10", pa.Table.from_pandas(book_with_defects(), preserve_index=False), type="mbp10",
                constants={"dataset": "TEST"})
    clean = klines_with_defects().iloc[:50].drop(columns=[])
    store.write("klines", clean, type="klines", constants={"exchange": "binance", "timeframe": "1m"})

    def run(*args):
        return subprocess.run([str(cli), "store", "quality", str(root), *args], capture_output=True, text=True)

    out = run("--json")
    assert out.returncode == 0, out.stderr
    parsed = json.loads(out.stdout)
    assert parsed == tickforge.store_quality(root)
    text = run()
    assert text.returncode == 0 and "crossed" in text.stdout and "mbp10" in text.stdout
    failed = run("--fail-on", "crossed,gaps")
    assert failed.returncode == 2
    assert "crossed (1)" in failed.stderr and "sequence_gap (1)" in failed.stderr
    # The klines alone (first 50 rows, minute 100 is later) have no gaps: the pipeline goes on.
    assert run("--dataset", "klines", "--fail-on", "gaps,crossed").returncode == 0
    assert run("--dataset", "klines", "--fail-on", "all").returncode == 0
    unknown = run("--fail-on", "crosed")
    assert unknown.returncode == 1 and "unknown check 'crosed'" in unknown.stderr
    missing = run("--dataset", "nope")
    assert missing.returncode == 1


# --- the HTML report ------------------------------------------------------------------------------


def report_store(root: Path) -> Path:
    """A store with klines (a missing day, a gap), an MBP-10 dataset and a labeled dataset."""
    store = tickforge.Store(root)
    consts = {"exchange": "binance", "timeframe": "1m"}
    klines = klines_with_defects()
    for symbol in ("BTCUSDT", "ETHUSDT"):
        store.write("klines", klines.assign(symbol=symbol), type="klines", constants=consts)
    later = klines.iloc[:100].assign(timestamp=klines.timestamp.iloc[:100] + 3 * DAY, symbol="BTCUSDT")
    store.write("klines", later, type="klines", constants=consts)  # day 3 has no rows, day 4 has
    book = book_with_defects()
    store.write("mbp10", pa.Table.from_pandas(book, preserve_index=False), type="mbp10", constants={"dataset": "TEST"})
    labeled = book.assign(timestamp=book["ts_recv"], bid_sz_00=np.uint32(5), ask_sz_00=np.uint32(7),
                          classification_label=np.arange(len(book)) % 3)
    store.write("labeled", pa.Table.from_pandas(labeled, preserve_index=False), type="labeled")
    return root


def test_report_is_one_self_contained_page(tmp_path):
    pytest.importorskip("matplotlib")
    root = report_store(tmp_path / "store")
    out = tmp_path / "report.html"
    # `python -m tickforge report`: the package's entry point, as the command line runs it.
    proc = subprocess.run([sys.executable, "-m", "tickforge", "report", str(root), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing from the network
    assert "<script" not in page
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    # Coverage of 3 datasets, class distribution, at least one depth image.
    assert len(images) >= 5
    for data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    quality = tickforge.store_quality(root)
    for check in ("missing_interval", "crossed", "duplicate_record"):
        assert check in page
    assert f"{quality['datasets']['mbp10']['checks']['crossed']['count']:,}" in page


def test_report_in_headless_chromium(tmp_path):
    pytest.importorskip("matplotlib")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium is not installed (the setup script installs Debian's chromium)")
    from tickforge.report import build_report

    out = build_report(report_store(tmp_path / "store"), tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    base = [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # any network use would fail (and log)
            "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp_path / 'profile'}"]
    # The browser is not ours: it runs without the sanitizer runtimes an ASan run preloads into
    # the interpreter (under them it did not finish in 180 s).
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"} | {"HOME": str(tmp_path)}
    proc = subprocess.run([*base, f"--screenshot={shot}", "--window-size=1280,2000", out.as_uri()],
                          capture_output=True, text=True, timeout=180, env=env)
    assert shot.exists(), proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not [line for line in console if re.search(r"error|uncaught", line, re.I)], console
    assert not re.search(r"net::ERR_", proc.stderr), proc.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    not_white = (pixels < 0.95).any(axis=2).mean()
    assert not_white > 0.02, not_white  # the page drew text and images, not a blank screen
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    dom = subprocess.run([*base, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=180, env=env)
    assert "Quality flags" in dom.stdout and dom.stdout.count("<img") >= 5
