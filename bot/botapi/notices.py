"""Sending the queued notices (bot/people/notices.py): retries, backoff, and what counts as final.

A 403 (the person never started the bot, or blocked it) or a 400 is final for that notice: it stays
'failed' in the table, and `leopard-watch doctor` lists the admin notices that never arrived. A 401 (the
token revoked) stops the drain and leaves the notice pending, uncounted.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError

from bot.botapi.errors import retry_seconds
from storage.db import Database, iso, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 30
MAX_BACKOFF = timedelta(minutes=30)


class NoticeSender:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = asyncio.Lock()
        self._token_refused = False  # a 401 in this drain: nothing more can be sent with the token

    async def drain(self, bot: Bot) -> int:
        """Send every due notice; returns how many went out. Safe to call concurrently."""
        async with self._lock:
            sent, self._token_refused = 0, False
            while not self._token_refused:
                row = await self.db.fetchone(
                    "SELECT id, chat_id, text, attempts FROM notices "
                    "WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT 1",
                    (iso(utcnow()),),
                )
                if row is None:
                    return sent
                nid, chat_id = int(row["id"]), int(row["chat_id"])
                sent += await self._send(bot, nid, chat_id, row["text"], int(row["attempts"]))
            return sent

    async def _send(self, bot: Bot, nid: int, chat_id: int, text: str, attempts: int) -> int:
        try:
            await bot.send_message(chat_id, text)
        except RetryAfter as exc:
            await self._later(nid, timedelta(seconds=retry_seconds(exc)), "429")
            return 0
        except InvalidToken as exc:
            # The token was revoked: not this notice's fault and not an attempt. It stays pending for the
            # next start; the process is stopping (bot/botapi/polling.py).
            self._token_refused = True
            error = f"401 {exc.message}"
            await self.db.execute("UPDATE notices SET last_error = ? WHERE id = ?", (error, nid))
            return 0
        except (Forbidden, BadRequest) as exc:
            # Retrying cannot help: the person has not started the bot, blocked it, or the text is bad.
            log.error("notice %s to %s refused: %s", nid, chat_id, exc.message)
            await self._end(nid, "failed", f"{type(exc).__name__}: {exc.message}")
            return 0
        except (TelegramError, OSError) as exc:
            if attempts + 1 >= MAX_ATTEMPTS:
                await self._end(nid, "failed", f"gave up: {exc}")
                return 0
            backoff = min(MAX_BACKOFF, timedelta(seconds=2 ** min(attempts + 1, 11)))
            await self._later(nid, backoff, f"{type(exc).__name__}: {exc}")
            return 0
        await self._end(nid, "sent", None)
        return 1

    async def _later(self, nid: int, after: timedelta, error: str) -> None:
        await self.db.execute(
            "UPDATE notices SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
            (iso(utcnow() + after), error, nid),
        )

    async def _end(self, nid: int, status: str, error: str | None) -> None:
        await self.db.execute(
            "UPDATE notices SET status = ?, attempts = attempts + 1, last_error = ?, sent_at = ? "
            "WHERE id = ?",
            (status, error, iso(utcnow()) if status == "sent" else None, nid),
        )
