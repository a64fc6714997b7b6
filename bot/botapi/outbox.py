"""Durable alert delivery: the outbox table is the queue, this sender empties it.

Retry policy (bot/botapi/errors.py says what each answer means): 429 waits exactly retry_after;
network errors and 5xx back off exponentially; a group upgraded to a supergroup is moved and the alert
sent to its new id at once; a closed or deleted topic falls back to General; a group that forbids the
bot photos gets the alert as text; a group the bot was removed from (403, "chat not found") is
switched off with one admin notice; a group that muted the bot (can_send_messages off) keeps its
alerts pending, tries only the oldest one now and then and resumes in order when a my_chat_member
update or that try shows the bot may send again (admins told of both, once); an edit of an alert
someone deleted is recorded quietly; any other 400 gives up (logged, admins told), since the same
request cannot succeed later; a 401 (the token revoked) stops the drain and leaves the alert pending, as
the process is stopping.  A row is marked 'sending' before the API call, so after a
crash a row left in 'sending' may or may not have arrived: it is not sent again (an alert must
never arrive twice) and the admins are told to check that chat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.alerts import build_alert, photo_with_boxes
from bot.botapi.errors import Failure, Fate, classify, refine
from bot.botapi.keyboards import review_keyboard
from bot.config import Settings
from bot.people import Groups, queue_admin_notice
from bot.text import t
from storage.db import Database, iso, utcnow
from storage.photos import PhotoStore

log = logging.getLogger(__name__)


class PhotoUnavailable(Exception):
    """The alert's stored photo cannot be read."""

MAX_BACKOFF = timedelta(minutes=10)
MAX_ATTEMPTS = 50
# How often a group that muted the bot is asked again (its oldest waiting alert tried), for when the
# bot was unmuted while it was offline and no my_chat_member update will come.
MUTED_PROBE = timedelta(minutes=10)
# A timeout after the request went out is ambiguous: Telegram may have posted the alert and only its
# answer be late. PTB's defaults (5 s read, 20 s media write) would turn a slow field uplink into a
# retry, i.e. a second copy of the alert; waiting longer for the answer is the only remedy, as the
# Bot API has no idempotency key and no way to ask whether a message was posted.
READ_TIMEOUT, WRITE_TIMEOUT = 90.0, 120.0


async def hold_alerts(db: Database, chat_id: int, muted: bool) -> None:
    """A group's waiting alerts: until the next probe while the bot is muted there, else due at once
    (the same time for all, so that they go out oldest first)."""
    due = utcnow() + MUTED_PROBE if muted else utcnow()
    await db.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE chat_id = ? AND status = 'pending'", (iso(due), chat_id)
    )


class OutboxSender:
    def __init__(self, db: Database, photos: PhotoStore, settings: Settings) -> None:
        self.db = db
        self.photos = photos
        self.settings = settings
        self.groups = Groups(db, settings.timezone)
        self._lock = asyncio.Lock()
        self._token_refused = False  # a 401 in this drain: nothing more can be sent with the token

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
                key=f"interrupted:{row['id']}",
            )
        return len(rows)

    async def drain(self, bot: Bot) -> int:
        """Deliver every due row; returns how many were delivered. Safe to call concurrently."""
        async with self._lock:
            delivered, self._token_refused = 0, False
            while not self._token_refused:
                # Rows for a group the bot was removed from wait: a new /register there resumes them.
                row = await self.db.fetchone(
                    "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
                    "AND chat_id NOT IN (SELECT chat_id FROM groups WHERE active = 0) "
                    # A group that muted the bot: only its oldest waiting alert is tried, so that when
                    # the bot may send again the alerts go out in the order they were made.
                    "AND (kind = 'refresh' OR chat_id NOT IN "
                    "(SELECT chat_id FROM groups WHERE muted_since IS NOT NULL) OR id = "
                    "(SELECT MIN(o.id) FROM outbox o WHERE o.chat_id = outbox.chat_id "
                    "AND o.status = 'pending' AND o.kind = 'alert')) "
                    "ORDER BY kind = 'refresh', id LIMIT 1",
                    (iso(utcnow()),),
                )
                if row is None:
                    return delivered
                delivered += await self._deliver(bot, dict(row))
            return delivered

    async def _deliver(self, bot: Bot, row: dict[str, Any]) -> int:
        oid, chat_id, event_id = int(row["id"]), int(row["chat_id"]), int(row["event_id"])
        thread = await self.db.scalar("SELECT thread_id FROM groups WHERE chat_id = ?", (chat_id,))
        try:
            # A new alert is 'sending' only around the API call itself: the window in which a crash
            # leaves us unsure whether the group got it. An edit is marked before it is rendered, so
            # that a change arriving meanwhile queues its own edit (bot.alerts.routing.queue_refresh).
            if row["kind"] == "refresh":
                await self._mark_sending(oid)
            send = await self._prepare(bot, row, chat_id, event_id, thread)
            if row["kind"] == "alert":
                await self._mark_sending(oid)
            message_id = await send()
        except PhotoUnavailable as exc:
            await self.db.execute("UPDATE outbox SET format = 'text' WHERE id = ?", (oid,))
            await self._retry(oid, timedelta(0), f"photo unavailable: {exc}")
            await self._notify_admins(
                bot,
                f"The stored photo of sighting #{event_id} cannot be read ({exc}); its alert goes out as "
                "text. Check the photo store's disk (leopard-watch doctor).",
                key=f"photo-missing:{event_id}",
            )
            return 0
        except (TelegramError, OSError) as exc:
            failure = (
                await refine(bot, chat_id, classify(exc, in_topic=thread is not None))
                if isinstance(exc, TelegramError)
                else Failure(Fate.RETRY, f"{type(exc).__name__}: {exc}")
            )
            return await self._failed(bot, row, failure, thread)
        await self._finish(oid, "sent", message_id=message_id)
        muted = await self.db.scalar("SELECT muted_since FROM groups WHERE chat_id = ?", (chat_id,))
        if muted is not None and row["kind"] == "alert":
            await self.set_muted(chat_id, False, "an alert went out there")
        return 1

    async def set_muted(self, chat_id: int, muted: bool, why: str) -> bool:
        """The bot may not (muted), or may again, send in a group: the group's alerts wait until the next
        probe, or are due at once (oldest first: see drain). The admins are told once per change (bot.people
        Groups.set_muted); True when this call changed it."""
        if not await self.groups.set_muted(chat_id, muted, why=why, tell=self.settings.admin_ids):
            return False
        await hold_alerts(self.db, chat_id, muted)
        return True

    async def _failed(self, bot: Bot, row: dict[str, Any], failure: Failure, thread: int | None) -> int:
        """What each Bot API answer means for this row; see bot/botapi/errors.py."""
        oid, chat_id, event_id = int(row["id"]), int(row["chat_id"]), int(row["event_id"])
        fate, detail = failure.fate, failure.detail
        if fate is Fate.NOT_MODIFIED:
            await self._finish(oid, "sent")
            return 1
        if fate is Fate.MESSAGE_GONE:
            # Someone deleted the alert in the chat: nothing left to correct, and nothing to tell anyone.
            log.info("outbox %s: alert for sighting #%s in chat %s was deleted there", oid, event_id, chat_id)
            await self._finish(oid, "failed", error=f"{detail} (the alert was deleted in the chat)")
            return 0
        if fate is Fate.MUTED:
            # Not an attempt, and never given up: the alert waits, as a photo if it was one (a muted
            # bot's photo is refused before its text), with the chat's others, until the bot may send.
            was_photo = row["format"] == "text" and "send photos" in str(row["last_error"] or "")
            await self.db.execute(
                "UPDATE outbox SET status = 'pending', attempts = MAX(attempts - 1, 0), last_error = ?, "
                "format = CASE WHEN ? THEN 'photo' ELSE format END WHERE id = ?",
                (detail, was_photo, oid),
            )
            if not await self.set_muted(chat_id, True, detail):
                await hold_alerts(self.db, chat_id, True)  # known muted: the next probe, not sooner
            return 0
        if fate is Fate.STOP:
            # Not sent, and not an attempt: pending and due, for the next start with a valid token.
            log.error("outbox %s: %s; the token was refused, alerts wait for the next start", oid, detail)
            self._token_refused = True
            await self.db.execute(
                "UPDATE outbox SET status = 'pending', attempts = MAX(attempts - 1, 0), last_error = ? "
                "WHERE id = ?",
                (detail, oid),
            )
            return 0
        if fate is Fate.WAIT:
            await self._retry(oid, timedelta(seconds=failure.wait), detail)
        elif fate is Fate.MIGRATED and failure.new_chat_id is not None:
            await self.groups.migrate(chat_id, failure.new_chat_id)
            # Also rows of a chat that was never (or is no longer) a registered group.
            await self.db.execute(
                "UPDATE outbox SET chat_id = ? WHERE chat_id = ?", (failure.new_chat_id, chat_id)
            )
            await self._again_now(
                bot,
                oid,
                detail,
                f"Group {chat_id} became a supergroup ({failure.new_chat_id}); its registration, settings "
                "and alerts moved there.",
                key=f"migrated:{chat_id}",
            )
        elif fate is Fate.TOPIC_GONE:
            await self.groups.update(chat_id, thread_id=None)
            await self._again_now(
                bot,
                oid,
                detail,
                f"The topic group {chat_id} registered alerts in (thread {thread}) is closed or deleted "
                f"({detail}); alerts now go to General. Send /register in a topic to choose another.",
                key=f"topic-gone:{chat_id}:{thread}",
            )
        elif fate is Fate.NO_MEDIA and await self.set_muted(chat_id, False, "its restriction was lifted"):
            # A photo refused while the group was marked muted, yet the bot is muted no more (refine
            # asked): the mute was lifted meanwhile. The photo is tried again before concluding that
            # the group forbids photos.
            await self._retry(oid, timedelta(0), detail)
        elif fate is Fate.NO_MEDIA and row["kind"] == "alert" and row["format"] == "photo":
            await self.db.execute("UPDATE outbox SET format = 'text' WHERE id = ?", (oid,))
            await self._again_now(
                bot,
                oid,
                detail,
                f"Group {chat_id} does not let the bot send photos ({detail}); alerts go there as text "
                "with /sighting N for the photo. Allow the bot to send photos to get them in the group.",
                key=f"no-media:{chat_id}",
            )
        elif fate is Fate.CHAT_GONE:
            await self._finish(oid, "failed", error=detail)
            if await self.groups.deactivate(chat_id, detail):
                await self._notify_admins(
                    bot,
                    f"Alert for sighting #{event_id} to chat {chat_id} failed: {detail}. The group is "
                    "switched off; its other alerts wait until an admin sends /register there again.",
                )
        elif fate in (Fate.RETRY, Fate.TOPIC_CLOSED):
            if fate is Fate.TOPIC_CLOSED:
                await self._notify_admins(
                    bot,
                    f"Group {chat_id} has its General topic closed ({detail}): alerts cannot be posted. "
                    "Reopen General, or send /register in an open topic.",
                    key=f"general-closed:{chat_id}",
                )
            attempts = int(row["attempts"]) + 1
            if attempts >= MAX_ATTEMPTS:
                await self._give_up(bot, oid, chat_id, event_id, f"gave up after {attempts}: {detail}")
                return 0
            backoff = min(MAX_BACKOFF, timedelta(seconds=2 ** min(attempts, 10)))
            await self._retry(oid, backoff, detail)
        else:
            await self._give_up(bot, oid, chat_id, event_id, detail)
        return 0

    async def _again_now(self, bot: Bot, oid: int, detail: str, notice: str, *, key: str) -> None:
        """The same alert, re-routed (new chat id, General, text): due at once; the admins told once."""
        await self._retry(oid, timedelta(0), detail)
        await self._notify_admins(bot, notice, key=key)

    async def _mark_sending(self, oid: int) -> None:
        await self.db.execute(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ?", (oid,)
        )

    async def _prepare(
        self, bot: Bot, row: dict[str, Any], chat_id: int, event_id: int, thread: int | None
    ) -> Callable[[], Awaitable[int | None]]:
        """Render everything first; return the bare API call."""
        view = await build_alert(self.db, self.settings, event_id, chat_id)
        if view is None:
            raise BadRequest("sighting no longer exists")
        # A closed alert (its photo swapped out by the sender) is edited without buttons: they go.
        keyboard = (
            None if view.closed else review_keyboard(view.lang, view.event_id, view.status, view.reviewer)
        )
        as_text = row["format"] == "text"
        note = await self._text_only_note(chat_id, event_id)
        text = f"{view.caption}\n{note}"
        if row["kind"] == "alert":
            if as_text:

                async def send_text() -> int | None:
                    msg = await bot.send_message(
                        chat_id,
                        text,
                        parse_mode=ParseMode.HTML,
                        reply_markup=keyboard,
                        message_thread_id=thread,
                        disable_web_page_preview=True,
                        read_timeout=READ_TIMEOUT,
                        write_timeout=WRITE_TIMEOUT,
                    )
                    return msg.message_id

                return send_text
            try:
                photo = await asyncio.to_thread(
                    photo_with_boxes, self.photos, view.photo_sha256, view.boxes, blank=not view.exact
                )
            except (OSError, ValueError) as exc:
                # The stored photo is gone or unreadable (disk trouble): the alert must still go out
                # now, as text; waiting cannot bring the file back.
                raise PhotoUnavailable(str(exc)) from exc

            async def send_alert() -> int | None:
                msg = await bot.send_photo(
                    chat_id,
                    photo,
                    caption=view.caption,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard,
                    message_thread_id=thread,
                    read_timeout=READ_TIMEOUT,
                    write_timeout=WRITE_TIMEOUT,
                )
                return msg.message_id

            return send_alert
        alert = await self.db.fetchone(
            "SELECT message_id, format FROM outbox WHERE event_id = ? AND chat_id = ? AND kind = 'alert'",
            (event_id, chat_id),
        )

        async def refresh() -> int | None:
            if alert is None or alert["message_id"] is None:
                return None
            if alert["format"] == "text":
                await bot.edit_message_text(
                    text,
                    chat_id=chat_id,
                    message_id=alert["message_id"],
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard,
                    disable_web_page_preview=True,
                    read_timeout=READ_TIMEOUT,
                    write_timeout=WRITE_TIMEOUT,
                )
            else:
                await bot.edit_message_caption(
                    chat_id=chat_id,
                    message_id=alert["message_id"],
                    caption=view.caption,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard,
                    read_timeout=READ_TIMEOUT,
                    write_timeout=WRITE_TIMEOUT,
                )
            return int(alert["message_id"])

        return refresh

    async def _text_only_note(self, chat_id: int, event_id: int) -> str:
        """Why this alert is text: the photo file is unreadable, or the group forbids photos."""
        lang = await self.db.scalar("SELECT language FROM groups WHERE chat_id = ?", (chat_id,))
        sha = await self.db.scalar("SELECT photo_sha256 FROM sightings WHERE id = ?", (event_id,))
        readable = sha is not None and await asyncio.to_thread(self._readable, str(sha))
        return t(lang or "ru", "alert.text_only" if readable else "alert.photo_missing", id=event_id)

    def _readable(self, sha256: str) -> bool:
        try:
            return self.photos.path_for(sha256).is_file()
        except ValueError:
            return False

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

    async def _notify_admins(self, bot: Bot, text: str, *, key: str | None = None) -> None:
        """Queue a durable notice to every admin (bot.people.notices): an admin who has not started the bot
        keeps it as 'failed' for `leopard-watch doctor`, and key makes it once per cause, across
        restarts. Nothing is sent from here: the periodic drain and kick_outbox deliver notices, so
        a slow or refused admin chat never holds up the alert queue (bot stays for the callers)."""
        await queue_admin_notice(self.db, self.settings.admin_ids, text, dedup_key=key)
