"""Bad DBN input: every corruption must raise tickforge.TickforgeError, quickly.

Corrupted files are built in tmp_path from real test files: truncations (every offset of small
raw files, many offsets of zstd files), a wrong magic, unknown versions, bad metadata lengths,
bad record lengths, flipped bytes inside zstd frames, empty files. Each must raise
TickforgeError (never crash, never hang, never another exception type) whose message names the
file and a byte offset, and the exact offset where it is known. Truncation exactly at a record
boundary is a valid, shorter stream, not an error. dbn_to_parquet must leave nothing behind in
its output directory when its input is bad.
"""

from __future__ import annotations

import io
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

import tickforge

from conftest import locate_testdata as _locate_testdata

zstandard = pytest.importorskip("zstandard")

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAX_SECONDS = 5.0  # per decode of a corrupted input: a hang guard, not a benchmark

MBO_V3 = "dbn/test_data.mbo.v3.dbn"  # raw v3, 2 records
MBO_V2 = "dbn/test_data.mbo.dbn"  # raw v2, 2 records
MBO_V1_ZST = "dbn/test_data.mbo.v1.dbn.zst"  # decompressed into a raw v1 file
DEFINITION_V2 = "dbn/test_data.definition.dbn"  # raw v2, large metadata, 2 big records
SMALL_ZST = "dbn/test_data.mbo.v3.dbn.zst"
BIG_ZST = "nautilus/databento/esh4-glbx-mdp3-20231224.mbo.dbn.zst"  # 2 frames, 8725 records


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def source(rel: str) -> bytes:
    path = _locate_testdata() / rel
    if not path.exists():
        pytest.skip(f"test data file not found: {path} (set TICKFORGE_TESTDATA)")
    return path.read_bytes()


def decompress(data: bytes) -> bytes:
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    return reader.read()


def raw_source(rel: str) -> bytes:
    data = source(rel)
    return decompress(data) if data[:4] == ZSTD_MAGIC else data


def compress(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(write_checksum=True).compress(data)


def record_boundaries(data: bytes) -> list[int]:
    """Offsets where records start, plus the end of the last record."""
    assert data[:3] == b"DBN"
    (mlen,) = struct.unpack_from("<I", data, 4)
    pos = 8 + mlen
    bounds = [pos]
    while pos < len(data):
        size = data[pos] * 4
        assert size >= 16
        pos += size
        bounds.append(pos)
    assert pos == len(data)
    return bounds


def zstd_frame_ends(data: bytes) -> list[int]:
    """Offsets where zstd frames (or skippable frames) end."""
    ends, pos = [], 0
    while pos < len(data):
        (magic,) = struct.unpack_from("<I", data, pos)
        if magic & 0xFFFFFFF0 == 0x184D2A50:
            (n,) = struct.unpack_from("<I", data, pos + 4)
            pos += 8 + n
            ends.append(pos)
            continue
        assert magic == 0xFD2FB528, f"no zstd frame at {pos}"
        fhd = data[pos + 4]
        single = (fhd >> 5) & 1
        header = 1 + (0 if single else 1) + (0, 1, 2, 4)[fhd & 3]
        header += ((1 if single else 0), 2, 4, 8)[fhd >> 6]
        p = pos + 4 + header
        while True:
            (bh,) = struct.unpack("<I", data[p : p + 3] + b"\0")
            last, btype, bsize = bh & 1, (bh >> 1) & 3, bh >> 3
            p += 3 + (1 if btype == 1 else bsize)
            if last:
                break
        if (fhd >> 2) & 1:
            p += 4
        ends.append(p)
        pos = p
    return ends


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def decode_error(path: Path, *, fn=None) -> BaseException | None:
    """Decode `path`; return the exception it raised (of any type), or None if none."""
    fn = fn or tickforge.read_dbn
    t0 = time.perf_counter()
    try:
        fn(path)
    except Exception as e:  # noqa: BLE001 - the type is checked by check_message
        error = e
    else:
        error = None
    elapsed = time.perf_counter() - t0
    assert elapsed < MAX_SECONDS, f"{path.name}: decoding took {elapsed:.1f} s"
    return error


def check_message(
    path: Path, error: BaseException | None, offset: int | None = None, prefix: str = ""
) -> str | None:
    """Return a problem description, or None if `error` is a good error for `path`."""
    if error is None:
        return "no error raised"
    message = str(error)
    if not isinstance(error, tickforge.TickforgeError):
        return f"raised {type(error).__module__}.{type(error).__name__}, not TickforgeError: {message!r}"
    if not message.startswith(f"{path}: "):
        return f"message does not start with '<path>: ': {message!r}"
    if "byte" not in message:
        return f"message has no byte offset: {message!r}"
    if offset is not None and not re.search(rf"{prefix}byte {offset}\b", message):
        return f"message does not name {prefix}byte {offset}: {message!r}"
    size = path.stat().st_size
    for n in re.findall(r"(?<!decompressed )byte (\d+)", message):
        if int(n) > size:  # an offset in the file itself must lie within it
            return f"byte {n} is past the end of the {size}-byte file: {message!r}"
    return None


def expect_error(path: Path, offset: int | None = None, *, prefix: str = "", fn=None) -> str:
    error = decode_error(path, fn=fn)
    problem = check_message(path, error, offset, prefix)
    assert problem is None, f"{path.name}: {problem}"
    return str(error)


def report(problems: list[str], total: int) -> None:
    if problems:
        shown = "\n  ".join(problems[:15])
        pytest.fail(f"{len(problems)} of {total} cases failed:\n  {shown}")


def table_rows(table: pa.Table) -> list:
    return table.to_pylist()


def _same_row(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, float) and isinstance(y, float) and x != x and y != y:
            continue
        if x != y:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Truncation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", [MBO_V3, MBO_V2, MBO_V1_ZST, DEFINITION_V2])
def test_truncated_raw_at_every_offset(tmp_path, rel, hang_guard):
    """Every prefix of a raw file: an error, except at record boundaries (a shorter stream)."""
    hang_guard(600)
    data = raw_source(rel)
    bounds = record_boundaries(data)
    full = tickforge.read_dbn(write(tmp_path, "full.dbn", data))
    full_rows = table_rows(full)
    assert len(full_rows) == len(bounds) - 1

    # The definition file has a 5 kB metadata block: sample it, but cover every record offset.
    if rel == DEFINITION_V2:
        offsets = sorted(set(range(0, bounds[0], 7)) | set(range(bounds[0] - 40, len(data))))
    else:
        offsets = range(len(data))
    problems = []
    for n in offsets:
        path = write(tmp_path, f"cut_{n}.dbn", data[:n])
        if n in bounds:
            try:
                table = tickforge.read_dbn(path)
            except Exception as e:  # noqa: BLE001
                problems.append(f"cut at record boundary {n}: raised {type(e).__name__}: {e}")
            else:
                k = bounds.index(n)
                rows = table_rows(table)
                if len(rows) != k:
                    problems.append(f"cut at record boundary {n}: {len(rows)} rows, expected {k}")
                elif not all(_same_row(a, b) for a, b in zip(rows, full_rows[:k])):
                    problems.append(f"cut at record boundary {n}: rows differ from the full read")
        else:
            problem = check_message(path, decode_error(path))
            if problem:
                problems.append(f"cut at {n}: {problem}")
            if n < bounds[0]:  # inside the prelude or the metadata
                problem = check_message(path, decode_error(path, fn=tickforge.read_dbn_metadata))
                if problem:
                    problems.append(f"cut at {n}, read_dbn_metadata: {problem}")
        path.unlink()
    report(problems, len(offsets))


def _zstd_prefix_is_valid(data: bytes, n: int) -> int | None:
    """If data[:n] is a complete zstd stream holding a complete DBN stream, return its record
    count; else None."""
    if n == 0 or n not in zstd_frame_ends(data):
        return None
    raw = decompress(data[:n])
    if len(raw) < 8 or raw[:3] != b"DBN":
        return None
    (mlen,) = struct.unpack_from("<I", raw, 4)
    pos, count = 8 + mlen, 0
    if pos > len(raw):
        return None
    while pos < len(raw):
        if raw[pos] == 0:
            return None
        pos += raw[pos] * 4
        count += 1
    return count if pos == len(raw) else None


@pytest.mark.parametrize("rel", [SMALL_ZST, BIG_ZST])
def test_truncated_zstd(tmp_path, rel, hang_guard):
    """Prefixes of zstd files: an error unless the prefix is whole frames of whole records."""
    hang_guard(600)
    data = source(rel)
    size = len(data)
    if size <= 400:
        offsets = list(range(size))
    else:  # about 50 offsets: the start, the frame boundaries, spread, and the very end
        ends = zstd_frame_ends(data)
        picks = {0, 1, 3, 4, 5, 8, 12, 20, 50, size - 1, size - 2, size - 3, size - 4, size - 5}
        for e in ends[:-1]:
            picks |= {e - 1, e, e + 1, e + 3}
        picks |= {size * i // 36 for i in range(1, 36)}
        offsets = sorted(p for p in picks if 0 <= p < size)
    assert len(offsets) >= 40 or size <= 400

    problems = []
    for n in offsets:
        path = write(tmp_path, f"cut_{n}.dbn.zst", data[:n])
        valid_rows = _zstd_prefix_is_valid(data, n)
        if valid_rows is not None:
            try:
                rows = tickforge.read_dbn(path).num_rows
            except Exception as e:  # noqa: BLE001
                problems.append(f"cut at frame boundary {n} (valid DBN): raised {type(e).__name__}: {e}")
            else:
                if rows != valid_rows:
                    problems.append(f"cut at frame boundary {n}: {rows} rows, expected {valid_rows}")
        else:
            problem = check_message(path, decode_error(path))
            if problem:
                problems.append(f"cut at {n}: {problem}")
        path.unlink()
    report(problems, len(offsets))


def test_truncation_at_record_boundary_is_valid(tmp_path, hang_guard):
    """A raw stream cut exactly between records is a shorter valid stream (big file)."""
    data = raw_source(BIG_ZST)
    bounds = record_boundaries(data)
    full = tickforge.read_dbn(write(tmp_path, "full.dbn", data), price_type="fixed")
    for k in (0, 1, len(bounds) // 2, len(bounds) - 2):
        path = write(tmp_path, f"first_{k}.dbn", data[: bounds[k]])
        table = tickforge.read_dbn(path, price_type="fixed")
        assert table.num_rows == k
        assert table.equals(full.slice(0, k)), f"the first {k} records differ"
        # Compressed the same way, it is valid too.
        zpath = write(tmp_path, f"first_{k}.dbn.zst", compress(data[: bounds[k]]))
        assert tickforge.read_dbn(zpath, price_type="fixed").equals(table)


# ---------------------------------------------------------------------------------------------
# Prelude and metadata
# ---------------------------------------------------------------------------------------------


def test_zero_length_file(tmp_path, hang_guard):
    path = write(tmp_path, "empty.dbn", b"")
    expect_error(path, 0)
    expect_error(path, 0, fn=tickforge.read_dbn_metadata)
    path = write(tmp_path, "empty.dbn.zst", b"")
    expect_error(path, 0)


def test_zstd_magic_only(tmp_path, hang_guard):
    expect_error(write(tmp_path, "magic.dbn.zst", ZSTD_MAGIC))


def test_empty_zstd_frame(tmp_path, hang_guard):
    """A complete zstd stream holding no bytes is an empty (so truncated) DBN stream."""
    expect_error(write(tmp_path, "nothing.dbn.zst", compress(b"")))


@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "zstd"])
def test_wrong_magic(tmp_path, compressed, hang_guard):
    data = bytearray(raw_source(MBO_V3))
    data[:3] = b"XYZ"
    data = bytes(data)
    path = write(tmp_path, "magic.dbn.zst" if compressed else "magic.dbn",
                 compress(data) if compressed else data)
    expect_error(path, 0)
    expect_error(path, 0, fn=tickforge.read_dbn_metadata)


def test_garbage_file(tmp_path, hang_guard):
    data = bytes((i * 73 + 11) % 256 for i in range(1000))
    expect_error(write(tmp_path, "garbage.dbn", data), 0)


@pytest.mark.parametrize("version", [0, 4, 9, 255])
@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "zstd"])
def test_unknown_version(tmp_path, version, compressed, hang_guard):
    data = bytearray(raw_source(MBO_V3))
    data[3] = version
    data = bytes(data)
    name = f"v{version}.dbn.zst" if compressed else f"v{version}.dbn"
    path = write(tmp_path, name, compress(data) if compressed else data)
    expect_error(path, 3)
    expect_error(path, 3, fn=tickforge.read_dbn_metadata)


@pytest.mark.parametrize("rel", [MBO_V3, MBO_V2, MBO_V1_ZST])
@pytest.mark.parametrize("delta", ["len+1", "len+1000", "u32max", "i32max"])
@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "zstd"])
def test_metadata_length_past_the_end(tmp_path, rel, delta, compressed, hang_guard):
    data = bytearray(raw_source(rel))
    length = {
        "len+1": len(data) - 8 + 1,
        "len+1000": len(data) + 1000,
        "u32max": 0xFFFFFFFF,
        "i32max": 0x7FFFFFFF,
    }[delta]
    struct.pack_into("<I", data, 4, length)
    data = bytes(data)
    path = write(tmp_path, "mlen.dbn.zst" if compressed else "mlen.dbn",
                 compress(data) if compressed else data)
    expect_error(path, 4)
    expect_error(path, 4, fn=tickforge.read_dbn_metadata)


_MAXRSS_PROBE = """
import resource, sys
import tickforge
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    tickforge.read_dbn(sys.argv[1])
except Exception as e:
    print(type(e).__name__, e, file=sys.stderr)
else:
    print("no error", file=sys.stderr)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024)  # ru_maxrss is in KiB on Linux
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss units are Linux's")
@pytest.mark.parametrize("length", [0x7FFFFFFF, 0xFFFFFFFF], ids=["i32max", "u32max"])
@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "zstd"])
def test_metadata_length_is_not_trusted_for_allocation(tmp_path, length, compressed):
    """A 472-byte file that claims a 2-4 GiB metadata block must not make us allocate it."""
    data = bytearray(raw_source(MBO_V3))
    struct.pack_into("<I", data, 4, length)
    data = bytes(data)
    path = write(tmp_path, "mlen.dbn.zst" if compressed else "mlen.dbn",
                 compress(data) if compressed else data)
    proc = subprocess.run(
        [sys.executable, "-c", _MAXRSS_PROBE, str(path)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    grew_mib = int(proc.stdout.strip())
    assert grew_mib < 256, (
        f"peak memory grew by {grew_mib} MiB decoding a {len(data)}-byte file whose metadata "
        f"length says {length}; stderr: {proc.stderr.strip()}"
    )


@pytest.mark.parametrize("rel", [MBO_V3, MBO_V1_ZST])
@pytest.mark.parametrize("length", [0, 1, 8, 20, 40])
def test_metadata_length_too_short(tmp_path, rel, length, hang_guard):
    """A metadata length shorter than the fixed fields (or cutting the symbol lists)."""
    data = bytearray(raw_source(rel))
    struct.pack_into("<I", data, 4, length)
    path = write(tmp_path, "short_meta.dbn", bytes(data))
    expect_error(path)
    expect_error(path, fn=tickforge.read_dbn_metadata)


# ---------------------------------------------------------------------------------------------
# Record lengths
# ---------------------------------------------------------------------------------------------


def _with_record_length(rel: str, index: int, words: int) -> tuple[bytes, int]:
    data = bytearray(raw_source(rel))
    bounds = record_boundaries(bytes(data))
    offset = bounds[index]
    data[offset] = words
    return bytes(data), offset


@pytest.mark.parametrize("rel", [MBO_V3, MBO_V2, MBO_V1_ZST, DEFINITION_V2])
@pytest.mark.parametrize("index", [0, 1], ids=["first", "second"])
@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "zstd"])
def test_record_length_zero(tmp_path, rel, index, compressed, hang_guard):
    data, offset = _with_record_length(rel, index, 0)
    if compressed:
        path = write(tmp_path, "len0.dbn.zst", compress(data))
        expect_error(path, offset, prefix="decompressed ")
    else:
        path = write(tmp_path, "len0.dbn", data)
        expect_error(path, offset)


@pytest.mark.parametrize("rel", [MBO_V3, MBO_V2, MBO_V1_ZST])
@pytest.mark.parametrize("words", [1, 2, 3])
def test_record_length_shorter_than_a_header(tmp_path, rel, words, hang_guard):
    data, offset = _with_record_length(rel, 0, words)
    expect_error(write(tmp_path, "tiny.dbn", data), offset)


@pytest.mark.parametrize("rel", [MBO_V3, MBO_V2])
def test_record_length_shorter_than_its_type(tmp_path, rel, hang_guard):
    """An MBO record must hold 56 bytes; one that says 52 cannot be decoded."""
    data, offset = _with_record_length(rel, 0, 13)
    expect_error(write(tmp_path, "short.dbn", data), offset)


@pytest.mark.parametrize("rel", [MBO_V3, MBO_V2, MBO_V1_ZST])
@pytest.mark.parametrize("rtype", [0x00, 0xEE], ids=["trades", "unknown"])
def test_a_record_of_another_type_than_the_metadata_says(tmp_path, rel, rtype, hang_guard):
    """A record the file's schema does not allow is an error at its offset, not a record
    dropped (a mixed file is read by naming a schema, and then the others are counted)."""
    data = bytearray(raw_source(rel))
    offset = record_boundaries(bytes(data))[1]
    data[offset + 1] = rtype
    path = write(tmp_path, "foreign.dbn", bytes(data))
    message = expect_error(path, offset)
    assert "in a file whose metadata says mbo" in message
    assert ("trades record" if rtype == 0 else "rtype-0xee record") in message


@pytest.mark.parametrize("rel", [MBO_V3, MBO_V2, MBO_V1_ZST, DEFINITION_V2])
@pytest.mark.parametrize("index", [0, -1], ids=["first", "last"])
@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "zstd"])
def test_record_length_past_the_end(tmp_path, rel, index, compressed, hang_guard):
    data = bytearray(raw_source(rel))
    bounds = record_boundaries(bytes(data))
    offset = bounds[index - 1] if index < 0 else bounds[index]  # bounds[-1] is the end
    remaining = len(data) - offset
    words = 255
    assert words * 4 > remaining
    data[offset] = words
    data = bytes(data)
    if compressed:
        path = write(tmp_path, "long.dbn.zst", compress(data))
        expect_error(path, offset, prefix="decompressed ")
    else:
        path = write(tmp_path, "long.dbn", data)
        expect_error(path, offset)


# ---------------------------------------------------------------------------------------------
# Corrupted zstd frames
# ---------------------------------------------------------------------------------------------


def _zstd_rejects(data: bytes) -> bool:
    try:
        decompress(data)
    except zstandard.ZstdError:
        return True
    return False


@pytest.mark.parametrize("rel", [SMALL_ZST, BIG_ZST, "dbn/test_data.definition.v3.dbn.zst"])
def test_corrupted_zstd_frame(tmp_path, rel, hang_guard):
    """Flip bytes inside compressed frames: where zstd itself rejects the result, so must we."""
    hang_guard(600)
    data = source(rel)
    size = len(data)
    positions = sorted({size * i // 23 for i in range(2, 22)} | {size // 2, size - 6, size - 2})
    problems, tried = [], 0
    for pos in positions:
        for pattern in (0xFF, 0x5A):
            bad = bytearray(data)
            bad[pos] ^= pattern
            bad[min(pos + 1, size - 1)] ^= pattern
            bad = bytes(bad)
            if not _zstd_rejects(bad):
                continue  # not detectably corrupt at the zstd level
            tried += 1
            path = write(tmp_path, f"flip_{pos}_{pattern}.dbn.zst", bad)
            problem = check_message(path, decode_error(path))
            if problem:
                problems.append(f"bytes flipped at {pos} (^{pattern:#x}): {problem}")
            path.unlink()
    assert tried >= 10, f"only {tried} corruptions were detectable by zstd"
    report(problems, tried)


def test_corrupted_zstd_frame_header(tmp_path, hang_guard):
    data = bytearray(source(SMALL_ZST))
    data[4] = 0xFF  # frame header descriptor: reserved bit set
    expect_error(write(tmp_path, "fhd.dbn.zst", bytes(data)))


# ---------------------------------------------------------------------------------------------
# dbn_to_parquet leaves nothing behind
# ---------------------------------------------------------------------------------------------


def _listing(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


@pytest.mark.parametrize(
    "case", ["raw_mid_record", "raw_mid_metadata", "zstd_cut", "big_raw_cut", "big_zstd_cut"]
)
def test_dbn_to_parquet_on_truncated_input_leaves_nothing(tmp_path, case, hang_guard):
    hang_guard(300)
    if case.startswith("big"):
        raw = raw_source(BIG_ZST)
    else:
        raw = raw_source(MBO_V3)
    bounds = record_boundaries(raw)
    if case == "raw_mid_record":
        data, name = raw[: bounds[1] + 10], "in.dbn"
    elif case == "raw_mid_metadata":
        data, name = raw[: bounds[0] // 2], "in.dbn"
    elif case == "zstd_cut":
        z = source(SMALL_ZST)
        data, name = z[: len(z) - 7], "in.dbn.zst"
    elif case == "big_raw_cut":  # fails after many rows were already converted
        data, name = raw[: bounds[-3] + 17], "in.dbn"
    else:
        z = source(BIG_ZST)
        data, name = z[: len(z) * 9 // 10], "in.dbn.zst"
    src_dir = tmp_path / "src"
    src_dir.mkdir()
    path = write(src_dir, name, data)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    t0 = time.perf_counter()
    try:
        tickforge.dbn_to_parquet(path, out_dir)
    except Exception as e:  # noqa: BLE001 - checked below, after the directory listing
        error = e
    else:
        error = None
    assert time.perf_counter() - t0 < 30
    assert _listing(out_dir) == [], f"dbn_to_parquet left files behind: {_listing(out_dir)}"
    assert error is not None, "dbn_to_parquet accepted a truncated file"
    assert isinstance(error, tickforge.TickforgeError), f"raised {type(error).__name__}: {error}"
    assert str(path) in str(error)
    assert "byte" in str(error)
    assert _listing(src_dir) == [name], f"dbn_to_parquet wrote next to its input: {_listing(src_dir)}"


def test_dbn_to_parquet_on_valid_input_writes_one_file(tmp_path, hang_guard):
    """The control for the test above: the same call on a good file writes its output."""
    path = write(tmp_path, "good.dbn", raw_source(MBO_V3))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    stats = tickforge.dbn_to_parquet(path, out_dir)
    assert len(stats) == 1
    assert stats[0]["rows"] == 2
    assert stats[0]["input_bytes"] == path.stat().st_size
    out = Path(stats[0]["output"])
    assert out.exists() and out.parent.resolve() == out_dir.resolve()
    assert _listing(out_dir) == [out.name]
    assert stats[0]["output_bytes"] == out.stat().st_size
    import pyarrow.parquet as pq

    assert pq.read_table(out).num_rows == 2


def test_inputs_of_one_output_name_are_refused_before_anything_is_written(tmp_path, hang_guard):
    """Files of the same name in different folders would write one output file, the later
    replacing the earlier: refused up front by to-parquet and book build, Python and CLI."""
    from conftest import run

    paths = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        paths.append(write(tmp_path / folder, "day.mbo.dbn", raw_source(MBO_V3)))
    for out in ("py", "cli", "books", "books-cli"):
        (tmp_path / out).mkdir()
    with pytest.raises(tickforge.TickforgeError, match="would both write"):
        tickforge.dbn_to_parquet(paths, tmp_path / "py")
    with pytest.raises(tickforge.TickforgeError, match="would both write"):
        tickforge.build_books(paths, tmp_path / "books")
    proc = run("dbn", "to-parquet", *paths, "--out", tmp_path / "cli", check=False)
    assert proc.returncode != 0 and "would both write" in proc.stderr and str(paths[0]) in proc.stderr, proc.stderr
    proc = run("book", "build", *paths, "--out", tmp_path / "books-cli", check=False)
    assert proc.returncode != 0 and "would both write" in proc.stderr, proc.stderr
    for out in ("py", "cli", "books", "books-cli"):
        assert _listing(tmp_path / out) == [], out
    # Distinct names still convert together.
    assert len(tickforge.dbn_to_parquet(paths[:1], tmp_path / "py")) == 1
