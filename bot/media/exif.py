"""Photo metadata: when, where and with what camera a picture was taken, according to its EXIF."""

from __future__ import annotations

import io
import math
import numbers
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pillow_heif
from PIL import ExifTags, Image, UnidentifiedImageError

from bot.geo import CoordinateError, Point

# One exception type for "not a usable image" across intake, detector and metadata, so callers
# catch it once; it carries a ``reason`` code (empty, not_image, too_large, corrupt).
from bot.media.images import UnreadableImage
from bot.media.makernotes import maker_note_time

__all__ = ["DEFAULT_ZONE", "PhotoMeta", "UnreadableImage", "read_meta", "taken_utc"]

# iPhones send HEIC originals as documents; Pillow cannot open them without this plugin.
pillow_heif.register_heif_opener()

try:
    DEFAULT_ZONE: tzinfo = ZoneInfo("Asia/Aqtau")
except ZoneInfoNotFoundError:  # pragma: no cover - slim containers without tzdata
    # Mangystau has kept UTC+5 without daylight saving since 2005, so a fixed offset is exact.
    DEFAULT_ZONE = timezone(timedelta(hours=5), "Asia/Aqtau")


@dataclass(frozen=True)
class PhotoMeta:
    """What the file says about itself. Every field is optional because Telegram, editors and cheap
    camera traps strip or garble EXIF; width and height are as displayed, after EXIF rotation."""

    taken_local: datetime | None  # naive camera clock time
    offset: timedelta | None  # UTC offset the camera recorded for taken_local, if any
    gps: Point | None
    width: int
    height: int
    make: str | None
    model: str | None
    # Where taken_local came from, as a bot.media.capture_time.TimeSource value: "exif_original",
    # "maker_note" or "exif_digitized"; None when the file names no shot time.
    taken_from: str | None = None


_B = ExifTags.Base
_MAKER_NOTE = 0x927C
_DATE_RE = re.compile(r"([0-9]{4})[:\-/.]([0-9]{2})[:\-/.]([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})")
_OFFSET_RE = re.compile(r"([+-])([0-9]{2}):([0-9]{2})")
_ROTATED = (5, 6, 7, 8)  # orientations that swap width and height; a tuple, as odd EXIF may be unhashable


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _date(value: Any) -> datetime | None:
    text = _text(value)
    m = _DATE_RE.match(text) if text else None
    if m is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(g) for g in m.groups())
        return datetime(year, month, day, hour, minute, second)
    except ValueError:  # "0000:00:00 00:00:00" and other placeholders of unset camera clocks
        return None


def _offset(value: Any) -> timedelta | None:
    text = _text(value)
    m = _OFFSET_RE.fullmatch(text) if text else None
    if m is None:
        return None
    hours, minutes = int(m[2]), int(m[3])
    if hours > 14 or minutes >= 60:  # real zones span -12:00..+14:00
        return None
    return (-1 if m[1] == "-" else 1) * timedelta(hours=hours, minutes=minutes)


def _rational(value: Any) -> float | None:
    if isinstance(value, tuple) and len(value) == 2:  # (numerator, denominator) from older writers
        num, den = value
    elif isinstance(value, numbers.Rational):  # Pillow's IFDRational, int
        num, den = value.numerator, value.denominator
    elif isinstance(value, numbers.Real):
        num, den = value, 1
    else:
        return None
    if not isinstance(num, numbers.Real) or not isinstance(den, numbers.Real) or den == 0:
        return None  # 0/0 is what many cameras write when they have no fix
    result = float(num) / float(den)
    return result if math.isfinite(result) and result >= 0 else None


def _degrees(value: Any) -> float | None:
    if isinstance(value, (tuple, list)) and 1 <= len(value) <= 3:
        parts = [_rational(v) for v in value]
    else:
        parts = [_rational(value)]
    known = [p for p in parts if p is not None]
    if len(known) != len(parts):
        return None
    deg, minutes, seconds = [*known, 0.0, 0.0][:3]
    if minutes >= 60 or seconds >= 60:
        return None
    return deg + minutes / 60 + seconds / 3600


def _gps(gps: Mapping[int, Any]) -> Point | None:
    G = ExifTags.GPS
    if (_text(gps.get(G.GPSStatus)) or "A").upper() == "V":  # "void": the receiver had no valid fix
        return None
    lat_ref = (_text(gps.get(G.GPSLatitudeRef)) or "").upper()[:1]
    lon_ref = (_text(gps.get(G.GPSLongitudeRef)) or "").upper()[:1]
    lat, lon = _degrees(gps.get(G.GPSLatitude)), _degrees(gps.get(G.GPSLongitude))
    # Without the refs the sign is a guess, and a wrong guess puts a leopard on another continent.
    if lat_ref not in ("N", "S") or lon_ref not in ("E", "W") or lat is None or lon is None:
        return None
    if lat == 0 and lon == 0:  # "null island": a placeholder, never a real Mangystau fix
        return None
    try:
        return Point(-lat if lat_ref == "S" else lat, -lon if lon_ref == "W" else lon)
    except CoordinateError:
        return None


def _ifd(exif: Image.Exif, which: ExifTags.IFD) -> dict[int, Any]:
    try:
        return dict(exif.get_ifd(which))
    except Exception:  # a corrupt sub-IFD must not cost us the rest of the metadata
        return {}


def read_meta(data: bytes) -> PhotoMeta:
    """Read EXIF from JPEG, PNG, HEIC (or anything else Pillow opens) without decoding pixels.

    Raises UnreadableImage only when Pillow cannot open the file at all; damaged or implausible
    metadata just comes back as None fields.
    """
    if not data:
        raise UnreadableImage("empty file", reason="empty")
    try:
        with warnings.catch_warnings():  # as bot.media.images does: a claimed size over the limit is refused
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnreadableImage(f"image too large: {exc}", reason="too_large") from exc
    except UnidentifiedImageError as exc:
        raise UnreadableImage("not an image", reason="not_image") from exc
    except Exception as exc:  # plugins raise assorted types (SyntaxError, struct.error...) on bad headers
        raise UnreadableImage(f"corrupt image: {exc}", reason="corrupt") from exc
    with image:
        width, height = image.size
        try:
            exif = image.getexif()
            base: dict[int, Any] = dict(exif)
        except Exception:  # garbage in the EXIF block: keep the image, drop the metadata
            exif, base = Image.Exif(), {}
        sub = _ifd(exif, ExifTags.IFD.Exif)
        gps = _gps(_ifd(exif, ExifTags.IFD.GPSInfo))

    def tag(t: int) -> Any:
        # Some writers put Exif-IFD tags in IFD0; prefer the proper place.
        return sub.get(t, base.get(t))

    make = _text(base.get(_B.Make))
    # Shot times, best first: DateTimeOriginal is the shutter press; a camera that keeps the time only
    # in its maker note (Reconyx) comes next; DateTimeDigitized is when the camera wrote the file, seconds
    # later (exiftool's CreateDate). DateTime is not a shot time at all: it is the file's last change
    # (exiftool's ModifyDate), which an editor, a phone gallery or a re-save rewrites. SubSecTime* is
    # ignored; a second is far finer than we need.
    taken, offset, taken_from = None, None, None
    for found in (
        lambda: (_date(tag(_B.DateTimeOriginal)), _offset(tag(_B.OffsetTimeOriginal)), "exif_original"),
        lambda: (maker_note_time(sub.get(_MAKER_NOTE), make), None, "maker_note"),
        lambda: (_date(tag(_B.DateTimeDigitized)), _offset(tag(_B.OffsetTimeDigitized)), "exif_digitized"),
    ):
        taken, offset, taken_from = found()
        if taken is not None:
            break
    if base.get(_B.Orientation) in _ROTATED:
        width, height = height, width
    return PhotoMeta(
        taken_local=taken,
        offset=offset,
        gps=gps,
        width=width,
        height=height,
        make=make,
        model=_text(base.get(_B.Model)),
        taken_from=taken_from if taken is not None else None,
    )


def taken_utc(meta: PhotoMeta, zone: tzinfo = DEFAULT_ZONE) -> datetime | None:
    """Shutter time in UTC: the EXIF offset when the camera wrote one, otherwise the camera clock read
    in ``zone`` (the station's or group's zone; camera traps are set to local time, not UTC)."""
    if meta.taken_local is None:
        return None
    tz = timezone(meta.offset) if meta.offset is not None else zone
    return meta.taken_local.replace(tzinfo=tz).astimezone(UTC)
