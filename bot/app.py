"""Building the PTB Application once: services in bot_data, handlers, jobs, commands menu."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import HTTPXRequest

import handlers
from bot.botapi.inbox import Inbox, InboxBot, mark_done
from bot.cameras.mail import poller as mail_poller
from bot.config import Settings
from bot.detection.model import Detector
from bot.services import Services
from bot.text.i18n import LANGUAGES, pick_language, t
from handlers import storage_trouble
from handlers import summaries as summary_handlers
from handlers.common import drain_outbox
from handlers.photos import flush_album_receipts

log = logging.getLogger(__name__)

DONE_GROUP = 1_000  # after every handler group: the update is finished
OUTBOX_INTERVAL = 3.0  # seconds between periodic outbox runs (new alerts also kick it at once)
PRIVATE_COMMANDS = (
    "start",
    "help",
    "mine",
    "lang",
    "invite",
    "rangers",
    "restore",
    "station",
    "camera",
    "sighting",
    "compare",
    "export",
)
GROUP_COMMANDS = (
    "help", "week", "month", "sighting", "compare", "export", "register", "areas", "settings", "trusted",
    "coordinator", "ranger",
)  # fmt: skip


def build_application(settings: Settings, detector: Detector) -> Application:
    """The detector is loaded by the caller, before anything else, so a broken model stops start-up."""
    inbox = Inbox()
    app = (
        ApplicationBuilder()
        .bot(
            InboxBot(
                settings.token,
                base_url=settings.base_url,
                base_file_url=settings.base_file_url,
                local_mode=settings.local_mode,
                request=HTTPXRequest(connection_pool_size=64),
                get_updates_request=HTTPXRequest(connection_pool_size=1),
                # Flood limits per chat (PTB's limiter); a 429 is not retried here: the outbox
                # and the handlers' callers own retries.
                rate_limiter=AIORateLimiter(max_retries=0),
                inbox=inbox,
            )
        )
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data["settings"] = settings
    app.bot_data["detector"] = detector
    app.bot_data["inbox"] = inbox
    handlers.register(app)
    summary_handlers.register(app)
    app.add_handler(TypeHandler(Update, mark_done), group=DONE_GROUP)
    app.add_error_handler(_on_error)
    assert app.job_queue is not None
    app.job_queue.run_repeating(drain_outbox, OUTBOX_INTERVAL, first=0.5, name="outbox")
    app.job_queue.run_repeating(_purge_inbox, timedelta(days=1), first=timedelta(hours=1), name="inbox-purge")
    # Photos deferred because the disk or the database failed; the job keeps its own backoff.
    tick = storage_trouble.RETRY_TICK
    app.job_queue.run_repeating(storage_trouble.retry_deferred, tick, first=tick, name="storage-retry")
    mail_poller.schedule(app, settings)  # cellular cameras' mailboxes, if any (bot/cameras/mail/accounts.py)
    return app


async def _post_init(app: Application) -> None:
    services = await Services.create(app.bot_data["settings"], app.bot_data["detector"])
    app.bot_data["services"] = services
    inbox: Inbox = app.bot_data["inbox"]
    inbox.db = services.db
    await inbox.purge()
    await inbox.replay(app)
    await services.outbox.recover(app.bot)
    for lang in LANGUAGES:
        code = None if lang == "en" else lang
        await app.bot.set_my_commands(
            [BotCommand(c, t(lang, f"cmd.{c}")) for c in PRIVATE_COMMANDS],
            scope=BotCommandScopeAllPrivateChats(),
            language_code=code,
        )
        await app.bot.set_my_commands(
            [BotCommand(c, t(lang, f"cmd.{c}")) for c in GROUP_COMMANDS],
            scope=BotCommandScopeAllGroupChats(),
            language_code=code,
        )


async def _purge_inbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.bot_data["inbox"].purge()


async def _post_stop(app: Application) -> None:
    """After Application.stop (every fetched update handled, the JobQueue stopped), before shutdown:
    the bot can still send, so work the stopped JobQueue dropped is finished here."""
    await mail_poller.stop_watchers(app)  # IMAP IDLE connections (bot/cameras/mail/idle.py)
    sent = await flush_album_receipts(app)
    if sent:
        log.info("sent %d album receipt(s) that were waiting at shutdown", sent)


async def _post_shutdown(app: Application) -> None:
    services: Services | None = app.bot_data.pop("services", None)
    if services is not None:
        await services.close()


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message and update.effective_chat:
        if update.effective_chat.type == "private":
            try:
                await update.effective_message.reply_text(
                    t(
                        pick_language(update.effective_user.language_code if update.effective_user else None),
                        "error.internal",
                    )
                )
            except Exception:  # the error handler must never raise
                log.exception("could not tell the user about the error")


@asynccontextmanager
async def running(app: Application, poll_timeout: int = 1) -> AsyncIterator[Application]:
    """Run the application inside an existing event loop (tests, demo, import); run_polling owns
    the loop itself, so this does the same steps by hand, post_init/post_stop/post_shutdown included."""
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0.0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
        )
        await app.start()
        try:
            yield app
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
                if app.post_stop:  # as run_polling: only after a stop
                    await app.post_stop(app)
    finally:
        if app.post_shutdown:
            await app.post_shutdown(app)
        await app.shutdown()
