"""The ``progress=`` keyword of the long functions (ingest, label, book, panel, DBN to Parquet).

``progress`` is None (nothing), a callable that receives one dict per update (``stage``,
``files_done``, ``files_total``, ``rows_done``, ``rows_total``, ``bytes_done``,
``bytes_total`` — totals None when unknown — ``seconds`` and ``final``), or True for a tqdm
bar per stage (tqdm must be installed). An exception the callable raises stops the work, which
leaves no output, and is raised from the function as it was.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

ProgressCallback = Callable[[dict], None]


class _TqdmBars:
    """One tqdm bar per stage, counting files when the stage knows their total, else rows."""

    def __init__(self, tqdm_class) -> None:
        self._tqdm = tqdm_class
        self._bar = None
        self._stage = None
        self._unit = "rows"

    def __call__(self, update: dict) -> None:
        if update["stage"] != self._stage or self._bar is None:
            self.close()
            self._stage = update["stage"]
            self._unit = "files" if update["files_total"] is not None else "rows"
            total = update[f"{self._unit}_total"]
            self._bar = self._tqdm(total=total, desc=self._stage, unit=" " + self._unit, leave=True)
        done = update[f"{self._unit}_done"]
        if self._unit == "files" and update["final"]:
            self._bar.total = update["files_total"]
        self._bar.update(done - self._bar.n)
        if self._unit == "files":
            self._bar.set_postfix_str(f"{update['rows_done']:,} rows", refresh=False)
        if update["final"]:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._stage = None


@contextlib.contextmanager
def progress_callback(progress: bool | ProgressCallback | None) -> Iterator[ProgressCallback | None]:
    """Yield what the engine is given for ``progress``; bars it opened are closed on exit."""
    if progress is None or progress is False:
        yield None
        return
    if progress is True:
        try:
            from tqdm.auto import tqdm
        except ImportError as e:
            raise ImportError("progress=True shows a tqdm bar: pip install tqdm "
                              "(or pass a callable)") from e
        bars = _TqdmBars(tqdm)
        try:
            yield bars
        finally:
            bars.close()
        return
    if not callable(progress):
        raise TypeError(f"progress must be None, True or a callable, not {type(progress).__name__}")
    yield progress
