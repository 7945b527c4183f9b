"""The unified market-data store: a thin front over the native ``Store``.

Options are keyword arguments passed to the engine as JSON; results come back as dictionaries
(commits, summaries) or Arrow streams (scans), never as copies.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Iterable, Sequence

import pyarrow as pa

from . import _tickforge
from ._options import options_json
from ._progress import progress_callback
from ._streams import _arrow_stream

PathLike = str | os.PathLike

# A filter term: (column, op, value), (column, "in", [values]) or "column op value".
Filter = tuple | list | str


def _filters(filters: Iterable[Filter] | None) -> list | None:
    if filters is None:
        return None
    out = []
    for term in filters:
        if isinstance(term, str):
            out.append(term)
        else:
            column, op, value = term
            out.append([column, op, list(value) if isinstance(value, (list, tuple, set)) else value])
    return out


def _scan_options(columns, filters, batch_size, version, use_threads=True, paths=None) -> str:
    return options_json({
        "paths": list(paths) if paths is not None else None,
        "columns": list(columns) if columns is not None else None,
        "filters": _filters(filters),
        "batch_size": batch_size,
        "version": version,
        "use_threads": use_threads,
    })


def _stream(data) -> Any:
    return _arrow_stream("data", data)



def _committed(text: str) -> dict:
    """A commit's summary; its warnings (rows that differ from stored rows of their key) are
    also raised as UserWarning, as the command line prints them."""
    info = json.loads(text)
    for message in info.get("warnings", []):
        warnings.warn(message, UserWarning, stacklevel=3)
    return info

class Store:
    """A store rooted at a directory (created when missing unless ``create=False``).

    Every change (``ingest``, ``write``, ``compact``, ``migrate``, ``materialize``) is one
    atomic commit; reads see committed snapshots only, the newest unless ``version`` is given.
    """

    def __init__(self, root: PathLike, *, create: bool = True, **options):
        """Options: checkpoint_interval (commits between Parquet checkpoints of the whole
        snapshot)."""
        self.root = os.fspath(root)
        self._native = _tickforge.Store(self.root, create, options_json(options))

    def ingest(self, paths: Sequence[PathLike] | PathLike, *, progress=None, **options) -> dict:
        """Ingest Binance files (CSV, zip, consolidated Parquet) and DBN files in one commit.

        Options: kind, symbol, exchange, verify_checksum, threads, compression,
        max_rows_per_file, min_rows_per_group, max_rows_per_group, metadata, dedup,
        derive_books (also write the rebuilt books of MBO, depth-stream and LOBSTER inputs, same
        commit), books_dataset (their dataset, "mbp10"); see docs/books.md.
        ``progress``: a callable given one dict per update (stage "ingest": files, rows, bytes),
        or True for a tqdm bar; an exception it raises stops the ingest with nothing committed.
        """
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        with progress_callback(progress) as callback:
            return _committed(self._native.ingest([os.fspath(p) for p in paths], options_json(options), callback))

    def write(self, dataset: str, data, *, type: str = "generic", **options) -> dict:
        """Write a pandas DataFrame, Arrow table or stream into ``dataset`` with ``type``'s rules.

        ``constants={"exchange": "binance"}`` gives partition values the data has no column for.
        """
        return _committed(self._native.write(dataset, type, _stream(data), options_json(options)))

    def scan(self, dataset: str, columns: Sequence[str] | None = None, filters: Iterable[Filter] | None = None,
             *, batch_size: int | None = None, version: int | None = None,
             use_threads: bool = True, paths: Sequence[str] | None = None) -> pa.RecordBatchReader:
        """Stream a dataset's rows with projection and predicate pushdown.

        ``paths`` reads only those files of the snapshot (store paths, as ``plan`` lists them).
        """
        reader, _ = self.scan_with_stats(dataset, columns, filters, batch_size=batch_size, version=version,
                                         use_threads=use_threads, paths=paths)
        return reader

    def scan_with_stats(self, dataset: str, columns=None, filters=None, *, batch_size=None, version=None,
                        use_threads: bool = True, paths=None) -> tuple[pa.RecordBatchReader, dict]:
        """Like ``scan``, plus how many of the dataset's files the filters let through."""
        capsule, stats = self._native.scan(dataset, _scan_options(columns, filters, batch_size, version,
                                                                  use_threads, paths))
        return pa.RecordBatchReader._import_from_c_capsule(capsule), json.loads(stats)

    def plan(self, dataset: str, columns=None, filters=None, *, version: int | None = None) -> dict:
        """Return the files a scan with these filters reads, without reading them.

        The result has the snapshot ``version``, the dataset's ``schema`` (a ``pyarrow.Schema``,
        partition keys last), ``type``, ``partition_keys``, ``time_column``, ``files_total`` and
        ``files``: per selected file its ``path`` in the store, ``location`` (where it lies now,
        absolute), ``rows``, ``bytes``, ``partition`` values, ``min_time``/``max_time`` and the
        ``version`` that added it. Filters prune whole files here; rows are filtered by a scan.
        """
        capsule, text = self._native.plan(dataset, _scan_options(columns, filters, None, version))
        plan = json.loads(text)
        plan["schema"] = pa.Schema._import_from_c_capsule(capsule)
        return plan

    def read(self, dataset: str, columns=None, filters=None, **options) -> pa.Table:
        """Return ``scan(...)`` collected into a table."""
        return self.scan(dataset, columns, filters, **options).read_all()

    def latest_timestamp(self, dataset: str, symbol: str) -> int | None:
        """Return the newest time value of ``symbol`` in ``dataset`` (None when it has none)."""
        return self._native.latest_timestamp(dataset, symbol)

    def compact(self, dataset: str, **options) -> dict:
        """Merge small files per partition (target_rows, min_files); rows stay exactly the same."""
        return json.loads(self._native.compact(dataset, options_json(options)))

    def migrate(self, flat_dir: PathLike, dataset: str, *, type: str = "generic", **options) -> dict:
        """Write a flat directory of Parquet files into a partitioned dataset."""
        return json.loads(self._native.migrate(os.fspath(flat_dir), dataset, type, options_json(options)))

    def materialize(self, source: str, target: str, columns=None, filters=None, **options) -> dict:
        """Write a projection of ``source`` as the new dataset ``target``."""
        projection = _scan_options(columns, filters, None, None)
        return json.loads(self._native.materialize(source, projection, target, options_json(options)))

    def cached_projection(self, dataset: str, columns=None, filters=None, *, ttl: float = 3600.0,
                          version: int | None = None) -> pa.Table:
        """Return a projection from ``_cache/`` (computed when absent or older than ``ttl`` s)."""
        import pyarrow.parquet as pq

        path, _, _, _ = self.cached_projection_info(dataset, columns, filters, ttl=ttl, version=version)
        return pq.read_table(path)

    def cached_projection_info(self, dataset: str, columns=None, filters=None, *, ttl: float = 3600.0,
                               version: int | None = None) -> tuple[str, str, bool, int]:
        """Return (path, key, hit, rows) of a cached projection, computing it when needed."""
        return self._native.cached(dataset, _scan_options(columns, filters, None, version), float(ttl))

    def clear_cache(self, expired_only: bool = False) -> int:
        """Remove cached projections (all, or only expired ones); returns how many."""
        return self._native.clear_cache(expired_only)

    def info(self, version: int | None = None) -> dict:
        """Summarize a snapshot: version and, per dataset, type, keys, columns, rows, files, symbols."""
        return json.loads(self._native.info(version))

    def quality(self, **options) -> dict:
        """Return the data-quality flags of the live files, as each commit recorded them.

        Options: dataset, symbol, since ("YYYY-MM-DD"), version, max_examples. The result has,
        per dataset, the files and rows checked and per check its count and example
        (file, row) pairs, plus "totals" per check (docs/quality.md).
        """
        return json.loads(self._native.quality(options_json(options)))
    def files(self, dataset: str, version: int | None = None) -> list[dict]:
        """Return the file entries of ``dataset`` at ``version`` (the newest when None): path,
        rows, bytes, partition, min_time, max_time and the version that added each."""
        return json.loads(self._native.files(dataset, version))

    def vacuum(self, older_than: float | str | None = None, **options) -> dict:
        """Delete retired files that no retained version reads; the log is kept.

        Versions committed less than ``older_than`` ago (seconds, or "7d", "12h", "30m", "45s")
        are retained (the engine's default when None), plus the one that was newest then and
        the newest. Options: retain_versions, dry_run. Returns what was (or, on a dry run,
        would be) freed.
        """
        if older_than is not None:
            options["older_than"] = older_than
        return json.loads(self._native.vacuum(options_json(options)))

    @staticmethod
    def memory_pool() -> dict:
        """Return Arrow's memory pool statistics (backend, bytes_allocated, max_memory, ...)."""
        return json.loads(_tickforge.memory_pool_stats())

    def __repr__(self) -> str:
        info = self.info()
        return f"Store({self.root!r}, version={info['version']}, datasets={sorted(info['datasets'])})"


def write_flat_parquet(data, path: PathLike, **options) -> int:
    """Write a frame, table or stream to one Parquet file, atomically; returns the rows.

    Options: compression (default zstd), max_rows_per_group (row group size), metadata.
    """
    return _tickforge.write_flat_parquet(_stream(data), os.fspath(path), options_json(options))


def convert_consolidated(data_dir: PathLike, out: PathLike | None = None, **options) -> dict:
    """Convert a directory's consolidated Binance files into a store (the seed's Step 1.5).

    Backs the files up first, writes DATA_DIR/unified (or ``out``) and returns the validation
    report (row counts source vs store, duplicates, monotonic timestamps, gaps).
    """
    return json.loads(_tickforge.convert_consolidated(os.fspath(data_dir), os.fspath(out or ""), options_json(options)))


def store_quality(store: "Store | PathLike", **options) -> dict:
    """Return ``Store(store).quality(**options)``: the quality flags of a store's live files."""
    if not isinstance(store, Store):
        store = Store(store, create=False)
    return store.quality(**options)
