"""IMAP IDLE (RFC 2177): the server says at once when mail arrives, so a camera's photo is polled for
within a second or two instead of at the next poll (LW_MAIL_POLL_SECONDS, a minute by default).

One watcher per mailbox whose `idle` setting is "auto" (accounts.py). It holds a connection of
its own (the poller opens one per poll, and a connection in IDLE can do nothing else), EXAMINEs the
folder (read-only: the watcher never changes the mailbox) and waits in IDLE. On EXISTS or RECENT it
asks the mailbox's MailPoller to poll (poller.py: now, or right after a poll already running).
The watcher only wakes the poller: the periodic poll stays the safety net, and does the repairs, the
flagging and the login-failure notices, so a watcher that is down costs latency, never mail.

Threads: IMAPClient blocks, so each watcher has one thread of its own (the default pool is shared with
photo parsing and would be held by waiting). It waits for the server in chunks of CHUNK_SECONDS; stop()
shuts the socket down under it, which ends a wait at once. IDLE is renewed every REIDLE_SECONDS.
Failures (a dropped connection, IDLE refused, a timeout) reconnect after a backoff, logged the first
time and then every LOG_EVERY-th; login trouble is the poller's to report (it owns the admin notice).
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from imapclient.exceptions import IMAPClientAbortError
from imapclient.imapclient import _parse_untagged_response

from bot.cameras.mail.accounts import MailAccount
from bot.cameras.mail.client import Mailbox, MailError, _quietly

log = logging.getLogger(__name__)

CHUNK_SECONDS = 5.0  # one wait for the server: a stop() whose wake-up is lost still ends within this
REIDLE_SECONDS = 9 * 60.0  # RFC 2177 lets servers drop an IDLE after 30 min; Gmail does after ~10
READ_TIMEOUT = 30.0  # login, EXAMINE, IDLE, DONE: short answers; a dead link must not hold IDLE long
STABLE_SECONDS = 60.0  # in IDLE this long: the backoff starts again from BACKOFF_FIRST
BACKOFF_FIRST, BACKOFF_MAX = 5.0, 300.0
LOG_EVERY = 12  # failures in a row between log lines: about one an hour at BACKOFF_MAX
STOP_WAIT = 2.0  # a thread stuck in connect() is not waited for longer (it ends at the connect timeout)


class _IdleBox(Mailbox):
    """The watcher's connection; every method but interrupt() runs in the watcher's thread."""

    stopped = False

    def connect(self) -> bool:
        """Log in and EXAMINE the folder; False when the server does not offer IDLE."""
        self._open()
        if self.stopped:  # stop() came while connecting and no longer waits for this thread
            _quietly(self.client.shutdown)
            raise MailError("connect", "stopped")
        return bool(self.client.has_capability("IDLE"))

    def wait(self, timeout: float) -> tuple[list[Any], bool]:
        """Untagged responses within timeout, and whether the connection is gone.

        Not IMAPClient's idle_check: it reads without blocking, so a response line split across two
        packets raises, and the EXISTS read before it is lost with the connection. Here each line is
        read whole (waiting up to the read timeout for its end), and the reading goes on while more is
        buffered or has arrived. The same imaplib calls as idle_check."""
        client = self.client
        imap, sock = client._imap, client.socket()
        if not self._more(sock) and not _readable(sock, timeout):
            return [], False
        responses: list[Any] = []
        while True:
            try:
                line = imap._get_line()
            except IMAPClientAbortError as exc:
                if "EOF" in str(exc):  # the server closed the connection, or stop() shut it
                    return responses, True
                raise
            response = _parse_untagged_response(line)
            responses.append(response)
            if response and response[0] == b"BYE":
                return responses, True
            if not self._more(sock):
                return responses, False

    def _more(self, sock: socket.socket) -> bool:
        """More to read at once: arrived, or already in imaplib's buffer (or TLS's), which poll() does
        not see."""
        if _readable(sock, 0):
            return True
        sock.setblocking(False)  # peek reads the network when the buffer is empty: must not wait
        try:
            return bool(self.client._imap.file.peek(1))
        except (BlockingIOError, ssl.SSLWantReadError):
            return False
        finally:
            sock.settimeout(self.read_timeout)

    def done(self) -> list[Any]:
        _, responses = self.client.idle_done()
        return list(responses)

    def interrupt(self) -> None:
        """From the event loop's thread: end the wait in progress now."""
        self.stopped = True
        client = self._client
        if client is None:
            return
        try:
            # The plain socket's shutdown, also under TLS: SSLSocket.shutdown would drop the TLS state
            # the worker thread may be using.
            socket.socket.shutdown(client.socket(), socket.SHUT_RDWR)
        except OSError:  # already closed
            pass


def _readable(sock: socket.socket, timeout: float) -> bool:
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(timeout * 1000))


def _new_mail(response: Any) -> bool:
    return isinstance(response, tuple) and len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")


class IdleWatcher:
    """Keeps one IDLE connection to a mailbox open (reconnecting with backoff) and calls wake() on the
    event loop when the server announces mail. Never raises: failures are logged, rarely."""

    def __init__(self, account: MailAccount, wake: Callable[[], None]) -> None:
        self.account = account
        self.wake = wake
        self.idling = False  # in IDLE now: new mail reaches wake() within a moment
        self.unsupported = False  # the server does not offer IDLE: the watcher has ended
        self.failures = 0  # in a row, since the last stable IDLE
        self._delay = BACKOFF_FIRST
        self._stopping = asyncio.Event()
        self._box: _IdleBox | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"mail-idle-{account.name}")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"mail-idle:{self.account.name}"
        )

    async def stop(self) -> None:
        self._stopping.set()
        if self._box is not None:
            self._box.interrupt()
        task = self._task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=STOP_WAIT)
            if not task.done():  # its thread is in connect(): left to end at the connect timeout
                task.cancel()
                await asyncio.wait({task})
                self._thread.shutdown(wait=False, cancel_futures=True)
                return
        await asyncio.to_thread(self._thread.shutdown)  # idle now: joins at once

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if not await self._session():
                    return
            except Exception as exc:
                if self._stopping.is_set():
                    return
                self._failed(exc)
            finally:
                self.idling = False
                box, self._box = self._box, None
                if box is not None:
                    _close(box)
            if self._stopping.is_set():
                return
            try:
                await asyncio.wait_for(self._stopping.wait(), self._delay)
            except TimeoutError:
                pass
            self._delay = min(self._delay * 2, BACKOFF_MAX)

    async def _session(self) -> bool:
        """One connection, in IDLE until stop() or a failure (raised). False: the server has no IDLE."""
        box = self._box = _IdleBox(
            self.account, readonly=True, read_timeout=READ_TIMEOUT, executor=self._thread
        )
        if not await box._call(box.connect):
            self.unsupported = True
            log.info(
                "the server of %s does not offer IMAP IDLE: its new mail is seen at the poll every %g s",
                self.account.label,
                self.account.poll_seconds,
            )
            return False
        loop = asyncio.get_running_loop()
        since, woke = loop.time(), False
        while not self._stopping.is_set():
            await box._call(box.client.idle)
            self.idling = True
            if not woke:
                # Mail that came while there was no IDLE (start, reconnect) is announced by nobody.
                woke = True
                self.wake()
            renew = loop.time() + REIDLE_SECONDS
            while not self._stopping.is_set() and loop.time() < renew:
                chunk = max(1.0, min(CHUNK_SECONDS, renew - loop.time()))
                responses, gone = await box._call(box.wait, chunk)
                self._saw(responses)
                if gone:
                    raise MailError("connect", "the server closed the IDLE connection")
                if self.failures and loop.time() - since >= STABLE_SECONDS:
                    self._stable()
            self.idling = False
            if not self._stopping.is_set():
                self._saw(await box._call(box.done))
        return True

    def _saw(self, responses: list[Any]) -> None:
        if not self._stopping.is_set() and any(_new_mail(r) for r in responses):
            self.wake()

    def _stable(self) -> None:
        log.info("IMAP IDLE on %s works again", self.account.label)
        self.failures, self._delay = 0, BACKOFF_FIRST

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        if self.failures != 1 and self.failures % LOG_EVERY:
            return
        # MailError texts are scrubbed of the password (bot/cameras/mail/client.py); anything else is a bug.
        what = str(exc) if isinstance(exc, MailError) else f"{type(exc).__name__}: {exc}"
        log.warning(
            "IMAP IDLE on %s is down (%s; %d failure(s) in a row); retrying in %g s, and the poll every "
            "%g s goes on",
            self.account.label,
            what,
            self.failures,
            self._delay,
            self.account.poll_seconds,
            exc_info=not isinstance(exc, MailError),
        )


def _close(box: _IdleBox) -> None:
    """Only closes the socket, so it never blocks the event loop (no LOGOUT: refused in IDLE, and on a
    broken link it would wait READ_TIMEOUT). The thread is done with the box, or about to find it shut."""
    client = box._client
    if client is not None:
        _quietly(client.shutdown)
