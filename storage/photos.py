"""Photos and videos on disk, addressed by the SHA-256 of their bytes (never by a user-supplied name)."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from storage.errors import Reason, StorageUnavailable

log = logging.getLogger(__name__)

WRITE_ATTEMPTS = 3
WRITE_BACKOFF = 0.5  # seconds before the second attempt, doubled for each one after
FULL = (errno.ENOSPC, errno.EDQUOT)
CHUNK = 1024 * 1024  # a card's video is hashed and copied in pieces, never read whole


def _sync_dir(folder: Path) -> None:
    """The rename itself survives a power cut only once the folder is synced too."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass(frozen=True)
class StoredPhoto:
    sha256: str
    path: Path
    size: int


class PhotoStore:
    SUFFIX = ".jpg"
    WHAT = "photo"

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / f"{sha256}{self.SUFFIX}"

    def put(self, data: bytes) -> StoredPhoto:
        """Write atomically: temp file + fsync + rename, so a crash leaves either the whole file or none.

        The database row is written only after this returns; a crash in between leaves an orphan
        file that the same bytes will simply reuse next time.
        """
        sha = hashlib.sha256(data).hexdigest()
        return self._write(sha, len(data), lambda fh: fh.write(data))

    def _write(self, sha: str, size: int, write: Callable[[IO[bytes]], object]) -> StoredPhoto:
        path = self.path_for(sha)
        if path.exists() and path.stat().st_size == size:
            return StoredPhoto(sha, path, size)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            return self._install(tmp, sha, size)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _install(self, tmp: str, sha: str, size: int) -> StoredPhoto:
        """A written, fsynced temporary file becomes the stored copy of `sha`: renamed into place (or
        dropped when an equal copy is there already), then the directory entry synced."""
        path = self.path_for(sha)
        if path.exists() and path.stat().st_size == size:
            Path(tmp).unlink()
            return StoredPhoto(sha, path, size)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, path)
        _sync_dir(path.parent)
        return StoredPhoto(sha, path, size)

    async def store(self, data: bytes) -> StoredPhoto:
        """put() on a worker thread, retried: a disk that fails once (a network mount's hiccup, space
        freed a moment later by log rotation) must not cost a photo. Raises StorageUnavailable
        ("disk_full" or "io") when every attempt failed; nothing is left behind then."""
        return await self._retried(self.put, data)

    async def _retried(self, put: Callable[[bytes], StoredPhoto], data: bytes) -> StoredPhoto:
        attempt, what = 1, self.WHAT
        while True:
            try:
                return await asyncio.to_thread(put, data)
            except OSError as exc:
                if attempt >= WRITE_ATTEMPTS:
                    reason: Reason = "disk_full" if exc.errno in FULL else "io"
                    log.error("could not write a %s to %s, %d attempts: %s", what, self.root, attempt, exc)
                    raise StorageUnavailable(reason, f"{what} store {self.root}: {exc}") from exc
                log.warning("writing a %s to %s failed (%s); attempt %d", what, self.root, exc, attempt)
                await asyncio.sleep(WRITE_BACKOFF * 2 ** (attempt - 1))
                attempt += 1

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()


class VideoStore(PhotoStore):
    """Videos beside the photos (LW_PHOTO_DIR/videos/), the same way: by SHA-256, written atomically.
    The suffix says nothing of the format (bytes from Telegram and from cards differ); the videos
    table does."""

    SUFFIX = ".video"
    WHAT = "video"

    def put_file(self, source: Path) -> StoredPhoto:
        """put() for a file on a card: copied and hashed in one pass, in pieces (a clip can be
        gigabytes, and a card reader is slow), then renamed to its SHA-256."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            return self._install(tmp, digest.hexdigest(), size)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def store_file(self, source: Path) -> StoredPhoto:
        return await self._retried(lambda _: self.put_file(source), b"")
