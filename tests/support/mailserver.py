"""A real IMAP server for the camera-mail tests: pymap with its in-memory backend, started in the test's
own event loop on a random loopback port (optionally behind TLS), with one known user.

Tests put messages in as a mail server's delivery would (IMAP APPEND from a second connection) and read
flags back the same way; the bot's side is the real client in bot/cameras/mail/client.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient
from proxyprotocol.reader import ProxyProtocolReader
from pymap.backend.dict import DictBackend
from pymap.imap import IMAPServer

from bot.config import Settings

USER = "cameras@leopard-watch.example"
# Quotes and a backslash: LOGIN must quote them, and a log that scrubbed only the raw text would leak it.
PASSWORD = 'Sn0w"Le\\opard-7'


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    tls: bool = False
    cafile: Path | None = None

    def settings(self, base: Settings, **changes: Any) -> Settings:
        mail: dict[str, Any] = {
            "mail_host": self.host,
            "mail_port": self.port,
            "mail_tls": "ssl" if self.tls else "none",
            "mail_user": self.user,
            "mail_password": self.password,
        }
        return base.with_(**{**mail, **changes})

    def _client(self) -> IMAPClient:
        context = ssl.create_default_context(cafile=str(self.cafile)) if self.cafile else None
        client = IMAPClient(self.host, port=self.port, ssl=self.tls, ssl_context=context, timeout=10)
        client.login(self.user, self.password)
        return client

    async def append(self, raw: bytes, folder: str = "INBOX", flags: Iterable[bytes] = ()) -> int:
        """Deliver one message; returns its UID."""

        def run() -> int:
            client = self._client()
            try:
                answer = client.append(folder, raw, flags=tuple(flags))
                # "[APPENDUID <uidvalidity> <uid>] APPEND completed."
                return int(answer.split(b"]")[0].split()[-1])
            finally:
                client.logout()

        return await asyncio.to_thread(run)

    async def flags(self, folder: str = "INBOX") -> dict[int, set[bytes]]:
        def run() -> dict[int, set[bytes]]:
            client = self._client()
            try:
                client.select_folder(folder, readonly=True)
                uids = client.search(["ALL"])
                found = client.get_flags(uids) if uids else {}
                return {int(u): set(f) for u, f in found.items()}
            finally:
                client.logout()

        return await asyncio.to_thread(run)

    async def seen(self, uid: int, folder: str = "INBOX") -> bool:
        return b"\\Seen" in (await self.flags(folder)).get(uid, set())

    async def set_flags(self, uid: int, flags: Iterable[bytes], folder: str = "INBOX") -> None:
        def run() -> None:
            client = self._client()
            try:
                client.select_folder(folder)
                client.set_flags([uid], list(flags))
            finally:
                client.logout()

        await asyncio.to_thread(run)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (openssl, which the machine image ships)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@asynccontextmanager
async def imap_server(
    user: str = USER, password: str = PASSWORD, *, tls_folder: Path | None = None, starttls: bool = False
) -> AsyncIterator[ImapServer]:
    """tls_folder: implicit TLS (port 993 style) with a certificate made there; with starttls, the same
    certificate is offered through STARTTLS on a plain connection (port 143 style) instead."""
    cert = key = None
    if tls_folder is not None:
        cert, key = self_signed(tls_folder)
    args = argparse.Namespace(
        host="127.0.0.1",
        port=0,
        debug=False,
        cert=str(cert) if starttls else None,
        key=str(key) if starttls else None,
        tls=starttls,
        passlib_cfg=None,
        proxy_protocol=None,
        inherited_sockets=None,
        demo_data=False,
        demo_user=user,
        demo_password=password,
    )
    backend, config = await DictBackend.init(args, invalid_user_sleep=0.0)
    config.apply_context()
    callback = ProxyProtocolReader(config.proxy_protocol).get_callback(IMAPServer(backend.login, config))
    context = None
    if cert is not None and key is not None and not starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
    server = await asyncio.start_server(callback, "127.0.0.1", 0, ssl=context)
    port = int(server.sockets[0].getsockname()[1])
    try:
        yield ImapServer("127.0.0.1", port, user, password, tls=context is not None, cafile=cert)
    finally:
        server.close()
        # Open client connections (a poll cut short) must not keep the test waiting: Python 3.12+ waits
        # for them in wait_closed, 3.13+ can close them.
        if hasattr(server, "close_clients"):
            server.close_clients()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 5)


@pytest.fixture(name="imap")
async def imap_fixture() -> AsyncIterator[ImapServer]:
    async with imap_server() as server:
        yield server
