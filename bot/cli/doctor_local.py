"""The doctor's checks of the settings and of what is on this machine: the token's shape, the admins,
the data directory, the database, the photo store and disk space. None of them creates anything: a
folder that does not exist yet is judged by the one above it, which `run` would create it in.

Each is FAIL for what stops `leopard-watch run` (or a write it needs), WARN for what only degrades.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot.cli.errors import chown_fix, existing, not_writable, user
from bot.config import Settings
from storage.db import migrations

OK, WARN, FAIL = "ok", "warn", "fail"
OFFICIAL_API = "https://api.telegram.org/"
# A token as @BotFather issues it: the bot's id, a colon, 35 characters of [A-Za-z0-9_-].
TOKEN_SHAPE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{35}")
MIN_FREE_BYTES = 1 << 30  # photos arrive all year; warn below 1 GiB free
MIN_FREE_SHARE = 0.05  # or below 5 % of the disk


@dataclass
class Check:
    name: str
    ok: bool  # False: FAIL
    detail: str
    warning: bool = False  # with ok: WARN

    @property
    def status(self) -> str:
        return FAIL if not self.ok else (WARN if self.warning else OK)

    def line(self) -> str:
        mark = {OK: "OK  ", WARN: "WARN", FAIL: "FAIL"}[self.status]
        return f"[{mark}] {self.name}: {self.detail}"

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "message": self.detail}


def warn(name: str, detail: str) -> Check:
    return Check(name, True, detail, warning=True)


def fail(name: str, detail: str) -> Check:
    return Check(name, False, detail)


def token(settings: Settings) -> Check:
    raw = settings.token
    if not raw:
        fix = "put the token from @BotFather in .env as LW_TOKEN=..."
        return fail("token", f"LW_TOKEN is not set, so `leopard-watch run` cannot start: {fix}")
    if TOKEN_SHAPE.fullmatch(raw):
        return Check("token", True, f"shaped as @BotFather issues them (bot id {raw.split(':', 1)[0]})")
    # Never the token itself: only what is wrong with its shape.
    wrong = (
        "it holds a space or a quote" if re.search(r"[\s'\"]", raw)
        else "it has no ':' after the bot's id" if not re.match(r"\d+:", raw)
        else f"it has {len(raw.split(':', 1)[1])} characters after the ':' where @BotFather gives 35"
    )  # fmt: skip
    detail = f"LW_TOKEN is not shaped like a token from @BotFather ({wrong}): copy it again from @BotFather"
    if not settings.base_url.startswith(OFFICIAL_API):  # a test server takes what it was given
        return warn("token", f"{detail} (accepted as is for the Bot API at {settings.base_url})")
    return fail("token", detail)


def admins(settings: Settings) -> Check:
    if not settings.admin_ids:
        why = "nobody could register a group or invite a ranger"
        return fail("admins", f"LW_ADMIN_IDS is empty, so {why}: put your Telegram user id there "
                              "(@userinfobot tells it)")  # fmt: skip
    zone = f"groups' default zone {settings.timezone}"
    return Check("admins", True, f"{len(settings.admin_ids)} admin(s); {zone}")


def _folder(what: str, path: Path) -> str | None:
    """Why `path` (a folder, existing or to be created) cannot be written, or None."""
    if path.exists() and not path.is_dir():
        return f"{what} {path} is a file, not a folder: move it away or set the path apart"
    here = existing(path)
    if not here.is_dir():
        return f"{here} is a file where a folder should be: move it away"
    if not os.access(here, os.W_OK | os.X_OK):
        if here == path:
            return not_writable(what, path)
        return f"{what} {path} cannot be created: {here} is not writable by user {user()}: {chown_fix(here)}"
    return None


def data_directory(settings: Settings) -> Check:
    path = settings.data_dir
    problem = _folder("the data directory", path)
    if problem:
        return fail("data directory", problem)
    if not path.exists():
        return Check("data directory", True, f"{path} (LW_DATA_DIR) does not exist yet; `run` creates it")
    backups = settings.backup_dir
    if backups.is_dir() and not os.access(backups, os.W_OK | os.X_OK):
        return warn("data directory", f"{path}; {not_writable('the backup folder', backups)}")
    return Check("data directory", True, f"{path} (LW_DATA_DIR), writable by user {user()}")


def database(settings: Settings) -> Check:
    path = settings.database
    if not path.exists():
        problem = _folder("the database's folder", path.parent)
        if problem:
            return fail("database", problem)
        where = "if the bot has run before, LW_DATA_DIR does not point at its data"
        return warn("database", f"no database at {path} yet: `run` (or `station add`) creates it; {where}")
    if not path.is_file():
        return fail("database", f"{path} is a folder, not a database: check LW_DATABASE")
    for target in (path, path.parent):  # SQLite writes its -wal and -shm files beside the database
        if not os.access(target, os.R_OK | os.W_OK | (os.X_OK if target.is_dir() else 0)):
            what = "the database" if target == path else "the database's folder"
            return fail("database", not_writable(what, target))
    try:
        return _contents(path)
    except sqlite3.DatabaseError as exc:  # not a database at all, or one damaged past reading
        fix = "check LW_DATABASE, or restore the last `leopard-watch backup`"
        return fail("database", f"{path} cannot be read as a leopard-watch database ({exc}): {fix}")


def latest_schema() -> int:
    return max(number for number, _ in migrations())


def schema_version(path: Path) -> int:
    with closing(_open(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _open(path: Path) -> sqlite3.Connection:
    # mode=rw: never creates the file; the -wal and -shm files it opens go again when it closes.
    return sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5)


def _contents(path: Path) -> Check:
    latest = latest_schema()
    with closing(_open(path)) as conn:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        integrity = conn.execute("PRAGMA quick_check").fetchone()[0]
        if integrity != "ok":
            return fail("database", f"{path} is damaged ({integrity}): restore the last backup")
        if version > latest:
            fix = "upgrade leopard-watch, or restore a backup made by this version"
            return fail("database", f"{path} has schema v{version}, newer than v{latest} known here: {fix}")
        if version < latest:
            fix = "take a `leopard-watch backup` first"
            return warn("database", f"{path} has schema v{version}; `run` upgrades it to v{latest}: {fix}")
        count = lambda sql: int(conn.execute(sql).fetchone()[0])  # noqa: E731
        sightings = count("SELECT COUNT(*) FROM sightings")
        groups = count("SELECT COUNT(*) FROM groups WHERE active = 1")
        pending = count("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')")
        failed = count("SELECT COUNT(*) FROM outbox WHERE status = 'failed'")
    detail = (
        f"{path} schema v{version}, {sightings} sightings, {groups} active group(s), "
        f"{pending} alert(s) waiting, {failed} failed"
    )
    if groups == 0:
        fix = "add the bot to the coordinators' group and send /register there"
        return warn("database", f"{detail}; no coordinator group registered yet: {fix}")
    return Check("database", True, detail)


def photo_store(settings: Settings) -> Check:
    root = settings.photo_dir
    problem = _folder("the photo store", root)
    if problem:
        return fail("photo store", problem)
    if not root.exists():
        return Check("photo store", True, f"{root} does not exist yet; the first photo creates it")
    # Folders made by a command run as another user (an import as root) refuse the bot's next photo.
    refused = [p for p in _subfolders(root) if not os.access(p, os.W_OK | os.X_OK)]
    if refused:
        more = f" (and {len(refused) - 1} more folder(s) in it)" if len(refused) > 1 else ""
        who = f"is not writable by user {user()}"
        return fail("photo store", f"{refused[0]}{more} in the photo store {who}: {chown_fix(root)}")
    return Check("photo store", True, f"{root} writable by user {user()}")


def _subfolders(root: Path) -> list[Path]:
    """The store's folders, two levels down (photos by SHA-256 prefix, videos/): cheap even for years
    of photos, since files are not listed."""
    found: list[Path] = []
    for first in os.scandir(root):
        if first.is_dir(follow_symlinks=False):
            found.append(Path(first.path))
            found += [Path(e.path) for e in os.scandir(first.path) if e.is_dir(follow_symlinks=False)]
    return found


def disk_space(settings: Settings) -> Check:
    """Free space where photos and the database live: a full disk stops new sightings (they wait in
    the inbox until space is freed), so warn well before it happens."""
    disks: dict[int, tuple[list[str], Path]] = {}  # by device: one line for a shared disk
    for what, path in (("photo store", settings.photo_dir), ("database", settings.database.parent)):
        here = existing(path)
        disks.setdefault(here.stat().st_dev, ([], here))[0].append(what)
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
