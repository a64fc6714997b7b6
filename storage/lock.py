"""One bot per database: an OS lock held by `leopard-watch run` for as long as the process lives.

Two bots on one database fight over the outbox (each takes the other's "sending" rows for lost sends
and tells the admins an alert may not have arrived) and, on one token, over Telegram's updates. The
lock is flock(2) on a file beside the database: the kernel drops it when the process ends, however it
ends, so a crash never leaves a stale lock to clear by hand. import, export, backup and doctor do not
take it: they are safe beside a running bot (WAL readers, and the import's own resumable writes).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class AlreadyRunning(RuntimeError):
    """Another process holds the database's run lock."""

    def __init__(self, lock_file: Path, holder: str) -> None:
        super().__init__(f"another leopard-watch is already running on this database ({holder}; {lock_file})")
        self.lock_file = lock_file
        self.holder = holder


class RunLock:
    """Held from acquire() until release() or the end of the process."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "process unknown"
            os.close(fd)
            raise AlreadyRunning(self.path, holder) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}".encode())
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
