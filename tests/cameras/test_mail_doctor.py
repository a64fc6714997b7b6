"""The camera mailbox's settings: `leopard-watch doctor` logs in for real, TLS is checked, and the
password never reaches a log line, a repr or the doctor's output."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.cameras.mail import MailError, MailPoller
from bot.cameras.mail import check_login as _check_login
from bot.cameras.mail.accounts import main_account
from bot.cameras.mail.sample import camera_email
from bot.cli.doctor import Check
from bot.cli.doctor import _camera_mail as _camera_mails
from bot.cli.main import load_settings
from bot.config import ConfigError, Settings
from bot.services import Services
from tests.conftest import leopard_variants
from tests.support.mailserver import PASSWORD, ImapServer, imap_fixture, imap_server  # noqa: F401 - the fixture


async def _camera_mail(settings: Settings) -> Check:
    """The doctor's one line for the LW_MAIL_* mailbox."""
    (check,) = await _camera_mails(settings)
    return check


async def check_login(settings: Settings) -> str:
    account = main_account(settings)
    assert account is not None
    return await _check_login(account)


def base(tmp_path: Path) -> Settings:
    return Settings(database=tmp_path / "lw.sqlite3", photo_dir=tmp_path / "photos", admin_ids=frozenset({1}))


async def test_doctor_checks_the_imap_login(tmp_path: Path, imap: ImapServer) -> None:
    good = await _camera_mail(imap.settings(base(tmp_path)))
    assert good.ok and "logged in as cameras@leopard-watch.example" in good.detail and "INBOX" in good.detail
    assert "announced by IMAP IDLE" in good.detail  # pymap offers IDLE
    off = await _camera_mail(imap.settings(base(tmp_path), mail_idle="off"))
    assert "IDLE off: polled every 60 s" in off.detail
    bad = await _camera_mail(imap.settings(base(tmp_path), mail_password="wrong-" + PASSWORD))
    assert not bad.ok and "LW_MAIL_PASSWORD" in bad.detail and "app password" in bad.detail
    assert PASSWORD not in bad.detail
    folder = await _camera_mail(imap.settings(base(tmp_path), mail_folder="Cameras"))
    assert not folder.ok and "LW_MAIL_FOLDER" in folder.detail
    off = await _camera_mail(base(tmp_path))
    assert off.ok and "no mailbox" in off.detail and "LW_MAIL_HOST" in off.detail


async def test_unreachable_server_is_reported(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = base(tmp_path).with_(
        mail_host="127.0.0.1", mail_port=port, mail_tls="none", mail_user="u", mail_password=PASSWORD
    )
    check = await _camera_mail(settings)
    assert not check.ok and f"cannot reach 127.0.0.1:{port}" in check.detail


async def test_tls_is_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with imap_server(tls_folder=tmp_path) as server:
        settings = server.settings(base(tmp_path))
        assert settings.mail_tls == "ssl"
        # A self-signed certificate nobody trusts: refused, as a forged server would be.
        with pytest.raises(MailError) as refused:
            await check_login(settings)
        assert refused.value.reason == "tls" and "certificate" in str(refused.value).lower()
        # Trusted through the standard OpenSSL variable (a private CA for a self-hosted server).
        monkeypatch.setenv("SSL_CERT_FILE", str(server.cafile))
        assert "logged in" in await check_login(settings)


async def test_starttls_is_used_and_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with imap_server(tls_folder=tmp_path, starttls=True) as server:
        settings = server.settings(base(tmp_path), mail_tls="starttls")
        with pytest.raises(MailError) as refused:  # the certificate is checked after STARTTLS too
            await check_login(settings)
        assert refused.value.reason == "tls"
        monkeypatch.setenv("SSL_CERT_FILE", str(server.cafile))
        assert "(TLS: starttls)" in await check_login(settings)


async def test_the_password_never_reaches_the_log(
    tmp_path: Path,
    imap: ImapServer,
    detector: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # everything, the IMAP library's protocol trace included
    settings = imap.settings(base(tmp_path))
    svc = await Services.create(settings, detector)  # type: ignore[arg-type]
    try:
        poller = MailPoller(settings, svc.mail)
        await imap.append(camera_email([("IMG_1.JPG", leopard_variants(1)[0])]))
        assert (await poller.run_once()) is not None
        wrong = MailPoller(settings.with_(mail_password=PASSWORD + "x"), poller.intake)
        assert await wrong.run_once() is None  # logged, not raised
    finally:
        await svc.close()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "LOGIN" in text  # the trace was on: the login went by, redacted
    assert "refused the login" in text
    assert PASSWORD not in text and PASSWORD.replace('"', '\\"') not in text
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)


def test_mail_settings_are_validated() -> None:
    ok = {"LW_MAIL_HOST": "imap.mail.example", "LW_MAIL_USER": "u@mail.example", "LW_MAIL_PASSWORD": "p"}
    settings = load_settings(env_file=None, environ=ok)
    assert main_account(settings).port_or_default == 993  # type: ignore[union-attr] and settings.mail_poll_seconds == 60.0
    with pytest.raises(ConfigError, match="LW_MAIL_USER and LW_MAIL_PASSWORD"):
        load_settings(env_file=None, environ={"LW_MAIL_HOST": "imap.mail.example"})
    with pytest.raises(ConfigError, match="only allowed for localhost"):
        load_settings(env_file=None, environ={**ok, "LW_MAIL_TLS": "none"})
    with pytest.raises(ConfigError, match="LW_MAIL_TLS"):
        load_settings(env_file=None, environ={**ok, "LW_MAIL_TLS": "yes"})
    local = load_settings(env_file=None, environ={**ok, "LW_MAIL_HOST": "127.0.0.1", "LW_MAIL_TLS": "none"})
    assert main_account(local).port_or_default == 143  # type: ignore[union-attr]
    allow = load_settings(env_file=None, environ={**ok, "LW_MAIL_ALLOW": "A@x.kz, @cams.kz"})
    assert allow.mail_allow_list == frozenset({"a@x.kz", "@cams.kz"})


async def test_a_connection_dropped_at_login_is_no_wrong_password(tmp_path: Path) -> None:
    """A server (or the network) that hangs up on LOGIN: a connection problem, not "check the password"."""
    import asyncio

    async def hang_up_at_login(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK IMAP4rev1 ready\r\n")
        await writer.drain()
        while line := await reader.readline():
            tag, command = line.split()[:2]
            if command.upper() != b"CAPABILITY":
                break  # LOGIN: hang up
            writer.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(hang_up_at_login, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    try:
        settings = base(tmp_path).with_(
            mail_host="127.0.0.1", mail_port=port, mail_tls="none", mail_user="u", mail_password=PASSWORD
        )
        with pytest.raises(MailError) as caught:
            await check_login(settings)
        assert caught.value.reason == "connect" and "dropped the connection" in str(caught.value)
        assert PASSWORD not in str(caught.value)
    finally:
        server.close()
