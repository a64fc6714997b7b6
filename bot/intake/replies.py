"""Places sent as replies: a reply to a sighting's photo or its receipt names that sighting, and only it.

Telegram users say which message they mean by replying to it. A place sent so is given to the sightings
of that message, never to the ranger's other waiting photos, and is not kept as where the ranger is for
the next ones. It may replace a place the sighting already has (a wrong station typed in a caption): the
replacement is audited (place_changes) and the sighting's alerts are edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.alerts import enqueue_for_event
from bot.geo import Point
from bot.intake.placing import Place, give_place
from storage.db import Database, iso, utcnow


@dataclass(frozen=True)
class Replaced:
    """What a replied place did to one sighting: `old_*` is the place it had (None: it had none)."""

    sighting_id: int
    old_point: Point | None = None
    old_station: str | None = None

    @property
    def moved(self) -> bool:
        return self.old_point is not None


class ReplyPlaces:
    """Mixed into bot.intake.sightings.Sightings, which sets db."""

    db: Database

    async def note_receipt(self, chat_id: int, message_id: int, sighting_ids: Sequence[int]) -> None:
        """Keep which sightings a receipt the bot sent is about, so that a reply to it names them."""
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT OR IGNORE INTO receipts (chat_id, message_id, sighting_id) VALUES (?, ?, ?)",
                [(chat_id, message_id, sid) for sid in sighting_ids],
            )

    async def replied_sightings(self, user_id: int, chat_id: int, message_id: int) -> list[int]:
        """The sender's own sightings a reply to message `message_id` of `chat_id` names: those made from
        that message (a photo, a clip) or those its receipt is about. Someone else's are never named."""
        rows = await self.db.fetchall(
            """SELECT id FROM sightings WHERE chat_id = ? AND message_id = ? AND ranger_id = ?
                 AND replaced_by IS NULL
               UNION
               SELECT s.id FROM receipts r JOIN sightings s ON s.id = r.sighting_id
               WHERE r.chat_id = ? AND r.message_id = ? AND s.ranger_id = ?
               ORDER BY id""",
            (chat_id, message_id, user_id, chat_id, message_id, user_id),
        )
        return [row["id"] for row in rows]

    async def place_replied(self, user_id: int, sighting_ids: Sequence[int], place: Place) -> list[Replaced]:
        """Give `place` to these sightings: as any first place (give_place), or instead of the one they
        have, written to place_changes with who did it, and their alerts refreshed."""
        done: list[Replaced] = []
        station = place.station.code if place.station else None
        async with self.db.transaction() as conn:
            for sid in sighting_ids:
                cur = await conn.execute(
                    "SELECT id, event_id, lat, lon, location_source, station_code FROM sightings "
                    "WHERE id = ?",
                    (sid,),
                )
                row = await cur.fetchone()
                if row is None:
                    continue
                if row["lat"] is None:
                    await give_place(conn, [row], place)
                    done.append(Replaced(sid))
                    continue
                old = Point(row["lat"], row["lon"])
                done.append(Replaced(sid, old, row["station_code"]))
                if (old, row["station_code"]) == (place.point, station):
                    continue  # the place it has: nothing to change or audit
                await conn.execute(
                    "UPDATE sightings SET lat = ?, lon = ?, location_source = ?, station_code = ? "
                    "WHERE id = ?",
                    (place.point.lat, place.point.lon, place.source, station, sid),
                )
                await conn.execute(
                    """INSERT INTO place_changes (sighting_id, user_id, old_lat, old_lon, old_source,
                           old_station, new_lat, new_lon, new_source, new_station, at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (sid, user_id, row["lat"], row["lon"], row["location_source"], row["station_code"],
                     place.point.lat, place.point.lon, place.source, station, iso(utcnow())),
                )  # fmt: skip
                if row["event_id"]:
                    await enqueue_for_event(conn, row["event_id"], new_alert=False)
        return done
