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
from datetime import UTC, datetime

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.people import queue_admin_notice
from bot.services import services
from bot.text import t
from handlers.common import kick_outbox
from handlers.runtime import Runtime
from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)

RETRY_TICK = 5.0  # how often the retry job looks whether a round is due (backoff: handlers/runtime.py)
REPLY = {"disk_full": "error.storage_full", "io": "error.storage_failing", "database": "error.storage_busy"}


async def photo_not_stored(
    update: Update, context: ContextTypes.DEFAULT_TYPE, msg: Message, lang: str, exc: StorageUnavailable
) -> None:
    loop, rt = asyncio.get_running_loop(), Runtime.of(context)
    rt.inbox.defer([update.update_id])
    first = rt.retry.failed(update.update_id, loop.time())
    log.error("photo in update %s not stored, kept in the inbox for later: %s", update.update_id, exc)
    await _tell_admins(context, exc)
    if first:
        await msg.reply_text(t(lang, REPLY[exc.reason]))


def photo_stored(context: ContextTypes.DEFAULT_TYPE, update: Update) -> None:
    Runtime.of(context).retry.succeeded(update.update_id)


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
    key = f"storage:{exc.reason}:{datetime.now(UTC).date().isoformat()}"  # once a day per kind of trouble
    try:
        if await queue_admin_notice(svc.db, svc.settings.admin_ids, text, dedup_key=key):
            kick_outbox(context)
    except StorageUnavailable as again:  # the database may live on the same full disk
        log.error("could not queue the admin notice (%s): %s", again, text)


async def retry_deferred(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue job: queue the deferred updates again once their backoff has passed."""
    rt, now = Runtime.of(context), asyncio.get_running_loop().time()
    state, inbox = rt.retry, rt.inbox
    due = state.take_due(now)
    if not due:
        return
    # Undeferred first, so that the new attempt's mark_done finishes them (unless it defers again).
    inbox.undefer(due)
    try:
        queued = await inbox.retry_deferred(context.application, due)
    except StorageUnavailable as exc:
        inbox.defer(due)
        state.put_back(due, now)
        log.warning("cannot read deferred updates yet (%s); next try in %.0fs", exc, state.delay)
        return
    log.warning("storage trouble: trying %d deferred update(s) again", queued)
