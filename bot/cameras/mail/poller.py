"""Polling the camera mailboxes: a MailPoller per mailbox (bot/cameras/mail/accounts.py lists them) runs one
poll of it at a time; a poll takes everything new, a backlog included. Mailboxes are polled independently
(one that is down holds up no other) and share one MailIntake: the same cameras, the same SHA-256 dedup,
the same alerts. Who starts the polls is handlers/mailboxes.py: a JobQueue job per mailbox at its
interval, and, where the server offers IMAP IDLE, a watcher (bot/cameras/mail/idle.py) that asks for a
poll as soon as mail arrives; the interval stays as the safety net.

Order of work in a poll, so that a crash anywhere is repaired by the next one (bot/cameras/mail/ledger.py):
flag what was finished but not flagged, fetch again what was 'processing', then the new messages. Messages
are handled a few at a time (one more than there are detector workers), so that while the detector
works the next message is already fetched, parsed and stored: a backlog drains at the detector's rate
(bench/mail.py; docs/PERFORMANCE.md, "Cellular cameras": with only as many messages as workers it fell
well short).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.cameras.mail.accounts import MailAccount, main_account
from bot.cameras.mail.client import Envelope, Mailbox, MailError
from bot.cameras.mail.intake import MailIntake
from bot.cameras.mail.ledger import Ledger, MessageRef
from bot.cameras.mail.match import allowed
from bot.config import Settings
from bot.people import queue_admin_notice
from bot.text import plain
from storage.db import utcnow
from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)

LOGIN_FAILURES_BEFORE_NOTICE = 3


@dataclass
class PollReport:
    handled: int = 0  # messages finished in this poll
    photos: int = 0  # new sightings
    alerts: int = 0
    rejected: int = 0
    quarantined: int = 0  # over a cap (bot/cameras/mail/limits.py): left unread in the mailbox
    flagged: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: bool = False  # storage trouble or shutdown: the rest waits for the next poll


class MailPoller:
    def __init__(
        self,
        settings: Settings,
        intake: MailIntake,
        *,
        account: MailAccount | None = None,  # None: the LW_MAIL_* mailbox
        kick: Callable[[], None] | None = None,
        parallel: int | None = None,
    ) -> None:
        self.settings = settings
        found = account or main_account(settings)
        if found is None:
            raise ValueError("no mailbox: LW_MAIL_HOST is empty and no account was given")
        self.account = found
        self.intake = intake
        self.ledger = Ledger(intake.db)
        self.kick = kick or (lambda: None)
        self.parallel = max(1, parallel or settings.detector_workers + 1)
        self.busy = False
        self.again = False  # mail was announced during a poll: one more poll right after it
        self.login_failures = 0
        # Polls run so far (to their end or to a failure). The poller exists from the start, so this,
        # not its existence, says whether the first poll has happened.
        self.polls = 0

    def wanted(self) -> bool:
        """New mail is announced (IMAP IDLE). True: no poll is running, the caller starts one. False: the
        running one polls again as soon as it ends, since its search may have come before the mail."""
        if self.busy:
            self.again = True
            return False
        return True

    async def run_once(self, should_stop: Callable[[], bool] = lambda: False) -> PollReport | None:
        """One poll (again while mail is announced meanwhile); failures are logged (and told to the admins
        if the login keeps failing), never raised. The last poll's report."""
        if self.busy:
            return None
        self.busy = True
        try:
            while True:
                self.again = False
                report = await self._run(should_stop)
                self.polls += 1
                if report is None or not self.again or should_stop():
                    return report
        finally:
            self.busy = False

    async def _run(self, should_stop: Callable[[], bool]) -> PollReport | None:
        try:
            report = await self.poll_once(should_stop)
            if self.login_failures:
                log.info("%s reachable again", self.account.label)
            self.login_failures = 0
            return report
        except MailError as exc:
            await self._failed(exc)
            return None
        except StorageUnavailable as exc:
            log.warning(
                "poll of %s stopped: storage unavailable (%s); trying again at the next poll",
                self.account.name,
                exc,
            )
            return None
        except Exception:  # a bug must not end polling: the next interval tries again
            log.exception("poll of %s failed; trying again at the next poll", self.account.label)
            return None

    async def _failed(self, exc: MailError) -> None:
        self.login_failures += 1
        if self.login_failures == 1 or self.login_failures % 60 == 0:
            log.error("camera %s: %s", self.account.label, exc)
        if exc.reason in ("login", "tls", "folder") and self.login_failures == LOGIN_FAILURES_BEFORE_NOTICE:
            a = self.account
            await queue_admin_notice(
                self.intake.db,
                self.settings.admin_ids,
                f"The camera {a.label} does not work: {exc}. Cellular cameras' photos wait in that "
                f"mailbox until this is fixed ({advice(a, exc.reason)}); `leopard-watch doctor` checks "
                "the login.",
                dedup_key=f"mail-login:{a.name}:{utcnow().date().isoformat()}",
            )
            self.kick()

    async def poll_once(self, should_stop: Callable[[], bool] = lambda: False) -> PollReport:
        """Raises MailError when the mailbox cannot be opened."""
        report = PollReport()
        async with Mailbox(self.account) as box:
            key, validity = box.key, box.uidvalidity
            if await self.ledger.supersede(key, validity):
                log.warning(
                    "%s was renumbered (UIDVALIDITY %s): unfinished messages are taken afresh",
                    key,
                    validity,
                )
            await self._flag(box, await self.ledger.unflagged(key, validity), report)
            replay = await self.ledger.unfinished(key, validity)
            if replay:
                log.warning(
                    "replaying %d camera e-mail(s) of mailbox %s left unfinished by the last run",
                    len(replay),
                    self.account.name,
                )
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
            # 'quarantined' (and 'failed') stay unread on the server for a person: never flagged.
            report.quarantined += outcome.status == "quarantined" and not outcome.already
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
            "camera e-mail UID %s of mailbox %s from %s is %.0f MB (limit LW_MAIL_MAX_MB=%g): not downloaded",
            ref.uid,
            self.account.name,
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
                f"A camera e-mail from {plain(envelope.sender, 120)} is {mb:.0f} MB, over LW_MAIL_MAX_MB="
                f"{self.settings.mail_max_mb:g}: it was not downloaded and stays in {self.account.label}.",
                dedup_key=f"mail-too-large:{ref.mailbox}:{ref.uidvalidity}:{ref.uid}",
            )

    async def _flag(self, box: Mailbox, uids: list[int], report: PollReport) -> None:
        if uids:
            await box.mark_handled(uids)
            await self.ledger.flagged(box.key, box.uidvalidity, uids)
            report.flagged += len(uids)


def advice(account: MailAccount, reason: str) -> str:
    """What to check when a mailbox refuses, naming the setting where this mailbox is configured."""
    a = account
    return {
        "login": f"check {a.setting('user')} and {a.setting('password')} (mail services want app passwords)",
        "tls": f"check {a.setting('tls')} and {a.setting('port')} (ssl: 993, starttls: 143)",
        "folder": f"check {a.setting('folder')}",
        "connect": f"check {a.setting('host')} and {a.setting('port')}, and that the server is reachable",
    }.get(reason, "see the log")
