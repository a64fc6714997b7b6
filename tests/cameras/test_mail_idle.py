"""IMAP IDLE (bot/cameras/mail/idle.py): with the server announcing new mail, a camera's photo is an alert
within seconds although the poll interval is minutes. Against the real pymap server (tests/mailserver.py), the
bot running against the Bot API emulator; outages are made by a TCP relay in front of the server."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from proxyprotocol.reader import ProxyProtocolReader
from pymap.backend.dict import Config, DictBackend
from pymap.backend.dict import Login as DictLogin
from pymap.config import BackendCapability
from pymap.imap import IMAPServer

from bot.app import build_application, running
from bot.cameras.mail import IdleWatcher, MailIntake, MailPoller, idle
from bot.cameras.mail.accounts import MAIN, accounts
from bot.cameras.mail.sample import camera_email, camera_jpeg
from bot.cli.main import load_settings
from bot.config import ConfigError, Settings
from handlers.runtime import Runtime
from tests.conftest import ADMIN, GROUP, RANGER, Team, eventually, leopard_variants, start_team
from tests.support.mailboxes import mailboxes_file
from tests.support.mailserver import PASSWORD, USER, ImapServer, imap_fixture, imap_server  # noqa: F401 - the fixture

SLOW_POLL = 300.0  # the interval alone would take minutes: anything sooner is IDLE's doing
# How long a test waits for an alert, for IDLE, for a stop: generous, since on a loaded 2-core machine
# (CI) a photo's detection alone can take seconds. What proves IDLE is that the alert comes at all
# within it: the interval's only poll is over before the mail is sent, and the next is SLOW_POLL away.
SOON = 60.0
assert SOON < SLOW_POLL / 2
# The stop tests make each wait for the server this long: a thread still there SOON after the stop was
# not woken by stop(), it would be waiting the chunk out.
LONG_CHUNK = 10 * SOON


@pytest.fixture
def settings(settings: Settings, imap: ImapServer) -> Settings:
    return imap.settings(settings, mail_poll_seconds=SLOW_POLL)


async def register(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.2100 51.8700 Kaskyrbulak area=UST")
    await team.say(team.admin, "/camera add CAM-17 UST-04 match=cam17@cameras.example")


def watcher(team: Team) -> IdleWatcher:
    found: IdleWatcher = Runtime.of(team.app).mail_watchers[MAIN]
    return found


async def in_idle(team: Team) -> IdleWatcher:
    """The watcher waits in IDLE, and the start's polls (the interval's first, IDLE's first) are over:
    from here on only IDLE can bring a mail in before SLOW_POLL."""

    async def ready() -> bool:
        return MAIN in Runtime.of(team.app).mail_watchers and watcher(team).idling and await _polled(team)

    await eventually(ready, SOON)
    return watcher(team)


@asynccontextmanager
async def waiting_in_idle() -> AsyncIterator[threading.Event]:
    """Set whenever a watcher's thread enters a wait for the server (the stop tests stop it there)."""
    entered = threading.Event()
    original = idle._IdleBox.wait

    def wait(self: Any, timeout: float) -> Any:
        entered.set()
        return original(self, timeout)

    idle._IdleBox.wait = wait  # type: ignore[method-assign]
    try:
        yield entered
    finally:
        idle._IdleBox.wait = original  # type: ignore[method-assign]


async def in_a_wait(entered: threading.Event) -> None:
    """Wait until the watcher's thread entered a wait since `entered` was last cleared (with
    LONG_CHUNK it then stays in it until mail comes or stop() cuts it short)."""
    assert await asyncio.to_thread(entered.wait, SOON)


async def no_idle_threads() -> bool:
    return not [t for t in threading.enumerate() if t.name.startswith("mail-idle")]


async def rows(team: Team, status: str = "done") -> int:
    sql = "SELECT COUNT(*) FROM mail_messages WHERE status = ?"
    return int(await team.services.db.scalar(sql, (status,)))


def mail(i: int) -> bytes:
    """A day apart from each other: every one its own event and alert (no burst joins them)."""
    photo = camera_jpeg(leopard_variants(i + 1)[i], taken=datetime(2026, 3, 10 + i, 5, 30))
    return camera_email([(f"IMG_{i:04d}.JPG", photo)])


async def test_with_idle_a_camera_email_is_an_alert_within_seconds(team: Team, imap: ImapServer) -> None:
    await register(team)
    await in_idle(team)
    poller: MailPoller = Runtime.of(team.app).mail_pollers[MAIN]
    polls, before = poller.polls, len(team.alerts())
    await imap.append(mail(0))
    await team.emu.wait_for(lambda: len(team.alerts()) == before + 1, timeout=SOON)
    await eventually(lambda: _async(poller.polls > polls), SOON)  # a poll SLOW_POLL did not start
    assert "Leopard" in team.alerts()[-1]["caption"]


async def test_with_idle_off_the_mail_waits_for_the_poll_interval(
    emu: Any, settings: Settings, detector: Any, imap: ImapServer
) -> None:
    """The same as above without IDLE: proves that test measures IDLE, not a poll."""
    async for team in start_team(emu, settings.with_(mail_idle="off"), detector):
        await register(team)
        await eventually(lambda: _polled(team), SOON)  # noqa: B023 - the first poll (1 s after the start) is over
        assert not Runtime.of(team.app).mail_watchers
        await imap.append(mail(0))
        await asyncio.sleep(3)
        assert await team.services.db.scalar("SELECT COUNT(*) FROM mail_messages") == 0


async def _polled(team: Team) -> bool:
    poller: MailPoller | None = Runtime.of(team.app).mail_pollers.get(MAIN)
    return poller is not None and poller.polls > 0 and not poller.busy


class Relay:
    """A TCP relay in front of the IMAP server. cut() drops every connection and stops listening, as a
    server restart or a network outage does; resume() listens again on the same port."""

    def __init__(self, target: int, *, split: bool = False) -> None:
        self.target, self.port, self.split = target, 0, split
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def listen(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = int(self.server.sockets[0].getsockname()[1])

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        self.writers += [writer, up_writer]
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer, self.split))

    async def cut(self) -> None:
        for w in self.writers:
            w.close()
        self.writers.clear()
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, split: bool = False) -> None:
    try:
        while data := await reader.read(65536):
            if split and len(data) > 1:  # every piece the server sends arrives in two, the second late
                writer.write(data[: len(data) // 2])
                await writer.drain()
                await asyncio.sleep(0.05)
                data = data[len(data) // 2 :]
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


@asynccontextmanager
async def relay_to(server: ImapServer, *, split: bool = False) -> AsyncIterator[Relay]:
    relay = Relay(server.port, split=split)
    await relay.listen()
    try:
        yield relay
    finally:
        await relay.cut()


async def test_idle_survives_a_dropped_connection_and_takes_what_came_meanwhile(
    emu: Any,
    settings: Settings,
    detector: Any,
    imap: ImapServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(idle, "BACKOFF_FIRST", 0.2)
    monkeypatch.setattr(idle, "BACKOFF_MAX", 1.0)
    caplog.set_level(logging.INFO, logger="bot.cameras.mail")
    async with relay_to(imap) as relay:
        via_relay = settings.with_(mail_port=relay.port)
        async for team in start_team(emu, via_relay, detector):
            await register(team)
            w = await in_idle(team)
            before = len(team.alerts())
            await relay.cut()  # the server goes away: the connection in IDLE drops, reconnects are refused
            await eventually(lambda: _async(w.failures >= 3), SOON)  # noqa: B023
            assert not w.idling
            await imap.append(mail(0))  # delivered while the bot cannot see the mailbox
            await relay.listen()
            # Back: a poll at once for what came while IDLE was down, not at the interval.
            await team.emu.wait_for(lambda: len(team.alerts()) == before + 1, timeout=SOON)  # noqa: B023
            await in_idle(team)
            await imap.append(mail(1))
            await team.emu.wait_for(lambda: len(team.alerts()) == before + 2, timeout=SOON)  # noqa: B023
            assert w.failures >= 3
            # One line for the outage, not one per attempt; no notice (the poller owns those).
            down = [
                r
                for r in caplog.records
                if r.name == "bot.cameras.mail.idle" and r.levelno >= logging.WARNING
            ]
            assert len(down) == 1, [r.getMessage() for r in down]
            assert "IMAP IDLE on mailbox main" in down[0].getMessage()
            assert PASSWORD not in caplog.text
            assert await team.services.db.scalar("SELECT COUNT(*) FROM notices") == 0


async def _async(value: bool) -> bool:
    return value


async def test_a_response_split_across_packets_is_read_whole(
    emu: Any, settings: Settings, detector: Any, imap: ImapServer
) -> None:
    """On a real network a line can arrive in two pieces; IMAPClient's idle_check then raises, and drops
    the EXISTS it had read with the connection."""
    async with relay_to(imap, split=True) as relay:
        async for team in start_team(emu, settings.with_(mail_port=relay.port), detector):
            await register(team)
            w = await in_idle(team)
            before = len(team.alerts())
            for i in range(2):
                await imap.append(mail(i))
                await team.emu.wait_for(lambda: len(team.alerts()) == before + i + 1, timeout=SOON)  # noqa: B023
            assert w.failures == 0 and w.idling


async def test_idle_over_tls_alerts_within_seconds_and_stops_at_once(
    emu: Any, settings: Settings, detector: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idle, "CHUNK_SECONDS", LONG_CHUNK)
    async with imap_server(tls_folder=tmp_path) as secure, waiting_in_idle() as entered:
        monkeypatch.setenv("SSL_CERT_FILE", str(secure.cafile))  # trusts the test's own certificate
        configured = secure.settings(settings, mail_poll_seconds=SLOW_POLL)
        assert configured.mail_tls == "ssl"
        app = build_application(configured, detector)
        async with running(app):
            team = Team(emu, app.bot_data["services"], emu.user(ADMIN, "Aigerim"), emu.user(RANGER, "S"),
                        emu.group(GROUP, "Coordinators"), app)  # fmt: skip
            await team.say(team.admin, "/register en", team.group)
            await register(team)
            w = await in_idle(team)
            before = len(team.alerts())
            entered.clear()  # the mail ends the wait going on; the next one is what stop() must cut
            await secure.append(mail(0))
            await team.emu.wait_for(lambda: len(team.alerts()) == before + 1, timeout=SOON)
            await in_a_wait(entered)  # back in an idle wait, of LONG_CHUNK seconds
            started = time.monotonic()
        assert time.monotonic() - started < SOON
        await eventually(no_idle_threads, SOON)  # the wait was cut short, not waited out
        assert w.failures == 0 and w._task is not None and w._task.done()


async def test_mail_arriving_during_a_poll_is_taken_right_after_it(
    team: Team, imap: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(team)
    await in_idle(team)
    poller: MailPoller = Runtime.of(team.app).mail_pollers[MAIN]
    entered, release = asyncio.Event(), asyncio.Event()
    original = MailIntake.handle

    async def slow_first(self: MailIntake, raw: bytes, ref: Any) -> Any:
        if not entered.is_set():
            entered.set()
            await release.wait()  # the first message takes long: the poll is still running
        return await original(self, raw, ref)

    monkeypatch.setattr(MailIntake, "handle", slow_first)
    await imap.append(mail(0))
    try:
        await asyncio.wait_for(entered.wait(), SOON)  # IDLE woke the poller, whose search is over
        await imap.append(mail(1))
        await eventually(lambda: _async(poller.again), SOON)  # IDLE announced it while that poll runs
        assert poller.busy
    finally:
        release.set()  # also on failure: a poll left waiting would hold up the bot's stop
    await eventually(lambda: _done(team, 2), SOON)


async def _done(team: Team, n: int) -> bool:
    return await rows(team) >= n


async def test_stopping_with_a_watcher_in_idle_is_quick_and_leaves_nothing_running(
    settings: Settings,
    detector: Any,
    emu: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.WARNING)
    monkeypatch.setattr(idle, "CHUNK_SECONDS", LONG_CHUNK)
    app = build_application(settings, detector)
    async with waiting_in_idle() as entered, running(app):

        async def ready() -> bool:
            found = Runtime.of(app).mail_watchers.get(MAIN)
            return found is not None and found.idling

        await eventually(ready, SOON)
        w: IdleWatcher = Runtime.of(app).mail_watchers[MAIN]
        await in_a_wait(entered)  # inside a wait of LONG_CHUNK seconds
        started = time.monotonic()
    assert time.monotonic() - started < SOON
    assert w._task is not None and w._task.done()
    await eventually(no_idle_threads, SOON)  # the wait was cut short, not waited out
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("mail-")]
    gc.collect()
    assert "Task was destroyed" not in caplog.text


class _NoIdle(Config):
    @property
    def backend_capability(self) -> BackendCapability:
        return BackendCapability(idle=False, object_id=True, multi_append=True)


@asynccontextmanager
async def server_without_idle() -> AsyncIterator[ImapServer]:
    args = argparse.Namespace(
        host="127.0.0.1", port=0, debug=False, cert=None, key=None, tls=False, passlib_cfg=None,
        proxy_protocol=None, inherited_sockets=None, demo_data=False, demo_user=USER, demo_password=PASSWORD,
    )  # fmt: skip
    config = _NoIdle.from_args(args, invalid_user_sleep=0.0)
    login = DictLogin(config)
    await DictBackend._add_demo_user(config, login)
    config.apply_context()
    handler = IMAPServer(DictBackend(login, config).login, config)
    server = await asyncio.start_server(
        ProxyProtocolReader(config.proxy_protocol).get_callback(handler), "127.0.0.1", 0
    )
    try:
        yield ImapServer("127.0.0.1", int(server.sockets[0].getsockname()[1]), USER, PASSWORD)
    finally:
        server.close()


async def test_a_server_without_idle_is_only_polled_and_the_watcher_ends_quietly(
    emu: Any, settings: Settings, detector: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.cameras.mail")
    async with server_without_idle() as plain:
        async for team in start_team(emu, plain.settings(settings, mail_poll_seconds=0.5), detector):
            await register(team)
            await eventually(lambda: _async(bool(Runtime.of(team.app).mail_watchers)), SOON)  # noqa: B023
            w = watcher(team)
            await eventually(lambda: _async(w.unsupported), SOON)  # noqa: B023
            assert w._task is not None and w._task.done() and w.failures == 0
            before = len(team.alerts())
            await plain.append(mail(0))  # the poll every half second takes it
            await team.emu.wait_for(lambda: len(team.alerts()) == before + 1, timeout=SOON)  # noqa: B023
    said = [r.getMessage() for r in caplog.records if r.name == "bot.cameras.mail.idle"]
    assert len(said) == 1 and "does not offer IMAP IDLE" in said[0], said


def test_idle_setting_is_checked(tmp_path: Path) -> None:
    main = {"LW_MAIL_HOST": "imap.mail.example", "LW_MAIL_USER": "a@mail.example", "LW_MAIL_PASSWORD": "p"}
    load = load_settings
    assert accounts(load(env_file=None, environ=main))[0].idle == "auto"
    off = accounts(load(env_file=None, environ={**main, "LW_MAIL_IDLE": "off"}))[0]
    assert off.idle == "off"
    assert off.key == accounts(load(env_file=None, environ=main))[0].key  # the ledger's rows stay its own
    for wrong in ("on", "yes", ""):
        with pytest.raises(ConfigError, match=r"LW_MAIL_IDLE is auto .* or off"):
            load(env_file=None, environ={**main, "LW_MAIL_IDLE": wrong})
    box = '[[mailbox]]\nname = "x"\nhost = "h.example"\nuser = "u"\npassword = "p"\n'
    path = mailboxes_file(tmp_path, box + 'idle = "off"\n')
    assert [a.idle for a in accounts(load(env_file=None, environ={"LW_MAILBOXES_FILE": str(path)}))] == [
        "off"
    ]
    path = mailboxes_file(tmp_path, box)
    assert [a.idle for a in accounts(load(env_file=None, environ={"LW_MAILBOXES_FILE": str(path)}))] == [
        "auto"
    ]
    for wrong in ('"sometimes"', "false", "1"):
        path = mailboxes_file(tmp_path, box + f"idle = {wrong}\n")
        with pytest.raises(ConfigError, match=r"idle of \[\[mailbox\]\] 'x' in .* is auto"):
            load(env_file=None, environ={"LW_MAILBOXES_FILE": str(path)})
