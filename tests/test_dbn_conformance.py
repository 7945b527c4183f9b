"""Conformance of tickforge's DBN reader with Databento's own decoder and DBNStore.to_df().

Every DBN file under the test data's dbn/, nautilus/databento/ and databento-python/ folders
is checked, parametrized by its path relative to the test data directory:

(a) read_dbn_metadata() equals databento_dbn's decoded (upgraded) Metadata, field by field;
(b) read_dbn(price_type="fixed", pretty_ts=False, map_symbols=False) equals databento_dbn's
    upgraded records, every field of every record;
(c) read_dbn() (float prices, pretty timestamps, symbols) equals DBNStore.to_df();
(d) files with huge metadata blocks decode quickly (a hang guard, not a benchmark);
(e) legacy .dbz files are rejected; headerless .frag files decode with fragment_version.
"""

from __future__ import annotations

import functools
import io
import math
import re
import struct
import time
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import tickforge

from conftest import locate_testdata as _locate_testdata

databento = pytest.importorskip("databento")
dbn = pytest.importorskip("databento_dbn")
zstandard = pytest.importorskip("zstandard")
pd = pytest.importorskip("pandas")

pytestmark = [
    # databento's to_df() warns under pandas 3 about DataFrame.set_index(inplace=True).
    pytest.mark.filterwarnings("ignore:The inplace keyword:Warning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

UPGRADE = dbn.VersionUpgradePolicy.UPGRADE_TO_V3
AS_IS = dbn.VersionUpgradePolicy.AS_IS
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
DBN_DIRS = ("dbn", "nautilus/databento", "databento-python")
HUGE_MAPPINGS = 1000  # a metadata block with at least this many symbol mappings is "huge"

# ---------------------------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------------------------


def _walk(predicate) -> list[str]:
    base = _locate_testdata()
    found: list[str] = []
    for sub in DBN_DIRS:
        root = base / sub
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and predicate(path.name):
                found.append(path.relative_to(base).as_posix())
    return found


def _is_dbn(name: str) -> bool:
    return ".dbn" in name and ".frag" not in name


def _is_frag(name: str) -> bool:
    return ".dbn" in name and ".frag" in name


def _is_dbz(name: str) -> bool:
    return name.endswith(".dbz") or ".dbz." in name


DBN_FILES = _walk(_is_dbn)
FRAG_FILES = _walk(_is_frag)
DBZ_FILES = _walk(_is_dbz)


def _params(items: list[str]):
    if items:
        return items
    return [
        pytest.param(
            None,
            marks=pytest.mark.skip(reason=f"no such test data under {_locate_testdata()}"),
            id="no-testdata",
        )
    ]


def _path(rel: str) -> Path:
    path = _locate_testdata() / rel
    if not path.exists():
        pytest.skip(f"test data file not found: {path} (set TICKFORGE_TESTDATA)")
    return path


# ---------------------------------------------------------------------------------------------
# Reference decoding with databento_dbn
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def file_bytes(rel: str) -> bytes:
    return _path(rel).read_bytes()


def decompress(data: bytes) -> bytes:
    if data[:4] != ZSTD_MAGIC:
        return data
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    return reader.read()


@functools.lru_cache(maxsize=None)
def dbn_bytes(rel: str) -> bytes:
    """The file's DBN bytes, decompressed if it is zstd (all frames)."""
    return decompress(file_bytes(rel))


@functools.lru_cache(maxsize=None)
def reference(rel: str, fragment_version: int | None = None):
    """Return (metadata or None, records) as databento_dbn decodes them, upgraded to v3."""
    data = dbn_bytes(rel)
    if fragment_version is None:
        decoder = dbn.DBNDecoder(upgrade_policy=UPGRADE)
    else:
        decoder = dbn.DBNDecoder(
            has_metadata=False, input_version=fragment_version, upgrade_policy=UPGRADE
        )
    decoder.write(data)
    out = decoder.decode()
    assert decoder.buffer() == b"", f"{rel}: databento_dbn left undecoded bytes"
    if fragment_version is None:
        assert isinstance(out[0], dbn.Metadata)
        return out[0], tuple(out[1:])
    return None, tuple(out)


def file_version(rel: str) -> int:
    data = dbn_bytes(rel)
    assert data[:3] == b"DBN", rel
    return data[3]


@functools.lru_cache(maxsize=None)
def metadata_only(rel: str):
    """databento_dbn's upgraded Metadata, decoded without the records (cheap at collection)."""
    return dbn.Metadata.decode(dbn_bytes(rel), upgrade_policy=UPGRADE)


@functools.lru_cache(maxsize=None)
def mapping_count(rel: str) -> int:
    mappings = metadata_only(rel).mappings
    return sum(len(v) for v in mappings.values()) if mappings else 0


def enum_value(x):
    return x.value if hasattr(x, "value") else x


def schema_name(metadata) -> str | None:
    return None if metadata.schema is None else str(enum_value(metadata.schema))


def yyyymmdd(d) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def struct_class_for_schema(schema: str):
    from databento.common.constants import SCHEMA_STRUCT_MAP

    return SCHEMA_STRUCT_MAP[dbn.Schema(schema)]


def rtype_for_schema(schema: str) -> int:
    return int(enum_value(dbn.RType.from_schema(schema)))


def upgraded_v3_bytes(rel: str) -> bytes:
    """Re-encode databento_dbn's upgraded metadata and records as a DBN v3 stream."""
    metadata, records = reference(rel)
    return metadata.encode() + b"".join(bytes(r) for r in records)


# Schemas whose records the mixed live test file holds (tbbo reads the mbp-1 records).
LIVE_SCHEMAS = (
    "mbo",
    "mbp-1",
    "mbp-10",
    "tbbo",
    "trades",
    "ohlcv-1s",
    "ohlcv-1m",
    "definition",
    "statistics",
)


def _cases_with_schema() -> list:
    """(rel, schema) pairs: every file with schema=None, plus each schema of mixed files.

    A mixed file read with schema=None is an error listing its record types (it used to give
    its first type's records alone, dropping the rest silently); tests/test_label_store.py
    checks that error, so here it is read schema by schema only.
    """
    cases: list = []
    for rel in DBN_FILES:
        try:
            metadata = metadata_only(rel)
        except Exception:  # pragma: no cover - surfaces in the per-file tests instead
            cases.append(pytest.param(rel, None, id=rel))
            continue
        if metadata.schema is not None:
            cases.append(pytest.param(rel, None, id=rel))
        else:
            for schema in LIVE_SCHEMAS:
                cases.append(pytest.param(rel, schema, id=f"{rel}[schema={schema}]"))
    return cases


CASES = _cases_with_schema() or [
    pytest.param(
        None, None, marks=pytest.mark.skip(reason=f"no DBN test data under {_locate_testdata()}"),
        id="no-testdata",
    )
]

# ---------------------------------------------------------------------------------------------
# Comparison helpers
# ---------------------------------------------------------------------------------------------


def assert_values_equal(where: str, got: list, expected: list) -> None:
    assert len(got) == len(expected), f"{where}: {len(got)} values, expected {len(expected)}"
    if got == expected and all(type(a) is type(b) for a, b in zip(got[:1], expected[:1])):
        return  # fast path; missing values are None on both sides here
    bad = [i for i, (g, e) in enumerate(zip(got, expected)) if not _same(g, e)]
    if bad:
        shown = ", ".join(f"row {i}: expected {expected[i]!r}, got {got[i]!r}" for i in bad[:5])
        pytest.fail(f"{where}: {len(bad)} of {len(got)} values differ; {shown}")


def _is_missing(x) -> bool:
    if x is None or x is pd.NaT or x is pd.NA:
        return True
    if isinstance(x, (str, bytes)):
        return False
    try:
        missing = pd.isna(x)
    except (TypeError, ValueError):
        return False
    return isinstance(missing, (bool, np.bool_)) and bool(missing)


def _same(a, b) -> bool:
    """Equality where NaN, NaT, NA and None are all "missing" and equal to each other."""
    if _is_missing(a) or _is_missing(b):
        return _is_missing(a) and _is_missing(b)
    if isinstance(a, np.generic):
        a = a.item()
    if isinstance(b, np.generic):
        b = b.item()
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return bool(a == b)


def series_values(series) -> list:
    """A pandas Series as a list, with every kind of missing value (NaN, NaT, NA) as None."""
    obj = series.astype(object)
    return obj.where(series.notna(), None).tolist()


def numpy_to_arrow(dtype: np.dtype) -> pa.DataType:
    return pa.from_numpy_dtype(dtype.newbyteorder("=") if dtype.byteorder == ">" else dtype)


def is_string_type(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _char_of_attr(value):
    """Normalize a databento record attribute of a 1-byte char field to a str (or None)."""
    value = enum_value(value)
    if isinstance(value, bool) or value is None:
        return None  # e.g. StatusMsg.is_trading: databento gives bool/None, not the char
    if isinstance(value, str):
        return "" if value == "\x00" else value
    if isinstance(value, int):
        return "" if value == 0 else chr(value)
    return value


def compare_with_records(rel: str, table: pa.Table, cls, records, ts_out: bool) -> None:
    """Check a raw read (fixed prices, raw timestamps, no symbols) against upgraded records."""
    fields = list(cls._ordered_fields)
    expected_cols = fields + (["ts_out"] if ts_out else [])
    assert table.column_names == expected_cols, f"{rel}: columns differ from {cls.__name__}"
    assert table.num_rows == len(records), f"{rel}: {table.num_rows} rows, expected {len(records)}"

    dtype = np.dtype(cls._dtypes)
    for r in records[:3]:
        assert len(bytes(r)) == dtype.itemsize + (8 if ts_out else 0), (
            f"{rel}: databento {cls.__name__} is {len(bytes(r))} bytes, dtype says {dtype.itemsize}"
        )
    arr = np.frombuffer(b"".join(bytes(r)[: dtype.itemsize] for r in records), dtype=dtype)
    prices = set(cls._price_fields)
    stamps = set(cls._timestamp_fields)

    for name in fields:
        col = table.column(name)
        field_dtype = dtype.fields[name][0]
        where = f"{rel}: {cls.__name__}.{name}"
        if field_dtype.kind == "S":
            assert is_string_type(col.type), f"{where}: type {col.type}, expected a string type"
            if field_dtype.itemsize == 1:  # a c_char: numpy already maps NUL to b""
                expected = [x.decode("utf-8") for x in arr[name]]
            else:  # a NUL-terminated fixed-width c-string
                expected = [x.split(b"\0", 1)[0].decode("utf-8") for x in arr[name]]
            got = col.to_pylist()
            assert_values_equal(where, got, expected)
            # Cross-check the reference itself against databento's record attributes.
            attrs = [getattr(r, name) for r in records]
            if field_dtype.itemsize == 1:
                attrs = [_char_of_attr(a) for a in attrs]
                pairs = [(g, a) for g, a in zip(got, attrs) if a is not None]
                assert_values_equal(f"{where} (vs getattr)", [p[0] for p in pairs], [p[1] for p in pairs])
            else:
                assert_values_equal(f"{where} (vs getattr)", got, [str(a) for a in attrs])
            continue

        if name in prices:
            want_type = pa.int64()
        elif name in stamps:
            want_type = pa.uint64()
        else:
            want_type = numpy_to_arrow(field_dtype)
        assert col.type == want_type, f"{where}: type {col.type}, expected {want_type}"
        got = col.to_pylist()
        assert_values_equal(where, got, arr[name].tolist())
        attrs = [enum_value(getattr(r, name)) for r in records]
        if all(isinstance(a, int) and not isinstance(a, bool) for a in attrs):
            assert_values_equal(f"{where} (vs getattr)", got, attrs)

    if ts_out:
        col = table.column("ts_out")
        assert col.type == pa.uint64(), f"{rel}: ts_out type {col.type}, expected uint64"
        assert_values_equal(f"{rel}: ts_out", col.to_pylist(), [r.ts_out for r in records])


def select_records(rel: str, metadata, records, table: pa.Table, schema: str | None):
    """Return (v3 class, records of the table's record type) from the reference decode."""
    effective = schema or (schema_name(metadata) if metadata is not None else None)
    if table.num_rows:
        rtypes = set(table.column("rtype").to_pylist())
        assert len(rtypes) == 1, f"{rel}: table mixes record types {sorted(rtypes)}"
        rtype = rtypes.pop()
        if effective is not None:
            assert rtype == rtype_for_schema(effective), (
                f"{rel}: table holds rtype {rtype}, schema {effective} has rtype "
                f"{rtype_for_schema(effective)}"
            )
    elif effective is not None:
        rtype = rtype_for_schema(effective)
    else:
        pytest.fail(f"{rel}: empty table and no schema to tell its record type")
    chosen = [r for r in records if int(enum_value(r.rtype)) == rtype]
    if chosen:
        cls = type(chosen[0])
        assert all(type(r) is cls for r in chosen)
    else:
        assert effective is not None
        cls = struct_class_for_schema(effective)
    return cls, chosen


def read_raw(path, **kwargs) -> pa.Table:
    return tickforge.read_dbn(path, price_type="fixed", pretty_ts=False, map_symbols=False, **kwargs)


def to_df(path_or_bytes, schema: str | None):
    if isinstance(path_or_bytes, bytes):
        store = databento.DBNStore.from_bytes(path_or_bytes)
    else:
        store = databento.DBNStore.from_file(path_or_bytes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = store.to_df(schema=schema) if schema else store.to_df()
    return df.reset_index()


def compare_frames(where: str, got, expected, columns: list[str]) -> None:
    for name in columns:
        exp_dtype, got_dtype = expected[name].dtype, got[name].dtype
        if pd.api.types.is_datetime64_any_dtype(exp_dtype):
            # to_df() gives an empty frame datetime64[s, UTC]; tickforge is always ns.
            assert str(got_dtype) == "datetime64[ns, UTC]", (
                f"{where}: column {name} has dtype {got_dtype}, expected datetime64[ns, UTC]"
            )
        elif pd.api.types.is_numeric_dtype(exp_dtype):
            assert str(got_dtype) == str(exp_dtype), (
                f"{where}: column {name} has dtype {got_dtype}, to_df has {exp_dtype}"
            )
        assert_values_equal(
            f"{where}: column {name}", series_values(got[name]), series_values(expected[name])
        )


# ---------------------------------------------------------------------------------------------
# (a) metadata
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", _params(DBN_FILES))
def test_metadata_matches_databento(rel, hang_guard):
    path = _path(rel)
    metadata, _ = reference(rel)
    got = tickforge.read_dbn_metadata(path)
    assert isinstance(got, dict)

    expected = {
        "dataset": metadata.dataset,
        "schema": schema_name(metadata),
        "start": metadata.start,
        "end": metadata.end,
        "limit": metadata.limit,
        "stype_in": None if metadata.stype_in is None else str(enum_value(metadata.stype_in)),
        "stype_out": str(enum_value(metadata.stype_out)),
        "ts_out": metadata.ts_out,
        "symbols": list(metadata.symbols),
        "partial": list(metadata.partial),
        "not_found": list(metadata.not_found),
    }
    for key, want in expected.items():
        assert key in got, f"{rel}: metadata has no key {key!r}"
        assert got[key] == want, f"{rel}: metadata[{key!r}] = {got[key]!r}, expected {want!r}"
    assert got["end"] is None or isinstance(got["end"], int)
    assert got["limit"] is None or got["limit"] > 0

    # mappings: databento gives {raw_symbol: [{start_date: date, end_date: date, symbol}]}.
    want_mappings = [
        (raw, [(yyyymmdd(i["start_date"]), yyyymmdd(i["end_date"]), i["symbol"]) for i in ivs])
        for raw, ivs in metadata.mappings.items()
    ]
    got_raw = got["mappings"]
    assert isinstance(got_raw, list), f"{rel}: mappings is {type(got_raw).__name__}, not a list"
    got_mappings: dict[str, list] = {}
    for m in got_raw:
        assert set(m) >= {"raw_symbol", "intervals"}, f"{rel}: mapping keys {sorted(m)}"
        ivs = got_mappings.setdefault(m["raw_symbol"], [])
        for iv in m["intervals"]:
            assert isinstance(iv["start_date"], int) and isinstance(iv["end_date"], int)
            ivs.append((iv["start_date"], iv["end_date"], iv["symbol"]))
    assert len(got_raw) == len(want_mappings), (
        f"{rel}: {len(got_raw)} mappings, expected {len(want_mappings)}"
    )
    # databento_dbn's dict comes from a hash map: its key order is arbitrary, so compare by key.
    assert got_mappings.keys() == dict(want_mappings).keys(), f"{rel}: mapped symbols differ"
    for raw, ivs in want_mappings:
        assert got_mappings[raw] == ivs, f"{rel}: intervals of {raw!r} differ"


@pytest.mark.parametrize("rel", _params(DBN_FILES))
def test_metadata_version_and_cstr_len_are_the_files(rel, hang_guard):
    """`version` and `symbol_cstr_len` describe the file as written (not the upgrade)."""
    path = _path(rel)
    as_is = dbn.Metadata.decode(dbn_bytes(rel), upgrade_policy=AS_IS)
    got = tickforge.read_dbn_metadata(path)
    assert got["version"] == file_version(rel) == as_is.version
    assert got["symbol_cstr_len"] == as_is.symbol_cstr_len


# ---------------------------------------------------------------------------------------------
# (b) every field of every record, raw
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rel", "schema"), CASES)
def test_records_match_databento(rel, schema, hang_guard):
    path = _path(rel)
    metadata, records = reference(rel)
    table = read_raw(path, schema=schema)
    assert isinstance(table, pa.Table)
    cls, chosen = select_records(rel, metadata, records, table, schema)
    if schema is None and metadata.schema is not None:
        # A single-schema file: every record is of the schema's type and must be in the table.
        assert len(chosen) == len(records), f"{rel}: file holds records of other types"
    compare_with_records(rel, table, cls, chosen, metadata.ts_out)


# ---------------------------------------------------------------------------------------------
# (c) parity with DBNStore.to_df()
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rel", "schema"), CASES)
def test_to_df_parity(rel, schema, hang_guard):
    path = _path(rel)
    metadata, _ = reference(rel)
    if metadata.schema is None and schema is None:
        pytest.skip("DBNStore.to_df() needs a schema for mixed files; covered per schema")
    got = tickforge.read_dbn(path, schema=schema).to_pandas()
    version = file_version(rel)

    if version == 3:
        expected = to_df(path, schema)
        assert list(got.columns) == list(expected.columns), f"{rel}: columns differ from to_df()"
        assert len(got) == len(expected), f"{rel}: {len(got)} rows, to_df() has {len(expected)}"
        compare_frames(rel, got, expected, list(expected.columns))
        return

    # DBNStore does not upgrade v1/v2 data. First: against to_df() of databento's own upgrade
    # of this file, re-encoded as DBN v3 -- names, order and values.
    upgraded = to_df(upgraded_v3_bytes(rel), schema)
    assert list(got.columns) == list(upgraded.columns), (
        f"{rel}: columns differ from to_df() of the upgraded records"
    )
    assert len(got) == len(upgraded)
    compare_frames(f"{rel} (vs upgraded)", got, upgraded, list(upgraded.columns))

    # Second: against to_df() of the file as written, on the columns both have, except the
    # ones whose values databento's own upgrade changes (e.g. sentinels widened).
    original = to_df(path, schema)
    assert len(got) == len(original)
    common = [c for c in original.columns if c in got.columns]
    changed = {
        c
        for c in common
        if c in upgraded.columns
        and series_values(original[c]) != series_values(upgraded[c])
    }
    assert "ts_recv" in common or "ts_event" in common
    for name in common:
        if name in changed:
            continue
        assert_values_equal(
            f"{rel} (vs v{version} to_df): column {name}",
            series_values(got[name]),
            series_values(original[name]),
        )


@pytest.mark.parametrize("rel", _params(DBN_FILES))
def test_column_types(rel, hang_guard):
    """Default read: prices float64, timestamps timestamp[ns, UTC], symbol a string."""
    path = _path(rel)
    metadata, records = reference(rel)
    if metadata.schema is None:
        pytest.skip("mixed file: covered per schema")
    table = tickforge.read_dbn(path)
    cls = struct_class_for_schema(schema_name(metadata))
    dtype = np.dtype(cls._dtypes)
    want_cols = list(cls._ordered_fields) + (["ts_out"] if metadata.ts_out else []) + ["symbol"]
    assert table.column_names == want_cols
    for name in cls._ordered_fields:
        t = table.schema.field(name).type
        if name in cls._price_fields:
            assert t == pa.float64(), f"{rel}: {name} is {t}"
        elif name in cls._timestamp_fields:
            assert t == pa.timestamp("ns", tz="UTC"), f"{rel}: {name} is {t}"
        elif dtype.fields[name][0].kind == "S":
            assert is_string_type(t), f"{rel}: {name} is {t}"
        else:
            assert t == numpy_to_arrow(dtype.fields[name][0]), f"{rel}: {name} is {t}"
    assert is_string_type(table.schema.field("symbol").type)

    fixed = tickforge.read_dbn(path, price_type="fixed")
    for name in cls._price_fields:
        assert fixed.schema.field(name).type == pa.int64()
    raw_ts = tickforge.read_dbn(path, pretty_ts=False, map_symbols=False)
    assert "symbol" not in raw_ts.column_names
    for name in cls._timestamp_fields:
        assert raw_ts.schema.field(name).type == pa.uint64()
    for name in cls._price_fields:
        assert raw_ts.schema.field(name).type == pa.float64()


def test_float_prices_and_pretty_timestamps_convert_undef(testdata, hang_guard):
    """UNDEF prices become NaN and UNDEF timestamps null, in a file that has both."""
    rel = "databento-python/EQUS.MINI/test_data.bbo-1s.dbn.zst"  # ts_event is UNDEF throughout
    path = _path(rel)
    _, records = reference(rel)
    table = tickforge.read_dbn(path)
    assert table.column("ts_event").null_count == table.num_rows == len(records)
    raw = read_raw(path)
    assert set(raw.column("ts_event").to_pylist()) == {2**64 - 1}

    rel = "dbn/test_data.definition.v3.dbn.zst"  # many UNDEF prices in definitions
    path = _path(rel)
    fixed = read_raw(path)
    floats = tickforge.read_dbn(path)
    for name in dbn.InstrumentDefMsg._price_fields:
        for f, x in zip(fixed.column(name).to_pylist(), floats.column(name).to_pylist()):
            if f == 2**63 - 1:
                assert math.isnan(x), f"{name}: UNDEF became {x}"
            else:
                assert x == f / 1e9, f"{name}: {f} became {x}"


# ---------------------------------------------------------------------------------------------
# (d) huge metadata blocks
# ---------------------------------------------------------------------------------------------

HUGE_FILES = [rel for rel in DBN_FILES if mapping_count(rel) >= HUGE_MAPPINGS]


def test_huge_metadata_files_exist(testdata):
    if not DBN_FILES:
        pytest.skip("no DBN test data")
    assert HUGE_FILES, f"expected files with >= {HUGE_MAPPINGS} symbol mappings in the test data"


@pytest.mark.parametrize("rel", _params(HUGE_FILES))
def test_huge_metadata_decodes_fast(rel, hang_guard):
    path = _path(rel)
    hang_guard(60)
    t0 = time.perf_counter()
    md = tickforge.read_dbn_metadata(path)
    t1 = time.perf_counter()
    table = tickforge.read_dbn(path)
    t2 = time.perf_counter()
    assert t1 - t0 < 10, f"{rel}: read_dbn_metadata took {t1 - t0:.1f} s"
    assert t2 - t1 < 10, f"{rel}: read_dbn took {t2 - t1:.1f} s"
    assert sum(len(m["intervals"]) for m in md["mappings"]) == mapping_count(rel)
    _, records = reference(rel)
    assert table.num_rows == len(records)


# ---------------------------------------------------------------------------------------------
# (e) legacy DBZ and headerless fragments
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", _params(DBZ_FILES))
def test_dbz_is_rejected(rel, hang_guard):
    path = _path(rel)
    with pytest.raises(tickforge.TickforgeError, match="DBZ") as info:
        tickforge.read_dbn(path)
    assert str(path) in str(info.value)
    with pytest.raises(tickforge.TickforgeError, match="DBZ"):
        tickforge.read_dbn_metadata(path)


def fragment_version_of(name: str) -> int:
    m = re.search(r"\.v(\d)\.", name)
    return int(m.group(1)) if m else 2


@pytest.mark.parametrize("rel", _params(FRAG_FILES))
def test_fragment_matches_databento(rel, hang_guard):
    path = _path(rel)
    version = fragment_version_of(path.name)
    _, records = reference(rel, version)
    assert records, f"{rel}: databento decoded no records"
    table = read_raw(path, fragment_version=version)
    cls, chosen = select_records(rel, None, records, table, None)
    assert len(chosen) == len(records)
    compare_with_records(rel, table, cls, chosen, ts_out=False)

    # With symbols: there are no mappings, so the symbol column is all null.
    pretty = tickforge.read_dbn(path, fragment_version=version)
    assert pretty.column_names[-1] == "symbol"
    assert pretty.column("symbol").null_count == pretty.num_rows

    md = tickforge.read_dbn_metadata(path, fragment_version=version)
    assert md["version"] == version


@pytest.mark.parametrize("rel", _params(FRAG_FILES))
def test_fragment_without_version_is_an_error(rel, hang_guard):
    path = _path(rel)
    with pytest.raises(tickforge.TickforgeError) as info:
        tickforge.read_dbn(path)
    assert str(path) in str(info.value)


# ---------------------------------------------------------------------------------------------
# Extra: ts_out, batching
# ---------------------------------------------------------------------------------------------


def _with_ts_out(data: bytes) -> bytes:
    """Turn a raw v2/v3 DBN stream into one with ts_out: set the flag, append 8 bytes per record."""
    out = bytearray(data)
    mlen = struct.unpack_from("<I", out, 4)[0]
    ts_out_at = 8 + 16 + 2 + 8 + 8 + 8 + 1 + 1  # dataset, schema, start, end, limit, stype_in/out
    out[ts_out_at] = 1
    result = bytearray(out[: 8 + mlen])
    pos, k = 8 + mlen, 0
    while pos < len(out):
        size = out[pos] * 4
        rec = bytearray(out[pos : pos + size])
        rec[0] += 2
        result += rec + struct.pack("<Q", 1_609_160_400_123_000_000 + k)
        pos += size
        k += 1
    return bytes(result)


@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "zstd"])
def test_ts_out_column(tmp_path, testdata, compressed, hang_guard):
    src = "dbn/test_data.mbo.v3.dbn"
    data = _with_ts_out(dbn_bytes(src))
    decoder = dbn.DBNDecoder(upgrade_policy=UPGRADE)
    decoder.write(data)
    out = decoder.decode()
    metadata, records = out[0], out[1:]
    assert metadata.ts_out and records
    path = tmp_path / ("ts_out.dbn.zst" if compressed else "ts_out.dbn")
    path.write_bytes(zstandard.ZstdCompressor().compress(data) if compressed else data)

    assert tickforge.read_dbn_metadata(path)["ts_out"] is True
    compare_with_records(str(path), read_raw(path), dbn.MBOMsg, list(records), ts_out=True)

    table = tickforge.read_dbn(path)
    assert table.column_names == list(dbn.MBOMsg._ordered_fields) + ["ts_out", "symbol"]
    got = table.to_pandas()
    # to_df() drops ts_out, and DBNStore misreads records that carry it (wrong stride), so
    # compare with to_df() of the original stream, which has the same records without ts_out.
    expected = to_df(dbn_bytes(src), None)
    compare_frames(str(path), got, expected, list(expected.columns))


@pytest.mark.parametrize(
    ("rel", "schema"),
    [
        ("nautilus/databento/esh4-glbx-mdp3-20231224.mbo.dbn.zst", None),
        ("databento-python/LIVE/test_data.live.dbn.zst", "mbo"),
        ("databento-python/LIVE/test_data.live.dbn.zst", "statistics"),
        ("dbn/test_data.definition.v1.dbn.zst", None),
    ],
)
@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_batch_size_does_not_change_the_data(rel, schema, batch_size, hang_guard):
    path = _path(rel)
    whole = tickforge.read_dbn(path, schema=schema)
    reader = tickforge.open_dbn(path, schema=schema, batch_size=batch_size)
    batches = list(reader)
    assert all(b.num_rows <= batch_size for b in batches)
    assert sum(b.num_rows for b in batches) == whole.num_rows
    assert reader.schema.equals(whole.schema)
    joined = pa.Table.from_batches(batches, schema=reader.schema)
    for name in whole.column_names:
        assert_values_equal(
            f"{rel}: {name}", joined.column(name).to_pylist(), whole.column(name).to_pylist()
        )
