"""`leopard-watch run` as an admin starts it on a server: one bot per database, a journal that holds no
secret even at DEBUG, and an outage that costs a line, not a traceback per retry."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from emulator import BotApiEmulator
from tests.conftest import leopard_variants
from tests.support.bot_process import RANGER_ID, count, seed, wait_until

ADMIN = 900_001


def env_for(emu: BotApiEmulator, tmp: Path, level: str) -> dict[str, str]:
    return {
        **os.environ,
        "LW_TOKEN": emu.token,
        "LW_BASE_URL": emu.base_url,
        "LW_BASE_FILE_URL": emu.base_file_url,
        "LW_DATABASE": str(tmp / "lw.sqlite3"),
        "LW_PHOTO_DIR": str(tmp / "photos"),
        "LW_ADMIN_IDS": str(ADMIN),
        "LW_LOG_LEVEL": level,
    }


def run(emu: BotApiEmulator, tmp: Path, level: str = "WARNING") -> subprocess.Popen[bytes]:
    log = (tmp / "bot.log").open("ab")
    cmd = [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run"]
    return subprocess.Popen(cmd, env=env_for(emu, tmp, level), stdout=log, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


async def test_a_second_run_on_the_same_database_is_refused_and_names_the_first(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    first = run(emu, tmp_path)
    try:
        await wait_until(lambda: len(emu.calls_of("getUpdates")) > 0, 60, "the first bot polling")
        cmd = [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run"]
        second = subprocess.run(  # noqa: ASYNC221 - the second start must block: it is refused at once
            cmd, env=env_for(emu, tmp_path, "WARNING"), capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 2
        said = second.stderr.strip().splitlines()
        assert len(said) == 1 and f"pid {first.pid}" in said[0], second.stderr
        assert first.poll() is None  # the first one goes on
    finally:
        stop(first)
    # Gone with its process: the next start takes the database.
    again = run(emu, tmp_path)
    try:
        calls = len(emu.calls_of("getUpdates"))
        await wait_until(lambda: len(emu.calls_of("getUpdates")) > calls, 60, "the next bot polling")
    finally:
        stop(again)


async def test_debug_logs_hold_no_token_and_no_invite_code(tmp_path: Path, emu: BotApiEmulator) -> None:
    db_path = tmp_path / "lw.sqlite3"
    await seed(db_path)
    admin, ranger = emu.user(ADMIN, "Aigerim"), emu.user(RANGER_ID, "Serik")
    proc = run(emu, tmp_path, "DEBUG")
    try:
        await emu.send_text(admin, "/start")
        await emu.send_text(admin, "/invite")
        invited = lambda: any("start=" in (m.get("text") or "") for m in emu.sent(ADMIN))  # noqa: E731
        await wait_until(invited, 60, "the invite link")
        await emu.send_photo(ranger, leopard_variants(1)[0])
        await wait_until(lambda: count(db_path, "SELECT COUNT(*) FROM sightings") == 1, 90, "the sighting")
        await wait_until(lambda: len(emu.sent(RANGER_ID)) > 0, 60, "the receipt")
    finally:
        stop(proc)
    log = (tmp_path / "bot.log").read_text(encoding="utf-8", errors="replace")
    code = next(re.search(r"start=([\w-]+)", m["text"]) for m in emu.sent(ADMIN) if "start=" in m["text"])
    assert code is not None
    assert "getUpdates" in log or "DEBUG" in log  # it did log at DEBUG, so nothing was hidden by silence
    assert emu.token not in log
    assert code.group(1) not in log


async def test_an_outage_costs_two_lines_not_a_traceback_per_retry(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    proc = run(emu, tmp_path, "INFO")
    try:
        await wait_until(lambda: len(emu.calls_of("getUpdates")) > 0, 60, "polling")
        emu.fail_next("getUpdates", 502, description="Bad Gateway", times=4)
        failed = len(emu.calls_of("getUpdates"))
        await wait_until(lambda: len(emu.calls_of("getUpdates")) >= failed + 6, 120, "polling on after it")
    finally:
        stop(proc)
    log = (tmp_path / "bot.log").read_text(encoding="utf-8", errors="replace")
    outage = log.split("Telegram answers again")[0]  # (what PTB logs while stopping is its own)
    assert "Traceback" not in outage, outage
    assert len(re.findall(r"cannot get updates from Telegram", log)) == 1, log
    assert len(re.findall(r"Telegram answers again", log)) == 1, log
