"""Per-column Parquet encodings of DBN data (DESIGN.md §5): `dbn to-parquet` and the store's
DBN datasets dictionary-encode prices, flags and instrument ids, byte-stream-split sizes and
counts, delta-encode times and sequence numbers, and the values stay those of Databento's own
decoder; polars reads the files to the same values."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import tickforge

DICTIONARY = ["bid_px_00", "ask_px_09", "price", "flags", "depth", "instrument_id", "action"]
SPLIT = ["bid_sz_00", "ask_ct_09", "size", "ts_in_delta"]
DELTA = ["ts_recv", "ts_event", "sequence"]


def _encodings(path: Path, column: str) -> set[str]:
    metadata = pq.ParquetFile(path).metadata
    index = metadata.schema.names.index(column)
    found: set[str] = set()
    for group in range(metadata.num_row_groups):
        found |= set(metadata.row_group(group).column(index).encodings)
    return found


def _check_encodings(path: Path) -> None:
    for column in DICTIONARY:
        assert "RLE_DICTIONARY" in _encodings(path, column), column
    for column in DELTA:
        encodings = _encodings(path, column)
        assert "DELTA_BINARY_PACKED" in encodings, column
        assert "RLE_DICTIONARY" not in encodings, column
    for column in SPLIT:
        encodings = _encodings(path, column)
        assert "BYTE_STREAM_SPLIT" in encodings, column
        assert "RLE_DICTIONARY" not in encodings, column


@pytest.fixture(scope="module")
def mbp10(tmp_path_factory) -> Path:
    [path] = tickforge.synth_dbn(tmp_path_factory.mktemp("dbn"), symbols=3, days=1, rows_per_day=30_000, seed=3)
    return path


def test_to_parquet_codes_columns_and_keeps_values(mbp10, tmp_path):
    databento = pytest.importorskip("databento")
    subprocess.run([str(tickforge.native_cli()), "dbn", "to-parquet", str(mbp10), "--out", str(tmp_path)],
                   check=True, stdout=subprocess.DEVNULL)
    [out] = tmp_path.glob("*.parquet")
    _check_encodings(out)
    ours = pq.read_table(out).to_pandas()
    theirs = databento.DBNStore.from_file(mbp10).to_df().reset_index()
    for column in DICTIONARY[:-1] + SPLIT + DELTA:
        np.testing.assert_array_equal(ours[column].to_numpy(), theirs[column].to_numpy(), err_msg=column)
    polars = pytest.importorskip("polars")
    frame = polars.read_parquet(out)
    for column in ["bid_px_00", "price"] + SPLIT + ["sequence"]:
        np.testing.assert_array_equal(frame[column].to_numpy(), theirs[column].to_numpy(), err_msg=column)


def test_store_dbn_files_are_coded_like_to_parquet(mbp10, tmp_path):
    databento = pytest.importorskip("databento")
    store = tickforge.Store(tmp_path / "store")
    info = store.ingest([mbp10])
    assert info["rows_written"] == 30_000
    files = sorted((tmp_path / "store").rglob("*.parquet"))
    assert files
    for path in files:
        _check_encodings(path)
    ours = store.scan("mbp10").read_all().to_pandas()
    theirs = databento.DBNStore.from_file(mbp10).to_df(price_type="fixed").reset_index()
    key = ["ts_recv", "sequence", "instrument_id"]
    ours = ours.sort_values(key, kind="stable").reset_index(drop=True)
    theirs = theirs.sort_values(key, kind="stable").reset_index(drop=True)
    for column in ["bid_px_00", "ask_px_09", "price", "bid_sz_00", "ask_ct_09", "flags", "ts_event"]:
        np.testing.assert_array_equal(ours[column].to_numpy(), theirs[column].to_numpy(), err_msg=column)
