"""Polling the camera mailbox: a JobQueue job (bot/app.py, only when LW_MAIL_HOST is set) starts one
poll at a time; a poll takes everything new, a backlog included, in the background.

Order of work in a poll, so that a crash anywhere is repaired by the next one (bot/mail/ledger.py):
flag what was finished but not flagged, fetch again what was 'processing', then the new messages. Messages
are handled a few at a time (one more than there are detector workers), so that while the detector
works the next message is already fetched, parsed and stored: a backlog drains at the detector's rate
(bench/mail.py; README, "Cellular cameras": with only as many messages as workers it fell well short).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from telegram.ext import Application, ContextTypes

from bot.cameras import CameraError
from bot.config import Settings
from bot.mail.client import Envelope, Mailbox, MailError
from bot.mail.intake import MailIntake
from bot.mail.ledger import Ledger, MessageRef
from bot.mail.match import allowed
from bot.notices import queue_admin_notice
from bot.services import Services
from storage.db import utcnow
from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)

POLLER = "mail_poller"  # bot_data key
LOGIN_FAILURES_BEFORE_NOTICE = 3


@dataclass
class PollReport:
    handled: int = 0  # messages finished in this poll
    photos: int = 0  # new sightings
    alerts: int = 0
    rejected: int = 0
    flagged: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: bool = False  # storage trouble or shutdown: the rest waits for the next poll


class MailPoller:
    def __init__(
        self,
        settings: Settings,
        intake: MailIntake,
        *,
        kick: Callable[[], None] | None = None,
        parallel: int | None = None,
    ) -> None:
        self.settings = settings
        self.intake = intake
        self.ledger = Ledger(intake.db)
        self.kick = kick or (lambda: None)
        self.parallel = max(1, parallel or settings.detector_workers + 1)
        self.busy = False
        self.login_failures = 0

    async def run_once(self, should_stop: Callable[[], bool] = lambda: False) -> PollReport | None:
        """One poll; failures are logged (and told to the admins if the login keeps failing), never raised."""
        if self.busy:
            return None
        self.busy = True
        try:
            report = await self.poll_once(should_stop)
            if self.login_failures:
                log.info("mailbox %s reachable again", self.settings.mail_host)
            self.login_failures = 0
            return report
        except MailError as exc:
            await self._failed(exc)
            return None
        except StorageUnavailable as exc:
            log.warning("mail poll stopped: storage unavailable (%s); trying again at the next poll", exc)
            return None
        except Exception:  # a bug must not end polling: the next interval tries again
            log.exception("mail poll failed; trying again at the next poll")
            return None
        finally:
            self.busy = False

    async def _failed(self, exc: MailError) -> None:
        self.login_failures += 1
        if self.login_failures == 1 or self.login_failures % 60 == 0:
            log.error("camera mailbox: %s", exc)
        if exc.reason in ("login", "tls", "folder") and self.login_failures == LOGIN_FAILURES_BEFORE_NOTICE:
            await queue_admin_notice(
                self.intake.db,
                self.settings.admin_ids,
                f"The camera mailbox does not work: {exc}. Cellular cameras' photos wait in the mailbox "
                "until this is fixed; `leopard-watch doctor` checks the login.",
                dedup_key=f"mail-login:{utcnow().date().isoformat()}",
            )
            self.kick()

    async def poll_once(self, should_stop: Callable[[], bool] = lambda: False) -> PollReport:
        """Raises MailError when the mailbox cannot be opened."""
        report = PollReport()
        async with Mailbox(self.settings) as box:
            key, validity = box.key, box.uidvalidity
            if await self.ledger.supersede(key, validity):
                log.warning(
                    "mailbox %s was renumbered (UIDVALIDITY %s): unfinished messages are taken afresh",
                    key,
                    validity,
                )
            await self._flag(box, await self.ledger.unflagged(key, validity), report)
            replay = await self.ledger.unfinished(key, validity)
            if replay:
                log.warning("replaying %d camera e-mail(s) left unfinished by the last run", len(replay))
            found = await box.search_new(await self.ledger.high_water(key, validity))
            known = await self.ledger.known(key, validity, found)
            todo = sorted(
                set(replay) | {u for u in found if u not in known or known[u].status == "processing"}
            )
            if todo:
                await self._take(box, todo, report, should_stop)
        return report

    async def _take(
        self, box: Mailbox, uids: list[int], report: PollReport, should_stop: Callable[[], bool]
    ) -> None:
        envelopes = await box.envelopes(uids)
        slots = asyncio.Semaphore(self.parallel)
        running: list[asyncio.Task[None]] = []
        for uid in uids:
            await slots.acquire()
            if report.stopped or should_stop():
                slots.release()
                report.stopped = True
                break
            envelope = envelopes.get(uid)
            if envelope is None:  # gone from the folder since the search (deleted by a person)
                slots.release()
                continue
            running.append(asyncio.create_task(self._one(box, envelope, report, slots)))
        # Every task ends before the connection closes; a broken connection is raised once all have.
        for result in await asyncio.gather(*running, return_exceptions=True):
            if isinstance(result, BaseException):
                raise result

    async def _one(
        self, box: Mailbox, envelope: Envelope, report: PollReport, slots: asyncio.Semaphore
    ) -> None:
        ref = MessageRef(box.key, box.uidvalidity, envelope.uid)
        try:
            if envelope.size > self.settings.mail_max_mb * 2**20:
                await self._too_large(ref, envelope)
                report.rejected += 1
                await self._flag(box, [envelope.uid], report)
                return
            raw = await box.fetch(envelope.uid)
            if raw is None:
                return
            outcome = await self.intake.handle(raw, ref)
            if outcome.status in ("done", "rejected"):
                report.handled += not outcome.already
                report.rejected += outcome.status == "rejected"
                report.photos += outcome.new
                report.alerts += outcome.alerts
                await self._flag(box, [envelope.uid], report)
            if outcome.deliver:
                self.kick()  # alerts and notices go out now, not at the next outbox run
        except StorageUnavailable as exc:
            report.stopped = True
            report.errors.append(f"UID {envelope.uid}: storage: {exc}")
            entry = await self.ledger.get(ref)
            if entry is not None:
                await self.ledger.storage_trouble(entry)
            log.warning("camera e-mail UID %s waits: storage unavailable (%s)", envelope.uid, exc)
        except MailError:
            report.stopped = True  # the connection broke: the next poll reconnects and goes on
            raise
        except Exception as exc:
            # A bug or a message no rule foresaw: left 'processing' (unread on the server) and tried again at
            # the next poll, until the ledger gives up on it and tells the admins.
            report.errors.append(f"UID {envelope.uid}: {type(exc).__name__}: {exc}")
            log.exception("camera e-mail UID %s failed; it will be tried again", envelope.uid)
            entry = await self.ledger.get(ref)
            if entry is not None:
                await self.ledger.error(entry, f"{type(exc).__name__}: {exc}")
        finally:
            slots.release()

    async def _too_large(self, ref: MessageRef, envelope: Envelope) -> None:
        mb = envelope.size / 2**20
        log.warning(
            "camera e-mail UID %s from %s is %.0f MB (limit LW_MAIL_MAX_MB=%g): not downloaded",
            ref.uid,
            envelope.sender,
            mb,
            self.settings.mail_max_mb,
        )
        await self.ledger.record_reject(
            ref,
            f"too_large: {mb:.1f} MB",
            message_id=envelope.message_id,
            sender=envelope.sender,
            subject=envelope.subject,
        )
        trusted = allowed(envelope.sender, self.settings.mail_allow_list) or any(
            envelope.sender == r.value for c in await self.intake.cameras.all() for r in c.rules
        )
        if trusted:  # a camera's photos would be lost unnoticed; spam is not worth a message
            await queue_admin_notice(
                self.intake.db,
                self.settings.admin_ids,
                f"A camera e-mail from {envelope.sender} is {mb:.0f} MB, over LW_MAIL_MAX_MB="
                f"{self.settings.mail_max_mb:g}: it was not downloaded and stays in the mailbox.",
                dedup_key=f"mail-too-large:{ref.mailbox}:{ref.uidvalidity}:{ref.uid}",
            )

    async def _flag(self, box: Mailbox, uids: list[int], report: PollReport) -> None:
        if uids:
            await box.mark_handled(uids)
            await self.ledger.flagged(box.key, box.uidvalidity, uids)
            report.flagged += len(uids)


async def mail_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The repeating JobQueue job: start a poll unless one is still running (a backlog can outlast the
    interval; overlapping polls would fetch the same messages twice)."""
    app = context.application
    if not app.running:  # fired while the bot stops: a poll now would be cut short anyway
        return
    poller: MailPoller | None = app.bot_data.get(POLLER)
    if poller is None:
        poller = await _make_poller(app)
        app.bot_data[POLLER] = poller
    if not poller.busy:
        app.create_task(poller.run_once(should_stop=lambda: not app.running), name="mail-poll")


async def _make_poller(app: Application) -> MailPoller:
    svc: Services = app.bot_data["services"]
    # getattr: the video intake is optional for mail (without it, video attachments are skipped).
    intake = MailIntake(svc.db, svc.sightings, svc.stations, svc.settings, getattr(svc, "videos", None))
    if svc.settings.cameras_file:
        try:
            count = await intake.cameras.load_file(Path(svc.settings.cameras_file))
            log.info("%d camera(s) read from %s", count, svc.settings.cameras_file)
        except CameraError as exc:
            log.error("LW_CAMERAS_FILE: %s", exc)
            await queue_admin_notice(
                svc.db,
                svc.settings.admin_ids,
                f"LW_CAMERAS_FILE was not read: {exc}",
                dedup_key=f"cameras-file:{exc}",
            )

    return MailPoller(svc.settings, intake, kick=_Kick(app, svc))


class _Kick:
    """Deliver alerts and notices now, not at the next outbox run. Kicks coalesce: a backlog of 500
    messages asks 500 times, and one delivery pass at a time (plus one more if asked meanwhile) covers
    them all, where 500 queued passes would hold the outbox lock and starve its periodic job."""

    def __init__(self, app: Application, svc: Services) -> None:
        self.app, self.svc = app, svc
        self.running = self.again = False

    def __call__(self) -> None:
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
