"""Detection in worker processes, for bulk work (`leopard-watch import --workers N`).

One onnxruntime session shares its cores well for one photo at a time, but Python's own per-photo
work (decoding, windows, the box) holds the GIL; N processes with their own sessions keep N cores busy
with whole photos (bench/import_workers.py measures 1, 2 and N). Only detection runs in the workers:
the parent stores photos and writes every database row, in file order, so an import stays resumable
and its summary ordered.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from bot.detection.model import DEFAULT_THRESHOLD, Detection, ModelError, OnnxLeopardDetector
from bot.detection.precision import choose
from bot.media.images import UnreadableImage
from storage.db import Database

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
        chosen = choose(precision)  # what each worker will pick: same machine, same answer
        self.precision, self.precision_reason = chosen.precision, chosen.reason
        # spawn: a forked child would inherit the parent's event loop, database handles and threads.
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(threshold, self.threads, precision),
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


class ReadAhead:
    """Reads the next files of an import and starts their detection in the pool, in order, so the
    workers stay busy while the parent records one photo at a time. Files already recorded (a resumed
    import) are read but not detected: the importer skips them by SHA-256 anyway."""

    def __init__(self, pool: DetectorPool, paths: Sequence[Path], db: Database) -> None:
        self.pool, self.paths, self.db = pool, paths, db
        self.depth = 2 * pool.workers  # one photo running and one queued per worker
        self._read: dict[int, bytes | OSError] = {}
        self._started: dict[int, bytes] = {}  # prefetched, by index, until their turn has passed
        self._next = 0

    @classmethod
    def of(cls, detector: object, paths: Sequence[Path], db: Database) -> ReadAhead | None:
        """A read-ahead when `detector` is a pool (a single in-process session gains nothing)."""
        return cls(detector, paths, db) if isinstance(detector, DetectorPool) else None

    def reader(self, i: int) -> Callable[[], Awaitable[bytes]]:
        return lambda: self.take(i)

    async def recorded(self, sha256: str) -> bool:
        row = await self.db.fetchone("SELECT 1 FROM sightings WHERE photo_sha256 = ?", (sha256,))
        return row is not None

    async def take(self, i: int) -> bytes:
        """The bytes of paths[i] (raising its OSError), with the files after it already under way."""
        while self._next < min(len(self.paths), i + self.depth):
            j, self._next = self._next, self._next + 1
            try:
                data = await asyncio.to_thread(self.paths[j].read_bytes)
            except OSError as exc:
                self._read[j] = exc
                continue
            self._read[j] = data
            if not await self.recorded(await asyncio.to_thread(_sha256, data)):
                self.pool.prefetch(data)
                self._started[j] = data
        for j in [j for j in self._started if j < i]:
            self.pool.discard(self._started.pop(j))
        self._started.pop(i, None)
        got = self._read.pop(i, None)
        if got is None:
            return await asyncio.to_thread(self.paths[i].read_bytes)
        if isinstance(got, OSError):
            raise got
        return got


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
