"""When a photo was taken, where that time came from, and whether the camera's clock can be believed.

A sighting's time feeds the alert's "Taken" line, burst grouping and the km/day "same animal?" speed,
so each sighting records its time's source (sightings.time_source) and any clock trouble
(sightings.clock_issue, migration 0008). Only a camera's clock says when the shutter fired: EXIF
DateTimeOriginal or DateTimeDigitized, a maker note (bot/media/makernotes.py) or a video's own metadata.
A Telegram receipt, a forward's date, a file's modification time or a camera e-mail's travel time is
when the photo travelled, which can be hours or days later (no signal in the field), and is shown and
used only as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Any, Protocol

from bot.media.exif import PhotoMeta
from storage.db import parse_iso

__all__ = [
    "CAMERA_SOURCES",
    "RECEIPT_SOURCES",
    "CaptureTime",
    "ClockIssue",
    "MailTimes",
    "Row",
    "TimeSource",
    "capture_time",
    "clock_issue",
    "from_camera",
    "from_mail",
    "of_row",
    "sql_list",
]


class Row(Protocol):
    """A database row or dict: sqlite3.Row is no Mapping to the type checker, but reads the same."""

    def __getitem__(self, key: str, /) -> Any: ...


class TimeSource(StrEnum):
    EXIF_ORIGINAL = "exif_original"
    EXIF_DIGITIZED = "exif_digitized"
    MAKER_NOTE = "maker_note"
    VIDEO_METADATA = "video_metadata"
    FORWARD_DATE = "forward_date"  # when the forwarded message was first sent: a receipt time too
    TELEGRAM_RECEIPT = "telegram_receipt"
    IMPORT_FILE_TIME = "import_file_time"  # the file's modification time, else the import's own time
    # A cellular camera's e-mail (bot/cameras/mail/), for a photo whose camera wrote no shot time.
    # Cameras mail each photo within a minute or so of the shot, but a camera out of signal sends its
    # backlog later: these are travel times, never shutter times.
    MAIL_RECEIVED = "mail_received"  # the receiving mail server's stamp (topmost Received:), its clock
    MAIL_DATE = "mail_date"  # the message's Date: header, written by the camera's own clock
    UNKNOWN = "unknown"  # recorded before migration 0008, which could not tell EXIF from forward dates


# A camera's clock. UNKNOWN is counted with them: those rows were used as capture times before the
# source was recorded, and treating years of records as receipts would hide every earlier move.
CAMERA_SOURCES = frozenset(
    {
        TimeSource.EXIF_ORIGINAL,
        TimeSource.EXIF_DIGITIZED,
        TimeSource.MAKER_NOTE,
        TimeSource.VIDEO_METADATA,
        TimeSource.UNKNOWN,
    }
)
RECEIPT_SOURCES = frozenset(set(TimeSource) - CAMERA_SOURCES)


class ClockIssue(StrEnum):
    RESET = "reset"  # a date cameras fall back to when the battery runs out or the clock was never set
    BEFORE_2005 = "before_2005"  # older than any camera trap in this project: an unset clock counting up
    FUTURE = "future"  # more than a day after the photo reached us


EARLIEST = date(2005, 1, 1)
# Days that unset clocks start from: the Unix and FAT/DOS epochs and the firmware defaults seen on trail
# cameras. All are before 2005, so they are flagged either way; the name just says more.
RESET_DAYS = frozenset({date(1970, 1, 1), date(1980, 1, 1), date(2000, 1, 1), date(2001, 1, 1)})
# Clocks a few hours fast (a zone set wrong, summer time) are common and harmless for a day's slack.
FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class MailTimes:
    """When a camera's e-mail says it travelled (bot/cameras/mail/parse.py), aware UTC, None when absent or
    unreadable: the receiving server's Received stamp and the Date header the camera wrote."""

    server: datetime | None = None
    sent: datetime | None = None


@dataclass(frozen=True)
class CaptureTime:
    taken_at: datetime  # UTC: the camera's time when there is one, else the receipt or file time
    source: TimeSource
    clock_issue: ClockIssue | None = None

    @property
    def is_capture(self) -> bool:
        """Is taken_at when the shutter fired (by the camera's clock), rather than when it travelled?"""
        return self.source in CAMERA_SOURCES

    @property
    def for_movement(self) -> bool:
        """May speeds be worked out from it? A wrong clock: never. A receipt time: only with a caveat
        saying so (callers check is_capture)."""
        return self.clock_issue is None


def clock_issue(camera_day: date, taken_at: datetime, received_at: datetime) -> ClockIssue | None:
    """What is wrong with a clock that says `camera_day` (its own local date) and, in UTC, `taken_at`."""
    if camera_day in RESET_DAYS:
        return ClockIssue.RESET
    if camera_day < EARLIEST:
        return ClockIssue.BEFORE_2005
    if taken_at > received_at + FUTURE_SLACK:
        return ClockIssue.FUTURE
    return None


def from_camera(
    local: datetime,
    offset: timedelta | None,
    zone: tzinfo,
    source: TimeSource,
    received_at: datetime,
) -> CaptureTime:
    """A camera clock reading as a CaptureTime, checked for sanity. `local` is naive camera time (read
    with `offset` if the camera wrote one, else in `zone`, the station's or group's), or already aware
    (video containers store UTC). The video intake calls this with TimeSource.VIDEO_METADATA."""
    if local.tzinfo is None:
        tz = timezone(offset) if offset is not None else zone
        aware = local.replace(tzinfo=tz)
    else:
        aware = local
    taken = aware.astimezone(UTC)
    return CaptureTime(taken, source, clock_issue(aware.date(), taken, received_at))


def from_mail(mailed: MailTimes, received_at: datetime) -> CaptureTime | None:
    """The time a camera e-mail gives, None when it gives none worth more than the fetch time.

    The server's stamp first: the mailbox's own clock, right even when the bot could not fetch for
    days. Then the camera's Date header. Either is checked like a camera clock, and one that looks
    wrong (a reset or unset clock, a stamp after the fetch) is dropped rather than kept and flagged as
    a shot time is: a shot time has nothing better to replace it, while the fetch time is a true bound
    and a Date in 2000 or next year is no time at all."""
    for stamp, source in ((mailed.server, TimeSource.MAIL_RECEIVED), (mailed.sent, TimeSource.MAIL_DATE)):
        if stamp is not None and clock_issue(stamp.date(), stamp, received_at) is None:
            return CaptureTime(stamp.astimezone(UTC), source)
    return None


def capture_time(
    meta: PhotoMeta | None,
    *,
    received_at: datetime,
    zone: tzinfo,
    forwarded_at: datetime | None = None,
    file_time: datetime | None = None,
    imported: bool = False,
    mailed: MailTimes | None = None,
) -> CaptureTime:
    """The best time a photo has: its camera's clock, else (camera e-mail) when its message travelled,
    else a forward's date, else (SD-card import) the file's time, else when it reached the bot."""
    if meta is not None and meta.taken_local is not None:
        # A PhotoMeta built by hand (not by read_meta) may not say which tag: it held a shot time.
        source = TimeSource(meta.taken_from or TimeSource.EXIF_ORIGINAL)
        return from_camera(meta.taken_local, meta.offset, zone, source, received_at)
    if mailed is not None and (by_mail := from_mail(mailed, received_at)) is not None:
        return by_mail
    if forwarded_at is not None:
        return CaptureTime(forwarded_at.astimezone(UTC), TimeSource.FORWARD_DATE)
    if imported or file_time is not None:
        # A camera without a clock writes FAT's 1980-01-01 as the file time: checked like a clock.
        when = (file_time or received_at).astimezone(UTC)
        return CaptureTime(when, TimeSource.IMPORT_FILE_TIME, clock_issue(when.date(), when, received_at))
    return CaptureTime(received_at.astimezone(UTC), TimeSource.TELEGRAM_RECEIPT)


def of_row(row: Row) -> CaptureTime | None:
    """The CaptureTime of a sightings row (taken_at, time_source, clock_issue), None without a time."""
    taken = parse_iso(row["taken_at"])
    if taken is None:
        return None
    try:
        source = TimeSource(row["time_source"] or TimeSource.UNKNOWN)
    except ValueError:  # a value from a newer version of the bot: say nothing it does not know
        source = TimeSource.UNKNOWN
    issue = row["clock_issue"]
    return CaptureTime(taken, source, ClockIssue(issue) if issue in set(ClockIssue) else None)


def sql_list(values: frozenset[TimeSource]) -> str:
    """An SQL IN list of time sources, e.g. for "time_source IN (...)"; the values are our own constants."""
    return "(" + ", ".join(f"'{v.value}'" for v in sorted(values)) + ")"
