"""How a sighting's time is told to people: 'Taken 07:42, camera clock' only when a camera said so.

One wording for alerts, /sighting (the same view), /compare and the ranger's receipt, so that nowhere
does a receipt time read as a shot time (bot.media.capture_time says which is which).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime, tzinfo

from bot.media.capture_time import CaptureTime, TimeSource
from bot.text import t

__all__ = ["by_receipt_note", "clock_warning", "time_line"]


def _local(dt: datetime | None, zone: tzinfo) -> str:
    return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M") if dt else "?"


def time_line(lang: str, when: CaptureTime | None, received_at: datetime | None, zone: tzinfo) -> str:
    """The 🕒 line: the time, in `zone`, and what it is (HTML-escaped)."""
    z = html.escape(str(zone))
    if when is None:
        return t(lang, "alert.taken", time="?", zone=z)
    shown = _local(when.taken_at, zone)
    if when.clock_issue is not None:
        return t(lang, "time.clock_wrong", time=shown, received=_local(received_at, zone), zone=z)
    match when.source:
        case TimeSource.EXIF_ORIGINAL | TimeSource.EXIF_DIGITIZED | TimeSource.MAKER_NOTE:
            return t(lang, "time.camera", time=shown, zone=z)
        case TimeSource.VIDEO_METADATA:
            return t(lang, "time.video", time=shown, zone=z)
        case TimeSource.FORWARD_DATE:
            return t(lang, "time.forwarded", time=shown, zone=z)
        case TimeSource.TELEGRAM_RECEIPT:
            return t(lang, "time.received", time=shown, zone=z)
        case TimeSource.IMPORT_FILE_TIME:
            return t(lang, "time.file", time=shown, zone=z)
        case TimeSource.MAIL_RECEIVED:
            return t(lang, "time.mailed", time=shown, zone=z)
        case TimeSource.MAIL_DATE:  # the camera's clock said when it sent: its own Date header
            return t(lang, "time.mailed_date", time=shown, zone=z)
    # Recorded before the source was kept: the old wording, which claimed no more than it knew.
    return t(lang, "alert.taken", time=shown, zone=z)


def by_receipt_note(lang: str, ids: Iterable[int]) -> str | None:
    """The caveat under movement lines that use a time of arrival as if it were the shot time."""
    shown = sorted(set(ids))
    if not shown:
        return None
    return t(lang, "move.by_receipt", ids=", ".join(f"#{i}" for i in shown))


def clock_warning(lang: str, when: CaptureTime | None, zone: tzinfo) -> str | None:
    """For the ranger's receipt: a camera whose clock looks wrong needs setting at the next visit."""
    if when is None or when.clock_issue is None:
        return None
    return t(lang, "receipt.clock_wrong", time=_local(when.taken_at, zone))


def local_time(dt: datetime | None, zone: tzinfo) -> str:
    """A stored UTC time as the reader's clock shows it, to the minute ("?" when there is none)."""
    return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M") if dt else "?"
