"""What a ranger hands in (a photo and who sent it) and gets back (a receipt), and why it can fail.

Kept apart from bot/intake/sightings.py, which does the recording, so the handlers and the SD-card importer
can share these plain values without the recording machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.detection import Detection
from bot.geo import Point
from bot.media import CaptureTime, MailTimes, Row, of_row
from storage.errors import StorageUnavailable

__all__ = [
    "ForwardOrigin",
    "PhotoIntake",
    "Ranger",
    "Receipt",
    "SightingError",
    "StorageUnavailable",
    "receipt_of_row",
    "same_message",
]


@dataclass(frozen=True)
class Ranger:
    user_id: int
    name: str = ""
    username: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class ForwardOrigin:
    """Where a forwarded message came from (Bot API MessageOrigin): `kind` is the origin's type (user,
    hidden_user, chat, channel), `date` when the original was sent (aware UTC), `name` the name or title
    it showed (free text, cleaned), `from_id` the user's or chat's id when Telegram gives one."""

    kind: str
    date: datetime
    name: str | None = None
    from_id: int | None = None


@dataclass
class PhotoIntake:
    data: bytes
    ranger: Ranger
    received_at: datetime
    chat_id: int | None = None
    message_id: int | None = None
    caption: str | None = None
    media_group_id: str | None = None
    is_document: bool = False
    forwarded_at: datetime | None = None
    source: str = "telegram"
    station_code: str | None = None  # set by SD-card import
    zone: ZoneInfo | None = None
    file_time: datetime | None = None  # SD-card import: the file's modification time, for clockless photos
    # Cellular camera e-mail (bot/cameras/mail/): the camera's own GPS fix beats its station's surveyed point,
    # and mail from a sender nobody vouched for is recorded and detected but never alerted.
    gps_first: bool = False
    may_alert: bool = True
    # False: the file's own GPS fix is kept (exif_lat/exif_lon) but places nothing; a camera's fix that
    # failed bot.cameras.health.doubtful_fix (outside LW_REGION, or impossibly far from its station).
    use_gps: bool = True
    # Camera e-mail again: when its message travelled, which dates a photo or clip with no shot time.
    mailed: MailTimes | None = None
    # Issue 22: a forward's origin (bot/intake/forwards.py), the file's Telegram file_unique_id (an edit
    # with another one swapped the file), and the sighting a swapped-in file replaces.
    origin: ForwardOrigin | None = None
    file_unique_id: str | None = None
    replaces_id: int | None = None


@dataclass
class Receipt:
    sighting_id: int
    duplicate: bool = False
    detection: Detection | None = None
    location_source: str | None = None
    point: Point | None = None
    station: str | None = None
    taken_at: datetime | None = None
    time: CaptureTime | None = None  # taken_at with its source and any clock trouble
    event_id: int | None = None
    new_alert: bool = False
    notes: list[str] = field(default_factory=list)
    already_asked: bool = False  # an earlier photo of this ranger is already waiting for a place
    # From a video (bot/intake/videos.py): how it came, where in the clip the best frame is, frames seen.
    media: str = "photo"
    frame_seconds: float | None = None
    frames: int = 0
    # Issue 22: a forward's origin, whether it is only reported (from outside the team), the one it replaced.
    forward: ForwardOrigin | None = None
    reported: bool = False
    replaces_id: int | None = None

    @property
    def awaiting_location(self) -> bool:
        return self.point is None


class SightingError(ValueError):
    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def same_message(row: Row, intake: PhotoIntake) -> bool:
    """Did this very message make the sighting `row` (the inbox replays what a crash interrupted)?"""
    return intake.chat_id is not None and (row["chat_id"], row["message_id"]) == (
        intake.chat_id,
        intake.message_id,
    )


def receipt_of_row(row: Row, detection: Detection) -> Receipt:
    """The receipt of a sighting already recorded, rebuilt from its row."""
    point = Point(row["lat"], row["lon"]) if row["lat"] is not None else None
    time = of_row(row)
    return Receipt(
        row["id"],
        detection=detection,
        location_source=row["location_source"],
        point=point,
        station=row["station_code"],
        taken_at=time.taken_at if time else None,
        time=time,
        event_id=row["event_id"],
    )
