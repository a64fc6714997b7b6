"""The SD-card import summary names every file it did not import: unreadable photos and videos, the rest."""

from __future__ import annotations

import argparse
import asyncio
import re
from pathlib import Path

import pytest

from bot.cli import sd_import as import_cli
from bot.config import Settings
from bot.geo import Point
from bot.intake.sd_card import ImportReport
from bot.media import Skipped
from bot.places import Stations
from emulator import BotApiEmulator
from storage.db import Database
from tests.support.photo_files import value

BROKEN, VIDEOS = 25, ("CLIP0001.MP4", "CLIP0002.AVI")


@pytest.fixture
async def card(tmp_path: Path, settings: Settings, jackal_jpeg: bytes) -> Path:
    async with Database(settings.database) as db:
        await Stations(db).add("UST-04", Point(43.21, 51.87), "Spring", "UST")
    folder = tmp_path / "DCIM" / "100MEDIA"
    folder.mkdir(parents=True)
    (folder / "IMG_0001.JPG").write_bytes(jackal_jpeg)
    for i in range(BROKEN):  # a damaged card: distinct bytes, so each is its own file
        (folder / f"IMG_{i + 100:04d}.JPG").write_bytes(b"\xff\xd8\xff bad sector %d" % i)
    for name in VIDEOS:
        (folder / name).write_bytes(b"\x00\x00\x00\x18ftypmp42")
    (folder / "notes.txt").write_text("battery 40%")
    (folder / ".DS_Store").write_bytes(b"\x00")
    return tmp_path / "DCIM"


async def test_the_summary_counts_and_names_every_skipped_file(
    card: Path, settings: Settings, emu: BotApiEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(folder=card, station="UST-04", ranger=None, env_file="none")
    assert await import_cli._run(args, settings) == 0
    out = capsys.readouterr().out
    assert value(out, "files found") == 1 + BROKEN + len(VIDEOS) + 2
    # The videos are imported like the photos (tests/test_videos.py); these two are damaged.
    assert value(out, "new sightings") == 1 and value(out, "unreadable") == BROKEN + len(VIDEOS)
    assert value(out, "  of them from videos") == 0 and value(out, "other files skipped") == 2
    for name in ("notes.txt", ".DS_Store"):
        assert name in out, name
    broken = [f"IMG_{i + 100:04d}.JPG" for i in range(BROKEN)] + list(VIDEOS)
    named = [name for name in broken if name in out]
    more = re.search(r"…and (\d+) more \(all of them in (\S+)\)", out)
    # Every unreadable file is named here, or the list says how many more there are and where they are.
    assert len(named) == len(broken) or (more and len(named) + int(more.group(1)) == len(broken)), out
    if more:
        full = await asyncio.to_thread(Path(more.group(2)).read_text, encoding="utf-8")
        assert all(name in full for name in broken) and "…and" not in full


@pytest.mark.parametrize("count", [0, 1, 20, 21, 250])
def test_no_list_is_cut_without_saying_how_much_is_left_out(count: int) -> None:
    report = ImportReport(
        files=2 * count,
        unreadable=[f"/card/IMG_{i:04d}.JPG: cannot identify image" for i in range(count)],
        left_out=[Skipped(Path(f"/card/CLIP{i:04d}.MP4"), "video") for i in range(count)],
    )
    for limit in (None, 1, 20):
        table = report.table(limit=limit)
        for prefix in ("/card/IMG_", "/card/CLIP"):
            shown = sum(1 for line in table.splitlines() if line.strip().startswith(prefix))
            left = [int(n) for n in re.findall(r"…and (\d+) more", table)]
            assert shown == count if limit is None or count <= limit else shown == limit
            assert sum(left) == 2 * max(0, count - (limit or count)), table
