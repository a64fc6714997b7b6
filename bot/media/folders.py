"""Finding image and video files in folders (camera-trap SD cards hold thousands, in nested DCIM
folders), and naming every other file so an import can say what it left out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".tif", ".tiff", ".webp"}
# Camera traps in video or hybrid mode write these; PyAV reads them all (bot/media/video.py).
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".m4v", ".3gp", ".mkv", ".wmv", ".mts", ".m2ts", ".mpg", ".mpeg"}
VIDEO, HIDDEN = "video", "hidden"


@dataclass(frozen=True)
class Skipped:
    path: Path
    kind: str  # HIDDEN (dot files: .DS_Store, macOS "._" twins) or the suffix (".txt", "")


@dataclass
class FolderScan:
    images: list[Path] = field(default_factory=list)
    videos: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def kind_of(path: Path) -> str | None:
    """None for an image, VIDEO for a video (both imported); otherwise why it is left out."""
    if path.name.startswith("."):
        return HIDDEN
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return None
    return VIDEO if suffix in VIDEO_SUFFIXES else suffix


def scan(paths: Sequence[Path]) -> FolderScan:
    """Files as given are images; folders are searched, in a stable (sorted) order."""
    result = FolderScan()
    for path in paths:
        if not path.is_dir():
            result.images.append(path)
            continue
        for p in sorted(p for p in path.rglob("*") if p.is_file()):
            kind = kind_of(p)
            if kind is None:
                result.images.append(p)
            elif kind == VIDEO:
                result.videos.append(p)
            else:
                result.skipped.append(Skipped(p, kind))
    return result


def iter_images(paths: Sequence[Path]) -> Iterator[Path]:
    """Files as given, and image files under folders, in a stable (sorted) order."""
    yield from scan(paths).images
