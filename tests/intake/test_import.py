"""SD-card import: EXIF times, one station, alerts through the emulator, resumable, clear errors."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from bot.cli import sd_import as import_cli
from bot.cli.main import main
from bot.config import Settings
from bot.geo import Point
from bot.places import Stations
from emulator import BotApiEmulator
from storage.db import Database, iso, utcnow
from tests.conftest import GROUP
from tests.support.photo_files import exif_jpeg, value


@pytest.fixture
async def card(tmp_path: Path, settings: Settings, leopard_jpeg: bytes, jackal_jpeg: bytes) -> Path:
    async with Database(settings.database) as db:
        await Stations(db).add("UST-04", Point(43.21, 51.87), "Spring", "UST")
        await db.execute(
            "INSERT INTO groups (chat_id, title, language, created_at) VALUES (?, 'C', 'en', ?)",
            (GROUP, iso(utcnow())),
        )
    folder = tmp_path / "DCIM" / "100MEDIA"
    folder.mkdir(parents=True)
    (folder / "IMG_0001.JPG").write_bytes(exif_jpeg(leopard_jpeg, taken="2026:10:01 22:15:00"))
    (folder / "IMG_0002.JPG").write_bytes(exif_jpeg(jackal_jpeg, taken="2026:10:02 03:00:00"))
    (folder.parent / "IMG_0003.jpg").write_bytes(b"\xff\xd8\xff broken card sector")
    (folder / "notes.txt").write_text("not a photo")
    return tmp_path / "DCIM"


def args(folder: Path, station: str = "UST-04") -> argparse.Namespace:
    return argparse.Namespace(folder=folder, station=station, ranger=None, env_file="none")


async def test_import_records_alerts_and_resumes(
    card: Path, settings: Settings, emu: BotApiEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.group(GROUP, "Coordinators")
    assert await import_cli._run(args(card), settings) == 0
    out = capsys.readouterr().out
    assert value(out, "new sightings") == 2 and value(out, "unreadable") == 1 and "IMG_0003.jpg" in out
    assert value(out, "leopard sightings") == 1 and value(out, "alerts delivered") == 1
    async with Database(settings.database) as db:
        rows = await db.fetchall("SELECT * FROM sightings ORDER BY id")
    assert [r["station_code"] for r in rows] == ["UST-04", "UST-04"]
    assert rows[0]["taken_at"] == "2026-10-01T17:15:00+00:00"  # 22:15 at UTC+5
    assert rows[0]["source"] == "import" and rows[0]["is_leopard"] == 1 and rows[1]["is_leopard"] == 0
    alerts = [m for m in emu.sent(GROUP) if m["method"] == "sendPhoto"]
    # The group is not trusted: the station's area, never its code (tests/test_untrusted_readers.py).
    assert len(alerts) == 1 and "Area UST" in alerts[0]["caption"] and "UST-04" not in alerts[0]["caption"]
    # Second run: everything done is skipped, nothing is sent again.
    assert await import_cli._run(args(card), settings) == 0
    second = capsys.readouterr().out
    assert value(second, "already imported (skipped)") == 2 and value(second, "new sightings") == 0
    assert len([m for m in emu.sent(GROUP) if m["method"] == "sendPhoto"]) == 1


async def test_import_unknown_station_is_refused(
    card: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await import_cli._run(args(card, "XXX-01"), settings) == 2
    assert "unknown station" in capsys.readouterr().out


def test_import_needs_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env-file", os.devnull, "import", str(tmp_path / "nope"), "--station", "A-1"]) == 2
    assert "is not a folder" in capsys.readouterr().out
