"""Order books from crypto depth streams: tickforge against oracles written here.

(a) Binance captures (spot, USD-M, COIN-M; ../shared/testdata/hftbacktest): the rebuilt best
    bid and ask (price and size) equal the capture's own bookTicker stream at every ticker
    whose update id the book state of a row covers: a row after the event with final id u
    holds the book of every id from u up to the next applied event's first id U (spot: u
    alone). The chain of applied events is re-derived here from the capture's U/u/pu.
(b) gaps: removing one depth event, or swapping two, is reported with the line of the event
    that broke the chain, no row is written past it (one snapshot only), and --strict turns it
    into an error naming the file and the line;
(c) bad input: a truncated gzip, a malformed JSON line, the snapshot missing, a decimal with
    more digits than the scale: an error naming the file (and the line), and no output file.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import tickforge

from conftest import require_testdata

BINANCE = {
    "spot": "hftbacktest/spot/btcusdt_20240808.gz",
    "usdm": "hftbacktest/usdm/btcusdt_20240808.gz",
    "cm": "hftbacktest/cm/btcusd_perp_20240808.gz",
}
SCALES = {"spot": 8, "usdm": 3, "cm": 0}
UNDEF_PRICE = 2**63 - 1


def _lines(path: Path) -> list[str]:
    with gzip.open(path, "rt") as f:
        return f.read().splitlines()


def _fixed(text: str, scale: int) -> int:
    value = Decimal(text).scaleb(scale)
    assert value == value.to_integral_value(), text
    return int(value)


def _parse(lines: list[str]):
    """Return (snapshot id, depth events as (line, U, u, pu), tickers as (u, b, B, a, A))."""
    snapshot, events, tickers = None, [], []
    for no, line in enumerate(lines, 1):
        msg = json.loads(line.split(" ", 1)[1])
        if "lastUpdateId" in msg:
            snapshot = msg["lastUpdateId"]
            continue
        data, stream = msg["data"], msg["stream"]
        if data.get("e") == "depthUpdate":
            events.append((no, data["U"], data["u"], data.get("pu")))
        elif stream.endswith("@bookTicker"):
            tickers.append((data["u"], data["b"], data["B"], data["a"], data["A"]))
    return snapshot, events, tickers


def _applied_chain(snapshot: int, events):
    """Binance's sync rules, written out: the (U, u) of each applied event, in order."""
    chain, prev = [], None
    for _, first, last, pu in events:
        if prev is None:
            target = snapshot if pu is not None else snapshot + 1
            if last < target:
                continue
            assert first <= target, "the capture's first event does not straddle its snapshot"
        else:
            assert (pu == prev) if pu is not None else (first == prev + 1), "the capture has a gap"
        chain.append((first, last))
        prev = last
    return chain


@pytest.mark.parametrize("market", sorted(BINANCE))
def test_binance_best_levels_equal_the_captures_book_ticker(market):
    path = require_testdata(BINANCE[market])
    table = tickforge.read_book(path)
    assert table.schema.metadata[b"tickforge.size_scale"] == str(SCALES[market]).encode()
    scale = SCALES[market]
    snapshot, events, tickers = _parse(_lines(path))
    chain = _applied_chain(snapshot, events)
    rows = table.select(["sequence", "bid_px_00", "bid_sz_00", "ask_px_00", "ask_sz_00"]).to_pylist()
    assert [r["sequence"] for r in rows] == [u for _, u in chain]
    # Each row covers the ids [u, next U); the last row's end is unknown.
    starts = [u for _, u in chain]
    ends = [first for first, _ in chain[1:]] + [None]
    import bisect

    checked = 0
    for u, b, bq, a, aq in tickers:
        k = bisect.bisect_right(starts, u) - 1
        if k < 0 or ends[k] is None or u >= ends[k]:
            continue
        row = rows[k]
        got = (row["bid_px_00"], row["bid_sz_00"], row["ask_px_00"], row["ask_sz_00"])
        want = (_fixed(b, 9), _fixed(bq, scale), _fixed(a, 9), _fixed(aq, scale))
        assert got == want, f"ticker u={u} against row {k} (u={row['sequence']})"
        checked += 1
    assert checked > 100, f"only {checked} tickers fell on a row's ids"


def _write_gz(path: Path, lines: list[str]) -> Path:
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return path


def _depth_line_numbers(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if '"depthUpdate"' in line]


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_a_removed_depth_event_is_a_gap_at_its_line(market, tmp_path):
    lines = _lines(require_testdata(BINANCE[market]))
    depth = _depth_line_numbers(lines)
    removed = depth[200]
    cut = lines[:removed] + lines[removed + 1:]
    path = _write_gz(tmp_path / "cut.gz", cut)
    [summary] = tickforge.build_books(path, tmp_path / "out")
    assert summary["gaps"] == 1
    # The event after the removed one breaks the chain; it is now at the removed one's line.
    next_depth = depth[201] - 1
    assert summary["gap_list"][0]["line"] == next_depth + 1
    snapshot, events, _ = _parse(cut)
    chain = _applied_chain(snapshot, [e for e in events if e[0] <= removed])
    table = pq.read_table(summary["output"])
    assert table["sequence"].to_pylist() == [u for _, u in chain]
    assert summary["unsynced"] == len(depth) - 201  # every event from the break on
    with pytest.raises(tickforge.TickforgeError, match=rf"cut\.gz: line {next_depth + 1}: gap"):
        tickforge.build_books(path, tmp_path / "strict", strict=True)
    assert not (tmp_path / "strict").exists() or not any((tmp_path / "strict").iterdir())


def test_events_out_of_order_are_a_gap(tmp_path):
    lines = _lines(require_testdata(BINANCE["usdm"]))
    depth = _depth_line_numbers(lines)
    i, j = depth[300], depth[301]
    lines[i], lines[j] = lines[j], lines[i]
    [summary] = tickforge.build_books(_write_gz(tmp_path / "swapped.gz", lines), tmp_path / "out")
    assert summary["gaps"] == 1 and summary["gap_list"][0]["line"] == i + 1


def _build_error(tmp_path, path: Path, **kwargs) -> str:
    out = tmp_path / "out"
    with pytest.raises(tickforge.TickforgeError) as error:
        tickforge.build_books(path, out, **kwargs)
    assert not out.exists() or not any(out.iterdir()), "a failed build left output"
    return str(error.value)


def test_bad_input_is_an_error_naming_the_file_and_line(tmp_path):
    lines = _lines(require_testdata(BINANCE["spot"]))[:400]
    raw = gzip.compress(("\n".join(lines) + "\n").encode())
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(raw[: len(raw) // 2])
    assert re.search(r"truncated\.gz.*truncated gzip", _build_error(tmp_path, truncated))

    bad = list(lines)
    bad[20] = bad[20][:-5]  # an unterminated JSON object
    assert "malformed.gz: line 21: malformed JSON" in _build_error(tmp_path, _write_gz(tmp_path / "malformed.gz", bad))

    # A line of another stream is not applied but still checked: a broken one is no skip.
    ticker = next(i for i, line in enumerate(lines) if "@bookTicker" in line)
    bad = list(lines)
    bad[ticker] = bad[ticker].replace('"u":', '"u":,', 1)
    assert f"ticker.gz: line {ticker + 1}: malformed JSON" in _build_error(tmp_path, _write_gz(tmp_path / "ticker.gz", bad))

    no_snapshot = [line for line in lines if "lastUpdateId" not in line]
    message = _build_error(tmp_path, _write_gz(tmp_path / "nosnap.gz", no_snapshot))
    assert re.search(r"nosnap\.gz: line \d+: no REST snapshot", message)

    # USD-M has 3-decimal sizes: a fourth nonzero decimal would have to be rounded.
    usdm = _lines(require_testdata(BINANCE["usdm"]))[:200]
    k = next(i for i, line in enumerate(usdm) if '"depthUpdate"' in line and i > 60)
    usdm[k] = re.sub(r'"(\d+\.\d{3})"\]', r'"\g<1>7"]', usdm[k], count=1)
    message = _build_error(tmp_path, _write_gz(tmp_path / "precise.gz", usdm))
    assert f"precise.gz: line {k + 1}: size" in message and "more decimals than the scale" in message


def test_cli_summary_and_strict(tmp_path):
    exe = tickforge.native_cli()
    if not exe.exists():
        pytest.skip(f"native command not found: {exe} (set TICKFORGE_CLI)")
    path = require_testdata(BINANCE["spot"])
    proc = subprocess.run([str(exe), "book", "build", str(path), "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    snapshot, events, tickers = _parse(_lines(path))
    chain = _applied_chain(snapshot, events)
    assert f"{len(chain)} rows" in proc.stdout and "0 gaps" in proc.stdout and "1 snapshots" in proc.stdout
    assert f"{len(events) + 1} events" in proc.stdout
    assert pq.read_table(tmp_path / "btcusdt_20240808.mbp-10.parquet").num_rows == len(chain)

    lines = _lines(path)
    depth = _depth_line_numbers(lines)
    cut = _write_gz(tmp_path / "cut.gz", lines[: depth[50]] + lines[depth[50] + 1:])
    proc = subprocess.run([str(exe), "book", "build", str(cut), "--out", str(tmp_path / "s"), "--strict"],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and f"cut.gz: line {depth[51]}: gap" in proc.stderr
    proc = subprocess.run([str(exe), "book", "build", str(cut), "--out", str(tmp_path / "l"), "--format", "binance"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and f"1 gaps (first at line {depth[51]}" in proc.stdout


LEVELS = 10


def _book_levels(book: dict, side: str):
    prices = sorted(book, reverse=side == "bid")[:LEVELS]
    return [(p, book[p]) for p in prices]


def _row_levels(row: dict, side: str, with_counts: bool = False):
    out = []
    for i in range(LEVELS):
        px = row[f"{side}_px_{i:02d}"]
        if px == UNDEF_PRICE:
            assert row[f"{side}_sz_{i:02d}"] == 0
            continue
        level = (px, row[f"{side}_sz_{i:02d}"])
        out.append(level + (row[f"{side}_ct_{i:02d}"],) if with_counts else level)
    return out


def test_bybit_rows_equal_a_dict_replay(tmp_path):
    import zipfile

    path = require_testdata("nautilus/bybit/xrpusdt-ob500.data.zip")
    with zipfile.ZipFile(path) as z:
        [name] = z.namelist()
        lines = z.read(name).decode().splitlines()
    table = tickforge.read_book(path)
    scale = int(table.schema.metadata[b"tickforge.size_scale"])
    rows = table.to_pylist()
    assert len(rows) == len(lines)
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    for line, row in zip(lines, rows):
        msg = json.loads(line)
        if msg["type"] == "snapshot":
            bids.clear()
            asks.clear()
        for book, key in ((bids, "b"), (asks, "a")):
            for px, sz in msg["data"][key]:
                p, s = _fixed(px, 9), _fixed(sz, scale)
                if s == 0:
                    book.pop(p, None)
                else:
                    book[p] = s
        assert row["sequence"] == msg["data"]["u"]
        assert row["ts_event"].value == msg["ts"] * 1_000_000
        assert _row_levels(row, "bid") == _book_levels(bids, "bid")
        assert _row_levels(row, "ask") == _book_levels(asks, "ask")
    assert row["symbol"] == "XRPUSDT"

    # A missing delta is a gap at the next one's line; nothing after it is written.
    cut = lines[:10] + lines[11:]
    gapped = tmp_path / "gap.data"
    gapped.write_text("\n".join(cut) + "\n")
    [summary] = tickforge.build_books(gapped, tmp_path / "out")
    assert summary["gaps"] == 1 and summary["gap_list"][0]["line"] == 11 and summary["rows"] == 10
    with pytest.raises(tickforge.TickforgeError, match=r"gap\.data: line 11: gap"):
        tickforge.read_book(gapped, strict=True)
    # So is a broken message of another topic, which is otherwise skipped.
    other = tmp_path / "other.data"
    other.write_text("\n".join(lines[:3] + ['{"topic":"publicTrade.XRPUSDT","data":[{"p":,"v":"1"}]}'] + lines[3:]) + "\n")
    with pytest.raises(tickforge.TickforgeError, match=r"other\.data: line 4: malformed JSON"):
        tickforge.read_book(other)
    # A truncated zip is an error naming the file.
    truncated = tmp_path / "short.data.zip"
    truncated.write_bytes(path.read_bytes()[:30000])
    with pytest.raises(tickforge.TickforgeError, match=r"short\.data\.zip"):
        tickforge.read_book(truncated)


def test_hyperliquid_rows_equal_the_snapshots(tmp_path):
    path = require_testdata("hftbacktest/hyperliquid/btcusd_20250126.gz")
    snapshots = []
    for line in _lines(path):
        recv, payload = line.split(" ", 1)
        msg = json.loads(payload)
        if msg["channel"] == "l2Book":
            snapshots.append((int(recv), msg["data"]))
    table = tickforge.read_book(path)
    scale = int(table.schema.metadata[b"tickforge.size_scale"])
    rows = table.to_pylist()
    assert len(rows) == len(snapshots) == 46
    for (recv, data), row in zip(snapshots, rows):
        assert row["ts_recv"].value == recv and row["ts_event"].value == data["time"] * 1_000_000
        for side, levels in (("bid", data["levels"][0]), ("ask", data["levels"][1])):
            want = [(_fixed(lv["px"], 9), _fixed(lv["sz"], scale), lv["n"]) for lv in levels[:LEVELS]]
            assert _row_levels(row, side, with_counts=True) == want
    assert rows[0]["symbol"] == "BTC"
    # A broken line of another channel is an error at its line, not a skipped message.
    lines = _lines(path)
    other = next(i for i, line in enumerate(lines) if '"l2Book"' not in line)
    lines[other] = lines[other].replace('"tid":', '"tid":,', 1)
    broken = _write_gz(tmp_path / "broken.gz", lines)
    with pytest.raises(tickforge.TickforgeError, match=rf"broken\.gz: line {other + 1}: malformed JSON"):
        tickforge.read_book(broken)


def test_binance_csv_snapshot_and_updates_equal_a_dict_replay(tmp_path):
    snap_path = require_testdata("nautilus/binance/btcusdt-depth-snap.csv")
    update_path = require_testdata("nautilus/binance/btcusdt-depth-update.csv")
    [row] = tickforge.read_book(snap_path).to_pylist()
    snap = [line.split(",") for line in snap_path.read_text().splitlines()[1:]]
    bids = {_fixed(r[6], 9): _fixed(r[7], 3) for r in snap if r[4] == "b"}
    asks = {_fixed(r[6], 9): _fixed(r[7], 3) for r in snap if r[4] == "a"}
    assert _row_levels(row, "bid") == _book_levels(bids, "bid") and row["sequence"] == int(snap[0][3])
    assert row["symbol"] == "BTCUSDT"

    # The update file alone has no snapshot to start from.
    with pytest.raises(tickforge.TickforgeError, match=r"btcusdt-depth-update\.csv: line \d+: no snapshot"):
        tickforge.read_book(update_path)

    # The snapshot followed by the updates renumbered to straddle it: the book is the replay.
    last = int(snap[0][3])
    header, *updates = update_path.read_text().splitlines()
    joined = [header] + [",".join(r) for r in snap]
    for line in updates:
        r = line.split(",")
        r[2], r[3], r[8] = str(last - 1), str(last + 5), str(last - 2)
        joined.append(",".join(r))
    path = tmp_path / "joined.csv"
    path.write_text("\n".join(joined) + "\n")
    rows = tickforge.read_book(path).to_pylist()
    assert len(rows) == 2
    for line in updates:
        r = line.split(",")
        book = bids if r[4] == "b" else asks
        p, s = _fixed(r[6], 9), _fixed(r[7], 3)
        if s == 0:
            book.pop(p, None)
        else:
            book[p] = s
    assert _row_levels(rows[1], "bid") == _book_levels(bids, "bid")
    assert _row_levels(rows[1], "ask") == _book_levels(asks, "ask")
    assert rows[1]["sequence"] == last + 5
