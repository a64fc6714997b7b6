"""One data directory: the same database from any folder, relative paths under LW_DATA_DIR, read-only
commands that never create a database, and a missing --env-file that is an error, not ignored."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings
from storage.db import Database

WHEN = "2025-06-01T03:00:00+00:00"
CLEAN = {k: v for k, v in os.environ.items() if not k.startswith("LW_")}


def cli(cwd: Path, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        cwd=cwd, env=env or CLEAN, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def make_database(path: Path) -> None:
    """A database holding one sighting, so an export of it is not empty."""

    async def create() -> None:
        sha = "ab" * 32
        async with Database(path) as db:
            await db.execute(
                "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, ?, 1, ?)",
                (sha, "x.jpg", WHEN),
            )
            await db.execute(
                """INSERT INTO sightings (id, photo_sha256, taken_at, received_at, lat, lon, label, score,
                                          is_leopard, event_id, status)
                   VALUES (1, ?, ?, ?, 43.21, 51.87, 'leopard', 0.9, 1, 1, 'confirmed')""",
                (sha, WHEN, WHEN),
            )

    asyncio.run(create())


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A deployment's folder: a .env without any path in it, and its database where the default puts it."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / ".env").write_text("LW_ADMIN_IDS=1\n")
    make_database(folder / "data" / "leopard-watch.sqlite3")
    (tmp_path / "elsewhere").mkdir()
    return folder


def test_the_data_directory_is_beside_the_settings_file_whatever_the_folder(site: Path) -> None:
    here = Settings.load(site / ".env", environ={})
    assert here.data_dir == site / "data"
    assert (
        here.database == site / "data" / "leopard-watch.sqlite3"
        and here.photo_dir == site / "data" / "photos"
    )
    assert here.backup_dir == site / "data" / "backups"
    # Relative paths are read against the data directory, never against the current folder.
    apart = Settings.load(site / ".env", environ={"LW_DATA_DIR": "store", "LW_DATABASE": "db/lw.sqlite3"})
    assert (
        apart.database == site / "store" / "db" / "lw.sqlite3"
        and apart.photo_dir == site / "store" / "photos"
    )
    absolute = Settings.load(site / ".env", environ={"LW_PHOTO_DIR": str(site.parent / "pics")})
    assert absolute.photo_dir == site.parent / "pics"


def test_a_relative_path_of_an_old_env_that_now_points_elsewhere_is_said(site: Path) -> None:
    # An .env copied from the old .env.example: LW_DATABASE=data/... read against the settings file's folder.
    with pytest.raises(ConfigError, match=r"LW_DATABASE=data/leopard-watch.sqlite3 now means .* delete the"):
        Settings.load(site / ".env", environ={"LW_DATABASE": "data/leopard-watch.sqlite3"})


def test_export_reads_the_same_database_from_any_folder(site: Path) -> None:
    elsewhere = site.parent / "elsewhere"
    runs = [
        cli(site, "export", "--format", "geojson", "--exact"),  # the .env of the current folder
        cli(elsewhere, "export", "--env-file", str(site / ".env"), "--format", "geojson", "--exact"),  # after
        cli(
            elsewhere, "--env-file", str(site / ".env"), "export", "--format", "geojson", "--exact"
        ),  # before
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert run.stdout == runs[0].stdout
    assert not (elsewhere / "data").exists() and not list(elsewhere.iterdir())


def test_read_only_commands_never_create_a_database(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LW_ADMIN_IDS=1\n")
    for argv in (("export",), ("backup",), ("backup", str(tmp_path / "copy.sqlite3"))):
        run = cli(tmp_path, *argv)
        assert run.returncode != 0 and "no database at" in run.stderr, (argv, run.stderr)
        assert "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]


def test_backup_goes_to_the_data_directory(site: Path) -> None:
    run = cli(site.parent / "elsewhere", "backup", "--env-file", str(site / ".env"))
    assert run.returncode == 0, run.stderr
    [copy] = (site / "data" / "backups").iterdir()
    assert copy.name.startswith("leopard-watch-") and copy.suffix == ".sqlite3" and str(copy) in run.stdout


def test_a_missing_env_file_is_an_error_in_one_sentence(tmp_path: Path) -> None:
    missing = tmp_path / "nope.env"
    for argv in (("--env-file", str(missing), "export"), ("export", "--env-file", str(missing))):
        run = cli(tmp_path, *argv)
        assert run.returncode == 2
        assert run.stderr.strip() == (
            f"leopard-watch: no settings file at {missing} (--env-file); give the path of your .env or leave "
            "--env-file out"
        )
    assert list(tmp_path.iterdir()) == []
