"""`leopard-watch import --workers N`: detection in N processes, rows written by the parent in file
order, the same results as one process, and still resumable."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.cli import sd_import as import_cli
from bot.config import Settings
from bot.detection import DEFAULT_THRESHOLD
from bot.detection.pool import DetectorPool, threads_per_worker
from bot.geo import Point
from bot.media import UnreadableImage
from bot.places import Stations
from emulator import BotApiEmulator
from storage.db import Database, iso, utcnow
from tests.conftest import GROUP, leopard_variants
from tests.support.photo_files import value
from tests.support.photo_variants import shifted


@pytest.fixture
async def card(tmp_path: Path, settings: Settings, jackal_jpeg: bytes) -> Path:
    async with Database(settings.database) as db:
        await Stations(db).add("UST-04", Point(43.21, 51.87), "Spring", "UST")
        await db.execute(
            "INSERT INTO groups (chat_id, title, language, created_at) VALUES (?, 'C', 'en', ?)",
            (GROUP, iso(utcnow())),
        )
    folder = tmp_path / "DCIM"
    folder.mkdir()
    leopards, jackals = iter(leopard_variants(3)), iter(shifted(jackal_jpeg, 5))
    for i in range(8):  # leopards at 1, 4 and 7; a broken file in the middle
        (folder / f"IMG_{i:04d}.JPG").write_bytes(next(leopards) if i % 3 == 1 else next(jackals))
    (folder / "IMG_0005.JPG").write_bytes(b"\xff\xd8\xff broken card sector")
    return folder


def _args(folder: Path, workers: int | None) -> argparse.Namespace:
    return argparse.Namespace(folder=folder, station="UST-04", ranger=None, env_file="none", workers=workers)


async def _rows(settings: Settings) -> list[tuple[str, int, float]]:
    async with Database(settings.database) as db:
        rows = await db.fetchall("SELECT caption, is_leopard, score FROM sightings ORDER BY id")
    return [(r["caption"], r["is_leopard"], r["score"]) for r in rows]


async def test_two_workers_record_in_file_order_and_resume(
    card: Path, settings: Settings, emu: BotApiEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.group(GROUP, "Coordinators")
    assert await import_cli._run(_args(card, 2), settings) == 0
    out = capsys.readouterr().out
    assert "detector: 2 process(es) x 1 thread(s)" in out
    assert value(out, "new sightings") == 7 and value(out, "unreadable") == 1 and "IMG_0005.JPG" in out
    assert value(out, "leopard sightings") == 3
    rows = await _rows(settings)
    # Sighting ids follow the files' order although their detections finished in any order.
    assert [c for c, _, _ in rows] == [f"IMG_{i:04d}.JPG" for i in range(8) if i != 5]
    assert [bool(leo) for _, leo, _ in rows] == [i % 3 == 1 for i in range(8) if i != 5]
    leopard_numbers = out.split("leopard sighting numbers: ")[1].splitlines()[0]
    assert leopard_numbers == "#2, #5, #7"  # IMG_0001, IMG_0004, IMG_0007: ordered like the files

    # A second run finds everything recorded and detects nothing again.
    assert await import_cli._run(_args(card, 2), settings) == 0
    again = capsys.readouterr().out
    assert value(again, "already imported (skipped)") == 7 and value(again, "new sightings") == 0
    assert len([m for m in emu.sent(GROUP) if m["method"] == "sendPhoto"]) == 3


async def test_workers_give_the_same_results_as_one_process(
    card: Path, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings.with_(token="")  # no delivery: only the records are compared
    assert await import_cli._run(_args(card, None), settings) == 0
    single = await _rows(settings)
    other = settings.with_(database=tmp_path / "other.sqlite3", photo_dir=tmp_path / "other-photos")
    async with Database(other.database) as db:
        await Stations(db).add("UST-04", Point(43.21, 51.87), "Spring", "UST")
    assert await import_cli._run(_args(card, 3), other) == 0
    assert await _rows(other) == single
    capsys.readouterr()


def test_pool_reports_unreadable_images_with_their_reason(jackal_jpeg: bytes) -> None:
    pool = DetectorPool(1, precision="fp32")
    try:
        assert pool.detect(jackal_jpeg).leopard is False and pool.threshold == DEFAULT_THRESHOLD
        with pytest.raises(UnreadableImage) as info:
            pool.detect(b"")
        assert info.value.reason == "empty"
        pool.prefetch(jackal_jpeg)
        pool.discard(jackal_jpeg)  # never collected: forgotten, not kept
        assert pool.detect(jackal_jpeg).model == "efficientnet-lite2-imagenet"
    finally:
        pool.close()


@pytest.mark.parametrize(
    ("workers", "cores", "threads"), [(1, 2, 2), (2, 2, 1), (4, 2, 1), (1, 8, 2), (4, 8, 2)]
)
def test_threads_per_worker_use_the_cores_once(workers: int, cores: int, threads: int) -> None:
    assert threads_per_worker(workers, cores) == threads
