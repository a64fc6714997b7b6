"""Photo files as cameras and rangers make them (EXIF times and GPS, Reconyx maker notes, real camera
files), sending one as a document, and reading a number off the SD-card import's printed table."""

from __future__ import annotations

import io
import struct
from datetime import datetime
from typing import Any

from PIL import ExifTags, Image

from tests.conftest import Team
from tests.support.paths import DATA, SHARED

CAMERA_FILES = DATA / "camera-files"
SHARED_FILES = SHARED / "samples" / "camera-files"
HC500, HC600 = CAMERA_FILES / "reconyx_hc500_hyperfire.jpg", CAMERA_FILES / "reconyx_hc600_IMG_0164.jpg"


def exif_jpeg(base: bytes, *, taken: str | None = None, gps: tuple[float, float] | None = None) -> bytes:
    """A camera original: the sample re-saved with DateTimeOriginal and GPS written by Pillow."""
    image = Image.open(io.BytesIO(base)).convert("RGB")
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken  # DateTimeOriginal, camera local time
    if gps:
        lat, lon = gps

        def dms(value: float) -> tuple[float, float, float]:
            d = int(abs(value))
            m = int((abs(value) - d) * 60)
            return (float(d), float(m), round((abs(value) - d - m / 60) * 3600, 4))

        exif.get_ifd(0x8825).update(
            {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}
        )
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=92)
    return out.getvalue()


def hyperfire_note(when: datetime) -> bytes:
    """The HC500's own maker note with its date words (bytes 22-33) set to `when`."""
    note = bytearray(Image.open(HC500).getexif().get_ifd(0x8769)[0x927C])
    note[22:34] = struct.pack("<6H", when.second, when.minute, when.hour, when.month, when.day, when.year)
    return bytes(note)


def with_exif(base: bytes, *, note: bytes | None = None, **tags: str) -> bytes:
    """`base` re-saved with a maker note and EXIF date tags (DateTimeOriginal=..., DateTime=...)."""
    image = Image.open(io.BytesIO(base)).convert("RGB")
    exif = Image.Exif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    if note is not None:
        sub[0x927C] = note
    for name, value in tags.items():
        (exif if name == "DateTime" else sub)[getattr(ExifTags.Base, name)] = value
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


async def send_doc(
    team: Team, data: bytes, name: str, mime: str, caption: str | None = None
) -> dict[str, Any]:
    """The ranger sends a file as a document; the bot's next message to them."""
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_document(team.ranger, data, name, mime, caption=caption)
    return (await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30))[-1]


def value(table: str, name: str) -> int:
    """The number on the line of the import's printed table that starts with `name`."""
    line = next(line for line in table.splitlines() if line.startswith(name))
    return int(line.rsplit(maxsplit=1)[-1])
