"""The IMAP side: log in, find new messages, fetch one, flag it handled.

IMAPClient (a synchronous library) runs in worker threads, one call at a time per connection. Chosen
over aioimaplib, the asyncio client: aioimaplib has no STARTTLS (self-hosted servers on port 143 need
it), hands back raw response lines that every caller must parse (FETCH literals, UIDVALIDITY codes,
each server's quirks), and at DEBUG level logs the LOGIN line with the password scrubbed only when it
needed no quoting. IMAPClient parses responses into Python values, has been maintained since 2009,
supports SSL, STARTTLS, MOVE and UIDPLUS, and redacts LOGIN in its own logging. A poll is a few
network round trips a minute, so a thread costs nothing that matters here; the detector, not IMAP,
sets the pace of a backlog.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import ssl
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from email.header import decode_header, make_header
from typing import Any, TypeVar

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientError, LoginError

from bot.cameras.mail.accounts import MailAccount

log = logging.getLogger(__name__)
T = TypeVar("T")

SEEN = b"\\Seen"
CONNECT_TIMEOUT, READ_TIMEOUT = 15.0, 120.0


class MailError(Exception):
    """The mailbox cannot be used now. reason: connect, tls, login, folder, protocol. The message never
    holds the password (it is scrubbed even from the server's own words)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Envelope:
    uid: int
    size: int
    sender: str | None
    subject: str
    message_id: str | None


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    raw = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    try:
        return " ".join(str(make_header(decode_header(raw))).split())
    except Exception:  # a broken encoded-word: keep it as sent
        return " ".join(raw.split())


class Mailbox:
    """One logged-in connection to one mailbox's folder. readonly: EXAMINE instead of SELECT; executor:
    the thread(s) its calls run in (None: asyncio's default pool)."""

    def __init__(
        self,
        account: MailAccount,
        *,
        readonly: bool = False,
        read_timeout: float = READ_TIMEOUT,
        executor: Executor | None = None,
    ) -> None:
        self.account = account
        self.key = account.key
        self.readonly, self.read_timeout, self.executor = readonly, read_timeout, executor
        self.uidvalidity = 0
        self.exists = 0
        self._client: IMAPClient | None = None
        self._lock = asyncio.Lock()  # IMAP is one conversation: never two commands at once
        self._done_folder_ready = False

    async def __aenter__(self) -> Mailbox:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        async with self._lock:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.executor, self._guarded, fn, *args)

    def _guarded(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except MailError:
            raise
        except LoginError as exc:
            if isinstance(exc.__context__, imaplib.IMAP4.abort):
                # IMAPClient words a connection dropped during LOGIN as a refused login: counted as one,
                # three in a row would tell the admins to check a password that is right.
                raise MailError(
                    "connect", self._scrub(f"{self.account.address} dropped the connection at login: {exc}")
                ) from None
            raise MailError(
                "login", self._scrub(f"the server refused the login of {self.account.user}: {exc}")
            ) from None
        except ssl.SSLError as exc:
            raise MailError("tls", self._scrub(f"TLS with {self.account.host} failed: {exc}")) from None
        except OSError as exc:  # refused, unreachable, timed out
            raise MailError("connect", self._scrub(f"cannot reach {self.account.address}: {exc}")) from None
        except imaplib.IMAP4.abort as exc:  # "socket error: EOF": the connection broke, not the protocol
            raise MailError(
                "connect", self._scrub(f"{self.account.address} dropped the connection: {exc}")
            ) from None
        except (IMAPClientError, ValueError, KeyError) as exc:
            raise MailError("protocol", self._scrub(f"IMAP error: {exc}")) from None

    def _scrub(self, text: str) -> str:
        password = self.account.password
        return text.replace(password, "***") if password else text

    def _open(self) -> None:
        a = self.account
        context = ssl.create_default_context()  # certificate and host name checked
        client = IMAPClient(
            a.host,
            port=a.port_or_default,
            ssl=a.tls == "ssl",
            ssl_context=context if a.tls == "ssl" else None,
            timeout=SocketTimeout(connect=CONNECT_TIMEOUT, read=self.read_timeout),
        )
        try:
            if a.tls == "starttls":
                client.starttls(context)
            client.login(a.user, a.password)
            try:
                info = client.select_folder(a.folder, readonly=self.readonly)
            except IMAPClientError as exc:
                raise MailError(
                    "folder", self._scrub(f"no folder {a.folder!r} in the mailbox: {exc}")
                ) from None
        except BaseException:
            _quietly(client.shutdown)
            raise
        self._client = client
        self.uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        self.exists = int(info.get(b"EXISTS", 0))

    async def open(self) -> None:
        await self._call(self._open)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await asyncio.get_running_loop().run_in_executor(self.executor, _quietly, client.logout)

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise MailError("protocol", "mailbox is not open")
        return self._client

    async def search_new(self, after_uid: int | None) -> list[int]:
        """Unread messages, and (once the bot has seen this folder) every message newer than the last one
        it took: someone reading the mailbox in a mail app must not hide a camera's photo from the bot."""

        def search() -> list[int]:
            found = set(self.client.search(["UNSEEN"]))
            if after_uid is not None:
                # "n:*" always includes the newest message, even below n: filtered here.
                found |= {u for u in self.client.search(["UID", f"{after_uid + 1}:*"]) if u > after_uid}
            return sorted(int(u) for u in found)

        return await self._call(search)

    async def envelopes(self, uids: Sequence[int]) -> dict[int, Envelope]:
        """Size, From, Subject and Message-ID without downloading the messages."""

        def fetch() -> dict[int, Envelope]:
            out: dict[int, Envelope] = {}
            for start in range(0, len(uids), 200):
                chunk = list(uids[start : start + 200])
                for uid, data in self.client.fetch(chunk, ["RFC822.SIZE", "ENVELOPE"]).items():
                    env = data.get(b"ENVELOPE")
                    sender = None
                    if env is not None and env.from_:
                        first = env.from_[0]
                        if first.mailbox and first.host:
                            sender = f"{_text(first.mailbox)}@{_text(first.host)}".lower()
                    subject = _text(env.subject) if env is not None else ""
                    mid = _text(env.message_id) if env is not None and env.message_id else None
                    out[int(uid)] = Envelope(int(uid), int(data.get(b"RFC822.SIZE", 0)), sender, subject, mid)
            return out

        return await self._call(fetch)

    async def fetch(self, uid: int) -> bytes | None:
        """The whole message, without marking it read; None if it is gone from the folder."""

        def fetch() -> bytes | None:
            data = self.client.fetch([uid], ["BODY.PEEK[]"]).get(uid)
            body = data.get(b"BODY[]") if data else None
            return bytes(body) if body is not None else None

        return await self._call(fetch)

    async def mark_handled(self, uids: Sequence[int]) -> None:
        """\\Seen, or moved to the mailbox's done folder (created if missing)."""
        if not uids:
            return
        folder = self.account.done_folder

        def mark() -> None:
            c = self.client
            if not folder:
                c.add_flags(list(uids), [SEEN], silent=True)
                return
            if not self._done_folder_ready:
                if not c.folder_exists(folder):
                    c.create_folder(folder)
                self._done_folder_ready = True
            c.add_flags(list(uids), [SEEN], silent=True)
            if c.has_capability("MOVE"):
                c.move(list(uids), folder)
            elif c.has_capability("UIDPLUS"):
                c.copy(list(uids), folder)
                c.delete_messages(list(uids), silent=True)
                c.uid_expunge(list(uids))
            else:
                log.warning(
                    "the mail server can neither MOVE nor UID EXPUNGE: handled mail is only marked read"
                )

        await self._call(mark)


def _quietly(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception:  # closing a broken connection: nothing left to save
        pass


async def check_login(account: MailAccount) -> str:
    """For `leopard-watch doctor`: log in, open the folder, count; raises MailError."""
    async with Mailbox(account) as box:
        unseen = len(await box._call(box.client.search, ["UNSEEN"]))
        offers_idle = await box._call(box.client.has_capability, "IDLE")
        if account.idle == "off":
            push = "IDLE off: polled every"
        elif offers_idle:
            push = "new mail announced by IMAP IDLE, polled too every"
        else:
            push = "the server offers no IMAP IDLE: polled every"
        return (
            f"logged in as {account.user} at {account.address} "
            f"(TLS: {account.tls}); folder {account.folder}: "
            f"{box.exists} message(s), {unseen} unread; {push} {account.poll_seconds:g} s"
        )
