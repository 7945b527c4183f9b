"""Binance public data: tickforge.read_binance against pandas and polars parses of the same
files, µs/ms normalization, zip + CHECKSUM, consolidated Parquet, bad input, and the dump
generator (determinism and format).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import tickforge

from conftest import require_testdata

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")

KLINE_COLUMNS = [
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
    "taker_buy_volume", "taker_buy_quote_volume", "ignore",
]
SPOT_AGG_COLUMNS = [
    "agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id", "transact_time",
    "is_buyer_maker", "is_best_match",
]
# Source column -> normalized column.
KLINE_MAP = {
    "open_time": "timestamp", "open": "open", "high": "high", "low": "low", "close": "close",
    "volume": "volume", "close_time": "close_time", "quote_volume": "quote_volume", "count": "count",
    "taker_buy_volume": "taker_buy_volume", "taker_buy_quote_volume": "taker_buy_quote_volume",
    "ignore": "ignore",
}
NORMALIZED_KLINES = [
    "timestamp", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
    "taker_buy_volume", "taker_buy_quote_volume", "ignore", "timestamp_us", "close_time_us",
]


def pandas_klines(path: Path, header: bool) -> "pd.DataFrame":
    kwargs = dict(dtype={"ignore": str})
    if header:
        return pd.read_csv(path, **kwargs)
    return pd.read_csv(path, header=None, names=KLINE_COLUMNS, **kwargs)


def polars_klines(path: Path, header: bool) -> "pl.DataFrame":
    if header:
        return pl.read_csv(path, schema_overrides={"ignore": pl.Utf8})
    return pl.read_csv(path, has_header=False, new_columns=KLINE_COLUMNS, schema_overrides={"column_12": pl.Utf8})


def assert_klines_equal(table: pa.Table, frame: dict) -> None:
    assert table.column_names == NORMALIZED_KLINES
    for source, target in KLINE_MAP.items():
        got = table.column(target).to_pylist()
        want = list(frame[source])
        if target in ("open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume",
                      "taker_buy_quote_volume"):
            want = [float(v) for v in want]
        elif target == "ignore":
            want = [str(v) for v in want]
        else:
            want = [int(v) for v in want]
        assert got == want, target
    assert table.column("timestamp_us").to_pylist() == [int(v) * 1000 for v in frame["open_time"]]
    assert table.column("close_time_us").to_pylist() == [int(v) * 1000 for v in frame["close_time"]]


@pytest.mark.parametrize("name", ["ALGOUSDT-1m-2024-02.csv", "NEARUSDT-1m-2026-06.csv"])
def test_real_futures_klines_with_header_match_pandas_and_polars(name):
    path = require_testdata("binance", name)
    table = tickforge.read_binance(path)
    assert table.num_rows > 40_000
    frame = pandas_klines(path, header=True)
    assert_klines_equal(table, {c: frame[c].tolist() for c in frame.columns})
    frame = polars_klines(path, header=True)
    assert_klines_equal(table, {c: frame[c].to_list() for c in frame.columns})


@pytest.mark.parametrize("name", ["ADABTC-1m-2021-11-27.csv", "ADABTC-1m-2021-11-28.csv"])
def test_real_spot_klines_without_header_match_pandas_and_polars(name):
    path = require_testdata("nautilus", name)
    table = tickforge.read_binance(path, "klines")
    frame = pandas_klines(path, header=False)
    assert table.num_rows == len(frame)
    assert_klines_equal(table, {c: frame[c].tolist() for c in frame.columns})
    frame = polars_klines(path, header=False)
    assert_klines_equal(table, {c: frame[c].to_list() for c in frame.columns})


def test_spot_microsecond_file_normalizes_to_ms_and_keeps_us(tmp_path):
    rows = [
        "1735689600000000,94591.78,94603.99,94567.22,94590.01,8.2913,1735689659999999,784283.77,1203,4.1,387811.1,0",
        "1735689660000123,94590.01,94600.00,94550.00,94560.00,3.5,1735689719999999,331000.0,801,1.2,113000.0,0",
    ]
    path = tmp_path / "BTCUSDT-1m-2025-01-01.csv"
    path.write_text("\n".join(rows) + "\n")
    table = tickforge.read_binance(path)
    raw = pd.read_csv(path, header=None, names=KLINE_COLUMNS)
    assert table.column("timestamp_us").to_pylist() == raw["open_time"].tolist()
    assert table.column("timestamp").to_pylist() == (raw["open_time"] // 1000).tolist()
    assert table.column("close_time").to_pylist() == (raw["close_time"] // 1000).tolist()
    assert table.column("close_time_us").to_pylist() == raw["close_time"].tolist()
    assert table.column("timestamp").to_pylist() == [1735689600000, 1735689660000]


def test_aggtrades_spot_and_futures(tmp_path):
    spot = tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv"
    spot.write_text("26129,0.01633102,4.70443515,27781,27781,1498793709153,True,True\n"
                    "26130,0.01633200,1.5,27782,27785,1498793709200,False,True\n")
    t = tickforge.read_binance(spot)
    ref = pd.read_csv(spot, header=None, names=SPOT_AGG_COLUMNS)
    assert t.column("trade_id").to_pylist() == ref["agg_trade_id"].tolist()
    assert t.column("trade_price").to_pylist() == ref["price"].tolist()
    assert t.column("trade_quantity").to_pylist() == ref["quantity"].tolist()
    assert t.column("timestamp").to_pylist() == ref["transact_time"].tolist()
    assert t.column("trade_is_buyer_maker").to_pylist() == ref["is_buyer_maker"].tolist()
    assert t.column("is_best_match").to_pylist() == ref["is_best_match"].tolist()

    futures = tmp_path / "BTCUSDT-aggTrades-2024-01-02.csv"
    futures.write_text("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
                       "1,42000.10,0.005,10,12,1704153600001,true\n")
    t = tickforge.read_binance(futures)
    assert t.column("is_best_match").to_pylist() == [None]
    assert t.column("trade_is_buyer_maker").to_pylist() == [True]
    assert t.column("first_trade_id").to_pylist() == [10]
    assert t.column("last_trade_id").to_pylist() == [12]


def test_funding(tmp_path):
    path = tmp_path / "BTCUSDT-fundingRate-2024-02.csv"
    path.write_text("calc_time,funding_interval_hours,last_funding_rate\n"
                    "1706745600000,8,0.00010000\n1706774400000,8,-0.00002500\n")
    t = tickforge.read_binance(path)
    assert t.column_names == ["timestamp", "funding_time", "funding_rate", "funding_interval_hours", "timestamp_us"]
    assert t.column("funding_time").to_pylist() == [1706745600000, 1706774400000]
    assert t.column("funding_rate").to_pylist() == [0.0001, -0.000025]
    assert t.column("funding_interval_hours").to_pylist() == [8, 8]


def write_zip(path: Path, name: str, data: bytes, checksum: bool = True) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    if checksum:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        Path(str(path) + ".CHECKSUM").write_text(f"{digest}  {path.name}\n")


def test_zip_with_checksum(tmp_path):
    src = require_testdata("nautilus", "ADABTC-1m-2021-11-27.csv")
    path = tmp_path / "ADABTC-1m-2021-11-27.zip"
    write_zip(path, src.name, src.read_bytes())
    assert tickforge.read_binance(path).equals(tickforge.read_binance(src))

    Path(str(path) + ".CHECKSUM").write_text("0" * 64 + f"  {path.name}\n")
    with pytest.raises(tickforge.TickforgeError, match=r"sha256 mismatch") as error:
        tickforge.read_binance(path)
    assert str(path) in str(error.value)
    assert tickforge.read_binance(path, verify_checksum=False).num_rows == 10

    two = tmp_path / "ADABTC-1m-2021-11-28.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.csv", src.read_bytes())
        z.writestr("b.csv", src.read_bytes())
    with pytest.raises(tickforge.TickforgeError, match=r"2 entries"):
        tickforge.read_binance(two)


def test_consolidated_parquet_pandas_datetimes_and_int_ms(tmp_path):
    times = pd.to_datetime([1706745600000, 1706745660000], unit="ms", utc=True)
    frame = pd.DataFrame({
        "timestamp": times, "open": [1.0, 2.0], "high": [1.5, 2.5], "low": [0.5, 1.5],
        "close": [1.2, 2.2], "volume": [10.0, 20.0], "source": ["a", "b"],
    })
    path = tmp_path / "klines_binance_BTCUSDT_1m_consolidated.parquet"
    frame.to_parquet(path)
    t = tickforge.read_binance(path)
    assert t.column_names == NORMALIZED_KLINES + ["source"]
    assert t.column("timestamp").to_pylist() == [1706745600000, 1706745660000]
    assert t.column("timestamp_us").to_pylist() == [1706745600000000, 1706745660000000]
    assert t.column("close").to_pylist() == [1.2, 2.2]
    assert t.column("count").null_count == 2
    assert t.column("source").to_pylist() == ["a", "b"]

    frame["timestamp"] = [1706745600000, 1706745660000]
    frame.to_parquet(path)
    assert tickforge.read_binance(path).column("timestamp").to_pylist() == [1706745600000, 1706745660000]

    agg = pd.DataFrame({
        "timestamp": np.array([1735689600000123, 1735689600000456], dtype=np.int64),  # µs
        "trade_price": [1.0, 2.0], "trade_quantity": [3.0, 4.0],
        "trade_is_buyer_maker": [True, False], "trade_id": [7, 8],
    })
    path = tmp_path / "aggtrades_binance_BTCUSDT_consolidated.parquet"
    agg.to_parquet(path)
    t = tickforge.read_binance(path)
    assert t.column("timestamp").to_pylist() == [1735689600000, 1735689600000]
    assert t.column("timestamp_us").to_pylist() == [1735689600000123, 1735689600000456]
    assert t.column("trade_id").to_pylist() == [7, 8]

    fut = pd.DataFrame({"timestamp": [1706745600000], "funding_rate": [0.0001], "funding_time": [1706745600000]})
    path = tmp_path / "futures_binance_BTCUSDT_consolidated.parquet"
    fut.to_parquet(path)
    t = tickforge.read_binance(path)
    assert t.column("funding_rate").to_pylist() == [0.0001]
    assert t.column("funding_time").to_pylist() == [1706745600000]

    fut = fut.drop(columns=["funding_rate"])
    fut.to_parquet(path)
    with pytest.raises(tickforge.TickforgeError, match=r"required column 'funding_rate'"):
        tickforge.read_binance(path)


@pytest.mark.parametrize(
    "line3, message",
    [
        ("1706745660000,0.1598,0.1601", r"line 3: expected 12 columns, got 3"),
        ("1706745660000,0.1598,0.1601,0.1597,0.1600,39x577.2,1706745719999,62937.8,367,292985.2,46856.9,0",
         r"line 3: column 6 \(volume\): bad number"),
        ("", r"line 3: empty line"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line3, message):
    src = require_testdata("binance", "ALGOUSDT-1m-2024-02.csv")
    lines = src.read_bytes().split(b"\n")
    lines[2] = line3.encode()
    path = tmp_path / "ALGOUSDT-1m-2024-02.csv"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(tickforge.TickforgeError, match=message) as error:
        tickforge.read_binance(path)
    assert str(path) in str(error.value)


def test_truncated_and_corrupt_inputs_raise_tickforge_errors(tmp_path):
    src = require_testdata("nautilus", "ADABTC-1m-2021-11-28.csv").read_bytes()
    path = tmp_path / "ADABTC-1m-2021-11-28.csv"
    for cut in range(0, len(src), 7):
        path.write_bytes(src[:cut])
        try:
            table = tickforge.read_binance(path)
        except tickforge.TickforgeError as error:
            assert str(path) in str(error)
            if cut:
                assert re.search(r": line \d+: ", str(error)), str(error)
        else:
            assert table.num_rows == src[:cut].count(b"\n") + (0 if src[:cut].endswith(b"\n") else 1)
    zpath = tmp_path / "ADABTC-1m-2021-11-28.zip"
    write_zip(zpath, "ADABTC-1m-2021-11-28.csv", src, checksum=False)
    data = zpath.read_bytes()
    for cut in range(0, len(data), 13):
        zpath.write_bytes(data[:cut])
        with pytest.raises(tickforge.TickforgeError) as error:
            tickforge.read_binance(zpath)
        assert str(zpath) in str(error.value)


def test_unknown_file_name_is_named(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("1,2\n")
    with pytest.raises(tickforge.TickforgeError, match="prices.csv"):
        tickforge.read_binance(path)


def digest_tree(paths) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_generator_is_deterministic(tmp_path):
    kwargs = dict(symbols=3, days=2, start="2024-12-31", market="spot", kinds=["klines", "aggtrades"],
                  aggtrades_per_minute=3, seed=11, zip=True)
    a = tickforge.synth_binance(tmp_path / "a", **kwargs)
    b = tickforge.synth_binance(tmp_path / "b", **kwargs)
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    assert digest_tree(a) == digest_tree(b)
    c = tickforge.synth_binance(tmp_path / "c", **{**kwargs, "seed": 12})
    assert digest_tree(a) != digest_tree(c)
    for p in a:
        # Every zip has a CHECKSUM in Binance's format that hashlib agrees with.
        text = Path(str(p) + ".CHECKSUM").read_text()
        assert text == f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"


def test_generator_spot_format(tmp_path):
    paths = tickforge.synth_binance(tmp_path, symbols=["BTCUSDT"], days=2, start="2024-12-31", market="spot",
                                    kinds=["klines", "aggtrades"], aggtrades_per_minute=2)
    names = sorted(p.name for p in paths)
    assert names == ["BTCUSDT-1m-2024-12-31.csv", "BTCUSDT-1m-2025-01-01.csv",
                     "BTCUSDT-aggTrades-2024-12-31.csv", "BTCUSDT-aggTrades-2025-01-01.csv"]
    by_name = {p.name: p for p in paths}
    assert "data/spot/daily/klines/BTCUSDT/1m" in by_name["BTCUSDT-1m-2024-12-31.csv"].as_posix()
    for name, unit in [("BTCUSDT-1m-2024-12-31.csv", 1), ("BTCUSDT-1m-2025-01-01.csv", 1000)]:
        frame = pd.read_csv(by_name[name], header=None, names=KLINE_COLUMNS)
        assert len(frame) == 1440
        day = pd.Timestamp(name[11:21], tz="UTC").value // 1_000_000 * unit
        assert frame["open_time"].tolist() == [day + i * 60_000 * unit for i in range(1440)]
        assert (frame["close_time"] == frame["open_time"] + 60_000 * unit - 1).all()
        assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
        assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
        assert (frame["taker_buy_volume"] <= frame["volume"]).all()
        assert (frame["taker_buy_quote_volume"] <= frame["quote_volume"]).all()
        assert (frame["count"] >= 0).all()
        assert (frame["open"].iloc[1:].values == frame["close"].iloc[:-1].values).all()
        table = tickforge.read_binance(by_name[name])
        assert table.column("timestamp").to_pylist() == (frame["open_time"] // unit).tolist()
    agg = pd.read_csv(by_name["BTCUSDT-aggTrades-2025-01-01.csv"], header=None, names=SPOT_AGG_COLUMNS)
    assert len(agg.columns) == 8 and agg["transact_time"].min() >= 1735689600000000  # µs
    assert (agg["agg_trade_id"].diff().dropna() == 1).all()
    assert (agg["first_trade_id"] <= agg["last_trade_id"]).all()
    assert (agg["first_trade_id"].iloc[1:].values == agg["last_trade_id"].iloc[:-1].values + 1).all()
    assert agg["transact_time"].is_monotonic_increasing


def test_generator_futures_format(tmp_path):
    paths = tickforge.synth_binance(tmp_path, symbols=2, days=2, start="2024-02-28", market="um",
                                    kinds=["klines", "aggtrades", "funding"], monthly=True, aggtrades_per_minute=1)
    names = sorted(p.name for p in paths)
    assert "BTCUSDT-1m-2024-02.csv" in names and "ETHUSDT-1m-2024-02.csv" in names
    assert "BTCUSDT-fundingRate-2024-02.csv" in names and "BTCUSDT-aggTrades-2024-02.csv" in names
    by_name = {p.name: p for p in paths}
    klines = pd.read_csv(by_name["BTCUSDT-1m-2024-02.csv"])
    assert list(klines.columns) == KLINE_COLUMNS and len(klines) == 2 * 1440
    agg = pd.read_csv(by_name["BTCUSDT-aggTrades-2024-02.csv"])
    assert list(agg.columns) == SPOT_AGG_COLUMNS[:7]
    assert agg["is_buyer_maker"].dtype == bool
    funding = pd.read_csv(by_name["BTCUSDT-fundingRate-2024-02.csv"])
    assert list(funding.columns) == ["calc_time", "funding_interval_hours", "last_funding_rate"]
    assert (funding["calc_time"].diff().dropna() == 8 * 3_600_000).all() and len(funding) == 6
    for p in paths:
        assert tickforge.read_binance(p).num_rows > 0


def test_cli_synth_binance(tmp_path):
    exe = tickforge.native_cli()
    if not exe.exists():
        pytest.skip(f"native command not found: {exe} (set TICKFORGE_CLI)")
    out = subprocess.run([str(exe), "synth", "binance", "--out", str(tmp_path), "--symbols", "BTCUSDT,ETHUSDT",
                          "--days", "1", "--start", "2024-03-01", "--market", "cm", "--kinds", "klines,funding",
                          "--zip", "--seed", "5"], capture_output=True, text=True, check=True)
    paths = [Path(line.split()[0]) for line in out.stdout.splitlines()]
    assert len(paths) == 4
    py = tickforge.synth_binance(tmp_path / "py", symbols=["BTCUSDT", "ETHUSDT"], days=1, start="2024-03-01",
                                 market="cm", kinds=["klines", "funding"], zip=True, seed=5)
    assert digest_tree(paths) == digest_tree(py)
