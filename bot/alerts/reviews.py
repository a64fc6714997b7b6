"""Coordinators' decisions on leopard events, with an audit trail."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.alerts.routing import queue_refresh
from bot.people import Role, queue_notice
from bot.text import t
from storage.db import Database, iso, utcnow

DECISIONS = ("confirmed", "rejected", "other")


@dataclass(frozen=True)
class Outcome:
    event_id: int
    decision: str
    changed: bool  # False: the event already had this decision, so nothing was written
    ranger_id: int | None
    notified: bool  # a verdict notice for the ranger was queued with the decision


async def alerted_in(db: Database, event_id: int, chat_id: int) -> bool:
    """Buttons only work where the event was alerted: callback data can be forged by a custom client,
    and a group that follows other areas must not decide on events it was never shown."""
    found = await db.scalar(
        "SELECT 1 FROM outbox WHERE event_id = ? AND chat_id = ? AND kind = 'alert'", (event_id, chat_id)
    )
    return found is not None


async def alerted_here(db: Database, sighting_id: int, chat_id: int) -> bool:
    """Was this photo's event alerted to chat_id? A burst's other photos belong to the same alert."""
    event_id = await db.scalar("SELECT event_id FROM sightings WHERE id = ?", (sighting_id,))
    return event_id is not None and await alerted_in(db, int(event_id), chat_id)


async def review_status(db: Database, event_id: int, chat_id: int) -> str | None:
    """The event's current status if its buttons are valid in chat_id (see alerted_in) and its photo
    was not swapped out by the sender (a stale button; the alert lost them), else None.
    One cheap read, so that the button press can be answered before the decision is written."""
    return await db.scalar(
        "SELECT s.status FROM sightings s WHERE s.id = ? AND s.event_id = s.id AND s.replaced_by IS NULL "
        "AND EXISTS "
        "(SELECT 1 FROM outbox o WHERE o.event_id = s.id AND o.chat_id = ? AND o.kind = 'alert')",
        (event_id, chat_id),
    )


async def record_refusal(
    db: Database, event_id: int, decision: str, user_id: int, user_name: str, chat_id: int | None, role: Role
) -> None:
    """Keep a press by someone who may not decide (see may_decide): nothing about the event changes,
    but the attempt is part of the audit trail, next to the decisions in reviews."""
    await db.execute(
        "INSERT INTO review_refusals (sighting_id, user_id, user_name, chat_id, decision, role, "
        "ranger_role, ranger_status, at) VALUES (?, ?, ?, ?, ?, ?, "
        "(SELECT role FROM rangers WHERE user_id = ?), (SELECT status FROM rangers WHERE user_id = ?), ?)",
        (event_id, user_id, user_name, chat_id, decision, role.name.lower(), user_id, user_id, iso(utcnow())),
    )


def may_decide(role: Role) -> bool:
    """Only an active coordinator or an admin decides: the ranger is told the verdict as the team's."""
    return role >= Role.COORDINATOR


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
    """Apply a decision to every photo of the event, log it, queue the ranger's verdict notice, and
    refresh the alerts that show it: its own, and those of later events within movement_days, whose
    movement lines count it now. The event already having this decision (a double press, or two
    coordinators pressing together) writes nothing: the check and the write share one transaction."""
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
        ranger_id = None if row["ranger_id"] is None else int(row["ranger_id"])
        if row["status"] == decision:
            return Outcome(event_id, decision, False, ranger_id, False)
        cur = await conn.execute(
            "INSERT INTO reviews (sighting_id, user_id, user_name, chat_id, decision, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, user_id, user_name, chat_id, decision, now),
        )
        review_id = cur.lastrowid
        await conn.execute(
            "UPDATE sightings SET status = ?, reviewed_by = ?, reviewed_at = ? WHERE event_id = ?",
            (decision, user_id, now, event_id),
        )
        # Queued here rather than sent by the handler, so the ranger is told iff the decision is
        # recorded, whatever happens to the callback answer, the network or the process afterwards.
        # One notice per recorded decision: a changed verdict is told again.
        notified = ranger_id is not None and await queue_notice(
            conn,
            ranger_id,
            "verdict",
            t(row["language"], f"review.ranger.{decision}", id=event_id),
            dedup_key=f"verdict:{event_id}:{review_id}",
        )
        await refresh_movement_alerts(conn, event_id, movement_days=movement_days)
        if decision == "confirmed":
            # Issue 25: a confirmed leopard asks the groups that saw it "Who is this?", queued with the
            # decision like the ranger's notice (table and sender: bot.individuals, handlers/individuals.py).
            await conn.execute(
                "INSERT OR IGNORE INTO who_is_this (event_id, chat_id, next_attempt_at, created_at) "
                "SELECT event_id, chat_id, ?, ? FROM outbox WHERE event_id = ? AND kind = 'alert'",
                (now, now, event_id),
            )
    return Outcome(event_id, decision, True, ranger_id, notified)


async def refresh_movement_alerts(conn: aiosqlite.Connection, event_id: int, *, movement_days: int) -> None:
    """Queue the refresh of every alert whose movement lines may count this event: its own, and those of
    later events within movement_days. Inside the transaction that changed what the lines read (a
    decision, or who the animal is: bot.individuals), so the refresh is queued iff the change is kept."""
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
