"""Coordinators' decisions on leopard events, with an audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from bot.alerts import queue_refresh
from storage.db import Database, iso, utcnow

DECISIONS = ("confirmed", "rejected", "other")


@dataclass(frozen=True)
class Outcome:
    event_id: int
    decision: str
    changed: bool
    ranger_id: int | None
    ranger_language: str | None


async def alerted_in(db: Database, event_id: int, chat_id: int) -> bool:
    """Buttons only work where the event was alerted: callback data can be forged by a custom client,
    and a group that follows other areas must not decide on events it was never shown."""
    found = await db.scalar(
        "SELECT 1 FROM outbox WHERE event_id = ? AND chat_id = ? AND kind = 'alert'", (event_id, chat_id)
    )
    return found is not None


async def decide(
    db: Database,
    event_id: int,
    decision: str,
    user_id: int,
    user_name: str,
    chat_id: int | None,
    *,
    movement_days: int = 60,
) -> Outcome | None:
    """Apply a decision to every photo of the event, log it, and refresh the alerts that show it:
    its own, and those of later events within movement_days, whose movement lines count it now."""
    if decision not in DECISIONS:
        raise ValueError(decision)
    now = iso(utcnow())
    async with db.transaction() as conn:
        cur = await conn.execute(
            "SELECT s.status, s.ranger_id, r.language FROM sightings s "
            "LEFT JOIN rangers r ON r.user_id = s.ranger_id WHERE s.id = ? AND s.event_id = s.id",
            (event_id,),
        )
        row = await cur.fetchone()
        if row is None:
            return None
        await conn.execute(
            "INSERT INTO reviews (sighting_id, user_id, user_name, chat_id, decision, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, user_id, user_name, chat_id, decision, now),
        )
        await conn.execute(
            "UPDATE sightings SET status = ?, reviewed_by = ?, reviewed_at = ? WHERE event_id = ?",
            (decision, user_id, now, event_id),
        )
        await queue_refresh(conn, event_id)
        cur = await conn.execute(
            """SELECT later.id FROM sightings this JOIN sightings later
                 ON later.id = later.event_id AND later.id != this.id
                AND later.taken_at > this.taken_at
                AND later.taken_at <= strftime('%Y-%m-%dT%H:%M:%S+00:00', this.taken_at, ?)
               WHERE this.id = ?""",
            (f"+{movement_days} days", event_id),
        )
        for later in await cur.fetchall():
            await queue_refresh(conn, int(later["id"]))
    return Outcome(event_id, decision, row["status"] != decision, row["ranger_id"], row["language"])
