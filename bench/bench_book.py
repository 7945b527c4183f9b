"""MBO -> books: tickforge vs the Python reference book, vs the Rust reconstructor's published
974k messages/s, and end to end vs `tickforge dbn to-parquet` of as many MBP-10 rows.

Uses the real ESH4 day of the shared test data (68,792 messages, Databento GLBX.MDP3 MBO,
2023-12-25), and for the long replay a `tickforge synth mbo` day of --messages records (default
10 M: 4 instruments x 2 publishers, a snapshot, adds, cancels, modifies, trades and fills, raw and
zstd); the end-to-end build uses two synth mbo days (--build-messages records and a third). Prints DESIGN.md §5's ratios:

1. rows/s, tickforge read_book vs the reference book of tests/test_book.py (Databento's example
   style: dicts and sorted lists), both decoding the same file, on the one day;
2. book updates alone (decode + apply, no rows), raw .dbn and .dbn.zst, on one core, against
   974k messages/s (goal: >= 10 M/s), with peak RSS for the real day and for the synthetic
   --messages day (goal: bounded by the live orders, not the file size);
3. `tickforge book build` (MBO .zst -> MBP-10 Parquet) vs `tickforge dbn to-parquet
   --price-type fixed` of the same rows as an MBP-10 .zst (written here from the book's output:
   the MBO file's metadata, schema mbp-10, one Mbp10Msg per row), for synth mbo days of
   --build-messages records and a third of that, with each command's peak RSS (goal: <= 1.25x; RSS the same at both sizes);
4. depth streams: Binance capture lines/s (gzip lines -> synchronised book -> MBP-10 rows),
   tickforge read_book vs a Python dict replay of the same capture (json.loads, the same sync
   rules, levels in dicts, the ten best of each side per applied event), on each capture.

    .venv/bin/python bench/bench_book.py [--messages 10000000] [--build-messages 3000000] [--repeat 5] [--depth-only | --e2e-only]

Times are the best of --repeat runs (the machine is shared; slower runs measure the others).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tickforge

REPO = Path(__file__).resolve().parent.parent
DAY = "nautilus/databento/esh4-glbx-mdp3-20231225.mbo.dbn.zst"
RUST_MSGS_PER_S = 974_000  # nagarx/MBO-LOB-reconstructor, as published


def _testdata() -> Path:
    env = os.environ.get("TICKFORGE_TESTDATA")
    return Path(env) if env else REPO.parent / "shared" / "testdata"


def _peak_rss_mib() -> float:
    # VmHWM, not getrusage: ru_maxrss survives exec, so a child would report its parent's peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _child(kind: str, path: str) -> None:
    """Replay one file in this fresh process; print seconds, messages and peak RSS."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    start = time.perf_counter()
    summary = tickforge.replay_book(path) if kind == "replay" else {"messages": 0, "anomaly_total": 0}
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "messages": summary["messages"], "rss_mib": _peak_rss_mib(),
                      "anomalies": summary["anomaly_total"]}))


def _in_child(kind: str, path: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, __file__, "--child", kind, str(path)], check=True,
                              capture_output=True, text=True)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "rss_mib": max(r["rss_mib"] for r in runs)}


def _timed_command(args: list[str], repeat: int) -> float:
    # The best of the runs: on a machine shared with other jobs the slower ones measure those.
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def _decompress(path: Path) -> bytes:
    import zstandard

    return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(path.read_bytes()), read_across_frames=True).read()


def _zstd(src: Path, dst: Path) -> None:
    subprocess.run(["zstd", "-q", "-f", "-3", "-T2", str(src), "-o", str(dst)], check=True)


def _command_rss(args: list[str]) -> float:
    """Run `args` once; return its peak RSS in MiB. Not this process's wait4: a child's peak
    includes the parent's at the fork (it survives exec), so GNU time measures from a small
    process, or, without it, the child's own VmHWM (its address space's, fresh at exec) is read
    as it runs."""
    if Path("/usr/bin/time").exists():
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", *args], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, check=True)
        return int(proc.stderr.strip().splitlines()[-1]) / 1024
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.005)
    if proc.wait() != 0:
        raise subprocess.CalledProcessError(proc.returncode, args)
    return peak / 1024


def _mbp10_record_dtype():
    import numpy as np

    fields = [("length", "u1"), ("rtype", "u1"), ("publisher_id", "<u2"), ("instrument_id", "<u4"),
              ("ts_event", "<u8"), ("price", "<i8"), ("size", "<u4"), ("action", "S1"), ("side", "S1"),
              ("flags", "u1"), ("depth", "u1"), ("ts_recv", "<u8"), ("ts_in_delta", "<i4"), ("sequence", "<u4")]
    for level in range(10):
        fields += [(f"bid_px_{level:02d}", "<i8"), (f"ask_px_{level:02d}", "<i8"), (f"bid_sz_{level:02d}", "<u4"),
                   (f"ask_sz_{level:02d}", "<u4"), (f"bid_ct_{level:02d}", "<u4"), (f"ask_ct_{level:02d}", "<u4")]
    dtype = np.dtype(fields)
    assert dtype.itemsize == 368  # DBN's Mbp10Msg
    return dtype


def _mbp10_dbn_of(book_parquet: Path, mbo: Path, out: Path) -> int:
    """Write the rows of a book build as an MBP-10 DBN file (zstd): the MBO file's metadata with
    its schema set to mbp-10, then one Mbp10Msg per row. Returns the rows written."""
    import numpy as np
    import pyarrow.parquet as pq

    head = _decompress_prefix(mbo)
    meta_end = 8 + struct.unpack_from("<I", head, 4)[0]
    metadata = bytearray(head[:meta_end])
    struct.pack_into("<H", metadata, 24, 2)  # the schema field, after the 16-byte dataset: mbp-10
    dtype = _mbp10_record_dtype()
    rows = 0
    raw = out.with_suffix("")
    with open(raw, "wb") as f:
        f.write(metadata)
        for batch in pq.ParquetFile(book_parquet).iter_batches(batch_size=1 << 16):
            n = batch.num_rows
            records = np.zeros(n, dtype=dtype)
            records["length"] = 368 // 4
            records["rtype"] = 0x0A
            for name in dtype.names:
                if name in ("length", "rtype") or name not in batch.schema.names:
                    continue
                column = batch.column(name)
                if name in ("action", "side"):
                    records[name] = np.array([(v or "\0").encode() for v in column.to_pylist()], dtype="S1")
                elif str(column.type).startswith("timestamp"):
                    records[name] = column.cast("int64").to_numpy()
                else:
                    records[name] = column.to_numpy(zero_copy_only=False)
            f.write(records.tobytes())
            rows += n
    _zstd(raw, out)
    raw.unlink()
    return rows


def _decompress_prefix(path: Path) -> bytes:
    """The first bytes of a zstd file, enough for its DBN metadata."""
    import zstandard

    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(path.read_bytes()[: 1 << 22]),
                                                   read_across_frames=True) as reader:
        return reader.read(1 << 20)


DEPTH_CAPTURES = ("hftbacktest/spot/btcusdt_20240808.gz", "hftbacktest/usdm/btcusdt_20240808.gz",
                  "hftbacktest/cm/btcusd_perp_20240808.gz")


def _python_depth_replay(path: Path) -> tuple[int, int]:
    """Replay a Binance capture with dicts: return (lines, rows). The peer of section 4."""
    import gzip
    import heapq

    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    pending, rows, lines, snapshot, prev = [], 0, 0, None, None

    def apply(data) -> bool:
        nonlocal prev
        pu = data.get("pu")
        if prev is None:
            target = snapshot if pu is not None else snapshot + 1
            if data["u"] < target:
                return False
        elif (pu != prev) if pu is not None else (data["U"] != prev + 1):
            raise RuntimeError("gap")
        prev = data["u"]
        for book, key in ((bids, "b"), (asks, "a")):
            for p, q in data[key]:
                if float(q) == 0:
                    book.pop(float(p), None)
                else:
                    book[float(p)] = float(q)
        heapq.nlargest(10, bids.items())
        heapq.nsmallest(10, asks.items())
        return True

    with gzip.open(path, "rt") as f:
        for line in f:
            lines += 1
            msg = json.loads(line.split(" ", 1)[1])
            if "lastUpdateId" in msg:
                snapshot = msg["lastUpdateId"]
                bids = {float(p): float(q) for p, q in msg["bids"]}
                asks = {float(p): float(q) for p, q in msg["asks"]}
                for data in pending:
                    rows += apply(data)
                pending = []
                continue
            data = msg["data"]
            if data.get("e") != "depthUpdate":
                continue
            if snapshot is None:
                pending.append(data)
            else:
                rows += apply(data)
    return lines, rows


def depth_section(repeat: int) -> None:
    print("4. Binance depth captures: gzip lines -> synchronised book -> MBP-10 rows")
    for rel in DEPTH_CAPTURES:
        path = _testdata() / rel
        if not path.exists():
            print(f"   {rel}: test data not found, skipped")
            continue
        tickforge.read_book(path)  # warm
        py_times, tf_times = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            lines, py_rows = _python_depth_replay(path)
            py_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            table = tickforge.read_book(path)
            tf_times.append(time.perf_counter() - start)
        assert table.num_rows == py_rows, (table.num_rows, py_rows)
        py_s, tf_s = min(py_times), min(tf_times)
        print(f"   {rel} ({lines:,} lines, {py_rows:,} rows)")
        print(f"     Python dict replay    {lines / py_s:>12,.0f} lines/s")
        print(f"     tickforge read_book   {lines / tf_s:>12,.0f} lines/s")
        print(f"     ratio                 {py_s / tf_s:>12.1f}x")


def e2e_section(exe: str, tmp: Path, build_messages: int, repeat: int) -> None:
    """Section 3: book build of a synth mbo day vs dbn to-parquet of the same rows as MBP-10 DBN."""
    synth = dict(symbols=4, publishers=2, days=1, seed=1)
    # 3. End to end: MBO -> MBP-10 Parquet vs dbn to-parquet of the MBP-10 DBN of the same
    # rows (written here from the book's own output), at two file sizes, with peak RSS.
    print(f"3. end to end: book build (MBO .zst -> MBP-10 Parquet) vs dbn to-parquet --price-type fixed of "
          f"the same rows as MBP-10 .zst (goal <= 1.25x; RSS bounded by the live orders)")
    base_rss = _command_rss(["true"])
    for messages in sorted({max(1, build_messages // 3), build_messages}):
        build_zst = tickforge.synth_mbo(tmp / f"build-{messages}", zstd=True,
                                        **dict(synth, messages_per_day=messages))[0]
        out = tmp / f"out-{messages}"
        book_cmd = [exe, "book", "build", str(build_zst), "--out", str(out)]
        book_s = _timed_command(book_cmd, repeat)
        (book_parquet,) = out.glob("*.parquet")
        mbp10 = tmp / f"day-{messages}.mbp-10.dbn.zst"
        rows_out = _mbp10_dbn_of(book_parquet, build_zst, mbp10)
        parquet_cmd = [exe, "dbn", "to-parquet", str(mbp10), "--out", str(tmp / f"peer-{messages}"),
                       "--price-type", "fixed"]
        parquet_s = _timed_command(parquet_cmd, repeat)
        import pyarrow.parquet as pq

        (peer,) = (tmp / f"peer-{messages}").glob("*.parquet")
        assert pq.ParquetFile(peer).metadata.num_rows == rows_out == pq.ParquetFile(book_parquet).metadata.num_rows
        book_rss, parquet_rss = _command_rss(book_cmd), _command_rss(parquet_cmd)
        print(f"   synth mbo day of {messages:,} messages ({build_zst.stat().st_size / 2**20:.0f} MiB .zst), "
              f"{rows_out:,} rows:")
        print(f"     tickforge book build        {book_s:7.2f} s  {rows_out / book_s:>12,.0f} rows/s  "
              f"peak RSS {book_rss:6.0f} MiB")
        print(f"     tickforge dbn to-parquet    {parquet_s:7.2f} s  {rows_out / parquet_s:>12,.0f} rows/s  "
              f"peak RSS {parquet_rss:6.0f} MiB")
        print(f"     ratio book build / to-parquet {book_s / parquet_s:5.2f}x   (goal <= 1.25x)")
        for path in (build_zst, mbp10):
            path.unlink()
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(tmp / f"peer-{messages}", ignore_errors=True)
    print(f"   (an empty command's peak RSS: {base_rss:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000_000,
                        help="MBO records of the synthetic day (tickforge synth mbo) for the long replay")
    parser.add_argument("--build-messages", type=int, default=3_000_000,
                        help="MBO records of the larger synthetic day of the end-to-end build (the other: a third)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--depth-only", action="store_true", help="run only section 4 (depth streams)")
    parser.add_argument("--e2e-only", action="store_true", help="run only section 3 (end to end, two sizes)")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    if args.depth_only:
        depth_section(args.repeat)
        return
    if args.e2e_only:
        with tempfile.TemporaryDirectory(prefix="tickforge-bench-book-") as tmp:
            e2e_section(str(tickforge.native_cli()), Path(tmp), args.build_messages, args.repeat)
        return

    day = _testdata() / DAY
    if not day.exists():
        sys.exit(f"test data not found: {day} (set TICKFORGE_TESTDATA)")
    sys.path.insert(0, str(REPO / "tests"))
    from test_book import _decode, reference_rows  # the reference book the tests check against

    exe = str(tickforge.native_cli())
    with tempfile.TemporaryDirectory(prefix="tickforge-bench-book-") as tmp:
        tmp = Path(tmp)

        # 1. The reference book vs tickforge on the real day, rows out.
        ref_times, tf_times = [], []
        tickforge.read_book(day)  # warm: the first call pays the module's first allocations
        for _ in range(args.repeat):
            start = time.perf_counter()
            metadata, records = _decode(day)
            rows, _ = reference_rows(metadata, records)
            ref_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            table = tickforge.read_book(day)
            tf_times.append(time.perf_counter() - start)
        n_rows = len(rows["ts_recv"])
        assert table.num_rows == n_rows
        ref_s, tf_s = min(ref_times), min(tf_times)
        print(f"1. real day, {len(records):,} messages -> {n_rows:,} rows (decode + book + rows)")
        print(f"   reference book (Python, databento_dbn decode) {n_rows / ref_s:>14,.0f} rows/s")
        print(f"   tickforge read_book                           {n_rows / tf_s:>14,.0f} rows/s")
        print(f"   ratio                                         {ref_s / tf_s:>14.1f}x")

        # 2. Book updates alone on one core, raw and zstd, and memory against file size.
        raw = _decompress(day)
        one = tmp / "day.mbo.dbn"
        one.write_bytes(raw)
        synth = dict(symbols=4, publishers=2, days=1, messages_per_day=args.messages, seed=1)
        long_raw = tickforge.synth_mbo(tmp / "synth-raw", zstd=False, **synth)[0]
        long_zst = tickforge.synth_mbo(tmp / "synth-zst", zstd=True, **synth)[0]
        r_base = _in_child("baseline", one, 1)
        r_one = _in_child("replay", one, args.repeat)
        r_raw = _in_child("replay", long_raw, args.repeat)
        r_zst = _in_child("replay", long_zst, args.repeat)
        assert r_raw["anomalies"] == 0 and r_zst["anomalies"] == 0
        zstd_s = _timed_command(["zstd", "-d", "-c", "-q", str(long_zst)], args.repeat)
        print(f"2. book updates alone (decode + apply, no rows), one core, {r_raw['messages']:,} messages "
              f"(a synth mbo day)")
        for label, r in ((".dbn", r_raw), (".dbn.zst", r_zst)):
            rate = r["messages"] / r["seconds"]
            print(f"   tickforge {label:<9} {rate:>14,.0f} msg/s   {rate / RUST_MSGS_PER_S:5.1f}x the Rust "
                  f"reconstructor's 974k/s   (goal 10 M/s: {rate / 10e6:.2f}x)")
        print(f"   zstd -d alone on the .zst: {r_zst['messages'] / zstd_s:,.0f} msg/s equivalent")
        print(f"   peak RSS above the interpreter's {r_base['rss_mib']:.0f} MiB: "
              f"{r_one['rss_mib'] - r_base['rss_mib']:.0f} MiB for 1 day ({one.stat().st_size / 2**20:.0f} MiB of "
              f"records), {r_raw['rss_mib'] - r_base['rss_mib']:.0f} MiB for the synthetic day "
              f"({long_raw.stat().st_size / 2**20:.0f} MiB)")
        one.unlink()
        long_raw.unlink()

        # 3. End to end, at two sizes.
        e2e_section(exe, tmp, args.build_messages, args.repeat)

    depth_section(args.repeat)


if __name__ == "__main__":
    main()
