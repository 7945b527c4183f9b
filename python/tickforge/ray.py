"""tickforge on Ray: a store snapshot as a Ray Dataset, a Ray Dataset as one store commit, and
the loader inside Ray Train workers.

Ray is an optional extra (``pip install tickforge[ray]``); ``import tickforge`` never imports
this module. Reads go through the store's own scan (its filters, partition columns and types),
split by file across Ray read tasks; every task reads the same committed version, so files
written later, uncommitted or retired by a later commit are never seen.
"""

from __future__ import annotations

import functools
from typing import Iterable, Iterator, Sequence

import pyarrow as pa
import ray.data
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from .loader import RepresentDataLoader
from .store import Filter, PathLike, Store


def _open(store: Store | PathLike, create: bool = False) -> Store:
    return store if isinstance(store, Store) else Store(store, create=create)


def _read_files(root: str, dataset: str, version: int, columns, filters, paths) -> Iterator[pa.Table]:
    # Runs in a Ray worker: one store scan over this task's files of the planned version.
    reader = Store(root, create=False).scan(dataset, columns, filters, version=version, paths=paths,
                                            use_threads=False)
    for batch in reader:
        yield pa.Table.from_batches([batch])


class _StoreDatasource(Datasource):
    """The files of one planned scan, split into contiguous groups, one Ray read task a group."""

    def __init__(self, root: str, dataset: str, plan: dict, columns, filters):
        self._root, self._dataset, self._plan = root, dataset, plan
        self._columns, self._filters = columns, filters
        schema = plan["schema"]
        self._schema = schema if columns is None else pa.schema([schema.field(c) for c in columns])

    def estimate_inmemory_data_size(self) -> int | None:
        return sum(f["bytes"] for f in self._plan["files"])

    def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                       data_context=None) -> list[ReadTask]:
        files = self._plan["files"]
        groups = max(1, min(parallelism, len(files)))
        tasks = []
        for g in range(groups):
            group = files[g * len(files) // groups:(g + 1) * len(files) // groups]
            metadata = BlockMetadata(
                # Row filters may drop rows inside a file: the count is known only without them.
                num_rows=None if self._filters else sum(f["rows"] for f in group),
                size_bytes=sum(f["bytes"] for f in group), exec_stats=None,
                input_files=tuple(f["location"] for f in group))
            read = functools.partial(_read_files, self._root, self._dataset, self._plan["version"],
                                     self._columns, self._filters, [f["path"] for f in group])
            tasks.append(ReadTask(read, metadata, schema=self._schema, per_task_row_limit=per_task_row_limit))
        return tasks


def read_store(store: Store | PathLike, dataset: str, version: int | None = None,
               columns: Sequence[str] | None = None, filters: Iterable[Filter] | None = None,
               *, parallelism: int = -1, **ray_remote_args) -> ray.data.Dataset:
    """Return a committed snapshot of ``dataset`` as a ``ray.data.Dataset``.

    Exactly the files of ``version`` (the newest when None) are read; ``columns`` projects and
    ``filters`` (as in ``Store.scan``) prune whole files by partition value and time range on
    the driver, then filter rows in the read tasks. ``ray_remote_args`` (``num_cpus``,
    ``memory``, ...) go to the read tasks.
    """
    opened = _open(store)
    columns = list(columns) if columns is not None else None
    filters = list(filters) if filters is not None else None
    plan = opened.plan(dataset, columns, filters, version=version)
    if not plan["files"]:
        schema = plan["schema"] if columns is None else pa.schema([plan["schema"].field(c) for c in columns])
        return ray.data.from_arrow(schema.empty_table())
    source = _StoreDatasource(opened.root, dataset, plan, columns, filters)
    return ray.data.read_datasource(source, parallelism=parallelism, ray_remote_args=ray_remote_args or None)


def write_store(ds: ray.data.Dataset, store: Store | PathLike, dataset: str, *, type: str = "generic",
                **options) -> dict:
    """Append the rows of ``ds`` to ``dataset`` as one commit and return the commit's summary.

    Blocks stream to the driver, which writes them through the store's writer (partitioning,
    dedup, atomic commit); a failure anywhere commits nothing. ``options`` are
    ``Store.write``'s.
    """
    tables = iter(ds.iter_batches(batch_format="pyarrow", batch_size=None))
    first = next(tables, None)
    if first is None:
        raise ValueError(f"write_store: the dataset is empty; nothing to commit to '{dataset}'")
    schema = first.schema

    def batches() -> Iterator[pa.RecordBatch]:
        yield from first.to_batches()
        for table in tables:
            yield from table.cast(schema).to_batches()

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    return _open(store, create=True).write(dataset, reader, type=type, **options)


def loader_for_worker(*args, **kwargs) -> RepresentDataLoader:
    """Return a ``RepresentDataLoader`` for this Ray Train worker.

    Its rank and world size come from the Ray Train context, so every worker serves disjoint
    samples and the same number of batches; other arguments are the loader's.
    """
    import ray.train

    context = ray.train.get_context()
    if "rank" in kwargs or "world_size" in kwargs:
        raise TypeError("loader_for_worker takes rank and world_size from the Ray Train context")
    return RepresentDataLoader(*args, rank=context.get_world_rank(), world_size=context.get_world_size(),
                               **kwargs)


__all__ = ["read_store", "write_store", "loader_for_worker"]
