"""The heartbeat (bot/botapi/polling.py): a file whose mtime is the last successful poll of Telegram, the
admins told once when polls stop for LW_HEARTBEAT_MINUTES and once when they are back, and doctor's
WARN when a running bot's heartbeat is stale."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build_application, running
from bot.botapi import heartbeat_status
from bot.botapi.polling import TOUCH_EVERY, PollingHealth
from bot.cli.doctor import heartbeat
from bot.config import ConfigError, Settings
from emulator import BotApiEmulator
from tests.conftest import ADMIN, eventually
from tests.support.sightings_world import NoDetector


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watched(path: Path, minutes: float = 15.0) -> tuple[PollingHealth, Clock, list[tuple[str, str]]]:
    clock, told = Clock(), []
    health = PollingHealth(5.0, clock, heartbeat_file=path, heartbeat_minutes=minutes)

    async def notify(text: str, key: str) -> None:
        told.append((text, key))

    health.notify = notify
    return health, clock, told


async def settle(health: PollingHealth) -> None:
    if health._recovery is not None:
        await health._recovery


async def test_a_poll_touches_the_file_at_most_every_half_minute(tmp_path: Path) -> None:
    beat = tmp_path / "lw.sqlite3.heartbeat"
    health, clock, _ = watched(beat)
    assert not beat.exists()  # nothing before the first poll
    health.answered()
    assert beat.exists()
    os.utime(beat, (1.0, 1.0))
    clock.now += TOUCH_EVERY - 1
    health.answered()
    assert beat.stat().st_mtime == 1.0  # not one write per poll
    clock.now += 1
    health.answered()
    assert time.time() - beat.stat().st_mtime < 60


async def test_silent_polls_are_told_once_and_their_end_once(tmp_path: Path) -> None:
    health, clock, told = watched(tmp_path / "hb", minutes=15)
    health.answered()
    clock.now += 14 * 60
    await health.check()
    assert told == []
    clock.now += 61
    await health.check()
    clock.now += 60
    await health.check()  # the job every minute: still one notice
    assert len(told) == 1 and "not heard from Telegram for 15 min" in told[0][0]
    clock.now += 10 * 60
    health.answered()
    await settle(health)
    health.answered()
    await settle(health)
    assert len(told) == 2 and "again, after 26 min" in told[1][0]
    assert told[0][1] != told[1][1]  # two dedup keys: the second is not swallowed by the first
    clock.now += 60
    await health.check()
    assert len(told) == 2


async def test_an_unwritable_heartbeat_is_one_warning_and_polling_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    health, clock, _ = watched(tmp_path / "missing-folder" / "hb")
    for _ in range(3):
        health.answered()
        clock.now += TOUCH_EVERY
    said = [r.getMessage() for r in caplog.records if "heartbeat file" in r.getMessage()]
    assert len(said) == 1 and "missing-folder" in said[0]


def test_the_setting_is_checked() -> None:
    with pytest.raises(ConfigError, match="LW_HEARTBEAT_MINUTES"):
        Settings.load(env_file=None, environ={"LW_HEARTBEAT_MINUTES": "0"})
    loaded = Settings.load(env_file=None, environ={"LW_DATA_DIR": "/srv/x", "LW_HEARTBEAT_MINUTES": "5"})
    assert loaded.heartbeat_minutes == 5.0
    assert loaded.heartbeat_file == Path("/srv/x/leopard-watch.sqlite3.heartbeat")


# --- through the real client -------------------------------------------------------------------------


async def test_the_running_bot_beats_and_tells_the_admin_when_polls_fail_and_come_back(
    emu: BotApiEmulator, settings: Settings
) -> None:
    quick = settings.with_(heartbeat_minutes=0.03)  # 1.8 s
    app = build_application(quick, NoDetector())
    async with running(app):
        admin = emu.user(ADMIN, "Aigerim")
        await emu.send_text(admin, "/start")  # the admin's private chat, where notices go
        await eventually(lambda: _async(quick.heartbeat_file.exists()), 10)
        assert app.job_queue is not None
        [job] = app.job_queue.get_jobs_by_name("polling-heartbeat")
        # Three 502s in a row: PTB waits 1, 1.5 and 2.25 s between them, over the 1.8 s.
        emu.fail_next("getUpdates", 502, description="Bad Gateway", times=3)

        async def told(words: str) -> bool:
            await job.run(app)  # what the job queue does every minute
            return any(words in (m.get("text") or "") for m in emu.sent(ADMIN))

        await eventually(lambda: told("has not heard from Telegram"), 20)
        await eventually(lambda: told("hears from Telegram again"), 20)
    texts = [m.get("text") or "" for m in emu.sent(ADMIN)]
    assert sum("has not heard" in t for t in texts) == 1 and sum("again, after" in t for t in texts) == 1


async def _async(value: bool) -> bool:
    return value


# --- what doctor says --------------------------------------------------------------------------------

HOLD = """
import sys, time
from pathlib import Path
from storage.lock import RunLock
RunLock(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture
def running_bot(settings: Settings) -> Iterator[int]:
    """Another process holding the database's run lock, as `leopard-watch run` does."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(settings.database)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc.pid
    finally:
        proc.kill()
        proc.wait(10)


def test_doctor_warns_only_while_a_running_bot_has_a_stale_heartbeat(
    settings: Settings, running_bot: int
) -> None:
    beat, lock = settings.heartbeat_file, settings.database.with_name(settings.database.name + ".lock")
    check = heartbeat(settings.with_(heartbeat_minutes=15))
    assert (
        check.status == "warn" and f"pid {running_bot}" in check.detail and "no poll recorded" in check.detail
    )
    beat.touch()
    check = heartbeat(settings)
    assert check.status == "ok" and "polls Telegram" in check.detail
    old = time.time() - 16 * 60
    os.utime(beat, (old, old))
    check = heartbeat(settings)
    assert check.status == "warn" and "16 min ago" in check.detail and "journalctl" in check.detail
    assert heartbeat_status(beat, lock, 30)[0] is False  # within its own setting


def test_doctor_says_ok_when_no_bot_runs_and_creates_nothing(settings: Settings, tmp_path: Path) -> None:
    before = sorted(tmp_path.iterdir())
    check = heartbeat(settings)
    assert check.status == "ok" and "no bot running" in check.detail
    assert sorted(tmp_path.iterdir()) == before


def test_the_doctors_own_hold_of_the_lock_is_not_a_running_bot(settings: Settings) -> None:
    """doctor --full takes the lock for its short poll; the pid in the file is then a dead bot's."""
    lock = settings.database.with_name(settings.database.name + ".lock")
    lock.write_text("pid 999999999")
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert heartbeat(settings).status == "ok"
        lock.write_text(f"pid {os.getpid()}")
        assert heartbeat(settings).status == "ok"
    finally:
        os.close(fd)
