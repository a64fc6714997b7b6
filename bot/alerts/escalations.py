"""A ranger's "this is a leopard": a photo the model passed over goes to the coordinators anyway.

Rangers often know what they saw; the model misses leopards it has never seen in IR or in desert
light. The ranger who sent the photo can hand it to the coordinator groups from the receipt: it
becomes an event, is routed and alerted like a detection (marked as the ranger's call), and the
coordinators' review buttons decide. Once they confirm it, it counts like any confirmed leopard.
"""

from __future__ import annotations

from enum import Enum

from bot.alerts.routing import enqueue_for_event
from storage.db import Database, iso, utcnow


class Escalation(Enum):
    SENT = "sent"
    ALREADY = "already"  # an event already (detected, or handed over before)
    NOT_FOUND = "not_found"  # no such sighting, or not this ranger's


async def escalate(db: Database, sighting_id: int, user_id: int) -> Escalation:
    async with db.transaction() as conn:
        cur = await conn.execute("SELECT ranger_id, event_id FROM sightings WHERE id = ?", (sighting_id,))
        row = await cur.fetchone()
        if row is None or row["ranger_id"] != user_id:
            return Escalation.NOT_FOUND
        if row["event_id"] is not None:
            return Escalation.ALREADY
        await conn.execute(
            "UPDATE sightings SET event_id = id, escalated_by = ?, escalated_at = ? WHERE id = ?",
            (user_id, iso(utcnow()), sighting_id),
        )
        await enqueue_for_event(conn, sighting_id, new_alert=True)
    return Escalation.SENT
