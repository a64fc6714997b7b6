"""Nothing a ranger sends is lost when storage fails or the bot is stopped: a full disk, another process
holding SQLite's write lock, a `systemctl restart` (SIGTERM) or a kill in the middle of an album.

All through the emulator with the real PTB client. A full disk is simulated at the filesystem: the photo
store's write raises ENOSPC, as os.write does on a full disk.
"""

from __future__ import annotations

import asyncio
import errno
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.cli.doctor import run_checks
from bot.config import Settings
from bot.detection.model import OnnxLeopardDetector
from emulator import BotApiEmulator
from storage.photos import PhotoStore, StoredPhoto
from tests.conftest import ADMIN, Team, eventually, start_team
from tests.support.bot_process import RANGER_ID, count, seed, start_bot, wait_until
from tests.support.photo_variants import jackal_variants

LOCK_SECONDS = 8.0


@pytest.fixture
def quick_recovery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry rounds and write backoff in fractions of a second instead of a minute (read at start)."""
    monkeypatch.setattr("handlers.storage_trouble.RETRY_TICK", 0.2)
    monkeypatch.setattr("handlers.runtime.RETRY_FIRST", 1.0)
    monkeypatch.setattr("storage.photos.WRITE_BACKOFF", 0.05)


@pytest.fixture
async def quick_team(
    quick_recovery: None, emu: BotApiEmulator, settings: Settings, detector: OnnxLeopardDetector
) -> AsyncIterator[Team]:
    async for team in start_team(emu, settings, detector):
        yield team


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """state["full"] = True makes every photo write fail as on a full disk; False frees the space."""
    state = {"full": False}
    real_put = PhotoStore.put

    def put(self: PhotoStore, data: bytes) -> StoredPhoto:
        if state["full"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_put(self, data)

    monkeypatch.setattr(PhotoStore, "put", put)
    yield state


@asynccontextmanager
async def write_lock(db_path: Path, seconds: float) -> AsyncIterator[float]:
    """Another process's write transaction on the bot's database (a backup script, an admin's sqlite3
    shell) holding the lock for `seconds`; yields the loop time it was taken."""
    taken = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            taken.set()
            time.sleep(seconds)
            conn.execute("COMMIT")
        finally:
            conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert await asyncio.to_thread(taken.wait, 10), "could not take the write lock"
    try:
        yield asyncio.get_running_loop().time()
    finally:
        await asyncio.to_thread(thread.join, seconds + 10)


def read(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """A separate reader: the bot's own connection may be waiting for the lock (WAL lets us read)."""
    with sqlite3.connect(db_path, timeout=5) as conn:
        row = conn.execute(sql, params).fetchone()
    return None if row is None else row[0]


async def wait_recorded(db_path: Path, inbox_before: int) -> None:
    """Until the update is in the inbox (so the lock taken next hits the handler, not getUpdates)."""
    await wait_until(lambda: read(db_path, "SELECT COUNT(*) FROM inbox") > inbox_before, 10, "inbox row")


def undone(db_path: Path) -> int:
    return int(read(db_path, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL"))


def album_receipts(emu: BotApiEmulator, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in emu.sent(chat_id) if "Album of" in m.get("text", "")]


async def test_full_disk_keeps_the_photo_tells_the_truth_and_processes_it_later(
    quick_team: Team, settings: Settings, full_disk: dict[str, bool], leopard_jpeg: bytes, jackal_jpeg: bytes
) -> None:
    team, emu, db_path = quick_team, quick_team.emu, settings.database
    admin_before = len(emu.sent(ADMIN))
    full_disk["full"] = True
    reply = await team.photo(team.ranger, jackal_jpeg)
    assert "disk is full" in reply["text"] and "not lost" in reply["text"], reply["text"]
    assert "safe" not in reply["text"]
    reply = await team.photo(team.ranger, leopard_jpeg)
    assert "disk is full" in reply["text"], reply["text"]
    assert read(db_path, "SELECT COUNT(*) FROM sightings") == 0
    # Kept for replay: neither update is marked done (the team's /register, /start... are).
    await asyncio.sleep(0.5)
    assert undone(db_path) == 2
    told = await emu.wait_sent(ADMIN, admin_before + 1, timeout=15)
    assert "disk is full" in told[-1]["text"] and "No space left on device" in told[-1]["text"]
    # Several retry rounds fail while the disk stays full: nobody is told twice.
    await asyncio.sleep(3.0)
    assert len([m for m in emu.sent(ADMIN)[admin_before:] if "disk is full" in m.get("text", "")]) == 1
    assert len([m for m in emu.sent(team.ranger.id) if "disk is full" in m.get("text", "")]) == 2

    before = len(emu.sent(team.ranger.id))
    full_disk["full"] = False  # space freed: the deferred photos go through on the next round
    replies = await emu.wait_sent(team.ranger.id, before + 2, timeout=30)
    texts = sorted(m["text"] for m in replies[before:])
    assert "Sighting #" in texts[0] and "Sighting #" in texts[1], texts
    assert read(db_path, "SELECT COUNT(*) FROM sightings") == 2
    await eventually(lambda: asyncio.to_thread(lambda: undone(db_path) == 0))
    await wait_until(team.alerts, 15, "the leopard's alert in the group")


async def test_photo_recorded_while_another_process_holds_the_write_lock(
    team: Team, settings: Settings, jackal_jpeg: bytes
) -> None:
    emu, db_path = team.emu, settings.database
    inbox_before = read(db_path, "SELECT COUNT(*) FROM inbox")
    # The download answers late, so the sighting's write comes while the lock is held.
    emu.slow_next("getFile", 1.0)
    before = len(emu.sent(team.ranger.id))
    await emu.send_photo(team.ranger, jackal_jpeg)
    await wait_recorded(db_path, inbox_before)
    async with write_lock(db_path, LOCK_SECONDS) as locked_at:
        reply = (await emu.wait_sent(team.ranger.id, before + 1, timeout=40))[-1]
        answered_at = asyncio.get_running_loop().time()
    assert "Sighting #1" in reply["text"], reply["text"]
    assert answered_at - locked_at > LOCK_SECONDS - 2, "the write did not wait for the lock"
    assert read(db_path, "SELECT COUNT(*) FROM sightings") == 1
    await wait_until(lambda: undone(db_path) == 0, 10, "the update marked done")


async def test_alert_marked_sent_although_the_database_was_locked_meanwhile(
    team: Team, settings: Settings, leopard_jpeg: bytes
) -> None:
    emu, db_path = team.emu, settings.database
    emu.slow_next("sendPhoto", 2.0)  # the alert's answer is in flight for 2 s
    await team.photo(team.ranger, leopard_jpeg)
    status = "SELECT status FROM outbox WHERE kind = 'alert' ORDER BY id DESC LIMIT 1"
    await wait_until(lambda: read(db_path, status) == "sending", 15, "alert being sent")
    async with write_lock(db_path, LOCK_SECONDS):
        await wait_until(lambda: read(db_path, status) == "sent", 40, "alert marked sent")
    assert len(team.alerts()) == 1


async def test_database_locked_past_patience_defers_the_photo_until_it_is_free(
    monkeypatch: pytest.MonkeyPatch,
    quick_recovery: None,
    emu: BotApiEmulator,
    settings: Settings,
    detector: OnnxLeopardDetector,
    jackal_jpeg: bytes,
) -> None:
    monkeypatch.setattr("storage.db.PATIENCE", 1.5)
    db_path = settings.database
    async for team in start_team(emu, settings, detector):
        inbox_before = read(db_path, "SELECT COUNT(*) FROM inbox")
        emu.slow_next("getFile", 0.5)
        before = len(emu.sent(team.ranger.id))
        await emu.send_photo(team.ranger, jackal_jpeg)
        await wait_recorded(db_path, inbox_before)
        async with write_lock(db_path, 7.0):
            reply = (await emu.wait_sent(team.ranger.id, before + 1, timeout=20))[-1]
            assert "database is busy" in reply["text"] and "not lost" in reply["text"], reply["text"]
            assert read(db_path, "SELECT COUNT(*) FROM sightings") == 0
        replies = await emu.wait_sent(team.ranger.id, before + 2, timeout=30)
        assert "Sighting #1" in replies[-1]["text"], replies[-1]["text"]
        await wait_until(lambda: undone(db_path) == 0, 10, "the update marked done")
        assert len(emu.sent(team.ranger.id)) == before + 2  # told once, then the receipt


async def test_stopping_mid_album_still_sends_its_receipt_with_buttons(
    emu: BotApiEmulator, settings: Settings, detector: OnnxLeopardDetector
) -> None:
    db_path = settings.database
    async for team in start_team(emu, settings, detector):
        before = len(emu.sent(team.ranger.id))
        await emu.send_album(team.ranger, jackal_variants(3))
        await wait_until(lambda: read(db_path, "SELECT COUNT(*) FROM sightings") == 3, 30, "3 sightings")
        # Leaving the loop stops the bot now, inside the album's 2 s quiet period.
    sent = emu.sent(team.ranger.id)[before:]
    assert len(sent) == 1, [m.get("text") for m in sent]
    assert "Album of 3 photos" in sent[0]["text"]
    assert len(sent[0]["reply_markup"]["inline_keyboard"]) == 3  # one 🐆 button per photo
    assert undone(db_path) == 0


async def test_sigterm_mid_album_sends_its_receipt(tmp_path: Path, emu: BotApiEmulator) -> None:
    db_path = tmp_path / "lw.sqlite3"
    await seed(db_path)
    ranger = emu.user(RANGER_ID, "Serik")
    proc = start_bot(emu, tmp_path)
    try:
        await emu.send_album(ranger, jackal_variants(3))
        await wait_until(lambda: count(db_path, "SELECT COUNT(*) FROM sightings") == 3, 60, "3 sightings")
        proc.send_signal(signal.SIGTERM)  # what `systemctl restart` does
        assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    [receipt] = album_receipts(emu, RANGER_ID)
    assert "Album of 3 photos" in receipt["text"]
    assert len(receipt["reply_markup"]["inline_keyboard"]) == 3
    assert undone(db_path) == 0


async def test_killed_mid_album_the_restart_sends_its_receipt(tmp_path: Path, emu: BotApiEmulator) -> None:
    db_path = tmp_path / "lw.sqlite3"
    await seed(db_path)
    ranger = emu.user(RANGER_ID, "Serik")
    proc: subprocess.Popen[bytes] = start_bot(emu, tmp_path)
    try:
        await emu.send_album(ranger, jackal_variants(3))
        await wait_until(lambda: count(db_path, "SELECT COUNT(*) FROM sightings") == 3, 60, "3 sightings")
        proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait, 10)
        assert album_receipts(emu, RANGER_ID) == [], "the kill came too late to test anything"
        assert undone(db_path) == 3  # the album's parts wait for their receipt

        proc = start_bot(emu, tmp_path)
        await wait_until(lambda: album_receipts(emu, RANGER_ID), 60, "the album's receipt")
        await wait_until(lambda: undone(db_path) == 0, 20, "the album's updates done")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(proc.wait, 30)
        except subprocess.TimeoutExpired:
            proc.kill()
    [receipt] = album_receipts(emu, RANGER_ID)
    # The real receipt, as if the kill had not happened: not "already recorded", buttons included.
    assert "Album of 3 photos" in receipt["text"] and "already recorded" not in receipt["text"]
    assert len(receipt["reply_markup"]["inline_keyboard"]) == 3
    assert count(db_path, "SELECT COUNT(*) FROM sightings") == 3


async def test_doctor_shows_free_space_of_both_disks(settings: Settings, emu: BotApiEmulator) -> None:
    checks = {c.name: c for c in await run_checks(settings)}
    disk = checks["disk space"]
    assert disk.ok and "GiB free" in disk.detail, disk.line()
    assert "photo store" in disk.detail and "database" in disk.detail
