"""Crash safety for incoming updates.

PTB's Updater confirms a batch of updates to Telegram (the next getUpdates offset) as soon as it has
queued them, usually before the handlers have finished. If the process dies in between, Telegram
will not send those updates again. So the bot records every update in the `inbox` table *inside*
get_updates, before returning it to the Updater (and so before any offset can confirm it), marks it
done after its handlers ran, and at start-up puts unfinished ones back on the update queue. Handlers
are idempotent for this (a re-sent photo is recognised by its SHA-256).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, ExtBot

from storage.db import Database, iso, utcnow

log = logging.getLogger(__name__)

KEEP_DONE = timedelta(days=7)


class Inbox:
    def __init__(self) -> None:
        self.db: Database | None = None

    async def record(self, updates: Sequence[Update]) -> list[Update]:
        """Store the updates; return those not seen before (after a crash Telegram re-sends the
        unconfirmed ones, which the replay has already queued)."""
        if not updates:
            return []
        if self.db is None:
            raise RuntimeError("inbox used before the database was opened")
        now = iso(utcnow())
        fresh = []
        async with self.db.transaction() as conn:
            for u in updates:
                cur = await conn.execute(
                    "INSERT OR IGNORE INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)",
                    (u.update_id, json.dumps(u.to_dict(), ensure_ascii=False), now),
                )
                if cur.rowcount:
                    fresh.append(u)
        return fresh

    async def done(self, update_id: int) -> None:
        assert self.db is not None
        await self.db.execute(
            "UPDATE inbox SET done_at = ? WHERE update_id = ? AND done_at IS NULL", (iso(utcnow()), update_id)
        )

    async def replay(self, app: Application) -> int:
        """Queue updates recorded but not finished before the last stop, oldest first."""
        assert self.db is not None
        rows = await self.db.fetchall("SELECT payload FROM inbox WHERE done_at IS NULL ORDER BY update_id")
        for row in rows:
            update = Update.de_json(json.loads(row["payload"]), app.bot)
            if update is not None:
                await app.update_queue.put(update)
        if rows:
            log.warning("replaying %d update(s) left unfinished by the last run", len(rows))
        return len(rows)

    async def purge(self) -> None:
        assert self.db is not None
        await self.db.execute(
            "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (iso(utcnow() - KEEP_DONE),)
        )


class InboxBot(ExtBot):
    """ExtBot that records updates in the inbox before the Updater can confirm them."""

    def __init__(self, *args: Any, inbox: Inbox, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inbox = inbox

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        while True:
            updates = await super().get_updates(*args, **kwargs)
            fresh = await self._inbox.record(updates)
            if fresh or not updates:
                return tuple(fresh)
            # Only re-deliveries: confirm them and ask again, or the Updater would never move on.
            kwargs["offset"] = updates[-1].update_id + 1


async def mark_done(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs in the last handler group, after the update's own handlers (or their error handler)."""
    if isinstance(update, Update):
        inbox: Inbox = context.bot_data["inbox"]
        await inbox.done(update.update_id)
