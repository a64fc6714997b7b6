"""Recording sightings: photo in -> stored file -> detection -> sighting row (+ alert outbox), atomically."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

import aiosqlite

from bot.alerts import enqueue_for_event, find_burst_event
from bot.coordinates import parse_coordinates
from bot.detector import Detection, Detector
from bot.exif import PhotoMeta, read_meta, taken_utc
from bot.geo import CoordinateError, Point
from bot.images import UnreadableImage
from bot.intake import PhotoIntake as PhotoIntake
from bot.intake import Ranger as Ranger
from bot.intake import Receipt as Receipt
from bot.intake import SightingError as SightingError
from bot.stations import Station, Stations, codes_in
from storage.db import Database, iso, parse_iso, utcnow
from storage.photos import PhotoStore

log = logging.getLogger(__name__)

# Where a sighting's place came from, most trustworthy first: a surveyed station, the camera's own
# GPS fix at the moment of capture, coordinates the ranger typed for this photo, then a pin, which
# says where the phone is when sending rather than where the photo was taken.
LOCATION_RANK = ("station", "exif", "text", "venue", "pin", "live")
# Telegram's live_period for a live location shared until the ranger stops it.
LIVE_FOREVER = timedelta(seconds=0x7FFFFFFF)


@dataclass(frozen=True)
class Place:
    point: Point
    source: str
    station: Station | None = None


class Edit(Enum):
    ADDED = "added"
    KEPT = "kept"  # the sighting already has a place
    NO_PLACE = "no_place"  # the new caption names none
    NOT_RECORDED = "not_recorded"  # no sighting came from that message


@dataclass(frozen=True)
class CaptionEdit:
    outcome: Edit
    sighting_id: int | None = None
    place: Place | None = None
    event_id: int | None = None
    notes: list[str] = field(default_factory=list)


def _same_message(row: aiosqlite.Row, intake: PhotoIntake) -> bool:
    return intake.chat_id is not None and (row["chat_id"], row["message_id"]) == (
        intake.chat_id,
        intake.message_id,
    )


def _receipt_of(row: aiosqlite.Row, detection: Detection) -> Receipt:
    point = Point(row["lat"], row["lon"]) if row["lat"] is not None else None
    return Receipt(
        row["id"],
        detection=detection,
        location_source=row["location_source"],
        point=point,
        station=row["station_code"],
        taken_at=parse_iso(row["taken_at"]),
        event_id=row["event_id"],
    )


def _best(candidates: list[Place]) -> Place | None:
    return min(candidates, key=lambda p: LOCATION_RANK.index(p.source), default=None)


async def _give_place(conn: aiosqlite.Connection, rows: Sequence[aiosqlite.Row], place: Place) -> None:
    """The one way a sighting recorded without a place gets one. Its event's groups were chosen when
    the alert was queued (with no place: every group), so the alerts are edited, not sent again."""
    station = place.station.code if place.station else None
    for row in rows:
        await conn.execute(
            "UPDATE sightings SET lat = ?, lon = ?, location_source = ?, station_code = ? "
            "WHERE id = ? AND lat IS NULL",
            (place.point.lat, place.point.lon, place.source, station, row["id"]),
        )
    for event_id in {row["event_id"] for row in rows if row["event_id"]}:
        await enqueue_for_event(conn, event_id, new_alert=False)


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
        # Raises StorageUnavailable (disk full, failing, database locked too long): nothing recorded.
        stored = await self.photos.store(intake.data)
        row = await self.db.fetchone("SELECT * FROM sightings WHERE photo_sha256 = ?", (stored.sha256,))
        if row is not None and not _same_message(row, intake):
            return Receipt(row["id"], duplicate=True, event_id=row["event_id"])
        try:
            detection = await loop.run_in_executor(self.executor, self.detector.detect, intake.data)
        except UnreadableImage as exc:
            raise SightingError(str(exc), getattr(exc, "reason", "corrupt")) from exc
        if row is not None:
            # This very message made the sighting and is handled again (the inbox replays what a crash
            # interrupted before its receipt went out): the ranger gets the real receipt, 🐆 button
            # included. Detection runs again because the row does not keep all the receipt shows.
            return _receipt_of(row, detection)
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
        if intake.station_code:
            station = await self.stations.get(intake.station_code)
            if station is None:
                raise SightingError(f"unknown station {intake.station_code}", "unknown_station")
            candidates.append(Place(station.point, "station", station))
        candidates += await self._caption_places(intake.caption, notes, stations=not intake.station_code)
        if meta.gps:
            candidates.append(Place(meta.gps, "exif"))
        recent = await self._recent_location(intake.ranger.user_id, intake.received_at)
        if recent:
            candidates.append(recent)
        return _best(candidates), notes

    async def _caption_places(
        self, caption: str | None, notes: list[str], *, stations: bool = True
    ) -> list[Place]:
        """The places a caption names: a known station code, typed coordinates. Problems go to notes."""
        found: list[Place] = []
        if stations:
            station = await self.stations.find_in_text(caption)
            if station:
                found.append(Place(station.point, "station", station))
            else:
                notes.extend(f"unknown_station:{code}" for code in codes_in(caption)[:1])
        try:
            typed = parse_coordinates(caption or "")
        except CoordinateError as exc:
            notes.append(f"bad_coordinates:{exc}")
            typed = None
        if typed:
            found.append(Place(typed, "text"))
        return found

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
            await _give_place(conn, rows, Place(point, source, station))
        return [row["id"] for row in rows]

    async def follow_live_location(
        self, user_id: int, point: Point, started: datetime, period: timedelta, moved_at: datetime
    ) -> bool:
        """A live location moved: keep its latest point for the photos still to come, for as long as
        it is shared. False if it had ended (or a fresher place the ranger gave is kept).

        Photos already waiting got its first point when it started, where the ranger was when sending
        them; they are not moved along. A station code or pin sent since wins while it is fresh: the
        ranger said where they are on purpose, the phone only reports where it is.
        """
        if period < LIVE_FOREVER and moved_at > started + period:
            return False
        cur = await self.db.execute(
            """INSERT INTO ranger_locations (user_id, lat, lon, source, station_code, at)
               VALUES (?, ?, ?, 'live', NULL, ?)
               ON CONFLICT (user_id) DO UPDATE SET lat = excluded.lat, lon = excluded.lon,
                   source = excluded.source, station_code = NULL, at = excluded.at
               WHERE (ranger_locations.source = 'live' AND ranger_locations.at <= excluded.at)
                  OR ranger_locations.at < ?""",
            (user_id, point.lat, point.lon, iso(moved_at), iso(moved_at - self.pairing)),
        )
        return cur.rowcount > 0

    async def place_from_edited_caption(
        self, chat_id: int, message_id: int, caption: str | None
    ) -> CaptionEdit:
        """An edited caption may give a place to the sighting of that message if it has none; it
        never makes a new sighting, and never moves a sighting that has a place."""
        notes: list[str] = []
        place = _best(await self._caption_places(caption, notes))
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT id, event_id, lat FROM sightings WHERE chat_id = ? AND message_id = ?",
                (chat_id, message_id),
            )
            row = await cur.fetchone()
            if row is None:
                return CaptionEdit(Edit.NOT_RECORDED)
            if place is None:
                return CaptionEdit(Edit.NO_PLACE, row["id"], notes=notes)
            if row["lat"] is not None:
                return CaptionEdit(Edit.KEPT, row["id"])
            await conn.execute("UPDATE sightings SET caption = ? WHERE id = ?", (caption, row["id"]))
            await _give_place(conn, [row], place)
        return CaptionEdit(Edit.ADDED, row["id"], place, row["event_id"])

    async def get(self, sighting_id: int) -> dict[str, object] | None:
        row = await self.db.fetchone("SELECT * FROM sightings WHERE id = ?", (sighting_id,))
        return dict(row) if row else None
