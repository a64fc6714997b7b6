"""`leopard-watch doctor` reports each part in plain words: FAIL for what stops `run`, WARN for what
degrades (tests/cli/test_doctor_honest.py: it creates nothing, --json, the token, unwritable folders)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli.doctor import run_checks
from bot.cli.main import main
from bot.config import Settings
from bot.detection.model import OnnxLeopardDetector
from bot.people import queue_admin_notice
from emulator import BotApiEmulator
from storage.db import Database
from tests.conftest import ADMIN, GROUP, eventually, start_team

NEVER_STARTED = 900_002  # an admin listed in LW_ADMIN_IDS who never pressed Start in the bot's chat


async def test_all_parts_checked_against_the_emulator(settings: Settings, emu: BotApiEmulator) -> None:
    checks = {c.name: c for c in await run_checks(settings)}
    names = {"token", "admins", "data directory", "database", "photo store", "disk space", "model", "bot api"}
    names |= {"heartbeat", "admin notices", "camera mail"}
    assert set(checks) == names
    assert all(c.ok for c in checks.values()), [c.line() for c in checks.values()]
    assert not checks["admin notices"].warning
    assert "connected as @leopard_watch_bot" in checks["bot api"].detail
    assert checks["database"].warning  # no database yet: the doctor does not create one
    assert not settings.database.exists()
    # The emulator's token is not shaped as @BotFather's: said, but only a warning off api.telegram.org.
    assert checks["token"].status == "warn" and "not shaped like a token" in checks["token"].detail


async def test_admin_notices_that_never_arrived_are_shown(
    emu: BotApiEmulator, settings: Settings, detector: OnnxLeopardDetector, leopard_jpeg: bytes
) -> None:
    settings = settings.with_(admin_ids=frozenset({ADMIN, NEVER_STARTED}))
    emu.user(NEVER_STARTED, "Bolat", started=False)
    async for team in start_team(emu, settings, detector):
        # The group refuses the alert for good, so the admins are told; Telegram refuses Bolat's copy.
        emu.fail_next("sendPhoto", 400, chat_id=GROUP, description="Bad Request: PHOTO_INVALID_DIMENSIONS")
        await team.photo(team.ranger, leopard_jpeg)
        told = await emu.wait_sent(ADMIN, len(emu.sent(ADMIN)) + 1, timeout=20)
        assert f"sighting #1 to chat {GROUP} failed" in told[-1]["text"]
        db = team.services.db
        await eventually(
            lambda: db.scalar("SELECT status = 'failed' FROM notices WHERE chat_id = ?", (NEVER_STARTED,))  # noqa: B023
        )
        assert emu.sent(NEVER_STARTED) == []
    checks = {c.name: c for c in await run_checks(settings)}
    lost = checks["admin notices"]
    assert lost.status == "warn", lost.line()  # the bot works; one admin misses its notices
    assert lost.detail.startswith(
        "1 admin notice(s) never reached their admin (they have not started the bot"
    )
    assert "open t.me/leopard_watch_bot and press Start" in lost.detail
    assert f"to {NEVER_STARTED}: Alert for sighting #1 to chat {GROUP} failed: 400" in lost.detail
    assert checks["database"].ok and checks["bot api"].ok  # the rest is healthy


async def test_many_lost_admin_notices_are_summed_up(settings: Settings) -> None:
    async with Database(settings.database) as db:
        for n in range(5):
            await queue_admin_notice(db, [NEVER_STARTED], f"notice {n} " + "x" * 300, dedup_key=f"k{n}")
        await db.execute("UPDATE notices SET status = 'failed', last_error = 'Forbidden: not started'")
    checks = {c.name: c for c in await run_checks(settings.with_(token=""))}
    lost = checks["admin notices"]
    assert lost.status == "warn" and lost.detail.startswith("5 admin notice(s)")
    assert "open the bot's chat in Telegram and press Start" in lost.detail  # no token: no username
    assert "notice 2" in lost.detail and "notice 3" not in lost.detail and "and 2 more" in lost.detail
    assert len(lost.detail) < 600  # long texts are cut


async def test_wrong_token_and_broken_database_are_explained(settings: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"this is not a database" * 100)
    checks = {c.name: c for c in await run_checks(settings.with_(token="1:WRONG", database=broken))}
    assert not checks["bot api"].ok and "refused the token" in checks["bot api"].detail
    database = checks["database"]
    assert not database.ok and str(broken) in database.detail and "restore" in database.detail, (
        database.line()
    )


def test_doctor_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / ".env"
    env.write_text(
        f"LW_DATABASE={tmp_path / 'db.sqlite3'}\nLW_PHOTO_DIR={tmp_path / 'photos'}\nLW_ADMIN_IDS=1\n"
    )
    assert main(["--env-file", str(env), "doctor"]) == 1  # no token stops `run`: a FAIL
    out = capsys.readouterr().out
    assert "[OK  ] model" in out and "[FAIL] token: LW_TOKEN is not set" in out
    assert "All checks passed." not in out and "1 problem(s) found" in out
    env.write_text(env.read_text() + "LW_TIMEZONE=Mars/Olympus\n")
    assert main(["--env-file", str(env), "doctor"]) == 2
    assert "unknown time zone" in capsys.readouterr().err


async def test_backup_is_a_consistent_copy(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from storage.db import Database, iso, utcnow

    async with Database(settings.database) as db:
        await db.execute(
            "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, 'p', 1, ?)",
            ("a" * 64, iso(utcnow())),
        )
        await db.execute(
            "INSERT INTO sightings (photo_sha256, received_at, label, score, is_leopard) "
            "VALUES (?, ?, 'x', 0.1, 0)",
            ("a" * 64, iso(utcnow())),
        )
        env = tmp_path / "b.env"
        env.write_text(f"LW_DATABASE={settings.database}\n")
        dest = tmp_path / "backups" / "copy.sqlite3"
        assert main(["--env-file", str(env), "backup", str(dest)]) == 0  # while the bot's connection is open
    assert "backed up 1 sightings" in capsys.readouterr().out
    async with Database(dest) as copy:
        assert await copy.scalar("SELECT COUNT(*) FROM sightings") == 1
    assert main(["--env-file", str(env), "backup", str(dest)]) == 2  # never overwrites


def test_run_explains_an_unreachable_bot_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / ".env"
    env.write_text(
        f"LW_TOKEN=1:abc\nLW_BASE_URL=http://127.0.0.1:9/bot\nLW_DATABASE={tmp_path / 'db.sqlite3'}\n"
        f"LW_PHOTO_DIR={tmp_path / 'photos'}\n"
    )
    assert main(["--env-file", str(env), "run"]) == 1  # failed (tests/cli/test_cli_errors.py: one line)
    assert "cannot reach the Bot API at http://127.0.0.1:9/bot" in capsys.readouterr().err


def test_run_needs_a_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env-file", os.devnull, "run"]) == 2
    assert "LW_TOKEN is not set" in capsys.readouterr().err
