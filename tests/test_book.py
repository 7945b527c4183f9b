"""Order books rebuilt from MBO: tickforge against a reference book written here.

The reference (RefMarket below) follows Databento's documented MBO semantics (the "limit order
book" example: one book per instrument and publisher, orders in a dict, each side's prices in a
sorted list; Add, Cancel, Modify, Clear, Trade/Fill/None; F_TOB venues; F_LAST ends an event)
plus tickforge's stated policies for what that example treats as fatal (src/tickforge/book/
anomaly.h). It shares no code with the engine; records are decoded with Databento's own
databento_dbn. Checked:

(a) every real MBO file of the test data: every emitted row equal, every column, and the
    anomaly counts equal;
(b) a real day patched with every edge case (unknown ids, duplicate adds, over-cancels, side
    changes, sides missing, sequences going backwards, several publishers and instruments, a
    top-of-book venue, a Clear and a second snapshot mid-stream): the same;
(c) the faces: open_book streams what read_book reads, build_books and `tickforge book build`
    write it to Parquet with a summary, strict mode and bad input fail naming the file, and
    leave no output; the rows' schema is that of a real MBP-10 file read with fixed prices.
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import json
import random
import re
import struct
import subprocess
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tickforge

from conftest import locate_testdata, require_testdata

dbn = pytest.importorskip("databento_dbn")
zstandard = pytest.importorskip("zstandard")

UNDEF_PRICE = 2**63 - 1
UNDEF_TS = 2**64 - 1
F_LAST, F_TOB, F_SNAPSHOT = 1 << 7, 1 << 6, 1 << 5
LEVELS = 10
ESH4 = "nautilus/databento/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
MBO_DIRS = ("nautilus/databento", "dbn", "databento-python")
ANOMALIES = ["unknown_cancel", "unknown_modify", "negative_level", "sequence_backwards", "duplicate_add",
             "side_change", "no_side", "unknown_action"]


def _mbo_files() -> list[str]:
    base = locate_testdata()
    found = []
    for sub in MBO_DIRS:
        root = base / sub
        if root.is_dir():
            for path in sorted(root.rglob("*mbo*")):
                # Legacy DBZ files are rejected by design (test_dbn_conformance checks that).
                if path.is_file() and ".dbn" in path.name and ".dbz" not in path.name and ".frag" not in path.name:
                    found.append(path.relative_to(base).as_posix())
    return found


MBO_FILES = _mbo_files()


def _raw(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:4] == b"\x28\xb5\x2f\xfd":
        data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True).read()
    return data


def _decode(path: Path):
    """Return (metadata, MBO records) as Databento's own decoder reads them (upgraded to v3)."""
    decoder = dbn.DBNDecoder(upgrade_policy=dbn.VersionUpgradePolicy.UPGRADE_TO_V3)
    decoder.write(_raw(path))
    records = decoder.decode()
    return records[0], [r for r in records[1:] if isinstance(r, dbn.MBOMsg)]


# ---------------------------------------------------------------------------------------------
# The reference book
# ---------------------------------------------------------------------------------------------


class RefBook:
    """One instrument at one venue: orders by id, and per side {price: [size, count]} with the
    prices in an ascending list."""

    def __init__(self):
        self.orders: dict[int, list] = {}  # order id -> [side, price, size]
        self.levels = {"B": {}, "A": {}}
        self.prices = {"B": [], "A": []}
        self.last_sequence = None
        self.in_snapshot = False

    def clear(self):
        self.orders.clear()
        for side in "BA":
            self.levels[side].clear()
            self.prices[side].clear()

    def level_add(self, side, price, size, count):
        levels = self.levels[side]
        if price not in levels:
            bisect.insort(self.prices[side], price)
            levels[price] = [0, 0]
        levels[price][0] += size
        levels[price][1] += count

    def level_sub(self, side, price, size, count):
        level = self.levels[side][price]
        level[0] -= size
        level[1] -= count
        assert level[0] >= 0 and level[1] >= 0
        if level == [0, 0]:
            del self.levels[side][price]
            self.prices[side].pop(bisect.bisect_left(self.prices[side], price))

    def remove_order(self, order_id):
        side, price, size = self.orders.pop(order_id)
        self.level_sub(side, price, size, 1)

    def top(self, side, n):
        prices = self.prices[side]
        best = prices[::-1][:n] if side == "B" else prices[:n]
        return [(p, *self.levels[side][p]) for p in best]

    def better_than(self, side, price):
        prices = self.prices[side]
        return len(prices) - bisect.bisect_right(prices, price) if side == "B" else bisect.bisect_left(prices, price)


class RefMarket:
    def __init__(self):
        self.books: dict[tuple[int, int], RefBook] = {}
        self.anomalies = Counter()

    def apply(self, m) -> RefBook:
        book = self.books.setdefault((m.instrument_id, m.publisher_id), RefBook())
        action, side, flags = str(m.action), str(m.side), int(m.flags)
        if flags & F_SNAPSHOT:
            # A snapshot restates the book; its records carry old sequences.
            if not book.in_snapshot:
                book.clear()
                book.in_snapshot = True
                book.last_sequence = None
        else:
            book.in_snapshot = False
            if book.last_sequence is not None and m.sequence < book.last_sequence:
                self.anomalies["sequence_backwards"] += 1
            book.last_sequence = m.sequence
        if action in ("A", "M") and side not in ("B", "A"):
            self.anomalies["no_side"] += 1
        elif action == "A":
            self._add(book, m, side, flags)
        elif action == "M":
            order = book.orders.get(m.order_id)
            if order is None:
                if not flags & F_TOB:
                    self.anomalies["unknown_modify"] += 1
                self._add(book, m, side, flags)
            elif order[0] != side:
                self.anomalies["side_change"] += 1
                book.remove_order(m.order_id)
                book.orders[m.order_id] = [side, m.price, m.size]
                book.level_add(side, m.price, m.size, 1)
            else:
                if order[1] != m.price:
                    book.level_sub(side, order[1], order[2], 1)
                    book.level_add(side, m.price, m.size, 1)
                else:
                    book.level_sub(side, order[1], order[2], 0)
                    book.level_add(side, m.price, m.size, 0)
                order[1], order[2] = m.price, m.size
        elif action == "C":
            order = book.orders.get(m.order_id)
            if order is None:
                self.anomalies["unknown_cancel"] += 1
            elif m.size >= order[2]:
                if m.size > order[2]:
                    self.anomalies["negative_level"] += 1
                book.remove_order(m.order_id)
            else:
                book.level_sub(order[0], order[1], m.size, 0)
                order[2] -= m.size
        elif action == "R":
            book.clear()
        elif action not in ("T", "F", "N"):
            self.anomalies["unknown_action"] += 1
        return book

    def _add(self, book, m, side, flags):
        if flags & F_TOB:
            # Top of book only: the Add is the side's one level, without orders.
            book.levels[side].clear()
            book.prices[side].clear()
            if m.price != UNDEF_PRICE:
                book.level_add(side, m.price, m.size, 0)
            return
        if m.order_id in book.orders:
            self.anomalies["duplicate_add"] += 1
            book.remove_order(m.order_id)
        book.orders[m.order_id] = [side, m.price, m.size]
        book.level_add(side, m.price, m.size, 1)


def _symbol_of(metadata):
    """Point-in-time instrument id -> raw symbol from the metadata's mappings, by ts_recv's day."""
    intervals = {}
    for raw_symbol, spans in metadata.mappings.items():
        for span in spans:
            if span["symbol"]:
                intervals.setdefault(int(span["symbol"]), []).append((span["start_date"], span["end_date"], raw_symbol))

    def resolve(instrument_id, ts_recv):
        if ts_recv == UNDEF_TS:
            return None
        day = dt.datetime.fromtimestamp(ts_recv // 10**9, dt.timezone.utc).date()
        for start, end, symbol in intervals.get(instrument_id, ()):
            if start <= day < end:
                return symbol
        return None

    return resolve


def reference_rows(metadata, records) -> tuple[dict[str, list], Counter]:
    """Replay `records`; return the rows (column name -> values) after each F_LAST record."""
    market = RefMarket()
    resolve = _symbol_of(metadata)
    names = ["ts_recv", "ts_event", "rtype", "publisher_id", "instrument_id", "action", "side", "depth", "price",
             "size", "flags", "ts_in_delta", "sequence"]
    for level in range(LEVELS):
        names += [f"{f}_{level:02d}" for f in ("bid_px", "ask_px", "bid_sz", "ask_sz", "bid_ct", "ask_ct")]
    names.append("symbol")
    rows = {name: [] for name in names}
    for m in records:
        book = market.apply(m)
        if not int(m.flags) & F_LAST:
            continue
        action, side = str(m.action), str(m.side)
        depth = 0
        if action in ("A", "C", "M") and side in ("B", "A") and m.price != UNDEF_PRICE:
            depth = min(book.better_than(side, m.price), 255)
        values = [None if m.ts_recv == UNDEF_TS else m.ts_recv, None if m.ts_event == UNDEF_TS else m.ts_event, 10,
                  m.publisher_id, m.instrument_id, action, side, depth, m.price, m.size, int(m.flags), m.ts_in_delta,
                  m.sequence]
        bids, asks = book.top("B", LEVELS), book.top("A", LEVELS)
        for level in range(LEVELS):
            bid = bids[level] if level < len(bids) else (UNDEF_PRICE, 0, 0)
            ask = asks[level] if level < len(asks) else (UNDEF_PRICE, 0, 0)
            values += [bid[0], ask[0], min(bid[1], 2**32 - 1), min(ask[1], 2**32 - 1), bid[2], ask[2]]
        values.append(resolve(m.instrument_id, m.ts_recv))
        for name, value in zip(names, values):
            rows[name].append(value)
    return rows, market.anomalies


def tickforge_rows(table: pa.Table) -> dict[str, list]:
    out = {}
    for name in table.schema.names:
        column = table[name]
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.int64()).cast(pa.uint64())
        out[name] = column.to_pylist()
    return out


def assert_same_rows(ours: dict[str, list], expected: dict[str, list], label: str) -> None:
    assert set(expected) <= set(ours), set(expected) - set(ours)
    n = len(expected["ts_recv"])
    assert len(ours["ts_recv"]) == n, f"{label}: {len(ours['ts_recv'])} rows, reference {n}"
    for name, values in expected.items():
        if ours[name] != values:
            i = next(i for i, (a, b) in enumerate(zip(ours[name], values)) if a != b)
            pytest.fail(f"{label}: column {name} differs first at row {i}: tickforge {ours[name][i]!r}, "
                        f"reference {values[i]!r}")


def anomaly_counts(summary: dict) -> dict[str, int]:
    return {k: v for k, v in summary["anomalies"].items() if v}


# ---------------------------------------------------------------------------------------------
# (a) Real MBO files
# ---------------------------------------------------------------------------------------------


def test_the_test_data_has_mbo_files():
    if not locate_testdata().is_dir():
        pytest.skip(f"test data not found: {locate_testdata()} (set TICKFORGE_TESTDATA)")
    assert ESH4 in MBO_FILES, MBO_FILES


@pytest.mark.parametrize("rel", MBO_FILES)
def test_real_file_rows_equal_the_reference(rel):
    path = require_testdata(rel)
    metadata, records = _decode(path)
    expected, anomalies = reference_rows(metadata, records)
    ours = tickforge_rows(tickforge.read_book(path))
    assert_same_rows(ours, expected, rel)
    summary = tickforge.replay_book(path)
    assert summary["messages"] == len(records)
    assert summary["events"] == len(expected["ts_recv"])
    assert anomaly_counts(summary) == dict(anomalies)


def test_the_big_day_is_what_the_issue_says():
    """ESH4 2023-12-25: 68,792 messages, no anomaly; its 891 crossed rows fall in the pre-open
    before 23:00 UTC, when Globex does not match."""
    summary = tickforge.replay_book(require_testdata(ESH4))
    assert summary["messages"] == 68792
    assert summary["anomaly_total"] == 0
    table = tickforge.read_book(require_testdata(ESH4))
    rows = tickforge_rows(table)
    crossed = [ts for ts, b, a in zip(rows["ts_event"], rows["bid_px_00"], rows["ask_px_00"])
               if b != UNDEF_PRICE and a != UNDEF_PRICE and b >= a]
    assert len(crossed) == summary["crossed"] > 0
    open_ns = int(dt.datetime(2023, 12, 25, 23, tzinfo=dt.timezone.utc).timestamp()) * 10**9
    assert max(crossed) < open_ns


# ---------------------------------------------------------------------------------------------
# (b) A real day with every edge case patched in
# ---------------------------------------------------------------------------------------------

MBO = struct.Struct("<BBHIQQqIBBccQiI")  # the 56-byte MBO record, field by field
assert MBO.size == 56


def _split(raw: bytes) -> tuple[bytes, list[list]]:
    """Split a DBN stream into its header and its (MBO) records as mutable field lists (MBO
    records are the same in every DBN version)."""
    assert raw[:3] == b"DBN" and raw[3] in (1, 2, 3)
    start = 8 + struct.unpack_from("<I", raw, 4)[0]
    records, at = [], start
    while at < len(raw):
        length = raw[at] * 4
        assert length == 56 and raw[at + 1] == 0xA0
        records.append(list(MBO.unpack_from(raw, at)))
        at += length
    return raw[:start], records


# Field positions in MBO's unpacked list.
PUB, INST, ORDER, PRICE, SIZE, FLAGS, ACTION, SIDE, SEQ = 2, 3, 5, 6, 7, 8, 10, 11, 14


def _patched_day(tmp_path: Path) -> Path:
    header, records = _split(_raw(require_testdata(ESH4)))
    rng = random.Random(11)
    snapshot = [list(r) for r in records if r[FLAGS] & F_SNAPSHOT]
    out = []
    for i, r in enumerate(records):
        r = list(r)
        live = not r[FLAGS] & F_SNAPSHOT
        # Several venues and instruments: all records of an order move together.
        if r[ORDER] % 3 == 0:
            r[PUB] = 2
        if r[ORDER] % 7 == 0:
            r[INST] = 17078  # not in the symbology: a null symbol
        action = r[ACTION]
        if live and action == b"A" and rng.random() < 0.005:
            continue  # its later cancels and modifies are of an unknown id
        if live and action == b"C" and rng.random() < 0.01:
            r[SIZE] *= 3  # more than the order may hold
        if live and action == b"M" and rng.random() < 0.002:
            r[SIDE] = b"A" if r[SIDE] == b"B" else b"B"
        if live and action == b"A" and rng.random() < 0.001:
            r[SIDE] = b"N"
        if live and r[SEQ] > 1000 and rng.random() < 0.001:
            r[SEQ] -= 1000
        out.append(r)
        if live and action == b"A" and rng.random() < 0.002:
            out.append(list(r))  # the same id added twice
        if i % 97 == 0 and r[SIDE] in (b"B", b"A"):
            # A top-of-book venue quoting the same instrument.
            tob = list(r)
            tob[PUB], tob[INST], tob[ORDER], tob[ACTION] = 3, 17077, 0, b"A"
            tob[FLAGS] = F_TOB | F_LAST
            if i % 5 == 0:
                tob[PRICE] = UNDEF_PRICE
            out.append(tob)
        if i == len(records) // 2:
            clear = list(r)
            clear[PUB], clear[INST], clear[ORDER], clear[ACTION], clear[SIDE] = 1, 17077, 0, b"R", b"N"
            clear[PRICE], clear[SIZE], clear[FLAGS] = UNDEF_PRICE, 0, F_LAST
            out.append(clear)
        if i == 3 * len(records) // 4:
            out.extend(list(s) for s in snapshot)  # the book restated mid-stream
    path = tmp_path / "esh4-patched.mbo.dbn"
    path.write_bytes(header + b"".join(MBO.pack(*r) for r in out))
    return path


def test_patched_day_rows_equal_the_reference(tmp_path):
    path = _patched_day(tmp_path)
    metadata, records = _decode(path)
    expected, anomalies = reference_rows(metadata, records)
    summary = tickforge.replay_book(path)
    assert anomaly_counts(summary) == dict(anomalies)
    # The patches reach every anomaly a decodable file can hold.
    assert set(anomalies) == set(ANOMALIES) - {"unknown_action"}, anomalies
    assert summary["books"] == 5
    ours = tickforge_rows(tickforge.read_book(path))
    assert_same_rows(ours, expected, "patched ESH4")
    assert None in ours["symbol"] and "ESH4" in ours["symbol"]


# ---------------------------------------------------------------------------------------------
# (c) The faces
# ---------------------------------------------------------------------------------------------


def test_rows_have_the_columns_of_a_real_mbp10_file():
    mbp10 = require_testdata("dbn/test_data.mbp-10.v3.dbn.zst")
    expected = tickforge.read_dbn(mbp10, price_type="fixed").schema
    assert tickforge.read_book(require_testdata(ESH4)).schema.equals(expected)


def test_open_book_streams_what_read_book_reads():
    path = require_testdata(ESH4)
    reader = tickforge.open_book(path, batch_rows=5000)
    batches = list(reader)
    assert len(batches) == 10 and all(b.num_rows == 5000 for b in batches[:-1])
    assert pa.Table.from_batches(batches).equals(tickforge.read_book(path))


def test_levels_option():
    path = require_testdata(ESH4)
    table = tickforge.read_book(path, levels=20)
    names = table.schema.names
    assert "bid_px_19" in names and "ask_ct_19" in names and "bid_px_20" not in names
    ten = tickforge.read_book(path)
    for name in ten.schema.names:
        assert table[name].equals(ten[name]), name
    assert tickforge.read_book(path, levels=1).schema.names[-2] == "ask_ct_00"


def test_build_books_writes_parquet_atomically(tmp_path):
    path = require_testdata(ESH4)
    out = tmp_path / "out"
    [summary] = tickforge.build_books([path], out)
    written = out / "esh4-glbx-mdp3-20231225.mbp-10.parquet"
    assert summary["output"] == str(written)
    assert sorted(p.name for p in out.iterdir()) == [written.name]
    table = pq.read_table(written)
    assert table.equals(tickforge.read_book(path))
    assert summary["rows"] == table.num_rows == summary["events"]
    metadata = table.schema.metadata
    assert json.loads(metadata[b"dbn.metadata"])["schema"] == "mbp-10"
    assert json.loads(metadata[b"tickforge.book"])["source"] == path.name
    assert summary["output_bytes"] == written.stat().st_size


def test_cli_book_build_prints_a_summary(tmp_path):
    exe = tickforge.native_cli()
    if not exe.exists():
        pytest.skip(f"native command not found: {exe} (set TICKFORGE_CLI)")
    path = require_testdata(ESH4)
    proc = subprocess.run([str(exe), "book", "build", str(path), "--out", str(tmp_path), "--levels", "5"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "esh4-glbx-mdp3-20231225.mbp-5.parquet"
    assert re.search(r"68792 messages, 47022 events, 47022 rows, 1 books, 891 crossed, 0 trailing, anomalies: none",
                     proc.stdout), proc.stdout
    assert pq.read_table(written).equals(tickforge.read_book(path, levels=5))


def test_cli_summary_names_the_anomalies(tmp_path):
    exe = tickforge.native_cli()
    if not exe.exists():
        pytest.skip(f"native command not found: {exe} (set TICKFORGE_CLI)")
    path = _patched_day(tmp_path)
    summary = tickforge.replay_book(path)
    proc = subprocess.run([str(exe), "book", "build", str(path), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"unknown_cancel {summary['anomalies']['unknown_cancel']}" in proc.stdout, proc.stdout
    assert f"side_change {summary['anomalies']['side_change']}" in proc.stdout
    # --strict fails at the first one, naming the file and the record, and writes nothing.
    proc = subprocess.run([str(exe), "book", "build", str(path), "--out", str(tmp_path / "strict"), "--strict"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert str(path) in proc.stderr and re.search(r"record \d+ \(byte \d+", proc.stderr), proc.stderr
    assert not (tmp_path / "strict").exists() or not any((tmp_path / "strict").iterdir())


def test_strict_names_the_file_and_the_record(tmp_path):
    path = _patched_day(tmp_path)
    _, records = _decode(path)
    # The first anomaly, found with the reference.
    market = RefMarket()
    first = None
    for i, m in enumerate(records):
        before = sum(market.anomalies.values())
        market.apply(m)
        if sum(market.anomalies.values()) > before:
            first = i
            break
    assert first is not None
    with pytest.raises(tickforge.TickforgeError, match=rf"{re.escape(str(path))}: record {first} \(byte \d+"):
        tickforge.read_book(path, strict=True)


def test_truncated_and_corrupted_input_fail_naming_the_file_and_leave_no_output(tmp_path):
    raw = _raw(require_testdata(ESH4))
    header_len = 8 + struct.unpack_from("<I", raw, 4)[0]
    cut = tmp_path / "cut.mbo.dbn"
    cut.write_bytes(raw[: header_len + 56 * 1000 + 20])  # mid-record
    with pytest.raises(tickforge.TickforgeError, match=rf"{re.escape(str(cut))}: byte {header_len + 56 * 1000}"):
        tickforge.read_book(cut)
    bad = bytearray(raw)
    bad[header_len + 56 * 500] = 1  # a record length of 4 bytes
    broken = tmp_path / "broken.mbo.dbn"
    broken.write_bytes(bytes(bad))
    with pytest.raises(tickforge.TickforgeError, match=rf"{re.escape(str(broken))}: byte {header_len + 56 * 500}"):
        tickforge.read_book(broken)
    # A zstd stream cut short: the compressed file's byte is named.
    zst = tmp_path / "cut.mbo.dbn.zst"
    zst.write_bytes(require_testdata(ESH4).read_bytes()[:500_000])
    with pytest.raises(tickforge.TickforgeError, match=re.escape(str(zst))):
        tickforge.read_book(zst)
    out = tmp_path / "out"
    for path in (cut, broken, zst):
        with pytest.raises(tickforge.TickforgeError):
            tickforge.build_books([path], out)
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())


def test_other_schemas_are_refused():
    mbp10 = require_testdata("dbn/test_data.mbp-10.v3.dbn.zst")
    with pytest.raises(tickforge.TickforgeError, match="books are built from MBO data; this file holds mbp-10"):
        tickforge.read_book(mbp10)


def test_options_are_checked_and_documented():
    assert tickforge.option_defaults("book") == {"levels": 10, "strict": False, "batch_rows": 65536}
    assert "levels = 10" in tickforge.open_book.__doc__
    with pytest.raises(tickforge.TickforgeError, match="levels must be 1 to 99"):
        tickforge.read_book(require_testdata(ESH4), levels=0)
    with pytest.raises(tickforge.TickforgeError, match="unknown key"):
        tickforge._tickforge.replay_book(str(require_testdata(ESH4)), json.dumps({"level": 3}))
