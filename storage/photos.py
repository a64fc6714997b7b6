"""Photos on disk, addressed by the SHA-256 of their bytes (never by a user-supplied name)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


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

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()
