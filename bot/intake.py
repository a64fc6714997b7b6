"""What a ranger hands in (a photo and who sent it) and gets back (a receipt), and why it can fail.

Kept apart from bot/sightings.py, which does the recording, so the handlers and the SD-card importer
can share these plain values without the recording machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.detector import Detection
from bot.geo import Point
from storage.errors import StorageUnavailable

__all__ = ["PhotoIntake", "Ranger", "Receipt", "SightingError", "StorageUnavailable"]


@dataclass(frozen=True)
class Ranger:
    user_id: int
    name: str = ""
    username: str | None = None
    language: str | None = None


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


@dataclass
class Receipt:
    sighting_id: int
    duplicate: bool = False
    detection: Detection | None = None
    location_source: str | None = None
    point: Point | None = None
    station: str | None = None
    taken_at: datetime | None = None
    event_id: int | None = None
    new_alert: bool = False
    notes: list[str] = field(default_factory=list)
    already_asked: bool = False  # an earlier photo of this ranger is already waiting for a place

    @property
    def awaiting_location(self) -> bool:
        return self.point is None


class SightingError(ValueError):
    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
