"""`leopard-watch doctor`: is this installation ready for `leopard-watch run`, in plain words.

FAIL for what stops `run` (no token, no admins, a token of the wrong shape, a folder it cannot write,
a model that does not load, a Bot API that refuses), WARN for what degrades, "All checks passed" only
with neither. It creates nothing (no database, no folder, no lock file), and without `--full` it stays
within a few seconds: the model is loaded but runs no photo, and Telegram is asked who the bot is and
whether a webhook is set, but not polled. `--json` prints one object for monitors; exit code 1 on any
FAIL. The checks of the settings and the files are in bot/cli/doctor_local.py.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.botapi import heartbeat_status
from bot.cameras.mail import MailAccount, MailError, accounts, advice, check_login
from bot.cli.doctor_local import (
    FAIL,
    OK,
    WARN,
    Check,
    admins,
    data_directory,
    database,
    disk_space,
    fail,
    latest_schema,
    photo_store,
    schema_version,
    token,
    warn,
)
from bot.config import Settings
from bot.detection import ModelError
from bot.detection.model import OnnxLeopardDetector
from bot.people import undelivered_admin_notices
from storage.db import Database

__all__ = ["Check", "doctor", "run_checks"]

SAMPLE = Path(__file__).parent.parent / "samples" / "leo_005_serengeti_night.jpg"
SHOWN_NOTICES, NOTICE_CHARS = 3, 120
SHORT_POLL = 3  # seconds of getUpdates (--full): another poller retries within them (PTB after 1 s)


def heartbeat(settings: Settings) -> Check:
    """WARN while a running bot has not polled Telegram for LW_HEARTBEAT_MINUTES (bot/botapi/polling.py)."""
    lock = settings.database.with_name(settings.database.name + ".lock")  # storage/lock.py's RunLock
    stale, detail = heartbeat_status(settings.heartbeat_file, lock, settings.heartbeat_minutes)
    return warn("heartbeat", detail) if stale else Check("heartbeat", True, detail)


LOCAL = (token, admins, data_directory, database, photo_store, disk_space, heartbeat)


async def run_checks(settings: Settings, *, full: bool = False) -> list[Check]:
    """Every check at once: the model loads while Telegram and the mailboxes answer."""
    local: list[Awaitable[list[Check]]] = [
        asyncio.to_thread(_guarded_local, step, settings) for step in LOCAL
    ]
    remote: list[Awaitable[list[Check]]] = [
        _guard("model", lambda: _model(settings, full)),
        _guard("bot api", lambda: _bot_api(settings, full)),
        _guard("admin notices", lambda: _admin_notices(settings)),
        _guard("camera mail", lambda: _camera_mail(settings)),
    ]
    found = await asyncio.gather(*local, *remote)
    return [check for part in found for check in part]


def _guarded_local(step: Callable[[Settings], Check], settings: Settings) -> list[Check]:
    try:
        return [step(settings)]
    except Exception as exc:  # a doctor reports every failure instead of stopping at the first
        return [fail(step.__name__.replace("_", " "), f"{type(exc).__name__}: {exc}")]


async def _guard(name: str, step: Callable[[], Awaitable[Check | list[Check]]]) -> list[Check]:
    try:
        found = await step()
    except Exception as exc:
        return [fail(name, f"{type(exc).__name__}: {exc}")]
    return found if isinstance(found, list) else [found]


async def _model(settings: Settings, full: bool) -> Check:
    try:
        detector = await asyncio.to_thread(
            OnnxLeopardDetector,
            threshold=settings.threshold,
            threads=settings.threads,
            precision=settings.detector_precision,
        )
    except ModelError as exc:
        return fail("model", str(exc))
    runs = f"{detector.precision.upper()} model ({detector.precision_reason})"
    if not full:
        return Check("model", True, f"{runs} loaded; `doctor --full` also runs the bundled leopard photo")
    det = await asyncio.to_thread(detector.detect, SAMPLE.read_bytes())
    if not det.leopard:
        return fail("model", f"{runs}: the bundled leopard sample scored {det.score:.2f}: the model is not "
                             "working; reinstall leopard-watch (MODEL.md)")  # fmt: skip
    return Check("model", True, f"{runs} loaded; sample leopard scored {det.score:.2f} in {det.ms:.0f} ms")


async def _bot_api(settings: Settings, full: bool) -> Check:
    if not settings.token:
        return warn("bot api", "not tried without LW_TOKEN")
    from telegram import Bot
    from telegram.error import Conflict, InvalidToken, NetworkError

    try:
        async with Bot(
            settings.token, base_url=settings.base_url, base_file_url=settings.base_file_url
        ) as bot:
            me = await bot.get_me()
            # "connected" is not "hearing": a webhook, or another process polling, takes the updates.
            hook = await bot.get_webhook_info()
            if hook.url:
                return fail("bot api", f"connected as @{me.username}, but {_webhook(hook.url)}")
            polled = (
                await _short_poll(bot, settings)
                if full
                else "`doctor --full` also polls for a few seconds to find another process on the token"
            )
    except Conflict as exc:
        return fail("bot api", f"connected, but {_conflict(exc.message)}")
    except InvalidToken:
        return fail("bot api", "Telegram refused the token: copy it again from @BotFather into LW_TOKEN")
    except NetworkError as exc:
        return fail("bot api", f"cannot reach {settings.base_url} ({exc}): check this machine's internet "
                               "connection (a proxy or firewall?) or LW_BASE_URL")  # fmt: skip
    return Check("bot api", True, f"connected as @{me.username}, no webhook; {polled}")


async def _short_poll(bot: Any, settings: Settings) -> str:
    """A getUpdates of a few seconds, without an offset (it confirms nothing): a poller elsewhere asks
    again within them and ends it with 409. Skipped while the bot runs here: it would only end the
    bot's own poll (which the bot shrugs off once). The run lock is taken for the poll, so that a bot
    starting meanwhile waits, but only if the lock file is there: the doctor creates nothing."""
    lock = settings.database.with_name(settings.database.name + ".lock")  # storage/lock.py's RunLock
    fd = os.open(lock, os.O_RDWR) if lock.is_file() and os.access(lock, os.R_OK | os.W_OK) else None
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "process unknown"
                return f"polled by the bot running here ({holder})"
        await bot.get_updates(timeout=SHORT_POLL, limit=1, allowed_updates=[])
    finally:
        if fd is not None:
            os.close(fd)  # and with it the lock
    return f"no other process polled the token within {SHORT_POLL} s"


def _webhook(url: str) -> str:
    host = urlsplit(url).hostname  # only the host: a webhook's path often holds a secret
    to = f" (to {host})" if host else ""
    return (
        f"a webhook is set for the token{to}: getUpdates cannot work and the bot hears nothing. "
        "Whoever set it should delete it (deleteWebhook); `leopard-watch run` deletes it when it starts"
    )


def _conflict(message: str) -> str:
    if "webhook" in message.lower():
        return _webhook("")
    return (
        f"another process polls this token ({message}): stop the other copy of the bot (an old server, "
        "a laptop with a copy of .env), or revoke the token in @BotFather and put the new one in LW_TOKEN"
    )


async def _admin_notices(settings: Settings) -> Check:
    """Admin notices Telegram refused for good: an admin who never pressed Start in the bot's chat
    cannot be written to, and would otherwise never learn of a failed alert. Read only from a database
    at the current schema (opening one migrates it) that this user can write (the database check says
    why not otherwise)."""
    path = settings.database
    if not path.is_file() or not os.access(path, os.R_OK | os.W_OK):
        return Check("admin notices", True, "no database to read them from")
    if await asyncio.to_thread(schema_version, path) != latest_schema():
        return Check("admin notices", True, "read after `run` has upgraded the database")
    async with Database(path) as db:
        lost = await undelivered_admin_notices(db)
    if not lost:
        return Check("admin notices", True, "every admin notice was delivered")
    shown = "; ".join(f"to {n['chat_id']}: {_shorten(str(n['text']))}" for n in lost[:SHOWN_NOTICES])
    more = f"; and {len(lost) - SHOWN_NOTICES} more" if len(lost) > SHOWN_NOTICES else ""
    return warn(
        "admin notices",
        f"{len(lost)} admin notice(s) never reached their admin (they have not started the bot: "
        f"open {await _bot_link(settings)} and press Start): {shown}{more}",
    )


async def _camera_mail(settings: Settings) -> list[Check]:
    """Every cameras' mailbox: a wrong app password would silently leave their photos unread. All are
    tried at once: a server that does not answer takes its whole timeout."""
    found = accounts(settings)
    if not found:
        return [
            Check(
                "camera mail",
                True,
                "no mailbox (LW_MAIL_HOST, LW_MAILBOXES_FILE): cameras' e-mail is not read",
            )
        ]

    async def one(account: MailAccount) -> Check:
        name = "camera mail" if len(found) == 1 else f"camera mail {account.name}"
        try:
            return Check(name, True, await check_login(account))
        except MailError as exc:
            return Check(name, False, f"{exc}; {advice(account, exc.reason)}")

    return list(await asyncio.gather(*(one(a) for a in found)))


def _shorten(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= NOTICE_CHARS else line[: NOTICE_CHARS - 1] + "…"


async def _bot_link(settings: Settings) -> str:
    """t.me/<username>, asked of the Bot API; a plain description when the token cannot tell."""
    if settings.token:
        from telegram import Bot
        from telegram.error import TelegramError

        try:
            async with Bot(
                settings.token, base_url=settings.base_url, base_file_url=settings.base_file_url
            ) as bot:
                return f"t.me/{(await bot.get_me()).username}"
        except TelegramError:
            pass  # the bot api check already explains why
    return "the bot's chat in Telegram"


def doctor(settings: Settings, *, full: bool = False, as_json: bool = False) -> int:
    checks = asyncio.run(run_checks(settings, full=full))
    overall = overall_status(checks)
    if as_json:
        report = {"checks": [c.as_json() for c in checks], "overall": overall}
        print(json.dumps(report, ensure_ascii=False))
    else:
        for check in checks:
            print(check.line())
        print(verdict(checks))
    return 1 if overall == FAIL else 0


def overall_status(checks: list[Check]) -> str:
    statuses = {c.status for c in checks}
    return FAIL if FAIL in statuses else (WARN if WARN in statuses else OK)


def verdict(checks: list[Check]) -> str:
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    if failed:
        also = f", and {warned} warning(s)" if warned else ""
        return f"{failed} problem(s) found{also}: fix the FAIL lines before `leopard-watch run`."
    if warned:
        return f"No problem that stops `leopard-watch run`, but {warned} warning(s): see the WARN lines."
    return "All checks passed."
