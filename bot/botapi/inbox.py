"""Crash safety for incoming updates.

PTB's Updater confirms a batch of updates to Telegram (the next getUpdates offset) as soon as it has
queued them, usually before the handlers have finished. If the process dies in between, Telegram
will not send those updates again. So the bot records every update in the `inbox` table *inside*
get_updates, before returning it to the Updater (and so before any offset can confirm it), marks it
done after its handlers ran, and at start-up puts unfinished ones back on the update queue. Handlers
are idempotent for this (a re-sent photo is recognised by its SHA-256).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ContextTypes, ExtBot

from bot.botapi.polling import PollingHealth
from storage.db import Database, iso, utcnow

log = logging.getLogger(__name__)

KEEP_DONE = timedelta(days=7)


class Inbox:
    def __init__(self) -> None:
        self.db: Database | None = None
        # Updates a handler has not finished with (storage was down; an album's receipt is still owed):
        # mark_done leaves them unfinished, so a restart replays them.
        self.deferred: set[int] = set()

    def defer(self, update_ids: Iterable[int]) -> None:
        """Keep these updates unfinished: their handler finishes them later (or a restart replays them)."""
        self.deferred.update(update_ids)

    def undefer(self, update_ids: Iterable[int]) -> None:
        self.deferred.difference_update(update_ids)

    async def mark_done(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The callback of the last handler group (handlers/__init__.py), after the update's own handlers
        (or their error handler) ran."""
        if isinstance(update, Update) and update.update_id not in self.deferred:
            await self.done(update.update_id)

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

    async def quarantine(self, raw: dict[str, Any], error: str) -> bool:
        """Keep an update the library cannot parse, raw and marked done; True the first time."""
        if self.db is None:
            raise RuntimeError("inbox used before the database was opened")
        now = iso(utcnow())
        cur = await self.db.execute(
            "INSERT OR IGNORE INTO inbox (update_id, payload, received_at, done_at, error) "
            "VALUES (?, ?, ?, ?, ?)",
            (int(raw.get("update_id", 0)), json.dumps(raw, ensure_ascii=False), now, now, error[:500]),
        )
        return cur.rowcount > 0

    async def done(self, update_id: int) -> None:
        assert self.db is not None
        await self.db.execute(
            "UPDATE inbox SET done_at = ? WHERE update_id = ? AND done_at IS NULL", (iso(utcnow()), update_id)
        )

    async def replay(self, app: Application) -> int:
        """Queue updates recorded but not finished before the last stop, oldest first."""
        assert self.db is not None
        rows = await self.db.fetchall("SELECT payload FROM inbox WHERE done_at IS NULL ORDER BY update_id")
        await self._queue(app, rows)
        if rows:
            log.warning("replaying %d update(s) left unfinished by the last run", len(rows))
        return len(rows)

    async def retry_deferred(self, app: Application, update_ids: Sequence[int]) -> int:
        """Queue again the given deferred updates that are still unfinished, oldest first."""
        assert self.db is not None
        if not update_ids:
            return 0
        marks = ", ".join("?" * len(update_ids))
        rows = await self.db.fetchall(
            f"SELECT payload FROM inbox WHERE done_at IS NULL AND update_id IN ({marks}) ORDER BY update_id",
            tuple(update_ids),
        )
        await self._queue(app, rows)
        return len(rows)

    async def _queue(self, app: Application, rows: Sequence[Any]) -> None:
        for row in rows:
            update = Update.de_json(json.loads(row["payload"]), app.bot)
            if update is not None:
                await app.update_queue.put(update)

    async def purge(self) -> None:
        assert self.db is not None
        await self.db.execute(
            "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (iso(utcnow() - KEEP_DONE),)
        )


class InboxBot(ExtBot):
    """ExtBot that records updates in the inbox before the Updater can confirm them."""

    def __init__(self, *args: Any, inbox: Inbox, health: PollingHealth | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inbox = inbox
        self._health = health or PollingHealth()

    @property
    def health(self) -> PollingHealth:
        return self._health

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        while True:
            try:
                updates = await super().get_updates(*args, **kwargs)
                self._health.answered()
            except InvalidToken as exc:
                self._health.revoked(exc)  # PTB's polling loop ends on it: the application must too
                raise
            except (TelegramError, asyncio.CancelledError):
                raise
            except Exception as exc:
                # One update the library cannot parse fails the whole batch, and the Updater would
                # ask for the same batch again at once, forever. Parse it item by item instead.
                updates, last_id = await self._parse_one_by_one(kwargs, exc)
                if not updates and last_id is not None:
                    kwargs["offset"] = last_id + 1  # only bad ones: confirm them and ask again
                    continue
            fresh = await self._inbox.record(updates)
            if fresh or not updates:
                return tuple(fresh)
            # Only re-deliveries: confirm them and ask again, or the Updater would never move on.
            kwargs["offset"] = updates[-1].update_id + 1

    async def _parse_one_by_one(
        self, kwargs: dict[str, Any], exc: Exception
    ) -> tuple[tuple[Update, ...], int | None]:
        data = {k: kwargs.get(k) for k in ("offset", "limit", "allowed_updates")}
        # The batch is not confirmed yet (same offset), so asking again returns the same updates.
        raw = await self._post("getUpdates", {**data, "timeout": 0})
        good: list[Update] = []
        for item in raw if isinstance(raw, list) else []:
            try:
                update = Update.de_json(item, self)
            except Exception as item_exc:
                if await self._inbox.quarantine(item, f"{type(item_exc).__name__}: {item_exc}"):
                    log.error(
                        "skipping update %s that python-telegram-bot cannot parse (%s); kept in the inbox",
                        item.get("update_id"),
                        item_exc,
                    )
                continue
            if update is not None:
                self.insert_callback_data(update)
                good.append(update)
        last = raw[-1].get("update_id") if isinstance(raw, list) and raw else None
        if not good and last is None:
            raise exc
        return tuple(good), int(last) if last is not None else None
