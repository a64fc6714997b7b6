"""Photos on disk, addressed by the SHA-256 of their bytes (never by a user-supplied name)."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from storage.errors import Reason, StorageUnavailable

log = logging.getLogger(__name__)

WRITE_ATTEMPTS = 3
WRITE_BACKOFF = 0.5  # seconds before the second attempt, doubled for each one after
FULL = (errno.ENOSPC, errno.EDQUOT)


@dataclass(frozen=True)
class StoredPhoto:
    sha256: str
    path: Path
    size: int


class PhotoStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / f"{sha256}.jpg"

    def put(self, data: bytes) -> StoredPhoto:
        """Write atomically: temp file + fsync + rename, so a crash leaves either the whole file or none.

        The database row is written only after this returns; a crash in between leaves an orphan
        file that the same bytes will simply reuse next time.
        """
        sha = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha)
        if path.exists() and path.stat().st_size == len(data):
            return StoredPhoto(sha, path, len(data))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return StoredPhoto(sha, path, len(data))

    async def store(self, data: bytes) -> StoredPhoto:
        """put() on a worker thread, retried: a disk that fails once (a network mount's hiccup, space
        freed a moment later by log rotation) must not cost a photo. Raises StorageUnavailable
        ("disk_full" or "io") when every attempt failed; nothing is left behind then."""
        attempt = 1
        while True:
            try:
                return await asyncio.to_thread(self.put, data)
            except OSError as exc:
                if attempt >= WRITE_ATTEMPTS:
                    reason: Reason = "disk_full" if exc.errno in FULL else "io"
                    log.error("could not write a photo to %s, %d attempts: %s", self.root, attempt, exc)
                    raise StorageUnavailable(reason, f"photo store {self.root}: {exc}") from exc
                log.warning("writing a photo to %s failed (%s); attempt %d", self.root, exc, attempt)
                await asyncio.sleep(WRITE_BACKOFF * 2 ** (attempt - 1))
                attempt += 1

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()
