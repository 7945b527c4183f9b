"""tickforge on Ray: a store snapshot as a Ray Dataset, a Ray Dataset as one store commit, the
loader inside Ray Train workers, ingest and book building as one Ray task per input file, and
labeling as one task per input file (the split) and one per symbol (fit candidates, build).

Ray is an optional extra (``pip install tickforge[ray]``); ``import tickforge`` never imports
this module. Reads go through the store's own scan (its filters, partition columns and types),
split by file across Ray read tasks; every task reads the same committed version, so files
written later, uncommitted or retired by a later commit are never seen.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.fs as pafs
import ray
import ray.data
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from . import _tickforge
from .book import build_books as _build_books_local
from .loader import RepresentDataLoader
from .store import Filter, PathLike, Store


def _open(store: Store | PathLike, create: bool = False) -> Store:
    return store if isinstance(store, Store) else Store(_local_root(store), create=create)


def _filesystem(location: PathLike) -> tuple[pafs.FileSystem, str]:
    """Return Arrow's filesystem for a path or URI (file://, s3://, gs://, ...) and the path in it;
    a plain path is local (or NFS), made absolute so that workers elsewhere find it."""
    text = os.fspath(location)
    if "://" in text:
        return pafs.FileSystem.from_uri(text)
    return pafs.LocalFileSystem(), os.path.abspath(text)


def _local_root(root: PathLike) -> str:
    # The commit renames staged files into place, so the store lies on a filesystem every
    # worker mounts (local, NFS); a file:// URI names one.
    filesystem, path = _filesystem(root)
    if not isinstance(filesystem, pafs.LocalFileSystem):
        raise ValueError(f"{os.fspath(root)}: a store root must be a local or mounted (NFS) path or a file:// URI; "
                         f"inputs may be on any filesystem Arrow opens")
    return path


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


# -- ingest and book building, one Ray task per input file ---------------------------------------

def _expand(inputs: PathLike | Iterable[PathLike]) -> list[str]:
    """Replace folders by the files under them (sorted; hidden, temporary and .CHECKSUM files and
    hidden folders left out), as ``Store.ingest`` does, through Arrow's filesystem layer so
    that any filesystem Arrow opens serves; URIs stay URIs."""
    items = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    files: list[str] = []
    for item in items:
        text = os.fspath(item)
        filesystem, path = _filesystem(text)
        info = filesystem.get_file_info(path)
        if info.type == pafs.FileType.NotFound:
            raise FileNotFoundError(f"{text}: no such file or directory")
        if info.type != pafs.FileType.Directory:
            files.append(text if "://" in text else path)
            continue
        found = []
        for entry in filesystem.get_file_info(pafs.FileSelector(path, recursive=True)):
            relative = entry.path[len(path):].lstrip("/").split("/")
            if entry.type != pafs.FileType.File or any(p.startswith((".", "_")) for p in relative):
                continue
            if entry.base_name.endswith(".CHECKSUM"):
                continue
            found.append(entry.path)
        scheme = text[: text.index("://") + 3] if "://" in text else ""
        files.extend(scheme + p for p in sorted(found))
    if not files:
        raise ValueError("no input files")
    return files


@contextlib.contextmanager
def _readable_here(source: str) -> Iterator[str]:
    """Yield a local path for ``source``: itself for a local file or file:// URI, else a copy in
    this worker's temporary folder made through Arrow's filesystem (the name kept: it says the
    symbol and kind of a Binance file)."""
    filesystem, path = _filesystem(source)
    if isinstance(filesystem, pafs.LocalFileSystem):
        yield path
        return
    folder = tempfile.mkdtemp(prefix="tickforge-ray-")
    try:
        local = os.path.join(folder, os.path.basename(path))
        pafs.copy_files(path, local, source_filesystem=filesystem,
                        destination_filesystem=pafs.LocalFileSystem())
        yield local
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _named(error: BaseException, source: str) -> _tickforge.TickforgeError:
    message = str(error)
    return _tickforge.TickforgeError(message if source in message else f"{source}: {message}")


def _stage_task(root: str, job: str, task: str, source: str, options: dict, skip_bad_files: bool,
                after_stage: Callable[[str, str, float], None] | None) -> dict:
    # Runs in a Ray worker: one input into its own attempt folder of the job.
    started = time.time()
    try:
        with _readable_here(source) as path:
            manifest = _tickforge.stage_ingest(root, job, task, [path], json.dumps(options))
    except (_tickforge.TickforgeError, OSError) as error:
        if skip_bad_files:
            return {"bad": {"path": source, "error": str(error)}}
        raise _named(error, source) from None
    if after_stage is not None:
        after_stage(task, manifest, started)  # tests: a worker dying after it wrote everything
    return {"manifest": manifest}


def _run_tasks(remote, calls: list[tuple], max_in_flight: int | None, num_cpus: float) -> list:
    """Run ``remote(*call)`` for every call, at most ``max_in_flight`` at once (default: twice the
    tasks the cluster's CPUs hold); return the results in call order. The first failure stops the
    submitting, waits for the tasks in flight (at most ``max_in_flight``) to end, so that none
    writes after the caller cleans up, and is raised. They are not cancelled: in Ray 2.60 a
    cancellation racing a task's completion can end the driver ("Tried to complete task that
    was not pending"). Only an interrupt (Ctrl-C) cancels them, not to keep its caller waiting."""
    if max_in_flight is None:
        cpus = ray.cluster_resources().get("CPU", 1)
        max_in_flight = max(1, int(2 * cpus / max(num_cpus, 1e-3)))
    if max_in_flight < 1:
        raise ValueError(f"max_in_flight must be at least 1, not {max_in_flight}")
    results: list[Any] = [None] * len(calls)
    pending: dict = {}
    submitted = 0
    try:
        while submitted < len(calls) or pending:
            while submitted < len(calls) and len(pending) < max_in_flight:
                pending[remote.remote(*calls[submitted])] = submitted
                submitted += 1
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                results[pending.pop(ref)] = ray.get(ref)
    except BaseException as error:
        if not isinstance(error, Exception):
            for ref in pending:
                ray.cancel(ref)
        if pending:
            ray.wait(list(pending), num_returns=len(pending), timeout=600)
        raise
    return results


def _task_options(num_cpus: float, memory: int | None, max_retries: int) -> dict:
    options: dict = {"num_cpus": num_cpus, "max_retries": max_retries}
    if memory is not None:
        options["memory"] = memory
    return options


def ingest(store: Store | PathLike, paths: Sequence[PathLike] | PathLike, *, skip_bad_files: bool = False,
           num_cpus: float = 1, memory: int | None = None, max_in_flight: int | None = None,
           max_retries: int = 3, _after_stage: Callable[[str, str, float], None] | None = None,
           **options) -> dict:
    """Ingest files as ``Store.ingest`` does (same options), one Ray task per input file, and
    commit them once: return the commit's summary, plus ``tasks`` and the driver's ``seconds``
    waiting for the tasks, committing and removing the job's staging folder.

    Each task writes its file's rows, partitioned and deduplicated, to its own attempt folder
    under ``STORE/_tickforge/staging/job-<id>/`` and returns the attempt's manifest; the driver
    commits exactly the attempts it received (dropping rows whose natural key the store or an
    earlier file holds), so a task killed midway and retried by Ray, or a failed job, never
    leaves duplicates or half a commit. Inputs may be on any filesystem Arrow opens (local,
    NFS, ``file://``, ``s3://``, ``gs://``); the store must be on one every worker mounts.
    An unreadable file fails the job with the file named and commits nothing, or with
    ``skip_bad_files`` is listed under ``bad_files`` and the others are committed.
    ``num_cpus`` and ``memory`` go to each task; at most ``max_in_flight`` run at once.
    """
    opened = _open(store, create=True)
    root = os.path.abspath(opened.root)
    sources = _expand(paths)
    job = uuid.uuid4().hex
    remote = ray.remote(_stage_task).options(**_task_options(num_cpus, memory, max_retries))
    calls = [(root, job, f"{i:06d}", source, options, skip_bad_files, _after_stage)
             for i, source in enumerate(sources)]
    start = time.perf_counter()
    try:
        results = _run_tasks(remote, calls, max_in_flight, num_cpus)
        tasks_done = time.perf_counter()
        manifests = [r["manifest"] for r in results if "manifest" in r]
        info = json.loads(opened._native.commit_staged(job, manifests, json.dumps(options)))
        committed = time.perf_counter()
    finally:
        # After the commit, or when nothing was committed. A folder left behind (a driver
        # killed first) goes with a later vacuum.
        with contextlib.suppress(Exception):
            opened._native.discard_staged_job(job)
    info["tasks"] = len(calls)
    info["seconds"] = {"tasks": tasks_done - start, "commit": committed - tasks_done,
                       "cleanup": time.perf_counter() - committed}
    if skip_bad_files:
        info["bad_files"] = [r["bad"] for r in results if "bad" in r]
    return info


def _book_task(source: str, out_dir: str, options: dict) -> list[dict]:
    # Runs in a Ray worker: one input's books, written atomically into out_dir.
    try:
        with _readable_here(source) as path:
            return _build_books_local([path], out_dir, **options)
    except (_tickforge.TickforgeError, OSError) as error:
        raise _named(error, source) from None


def build_books(inputs: PathLike | Iterable[PathLike], out_dir: PathLike, *, num_cpus: float = 1,
                memory: int | None = None, max_in_flight: int | None = None, max_retries: int = 3,
                **options) -> list[dict]:
    """Rebuild each input's books as ``tickforge.build_books`` does (same options), one Ray task
    per input file; return the summaries in input order.

    Every output file is written atomically by its task, so a task killed midway and retried
    leaves no partial file. ``out_dir`` must be on a filesystem every worker mounts (a
    ``file://`` URI names a local one); inputs may be on any filesystem Arrow opens.
    """
    sources = _expand(inputs)
    out = _local_root(out_dir)
    os.makedirs(out, exist_ok=True)
    remote = ray.remote(_book_task).options(**_task_options(num_cpus, memory, max_retries))
    results = _run_tasks(remote, [(source, out, options) for source in sources], max_in_flight, num_cpus)
    return [summary for result in results for summary in result]


# -- labeling: one Ray task per input file (the split), then one per symbol ---------------------

def _label_inputs(inputs: PathLike | Iterable[PathLike]) -> list[str]:
    # The split reads DBN and Parquet files through the engine's own readers, which open local
    # (or NFS) paths: file:// URIs name those; other filesystems are refused (docs/ray.md).
    items = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    paths = []
    for item in items:
        text = os.fspath(item)
        filesystem, path = _filesystem(text)
        if not isinstance(filesystem, pafs.LocalFileSystem):
            raise ValueError(f"{text}: label inputs must be local or mounted (NFS) paths or file:// URIs")
        paths.append(path)
    return paths


def _label_request(inputs, store, dataset, version, symbols, start, end, into, name, thresholds) -> dict:
    request: dict = {}
    if (inputs is None) == (store is None):
        raise TypeError("give inputs or store=, not both")
    if inputs is not None:
        request["inputs"] = _label_inputs(inputs)
    else:
        request["store"] = _local_root(store.root if isinstance(store, Store) else store)
    for key, value in dict(dataset=dataset, version=version, start=start, end=end, name=name).items():
        if value is not None:
            request[key] = value
    if symbols is not None:
        request["symbols"] = list(symbols)
    if into is not None:
        if name is None:
            raise TypeError("into= needs name=")
        request["into"] = _local_root(into.root if isinstance(into, Store) else into)
    if thresholds is not None:
        request["thresholds"] = thresholds
    return request


def _label_split_task(plan: str, index: int, scratch: str, skip_bad_files: bool, after_stage) -> str:
    # Runs in a Ray worker: one input's valid rows by symbol into this attempt's own folder, so
    # that a killed attempt's parts are never listed (they go with the job's scratch folder).
    attempt = os.path.join(scratch, f"f{index:06d}-{uuid.uuid4().hex[:12]}")
    try:
        result = _tickforge.label_dist_split(plan, index, attempt)
    except _tickforge.TickforgeError as error:
        shutil.rmtree(attempt, ignore_errors=True)
        if skip_bad_files:
            path = json.loads(plan)["files"][index]["path"]
            return json.dumps({"bad": {"path": path, "error": str(error)}})
        raise
    if after_stage is not None:
        after_stage("split", index, attempt)  # tests: a worker dying after it wrote its parts
    return result


def _label_fit_task(header: str, symbol: str, info: str) -> bytes:
    # Runs in a Ray worker: one symbol's fit candidates, each file's cut to the cap.
    return _tickforge.label_dist_fit_candidates(header, symbol, info)


def _label_build_task(header: str, symbol: str, info: str, thresholds: str, out: str, after_stage) -> str:
    # Runs in a Ray worker: one symbol's labeled dataset, written atomically into ``out``.
    entry = _tickforge.label_dist_build(header, symbol, info, thresholds, out)
    if after_stage is not None:
        after_stage("build", symbol, out)  # tests: a worker dying after it wrote its dataset
    return entry


class _LabelJob:
    """The driver's side of one label job: the plan, the split tasks and their merge, then the
    fit and build tasks per symbol (label/distributed.h), each batch through ``_run_tasks``."""

    def __init__(self, verb: str, request: dict, config, overrides: dict, skip_bad_files: bool,
                 num_cpus: float, memory: int | None, max_in_flight: int | None, max_retries: int,
                 after_stage):
        from . import _split_config

        config_file, extra = _split_config(config, overrides)
        planned = json.loads(_tickforge.label_dist_plan(verb, json.dumps(request), config_file, extra,
                                                        skip_bad_files))
        self.plan = json.dumps(planned["plan"])
        self.given_config = json.dumps(planned["given_config"])
        self.source = json.dumps(planned["source"])
        self.skip_bad_files = skip_bad_files
        self.options = _task_options(num_cpus, memory, max_retries)
        self.num_cpus, self.max_in_flight, self.after_stage = num_cpus, max_in_flight, after_stage
        self.tasks = 0

    def _run(self, function, calls: list[tuple]) -> list:
        self.tasks += len(calls)
        return _run_tasks(ray.remote(function).options(**self.options), calls, self.max_in_flight, self.num_cpus)

    def split(self, scratch: str) -> None:
        plan = ray.put(self.plan)
        count = len(json.loads(self.plan)["files"])
        results = self._run(_label_split_task, [(plan, i, scratch, self.skip_bad_files, self.after_stage)
                                                for i in range(count)])
        self.merged = _tickforge.label_dist_merge(self.plan, results)
        merged = json.loads(self.merged)
        self.header = ray.put(json.dumps(merged["header"]))
        self.symbols = [(name, json.dumps(info)) for name, info in merged["symbols"].items()]

    def fit(self, out: str | None) -> str:
        blobs = self._run(_label_fit_task, [(self.header, name, info) for name, info in self.symbols])
        return _tickforge.label_dist_fit_merge(self.merged, blobs, out)

    def build(self, thresholds: str, out: str, started: float, fitted: bool) -> dict:
        ref = ray.put(thresholds)
        entries = self._run(_label_build_task, [(self.header, name, info, ref, out, self.after_stage)
                                                for name, info in self.symbols])
        return json.loads(_tickforge.label_dist_report(self.merged, thresholds, [n for n, _ in self.symbols],
                                                       entries, time.perf_counter() - started, out, fitted))


def _label_job(verb: str, *, inputs, out, into, name, thresholds, store, dataset, version, symbols, start,
               end, config, skip_bad_files, num_cpus, memory, max_in_flight, max_retries, _after_stage,
               overrides) -> dict:
    started = time.perf_counter()
    if verb == "build" and thresholds is not None and not isinstance(thresholds, dict):
        thresholds = json.loads(Path(os.fspath(thresholds)).read_text())
    request = _label_request(inputs, store, dataset, version, symbols, start, end, into, name, thresholds)
    job = _LabelJob(verb, request, config, overrides, skip_bad_files, num_cpus, memory, max_in_flight,
                    max_retries, _after_stage)
    made: list[str] = []  # scratch folders of this job, removed at the end whatever happens
    try:
        if verb == "fit":
            target = _local_root(out)
            parent = os.path.dirname(target) or "."
            os.makedirs(parent, exist_ok=True)
            made.append(_tickforge.label_dist_scratch(parent))
            job.split(made[-1])
            result = json.loads(job.fit(target))
        else:
            if into is not None:
                # Outputs go to a hidden folder of the store, then into the commit by rename.
                build_dir = _tickforge.label_dist_scratch(request["into"])
                made.append(build_dir)
            else:
                build_dir = _local_root(out)
            os.makedirs(build_dir, exist_ok=True)
            made.append(_tickforge.label_dist_scratch(build_dir))
            job.split(made[-1])
            if verb == "run":
                text = job.fit(os.path.join(build_dir, "thresholds.json"))
            else:
                text = json.dumps(thresholds)
            result = job.build(text, build_dir, started, fitted=verb == "run")
            if into is not None:
                if verb == "build":
                    _tickforge.label_dist_write_json(os.path.join(build_dir, "thresholds.json"), text)
                result = json.loads(_tickforge.label_dist_commit(request["into"], name, build_dir,
                                                                 json.dumps(result), job.given_config,
                                                                 job.source))
    finally:
        for folder in reversed(made):
            shutil.rmtree(folder, ignore_errors=True)
    result["tasks"] = job.tasks
    return result


def label_fit(inputs: PathLike | Iterable[PathLike] | None, out: PathLike, *, store: Store | PathLike | None = None,
              dataset: str | None = None, version: int | None = None, symbols: Sequence[str] | None = None,
              start: str | None = None, end: str | None = None, config: PathLike | dict | None = None,
              skip_bad_files: bool = False, num_cpus: float = 1, memory: int | None = None,
              max_in_flight: int | None = None, max_retries: int = 3, **overrides) -> dict:
    """Fit thresholds as ``tickforge.label_fit`` does (same keys; or on a store snapshot with
    ``store=``, ``dataset=``, ``version=``, ... as ``label_store``) and write ``out``; return the
    document, plus ``tasks``.

    One Ray task per input file splits its valid rows by symbol into scratch parts beside
    ``out``; one task per symbol returns its fit candidates, each file's already cut to the
    per-file cap; the driver pools them in file order as the local fit does, so the thresholds
    equal the local ones bit for bit. ``num_cpus`` and ``memory`` go to each task; at most
    ``max_in_flight`` run at once.
    """
    return _label_job("fit", inputs=inputs, out=out, into=None, name=None, thresholds=None, store=store,
                      dataset=dataset, version=version, symbols=symbols, start=start, end=end, config=config,
                      skip_bad_files=skip_bad_files, num_cpus=num_cpus, memory=memory,
                      max_in_flight=max_in_flight, max_retries=max_retries, _after_stage=None,
                      overrides=overrides)


def label_build(inputs: PathLike | Iterable[PathLike] | None, thresholds: PathLike | dict,
                out_dir: PathLike | None = None, *, into: Store | PathLike | None = None, name: str | None = None,
                store: Store | PathLike | None = None, dataset: str | None = None, version: int | None = None,
                symbols: Sequence[str] | None = None, start: str | None = None, end: str | None = None,
                config: PathLike | dict | None = None, skip_bad_files: bool = False, num_cpus: float = 1,
                memory: int | None = None, max_in_flight: int | None = None, max_retries: int = 3,
                _after_stage: Callable | None = None, **overrides) -> dict:
    """Label every input with fitted ``thresholds`` as ``tickforge.label_build`` does, into
    ``out_dir`` (one dataset per symbol and build_report.json) or, with ``into=`` and
    ``name=``, as one commit of ``labeled/<name>`` with the lineage a local build records.
    Return the report (plus ``committed`` for a commit, and ``tasks``).

    One Ray task per input file splits it; one task per symbol writes its dataset atomically
    (into a hidden folder of the store for a commit), so a task killed midway and retried
    leaves no partial file, and the driver writes the report and makes the one commit.
    """
    if (out_dir is None) == (into is None):
        raise TypeError("give out_dir or into= (with name=), not both")
    return _label_job("build", inputs=inputs, out=out_dir, into=into, name=name, thresholds=thresholds,
                      store=store, dataset=dataset, version=version, symbols=symbols, start=start, end=end,
                      config=config, skip_bad_files=skip_bad_files, num_cpus=num_cpus, memory=memory,
                      max_in_flight=max_in_flight, max_retries=max_retries, _after_stage=_after_stage,
                      overrides=overrides)


def label_run(inputs: PathLike | Iterable[PathLike] | None, out_dir: PathLike | None = None,
              config: PathLike | dict | None = None, *, into: Store | PathLike | None = None,
              name: str | None = None, store: Store | PathLike | None = None, dataset: str | None = None,
              version: int | None = None, symbols: Sequence[str] | None = None, start: str | None = None,
              end: str | None = None, skip_bad_files: bool = False, num_cpus: float = 1,
              memory: int | None = None, max_in_flight: int | None = None, max_retries: int = 3,
              _after_stage: Callable | None = None, **overrides) -> dict:
    """Fit and build in one job as ``tickforge.label_run`` does: thresholds.json, the datasets
    and build_report.json in ``out_dir``, or one commit of ``labeled/<name>`` with ``into=``.
    The split runs once for both (one task per input file), then the fit tasks and the build
    tasks per symbol, as in ``label_fit`` and ``label_build``.
    """
    if (out_dir is None) == (into is None):
        raise TypeError("give out_dir or into= (with name=), not both")
    return _label_job("run", inputs=inputs, out=out_dir, into=into, name=name, thresholds=None, store=store,
                      dataset=dataset, version=version, symbols=symbols, start=start, end=end, config=config,
                      skip_bad_files=skip_bad_files, num_cpus=num_cpus, memory=memory,
                      max_in_flight=max_in_flight, max_retries=max_retries, _after_stage=_after_stage,
                      overrides=overrides)


__all__ = ["read_store", "write_store", "loader_for_worker", "ingest", "build_books", "label_fit", "label_build",
           "label_run"]
