"""Media swapped by an edit (issue 22): a sender may replace the photo of a message already sent.

Telegram then sends an edited_message with the same message_id, edit_date set, and the new file (a
new file_unique_id). The new file is a sighting of its own, detected and alerted like any photo and
naming the one it replaced (sightings.replaces_id). The old one is kept, never deleted: it is marked
replaced (replaced_by, replaced_at), its alerts are edited to say so and lose their review buttons
(bot/alerts/view.py), and it counts in no movement line. An edit that keeps the file is a caption edit
(bot/intake/placing.py: place_from_edited_caption).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.alerts import enqueue_for_event
from bot.geo import Point
from bot.intake.placing import Place, give_place
from bot.intake.types import PhotoIntake, Receipt
from bot.places import Stations
from storage.db import Database, iso, utcnow


@dataclass(frozen=True)
class Standing:
    """The sighting a message stands for now: the latest not replaced, with the file it came from
    (file_unique_id None: recorded before migration 0015 kept it)."""

    id: int
    file_unique_id: str | None
    media: str

    def swapped(self, file_unique_id: str) -> bool:
        """Does an edit carrying this file carry another file than the sighting's? Unknown (an older
        row): yes, and recording tells (the same bytes are the same sighting, see replace_photo)."""
        return self.file_unique_id != file_unique_id


class MediaEdits:
    """Mixed into bot.intake.sightings.Sightings, which sets db and stations and records photos."""

    db: Database
    stations: Stations

    async def record_photo(self, intake: PhotoIntake) -> Receipt:  # Sightings records (sightings.py)
        raise NotImplementedError

    async def standing(self, chat_id: int, message_id: int) -> Standing | None:
        row = await self.db.fetchone(
            "SELECT id, file_unique_id, media FROM sightings WHERE chat_id = ? AND message_id = ? "
            "AND replaced_by IS NULL ORDER BY id DESC LIMIT 1",
            (chat_id, message_id),
        )
        return None if row is None else Standing(row["id"], row["file_unique_id"], row["media"])

    async def replace_photo(self, old: Standing, intake: PhotoIntake) -> Receipt | None:
        """Record the swapped-in file as a new sighting replacing `old`, then mark `old` replaced and
        edit its alerts. None: the file is the one `old` was made from (an older row without its
        file_unique_id), so only the caption may have changed. Replayed after a crash between the two
        steps (the inbox keeps the update unfinished), the recording is found again and the marking done."""
        intake.replaces_id = old.id
        return await self.replaced_by(old, await self.record_photo(intake))

    async def replaced_by(self, old: Standing, receipt: Receipt) -> Receipt | None:
        """The second step of a swap, for a photo or a clip (bot/intake/videos.py: VideoIntake.replace):
        `old` marked replaced by the sighting just recorded. None: that sighting is `old` itself."""
        if receipt.sighting_id == old.id:
            return None
        await self._mark_replaced(old.id, receipt)
        receipt.replaces_id = old.id
        return receipt

    async def _mark_replaced(self, old_id: int, receipt: Receipt) -> None:
        """`old_id` is kept, marked replaced by the receipt's sighting, and its alerts refreshed. The new
        sighting takes the old one's place if it came with none of its own: the place given for the
        message (its caption, a reply to it, a pin) was about the photo it carries."""
        row = await self.db.fetchone(
            "SELECT event_id, lat, lon, location_source, station_code FROM sightings WHERE id = ?", (old_id,)
        )
        if row is None:
            return
        station = await self.stations.get(row["station_code"]) if row["station_code"] else None
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE sightings SET replaced_by = ?, replaced_at = ? WHERE id = ? AND replaced_by IS NULL",
                (receipt.sighting_id, iso(utcnow()), old_id),
            )
            if cur.rowcount and row["event_id"]:
                await enqueue_for_event(conn, row["event_id"], new_alert=False)
            if row["lat"] is None or receipt.duplicate or receipt.point is not None:
                return
            cur = await conn.execute(
                "SELECT id, event_id FROM sightings WHERE id = ? AND lat IS NULL", (receipt.sighting_id,)
            )
            place = Place(Point(row["lat"], row["lon"]), row["location_source"], station)
            await give_place(conn, list(await cur.fetchall()), place)
        receipt.point, receipt.location_source = place.point, place.source
        receipt.station = station.code if station else None
