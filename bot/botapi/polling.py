"""How the connection to Telegram is doing: one log line when polling starts failing, one when it works
again; the admins told once when someone else takes this token's updates; the process stopped when
polling cannot go on (a revoked token, minutes of conflict).

PTB's polling loop retries a failed getUpdates with a growing pause (up to 30 s) and hands each failure
to the application's error handler; during a night without signal that was a traceback every 30 s in
the journal. The first failure of a kind is a WARNING, the ones after it DEBUG, and the first answer
after them says how long it lasted.

409 Conflict has two causes, told apart by Telegram's text: another process polls the same token
("terminated by other getUpdates request": every newer poll ends the other, and the updates split
between two databases), or a webhook is set ("can't use getUpdates method while webhook is active": the
bot hears nothing). Two pollers take turns, so polls between the 409s succeed: an episode of conflict
ends only after CONFLICT_QUIET seconds without one. The admins get one notice per kind and day
(dedup key); after `conflict_minutes` of an episode the application is stopped and the process exits
with EXIT_CONFLICT, so systemd shows it (and PTB deletes a webhook when polling starts again).
401 (InvalidToken: the token was revoked or changed in @BotFather) ends PTB's polling loop for good:
the application is stopped, and the process exits with EXIT_TOKEN after a clean shutdown.

The heartbeat: a poll that succeeds touches a file beside the database (its mtime is the last poll, at
most TOUCH_EVERY old), which `leopard-watch doctor` and an outside monitor read: the admins are reached
through Telegram, which may be the very thing that is down. `check()`, a job every minute, tells the
admins once when no poll has succeeded for `heartbeat_minutes`, and once more when one does again.
PTB hands neither a timeout nor a RetryAfter to the error handler, so a night without signal is seen
only by the clock, not by `failed()`.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from telegram.error import Conflict, TelegramError

from storage.db import utcnow

log = logging.getLogger(__name__)

EXIT_TOKEN = 3  # Telegram refuses the token (also `run`'s code when it is refused at start)
EXIT_CONFLICT = 4  # another poller or a webhook took this token's updates for conflict_minutes
CONFLICT_QUIET = 120.0  # seconds without a 409 that end an episode (PTB retries at least every 30 s)
INSTANCE, WEBHOOK = "another instance", "webhook"
TOUCH_EVERY = 30.0  # seconds between two touches of the heartbeat file (a long poll answers every ~10 s)

Notify = Callable[[str, str], Awaitable[object]]  # (text, dedup key): a notice to every admin


def conflict_kind(exc: TelegramError) -> str | None:
    """INSTANCE or WEBHOOK for a 409 of getUpdates, None for anything else."""
    if not isinstance(exc, Conflict):
        return None
    return WEBHOOK if "webhook" in exc.message.lower() else INSTANCE


class PollingHealth:
    def __init__(
        self,
        conflict_minutes: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        heartbeat_file: Path | None = None,
        heartbeat_minutes: float = 15.0,
    ) -> None:
        self.failing: str | None = None  # the kind of the failure going on, if any
        self.failures = 0
        self._since = 0.0
        self.conflict_minutes = conflict_minutes
        self._clock = clock
        self._conflict_since: float | None = None  # start of the conflict episode going on
        self._last_conflict = 0.0
        self._conflicts: dict[str, int] = {}  # 409s of each kind in this episode
        self._told: set[str] = set()
        self.exit_code = 0  # set when polling cannot go on; `run` exits with it
        self.heartbeat_file = heartbeat_file
        self.heartbeat_minutes = heartbeat_minutes
        self.last_poll = clock()  # the start counts as one: a bot that never polls is told after the minutes
        self._touched: float | None = None
        self._touch_failed = False
        self._silent_since: float | None = None  # set while the admins know polls have stopped
        self._recovery: asyncio.Task[None] | None = None
        # Set by the composition root (bot/app.py): queue a notice to the admins; stop the application.
        self.notify: Notify | None = None
        self.stop: Callable[[], None] | None = None

    async def failed(self, exc: TelegramError) -> None:
        conflict = conflict_kind(exc)
        kind = f"{type(exc).__name__} ({conflict})" if conflict else type(exc).__name__
        if kind != self.failing:
            log.warning("cannot get updates from Telegram (%s: %s); retrying, quietly", kind, exc.message)
            if self.failing is None:
                self._since = self._clock()
        else:
            log.debug("still cannot get updates from Telegram (%s: %s)", kind, exc.message)
        self.failing = kind
        self.failures += 1
        if conflict is not None:
            await self._conflict(conflict, exc)

    async def _conflict(self, kind: str, exc: TelegramError) -> None:
        now = self._clock()
        if self._conflict_since is None or now - self._last_conflict > CONFLICT_QUIET:
            self._conflict_since, self._conflicts, self._told = now, {}, set()
        self._last_conflict = now
        self._conflicts[kind] = self._conflicts.get(kind, 0) + 1
        # One 409 of another poller is also what `leopard-watch doctor` costs a running bot: told from
        # the second on. A webhook answers every poll with 409, so its first one is enough.
        if kind not in self._told and (kind == WEBHOOK or self._conflicts[kind] >= 2):
            self._told.add(kind)
            await self._tell(kind, exc)
        lasted = now - self._conflict_since
        if lasted >= self.conflict_minutes * 60 and not self.exit_code:
            log.error(
                "Telegram gives this token's updates to %s for %.1f min; stopping (exit code %d)",
                "another process" if kind == INSTANCE else "a webhook", lasted / 60, EXIT_CONFLICT,
            )  # fmt: skip
            self._halt(EXIT_CONFLICT)

    async def _tell(self, kind: str, exc: TelegramError) -> None:
        minutes = f"{self.conflict_minutes:g}"
        if kind == WEBHOOK:
            text = (
                f"A webhook is set for this bot's token (Telegram: {exc.message}): the bot hears nothing "
                "while it stays. Whoever set it (another deployment of the bot?) should delete it; after "
                f"{minutes} min this bot stops (exit code {EXIT_CONFLICT}) and deletes the webhook when "
                "started again. `leopard-watch doctor` shows it."
            )
        else:
            text = (
                f"Another process is polling this bot's token (Telegram: {exc.message}): Telegram hands "
                "each update to whichever asks, so photos and verdicts split between two databases. Stop "
                "the other copy (an old server, a laptop with a copy of .env), or revoke the token in "
                f"@BotFather and put the new one here. After {minutes} min of this, this bot stops (exit "
                f"code {EXIT_CONFLICT})."
            )
        if self.notify is not None:
            key = f"polling-conflict:{kind}:{utcnow().date().isoformat()}"  # once per kind and day
            try:
                await self.notify(text, key)
            except Exception:  # the error handler must not fail; the log line stands for the notice
                log.exception("could not queue the admin notice: %s", text)

    def revoked(self, exc: TelegramError) -> None:
        """InvalidToken from getUpdates: PTB's polling loop has ended and will not start again."""
        if self.exit_code:
            return
        log.error(
            "Telegram refuses the token (%s): it was revoked or changed in @BotFather. Stopping (exit code "
            "%d); put the new token in LW_TOKEN and start the bot again.", exc.message, EXIT_TOKEN,
        )  # fmt: skip
        self._halt(EXIT_TOKEN)

    def _halt(self, code: int) -> None:
        self.exit_code = code
        if self.stop is not None:
            self.stop()

    def answered(self) -> None:
        now = self._clock()
        self.last_poll = now
        self._touch(now)
        if self._silent_since is not None:
            silent, self._silent_since = now - self._silent_since, None
            # Called inside get_updates, which must not wait for a notice (and sending may still fail).
            self._recovery = asyncio.get_running_loop().create_task(self._tell_back(silent))
        if self._conflict_since is not None:
            if self._clock() - self._last_conflict <= CONFLICT_QUIET:
                return  # a poll between two 409s of an episode: not over yet, and no line per turn
            self._conflict_since = None
        if self.failing is None:
            return
        minutes = (self._clock() - self._since) / 60
        log.warning(
            "Telegram answers again (after %d failed attempts over %.1f min, %s)",
            self.failures, minutes, self.failing,
        )  # fmt: skip
        self.failing, self.failures = None, 0

    # --- the heartbeat ---------------------------------------------------------------------------------

    def _touch(self, now: float) -> None:
        if self.heartbeat_file is None or (self._touched is not None and now - self._touched < TOUCH_EVERY):
            return
        self._touched = now
        try:
            self.heartbeat_file.touch()  # a new mtime, or the file the first time
        except OSError as exc:
            if not self._touch_failed:  # once: the bot works without it, only the monitors go blind
                self._touch_failed = True
                log.warning("cannot write the heartbeat file %s (%s): doctor and monitors cannot see the "
                            "polls", self.heartbeat_file, exc)  # fmt: skip
            return
        self._touch_failed = False

    async def check(self, _context: object = None) -> None:
        """A job every minute (bot/app.py): the admins told once when polls stopped heartbeat_minutes ago."""
        now = self._clock()
        silent = now - self.last_poll
        if self._silent_since is not None or silent < self.heartbeat_minutes * 60:
            return
        self._silent_since = self.last_poll
        why = f" (the last failure: {self.failing})" if self.failing else ""
        log.error("no poll of Telegram has succeeded for %s%s", _ago(silent), why)
        text = (
            f"The bot has not heard from Telegram for {_ago(silent)}{why}: messages to it wait at "
            "Telegram (for up to a day). If this arrives late, it was delayed by the same outage. Check the "
            "server's network and `journalctl -u leopard-watch`; `leopard-watch doctor` shows the heartbeat."
        )
        await self._notify(text, f"polling-silent:{utcnow().isoformat(timespec='minutes')}")

    async def _tell_back(self, silent: float) -> None:
        log.warning("polls of Telegram succeed again, after %s without one", _ago(silent))
        text = f"The bot hears from Telegram again, after {_ago(silent)} without a poll."
        await self._notify(text, f"polling-back:{utcnow().isoformat(timespec='minutes')}")

    async def _notify(self, text: str, key: str) -> None:
        if self.notify is None:
            return
        try:
            await self.notify(text, key)
        except Exception:  # a job must not fail; the log line stands for the notice
            log.exception("could not queue the admin notice: %s", text)


def heartbeat_status(heartbeat_file: Path, lock_file: Path, minutes: float) -> tuple[bool, str]:
    """For `leopard-watch doctor`: (stale, what to say). Stale only while a bot holds the run lock
    (storage/lock.py) and its last poll is older than `minutes`; nothing is created."""
    try:
        age: float | None = time.time() - heartbeat_file.stat().st_mtime
    except OSError:
        age = None
    pid = _lock_holder(lock_file)
    last = "no poll recorded" if age is None else f"last poll {_ago(age)} ago"
    if pid is None:
        return False, f"no bot running on this database ({last}, {heartbeat_file})"
    if age is None or age > minutes * 60:
        return True, (
            f"the bot (pid {pid}) runs, but {last} (LW_HEARTBEAT_MINUTES {minutes:g}): it cannot reach "
            f"Telegram; see `journalctl -u leopard-watch` ({heartbeat_file})"
        )
    return False, f"the bot (pid {pid}) polls Telegram: {last}"


def _lock_holder(lock_file: Path) -> int | None:
    """The pid of the `run` holding the lock, or None. The doctor takes the same lock for a moment
    (its short poll): a lock held while the pid written in it is gone or our own is not a bot's."""
    try:
        fd = os.open(lock_file, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 200).decode("utf-8", "replace")
        else:
            return None  # nobody holds it (released at once: closing the file drops it)
    finally:
        os.close(fd)
    try:
        pid = int(text.removeprefix("pid").strip())
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return None
    except PermissionError:  # alive, another user's
        return pid
    return None if pid == os.getpid() else pid


def _ago(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
