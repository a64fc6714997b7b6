"""The bot as a real process (`python -m bot.cli run`) against the emulator, its database seeded and read
from outside, for the tests that kill and restart it."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from emulator import BotApiEmulator
from storage.db import Database, iso, utcnow

RANGER_ID, GROUP_ID = 700_001, -100_555_0001


async def seed(db_path: Path) -> None:
    """A ranger and a registered group, as the bot would have stored them."""
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
        [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def count(db_path: Path, sql: str) -> int:
    with sqlite3.connect(db_path, timeout=5) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def wait_until(check: Callable[[], object], timeout: float, what: str) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
