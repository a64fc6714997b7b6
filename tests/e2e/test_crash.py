"""Crash safety: SIGKILL the bot process in the middle of a burst of photos, restart it, and check that
every photo became exactly one sighting and no alert was sent twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

from emulator import BotApiEmulator
from storage.db import Database, iso, utcnow
from tests.conftest import leopard_variants

RANGER_ID, GROUP_ID = 700_001, -100_555_0001
PHOTOS = 10


async def seed(db_path: Path) -> None:
    async with Database(db_path) as db:
        now = iso(utcnow())
        await db.execute(
            "INSERT INTO rangers (user_id, name, role, status, created_at) "
            "VALUES (?, 'Serik', 'ranger', 'active', ?)",
            (RANGER_ID, now),
        )
        await db.execute(
            "INSERT INTO groups (chat_id, title, language, created_at) VALUES (?, 'Coordinators', 'en', ?)",
            (GROUP_ID, now),
        )


def start_bot(emu: BotApiEmulator, tmp: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LW_TOKEN": emu.token,
        "LW_BASE_URL": emu.base_url,
        "LW_BASE_FILE_URL": emu.base_file_url,
        "LW_DATABASE": str(tmp / "lw.sqlite3"),
        "LW_PHOTO_DIR": str(tmp / "photos"),
        "LW_BURST_MINUTES": "0",
        "LW_LOG_LEVEL": "WARNING",
    }
    log = (tmp / "bot.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "--env-file", str(tmp / "none.env"), "run"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def count(db_path: Path, sql: str) -> int:
    with sqlite3.connect(db_path, timeout=5) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def wait_until(check, timeout: float, what: str) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_sigkill_mid_burst_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    db_path = tmp_path / "lw.sqlite3"
    await seed(db_path)
    ranger = emu.user(RANGER_ID, "Serik")
    emu.group(GROUP_ID, "Coordinators")
    proc = start_bot(emu, tmp_path)
    try:
        for data in leopard_variants(PHOTOS):
            await emu.send_photo(ranger, data)
        # Kill it while the burst is being worked through.
        await wait_until(lambda: count(db_path, "SELECT COUNT(*) FROM sightings") >= 2, 60, "first sightings")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        done_before = count(db_path, "SELECT COUNT(*) FROM sightings")
        assert done_before < PHOTOS, "the kill came too late to test anything"

        proc = start_bot(emu, tmp_path)
        await wait_until(
            lambda: count(db_path, "SELECT COUNT(*) FROM sightings") == PHOTOS, 90, "all sightings"
        )
        await wait_until(
            lambda: count(db_path, "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')") == 0,
            60,
            "outbox drained",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert count(db_path, "SELECT COUNT(DISTINCT photo_sha256) FROM sightings") == PHOTOS
    alerts = [m for m in emu.sent(GROUP_ID) if m["method"] == "sendPhoto"]
    per_event = Counter(m["caption"].split("#")[1].split()[0] for m in alerts)
    assert per_event and max(per_event.values()) == 1, per_event  # never twice
    events = count(db_path, "SELECT COUNT(DISTINCT event_id) FROM sightings WHERE event_id IS NOT NULL")
    interrupted = count(db_path, "SELECT COUNT(*) FROM outbox WHERE last_error LIKE 'interrupted%'")
    # Each event alerted exactly once, except one whose API call the kill may have cut mid-flight:
    # it may or may not have arrived, and it is not sent again (the admins are told to check).
    assert events - interrupted <= len(per_event) <= events and interrupted <= 1
    assert count(db_path, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") == 0
