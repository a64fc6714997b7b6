"""Durable messages to one person: a ranger's verdict, an admin notice. This is the queue.

They are queued in the same transaction as what caused them (a decision, a failed alert) and sent by
bot/botapi/notices.py, so a crash, a late callback answer or a network error never loses them. A 403
(the person never started the bot, or blocked it) is final for that notice: it stays 'failed' in the
table, and `leopard-watch doctor` lists the admin notices that never arrived. dedup_key makes "tell
the admins once" hold across restarts and concurrent failures.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import aiosqlite

from storage.db import Database, iso, utcnow

log = logging.getLogger(__name__)

Conn = Database | aiosqlite.Connection


async def queue_notice(
    db: Conn, chat_id: int, kind: str, text: str, *, dedup_key: str | None = None
) -> bool:
    """Queue one message; with dedup_key, at most one per (chat, key) ever. True if queued now."""
    now = iso(utcnow())
    cur = await db.execute(
        "INSERT OR IGNORE INTO notices (chat_id, kind, text, dedup_key, next_attempt_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (chat_id, kind, text, dedup_key, now, now),
    )
    return cur.rowcount > 0


async def queue_admin_notice(
    db: Conn, admin_ids: Iterable[int], text: str, *, dedup_key: str | None = None
) -> int:
    """The same notice to every admin; returns how many were queued (0 when already told)."""
    queued = 0
    for admin in sorted(admin_ids):
        queued += await queue_notice(db, admin, "admin", text, dedup_key=dedup_key)
    if queued:
        log.warning("admin notice: %s", text)
    return queued


async def undelivered_admin_notices(db: Database) -> list[dict[str, object]]:
    """Admin notices Telegram refused for good (the admin never started the bot): for the doctor."""
    rows = await db.fetchall(
        "SELECT chat_id, text, last_error, created_at FROM notices "
        "WHERE kind = 'admin' AND status = 'failed' ORDER BY id"
    )
    return [dict(r) for r in rows]


async def reopen_refused_notices(db: Database, chat_id: int) -> int:
    """The person has now started the bot: what Telegram refused with 403 goes out after all."""
    cur = await db.execute(
        "UPDATE notices SET status = 'pending', next_attempt_at = ? "
        "WHERE chat_id = ? AND status = 'failed' AND last_error LIKE 'Forbidden%'",
        (iso(utcnow()), chat_id),
    )
    return int(cur.rowcount)
