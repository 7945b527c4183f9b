"""Arrow C streams between pyarrow and the engine: what goes in as a capsule, and readers that
come out with the engine's errors as TickforgeError."""

from __future__ import annotations

import pyarrow as pa

from ._tickforge import TickforgeError


def _translate_errors(reader: pa.RecordBatchReader):
    """Yield the reader's batches (unchanged, no copy), turning its errors into TickforgeError.

    Errors found while streaming cross the Arrow C interface as ArrowInvalid; bad input is
    reported the same way whether it is found on open or on the millionth record.
    """
    try:
        yield from reader
    except pa.ArrowInvalid as error:
        message = str(error)
        raise TickforgeError(message.removeprefix("Invalid: ")) from None


def _arrow_stream(symbol: str, value):
    """Return an Arrow C stream capsule for one symbol's frame or table."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        pd = None
    # pandas frames have __arrow_c_stream__ too, but it appends the index; convert them here.
    if pd is not None and isinstance(value, pd.DataFrame):
        # A named index is data (often the timestamp); the default RangeIndex is not.
        if any(name is not None for name in value.index.names):
            value = value.reset_index()
        return pa.Table.from_pandas(value, preserve_index=False).__arrow_c_stream__()
    if hasattr(value, "__arrow_c_stream__"):
        return value.__arrow_c_stream__()
    raise TypeError(
        f"symbol {symbol!r}: expected a pandas DataFrame, an Arrow table or stream, or a Parquet "
        f"path, got {type(value).__name__}"
    )
