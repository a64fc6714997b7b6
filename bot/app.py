"""Building the PTB Application once: the runtime holder and (in post_init) the services in bot_data,
handlers and jobs (handlers/__init__.py), the commands menu, and the lifecycle around them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, Update
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Updater
from telegram.request import HTTPXRequest

import handlers
from bot.botapi import Inbox, InboxBot
from bot.botapi.polling import PollingHealth
from bot.config import Settings
from bot.detection import Detector
from bot.people import queue_admin_notice
from bot.services import Services
from bot.text import LANGUAGES, t
from handlers import mailboxes
from handlers.photos import flush_album_receipts
from handlers.runtime import RUNTIME, Runtime

log = logging.getLogger(__name__)

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
    health = PollingHealth(
        settings.conflict_minutes,
        heartbeat_file=settings.heartbeat_file,
        heartbeat_minutes=settings.heartbeat_minutes,
    )
    bot = InboxBot(
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
        health=health,
    )
    app = (
        ApplicationBuilder()
        .updater(_Updater(bot=bot, update_queue=asyncio.Queue()))
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    # The settings and the detector wait here for post_init, where the services are made from them.
    app.bot_data[RUNTIME] = Runtime(settings, detector, inbox)
    # Polling that cannot go on (a revoked token, minutes of conflict) ends run_polling, which then
    # stops, shuts down and closes the services as after SIGTERM; `run` exits with health.exit_code.
    health.stop = app.stop_running

    async def notify(text: str, key: str) -> None:
        services: Services | None = app.bot_data.get("services")
        if services is not None and await queue_admin_notice(
            services.db, services.settings.admin_ids, text, dedup_key=key
        ):
            await services.notices.drain(app.bot)  # sending works while getUpdates conflicts

    health.notify = notify
    if app.job_queue is not None:  # PTB's timeouts never reach the error handler: the clock must watch
        app.job_queue.run_repeating(health.check, interval=60, first=60, name="polling-heartbeat")
    handlers.register(app)
    handlers.schedule_jobs(app)
    return app


class _Updater(Updater):
    """PTB's Updater, except that stop() does not re-raise the InvalidToken that ended polling: raised
    there, it made run_polling skip Application.stop and shutdown, so the services were never closed
    and aiosqlite's thread kept the process alive until SIGKILL."""

    async def stop(self) -> None:
        # Its last getUpdates (confirming the offset) meets the same 401 or 409: one line, no traceback.
        quiet = _NoTraceback()
        logging.getLogger("telegram.ext.Updater").addFilter(quiet)
        try:
            await super().stop()
        except InvalidToken:
            log.debug("polling had ended on a refused token (bot/botapi/polling.py said so)")
        finally:
            logging.getLogger("telegram.ext.Updater").removeFilter(quiet)


class _NoTraceback(logging.Filter):
    """What polling ended on was already said in one line (bot/botapi/polling.py)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], (InvalidToken, Conflict)):
            record.msg, record.args = f"{record.getMessage()} ({record.exc_info[1]})", ()
            record.exc_info = None
        return True


async def _post_init(app: Application) -> None:
    rt = Runtime.of(app)
    services = await Services.create(rt.settings, rt.detector)
    app.bot_data["services"] = services
    rt.inbox.db = services.db
    await rt.inbox.purge()
    await rt.inbox.replay(app)
    await services.outbox.recover(app.bot)
    await mailboxes.start(app)  # the camera mailboxes' pollers, from the services (none without mailboxes)
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


async def _post_stop(app: Application) -> None:
    """After Application.stop (every fetched update handled, the JobQueue stopped), before shutdown:
    the bot can still send, so work the stopped JobQueue dropped is finished here."""
    await mailboxes.stop_watchers(app)  # IMAP IDLE connections (bot/cameras/mail/idle.py)
    sent = await flush_album_receipts(app)
    if sent:
        log.info("sent %d album receipt(s) that were waiting at shutdown", sent)


async def _post_shutdown(app: Application) -> None:
    services: Services | None = app.bot_data.pop("services", None)
    if services is not None:
        await services.close()


@asynccontextmanager
async def running(app: Application, poll_timeout: int = 1) -> AsyncIterator[Application]:
    """Run the application inside an existing event loop (tests, demo, import); run_polling owns
    the loop itself, so this does the same steps by hand, post_init/post_stop/post_shutdown included."""
    if isinstance(app.bot, InboxBot):
        # stop_running would stop the caller's event loop: here the caller reads health.exit_code.
        app.bot.health.stop = None
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        assert app.updater is not None
        def polling_failed(exc: TelegramError) -> None:  # to the error handler, as run_polling does
            app.create_task(app.process_error(update=None, error=exc))

        await app.updater.start_polling(
            poll_interval=0.0,
            timeout=poll_timeout,
            allowed_updates=Update.ALL_TYPES,
            error_callback=polling_failed,
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
