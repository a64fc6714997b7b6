"""`leopard-watch doctor` reports each part in plain words and fails when something is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.doctor import run_checks
from bot.emulator import BotApiEmulator


async def test_all_parts_checked_against_the_emulator(settings: Settings, emu: BotApiEmulator) -> None:
    checks = {c.name: c for c in await run_checks(settings)}
    assert set(checks) == {"settings", "database", "photo store", "model", "bot api"}
    assert all(c.ok for c in checks.values()), [c.line() for c in checks.values()]
    assert "connected as @leopard_watch_bot" in checks["bot api"].detail
    assert checks["database"].warning  # no group registered yet


async def test_wrong_token_and_broken_database_are_explained(settings: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"this is not a database" * 100)
    checks = {c.name: c for c in await run_checks(settings.with_(token="1:WRONG", database=broken))}
    assert not checks["bot api"].ok and "refused the token" in checks["bot api"].detail
    assert not checks["database"].ok


def test_doctor_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / ".env"
    env.write_text(
        f"LW_DATABASE={tmp_path / 'db.sqlite3'}\nLW_PHOTO_DIR={tmp_path / 'photos'}\nLW_ADMIN_IDS=1\n"
    )
    assert main(["--env-file", str(env), "doctor"]) == 0
    out = capsys.readouterr().out
    assert "[OK  ] model" in out and "LW_TOKEN not set" in out and "All checks passed." in out
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
    assert main(["--env-file", str(env), "run"]) == 3
    assert "cannot reach the Bot API at http://127.0.0.1:9/bot" in capsys.readouterr().err


def test_run_needs_a_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env-file", str(tmp_path / "none.env"), "run"]) == 2
    assert "LW_TOKEN is not set" in capsys.readouterr().err
