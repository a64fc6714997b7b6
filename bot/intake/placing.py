"""Where a sighting was: the places a photo comes with, ranked, and the place given to it later.

Kept apart from bot/intake/sightings.py (which records) as the half of Sightings that reads captions and
rangers' locations: a pin, a live location or an edited caption gives a place to photos sent without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

import aiosqlite

from bot.alerts import enqueue_for_event
from bot.geo import CoordinateError, Point, parse_coordinates
from bot.intake.types import Receipt
from bot.places import Station, Stations, codes_in
from storage.db import Database, iso, parse_iso

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


def best_place(candidates: list[Place]) -> Place | None:
    return min(candidates, key=lambda p: LOCATION_RANK.index(p.source), default=None)


async def give_place(conn: aiosqlite.Connection, rows: Sequence[aiosqlite.Row], place: Place) -> None:
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


class PlaceUpdates:
    """Mixed into bot.intake.sightings.Sightings, which sets these attributes."""

    db: Database
    stations: Stations
    pairing: timedelta

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

    async def _album_place(self, chat_id: int | None, media_group_id: str | None) -> Place | None:
        """The place an album's caption names. Telegram gives an album's caption to its first item only,
        and the parts arrive as separate messages; what the ranger typed there is meant for them all."""
        if chat_id is None or media_group_id is None:
            return None
        rows = await self.db.fetchall(
            "SELECT caption FROM sightings WHERE chat_id = ? AND media_group_id = ? AND caption IS NOT NULL "
            "ORDER BY message_id",
            (chat_id, media_group_id),
        )
        for row in rows:
            place = best_place(await self._caption_places(row["caption"], []))
            if place is not None:
                return place
        return None

    async def _place_album(self, chat_id: int | None, media_group_id: str | None) -> None:
        """After an album part is recorded: its caption's place goes to the parts recorded without one.
        Run after every part's own insert, so whichever of the captioned part and another part is
        recorded second places the other (they are handled side by side, in any order)."""
        place = await self._album_place(chat_id, media_group_id)
        if place is None:
            return
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT id, event_id FROM sightings WHERE chat_id = ? AND media_group_id = ? AND lat IS NULL",
                (chat_id, media_group_id),
            )
            await give_place(conn, list(await cur.fetchall()), place)

    async def refresh_places(self, receipts: Sequence[Receipt]) -> None:
        """Bring receipts made earlier up to date with the places their sightings have now (an album's
        part placed by the caption of a part recorded after it), before the ranger is shown them."""
        for receipt in receipts:
            if receipt.duplicate or receipt.point is not None:
                continue
            row = await self.db.fetchone(
                "SELECT lat, lon, location_source, station_code FROM sightings WHERE id = ?",
                (receipt.sighting_id,),
            )
            if row is None or row["lat"] is None:
                continue
            receipt.point = Point(row["lat"], row["lon"])
            receipt.location_source = row["location_source"]
            receipt.station = row["station_code"]

    async def _recent_location(self, user_id: int, at: datetime) -> Place | None:
        row = await self.db.fetchone("SELECT * FROM ranger_locations WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        when = parse_iso(row["at"])
        if when is None or abs(at - when) > self.pairing:
            return None
        station = await self.stations.get(row["station_code"]) if row["station_code"] else None
        return Place(Point(row["lat"], row["lon"]), row["source"], station)

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
            cur = await conn.execute(  # never a forward: where the ranger is says nothing of where it was
                "SELECT id, event_id FROM sightings WHERE ranger_id = ? AND lat IS NULL AND received_at >= ? "
                "AND forward_kind IS NULL",
                (user_id, since),
            )
            rows = list(await cur.fetchall())
            await give_place(conn, rows, Place(point, source, station))
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
        place = best_place(await self._caption_places(caption, notes))
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT id, event_id, lat FROM sightings WHERE chat_id = ? AND message_id = ? "
                "AND replaced_by IS NULL ORDER BY id DESC",  # the message's photo now, not one swapped out
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
            await give_place(conn, [row], place)
        return CaptionEdit(Edit.ADDED, row["id"], place, row["event_id"])
