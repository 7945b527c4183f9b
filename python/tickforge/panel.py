"""Cross-sectional panels: per-symbol frames, tables or Parquet files combined lazily by the
native ``PanelBuilder`` (docs/panel.md)."""

from __future__ import annotations

import json
import os
from typing import Sequence

import pyarrow as pa

from . import _tickforge
from ._options import document_defaults, options_json
from ._progress import progress_callback
from ._streams import _arrow_stream, _translate_errors
from ._tickforge import TickforgeError

PathLike = str | os.PathLike


class Panel:
    """A cross-sectional panel built lazily from per-symbol inputs (docs/panel.md).

    Nothing is read until one of ``collect``, ``to_pandas``, ``to_reader`` or ``sink_parquet``
    runs. With ``release_after_convert`` the in-memory inputs are dropped as their rows are
    emitted, so such a panel can be read once.
    """

    def __init__(self, builder: "_tickforge.PanelBuilder"):
        self._builder = builder

    @property
    def schema(self) -> pa.Schema:
        """The panel's schema (reads Parquet footers only)."""
        return pa.Schema._import_from_c_capsule(self._builder.schema())

    @property
    def report(self) -> dict:
        """Symbols included and skipped (with reasons), the time column, rows emitted so far."""
        return json.loads(self._builder.report())

    @property
    def skipped(self) -> list[dict]:
        """Symbols left out, each ``{"symbol": ..., "reason": ...}``."""
        return self.report["skipped"]

    def to_reader(self) -> pa.RecordBatchReader:
        """Stream the panel as record batches; memory stays bounded while it is consumed."""
        reader = pa.RecordBatchReader._import_from_c_capsule(self._builder.open())
        return pa.RecordBatchReader.from_batches(reader.schema, _translate_errors(reader))

    def collect(self) -> pa.Table:
        """Read the whole panel into a pyarrow Table (batches are not copied together)."""
        reader = pa.RecordBatchReader._import_from_c_capsule(self._builder.open())
        try:
            return reader.read_all()
        except pa.ArrowInvalid as error:
            raise TickforgeError(str(error).removeprefix("Invalid: ")) from None

    def to_pandas(self, **kwargs):
        """Collect into a pandas DataFrame, freeing the Arrow copy column by column."""
        options = {"self_destruct": True, "split_blocks": True, **kwargs}
        return self.collect().to_pandas(**options)

    def sink_parquet(
        self, path: PathLike, *, compression: str = "zstd", row_group_rows: int = 1 << 17, progress=None
    ) -> dict:
        """Write the panel to one Parquet file (it appears only when complete); return the report.

        ``progress``: a callable given one dict per update (stage "build", rows written), or
        True for a tqdm bar (tickforge._progress)."""
        with progress_callback(progress) as callback:
            return json.loads(self._builder.write_parquet(os.fspath(path), compression, row_group_rows, callback))


def streaming_concat(
    mtf_data,
    symbol_column: str | None = None,
    target_column: str | None = None,
    use_float32: bool | None = None,
    release_after_convert: bool = True,
    min_cs: int | None = None,
    max_cs_samples: int | None = None,
    order: str | None = None,
    seed: int | None = None,
    *,
    time_column: str | None = None,
    columns: Sequence[str] | None = None,
    metadata_columns: Sequence[str] | None = None,
    streaming_collect: bool | None = None,
    batch_rows: int | None = None,
    config: PathLike | None = None,
) -> Panel:
    """Combine per-symbol data into one lazy cross-sectional panel with a ``symbol`` column.

    ``mtf_data`` is a dict of symbol -> pandas DataFrame, pyarrow Table (anything with
    ``__arrow_c_stream__``) or Parquet path (None values are ignored), or a directory of
    per-symbol Parquet files (``NAME.parquet`` or ``symbol=NAME/*.parquet``). Symbols come out
    in sorted order whatever the dict order. Symbols without ``target_column`` are skipped and
    listed in ``Panel.skipped``. ``use_float32`` (default True, or the config's
    ``use_float32``) casts float64 columns other than the symbol, time and ``metadata_columns``
    to float32. With ``release_after_convert`` each dict entry is set to None as soon as it is
    converted. ``min_cs`` keeps timestamps where at least that many symbols have a present
    (non-null, non-NaN) target; ``max_cs_samples`` keeps at most that many symbols per
    timestamp, the ones with the smallest seeded hash (docs/panel.md). ``order`` is "symbol"
    (pandas concat of the sorted symbols) or "time" (timestamp, then symbol). ``config`` is a
    pipeline YAML file; keyword arguments given here override it. Options left out (None) take
    the engine's defaults (below); ``release_after_convert`` is this function's own.
    """
    settings: dict = {"release_inputs": bool(release_after_convert)}
    optional = {
        "symbol_column": symbol_column,
        "order": order,
        "seed": seed,
        "target_column": target_column,
        "use_float32": use_float32,
        "min_cs": min_cs,
        "max_cs_samples": max_cs_samples,
        "time_column": time_column,
        "columns": list(columns) if columns is not None else None,
        "metadata_columns": list(metadata_columns) if metadata_columns is not None else None,
        "streaming_collect": streaming_collect,
        "batch_rows": batch_rows,
    }
    settings.update({k: v for k, v in optional.items() if v is not None})
    builder = _tickforge.PanelBuilder(
        os.fspath(config) if config is not None else None, options_json(settings)
    )
    if isinstance(mtf_data, (str, os.PathLike)):
        builder.add_directory(os.fspath(mtf_data))
        return Panel(builder)
    if not isinstance(mtf_data, dict):
        raise TypeError(f"mtf_data must be a dict or a directory path, got {type(mtf_data).__name__}")
    for symbol in sorted(mtf_data):
        value = mtf_data[symbol]
        if value is None:
            continue
        if isinstance(value, (str, os.PathLike)):
            builder.add_parquet(str(symbol), [os.fspath(value)])
        else:
            builder.add_stream(str(symbol), _arrow_stream(symbol, value))
        if release_after_convert:
            mtf_data[symbol] = None
        del value
    return Panel(builder)


document_defaults(streaming_concat, "panel")
