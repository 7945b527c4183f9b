"""RepresentDataLoader: the seed's migration API over the C++ loader.

Batches come out as torch tensors that share memory with the engine's batch buffers (no
copy); a buffer goes back to the engine's pool when the last tensor viewing it is freed.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Iterator, Sequence

from . import _tickforge
from ._options import document_defaults, option_defaults, options_json

try:  # torch is optional for the engine, required for tensors
    import torch
    from torch.utils.data import IterableDataset as _Base
except ImportError:  # pragma: no cover - exercised only without torch
    torch = None
    _Base = object


class RepresentDataLoader(_Base):
    """Class-uniform batches of depth images from labeled symbol datasets.

    ``RepresentDataLoader(parquet_dir, batch_size, features, shuffle=True, sample_fraction=1.0,
    symbols=None, **extras)`` as in the migration guide. ``shuffle="local"`` draws each class
    segment block by segment block (few cache segments per batch; batches mix fewer periods)
    for data larger than cache_bytes. Extras: seed, time_bins, ticks_per_bin,
    micro_pip_size, split ('train' | 'val' | 'test', cut by time with a purge gap), stride,
    rank, world_size, cache_bytes, threads, prefetch, return_index, config (YAML/JSON file;
    arguments given here win over it), split_fractions, pin_memory, normalization ('max_abs' |
    'none' | 'zscore': per-plane statistics fit on the training split, stored beside the
    datasets, or in the store for store= loaders, and reused by val/test loaders),
    normalization_stats (a statistics file), stats_dir (where fitted statistics are kept),
    normalization_samples, sampling ('class_uniform' | 'natural' | 'class_symbol_uniform'),
    strictness ('strict' | 'lenient': unreadable datasets skipped and listed in report()).
    ``cache_bytes`` bounds the
    loader's memory: the sample index, the batches in flight (at most half of it; ``prefetch``
    is lowered to fit) and the reads in progress come out of it, the cache gets the rest.

    ``RepresentDataLoader(store="S", dataset="labeled/NAME", version=None, ...)`` reads the
    labeled datasets of that store snapshot (the newest when version is None) instead of a
    folder: exactly the files it lists. ``loader.lineage`` is the lineage its commit recorded
    (source, config and thresholds hashes, tickforge version, time), to log with checkpoints;
    None for a folder.

    Iterating yields ``(features, labels)`` — float32 (B, 402, T) or (B, N, 402, T) and int64
    (B,) — plus an index dict (symbol, ts_event, sequence, row per sample) when return_index.

    ``representation="snapshots"`` serves book windows instead (docs/loader.md): float32
    (B, window, 4·levels), or (B, 1, window, 4·levels) with ``channel_dim=True``, per level ask
    price, ask size, bid price, bid size, z-scored (``normalization="zscore"``) with training
    statistics stored beside the datasets; ``label_column`` picks a label such as
    ``"label_deeplob_k50"``.
    """

    def __init__(
        self,
        parquet_dir: str | os.PathLike | None = None,
        batch_size: int | None = None,
        features: str | Sequence[str] | None = None,
        shuffle: bool | str | None = None,
        sample_fraction: float | None = None,
        symbols: Sequence[str] | None = None,
        *,
        config: str | os.PathLike | None = None,
        store: str | os.PathLike | None = None,
        dataset: str | None = None,
        version: int | None = None,
        **extras,
    ):
        known = option_defaults("loader")
        unknown = set(extras) - set(known)
        if unknown:
            raise TypeError(f"unknown arguments {sorted(unknown)}")
        given = dict(parquet_dir=parquet_dir, batch_size=batch_size, features=features,
                     shuffle=shuffle, sample_fraction=sample_fraction, symbols=symbols, **extras)
        self.lineage = None
        if store is not None or dataset is not None or version is not None:
            # A store snapshot: exactly the files that version lists, read as parquet_dir's are.
            if store is None or dataset is None:
                raise TypeError("store= and dataset= go together (version= is optional)")
            if parquet_dir is not None or "dataset_files" in extras:
                raise TypeError("give parquet_dir or store=/dataset=, not both")
            snap = json.loads(_tickforge.labeled_snapshot(os.fspath(store), str(dataset),
                                                          None if version is None else int(version)))
            given["dataset_files"] = snap["files"]
            given.setdefault("stats_dir", snap["stats_dir"])
            self.store_version = snap["version"]
            self.lineage = snap["lineage"]
        # Only what the caller set goes to the engine: the defaults are the engine's.
        given = {k: v for k, v in given.items() if v is not None}
        for path_key in ("parquet_dir", "normalization_stats", "stats_dir"):
            if path_key in given:
                given[path_key] = os.fspath(given[path_key])
        if "symbols" in given and not isinstance(given["symbols"], str):
            given["symbols"] = list(given["symbols"])
        if config is not None:
            given["config"] = os.fspath(config)
        request = options_json(given)
        options = json.loads(_tickforge.loader_config(request))
        self.options = options
        self.return_index = bool(options["return_index"])
        self.pin_memory = bool(options["pin_memory"])
        self._request = request
        self._engine = _tickforge.Loader.open(request)
        for message in json.loads(self._engine.report()).get("warnings", []):
            warnings.warn(message, UserWarning, stacklevel=2)
        self.symbols = list(self._engine.symbols)
        self.num_classes = self._engine.num_classes
        self.epoch = 0
        self._next_batch = 0  # within self.epoch, for state_dict
        self._generation = 0  # the newest iteration; an abandoned older one must not stop it

    def __getstate__(self) -> dict:
        # DataLoader workers started by spawn or forkserver get a pickled copy: the options
        # travel, the engine is opened again there (statistics it fit are read, not refit).
        state = self.__dict__.copy()
        del state["_engine"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._engine = _tickforge.Loader.open(self._request)

    def __len__(self) -> int:
        return self._engine.batches_per_epoch

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose seeded plan the next iteration follows."""
        self.epoch = int(epoch)
        self._next_batch = 0

    def state_dict(self, batches_seen: int | None = None) -> dict:
        """Return where iteration stands; load_state_dict resumes at the next batch exactly.

        With DataLoader workers the iteration runs in the workers, so this process cannot see
        it: pass ``batches_seen``, the batches of the current epoch the training loop took
        (DataLoader hands them out in order), and call ``set_epoch`` at each epoch's start."""
        next_batch = self._next_batch if batches_seen is None else self._next_batch + int(batches_seen)
        return {"epoch": self.epoch, "next_batch": next_batch, "seed": self.options["seed"]}

    def load_state_dict(self, state: dict) -> None:
        if state.get("seed", self.options["seed"]) != self.options["seed"]:
            raise ValueError("state_dict was saved with another seed")
        self.epoch = int(state["epoch"])
        self._next_batch = int(state["next_batch"])

    def cache_stats(self) -> dict:
        """Hits, misses, bytes, entries and evictions of the decoded-chunk cache."""
        return self._engine.cache_stats()

    def class_distribution(self) -> dict[int, int]:
        """Samples per class handed out so far."""
        return dict(enumerate(self._engine.class_counts()))

    def report(self) -> dict:
        """What the loader serves and served: per epoch (batches handed out in this process)
        the class counts against the sampling's target and the samples per symbol; the
        index's samples per symbol and class; cache statistics; datasets skipped (lenient);
        the normalization in effect (zscore: the statistics and their file)."""
        return json.loads(self._engine.report())

    def __iter__(self) -> Iterator:
        first, step = self._next_batch, 1
        info = torch.utils.data.get_worker_info() if torch is not None else None
        if info is not None:  # inside a DataLoader worker: every num_workers-th batch
            first, step = first + info.id, info.num_workers
        self._generation += 1
        generation = self._generation
        self._engine.start(self.epoch, first, step)
        try:
            while True:
                if generation != self._generation:
                    raise RuntimeError("this iteration was replaced by a newer iter(loader): a loader serves one "
                                       "iteration at a time (open a second loader for a second stream)")
                out = self._engine.next()
                if out is None:
                    break
                features, labels, index = out
                if torch is not None:
                    features, labels = torch.from_numpy(features), torch.from_numpy(labels)
                    if self.pin_memory and torch.cuda.is_available():
                        features, labels = features.pin_memory(), labels.pin_memory()
                self._next_batch = index["batch"] + 1
                if self.return_index:
                    index = {"symbol": [self.symbols[i] for i in index["symbol"]],
                             "ts_event": index["ts_event"], "sequence": index["sequence"],
                             "row": index["row"]}
                    yield features, labels, index
                else:
                    yield features, labels
        finally:
            if generation == self._generation:
                self._engine.stop()  # no render threads outlive an iteration
        # A whole pass ends the epoch (in a persistent DataLoader worker too, whose copy lives
        # on to serve the next one).
        self.epoch += 1
        self._next_batch = 0


document_defaults(RepresentDataLoader, "loader")
