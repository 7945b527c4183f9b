"""The unified store: commits, partitions, dedup, scans, compaction, migration, cache, crashes.

Oracles: Databento's own decoder for DBN ingest; pyarrow.dataset, polars and DuckDB reading the
store as plain Hive-partitioned Parquet; pandas for row multisets.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

import tickforge
from conftest import require_testdata

DAY_MS = 86_400_000
T0 = 1_704_067_200_000  # 2024-01-01 UTC


def klines_frame(symbol: str, start_ms: int, n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 0.1, n))
    return pd.DataFrame({
        "timestamp": start_ms + 60_000 * np.arange(n, dtype=np.int64),
        "open": close + rng.normal(0, 0.01, n),
        "high": close + 0.2,
        "low": close - 0.2,
        "close": close,
        "volume": rng.uniform(0, 10, n),
        "symbol": symbol,
    })


def write_klines(store: tickforge.Store, frame: pd.DataFrame, **options) -> dict:
    options.setdefault("constants", {"exchange": "binance", "timeframe": "1m"})
    return store.write("klines", frame, type="klines", **options)


def rows_multiset(table: pa.Table, columns: list[str]) -> list[tuple]:
    frame = table.select(columns).to_pandas()
    return sorted(map(tuple, frame.itertuples(index=False)))


def dataset_files(root: Path, dataset: str) -> set[str]:
    return {p.relative_to(root).as_posix() for p in (root / dataset).rglob("*.parquet")}


def listed_files(store: tickforge.Store, root: Path, dataset: str) -> set[str]:
    # manifest.json only points at the newest version now; the listing comes from the log.
    return {f["path"] for f in store.files(dataset)}


# ---------------------------------------------------------------------------------------------
# Writing, partitions, reading back with other engines
# ---------------------------------------------------------------------------------------------


def test_partitions_follow_the_design_layout(tmp_path):
    store = tickforge.Store(tmp_path)
    info = write_klines(store, pd.concat([klines_frame("BTCUSDT", T0 + DAY_MS - 600_000, 20),
                                          klines_frame("ETHUSDT", T0 + 31 * DAY_MS, 5)]))
    assert info["version"] == 1 and info["rows_written"] == 25
    dirs = sorted(Path(f["path"]).parent.as_posix() for f in info["added"])
    assert dirs == [
        "klines/exchange=binance/symbol=BTCUSDT/timeframe=1m/year=2024/month=1/day=1",
        "klines/exchange=binance/symbol=BTCUSDT/timeframe=1m/year=2024/month=1/day=2",
        "klines/exchange=binance/symbol=ETHUSDT/timeframe=1m/year=2024/month=2/day=1",
    ]
    assert (tmp_path / "metadata.json").exists() and (tmp_path / "_config.json").exists()
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["datasets"]["klines"]["rows"] == 25
    assert meta["datasets"]["klines"]["symbols"] == ["BTCUSDT", "ETHUSDT"]


def test_other_engines_read_the_store_identically(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    pl = pytest.importorskip("polars")
    store = tickforge.Store(tmp_path)
    frames = [klines_frame(s, T0 + d * DAY_MS, 300, seed=i * 10 + d)
              for i, s in enumerate(["BTCUSDT", "ETHUSDT", "SOLUSDT"]) for d in range(3)]
    write_klines(store, pd.concat(frames))
    cols = ["timestamp", "open", "high", "low", "close", "volume", "symbol"]
    ours = rows_multiset(store.read("klines"), cols)
    assert len(ours) == 2700

    arrow = pads.dataset(tmp_path / "klines", format="parquet", partitioning="hive").to_table()
    assert rows_multiset(arrow, cols) == ours

    polars = pl.scan_parquet(str(tmp_path / "klines" / "**" / "*.parquet"), hive_partitioning=True).collect()
    assert rows_multiset(polars.to_arrow(), cols) == ours

    con = duckdb.connect()
    duck = con.sql(
        f"SELECT * FROM read_parquet('{tmp_path / 'klines'}/**/*.parquet', hive_partitioning = true)"
    ).to_arrow_table()
    assert rows_multiset(duck, cols) == ours
    # The partition columns come back with their values as well.
    assert set(duck.column("exchange").to_pylist()) == {"binance"}


def test_scan_projection_filters_and_pruning(tmp_path):
    store = tickforge.Store(tmp_path)
    frames = [klines_frame(s, T0 + d * DAY_MS, 1440, seed=d) for s in ["BTCUSDT", "ETHUSDT"] for d in range(4)]
    write_klines(store, pd.concat(frames))
    everything = store.read("klines").to_pandas()

    reader, stats = store.scan_with_stats("klines", ["timestamp", "close"], [("symbol", "==", "ETHUSDT")])
    table = reader.read_all()
    assert table.column_names == ["timestamp", "close"]
    assert stats["files_total"] == 8 and stats["files_selected"] == 4
    expected = everything[everything.symbol == "ETHUSDT"]
    assert table.num_rows == len(expected)

    lo, hi = T0 + DAY_MS + 100 * 60_000, T0 + 2 * DAY_MS - 1
    reader, stats = store.scan_with_stats("klines", None, [("timestamp", ">=", lo), ("timestamp", "<=", hi),
                                                           "symbol in BTCUSDT"])
    table = reader.read_all()
    assert stats["files_selected"] == 1  # one day of one symbol
    expected = everything[(everything.timestamp >= lo) & (everything.timestamp <= hi) & (everything.symbol == "BTCUSDT")]
    assert sorted(table.column("timestamp").to_pylist()) == sorted(expected.timestamp.tolist())

    assert store.read("klines", filters=[("day", "=", 3)]).num_rows == 2 * 1440
    pool = tickforge.Store.memory_pool()
    assert pool["max_memory"] > 0 and pool["backend"]
    os.environ["TICKFORGE_SCAN_BATCH_SIZE"] = "1000"
    try:
        batches = list(store.scan("klines", ["close"], [("symbol", "=", "BTCUSDT")]))
    finally:
        del os.environ["TICKFORGE_SCAN_BATCH_SIZE"]
    assert max(b.num_rows for b in batches) <= 1000
    with pytest.raises(tickforge.TickforgeError, match="unknown column 'nope'"):
        store.scan("klines", filters=[("nope", "=", 1)])
    with pytest.raises(tickforge.TickforgeError, match="no column 'nope'"):
        store.scan("klines", ["nope"])


def test_schema_enforcement_names_column_and_value(tmp_path):
    store = tickforge.Store(tmp_path)
    frame = klines_frame("BTCUSDT", T0, 5)
    frame["close"] = ["1.5", "2", "3", "x7", "4"]
    with pytest.raises(tickforge.TickforgeError, match=r"close.*x7"):
        write_klines(store, frame)
    with pytest.raises(tickforge.TickforgeError, match="needs column 'volume'"):
        write_klines(store, klines_frame("BTCUSDT", T0, 5).drop(columns=["volume"]))
    assert store.info()["version"] == 0
    # Convertible values are cast: integer volumes become float64.
    ok = klines_frame("BTCUSDT", T0, 5)
    ok["volume"] = np.arange(5)
    write_klines(store, ok)
    assert store.read("klines").schema.field("volume").type == pa.float64()


@pytest.mark.parametrize("symbol", ["../../x", "a/b", "..", ".hidden", "_tmp", "a%2Fb"])
def test_partition_values_that_escape_are_rejected(tmp_path, symbol):
    store = tickforge.Store(tmp_path / "store")
    with pytest.raises(tickforge.TickforgeError, match="invalid value for partition key 'symbol'"):
        write_klines(store, klines_frame(symbol, T0, 3))
    assert not (tmp_path / "x").exists()
    assert store.info()["version"] == 0


# ---------------------------------------------------------------------------------------------
# Dedup, versions, compaction, migration, materialization, cache
# ---------------------------------------------------------------------------------------------


def test_reingest_is_idempotent_and_latest_timestamp(tmp_path):
    store = tickforge.Store(tmp_path)
    first = klines_frame("BTCUSDT", T0, 2000)
    write_klines(store, first)
    again = write_klines(store, first)
    assert again["rows_written"] == 0 and again["rows_duplicate"] == 2000
    assert again["version"] == 1  # nothing new: no new version
    overlap = klines_frame("BTCUSDT", T0 + 1500 * 60_000, 1000)
    # Its first 500 minutes (and the 10 repeated) are stored already, with other prices.
    with pytest.warns(UserWarning, match="510 rows share their key"):
        info = write_klines(store, pd.concat([overlap, overlap.iloc[:10]]))
    assert info["rows_written"] == 500 and info["rows_duplicate"] == 510 and info["rows_conflicting"] == 510
    table = store.read("klines")
    assert table.num_rows == 2500
    assert len(set(table.column("timestamp").to_pylist())) == 2500
    assert store.latest_timestamp("klines", "BTCUSDT") == T0 + 2499 * 60_000
    assert store.latest_timestamp("klines", "XRPUSDT") is None
    # Older versions stay readable.
    assert store.read("klines", version=1).num_rows == 2000


def test_dbn_rows_deduplicate_as_a_multiset(tmp_path):
    """Two identical trades in one source are both kept; ingesting the source again adds neither."""
    store = tickforge.Store(tmp_path)
    trade = {"ts_recv": pd.Timestamp("2024-01-02T10:00:00Z"), "price": 100, "size": 1, "symbol": "ESH4"}
    frame = pd.DataFrame([trade, trade, {**trade, "size": 2}])
    constants = {"dataset": "GLBX.MDP3"}
    assert store.write("trades", frame, type="trades", constants=constants)["rows_written"] == 3
    assert store.write("trades", frame, type="trades", constants=constants)["rows_written"] == 0
    bigger = pd.concat([frame, frame.iloc[:1]])  # a third copy of the duplicated trade
    assert store.write("trades", bigger, type="trades", constants=constants)["rows_written"] == 1
    assert store.read("trades").num_rows == 4


def test_compaction_preserves_rows_and_hides_replaced_files(tmp_path):
    store = tickforge.Store(tmp_path)
    for i in range(6):
        write_klines(store, pd.concat([klines_frame("BTCUSDT", T0 + i * 200 * 60_000, 200, seed=i),
                                       klines_frame("ETHUSDT", T0 + i * 200 * 60_000, 200, seed=i + 100)]))
    cols = ["timestamp", "open", "close", "volume", "symbol", "day"]
    before = rows_multiset(store.read("klines"), cols)
    files_before = len(store.info()["datasets"]["klines"] and listed_files(store, tmp_path, "klines"))
    info = store.compact("klines", target_rows=100_000)
    assert len(info["removed"]) == files_before
    after = rows_multiset(store.read("klines"), cols)
    assert after == before
    assert dataset_files(tmp_path, "klines") == listed_files(store, tmp_path, "klines")
    # Hive readers see exactly the compacted files: no duplicates.
    arrow = pads.dataset(tmp_path / "klines", format="parquet", partitioning="hive").to_table()
    assert arrow.num_rows == len(before)
    # The snapshot before compaction still reads (its files were retired, not deleted).
    assert rows_multiset(store.read("klines", version=info["version"] - 1), cols) == before


def test_migrate_flat_directory(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    frames = {s: klines_frame(s, T0 + i * DAY_MS, 3000, seed=i) for i, s in enumerate(["ADAUSDT", "BNBUSDT"])}
    for symbol, frame in frames.items():
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), flat / f"{symbol}.parquet")
    (flat / "_ignored.parquet").write_bytes(b"not parquet")
    store = tickforge.Store(tmp_path / "store")
    info = store.migrate(flat, "klines", type="klines", constants={"exchange": "binance", "timeframe": "1m"})
    assert info["rows_written"] == 6000
    cols = ["timestamp", "open", "high", "low", "close", "volume", "symbol"]
    assert rows_multiset(store.read("klines"), cols) == rows_multiset(
        pa.Table.from_pandas(pd.concat(frames.values()), preserve_index=False), cols)
    days = {f["partition"]["day"] for f in info["added"]}
    assert len(days) > 2  # 3000 minutes span three days per symbol


def test_materialize_and_cached_projection_ttl(tmp_path):
    store = tickforge.Store(tmp_path)
    write_klines(store, pd.concat([klines_frame("BTCUSDT", T0, 500), klines_frame("ETHUSDT", T0, 500)]))
    info = store.materialize("klines", "btc_close", columns=["close"], filters=[("symbol", "=", "BTCUSDT")])
    assert info["rows_written"] == 500
    table = store.read("btc_close")
    assert set(table.column("symbol").to_pylist()) == {"BTCUSDT"}
    assert "close" in table.column_names and "open" not in table.column_names

    path, key, hit, rows = store.cached_projection_info("klines", ["timestamp", "close"], [("symbol", "=", "ETHUSDT")])
    assert not hit and rows == 500 and Path(path).exists()
    assert Path(path).is_relative_to(tmp_path / "_cache")
    _, key2, hit2, _ = store.cached_projection_info("klines", ["timestamp", "close"], [("symbol", "=", "ETHUSDT")])
    assert hit2 and key2 == key
    cached = store.cached_projection("klines", ["timestamp", "close"], [("symbol", "=", "ETHUSDT")])
    direct = store.read("klines", ["timestamp", "close"], [("symbol", "=", "ETHUSDT")])
    assert cached.sort_by("timestamp").equals(direct.sort_by("timestamp"))
    time.sleep(0.05)
    _, _, hit3, _ = store.cached_projection_info("klines", ["timestamp", "close"], [("symbol", "=", "ETHUSDT")], ttl=0.01)
    assert not hit3  # older than the TTL: computed again
    assert store.clear_cache(expired_only=False) >= 1
    assert not any((tmp_path / "_cache").iterdir())


# ---------------------------------------------------------------------------------------------
# DBN ingest against Databento's decoder
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dbn/test_data.mbp-10.v3.dbn.zst", "dbn/test_data.trades.v2.dbn.zst",
                                  "nautilus/databento/esh4-glbx-mdp3-20231225.mbo.dbn.zst"])
def test_dbn_ingest_matches_databento(tmp_path, name):
    databento = pytest.importorskip("databento")
    path = require_testdata(*name.split("/"))
    store = tickforge.Store(tmp_path)
    info = store.ingest([path])
    dataset = info["added"][0]["path"].split("/")[0]
    ours = store.read(dataset).to_pandas()
    theirs = databento.DBNStore.from_file(path).to_df(price_type="fixed", pretty_ts=True, map_symbols=True)
    theirs = theirs.reset_index()
    assert len(ours) == len(theirs) == info["rows_written"]
    key = ["ts_recv", "instrument_id", "sequence"]
    for column in ["price", "size", "ts_event", "symbol"] + (["bid_px_00", "ask_sz_09"] if "bid_px_00" in theirs else []):
        a = ours.sort_values(key, kind="stable")[column].astype(str).tolist()
        b = theirs.sort_values(key, kind="stable")[column].astype(str).tolist()
        assert a == b, column
    assert set(ours["dataset"]) == {databento.DBNStore.from_file(path).metadata.dataset}
    again = store.ingest([path])
    assert again["rows_written"] == 0 and again["rows_duplicate"] == len(theirs)


def test_bad_dbn_input_commits_nothing(tmp_path):
    src = require_testdata("dbn", "test_data.mbo.v3.dbn")
    data = src.read_bytes()
    bad = tmp_path / "cut.mbo.dbn"
    bad.write_bytes(data[: len(data) - 7])
    store = tickforge.Store(tmp_path / "store")
    with pytest.raises(tickforge.TickforgeError, match="cut.mbo.dbn"):
        store.ingest([src, bad])
    assert store.info()["version"] == 0
    assert not list((tmp_path / "store").glob("mbo/**/*.parquet"))
    assert not (tmp_path / "store" / "_tickforge" / "staging").exists() or not any(
        (tmp_path / "store" / "_tickforge" / "staging").iterdir())


# ---------------------------------------------------------------------------------------------
# Crashes: a writer killed at random points
# ---------------------------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys, numpy as np, pandas as pd, tickforge
    root, mode = sys.argv[1], sys.argv[2]
    store = tickforge.Store(root)
    if mode == "compact":
        store.compact("klines", target_rows=10**7)
        sys.exit(0)
    k = int(sys.argv[3])
    # Commit k writes 40 symbols x 3 days x 100 rows: 120 partitions, 12,000 rows.
    frames = []
    for s in range(40):
        for d in range(3):
            ts = 1704067200000 + d * 86400000 + k * 100 * 60000 + 60000 * np.arange(100, dtype=np.int64)
            frames.append(pd.DataFrame({"timestamp": ts, "open": 1.0 * k, "high": 2.0, "low": 0.5,
                                        "close": float(s), "volume": float(d), "symbol": f"S{s:03d}USDT"}))
    store.write("klines", pd.concat(frames), type="klines",
                constants={"exchange": "binance", "timeframe": "1m"})
""")


def check_store_consistent(root: Path) -> int:
    """Open the store: every listed file is whole; rows equal the manifest; returns the version."""
    if not (root / "_tickforge").exists():
        return 0  # killed before the store was created
    store = tickforge.Store(root, create=False)
    info = store.info()
    if info["version"] == 0:
        return 0
    manifest = json.loads((root / "_tickforge" / "manifest.json").read_text())
    assert manifest["version"] == info["version"]
    table = store.read("klines")
    assert table.num_rows == info["datasets"]["klines"]["rows"]
    # Every committed write is there entirely: 12,000 rows per write, whatever compaction did.
    opens = table.column("open").to_numpy()
    for k in np.unique(opens):
        assert (opens == k).sum() == 12_000
    return info["version"]


@pytest.mark.parametrize("mode", ["ingest", "compact"])
def test_killed_writer_leaves_a_complete_snapshot(tmp_path, mode, hang_guard):
    hang_guard(400)
    root = tmp_path / "store"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ)
    rng = random.Random(7 if mode == "ingest" else 8)
    committed = 0
    if mode == "compact":
        for k in range(4):
            subprocess.run([sys.executable, str(script), str(root), "ingest", str(k)], check=True, env=env)
        committed = 4
    for trial in range(6):
        args = [sys.executable, str(script), str(root), mode, str(committed + 100 + trial)]
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.4, 2.5))  # python start-up, then somewhere inside the write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        version = check_store_consistent(root)
        assert version >= committed
        committed = version
    # The next writer recovers: dataset folders hold exactly the listed files afterwards.
    subprocess.run([sys.executable, str(script), str(root), "ingest", "999"], check=True, env=env)
    check_store_consistent(root)
    store = tickforge.Store(root)
    assert dataset_files(root, "klines") == listed_files(store, root, "klines")
    staging = root / "_tickforge" / "staging"
    assert not staging.exists() or not any(staging.iterdir())


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def test_cli_store_verbs(tmp_path):
    cli = tickforge.native_cli()
    if not cli.exists():
        pytest.skip("the tickforge command is not built")
    src = require_testdata("dbn", "test_data.mbp-10.v3.dbn.zst")
    root = tmp_path / "store"

    def run(*args):
        return subprocess.run([str(cli), "store", *map(str, args)], capture_output=True, text=True)

    # A first ingest that fails leaves no store behind (and an existing folder as it was).
    (tmp_path / "bad.csv").write_text("x\n")
    for existed in (False, True):
        if existed:
            root.mkdir()
        out = run("ingest", root, tmp_path / "bad.csv")
        assert out.returncode == 1 and "bad.csv" in out.stderr
        assert root.exists() == existed and (not existed or not any(root.iterdir()))
    out = run("ingest", root, src, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["rows_written"] == 2
    out = run("info", root, "--json")
    assert json.loads(out.stdout)["datasets"]["mbp10"]["rows"] == 2
    # A symbol's latest time; one the dataset lacks is "none" with a note of those it has.
    out = run("info", root, "--dataset", "mbp10", "--symbol", "ESH1")
    assert out.returncode == 0 and int(out.stdout) > 0 and not out.stderr
    out = run("info", root, "--dataset", "mbp10", "--symbol", "NOPE")
    assert out.returncode == 0 and out.stdout == "none\n" and "no rows of symbol 'NOPE' (it has ESH1)" in out.stderr
    out = run("scan", root, "mbp10", "--columns", "ts_recv,price", "--filter", "symbol=ESH1")
    assert out.returncode == 0 and "2 rows from version 1" in out.stdout
    out = run("scan", root, "mbp10", "--out", tmp_path / "x.parquet")
    assert pq.read_table(tmp_path / "x.parquet").num_rows == 2
    out = run("compact", root, "mbp10")
    assert out.returncode == 0 and "version 1" in out.stdout
    out = run("scan", root, "nope")
    assert out.returncode == 1 and "no dataset 'nope'" in out.stderr
    # Numbers out of their range are refused with the rule, before anything runs.
    for args, message in ((("--version", "-1"), "--version: '-1' must be 0 or more"),
                          (("--batch-size", "0"), "--batch-size: '0' must be 1 or more")):
        out = run("scan", root, "mbp10", *args)
        assert out.returncode != 0 and message in out.stderr, out.stderr
    out = run("cache", root, "mbp10", "--columns", "price")
    assert out.returncode == 0 and "computed" in out.stdout


# ---------------------------------------------------------------------------------------------
# Binance ingest and the seed's converter
# ---------------------------------------------------------------------------------------------

KLINE_CSV_COLUMNS = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                     "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"]


def read_kline_csv(path: Path) -> pd.DataFrame:
    first = path.read_text().split("\n", 1)[0]
    header = 0 if first.startswith("open_time") else None
    return pd.read_csv(path, header=header, names=KLINE_CSV_COLUMNS)


@pytest.mark.parametrize("name", ["binance/ALGOUSDT-1m-2024-02.csv", "binance/NEARUSDT-1m-2026-06.csv",
                                  "nautilus/ADABTC-1m-2021-11-27.csv"])
def test_binance_klines_ingest_equals_pandas(tmp_path, name):
    path = require_testdata(*name.split("/"))
    store = tickforge.Store(tmp_path)
    info = store.ingest([path])
    expected = read_kline_csv(path)
    assert info["rows_written"] == len(expected)
    symbol = path.name.split("-")[0]
    table = store.read("klines", filters=[("symbol", "==", symbol)]).to_pandas().sort_values("timestamp")
    assert table["timestamp"].tolist() == expected["open_time"].tolist()
    assert table["timestamp_us"].tolist() == (expected["open_time"] * 1000).tolist()
    for ours, theirs in [("open", "open"), ("high", "high"), ("low", "low"), ("close", "close"),
                         ("volume", "volume"), ("close_time", "close_time"), ("quote_volume", "quote_volume"),
                         ("count", "count"), ("taker_buy_volume", "taker_buy_volume"),
                         ("taker_buy_quote_volume", "taker_buy_quote_volume")]:
        assert table[ours].tolist() == expected[theirs].tolist(), ours
    days = pd.to_datetime(expected["open_time"], unit="ms", utc=True)
    assert sorted(set(zip(table["year"], table["month"], table["day"]))) == sorted(
        set(zip(days.dt.year, days.dt.month, days.dt.day)))
    assert set(table["exchange"]) == {"binance"} and set(table["timeframe"]) == {"1m"}
    assert store.ingest([path])["rows_written"] == 0


def test_binance_spot_microseconds_keep_their_resolution(tmp_path):
    src = require_testdata("nautilus", "ADABTC-1m-2021-11-27.csv")
    frame = pd.read_csv(src, header=None, names=KLINE_CSV_COLUMNS)
    shift = 1735689600000 - int(frame.open_time.iloc[0])  # move to 2025-01-01, spot's µs era
    frame["open_time"] = (frame.open_time + shift) * 1000 + 123
    frame["close_time"] = (frame.close_time + shift) * 1000 + 999
    path = tmp_path / "ADABTC-1m-2025-01-01.csv"
    frame.to_csv(path, header=False, index=False)
    store = tickforge.Store(tmp_path / "store")
    store.ingest([path])
    table = store.read("klines").to_pandas().sort_values("timestamp")
    assert table["timestamp_us"].tolist() == frame["open_time"].tolist()
    assert table["timestamp"].tolist() == (frame["open_time"] // 1000).tolist()
    assert set(table["year"]) == {2025}


def test_binance_dumps_zip_and_checksums_idempotent(tmp_path):
    cli = tickforge.native_cli()
    if not cli.exists():
        pytest.skip("the tickforge command is not built")
    subprocess.run([str(cli), "synth", "binance", "--out", str(tmp_path / "dl"), "--symbols", "2", "--days", "2",
                    "--market", "um", "--kinds", "klines,aggtrades,funding", "--zip", "--seed", "3",
                    "--aggtrades-per-minute", "2"], check=True, capture_output=True)
    zips = sorted((tmp_path / "dl").rglob("*.zip"))
    assert zips and all(Path(f"{z}.CHECKSUM").exists() for z in zips)
    store = tickforge.Store(tmp_path / "store")
    info = store.ingest([tmp_path / "dl"])
    datasets = store.info()["datasets"]
    assert set(datasets) == {"klines", "aggtrades", "funding"}
    total = sum(len(tickforge.read_binance(z)) for z in zips)
    assert info["rows_written"] == total
    for name in datasets:  # every listed file is on disk, and nothing else
        assert dataset_files(tmp_path / "store", name) == listed_files(store, tmp_path / "store", name)
    assert store.read("aggtrades").num_rows == datasets["aggtrades"]["rows"]
    assert store.ingest([tmp_path / "dl"])["rows_written"] == 0
    # A damaged archive is refused by its checksum; nothing is committed.
    victim = zips[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(tickforge.TickforgeError, match=victim.name):
        store.ingest([tmp_path / "dl"])
    assert store.info()["version"] == 1


def test_binance_bad_line_is_named_and_nothing_committed(tmp_path):
    src = require_testdata("nautilus", "ADABTC-1m-2021-11-27.csv")
    lines = src.read_text().splitlines()
    lines[4] = lines[4].replace(",", ",x", 1)
    bad = tmp_path / "ADABTC-1m-2021-11-27.csv"
    bad.write_text("\n".join(lines) + "\n")
    store = tickforge.Store(tmp_path / "store")
    with pytest.raises(tickforge.TickforgeError, match=r"ADABTC-1m-2021-11-27\.csv.*line 5"):
        store.ingest([require_testdata("nautilus", "ADABTC-1m-2021-11-28.csv"), bad])
    assert store.info()["version"] == 0


def test_convert_consolidated_backup_store_and_report(tmp_path):
    data = tmp_path / "data_cache"
    data.mkdir()
    klines = klines_frame("BTCUSDT", T0, 3000)
    klines = pd.concat([klines.iloc[:1000], klines.iloc[1010:], klines.iloc[[5]]])  # a gap and a duplicate
    pq.write_table(pa.Table.from_pandas(klines.drop(columns=["symbol"]), preserve_index=False),
                   data / "klines_binance_BTCUSDT_1m_consolidated.parquet")
    trades = pd.DataFrame({"timestamp": T0 + np.arange(500, dtype=np.int64) * 997,
                           "trade_price": 100.0, "trade_quantity": 1.0, "trade_is_buyer_maker": True,
                           "trade_id": np.arange(500, dtype=np.int64)})
    pq.write_table(pa.Table.from_pandas(trades, preserve_index=False),
                   data / "aggtrades_binance_BTCUSDT_consolidated.parquet")
    report = tickforge.convert_consolidated(data)
    assert any("futures" in w for w in report["warnings"])
    backup = Path(report["backup"])
    assert backup.parent == data and sorted(p.name for p in backup.iterdir()) == sorted(
        ["klines_binance_BTCUSDT_1m_consolidated.parquet", "aggtrades_binance_BTCUSDT_consolidated.parquet"])
    by_dataset = {item["dataset"]: item for item in report["sources"]}
    k = by_dataset["klines"]
    assert k["source_rows"] == 2991 and k["duplicates"] == 1 and k["store_rows"] == 2990
    assert k["rows_match"] and not k["monotonic"] and k["gaps"] == 1
    assert by_dataset["aggtrades"]["store_rows"] == 500 and by_dataset["aggtrades"]["monotonic"]
    root = data / "unified"
    for name in ["metadata.json", "_config.json", "validation_report.json"]:
        assert (root / name).exists(), name
    store = tickforge.Store(root)
    assert store.read("klines").num_rows == 2990
    assert json.loads((root / "_config.json").read_text())["symbols"] == ["BTCUSDT"]

    empty = tmp_path / "empty"
    empty.mkdir()
    pq.write_table(pa.Table.from_pandas(trades, preserve_index=False),
                   empty / "aggtrades_binance_BTCUSDT_consolidated.parquet")
    with pytest.raises(tickforge.TickforgeError, match="klines are required"):
        tickforge.convert_consolidated(empty)


def test_write_flat_parquet_and_labeled_type(tmp_path):
    frame = klines_frame("BTCUSDT", T0, 1000)
    rows = tickforge.write_flat_parquet(frame, tmp_path / "flat.parquet", compression="snappy",
                                        max_rows_per_group=300, min_rows_per_group=100,
                                        metadata={"source": "test"})
    assert rows == 1000
    file = pq.ParquetFile(tmp_path / "flat.parquet")
    assert file.metadata.num_row_groups == 4
    assert file.metadata.row_group(0).column(0).compression == "SNAPPY"
    assert file.schema_arrow.metadata[b"source"] == b"test"
    assert file.read().to_pandas().equals(frame)
    with pytest.raises(tickforge.TickforgeError, match="min_rows_per_group"):
        tickforge.write_flat_parquet(frame, tmp_path / "x.parquet", max_rows_per_group=10)
    assert not (tmp_path / "x.parquet").exists()
    store = tickforge.Store(tmp_path / "store")
    info = store.write("labeled", frame, type="labeled")
    assert info["rows_written"] == 1000
    assert store.info()["datasets"]["labeled"]["partition_keys"] == ["symbol", "year", "month", "day"]


@pytest.mark.parametrize("imports", ["tickforge, hashlib", "pyarrow.parquet, tickforge, hashlib, ssl",
                                     "hashlib, tickforge"])
def test_import_order_with_openssl_users(imports, tmp_path):
    """pyarrow's libparquet carries its own OpenSSL symbols; loading tickforge (libzip and
    libcrypto for .zip and .CHECKSUM) before Python's hashlib once crashed the interpreter."""
    dl = tmp_path / "dl"
    code = (f"import {imports}\n"
            "import hashlib, tickforge\n"
            f"tickforge.synth_binance({str(dl)!r}, symbols=1, days=1, kinds=['klines'], zip=True)\n"
            f"z = next(__import__('pathlib').Path({str(dl)!r}).rglob('*.zip'))\n"
            "want = hashlib.sha256(z.read_bytes()).hexdigest()\n"
            "assert open(str(z) + '.CHECKSUM').read().split()[0] == want\n"
            "print(len(tickforge.read_binance(z)))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1440"


def test_generic_write_finds_its_time_column_or_names_what_it_needs(tmp_path):
    """A generic write without a `timestamp` column takes its first column of timestamp type
    (partitions are its days); with none, it is an error listing the columns (it used to
    crash the process)."""
    store = tickforge.Store(tmp_path / "store")
    times = pa.array([T0 * 1_000_000, (T0 + 86_400_000) * 1_000_000], pa.timestamp("ns", tz="UTC"))
    store.write("f", pa.table({"symbol": ["A", "A"], "ts": times, "x": [1.0, 2.0]}))
    assert store.info()["datasets"]["f"]["time_column"] == "ts"
    assert sorted(store.read("f").column("day").to_pylist()) == [1, 2]
    with pytest.raises(tickforge.TickforgeError, match=r"time column 'timestamp'.*ts \(int64\), symbol \(string\)"):
        store.write("g", pa.table({"ts": [T0], "symbol": ["A"]}))
    with pytest.raises(tickforge.TickforgeError, match=r"time column 'timestamp'.*timestamp \(string\)"):
        store.write("h", pa.table({"timestamp": ["2024-01-01"], "symbol": ["A"]}))
    assert set(store.info()["datasets"]) == {"f"}


def test_binance_futures_and_spot_of_one_symbol_keep_their_own_rows(tmp_path):
    """Spot and USD-M files of a symbol have the same names and timestamps; stored under one
    exchange, the second market's rows were dropped as duplicates of the first's."""
    cli = tickforge.native_cli()
    if not cli.exists():
        pytest.skip("the tickforge command is not built")
    for market, seed in (("spot", "1"), ("um", "2")):
        subprocess.run([str(cli), "synth", "binance", "--out", str(tmp_path / market), "--symbols", "1", "--days", "1",
                        "--market", market, "--kinds", "klines", "--seed", seed], check=True, capture_output=True)
    store = tickforge.Store(tmp_path / "store")
    spot = store.ingest([tmp_path / "spot"])
    um = store.ingest([tmp_path / "um"])
    assert um["rows_written"] == um["rows_in"] == spot["rows_in"] > 0
    table = store.read("klines").to_pandas()
    assert sorted(set(table["exchange"])) == ["binance", "binance-um"]
    for market, exchange in (("spot", "binance"), ("um", "binance-um")):
        [csv] = (tmp_path / market).rglob("*.csv")
        expected = tickforge.read_binance(csv).to_pandas()["close"].tolist()
        assert table[table["exchange"] == exchange].sort_values("timestamp")["close"].tolist() == expected


def test_rows_that_differ_from_the_stored_row_of_their_key_are_counted_and_said(tmp_path):
    """A corrected file (same keys, other values) is not taken silently as duplicates: the
    stored rows are kept, and the commit counts and names the rows that differ."""
    import warnings as _warnings

    cli = tickforge.native_cli()
    if not cli.exists():
        pytest.skip("the tickforge command is not built")
    subprocess.run([str(cli), "synth", "binance", "--out", str(tmp_path / "a"), "--symbols", "1", "--days", "1",
                    "--kinds", "klines", "--seed", "4"], check=True, capture_output=True)
    [original] = (tmp_path / "a").rglob("*.csv")
    lines = original.read_text().splitlines()
    first = 1 if not lines[0][0].isdigit() else 0
    for i in (first + 3, first + 100, first + 101):
        cells = lines[i].split(",")
        cells[4] = repr(float(cells[4]) + 0.5)  # close
        lines[i] = ",".join(cells)
    corrected = tmp_path / "b" / original.name
    corrected.parent.mkdir()
    corrected.write_text("\n".join(lines) + "\n")
    a, b = tickforge.read_binance(original).to_pandas(), tickforge.read_binance(corrected).to_pandas()
    differing = int((a != b).any(axis=1).sum())
    assert differing == 3

    store = tickforge.Store(tmp_path / "store")
    store.ingest(original)
    with _warnings.catch_warnings():
        _warnings.simplefilter("error")
        again = store.ingest(original)  # an identical re-ingest says nothing
    assert again["rows_conflicting"] == 0 and again["rows_duplicate"] == len(a)
    with pytest.warns(UserWarning, match=r"klines: 3 rows share their key \(timestamp\) with a stored row"):
        info = store.ingest(corrected)
    assert info["rows_conflicting"] == differing and info["rows_written"] == 0
    stored = store.read("klines").to_pandas().sort_values("timestamp")
    assert stored["close"].tolist() == a["close"].tolist()
    proc = subprocess.run([str(cli), "store", "ingest", str(tmp_path / "store"), str(corrected)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "(3 differ from the stored rows)" in proc.stdout
    assert "warning: klines: 3 rows share their key" in proc.stderr
