"""When the disk or the database cannot take a ranger's photo: keep the update, tell the truth, retry.

The update is already in the inbox table (bot/botapi/inbox.py records it before Telegram is told we have
it), so leaving it unfinished keeps it across restarts. While the bot runs, a JobQueue job queues
the deferred updates again, with backoff, until storage recovers; the photo is then handled as if it
had just arrived and the ranger gets the normal receipt. The ranger hears about the trouble once
per update; the admins once a day per kind of trouble (a durable notice, when the database works).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.botapi.inbox import DEFERRED, Inbox
from bot.people.notices import queue_admin_notice
from bot.services import services
from bot.text.i18n import t
from handlers.common import kick_outbox
from storage.db import utcnow
from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)

RETRY_FIRST = 60.0  # seconds before deferred photos are tried again
RETRY_LONGEST = 15 * 60.0  # the backoff doubles per round that fails again, up to this
RETRY_TICK = 5.0  # how often the retry job looks whether a round is due
STATE = "storage_retry"  # bot_data key of the StorageRetry
REPLY = {"disk_full": "error.storage_full", "io": "error.storage_failing", "database": "error.storage_busy"}


@dataclass
class StorageRetry:
    """Deferred updates and when to queue them again. Times are the event loop's clock."""

    waiting: set[int] = field(default_factory=set)  # to queue again at due_at
    retrying: set[int] = field(default_factory=set)  # queued again, outcome not known yet
    told: set[int] = field(default_factory=set)  # their rangers were told already
    delay: float = field(default_factory=lambda: RETRY_FIRST)
    due_at: float = 0.0
    _backed_off: bool = False  # the current round already doubled the delay

    def failed(self, update_id: int, now: float) -> bool:
        """Note a failure; True the first time for this update (its ranger is then told)."""
        if update_id in self.retrying:
            self.retrying.discard(update_id)
            if not self._backed_off:  # one doubling per round, however many of its photos fail
                self.delay, self._backed_off = min(self.delay * 2, RETRY_LONGEST), True
        if not self.waiting:
            self.due_at = now + self.delay
        self.waiting.add(update_id)
        first = update_id not in self.told
        self.told.add(update_id)
        return first

    def succeeded(self, update_id: int) -> None:
        if update_id in self.retrying:
            self.retrying.discard(update_id)
            self.delay = RETRY_FIRST  # storage is back: a new incident starts from the short wait
        self.told.discard(update_id)

    def take_due(self, now: float) -> list[int]:
        if not self.waiting or now < self.due_at:
            return []
        due = sorted(self.waiting)
        self.waiting.clear()
        self.retrying.update(due)
        self._backed_off = False
        return due

    def put_back(self, update_ids: Iterable[int], now: float) -> None:
        ids = set(update_ids)
        self.retrying -= ids
        self.waiting |= ids
        self.delay = min(self.delay * 2, RETRY_LONGEST)
        self.due_at = now + self.delay


def retry_state(bot_data: MutableMapping[str, Any]) -> StorageRetry:
    state: StorageRetry = bot_data.setdefault(STATE, StorageRetry())
    return state


def defer(bot_data: MutableMapping[str, Any], update_ids: Iterable[int]) -> None:
    """Keep these updates unfinished in the inbox: mark_done skips them."""
    bot_data.setdefault(DEFERRED, set()).update(update_ids)


def undefer(bot_data: MutableMapping[str, Any], update_ids: Iterable[int]) -> None:
    bot_data.setdefault(DEFERRED, set()).difference_update(update_ids)


async def photo_not_stored(
    update: Update, context: ContextTypes.DEFAULT_TYPE, msg: Message, lang: str, exc: StorageUnavailable
) -> None:
    loop = asyncio.get_running_loop()
    defer(context.bot_data, [update.update_id])
    first = retry_state(context.bot_data).failed(update.update_id, loop.time())
    log.error("photo in update %s not stored, kept in the inbox for later: %s", update.update_id, exc)
    await _tell_admins(context, exc)
    if first:
        await msg.reply_text(t(lang, REPLY[exc.reason]))


def photo_stored(context: ContextTypes.DEFAULT_TYPE, update: Update) -> None:
    retry_state(context.bot_data).succeeded(update.update_id)


async def _tell_admins(context: ContextTypes.DEFAULT_TYPE, exc: StorageUnavailable) -> None:
    if exc.reason == "database":
        # The notice queue is in that database: only the log can carry this.
        log.error("database unavailable, admins cannot be told through the bot: %s", exc.detail)
        return
    svc = services(context)
    try:
        free = f"{shutil.disk_usage(svc.settings.photo_dir).free / 2**20:.0f} MiB free"
    except OSError as usage_exc:
        free = f"free space unknown: {usage_exc}"
    full = exc.reason == "disk_full"
    trouble = "The server's disk is full" if full else "Writing to the server's disk fails"
    text = (
        f"{trouble} ({exc.detail}; photo store {free}). Rangers' photos cannot be saved: they are kept "
        "in the inbox and processed automatically once this is fixed. `leopard-watch doctor` shows "
        "the free space."
    )
    key = f"storage:{exc.reason}:{utcnow().date().isoformat()}"  # once a day per kind of trouble
    try:
        if await queue_admin_notice(svc.db, svc.settings.admin_ids, text, dedup_key=key):
            kick_outbox(context)
    except StorageUnavailable as again:  # the database may live on the same full disk
        log.error("could not queue the admin notice (%s): %s", again, text)


async def retry_deferred(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue job: queue the deferred updates again once their backoff has passed."""
    state, now = retry_state(context.bot_data), asyncio.get_running_loop().time()
    due = state.take_due(now)
    if not due:
        return
    # Undeferred first, so that the new attempt's mark_done finishes them (unless it defers again).
    undefer(context.bot_data, due)
    inbox: Inbox = context.bot_data["inbox"]
    try:
        queued = await inbox.retry_deferred(context.application, due)
    except StorageUnavailable as exc:
        defer(context.bot_data, due)
        state.put_back(due, now)
        log.warning("cannot read deferred updates yet (%s); next try in %.0fs", exc, state.delay)
        return
    log.warning("storage trouble: trying %d deferred update(s) again", queued)
