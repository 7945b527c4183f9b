"""tickforge: leakage-free labeled datasets from raw market data, served to PyTorch.

The engine is C++ (the ``_tickforge`` extension); this package only converts types and
errors. Tables cross from C++ to pyarrow through the Arrow C stream interface, without a copy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Sequence

import pyarrow as pa

from . import _tickforge
from ._options import document_defaults, option_defaults, options_json
from ._progress import progress_callback
from ._streams import _translate_errors
from ._tickforge import TickforgeError
from .book import build_books, open_book, read_book, replay_book
from .panel import Panel, streaming_concat
from .store import Store, convert_consolidated, store_quality, write_flat_parquet

__all__ = [
    "TickforgeError",
    "open_dbn",
    "read_dbn",
    "read_dbn_metadata",
    "dbn_to_parquet",
    "open_book",
    "read_book",
    "build_books",
    "replay_book",
    "synth_dbn",
    "synth_mbo",
    "label_fit",
    "label_build",
    "label_run",
    "label_store",
    "label_update",
    "pipeline_run",
    "render",
    "option_defaults",
    "compute_labels",
    "RepresentDataLoader",
    "Panel",
    "streaming_concat",
    "Store",
    "convert_consolidated",
    "write_flat_parquet",
    "store_quality",
    "open_binance",
    "read_binance",
    "synth_binance",
]

__version__ = _tickforge.__version__

PathLike = str | os.PathLike


def open_dbn(
    path: PathLike,
    *,
    price_type: str = "float",
    pretty_ts: bool = True,
    map_symbols: bool = True,
    schema: str | None = None,
    fragment_version: int | None = None,
    batch_size: int = 65536,
) -> pa.RecordBatchReader:
    """Stream a DBN file (raw or zstd, v1-v3) as record batches with ``to_df()``'s columns."""
    capsule = _tickforge.open_dbn(
        os.fspath(path), price_type, pretty_ts, map_symbols, schema, fragment_version, batch_size
    )
    reader = pa.RecordBatchReader._import_from_c_capsule(capsule)
    return pa.RecordBatchReader.from_batches(reader.schema, _translate_errors(reader))


def read_dbn(path: PathLike, **kwargs) -> pa.Table:
    """Read a whole DBN file into a pyarrow Table; see :func:`open_dbn` for the options."""
    return open_dbn(path, **kwargs).read_all()


def read_dbn_metadata(path: PathLike, *, fragment_version: int | None = None) -> dict:
    """Return a DBN file's metadata (dates in mappings as YYYYMMDD integers)."""
    return json.loads(_tickforge.read_dbn_metadata(os.fspath(path), fragment_version))


def dbn_to_parquet(
    inputs: PathLike | Iterable[PathLike],
    out_dir: PathLike,
    *,
    price_type: str = "float",
    map_symbols: bool = True,
    compression: str = "zstd",
    row_group_rows: int = 1 << 17,
    progress=None,
) -> list[dict]:
    """Convert DBN files to Parquet files in ``out_dir``; return one stats dict per file.

    ``progress``: a callable given one dict per update (stage "to-parquet"), or True for a
    tqdm bar (tickforge._progress)."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    paths = [os.fspath(p) for p in inputs]
    with progress_callback(progress) as callback:
        return json.loads(
            _tickforge.dbn_to_parquet(
                paths, os.fspath(out_dir), price_type, map_symbols, compression, row_group_rows, callback
            )
        )


def synth_dbn(
    out_dir: PathLike,
    *,
    symbols: int | None = None,
    days: int | None = None,
    rows_per_day: int | None = None,
    seed: int | None = None,
    start_date: str | None = None,
    zstd: bool | None = None,
) -> list[Path]:
    """Write synthetic MBP-10 DBN files, one per trading day; return their paths. Options left
    out take the engine's defaults (below)."""
    given = dict(symbols=symbols, days=days, rows_per_day=rows_per_day, seed=seed, start_date=start_date, zstd=zstd)
    options = {k: v for k, v in given.items() if v is not None}
    return [Path(p) for p in _tickforge.synth_dbn(os.fspath(out_dir), options_json(options))]


def synth_mbo(
    out_dir: PathLike,
    *,
    symbols: int | None = None,
    publishers: int | None = None,
    days: int | None = None,
    messages_per_day: int | None = None,
    seed: int | None = None,
    start_date: str | None = None,
    dataset: str | None = None,
    zstd: bool | None = None,
) -> list[Path]:
    """Write synthetic order-level flow as Databento MBO DBN files, one per day: a start-of-day
    snapshot of every (instrument, publisher) book, then adds, cancels, modifies, trades with
    their fills and an occasional clear around a moving mid (src/tickforge/synth/mbo.h); return
    their paths. Options left out take the engine's defaults (below)."""
    given = dict(symbols=symbols, publishers=publishers, days=days, messages_per_day=messages_per_day, seed=seed,
                 start_date=start_date, dataset=dataset, zstd=zstd)
    options = {k: v for k, v in given.items() if v is not None}
    return [Path(p) for p in _tickforge.synth_mbo(os.fspath(out_dir), options_json(options))]


def _paths(inputs: PathLike | Iterable[PathLike]) -> list[str]:
    if isinstance(inputs, (str, os.PathLike)):
        return [os.fspath(inputs)]
    return [os.fspath(p) for p in inputs]


def _split_config(config: PathLike | dict | None, overrides: dict) -> tuple[str | None, str]:
    """A config file path goes to the engine as is; a dict joins the keyword overrides."""
    if isinstance(config, dict):
        overrides = {**config, **overrides}
        config = None
    return (os.fspath(config) if config is not None else None), options_json(overrides)


def label_fit(
    inputs: PathLike | Iterable[PathLike],
    out: PathLike,
    *,
    config: PathLike | dict | None = None,
    skip_bad_files: bool = False,
    progress=None,
    **overrides,
) -> dict:
    """Fit quantile thresholds on the early files and write ``out`` (thresholds.json).

    Keys as in docs/labeling.md (``nbins=21``, ``lookback_rows=5000``, ...); unknown keys raise.
    ``progress``: a callable given one dict per update, or True for a tqdm bar (_progress.py).
    """
    config_file, extra = _split_config(config, overrides)
    with progress_callback(progress) as callback:
        return json.loads(
            _tickforge.label_fit(_paths(inputs), os.fspath(out), config_file, extra, skip_bad_files, callback)
        )


def label_build(
    inputs: PathLike | Iterable[PathLike],
    thresholds: PathLike | dict,
    out_dir: PathLike,
    *,
    config: PathLike | dict | None = None,
    skip_bad_files: bool = False,
    progress=None,
    **overrides,
) -> dict:
    """Label every file with fitted thresholds into one dataset per symbol; return the report."""
    if not isinstance(thresholds, dict):
        thresholds = json.loads(Path(thresholds).read_text())
    config_file, extra = _split_config(config, overrides)
    with progress_callback(progress) as callback:
        return json.loads(
            _tickforge.label_build(
                _paths(inputs), options_json(thresholds), os.fspath(out_dir), config_file, extra, skip_bad_files,
                callback,
            )
        )


def label_run(
    inputs: PathLike | Iterable[PathLike],
    out_dir: PathLike,
    config: PathLike | dict | None = None,
    *,
    skip_bad_files: bool = False,
    progress=None,
    **overrides,
) -> dict:
    """Fit and build in one go: thresholds.json, datasets and build_report.json in ``out_dir``."""
    config_file, extra = _split_config(config, overrides)
    with progress_callback(progress) as callback:
        return json.loads(
            _tickforge.label_run(_paths(inputs), os.fspath(out_dir), config_file, extra, skip_bad_files, callback)
        )


def label_store(
    verb: str = "run",
    *,
    inputs: PathLike | Iterable[PathLike] | None = None,
    store: PathLike | None = None,
    dataset: str | None = None,
    version: int | None = None,
    symbols: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    out: PathLike | None = None,
    into: PathLike | None = None,
    name: str | None = None,
    thresholds: PathLike | dict | None = None,
    config: PathLike | dict | None = None,
    skip_bad_files: bool = False,
    progress=None,
    **overrides,
) -> dict:
    """``label fit|build|run`` with a store snapshot as the input (``store=``, ``dataset=``
    "mbp10", ``version=``, ``symbols=``, ``start=``/``end=`` days) or raw ``inputs=``, written to
    ``out=`` (fit: the thresholds.json path) or committed as ``labeled/<name>`` with
    ``into=``, ``name=`` (docs/labeling.md "Into a store"). Returns the thresholds or the report;
    a commit adds ``committed`` (dataset, version, lineage)."""
    if verb not in ("fit", "build", "run"):
        raise ValueError(f"verb must be fit, build or run, not {verb!r}")
    request: dict = {}
    for key, value in dict(store=store, dataset=dataset, version=version, start=start, end=end,
                           out=out, into=into, name=name).items():
        if value is not None:
            request[key] = value if isinstance(value, (int, str)) else os.fspath(value)
    if inputs is not None:
        request["inputs"] = _paths(inputs)
    if symbols is not None:
        request["symbols"] = list(symbols)
    if verb == "build":
        if thresholds is None:
            raise TypeError("build needs thresholds=")
        request["thresholds"] = thresholds if isinstance(thresholds, dict) else json.loads(
            Path(thresholds).read_text())
    config_file, extra = _split_config(config, overrides)
    with progress_callback(progress) as callback:
        return json.loads(
            _tickforge.label_store(verb, options_json(request), config_file, extra, skip_bad_files, callback))


def label_update(store: PathLike, name: str, *, rebuild: bool = False, progress=None) -> dict:
    """``tickforge label update``: extend ``labeled/<name>`` of ``store`` to the newest snapshot of
    the source its lineage names, with the thresholds it recorded (never refit), in one commit
    (docs/labeling.md "Updating a labeled dataset"). Returns what was done: ``up_to_date``,
    ``method`` ("incremental", "rebuild", "none"), ``version``, ``added``/``replaced``/``removed``
    days, ``lineage`` and ``report``. ``rebuild=True`` labels every row again. ``progress``: a
    callable given one dict per update, or True for a tqdm bar (as label_run)."""
    with progress_callback(progress) as callback:
        return json.loads(_tickforge.label_update(os.fspath(store), name, rebuild, callback))


def pipeline_run(path: PathLike, *, progress=None) -> dict:
    """``tickforge pipeline run``: ingest the inputs the pipeline file names into its store,
    then build ``labeled/<name>`` (first run) or update it (docs/pipeline.md). Returns
    ``{"changed": bool, "stages": [{"stage", "changed", "summary", "detail"}]}``; a run with
    no new input changes nothing. ``progress``: a callable given one dict per update of each
    stage ("ingest", then the label stages), or True for a tqdm bar."""
    with progress_callback(progress) as callback:
        return json.loads(_tickforge.pipeline_run(os.fspath(path), callback))


def compute_labels(bid_px_00, ask_px_00, boundaries, *, lookback_rows: int,
                   lookforward_input: int, lookforward_offset: int):
    """Return (price_movement float64, classification_label int16) for one symbol's valid rows
    held in memory (fixed-point int64 prices): the kernel label build runs, with NaN / -1 where
    the movement is undefined."""
    import numpy as np

    return _tickforge.compute_labels(
        np.ascontiguousarray(bid_px_00, dtype=np.int64), np.ascontiguousarray(ask_px_00, dtype=np.int64),
        [float(b) for b in boundaries], lookback_rows, lookforward_input, lookforward_offset,
    )


def render(
    dataset: PathLike,
    *,
    row: int | None = None,
    ts: int | None = None,
    features: str | Sequence[str] | None = None,
    time_bins: int | None = None,
    ticks_per_bin: int | None = None,
    micro_pip_size: float | None = None,
):
    """Render the depth image of the sample ending at ``row`` (or at the last row at or before
    ``ts``, ns since the epoch) of a labeled dataset: float32 (402, T), or (N, 402, T) for
    several features, stacked in the order volume, variance, trade_counts. ``features`` left
    out are those the dataset was labeled for (label config ``features``); other options left
    out take the engine's defaults (below)."""
    given = dict(features=features, time_bins=time_bins, ticks_per_bin=ticks_per_bin,
                 micro_pip_size=micro_pip_size)
    options = {k: v if k != "features" or isinstance(v, str) else list(v)
               for k, v in given.items() if v is not None}
    return _tickforge.render(os.fspath(dataset), row, ts, options_json(options))


def __getattr__(name: str):
    # The loader imports torch; load it only when asked for.
    if name == "RepresentDataLoader":
        from .loader import RepresentDataLoader

        return RepresentDataLoader
    raise AttributeError(name)


def native_cli() -> Path:
    """Return the native ``tickforge`` command: ``$TICKFORGE_CLI`` if set, else the installed one.

    The variable lets a development build (module on ``PYTHONPATH``) use its own command. The
    manylinux wheel keeps the executable in ``tickforge.scripts/`` next to this package (its
    ``bin/tickforge`` is a Python shim that execs it); a source build installs it to ``bin/``.
    """
    import sysconfig

    env = os.environ.get("TICKFORGE_CLI")
    if env:
        return Path(env)
    repaired = Path(__file__).resolve().parent.parent / "tickforge.scripts" / "tickforge"
    if repaired.is_file():
        return repaired
    return Path(sysconfig.get_path("scripts")) / "tickforge"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the native ``tickforge`` command (``python -m tickforge ...``); ``report`` is
    Python's own (matplotlib renders its images): ``python -m tickforge report STORE --out X``."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["report"]:
        from .report import main as report_main

        raise SystemExit(report_main(args[1:]))
    exe = native_cli()
    os.execv(exe, [str(exe), *args])


def open_binance(
    path: PathLike,
    kind: str | None = None,
    *,
    batch_rows: int = 1 << 17,
    verify_checksum: bool = True,
) -> pa.RecordBatchReader:
    """Stream a Binance file (.csv, .zip of one .csv, or consolidated .parquet) as normalized
    record batches. ``kind`` is "klines", "aggtrades" or "funding" ("futures"); None infers it
    from the file name. A sibling ``<file>.CHECKSUM`` is verified first when present."""
    capsule = _tickforge.open_binance(os.fspath(path), kind, batch_rows, verify_checksum)
    reader = pa.RecordBatchReader._import_from_c_capsule(capsule)
    return pa.RecordBatchReader.from_batches(reader.schema, _translate_errors(reader))


def read_binance(path: PathLike, kind: str | None = None, **kwargs) -> pa.Table:
    """Read a whole Binance file into a pyarrow Table; see :func:`open_binance`."""
    return open_binance(path, kind, **kwargs).read_all()


def synth_binance(
    out: PathLike,
    *,
    symbols: int | Sequence[str] | None = None,
    days: int | None = None,
    start: str | None = None,
    market: str | None = None,
    kinds: str | Sequence[str] | None = None,
    interval: str | None = None,
    monthly: bool | None = None,
    header: bool | None = None,
    zip: bool | None = None,
    aggtrades_per_minute: float | None = None,
    seed: int | None = None,
) -> list[Path]:
    """Write synthetic Binance dumps in data.binance.vision's formats and layout; return the
    paths. ``symbols`` is a count (BTCUSDT, ETHUSDT, ...) or a list of names; ``header`` None
    means as Binance (futures with a header, spot without); spot times are µs from 2025.
    Options left out take the engine's defaults (below)."""
    given = dict(symbols=symbols if symbols is None or isinstance(symbols, int) else [str(s) for s in symbols],
                 days=days, start=start, market=market,
                 kinds=kinds if kinds is None or isinstance(kinds, str) else list(kinds), interval=interval,
                 monthly=monthly, header=header, zip=zip,
                 aggtrades_per_minute=None if aggtrades_per_minute is None else float(aggtrades_per_minute), seed=seed)
    options = {k: v for k, v in given.items() if v is not None}
    return [Path(p) for p in _tickforge.synth_binance(os.fspath(out), options_json(options))]


document_defaults(render, "image")
document_defaults(open_book, "book")
document_defaults(build_books, "book")
document_defaults(synth_dbn, "synth_dbn")
document_defaults(synth_mbo, "synth_mbo")
document_defaults(synth_binance, "synth_binance")
