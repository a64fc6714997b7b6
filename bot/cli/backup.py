"""`leopard-watch backup [FILE]`: a consistent copy of the database, even while the bot writes to it."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from bot.cli.errors import USAGE, CliError, existing, not_writable
from bot.config import Settings


def dated_backup(settings: Settings) -> Path:
    return settings.backup_dir / f"leopard-watch-{datetime.now():%Y-%m-%d-%H%M%S}.sqlite3"


def backup_command(settings: Settings, dest: Path) -> int:
    """SQLite's online backup: a consistent snapshot even while the bot writes (WAL included)."""
    if not settings.database.is_file():  # connecting would create an empty database to copy
        raise CliError(
            f"no database at {settings.database} (LW_DATA_DIR {settings.data_dir}): nothing to back up; "
            "give the bot's settings with --env-file, or set LW_DATA_DIR"
        )
    if dest.exists():
        raise CliError(f"{dest} exists; choose a new file (a backup never overwrites one)", USAGE)
    folder = existing(dest.parent)
    if not folder.is_dir():
        raise CliError(f"{folder} is a file, not a folder: give a backup file in a folder", USAGE)
    if not os.access(folder, os.W_OK | os.X_OK):  # said before anything is written
        raise CliError(not_writable("the backup folder", folder))
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(settings.database)) as src:
            try:
                dst = sqlite3.connect(dest)
            except sqlite3.OperationalError as exc:  # a folder the kernel refuses files in (/proc)
                fix = "choose a file on a writable disk"
                raise CliError(f"cannot write the backup {dest} ({exc}): {fix}") from exc
            with closing(dst):
                src.backup(dst)
                count = dst.execute("SELECT COUNT(*) FROM sightings").fetchone()[0]
    except BaseException:
        dest.unlink(missing_ok=True)  # half a copy is worse than none: it looks like a backup
        raise
    print(f"backed up {count} sightings to {dest}; copy {settings.photo_dir} too (photos are by SHA-256)")
    return 0
