"""Durable alert delivery: the outbox table is the queue, this sender empties it.

Retry policy: 429 waits exactly retry_after; network errors and 5xx back off exponentially;
403/400 give up (logged, admins told). A row is marked 'sending' before the API call, so after a
crash a row left in 'sending' may or may not have arrived: it is not sent again (an alert must
never arrive twice) and the admins are told to check that chat.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.alert_view import build_alert, photo_with_boxes
from bot.config import Settings
from storage.db import Database, iso, utcnow
from storage.photos import PhotoStore

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=10)
MAX_ATTEMPTS = 50
# A timeout after the request went out is ambiguous: Telegram may have posted the alert and only its
# answer be late. PTB's defaults (5 s read, 20 s media write) would turn a slow field uplink into a
# retry, i.e. a second copy of the alert; waiting longer for the answer is the only remedy, as the
# Bot API has no idempotency key and no way to ask whether a message was posted.
READ_TIMEOUT, WRITE_TIMEOUT = 90.0, 120.0


class OutboxSender:
    def __init__(self, db: Database, photos: PhotoStore, settings: Settings) -> None:
        self.db = db
        self.photos = photos
        self.settings = settings
        self._lock = asyncio.Lock()
        self.admin_notices: list[str] = []

    async def recover(self, bot: Bot) -> int:
        """At start-up: rows interrupted mid-delivery are not resent (see module doc)."""
        # An edit can safely be made twice; only a new alert message cannot.
        await self.db.execute(
            "UPDATE outbox SET status = 'pending' WHERE status = 'sending' AND kind = 'refresh'"
        )
        rows = await self.db.fetchall("SELECT id, chat_id, event_id FROM outbox WHERE status = 'sending'")
        for row in rows:
            await self._finish(row["id"], "failed", error="interrupted during delivery; may have arrived")
            await self._notify_admins(
                bot,
                f"Alert for sighting #{row['event_id']} to chat {row['chat_id']} was interrupted by a "
                "restart and may not have arrived; please check that chat.",
            )
        return len(rows)

    async def drain(self, bot: Bot) -> int:
        """Deliver every due row; returns how many were delivered. Safe to call concurrently."""
        async with self._lock:
            delivered = 0
            while True:
                row = await self.db.fetchone(
                    "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
                    "ORDER BY kind = 'refresh', id LIMIT 1",
                    (iso(utcnow()),),
                )
                if row is None:
                    return delivered
                delivered += await self._deliver(bot, dict(row))

    async def _deliver(self, bot: Bot, row: dict[str, Any]) -> int:
        oid, chat_id, event_id = int(row["id"]), int(row["chat_id"]), int(row["event_id"])
        try:
            # A new alert is 'sending' only around the API call itself: the window in which a crash
            # leaves us unsure whether the group got it. An edit is marked before it is rendered, so
            # that a change arriving meanwhile queues its own edit (bot.alerts.queue_refresh).
            if row["kind"] == "refresh":
                await self._mark_sending(oid)
            send = await self._prepare(bot, row, chat_id, event_id)
            if row["kind"] == "alert":
                await self._mark_sending(oid)
            message_id = await send()
        except RetryAfter as exc:
            wait = retry_seconds(exc)
            await self._retry(oid, timedelta(seconds=wait), f"429 retry after {wait:g}")
            return 0
        except Forbidden as exc:
            await self._give_up(bot, oid, chat_id, event_id, f"403 {exc.message}")
            await self.db.execute("UPDATE groups SET active = 0 WHERE chat_id = ?", (chat_id,))
            return 0
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                await self._finish(oid, "sent")
                return 1
            await self._give_up(bot, oid, chat_id, event_id, f"400 {exc.message}")
            return 0
        except (NetworkError, TelegramError, OSError) as exc:
            attempts = int(row["attempts"]) + 1
            if attempts >= MAX_ATTEMPTS:
                await self._give_up(bot, oid, chat_id, event_id, f"gave up after {attempts}: {exc}")
                return 0
            backoff = min(MAX_BACKOFF, timedelta(seconds=2 ** min(attempts, 10)))
            await self._retry(oid, backoff, f"{type(exc).__name__}: {exc}")
            return 0
        await self._finish(oid, "sent", message_id=message_id)
        return 1

    async def _mark_sending(self, oid: int) -> None:
        await self.db.execute(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ?", (oid,)
        )

    async def _prepare(
        self, bot: Bot, row: dict[str, Any], chat_id: int, event_id: int
    ) -> Callable[[], Awaitable[int | None]]:
        """Render everything first; return the bare API call."""
        view = await build_alert(self.db, self.settings, event_id, chat_id)
        if view is None:
            raise BadRequest("sighting no longer exists")
        if row["kind"] == "alert":
            photo = await asyncio.to_thread(photo_with_boxes, self.photos, view.photo_sha256, view.boxes)

            async def send_alert() -> int | None:
                msg = await bot.send_photo(
                    chat_id,
                    photo,
                    caption=view.caption,
                    parse_mode=ParseMode.HTML,
                    reply_markup=view.keyboard,
                    read_timeout=READ_TIMEOUT,
                    write_timeout=WRITE_TIMEOUT,
                )
                return msg.message_id

            return send_alert
        alert_msg = await self.db.scalar(
            "SELECT message_id FROM outbox WHERE event_id = ? AND chat_id = ? AND kind = 'alert'",
            (event_id, chat_id),
        )

        async def refresh() -> int | None:
            if alert_msg is None:
                return None
            await bot.edit_message_caption(
                chat_id=chat_id,
                message_id=alert_msg,
                caption=view.caption,
                parse_mode=ParseMode.HTML,
                reply_markup=view.keyboard,
                read_timeout=READ_TIMEOUT,
                write_timeout=WRITE_TIMEOUT,
            )
            return int(alert_msg)

        return refresh

    async def _finish(
        self, oid: int, status: str, *, message_id: int | None = None, error: str | None = None
    ) -> None:
        await self.db.execute(
            "UPDATE outbox SET status = ?, message_id = COALESCE(?, message_id), sent_at = ?, "
            "last_error = COALESCE(?, last_error) WHERE id = ?",
            (status, message_id, iso(utcnow()) if status == "sent" else None, error, oid),
        )

    async def _retry(self, oid: int, after: timedelta, error: str) -> None:
        log.warning("outbox %s: %s; retrying in %ss", oid, error, after.total_seconds())
        await self.db.execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ? WHERE id = ?",
            (iso(utcnow() + after), error, oid),
        )

    async def _give_up(self, bot: Bot, oid: int, chat_id: int, event_id: int, error: str) -> None:
        log.error("outbox %s: alert for sighting #%s to chat %s failed: %s", oid, event_id, chat_id, error)
        await self._finish(oid, "failed", error=error)
        await self._notify_admins(bot, f"Alert for sighting #{event_id} to chat {chat_id} failed: {error}")

    async def _notify_admins(self, bot: Bot, text: str) -> None:
        self.admin_notices.append(text)
        for admin in self.settings.admin_ids:
            try:
                await bot.send_message(admin, text)
            except TelegramError as exc:
                log.error("cannot notify admin %s: %s", admin, exc)


def retry_seconds(exc: RetryAfter) -> float:
    # PTB 22 warns that retry_after becomes a timedelta in v23; accept both without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
