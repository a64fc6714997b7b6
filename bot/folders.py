"""Finding image files in folders (camera-trap SD cards hold thousands, in nested DCIM folders)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".tif", ".tiff", ".webp"}


def iter_images(paths: Sequence[Path]) -> Iterator[Path]:
    """Files as given, and image files under folders, in a stable (sorted) order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
            )
        else:
            yield path
