"""The camera mailboxes' jobs: a repeating JobQueue job per mailbox starts a poll of it (MailPoller,
bot/cameras/mail/poller.py) unless one is still running, an IMAP IDLE watcher asks for one as soon as mail
arrives, and what a poll queued (alerts, notices) goes out at once through one coalescing kick.

The pollers are made at start-up from the services (start, from bot/app.py post_init), after
LW_CAMERAS_FILE is read, so the first poll already knows the cameras; the jobs are scheduled with every
other job in handlers/__init__.py (schedule_jobs). A watcher is made by its mailbox's first job run: it
holds a connection and a thread, which only a running bot opens, and stop_watchers (post_stop) ends them.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram.ext import Application, ContextTypes

from bot.cameras import CameraError
from bot.cameras.mail import IdleWatcher, MailAccount, MailPoller, accounts
from bot.people import queue_admin_notice
from bot.services import Services, services
from handlers.runtime import Runtime

log = logging.getLogger(__name__)


def schedule(app: Application) -> list[MailAccount]:
    """One repeating job per mailbox, each at its own interval; none when no mailbox is configured."""
    found = accounts(Runtime.of(app).settings)
    assert app.job_queue is not None
    for account in found:
        # The jobs are added before the scheduler starts. A repeating job whose first run falls before
        # the start is moved by its trigger to the next whole interval (60 s in production); a one-off
        # run that is late is dropped as misfired. So the first poll is a one-off that may be late,
        # and the repeating job starts one interval on.
        app.job_queue.run_once(
            mail_job,
            1.0,
            name=f"mail-first:{account.name}",
            data=account,
            job_kwargs={"misfire_grace_time": None},
        )
        app.job_queue.run_repeating(
            mail_job,
            account.poll_seconds,
            first=account.poll_seconds,
            name=f"mail:{account.name}",
            data=account,
        )
    return found


async def start(app: Application) -> None:
    """A poller per mailbox, all sharing the services' MailIntake and one kick. Nothing without a
    mailbox: no camera mail can arrive, and LW_CAMERAS_FILE is not read either."""
    rt = Runtime.of(app)
    found = accounts(rt.settings)
    if not found:
        return
    svc = services(app)
    await _read_cameras_file(svc)
    kick = _Kick(app, svc)
    for account in found:
        rt.mail_pollers[account.name] = MailPoller(svc.settings, svc.mail, account=account, kick=kick)


async def mail_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A mailbox's repeating JobQueue job: start a poll unless one is still running (a backlog can outlast
    the interval; overlapping polls would fetch the same messages twice)."""
    app = context.application
    if not app.running:  # fired while the bot stops: a poll now would be cut short anyway
        return
    assert context.job is not None
    account: MailAccount = context.job.data  # type: ignore[assignment]
    rt = Runtime.of(app)
    poller = rt.mail_pollers[account.name]
    if account.idle != "off" and account.name not in rt.mail_watchers:
        watcher = IdleWatcher(account, wake=lambda: _announced(app, poller))
        rt.mail_watchers[account.name] = watcher
        watcher.start()
    if not poller.busy:
        _start(app, poller)


def _start(app: Application, poller: MailPoller) -> None:
    app.create_task(
        poller.run_once(should_stop=lambda: not app.running), name=f"mail-poll:{poller.account.name}"
    )


def _announced(app: Application, poller: MailPoller) -> None:
    if app.running and poller.wanted():
        _start(app, poller)


async def stop_watchers(app: Application) -> None:
    """After Application.stop (bot/app.py _post_stop): no poll can start any more, so nothing is lost;
    each watcher's wait is cut short and its thread ends."""
    watchers = Runtime.of(app).mail_watchers
    stopping = list(watchers.values())
    watchers.clear()
    await asyncio.gather(*(w.stop() for w in stopping))


async def _read_cameras_file(svc: Services) -> None:
    """LW_CAMERAS_FILE, once for all mailboxes; a bad file is told to the admins, and mail still flows."""
    if not svc.settings.cameras_file:
        return
    try:
        count = await svc.cameras.load_file(Path(svc.settings.cameras_file))
        log.info("%d camera(s) read from %s", count, svc.settings.cameras_file)
    except CameraError as exc:
        log.error("LW_CAMERAS_FILE: %s", exc)
        await queue_admin_notice(
            svc.db,
            svc.settings.admin_ids,
            f"LW_CAMERAS_FILE was not read: {exc}",
            dedup_key=f"cameras-file:{exc}",
        )


class _Kick:
    """Deliver alerts and notices now, not at the next outbox run. Kicks coalesce: a backlog of 500
    messages asks 500 times, and one delivery pass at a time (plus one more if asked meanwhile) covers
    them all, where 500 queued passes would hold the outbox lock and starve its periodic job."""

    def __init__(self, app: Application, svc: Services) -> None:
        self.app, self.svc = app, svc
        self.running = self.again = False

    def __call__(self) -> None:
        if not self.app.running:
            # Shutting down: a task now would not be awaited. The alerts wait in the outbox, which the
            # next start delivers (Outbox.recover), as every other queued alert.
            return
        if self.running:
            self.again = True
            return
        self.running = True
        self.app.create_task(self._drain(), name="mail-kick")

    async def _drain(self) -> None:
        try:
            while True:
                self.again = False
                await self.svc.outbox.drain(self.app.bot)
                await self.svc.notices.drain(self.app.bot)
                if not self.again:
                    return
        finally:
            self.running = False
