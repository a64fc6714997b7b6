"""`leopard-watch run` when polling cannot go on: a revoked token ends the process in seconds with its exit
code, after a clean shutdown; another poller or a webhook on the token is told to the admins once, and
after LW_CONFLICT_MINUTES of it the process exits with code 4."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from emulator import BotApiEmulator
from tests.support.bot_process import wait_until

ADMIN = 900_001


def run(emu: BotApiEmulator, tmp: Path, **extra: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LW_TOKEN": emu.token,
        "LW_BASE_URL": emu.base_url,
        "LW_BASE_FILE_URL": emu.base_file_url,
        "LW_DATABASE": str(tmp / "lw.sqlite3"),
        "LW_PHOTO_DIR": str(tmp / "photos"),
        "LW_ADMIN_IDS": str(ADMIN),
        "LW_LOG_LEVEL": "INFO",
        **extra,
    }
    log = (tmp / "bot.log").open("ab")
    cmd = [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run"]
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)


async def polling(emu: BotApiEmulator) -> None:
    await wait_until(lambda: len(emu.calls_of("getUpdates")) > 0, 90, "the bot polling")


def log_of(tmp: Path) -> str:
    return (tmp / "bot.log").read_text(encoding="utf-8", errors="replace")


async def test_a_revoked_token_ends_the_process_in_seconds_with_code_3(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    proc = run(emu, tmp_path)
    try:
        await polling(emu)
        await emu.revoke_token()
        # No SIGTERM: the process must end by itself, services closed and no thread left behind.
        await wait_until(lambda: proc.poll() is not None, 20, "the process to exit after the 401")
    finally:
        kill(proc)
    log = log_of(tmp_path)
    assert proc.returncode == 3, log
    assert "Telegram refuses the token" in log
    assert "refused the token while running" in log
    assert emu.token.split(":")[1] not in log


async def test_another_poller_is_told_once_and_ends_the_process_with_code_4(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    emu.user(ADMIN, "Aigerim")
    proc = run(emu, tmp_path, LW_CONFLICT_MINUTES="0.1")
    try:
        await polling(emu)
        async with emu.other_instance():
            await wait_until(lambda: proc.poll() is not None, 60, "the process to exit after the conflicts")
    finally:
        kill(proc)
    log = log_of(tmp_path)
    assert proc.returncode == 4, log
    told = [m["text"] for m in emu.sent(ADMIN) if "polling this bot's token" in (m.get("text") or "")]
    assert len(told) == 1, emu.sent(ADMIN)
    assert "terminated by other getUpdates request" in told[0]
    assert "Traceback" not in log, log


async def test_a_webhook_on_the_token_is_told_once_and_ends_the_process_with_code_4(
    tmp_path: Path, emu: BotApiEmulator
) -> None:
    emu.user(ADMIN, "Aigerim")
    proc = run(emu, tmp_path, LW_CONFLICT_MINUTES="0.1")
    try:
        await polling(emu)
        await emu.set_webhook()
        await wait_until(lambda: proc.poll() is not None, 60, "the process to exit under the webhook")
    finally:
        kill(proc)
    log = log_of(tmp_path)
    assert proc.returncode == 4, log
    told = [m["text"] for m in emu.sent(ADMIN) if "webhook" in (m.get("text") or "").lower()]
    assert len(told) == 1, emu.sent(ADMIN)
    assert told[0].startswith("A webhook is set for this bot's token")
    assert "Traceback" not in log, log
