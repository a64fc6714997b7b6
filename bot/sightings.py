"""Recording sightings: photo in -> stored file -> detection -> sighting row (+ alert outbox), atomically."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.alerts import enqueue_for_event, find_burst_event
from bot.coordinates import parse_coordinates
from bot.detector import Detection, Detector
from bot.exif import PhotoMeta, read_meta, taken_utc
from bot.geo import CoordinateError, Point
from bot.images import UnreadableImage
from bot.stations import Station, Stations, codes_in
from storage.db import Database, iso, parse_iso, utcnow
from storage.photos import PhotoStore

log = logging.getLogger(__name__)

# Where a sighting's place came from, most trustworthy first: a surveyed station, the camera's own
# GPS fix at the moment of capture, coordinates the ranger typed for this photo, then a pin, which
# says where the phone is when sending rather than where the photo was taken.
LOCATION_RANK = ("station", "exif", "text", "venue", "pin", "live")


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


@dataclass(frozen=True)
class Place:
    point: Point
    source: str
    station: Station | None = None


class Sightings:
    def __init__(
        self,
        db: Database,
        photos: PhotoStore,
        detector: Detector,
        stations: Stations,
        executor: Executor,
        *,
        zone: ZoneInfo,
        pairing: timedelta = timedelta(minutes=10),
        burst: timedelta = timedelta(minutes=10),
        burst_radius_m: float = 500.0,
    ) -> None:
        self.db = db
        self.photos = photos
        self.detector = detector
        self.stations = stations
        self.executor = executor
        self.zone = zone
        self.pairing = pairing
        self.burst = burst
        self.burst_radius_m = burst_radius_m

    async def record_photo(self, intake: PhotoIntake) -> Receipt:
        """Store and analyse one photo. Raises SightingError for input that is not a usable photo."""
        loop = asyncio.get_running_loop()
        try:
            # Not on the detector's workers: EXIF parsing can overlap another photo's inference.
            meta: PhotoMeta = await asyncio.to_thread(read_meta, intake.data)
        except UnreadableImage as exc:
            raise SightingError(str(exc), getattr(exc, "reason", "corrupt")) from exc
        stored = await asyncio.to_thread(self.photos.put, intake.data)
        existing = await self._recorded(stored.sha256)
        if existing:
            return existing
        try:
            detection = await loop.run_in_executor(self.executor, self.detector.detect, intake.data)
        except UnreadableImage as exc:
            raise SightingError(str(exc), getattr(exc, "reason", "corrupt")) from exc
        place, notes = await self._place(intake, meta)
        taken_at = self._taken_at(intake, meta)
        waiting = await self._waiting_for_place(intake.ranger.user_id, intake.received_at)
        try:
            receipt = await self._insert(intake, stored.sha256, meta, detection, place, taken_at, notes)
        except sqlite3.IntegrityError:
            # The same file arrived twice at once and the other copy was stored first.
            existing = await self._recorded(stored.sha256)
            if existing is None:
                raise
            return existing
        receipt.already_asked = waiting > 0
        return receipt

    async def _recorded(self, sha256: str) -> Receipt | None:
        """A 'duplicate' receipt when this file is already a sighting."""
        row = await self.db.fetchone("SELECT id, event_id FROM sightings WHERE photo_sha256 = ?", (sha256,))
        return Receipt(row["id"], duplicate=True, event_id=row["event_id"]) if row else None

    async def _waiting_for_place(self, user_id: int, at: datetime) -> int:
        return int(
            await self.db.scalar(
                "SELECT COUNT(*) FROM sightings WHERE ranger_id = ? AND lat IS NULL AND received_at >= ?",
                (user_id, iso(at - self.pairing)),
            )
        )

    def _taken_at(self, intake: PhotoIntake, meta: PhotoMeta) -> datetime:
        zone = intake.zone or self.zone
        exif_time = taken_utc(meta, zone)
        # Telegram strips EXIF from compressed photos; a forward keeps the original send date.
        return exif_time or intake.forwarded_at or intake.received_at

    async def _place(self, intake: PhotoIntake, meta: PhotoMeta) -> tuple[Place | None, list[str]]:
        notes: list[str] = []
        candidates: list[Place] = []
        station = None
        if intake.station_code:
            station = await self.stations.get(intake.station_code)
            if station is None:
                raise SightingError(f"unknown station {intake.station_code}", "unknown_station")
        if station is None:
            station = await self.stations.find_in_text(intake.caption)
            unknown = [c for c in codes_in(intake.caption) if station is None]
            notes.extend(f"unknown_station:{code}" for code in unknown[:1])
        if station:
            candidates.append(Place(station.point, "station", station))
        if meta.gps:
            candidates.append(Place(meta.gps, "exif"))
        try:
            typed = parse_coordinates(intake.caption or "")
        except CoordinateError as exc:
            notes.append(f"bad_coordinates:{exc}")
            typed = None
        if typed:
            candidates.append(Place(typed, "text"))
        recent = await self._recent_location(intake.ranger.user_id, intake.received_at)
        if recent:
            candidates.append(recent)
        if not candidates:
            return None, notes
        candidates.sort(key=lambda p: LOCATION_RANK.index(p.source))
        return candidates[0], notes

    async def _recent_location(self, user_id: int, at: datetime) -> Place | None:
        row = await self.db.fetchone("SELECT * FROM ranger_locations WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        when = parse_iso(row["at"])
        if when is None or abs(at - when) > self.pairing:
            return None
        station = await self.stations.get(row["station_code"]) if row["station_code"] else None
        return Place(Point(row["lat"], row["lon"]), row["source"], station)

    async def _insert(
        self,
        intake: PhotoIntake,
        sha: str,
        meta: PhotoMeta,
        det: Detection,
        place: Place | None,
        taken_at: datetime,
        notes: list[str],
    ) -> Receipt:
        r = intake.ranger
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO photos (sha256, path, size, width, height, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    sha,
                    str(self.photos.path_for(sha)),
                    len(intake.data),
                    meta.width,
                    meta.height,
                    iso(utcnow()),
                ),
            )
            await conn.execute(
                "INSERT INTO rangers (user_id, name, username, language, created_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, username = excluded.username",
                (r.user_id, r.name, r.username, r.language, iso(utcnow())),
            )
            cur = await conn.execute(
                """INSERT INTO sightings (photo_sha256, ranger_id, chat_id, message_id, media_group_id,
                       source, caption, taken_at, received_at, lat, lon, location_source, exif_lat,
                       exif_lon, station_code, label, score, is_leopard, boxes, model)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    sha,
                    r.user_id,
                    intake.chat_id,
                    intake.message_id,
                    intake.media_group_id,
                    intake.source,
                    intake.caption,
                    iso(taken_at),
                    iso(intake.received_at),
                    place.point.lat if place else None,
                    place.point.lon if place else None,
                    place.source if place else None,
                    meta.gps.lat if meta.gps else None,
                    meta.gps.lon if meta.gps else None,
                    place.station.code if place and place.station else None,
                    det.label,
                    det.score,
                    int(det.leopard),
                    json.dumps([b.as_list() for b in det.boxes]),
                    det.model,
                ),
            )
            sid = int(cur.lastrowid or 0)
            event_id, new_alert = None, False
            if det.alert_worthy:
                burst_of = await find_burst_event(
                    conn,
                    sid,
                    taken_at,
                    place.point if place else None,
                    place.station.code if place and place.station else None,
                    r.user_id,
                    self.burst,
                    self.burst_radius_m,
                )
                event_id = burst_of or sid
                new_alert = burst_of is None
                await conn.execute("UPDATE sightings SET event_id = ? WHERE id = ?", (event_id, sid))
                await enqueue_for_event(conn, event_id, new_alert=new_alert)
        return Receipt(
            sid,
            detection=det,
            location_source=place.source if place else None,
            point=place.point if place else None,
            station=place.station.code if place and place.station else None,
            taken_at=taken_at,
            event_id=event_id,
            new_alert=new_alert,
            notes=notes,
        )

    async def remember_location(
        self, user_id: int, point: Point, source: str, at: datetime, station: Station | None = None
    ) -> list[int]:
        """Note where the ranger is, and give that place to their recent photos that have none.

        Returns the ids of sightings that got the place. Alerts already sent for them are refreshed.
        """
        since = iso(at - self.pairing)
        async with self.db.transaction() as conn:
            await conn.execute(
                """INSERT INTO ranger_locations (user_id, lat, lon, source, station_code, at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (user_id) DO UPDATE SET lat = excluded.lat, lon = excluded.lon,
                       source = excluded.source, station_code = excluded.station_code, at = excluded.at""",
                (user_id, point.lat, point.lon, source, station.code if station else None, iso(at)),
            )
            cur = await conn.execute(
                "SELECT id, event_id FROM sightings WHERE ranger_id = ? AND lat IS NULL AND received_at >= ?",
                (user_id, since),
            )
            rows = list(await cur.fetchall())
            for row in rows:
                await conn.execute(
                    "UPDATE sightings SET lat = ?, lon = ?, location_source = ?, station_code = ? "
                    "WHERE id = ?",
                    (point.lat, point.lon, source, station.code if station else None, row["id"]),
                )
            for event_id in {row["event_id"] for row in rows if row["event_id"]}:
                await enqueue_for_event(conn, event_id, new_alert=False)
        return [row["id"] for row in rows]

    async def get(self, sighting_id: int) -> dict[str, object] | None:
        row = await self.db.fetchone("SELECT * FROM sightings WHERE id = ?", (sighting_id,))
        return dict(row) if row else None
