"""Which IMAP mailboxes the cameras write to: the LW_MAIL_* one and those listed in LW_MAILBOXES_FILE.

Teams end up with more than one mailbox: cameras bought in different years write to different
accounts, a vendor's cloud forwards to its own address, a reserve and a park keep their own. Each
mailbox is polled on its own (a dead server or a wrong password in one never holds up the others) and
its messages are written down under its own key (bot/cameras/mail/ledger.py), while cameras, dedup and alerts
are shared: the same photo sent to two mailboxes is one sighting.

The file is TOML, one table per mailbox:

    [[mailbox]]
    name = "yandex"              # how logs, notices and `doctor` call it
    host = "imap.yandex.kz"
    user = "cameras@yandex.kz"
    password_file = "/run/secrets/yandex"   # or password = "…" (an app password, where offered)
    # port, tls, folder, done_folder, poll_seconds, idle: as LW_MAIL_PORT … (same defaults)

Fail closed on file modes, as ssh does: a password (in the file or in its password_file) that other
users of the server can read is refused, and so is a file others can change (they could point `host`
at their own server and collect the password at the next login). The bot then does not start.

This module holds no IMAP code, so bot/config.py can check the file when the settings are loaded.
"""

from __future__ import annotations

import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Settings

TLS_MODES = ("ssl", "starttls", "none")
IDLE_MODES = ("auto", "off")  # auto: IMAP IDLE where the server offers it (bot/cameras/mail/idle.py)
MAIN = "main"  # the LW_MAIL_* mailbox's name
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_KEYS = {
    "name",
    "host",
    "port",
    "tls",
    "user",
    "password",
    "password_file",
    "folder",
    "done_folder",
    "poll_seconds",
    "idle",
}


class MailboxesError(ValueError):
    """A mailbox is configured wrongly; the message says which one and which setting."""


@dataclass(frozen=True)
class MailAccount:
    name: str
    host: str
    user: str
    password: str = field(repr=False)  # never in a repr, so never in a log line
    port: int = 0
    tls: str = "ssl"
    folder: str = "INBOX"
    done_folder: str = ""  # handled mail is moved there; empty: it is marked read (\Seen)
    poll_seconds: float = 60.0
    idle: str = "auto"
    where: str = ""  # the file it came from; "" for LW_MAIL_*

    @property
    def port_or_default(self) -> int:
        return self.port or (993 if self.tls == "ssl" else 143)

    @property
    def key(self) -> str:
        """How mail_messages names this mailbox: UIDs mean something only within one folder of one
        account. The same for a mailbox moved between LW_MAIL_* and the file: its history stays."""
        return f"{self.user}@{self.address}/{self.folder}".lower()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port_or_default}"

    @property
    def label(self) -> str:
        """For people: which mailbox, without the password."""
        return f"mailbox {self.name} ({self.user} at {self.address})"

    def setting(self, what: str) -> str:
        """Where an admin changes `what` (user, password, tls, port, folder) for this mailbox."""
        if not self.where:
            return f"LW_MAIL_{what.upper()}"
        return f"{what} of [[mailbox]] {self.name!r} in {self.where}"


def main_account(settings: Settings) -> MailAccount | None:
    """The LW_MAIL_* mailbox, None when LW_MAIL_HOST is empty."""
    s = settings
    if not s.mail_host:
        return None
    return MailAccount(
        name=MAIN,
        host=s.mail_host,
        user=s.mail_user,
        password=s.mail_password,
        port=s.mail_port,
        tls=s.mail_tls,
        folder=s.mail_folder,
        done_folder=s.mail_done_folder,
        poll_seconds=s.mail_poll_seconds,
        idle=s.mail_idle,
    )


def accounts(settings: Settings) -> list[MailAccount]:
    """Every configured mailbox, LW_MAIL_* first; each checked. Raises MailboxesError."""
    found: list[MailAccount] = []
    main = main_account(settings)
    if main is not None:
        found.append(main)
    if settings.mailboxes_file is not None:
        found += read_file(settings.mailboxes_file)
    for account in found:
        check(account)
    names = [a.name for a in found]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise MailboxesError(f"two mailboxes are called {', '.join(twice)}: every name must be different")
    keys = [a.key for a in found]
    if len(set(keys)) != len(keys):
        # Two pollers on one folder would fight over the same messages.
        twice = sorted({a.label for a in found if keys.count(a.key) > 1})
        raise MailboxesError(f"the same folder of the same account is configured twice: {'; '.join(twice)}")
    return found


def read_file(path: Path) -> list[MailAccount]:
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise MailboxesError(f"LW_MAILBOXES_FILE: {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MailboxesError(f"LW_MAILBOXES_FILE: cannot read {path}: {exc}") from None
    unknown = set(data) - {"mailbox"}
    entries = data.get("mailbox", [])
    if unknown or not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise MailboxesError(f"{path}: expected only [[mailbox]] tables")
    if not entries:
        raise MailboxesError(f"{path}: no [[mailbox]] in it")
    _not_writable_by_others(path, "LW_MAILBOXES_FILE")
    return [_account(entry, path) for entry in entries]


def _account(entry: dict[str, Any], path: Path) -> MailAccount:
    name = str(entry.get("name", "")).strip()
    if not _NAME.fullmatch(name) or name == MAIN:
        raise MailboxesError(
            f"{path}: every [[mailbox]] needs a name (letters, digits, - _ ., up to 32, not {MAIN!r}); "
            f"got {name!r}"
        )
    where = f"[[mailbox]] {name!r} in {path}"
    extra = set(entry) - _KEYS
    if extra:
        raise MailboxesError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
    for key in ("host", "user"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise MailboxesError(f"{where}: {key} is missing")
    try:
        port = int(entry.get("port", 0))
        poll = float(entry.get("poll_seconds", 60.0))
    except (TypeError, ValueError):
        raise MailboxesError(f"{where}: port is a number, poll_seconds a number of seconds") from None
    return MailAccount(
        name=name,
        host=entry["host"].strip(),
        user=entry["user"].strip(),
        password=_password(entry, path, where),
        port=port,
        tls=str(entry.get("tls", "ssl")),
        folder=str(entry.get("folder", "INBOX")),
        done_folder=str(entry.get("done_folder", "")),
        poll_seconds=poll,
        idle=str(entry.get("idle", "auto")),
        where=str(path),
    )


def _password(entry: dict[str, Any], path: Path, where: str) -> str:
    given = [k for k in ("password", "password_file") if k in entry]
    if len(given) != 1:
        raise MailboxesError(f"{where}: give exactly one of password, password_file")
    value = entry[given[0]]
    if not isinstance(value, str) or not value:
        raise MailboxesError(f"{where}: {given[0]} must be a non-empty string")
    if given[0] == "password_file":
        secret_path = Path(value).expanduser()
        if not secret_path.is_absolute():
            secret_path = path.parent / secret_path
        _private(secret_path, where, "password_file")
        _not_writable_by_others(secret_path, f"{where}: password_file")
        try:
            secret = secret_path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise MailboxesError(f"{where}: cannot read password_file {secret_path}: {exc}") from None
        if not secret:
            raise MailboxesError(f"{where}: password_file {secret_path} is empty")
        return secret
    _private(path, where, "password")
    return value


def _private(path: Path, where: str, what: str) -> None:
    """Refuse a secret that other users of the server can read (fail closed: the bot does not start)."""
    if _mode(path, f"{where}: {what}") & (stat.S_IRWXG | stat.S_IRWXO):
        raise MailboxesError(
            f"{where}: {path} holds a password and other users can read it; run chmod 600 {path}"
        )


def _not_writable_by_others(path: Path, what: str) -> None:
    if _mode(path, what) & (stat.S_IWGRP | stat.S_IWOTH):
        raise MailboxesError(
            f"{what}: other users can change {path} (and send the mailbox password to a server of "
            f"theirs); run chmod go-w {path}"
        )


def _mode(path: Path, what: str) -> int:
    try:
        return path.stat().st_mode
    except OSError as exc:
        raise MailboxesError(f"{what}: cannot read {path}: {exc}") from None


def check(a: MailAccount) -> None:
    if a.idle not in IDLE_MODES:
        raise MailboxesError(
            f"{a.setting('idle')} is auto (IMAP IDLE where the server offers it) or off (polling only)"
        )
    if a.tls not in TLS_MODES:
        raise MailboxesError(f"{a.setting('tls')} is ssl (port 993), starttls (port 143) or none")
    # Without TLS the password crosses the network in clear: only for a mail server on this machine.
    local = a.host in ("localhost", "::1") or a.host.startswith("127.")
    if a.tls == "none" and not local:
        raise MailboxesError(
            f"{a.setting('tls')}=none sends the password unencrypted: only allowed for localhost"
        )
    if not a.user or not a.password:
        what = "LW_MAIL_HOST is set: LW_MAIL_USER and LW_MAIL_PASSWORD are needed too"
        raise MailboxesError(what if not a.where else f"{a.setting('user')} and a password are needed")
    if a.poll_seconds < 0.5 or not 0 <= a.port <= 65535:
        raise MailboxesError(f"{a.setting('poll_seconds')} must be >= 0.5 and {a.setting('port')} 0-65535")
