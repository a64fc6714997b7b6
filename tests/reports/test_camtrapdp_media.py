"""Camtrap DP media: a package either carries the files its media table names (--with-media, exact readers
only) or says, in filePath, filePublic and its description, that they stay on the server. Both validate
against the official Camtrap DP 1.0.2 profile (tests/support/validators.py)."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import zipfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import export as export_cli
from bot.cli.errors import CliError
from bot.reports.exports import ExportOptions, export
from bot.reports.exports.records import ExportError
from storage.db import Database
from storage.photos import PhotoStore
from tests.support.exports import GRID, MONTH
from tests.support.sightings_world import seed, sha_for
from tests.support.validators import table, validate_package_dir

TABLE_FILES = {"datapackage.json", "deployments.csv", "media.csv", "observations.csv"}


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "m.sqlite3") as database:
        await seed(database)
        yield database


def store_photos(root: Path, ids: range) -> dict[str, bytes]:
    """Files where the bot's PhotoStore keeps them, by the seeded sightings' SHA-256."""
    store, kept = PhotoStore(root), {}
    for sid in ids:
        path = store.path_for(sha_for(sid))
        path.parent.mkdir(parents=True, exist_ok=True)
        data = f"jpeg bytes of {sid}".encode()
        path.write_bytes(data)
        kept[sha_for(sid)] = data
    return kept


def unpack(data: bytes, folder: Path) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(folder)
        return set(zf.namelist())


async def test_without_media_the_package_says_the_files_stay_on_the_server(
    db: Database, tmp_path: Path
) -> None:
    data = await export(db, "camtrapdp", *MONTH, exact=True, grid_km=GRID)
    assert unpack(data, tmp_path) == TABLE_FILES
    descriptor = validate_package_dir(tmp_path)
    assert (
        "Media files are not in this package: they stay on the Leopard Watch server"
        in descriptor["description"]
    )
    media = table(tmp_path, "media")
    assert media and all(m["filePublic"] == "false" for m in media)
    # No row names a file a reader would look for in the zip.
    assert all(m["filePath"].startswith("leopard-watch-server:photos/") for m in media)


async def test_with_media_every_named_file_is_in_the_zip(db: Database, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    kept = store_photos(photos, range(1, 9))  # sighting 9 and later: not in the store
    opts = ExportOptions(media_from=photos)
    data = await export(db, "camtrapdp", *MONTH, exact=True, grid_km=GRID, options=opts)
    out = tmp_path / "pkg"
    names = unpack(data, out)
    descriptor = validate_package_dir(out)
    media = {m["mediaID"]: m for m in table(out, "media")}
    inside = {sha: m for sha, m in media.items() if not m["filePath"].startswith("leopard-watch-server:")}
    assert set(inside) == set(kept) & set(media) and inside
    for sha, m in inside.items():
        assert m["filePath"] == f"media/{sha[:2]}/{sha}.jpg" and m["filePath"] in names
        assert (out / m["filePath"]).read_bytes() == kept[sha]
    assert names == TABLE_FILES | {m["filePath"] for m in inside.values()}
    missing = len(media) - len(inside)
    assert missing > 0 and f"{missing} file(s) missing from the server's store" in descriptor["description"]
    assert f"under media/ ({len(inside)} file(s))" in descriptor["description"]


async def test_media_go_only_into_an_exact_export(db: Database, tmp_path: Path) -> None:
    opts = ExportOptions(media_from=tmp_path)
    with pytest.raises(ExportError, match="exact"):
        await export(db, "camtrapdp", *MONTH, exact=False, grid_km=GRID, options=opts)
    # Without the option a rounded export is unchanged: tables only.
    rounded = await export(
        db, "camtrapdp", *MONTH, exact=False, grid_km=GRID, options=replace(opts, media_from=None)
    )
    assert unpack(rounded, tmp_path / "r") == TABLE_FILES


async def test_cli_with_media_needs_exact_and_camtrapdp(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith("LW_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("LW_DATABASE", str(db.path))
    monkeypatch.setenv("LW_PHOTO_DIR", str(tmp_path / "photos"))
    kept = store_photos(tmp_path / "photos", range(1, 3))
    parser = argparse.ArgumentParser()
    parser.add_argument("--env-file", default="")
    export_cli.add_parser(parser.add_subparsers(dest="command"))
    days = ["--since", "2025-03-03", "--until", "2025-03-09"]
    out = tmp_path / "x.zip"
    refused = parser.parse_args(["export", "--format", "camtrapdp", "--with-media", *days, "--out", str(out)])
    with pytest.raises(CliError, match="--format camtrapdp --exact") as told:
        await asyncio.to_thread(export_cli.run, refused)
    assert told.value.code == 2 and not out.exists()
    args = parser.parse_args(
        ["export", "--format", "camtrapdp", "--exact", "--with-media", *days, "--out", str(out)]
    )
    assert await asyncio.to_thread(export_cli.run, args) == 0
    with zipfile.ZipFile(out) as zf:
        assert {f"media/{sha[:2]}/{sha}.jpg" for sha in kept} <= set(zf.namelist())
