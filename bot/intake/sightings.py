"""Recording sightings: photo in -> stored file -> detection -> sighting row (+ alert outbox), atomically."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.alerts import enqueue_for_event, find_burst_event
from bot.detection import Detection, Detector, Kind
from bot.intake.forwards import intake_columns
from bot.intake.kinds import EMPTY, kind_of_row
from bot.intake.placing import Place, PlaceUpdates, best_place
from bot.intake.replacements import MediaEdits
from bot.intake.replies import ReplyPlaces
from bot.intake.types import PhotoIntake, Receipt, SightingError, receipt_of_row, same_message
from bot.media import CaptureTime, PhotoMeta, UnreadableImage, capture_time, read_meta
from bot.places import Stations
from storage.db import Database, iso, parse_iso, utcnow
from storage.photos import PhotoStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OwnSighting:
    """One of a ranger's sightings as /mine lists it."""

    id: int
    taken_at: datetime | None
    kind: Kind  # what it holds in words people read (bot/intake/kinds.py), never the model's label
    score: float  # the leopard score
    station: str | None
    status: str  # the coordinators' decision: unreviewed, confirmed, rejected, other
    alerted: bool  # an alert went out, so there is something for coordinators to review
    reported: bool  # the ranger reported it as a leopard (escalations)


class Sightings(PlaceUpdates, ReplyPlaces, MediaEdits):
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
        return await self._record(intake)

    async def record_detected(
        self, intake: PhotoIntake, detection: Detection, when: CaptureTime, columns: Mapping[str, object]
    ) -> Receipt:
        """A photo its caller has run the detector on: a video's best frame (bot/intake/videos.py).
        Stored, placed, grouped into bursts and alerted like any photo; `when` is its time, `columns`
        are more sightings columns to set (names are the caller's constants, never input)."""
        return await self._record(intake, detection, when, columns)

    async def _record(
        self,
        intake: PhotoIntake,
        detection: Detection | None = None,
        when: CaptureTime | None = None,
        columns: Mapping[str, object] | None = None,
    ) -> Receipt:
        loop = asyncio.get_running_loop()
        try:
            # Not on the detector's workers: EXIF parsing can overlap another photo's inference.
            meta: PhotoMeta = await asyncio.to_thread(read_meta, intake.data)
        except UnreadableImage as exc:
            raise SightingError(str(exc), getattr(exc, "reason", "corrupt")) from exc
        # Raises StorageUnavailable (disk full, failing, database locked too long): nothing recorded.
        stored = await self.photos.store(intake.data)
        row = await self.db.fetchone("SELECT * FROM sightings WHERE photo_sha256 = ?", (stored.sha256,))
        if row is not None and not same_message(row, intake):
            return Receipt(row["id"], duplicate=True, event_id=row["event_id"])
        try:
            if detection is None:
                detection = await loop.run_in_executor(self.executor, self.detector.detect, intake.data)
        except UnreadableImage as exc:
            raise SightingError(str(exc), getattr(exc, "reason", "corrupt")) from exc
        if row is not None:
            # This very message made the sighting and is handled again (the inbox replays what a crash
            # interrupted before its receipt went out): the ranger gets the real receipt, 🐆 button
            # included. Detection runs again because the row does not keep all the receipt shows.
            return receipt_of_row(row, detection)
        place, notes = await self._place(intake, meta)
        when = when or self._taken_at(intake, meta)
        waiting = await self._waiting_for_place(intake.ranger.user_id, intake.received_at)
        columns = {**await intake_columns(self.db, intake), **(columns or {})}
        try:
            receipt = await self._insert(intake, stored.sha256, meta, detection, place, when, notes, columns)
        except sqlite3.IntegrityError:
            # The same file arrived twice at once and the other copy was stored first.
            existing = await self._recorded(stored.sha256)
            if existing is None:
                raise
            return existing
        receipt.already_asked = waiting > 0
        receipt.forward, receipt.reported = intake.origin, bool(columns.get("reported"))
        receipt.replaces_id = intake.replaces_id
        if intake.media_group_id is not None:
            await self._place_album(intake.chat_id, intake.media_group_id)
            await self.refresh_places([receipt])
        return receipt

    async def _recorded(self, sha256: str) -> Receipt | None:
        """A 'duplicate' receipt when this file is already a sighting."""
        row = await self.db.fetchone("SELECT id, event_id FROM sightings WHERE photo_sha256 = ?", (sha256,))
        return Receipt(row["id"], duplicate=True, event_id=row["event_id"]) if row else None

    async def _waiting_for_place(self, user_id: int, at: datetime) -> int:
        return int(
            await self.db.scalar(
                "SELECT COUNT(*) FROM sightings WHERE ranger_id = ? AND lat IS NULL AND received_at >= ? "
                "AND forward_kind IS NULL",  # a forward never waits for the ranger's place
                (user_id, iso(at - self.pairing)),
            )
        )

    def _taken_at(self, intake: PhotoIntake, meta: PhotoMeta) -> CaptureTime:
        # Telegram strips EXIF from compressed photos: their time is then a receipt, and says so.
        return capture_time(
            meta, received_at=intake.received_at, zone=intake.zone or self.zone,
            forwarded_at=intake.forwarded_at, file_time=intake.file_time, imported=intake.source == "import",
            mailed=intake.mailed,
        )  # fmt: skip

    async def _place(self, intake: PhotoIntake, meta: PhotoMeta) -> tuple[Place | None, list[str]]:
        notes: list[str] = []
        candidates: list[Place] = []
        gps = meta.gps if intake.use_gps else None
        if intake.station_code:
            station = await self.stations.get(intake.station_code)
            if station is None:
                raise SightingError(f"unknown station {intake.station_code}", "unknown_station")
            if intake.gps_first and gps:
                candidates.append(Place(gps, "exif", station))  # still that station's photo
            else:
                candidates.append(Place(station.point, "station", station))
        candidates += await self._caption_places(intake.caption, notes, stations=not intake.station_code)
        if not intake.caption:  # an album's part without a caption: the album's caption is its own
            album = await self._album_place(intake.chat_id, intake.media_group_id)
            candidates += [album] if album else []
        if gps:
            candidates.append(Place(gps, "exif"))
        # Where the forwarder is says nothing of where a forwarded photo was taken (bot/intake/forwards.py).
        recent = None
        if intake.origin is None:
            recent = await self._recent_location(intake.ranger.user_id, intake.received_at)
        if recent:
            candidates.append(recent)
        return best_place(candidates), notes

    async def _insert(
        self,
        intake: PhotoIntake,
        sha: str,
        meta: PhotoMeta,
        det: Detection,
        place: Place | None,
        when: CaptureTime,
        notes: list[str],
        columns: Mapping[str, object] | None = None,
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
                       exif_lon, station_code, label, score, is_leopard, boxes, model, time_source,
                       clock_issue, kind)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    sha,
                    r.user_id,
                    intake.chat_id,
                    intake.message_id,
                    intake.media_group_id,
                    intake.source,
                    intake.caption,
                    iso(when.taken_at),
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
                    when.source.value,
                    when.clock_issue.value if when.clock_issue else None,
                    det.kind,
                ),
            )
            sid = int(cur.lastrowid or 0)
            if columns:  # in the same transaction: an alert is never rendered without them
                sets = ", ".join(f"{name} = ?" for name in columns)
                await conn.execute(f"UPDATE sightings SET {sets} WHERE id = ?", (*columns.values(), sid))
            event_id, new_alert = None, False
            if det.alert_worthy and intake.may_alert:
                # A forward or a swapped-in photo is its own event: joined to another's burst, a report from
                # outside would share its verdict, and a replacement the alert of the photo it replaces.
                alone = intake.origin is not None or intake.replaces_id is not None
                burst_of = None if alone else await find_burst_event(
                    conn,
                    sid,
                    when.taken_at,
                    place.point if place else None,
                    place.station.code if place and place.station else None,
                    r.user_id,
                    self.burst,
                    self.burst_radius_m,
                    time=when,
                    chat_id=intake.chat_id,
                    received_at=intake.received_at,
                    source=intake.source,
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
            taken_at=when.taken_at,
            time=when,
            event_id=event_id,
            new_alert=new_alert,
            notes=notes,
        )

    async def get(self, sighting_id: int) -> dict[str, object] | None:
        row = await self.db.fetchone("SELECT * FROM sightings WHERE id = ?", (sighting_id,))
        return dict(row) if row else None

    async def latest_of(self, ranger_id: int, limit: int = 10) -> list[OwnSighting]:
        """A ranger's own last sightings, newest first, with what became of them (/mine). Empty frames
        (an SD card's wind and grass) are kept but not listed: nothing in them to follow up."""
        rows = await self.db.fetchall(
            "SELECT id, taken_at, kind, is_leopard, label, score, status, station_code, event_id, "
            "escalated_by FROM sightings WHERE ranger_id = ? AND kind IS NOT ? ORDER BY id DESC LIMIT ?",
            (ranger_id, EMPTY, limit),
        )
        return [
            OwnSighting(
                r["id"],
                parse_iso(r["taken_at"]),
                kind_of_row(r),
                r["score"],
                r["station_code"],
                r["status"],
                alerted=r["event_id"] is not None,
                reported=r["escalated_by"] is not None,
            )
            for r in rows
        ]
