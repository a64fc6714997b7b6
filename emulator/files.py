"""In-memory file storage: file_ids, PhotoSize sets and the paths getFile hands out."""

from __future__ import annotations

import io
import logging
import mimetypes
import secrets
from dataclasses import dataclass, field
from typing import Any

import av
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

# Telegram's own cut-offs: bots may download at most 20 MB through getFile.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
# Real photos get more sizes (800, 1280, ...); three keeps tests predictable while still forcing
# bots to pick photo[-1] instead of assuming a single entry.
_PHOTO_BOXES = (90, 320)
_ID_PREFIX = {
    "photo": "AgACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI",
    "thumbnail": "AAMCAgADGQEAAg",
    "video": "BAACAgIAAxkBAAI",
    "video_note": "DQACAgIAAxkBAAI",
    "animation": "CgACAgIAAxkBAAI",
}
_PATH_DIR = {
    "photo": "photos",
    "document": "documents",
    "thumbnail": "thumbnails",
    "video": "videos",
    "video_note": "video_notes",
    "animation": "animations",
}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes = field(repr=False)
    file_path: str
    # What a message carries for this file: the PhotoSize list or the Document object.
    media: Any = None
    # A size the test claims (a 2 GB clip without 2 GB of bytes); getFile and file_size go by it.
    declared_size: int | None = None

    @property
    def size(self) -> int:
        return len(self.data) if self.declared_size is None else self.declared_size


def image_size(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def video_props(data: bytes) -> tuple[int, int, int, bool] | None:
    """(width, height, whole seconds, is MP4/MOV) of a clip, or None when PyAV cannot read it."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = container.streams.video[0]
            seconds = container.duration / av.time_base if container.duration else 0.0
            mp4 = container.format.name.startswith("mov")
            return stream.width, stream.height, round(seconds), mp4
    except (av.FFmpegError, IndexError, ValueError, OSError):
        return None


def _jpeg_thumbnail(data: bytes, box: int) -> tuple[bytes, int, int]:
    with Image.open(io.BytesIO(data)) as img:
        # Drafted: a 200 MP original is previewed from a reduced decode (a HEIC's own thumbnail).
        img.draft("RGB", (box, box))
        thumb = img.convert("RGB")
        thumb.thumbnail((box, box))
        out = io.BytesIO()
        thumb.save(out, format="JPEG", quality=80)
        return out.getvalue(), thumb.width, thumb.height


def telegram_compress(data: bytes, max_side: int = 2560) -> tuple[bytes, int, int]:
    """What Telegram does to a photo sent as 'photo': upright, at most 2560 px, re-encoded JPEG
    without EXIF (so no camera time or GPS survives, unlike a photo sent as a file)."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        upright = ImageOps.exif_transpose(img) or img
        out_img = upright.convert("RGB")
        out_img.thumbnail((max_side, max_side))
        out = io.BytesIO()
        out_img.save(out, format="JPEG", quality=87)
        return out.getvalue(), out_img.width, out_img.height


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0

    def _store(self, kind: str, data: bytes, ext: str) -> StoredFile:
        self._counter += 1
        n = self._counter
        stored = StoredFile(
            file_id=f"{_ID_PREFIX[kind]}{n:05d}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{n:05d}{secrets.token_urlsafe(6)}",
            kind=kind,
            data=data,
            file_path=f"{_PATH_DIR[kind]}/file_{n}{ext}",
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _size_entry(stored: StoredFile, width: int, height: int) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "width": width,
            "height": height,
        }

    def add_photo(self, data: bytes) -> list[dict[str, Any]] | None:
        """Store a photo like Telegram does: small JPEG previews first, the full image last.

        Returns None when the bytes are not an image (the caller decides whether that is an error).
        """
        dims = image_size(data)
        if dims is None:
            return None
        try:
            full, full_w, full_h = telegram_compress(data)
        except (OSError, ValueError):  # truncated or odd files: the client would not send them
            return None
        sizes: list[tuple[StoredFile, int, int]] = []
        for box in _PHOTO_BOXES:
            thumb, width, height = _jpeg_thumbnail(full, box)
            sizes.append((self._store("photo", thumb, ".jpg"), width, height))
        sizes.append((self._store("photo", full, ".jpg"), full_w, full_h))
        photo = [self._size_entry(stored, w, h) for stored, w, h in sizes]
        for stored, _, _ in sizes:
            stored.media = photo
        return photo

    def add_opaque_photo(self, data: bytes) -> list[dict[str, Any]]:
        """A photo whose bytes Pillow cannot read: lets tests feed corrupt camera-trap uploads."""
        logger.warning("emulated photo of %d bytes is not a readable image; sizes unknown", len(data))
        stored = self._store("photo", data, ".jpg")
        stored.media = [self._size_entry(stored, 0, 0)]
        return stored.media

    def add_document(self, data: bytes, file_name: str, mime_type: str | None) -> dict[str, Any]:
        if not mime_type or mime_type == "application/octet-stream":
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        ext = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
        stored = self._store("document", data, ext)
        document: dict[str, Any] = {
            "file_name": file_name,
            "mime_type": mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
        }
        # Telegram attaches a preview to image documents; bots sometimes mistake it for the original.
        if image_size(data) is not None:
            try:
                thumb, width, height = _jpeg_thumbnail(data, 320)
            except (OSError, ValueError):  # a damaged original: Telegram just shows no preview
                thumb = b""
            if thumb:
                thumb_file = self._store("thumbnail", thumb, ".jpg")
                thumb_file.media = self._size_entry(thumb_file, width, height)
                document["thumbnail"] = thumb_file.media
        stored.media = document
        return document

    def add_video(
        self,
        data: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        file_size: int | None = None,
        props: tuple[int, int, int] | None = None,
    ) -> dict[str, Any]:
        """A Video, VideoNote or Animation object (kind) for the bytes, as they are: Telegram re-encodes
        what clients send, the emulator does not. `props` (width, height, seconds) overrides the probe."""
        probed = video_props(data)
        width, height, seconds = props or (probed[:3] if probed else (0, 0, 0))
        stored = self._store(kind, data, ".mp4")
        stored.declared_size = file_size
        media: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if kind == "video_note":  # round, so one side: Telegram crops them square
            media.update(length=min(width, height), duration=seconds)
        else:
            media.update(width=width, height=height, duration=seconds)
            if file_name:
                media["file_name"] = file_name
            media["mime_type"] = mime_type or "video/mp4"
        media["file_size"] = stored.size
        stored.media = media
        return media

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)

    def file_object(self, stored: StoredFile) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }
