"""Order books rebuilt from Databento MBO files, LOBSTER message and orderbook files, or crypto
depth streams (Binance spot, USD-M and COIN-M captures, Bybit orderbook files, Hyperliquid
l2Book captures, Binance's order-book CSV) into MBP-10 rows: streamed, read whole, built into
Parquet files, or (MBO) replayed for their counts (the semantics: src/tickforge/book/mbo.h,
src/tickforge/book/lobster.h; docs/books.md). ``format`` "auto" tells the inputs apart.

A path named as a LOBSTER message file (``TICKER_YYYY-MM-DD_START_END_message_N.csv`` or
``message.csv``) is read with its orderbook file (found beside it, or ``orderbook=``): one row per
message, the book after it. ``date=`` gives the day when the name states none, ``symbol=`` the
symbol.

Rows have the columns ``read_dbn(price_type="fixed")`` gives an MBP-10 file: one row after
each event (each record with F_LAST), prices in 1e-9 fixed point. Options left out take the
engine's defaults (below).
"""

from __future__ import annotations

import json
import os
from typing import Iterable

import pyarrow as pa

from . import _tickforge
from ._options import options_json
from ._progress import progress_callback
from ._streams import _translate_errors

PathLike = str | os.PathLike


def _options(levels: int | None, strict: bool | None, batch_rows: int | None, **extra) -> str:
    given = dict(levels=levels, strict=strict, batch_rows=batch_rows, **extra)
    given = {k: os.fspath(v) if k == "orderbook" and v is not None else v for k, v in given.items()}
    return options_json({k: v for k, v in given.items() if v is not None})


def open_book(
    path: PathLike,
    *,
    levels: int | None = None,
    strict: bool | None = None,
    batch_rows: int | None = None,
    format: str | None = None,
    size_scale: int | None = None,
    date: str | None = None,
    symbol: str | None = None,
    orderbook: PathLike | None = None,
) -> pa.RecordBatchReader:
    """Stream the book rows of an MBO DBN file (raw or zstd), a LOBSTER message file or a
    crypto depth stream (Binance capture, Bybit orderbook lines, Hyperliquid l2Book capture;
    ``format`` "auto" detects it) as record batches, without a copy. ``strict`` raises
    TickforgeError at the first anomaly (an unknown order id, a level going negative, a sequence
    going backwards, a LOBSTER message disagreeing with its orderbook row) or depth-stream gap,
    naming the file and the record or line. Depth rows have uint64 sizes of 10^-size_scale units
    (schema metadata ``tickforge.size_scale``); see docs/books.md."""
    options = _options(levels, strict, batch_rows, format=format, size_scale=size_scale, date=date, symbol=symbol,
                       orderbook=orderbook)
    capsule = _tickforge.open_book(os.fspath(path), options)
    reader = pa.RecordBatchReader._import_from_c_capsule(capsule)
    return pa.RecordBatchReader.from_batches(reader.schema, _translate_errors(reader))


def read_book(path: PathLike, levels: int | None = None, **kwargs) -> pa.Table:
    """Read the book rows of an MBO or LOBSTER file into a pyarrow Table; see :func:`open_book`."""
    return open_book(path, levels=levels, **kwargs).read_all()


def build_books(
    inputs: PathLike | Iterable[PathLike],
    out_dir: PathLike | None = None,
    *,
    into: PathLike | None = None,
    dataset: str = "mbp10",
    levels: int | None = None,
    strict: bool | None = None,
    batch_rows: int | None = None,
    format: str | None = None,
    size_scale: int | None = None,
    date: str | None = None,
    symbol: str | None = None,
    orderbook: PathLike | None = None,
    compression: str = "zstd",
    row_group_rows: int = 1 << 17,
    progress=None,
) -> list[dict]:
    """Rebuild each input's books into ``out_dir/<name>.mbp-10.parquet`` (written atomically);
    return one summary per file. MBO and LOBSTER: messages, events, rows, books, crossed,
    trailing, halts (LOBSTER) and the anomalies by kind; a depth stream (the ``.gz``/``.zip``
    dropped from its name): lines, messages, events, rows, snapshots, stale, unsynced, skipped,
    gaps with their lines, and size_scale. ``progress``: a callable given one dict per update
    (stage "build": files, rows, bytes), or True for a tqdm bar (tickforge._progress).

    ``into=STORE`` writes every input's rows instead as one commit of the store's ``dataset``
    (type mbp10, partitioned by dataset and symbol and day, rows it holds already dropped, so a
    rerun adds nothing) and returns that commit's summary (version, rows_in, rows_written,
    rows_duplicate, added, ...)."""
    paths = [os.fspath(inputs)] if isinstance(inputs, (str, os.PathLike)) else [os.fspath(p) for p in inputs]
    options = _options(levels, strict, batch_rows, format=format, size_scale=size_scale, date=date, symbol=symbol,
                       orderbook=orderbook)
    if (out_dir is None) == (into is None):
        raise ValueError("build_books needs out_dir or into=STORE, not both")
    with progress_callback(progress) as callback:
        if into is not None:
            return json.loads(_tickforge.build_books_into(paths, os.fspath(into), dataset, options, compression,
                                                          callback))
        return json.loads(
            _tickforge.build_books(paths, os.fspath(out_dir), options, compression, row_group_rows, callback)
        )


def replay_book(path: PathLike, *, strict: bool | None = None) -> dict:
    """Replay an MBO file into its books without producing rows (decode and apply only); return
    the summary :func:`build_books` gives, with ``rows`` 0."""
    return json.loads(_tickforge.replay_book(os.fspath(path), _options(None, strict, None)))
