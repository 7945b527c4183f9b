"""Books into the store, and a depth-stream book through labels and images (docs/books.md
"Into a store", "Fractional sizes"; docs/labeling.md).

Oracles: the rows `read_book` streams from the same file (itself checked against the capture's
bookTicker and dict replays in test_book_depth.py, against a Python MBO replay in
test_book.py); the numpy depth-image reference of test_features.py, fed the book's sizes in
units (the fixed-point integers divided by 10^size_scale, as floats); the capture's own
`tickforge.size_scale`.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import tickforge

from conftest import cli, require_testdata, run
from test_features import LEVELS, assert_close, col, reference_image

SPOT = "hftbacktest/spot/btcusdt_20240808.gz"
UNDEF_PRICE = 2**63 - 1
PARTITIONS = ["dataset", "symbol", "year", "month", "day"]
CONFIG = dict(lookback_rows=300, lookforward_input=300, lookforward_offset=30, nbins=5, jump_size=10,
              min_symbol_samples=500, currency="CRYPTO")
IMAGE = dict(time_bins=8, ticks_per_bin=10)


def sorted_rows(table: pa.Table) -> pa.Table:
    """The table without partition columns, its columns in name order, rows in a total order."""
    table = table.drop_columns([c for c in PARTITIONS if c in table.column_names])
    table = table.select(sorted(table.column_names))
    if "symbol" in table.column_names:
        table = table.drop_columns(["symbol"])
    return table.sort_by([(c, "ascending") for c in table.column_names])


def same_rows(a: pa.Table, b: pa.Table):
    a, b = sorted_rows(a), sorted_rows(b)
    assert a.column_names == b.column_names
    assert a.num_rows == b.num_rows
    for name in a.column_names:
        x, y = a.column(name), b.column(name)
        assert x.cast(y.type).equals(y) if x.type != y.type else x.equals(y), name


def store_files(store: Path, dataset: str) -> list[Path]:
    return sorted((store / dataset).rglob("*.parquet"))


@pytest.fixture(scope="module")
def depth_store(tmp_path_factory):
    """The Binance spot capture built into a store with `book build --into`."""
    path = require_testdata(SPOT)
    root = tmp_path_factory.mktemp("depth_store")
    store = root / "store"
    first = run("book", "build", path, "--into", store)
    return path, store, first.stdout


def test_book_build_into_commits_the_rows_once(depth_store):
    path, store, first = depth_store
    assert "version 1" in first, first
    got = tickforge.Store(store).read("mbp10")
    want = tickforge.read_book(path)
    # Partitioned by the venue and the symbol; every row of the book, and only those.
    assert set(got.column("dataset").to_pylist()) == {"binance"}
    assert set(got.column("symbol").to_pylist()) == set(want.column("symbol").to_pylist()) == {"BTCUSDT"}
    same_rows(got, want)
    # The files keep the sizes exact (uint64) and say their scale.
    files = store_files(store, "mbp10")
    assert files
    for file in files:
        schema = pq.read_schema(file)
        assert schema.metadata[b"tickforge.size_scale"] == want.schema.metadata[b"tickforge.size_scale"] == b"8"
        assert schema.field("bid_sz_00").type == pa.uint64()
    # A rerun finds every row there already: nothing is added, no version is made.
    again = run("book", "build", path, "--into", store).stdout
    assert "version 1," in again and " 0 written" in again, again
    assert store_files(store, "mbp10") == files
    # The Python form says the same.
    summary = tickforge.build_books(path, into=store)
    assert summary["version"] == 1 and summary["rows_written"] == 0 and summary["rows_duplicate"] == want.num_rows


def test_out_and_into_are_exclusive(tmp_path):
    path = require_testdata(SPOT)
    proc = run("book", "build", path, "--out", tmp_path / "a", "--into", tmp_path / "b", check=False)
    assert proc.returncode != 0 and "excludes" in (proc.stderr + proc.stdout)
    proc = run("book", "build", path, check=False)
    assert proc.returncode != 0 and "--out" in proc.stderr
    with pytest.raises(ValueError):
        tickforge.build_books(path)


def test_store_ingest_derived_books_equal_book_build_into(tmp_path):
    files = tickforge.synth_mbo(tmp_path / "mbo", symbols=2, days=2, messages_per_day=4000, seed=5)
    derived, built = tmp_path / "derived", tmp_path / "built"
    out = run("store", "ingest", derived, *files, "--derive-books").stdout
    assert "version 1," in out, out  # raw and derived rows: one commit
    run("book", "build", *files, "--into", built, "--dataset", "books")
    a = tickforge.Store(derived)
    b = tickforge.Store(built)
    assert sorted(a.info()["datasets"]) == ["mbo", "mbp10"]
    assert sorted(b.info()["datasets"]) == ["books"]
    same_rows(a.read("mbp10"), b.read("books"))
    # The raw rows are those a plain ingest writes.
    plain = tmp_path / "plain"
    run("store", "ingest", plain, *files)
    same_rows(a.read("mbo"), tickforge.Store(plain).read("mbo"))
    # The books equal the rows read_book gives of each file.
    want = pa.concat_tables([tickforge.read_book(f) for f in files])
    same_rows(a.read("mbp10"), want)
    # The config key does what the flag does; a rerun adds nothing.
    again = tickforge.Store(derived).ingest(files, derive_books=True)
    assert again["rows_written"] == 0 and again["version"] == 1


# ---------------------------------------------------------------------------------------------
# A depth-stream book through label build and the loader
# ---------------------------------------------------------------------------------------------


def reference_book(path: Path) -> tuple[dict, pa.Table]:
    """The book rows labeling keeps (both best prices defined), in series order (ts_event,
    then the sequence's low 32 bits, stable), with sizes in units."""
    table = tickforge.read_book(path)
    scale = int(table.schema.metadata[b"tickforge.size_scale"])
    keep = pc.and_(pc.not_equal(table["bid_px_00"], UNDEF_PRICE), pc.not_equal(table["ask_px_00"], UNDEF_PRICE))
    table = table.filter(keep)
    ts = table["ts_event"].cast(pa.int64()).to_numpy()
    seq = (table["sequence"].to_numpy() & 0xFFFFFFFF).astype(np.int64)
    order = np.lexsort((np.arange(len(ts)), seq, ts))
    table = table.take(pa.array(order))
    book = {}
    for side in ("bid", "ask"):
        for level in range(LEVELS):
            book[col(side, "px", level)] = table[col(side, "px", level)].to_numpy()
            book[col(side, "sz", level)] = table[col(side, "sz", level)].to_numpy().astype(np.float64) / 10**scale
            book[col(side, "ct", level)] = table[col(side, "ct", level)].to_numpy()
    return book, table


@pytest.fixture(scope="module")
def labeled(tmp_path_factory):
    """The capture built at size scale 12 (1e-12 BTC: its largest sizes pass uint32 there) into
    a store, labeled from it with micro_pip_size 0.1 (BTCUSDT's tick)."""
    path = require_testdata(SPOT)
    root = tmp_path_factory.mktemp("depth_labels")
    store = root / "store"
    run("book", "build", path, "--into", store, "--size-scale", "12")
    config = root / "label.json"
    config.write_text(json.dumps(dict(CONFIG, micro_pip_size=0.1)))
    out = root / "labeled"
    run("label", "run", "--config", config, "--store", store, "--dataset", "mbp10", "--out", out)
    (dataset,) = sorted(out.glob("*_dataset.parquet"))
    return path, out, dataset


def test_label_build_takes_the_fixed_point_sizes_exactly(labeled):
    path, out, dataset = labeled
    book, table = reference_book(path)
    got = pq.read_table(dataset)
    meta = json.loads(got.schema.metadata[b"tickforge.label"])
    # The run comes down from 12 to the finest scale whose sizes fit uint32 (computed here from
    # the book at its own scale 8), and every size is the book's exactly.
    largest = max(pc.max(table[col(side, "sz", level)]).as_py() for side in ("bid", "ask") for level in range(LEVELS))
    want_scale = max(k for k in range(13) if largest * 10**k <= (2**32 - 1) * 10**8)
    scale = meta["size_scale"]
    assert scale == want_scale and scale < 12
    assert set(pq.read_schema(f).metadata[b"tickforge.size_scale"] for f in store_files(out.parent / "store", "mbp10")) \
        == {b"12"}
    assert meta["micro_pip_size"] == 0.1
    assert got.num_rows == table.num_rows
    assert got["ts_event"].equals(table["ts_event"])
    assert got["sequence"].to_pylist() == [s & 0xFFFFFFFF for s in table["sequence"].to_pylist()]
    for side in ("bid", "ask"):
        for level in range(LEVELS):
            name = col(side, "sz", level)
            assert got.schema.field(name).type == pa.uint32()
            at_12 = got[name].to_numpy().astype(np.int64) * 10 ** (12 - scale)
            np.testing.assert_array_equal(at_12, table[name].to_numpy().astype(np.int64) * 10**4, err_msg=name)


def batches(out: Path, **options):
    loader = tickforge.RepresentDataLoader(out, batch_size=4, features=options.pop("features", ["volume"]),
                                           shuffle=False, return_index=True, **IMAGE, **options)
    return loader, list(loader)


def test_loader_images_equal_the_numpy_reference_in_units(labeled):
    path, out, _ = labeled
    book, _ = reference_book(path)
    features = ["volume", "variance"]
    loader, got = batches(out, features=features)
    assert loader.report()["micro_pip_size"] == 0.1  # recorded by label build, not passed
    checked = 0
    for images, _, index in got[:3]:
        for i, row in enumerate(index["row"]):
            ref = reference_image(book, int(row), features=features, micro_pip_size=0.1, **IMAGE)
            assert_close(images[i].numpy(), ref)
            checked += 1
    assert checked >= 4
    # A caller's micro_pip_size wins over the recorded one.
    loader, got = batches(out, micro_pip_size=0.01)
    assert loader.report()["micro_pip_size"] == 0.01
    images, _, index = got[0]
    row = int(index["row"][0])
    assert_close(images[0].numpy(), reference_image(book, row, features="volume", micro_pip_size=0.01, **IMAGE))


def test_trade_counts_on_data_without_order_counts_warns(labeled):
    _, out, _ = labeled
    with pytest.warns(UserWarning, match="trade_counts requested.*no order counts"):
        loader = tickforge.RepresentDataLoader(out, batch_size=4, features=["volume", "trade_counts"], **IMAGE)
    assert loader.report()["warnings"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loader = tickforge.RepresentDataLoader(out, batch_size=4, features=["volume"], **IMAGE)
    assert loader.report()["warnings"] == []
