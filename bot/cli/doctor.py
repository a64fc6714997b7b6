"""`leopard-watch doctor`: check settings, database, photo store, model and Bot API, in plain words."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.cameras.mail import MailAccount, MailError, accounts, advice, check_login
from bot.config import Settings
from bot.detection import ModelError
from bot.detection.model import OnnxLeopardDetector
from bot.people import undelivered_admin_notices
from storage.db import Database
from storage.lock import AlreadyRunning, RunLock

SAMPLE = Path(__file__).parent.parent / "samples" / "leo_005_serengeti_night.jpg"
MIN_FREE_BYTES = 1 << 30  # photos arrive all year; warn below 1 GiB free
MIN_FREE_SHARE = 0.05  # or below 5 % of the disk
SHOWN_NOTICES, NOTICE_CHARS = 3, 120
SHORT_POLL = 3  # seconds of getUpdates: another poller retries within them (PTB after 1 s)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False

    def line(self) -> str:
        mark = "OK  " if self.ok and not self.warning else ("WARN" if self.ok else "FAIL")
        return f"[{mark}] {self.name}: {self.detail}"


async def run_checks(settings: Settings) -> list[Check]:
    checks = [_settings(settings)]
    for step in (_database, _photo_store, _disk_space, _model, _bot_api, _admin_notices, _camera_mail):
        checks += await _guard(step, settings)
    return checks


async def _guard(
    step: Callable[[Settings], Awaitable[Check | list[Check]]], settings: Settings
) -> list[Check]:
    name = step.__name__.strip("_").replace("_", " ")
    try:
        found = await step(settings)
    except Exception as exc:  # a doctor reports every failure instead of stopping at the first
        return [Check(name, False, f"{type(exc).__name__}: {exc}")]
    return found if isinstance(found, list) else [found]


def _settings(settings: Settings) -> Check:
    if not settings.admin_ids:
        return Check(
            "settings", True, "LW_ADMIN_IDS is empty: nobody can register groups or invite", warning=True
        )
    return Check("settings", True, f"{len(settings.admin_ids)} admin(s), zone {settings.timezone}")


async def _database(settings: Settings) -> Check:
    async with Database(settings.database) as db:
        version = await db.scalar("PRAGMA user_version")
        integrity = await db.scalar("PRAGMA quick_check")
        sightings = await db.scalar("SELECT COUNT(*) FROM sightings")
        groups = await db.scalar("SELECT COUNT(*) FROM groups WHERE active = 1")
        pending = await db.scalar("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')")
        failed = await db.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'")
    if integrity != "ok":
        return Check("database", False, f"{settings.database} is damaged: {integrity}")
    detail = (
        f"{settings.database} schema v{version}, {sightings} sightings, {groups} active group(s), "
        f"{pending} alert(s) waiting, {failed} failed"
    )
    if groups == 0:
        return Check("database", True, detail + "; no coordinator group registered yet", warning=True)
    return Check("database", True, detail)


async def _photo_store(settings: Settings) -> Check:
    root = settings.photo_dir
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-"):
        pass
    free = shutil.disk_usage(root).free
    detail = f"{root} writable, {free / 2**30:.1f} GiB free"
    return Check("photo store", True, detail, warning=free < MIN_FREE_BYTES)


async def _disk_space(settings: Settings) -> Check:
    """Free space where photos and the database live: a full disk stops new sightings (they wait in
    the inbox until space is freed), so warn well before it happens."""
    disks: dict[int, tuple[list[str], Path]] = {}  # by device: one line for a shared disk
    for what, path in (("photo store", settings.photo_dir), ("database", settings.database.parent)):
        path.mkdir(parents=True, exist_ok=True)
        disks.setdefault(path.stat().st_dev, ([], path))[0].append(what)
    parts, low = [], False
    for names, path in disks.values():
        usage = shutil.disk_usage(path)
        share = usage.free / usage.total if usage.total else 0.0
        low = low or usage.free < MIN_FREE_BYTES or share < MIN_FREE_SHARE
        parts.append(f"{' and '.join(names)} disk ({path}): {usage.free / 2**30:.1f} GiB free ({share:.0%})")
    detail = "; ".join(parts)
    if low:
        detail += f"; below {MIN_FREE_BYTES / 2**30:.0f} GiB or {MIN_FREE_SHARE:.0%} free: free some space"
    return Check("disk space", True, detail, warning=low)


async def _model(settings: Settings) -> Check:
    try:
        detector = await asyncio.to_thread(
            OnnxLeopardDetector,
            threshold=settings.threshold,
            threads=settings.threads,
            precision=settings.detector_precision,
        )
    except ModelError as exc:
        return Check("model", False, str(exc))
    runs = f"{detector.precision.upper()} model ({detector.precision_reason})"
    det = await asyncio.to_thread(detector.detect, SAMPLE.read_bytes())
    if not det.leopard:
        broken = f"the bundled leopard sample scored {det.score:.2f}: the model is not working"
        return Check("model", False, f"{runs}: {broken}")
    return Check("model", True, f"{runs} loaded; sample leopard scored {det.score:.2f} in {det.ms:.0f} ms")


async def _bot_api(settings: Settings) -> Check:
    if not settings.token:
        return Check(
            "bot api", True, "LW_TOKEN not set: skipped (needed for `leopard-watch run`)", warning=True
        )
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
                return Check("bot api", False, f"connected as @{me.username}, but {_webhook(hook.url)}")
            polled = await _short_poll(bot, settings)
    except Conflict as exc:
        return Check("bot api", False, f"connected, but {_conflict(exc.message)}")
    except InvalidToken:
        return Check("bot api", False, "Telegram refused the token: check LW_TOKEN (from @BotFather)")
    except NetworkError as exc:
        return Check("bot api", False, f"cannot reach {settings.base_url}: {exc}")
    return Check("bot api", True, f"connected as @{me.username}, no webhook; {polled}")


async def _short_poll(bot: Any, settings: Settings) -> str:
    """A getUpdates of a few seconds, without an offset (it confirms nothing): a poller elsewhere asks
    again within them and ends it with 409. Skipped while the bot runs here: it would only end the
    bot's own poll (which the bot shrugs off once)."""
    try:
        with RunLock(settings.database):
            await bot.get_updates(timeout=SHORT_POLL, limit=1, allowed_updates=[])
    except AlreadyRunning as exc:
        return f"polled by the bot running here ({exc.holder})"
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
    cannot be written to, and would otherwise never learn of a failed alert."""
    async with Database(settings.database) as db:
        lost = await undelivered_admin_notices(db)
    if not lost:
        return Check("admin notices", True, "every admin notice was delivered")
    shown = "; ".join(f"to {n['chat_id']}: {_shorten(str(n['text']))}" for n in lost[:SHOWN_NOTICES])
    more = f"; and {len(lost) - SHOWN_NOTICES} more" if len(lost) > SHOWN_NOTICES else ""
    return Check(
        "admin notices",
        False,
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


def doctor(settings: Settings) -> int:
    checks = asyncio.run(run_checks(settings))
    for check in checks:
        print(check.line())
    failed = [c for c in checks if not c.ok]
    print("All checks passed." if not failed else f"{len(failed)} problem(s) found.")
    return 1 if failed else 0
