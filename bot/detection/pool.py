"""Detection in worker processes, for bulk work (`leopard-watch import --workers N`).

One onnxruntime session shares its cores well for one photo at a time, but Python's own per-photo
work (decoding, windows, the box) holds the GIL; N processes with their own sessions keep N cores busy
with whole photos (bench/import_workers.py measures 1, 2 and N). Only detection runs in the workers:
the parent stores photos and writes every database row, in file order, so an import stays resumable
and its summary ordered. What keeps the workers fed during an import is bot/intake/sd_card.py's
ReadAhead (it asks the sightings table which files are recorded already, so it lives with the importer).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from bot.detection.model import OnnxLeopardDetector, resolve_precision
from bot.detection.types import DEFAULT_THRESHOLD, Detection, ModelError
from bot.media import UnreadableImage

_worker: OnnxLeopardDetector | None = None


def available_cores() -> int:
    """Cores this process may run on (a container or taskset may allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """1-2 intra-op threads each, so that the workers together use the cores once."""
    return max(1, min(2, (cores or available_cores()) // max(1, workers)))


def _init(threshold: float, threads: int, precision: str) -> None:
    global _worker
    _worker = OnnxLeopardDetector(threshold=threshold, threads=threads, precision=precision)


def _detect(data: bytes) -> Detection | tuple[str, str]:
    assert _worker is not None, "worker not initialised"
    try:
        return _worker.detect(data)
    except UnreadableImage as exc:
        # Sent back as plain values: the exception's `reason` would not survive pickling.
        return (str(exc), exc.reason)


class DetectorPool:
    """The Detector protocol over `workers` processes, each loading its own session."""

    def __init__(
        self,
        workers: int,
        *,
        threads: int | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        precision: str = "auto",
    ) -> None:
        self.threshold = threshold
        self.workers = max(1, workers)
        self.threads = threads or threads_per_worker(self.workers)
        # Resolved once here (for "auto", timed once and cached) and handed to every worker as a forced
        # precision: workers timing on their own could disagree under load.
        chosen = resolve_precision(precision, self.threads)
        self.precision, self.precision_reason = chosen.precision, chosen.reason
        # spawn: a forked child would inherit the parent's event loop, database handles and threads.
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(threshold, self.threads, chosen.precision),
        )
        self._ahead: dict[bytes, Future[Detection | tuple[str, str]]] = {}

    def prefetch(self, data: bytes) -> None:
        """Start detecting `data` now; a later detect(data) collects the result."""
        if data not in self._ahead:
            self._ahead[data] = self._pool.submit(_detect, data)

    def detect(self, data: bytes) -> Detection:
        future = self._ahead.pop(data, None) or self._pool.submit(_detect, data)
        result = future.result()
        if isinstance(result, tuple):
            raise UnreadableImage(result[0], reason=result[1])
        return result

    def discard(self, data: bytes) -> None:
        """Forget a prefetch nobody collected (the file turned out not to be a photo)."""
        future = self._ahead.pop(data, None)
        if future is not None:
            future.cancel()

    def warm_up(self) -> None:
        """Start every worker and load its model now (a broken model fails here, not mid-import)."""
        sample = (Path(__file__).parent.parent / "samples" / "neg_060_serengeti_jackal_1.jpg").read_bytes()
        try:
            for future in [self._pool.submit(_detect, sample) for _ in range(self.workers)]:
                future.result()
        except BrokenProcessPool as exc:  # the worker's own traceback (e.g. ModelError) is on stderr
            raise ModelError(f"a detector worker could not load the model: {exc}") from exc

    def worker_pids(self) -> list[int]:
        """The workers' process ids (bench/import_workers.py reads their peak memory)."""
        return list(self._pool._processes or {})

    def close(self) -> None:
        for future in self._ahead.values():
            future.cancel()
        self._ahead.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
