"""LOBSTER books: tickforge's rows against LOBSTER's own orderbook files and a rebuild written here.

The oracles, neither sharing code with the engine:
(a) the orderbook file itself, read with numpy: every row's levels (prices USD x 10^4 -> 1e-9,
    LOBSTER's dummy prices as undefined levels) equal tickforge's, on all three samples
    (AAPL level 10, AMZN and GOOG level 1), with no mismatch reported;
(b) a book rebuilt here from the messages (a dict of price -> size per side, started from row 0
    minus message 0's effect, then from each previous row): wherever the messages determine a
    level (prices the previous row covers), it equals tickforge's row; times, parsed here with
    decimal arithmetic, equal ts_event;
(c) the faces: the CLI and build_books with LOBSTER's naming and with message.csv/orderbook.csv,
    an explicit orderbook file, halts reported, and bad input (files of unequal length,
    truncated lines, bad numbers) failing with the file and the line, leaving no output.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import tickforge

from conftest import require_testdata

UNDEF_PRICE = 2**63 - 1
SCALE = 100_000  # USD x 10^4 -> 1e-9
AAPL = "lobster/AAPL_level10_first999/AAPL_2012-06-21_34200000_57600000_message_10.csv"
SAMPLES = [
    pytest.param(AAPL, {}, 10, id="AAPL-level10"),
    pytest.param("lobster/Amazon/message.csv", {"date": "2012-06-21", "symbol": "AMZN"}, 1, id="AMZN-level1"),
    pytest.param("lobster/Google/message.csv", {"date": "2012-06-21", "symbol": "GOOG"}, 1, id="GOOG-level1"),
]
DAY_NS = int(dt.datetime(2012, 6, 21, tzinfo=dt.timezone.utc).timestamp()) * 10**9


def _orderbook_path(message: Path) -> Path:
    if message.name == "message.csv":
        return message.with_name("orderbook.csv")
    return message.with_name(message.name.replace("_message_", "_orderbook_"))


def _read_messages(path: Path) -> list[tuple]:
    out = []
    for line in path.read_text().splitlines():
        t, typ, oid, size, price, direction = line.split(",")
        out.append((t, int(typ), int(oid), int(size), int(price), int(direction)))
    return out


def _file_levels(orderbook: np.ndarray, side: str) -> list[list[tuple[int, int]]]:
    """Per row, the side's real levels best first as (price 1e-9, size)."""
    levels = orderbook.shape[1] // 4
    price_col = [4 * k + (0 if side == "A" else 2) for k in range(levels)]
    rows = []
    for row in orderbook:
        rows.append([(int(row[c]) * SCALE, int(row[c + 1])) for c in price_col
                     if abs(int(row[c])) != 9999999999])
    return rows


def _best_first(side: str, levels: dict[int, int]) -> list[tuple[int, int]]:
    return sorted(levels.items(), reverse=(side == "B"))


def _apply(levels: dict[int, int], typ: int, size: int, price: int, sign: int) -> None:
    if typ > 4 or size == 0:
        return
    p = price * SCALE
    delta = size if typ == 1 else -size
    levels[p] = levels.get(p, 0) + sign * delta
    if levels[p] <= 0:
        del levels[p]


def _determined(side, prev: list[tuple[int, int]], n_levels: int, msg) -> tuple[int | None, list[tuple[int, int]]]:
    """Apply msg to the previous row's levels; return the bound and the levels at or better than it."""
    _, typ, _, size, price, direction = msg
    levels = dict(prev)
    if (direction == 1) == (side == "B"):
        _apply(levels, typ, size, price, +1)
    bound = prev[-1][0] if len(prev) == n_levels else None
    good = [(p, s) for p, s in _best_first(side, levels)
            if bound is None or (p >= bound if side == "B" else p <= bound)]
    return bound, good


def _rows(table) -> dict[str, list]:
    out = {}
    for name in table.schema.names:
        column = table[name]
        if str(column.type).startswith("timestamp"):
            column = column.cast("int64")
        out[name] = column.to_pylist()
    return out


@pytest.mark.parametrize("rel, options, n_levels", SAMPLES)
def test_rows_equal_the_orderbook_file_and_the_messages(rel, options, n_levels):
    message = require_testdata(rel)
    orderbook = np.loadtxt(_orderbook_path(message), delimiter=",", dtype=np.int64, ndmin=2)
    messages = _read_messages(message)
    assert len(messages) == len(orderbook)
    table = tickforge.read_book(message, **options)
    rows = _rows(table)
    n = len(messages)
    assert table.num_rows == n

    for side, prefix in (("B", "bid"), ("A", "ask")):
        file_rows = _file_levels(orderbook, side)
        # (a) every row equals the orderbook file; levels past the file's are undefined.
        for level in range(10):
            prices = [r[level][0] if level < len(r) else UNDEF_PRICE for r in file_rows]
            sizes = [r[level][1] if level < len(r) else 0 for r in file_rows]
            assert rows[f"{prefix}_px_{level:02d}"] == prices, (side, level)
            assert rows[f"{prefix}_sz_{level:02d}"] == sizes, (side, level)
            assert set(rows[f"{prefix}_ct_{level:02d}"]) == {0}
        # (b) where the messages determine a level, the rebuild here gives tickforge's row.
        checked = 0
        seed = dict(file_rows[0])
        _, typ, _, size, price, direction = messages[0]
        if (direction == 1) == (side == "B"):
            _apply(seed, typ, size, price, -1)
        prev = _best_first(side, seed)[:n_levels]
        for i, msg in enumerate(messages):
            _, good = _determined(side, prev, n_levels, msg)
            good = good[:n_levels]
            ours = [(rows[f"{prefix}_px_{k:02d}"][i], rows[f"{prefix}_sz_{k:02d}"][i]) for k in range(len(good))]
            assert ours == good, (rel, side, i, msg)
            checked += len(good)
            prev = file_rows[i]
        assert checked > n // 2  # the messages state most levels: the check is not vacuous

    # The event fields: exact times, actions, sides, prices and sizes of the messages.
    times = [DAY_NS + int(Decimal(t) * 10**9) for t, *_ in messages]
    assert rows["ts_event"] == times and rows["ts_recv"] == times
    letters = {1: "A", 2: "C", 3: "C", 4: "F", 5: "T", 6: "T", 7: "N"}
    assert rows["action"] == [letters[m[1]] for m in messages]
    assert rows["side"] == ["N" if m[1] == 7 else ("B" if m[5] == 1 else "A") for m in messages]
    assert rows["price"] == [UNDEF_PRICE if m[1] == 7 else m[4] * SCALE for m in messages]
    assert rows["size"] == [m[3] for m in messages]
    assert rows["sequence"] == list(range(1, n + 1))
    assert set(rows["symbol"]) == {options.get("symbol", "AAPL")}


@pytest.mark.parametrize("rel, options, n_levels", SAMPLES)
def test_build_books_reports_no_mismatch(rel, options, n_levels, tmp_path):
    message = require_testdata(rel)
    [summary] = tickforge.build_books([message], tmp_path, levels=n_levels, **options)
    assert summary["messages"] == summary["rows"] == len(message.read_text().splitlines())
    assert summary["anomaly_total"] == 0 and summary["anomalies"]["lobster_mismatch"] == 0
    written = pq.read_table(summary["output"])
    assert written.equals(tickforge.read_book(message, levels=n_levels, **options))
    metadata = written.schema.metadata
    assert b"LOBSTER" in metadata[b"dbn.metadata"]
    assert b'"source_schema":"lobster"' in metadata[b"tickforge.book"]


def test_cli_builds_lobster_files_with_their_summary(tmp_path):
    exe = tickforge.native_cli()
    if not exe.exists():
        pytest.skip(f"native command not found: {exe} (set TICKFORGE_CLI)")
    aapl = require_testdata(AAPL)
    proc = subprocess.run([str(exe), "book", "build", str(aapl), "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "999 messages, 999 events, 999 rows, 1 books" in proc.stdout and "anomalies: none" in proc.stdout, proc.stdout
    written = tmp_path / "AAPL_2012-06-21_34200000_57600000.mbp-10.parquet"
    assert pq.read_table(written).equals(tickforge.read_book(aapl))
    amzn = require_testdata("lobster/Amazon/message.csv")
    # message.csv states no date: refused without one, then built with --date/--symbol, and
    # with the orderbook file named explicitly.
    proc = subprocess.run([str(exe), "book", "build", str(amzn), "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1 and "date" in proc.stderr, proc.stderr
    proc = subprocess.run([str(exe), "book", "build", str(amzn), "--out", str(tmp_path), "--date", "2012-06-21",
                           "--symbol", "AMZN", "--levels", "1", "--orderbook", str(amzn.with_name("orderbook.csv"))],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert pq.read_table(tmp_path / "AMZN_message.mbp-1.parquet").num_rows == 57515


def _pair(tmp_path: Path, messages: str, rows: str, name="XYZ_2012-06-21_34200000_57600000_message_1.csv") -> Path:
    message = tmp_path / name
    message.write_text(messages)
    _orderbook_path(message).write_text(rows)
    return message


MESSAGES = "34200.1,1,5,10,1000000,1\n34200.2,7,0,0,-1,-1\n34200.3,3,5,10,1000000,1\n34201,7,0,0,1,-1\n"
ROWS = ("1001000,3,1000000,10\n1001000,3,1000000,10\n1001000,3,-9999999999,0\n1001000,3,-9999999999,0\n")


def test_halts_are_reported_and_change_nothing(tmp_path):
    message = _pair(tmp_path, MESSAGES, ROWS)
    [summary] = tickforge.build_books([message], tmp_path / "out")
    assert summary["halts"] == 2 and summary["anomaly_total"] == 0
    rows = _rows(tickforge.read_book(message))
    assert rows["bid_px_00"] == [1000000 * SCALE, 1000000 * SCALE, UNDEF_PRICE, UNDEF_PRICE]
    assert rows["action"] == ["A", "N", "C", "N"]


@pytest.mark.parametrize("messages, rows, bad_file, line", [
    (MESSAGES, ROWS.rsplit("\n", 2)[0] + "\n", "orderbook", 4),             # orderbook one line short
    (MESSAGES + "34202,1,6,1,999000,1\n", ROWS, "orderbook", 5),            # message file one line longer
    (MESSAGES.replace("34200.3,3,5,10,1000000,1", "34200.3,3,5,10"), ROWS, "message", 3),  # truncated line
    (MESSAGES, ROWS.replace("1001000,3,-9999999999,0\n", "1001000,3,-99999", 1), "orderbook", 3),
    (MESSAGES.replace("34200.2,", "34200.2x,"), ROWS, "message", 2),        # bad time
    (MESSAGES.replace("5,10,1000000", "5,1e1,1000000", 1), ROWS, "message", 1),  # bad size
    (MESSAGES, ROWS.replace("1000000,10", "1000000,ten", 1), "orderbook", 1),   # bad size
])
def test_bad_input_names_the_file_and_line_and_leaves_no_output(tmp_path, messages, rows, bad_file, line):
    message = _pair(tmp_path, messages, rows)
    named = message if bad_file == "message" else _orderbook_path(message)
    pattern = rf"{re.escape(str(named))}: line {line}:"
    with pytest.raises(tickforge.TickforgeError, match=pattern):
        tickforge.read_book(message)
    out = tmp_path / "out"
    with pytest.raises(tickforge.TickforgeError, match=pattern):
        tickforge.build_books([message], out)
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())


def test_an_explicit_orderbook_file_belongs_to_one_message_file(tmp_path):
    message = _pair(tmp_path, MESSAGES, ROWS)
    other = tmp_path / "renamed-orderbook.csv"
    _orderbook_path(message).rename(other)
    with pytest.raises(tickforge.TickforgeError, match="orderbook_1.csv does not exist"):
        tickforge.read_book(message)
    assert tickforge.read_book(message, orderbook=other).num_rows == 4
    with pytest.raises(tickforge.TickforgeError, match="one message file; 2 given"):
        tickforge.build_books([message, message], tmp_path / "out", orderbook=other)


def test_strict_fails_at_a_message_that_disagrees_with_its_row(tmp_path):
    message = _pair(tmp_path, MESSAGES.replace("34200.3,3,5,10", "34200.3,3,5,4"), ROWS)
    [summary] = tickforge.build_books([message], tmp_path / "out")
    assert summary["anomalies"]["lobster_mismatch"] == 1
    with pytest.raises(tickforge.TickforgeError, match=rf"{re.escape(str(message))}: line 3:"):
        tickforge.read_book(message, strict=True)
