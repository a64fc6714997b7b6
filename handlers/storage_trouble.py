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
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.people import queue_admin_notice
from bot.services import services
from bot.text import t
from handlers.common import kick_outbox
from handlers.runtime import Runtime
from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)

RETRY_TICK = 5.0  # how often the retry job looks whether a round is due (backoff: handlers/runtime.py)
# Tries a download gets (the first and rounds of the backoff, ~7 min at the default) before the ranger
# is asked to send the file again: Telegram's own fetch of a file from its storage fails now and then.
DOWNLOAD_TRIES = 4
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
    retry = Runtime.of(context).retry
    retry.succeeded(update.update_id)
    retry.download_failures.pop(update.update_id, None)


def transient_download(exc: TelegramError) -> bool:
    """Worth trying again later with the same file_id: Telegram could not serve the file for now (400
    "file is temporarily unavailable"), asked us to wait, or the network failed. Not a file too big
    or a file_id Telegram does not know: those fail the same way every time."""
    if isinstance(exc, BadRequest):
        return "temporarily unavailable" in str(exc).lower()
    return isinstance(exc, NetworkError | RetryAfter)


async def download_not_done(
    update: Update, context: ContextTypes.DEFAULT_TYPE, msg: Message, lang: str, exc: TelegramError
) -> None:
    """A transient download failure: the update waits in the inbox and is handled again with the
    deferred updates' backoff, without the ranger's help. After DOWNLOAD_TRIES the ranger is asked to
    send the file again (once), and the update is finished."""
    loop, rt = asyncio.get_running_loop(), Runtime.of(context)
    failures = rt.retry.download_failures
    tries = failures.get(update.update_id, 0) + 1
    if tries >= DOWNLOAD_TRIES:
        failures.pop(update.update_id, None)
        rt.retry.succeeded(update.update_id)  # out of the retry rounds: this one is given up
        log.warning(
            "download in update %s failed %d times, the ranger is told: %s", update.update_id, tries, exc
        )
        await msg.reply_text(t(lang, "error.download"))
        return
    failures[update.update_id] = tries
    rt.inbox.defer([update.update_id])
    rt.retry.failed(update.update_id, loop.time())
    log.warning("download in update %s failed (try %d), tried again later: %s", update.update_id, tries, exc)


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
