"""A full disk during an SD-card import: the import stops with its usual summary, which says what was
not imported and what to do (free space, run the same command again); nothing is lost, and the second
run finishes, skipping what the first one recorded (photos and videos are keyed by SHA-256)."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import storage.photos
from bot.cli import sd_import as import_cli
from bot.cli.main import main
from bot.config import Settings
from bot.geo import Point
from bot.places import Stations
from storage.db import Database
from storage.photos import PhotoStore, VideoStore
from tests.support.clips import jackal_clip, leopard_clip
from tests.support.photo_files import value


class Disk:
    """The photo store's disk: fills up for one kind of store while `full` says so."""

    def __init__(self) -> None:
        self.full: type[PhotoStore] | None = None

    def check(self, store: PhotoStore) -> None:
        if self.full is not None and isinstance(store, self.full):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Disk]:
    state = Disk()
    put, put_file = PhotoStore.put, VideoStore.put_file

    def full_put(self: PhotoStore, data: bytes) -> storage.photos.StoredPhoto:
        state.check(self)
        return put(self, data)

    def full_put_file(self: VideoStore, source: Path) -> storage.photos.StoredPhoto:
        state.check(self)
        return put_file(self, source)

    monkeypatch.setattr(PhotoStore, "put", full_put)
    monkeypatch.setattr(VideoStore, "put_file", full_put_file)
    monkeypatch.setattr(storage.photos, "WRITE_BACKOFF", 0.0)  # the store's retries, without the waits
    yield state


@pytest.fixture
async def card(tmp_path: Path, settings: Settings, leopard_jpeg: bytes, jackal_jpeg: bytes) -> Path:
    async with Database(settings.database) as db:
        await Stations(db).add("UST-04", Point(43.21, 51.87), "Spring", "UST")
    folder = tmp_path / "DCIM" / "100MEDIA"
    folder.mkdir(parents=True)
    (folder / "IMG_0001.JPG").write_bytes(leopard_jpeg)
    (folder / "IMG_0002.JPG").write_bytes(jackal_jpeg)
    (folder / "CLIP0003.AVI").write_bytes(leopard_clip(fps=2))
    (folder / "CLIP0004.AVI").write_bytes(jackal_clip(fps=2))
    return tmp_path / "DCIM"


def args(folder: Path) -> argparse.Namespace:
    return argparse.Namespace(folder=folder, station="UST-04", ranger=None, env_file="none")


async def sightings(settings: Settings) -> int:
    async with Database(settings.database) as db:
        return int(await db.scalar("SELECT COUNT(*) FROM sightings"))


async def test_videos_on_a_full_disk_end_in_the_summary_and_a_second_run_finishes(
    card: Path, settings: Settings, disk: Disk, capsys: pytest.CaptureFixture[str]
) -> None:
    disk.full = VideoStore
    code = await import_cli._run(args(card), settings)  # no traceback: it returns
    out = capsys.readouterr().out
    assert code != 0
    assert value(out, "files found") == 4 and value(out, "new sightings") == 2  # the photos fitted
    assert value(out, "not imported (disk full)") == 2
    assert "CLIP0003.AVI" in out and "CLIP0004.AVI" in out  # what is left, by name
    assert "free" in out and "run the same command again" in out
    assert await sightings(settings) == 2
    disk.full = None  # space freed
    assert await import_cli._run(args(card), settings) == 0
    second = capsys.readouterr().out
    assert value(second, "already imported (skipped)") == 2 and value(second, "new sightings") == 2
    assert value(second, "  of them from videos") == 2 and "disk full" not in second
    assert await sightings(settings) == 4


async def test_photos_on_a_full_disk_stop_at_once_and_resume(
    card: Path, settings: Settings, disk: Disk, capsys: pytest.CaptureFixture[str]
) -> None:
    disk.full = PhotoStore  # the photo store (and so the video store beside it, a PhotoStore too)
    assert await import_cli._run(args(card), settings) != 0
    out = capsys.readouterr().out
    # The first failure stops the import: every later write would fail the same way, each after retries.
    assert value(out, "new sightings") == 0 and value(out, "not imported (disk full)") == 4
    assert value(out, "unreadable") == 0  # a full disk says nothing about the files
    for name in ("IMG_0001.JPG", "IMG_0002.JPG", "CLIP0003.AVI", "CLIP0004.AVI"):
        assert name in out, name
    disk.full = None
    assert await import_cli._run(args(card), settings) == 0
    assert value(capsys.readouterr().out, "new sightings") == 4


async def test_the_command_line_exits_with_the_summary(
    card: Path,
    settings: Settings,
    disk: Disk,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through `leopard-watch import`, as an operator runs it (detector processes and all): a non-zero
    exit, no traceback."""
    monkeypatch.setattr(Settings, "load", classmethod(lambda cls, *a, **k: settings))
    disk.full = VideoStore
    argv = ["--env-file", os.devnull, "import", str(card), "--station", "UST-04", "--workers", "1"]
    code = await asyncio.to_thread(main, argv)  # its own event loop, as on the command line
    captured = capsys.readouterr()
    assert code not in (0, None) and "Traceback" not in captured.out + captured.err
    assert "run the same command again" in captured.out
