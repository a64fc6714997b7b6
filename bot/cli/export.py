"""`leopard-watch export`: the same files as /export, straight from the database, for scripts and cron.

Dates are calendar days in LW_TIMEZONE, both inclusive, as in the bot command. Unless --exact is
given (whoever runs this can read the database) the file is the one an untrusted reader gets:
coordinates rounded to LW_UNTRUSTED_GRID_KM and station codes replaced by aliases made up for the
file, so it can be passed on without the exact places.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.cli.errors import USAGE, CliError, existing, not_writable
from bot.config import Settings
from bot.people import cli_audience
from bot.reports.exports import FORMATS, ExportOptions, export
from storage.db import Database


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "export", help="export sightings as Darwin Core csv or xlsx, geojson, kml or a Camtrap DP zip"
    )
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument(
        "--delimiter",
        choices=(",", ";"),
        default=",",
        help="CSV field separator: ';' (with ',' decimals) for Excel under Russian or Kazakh settings",
    )
    p.add_argument("--since", type=day, help="first day, YYYY-MM-DD (default: everything)")
    p.add_argument("--until", type=day, help="last day, YYYY-MM-DD, inclusive (default: today)")
    p.add_argument(
        "--exact",
        action="store_true",
        help="exact coordinates and station codes (default: rounded to the grid, stations as aliases)",
    )
    p.add_argument(
        "--with-media",
        action="store_true",
        help="camtrapdp with --exact: photos and clips go into the zip (default: they stay on the server)",
    )
    p.add_argument(
        "--occasion-days",
        type=int,
        default=7,
        help="detection-history: days per occasion (default 7), as camtrapR's occasionLength",
    )
    p.add_argument("--out", type=Path, help="output file (default: standard output)")
    return p


def day(raw: str) -> date:
    """A calendar day as the command line takes it, refused in words that show the form."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not a day: write it as YYYY-MM-DD, e.g. 2026-03-31"
        ) from None


def _bounds(settings: Settings, since: date | None, until: date | None) -> tuple[datetime | None, datetime]:
    zone = settings.zone
    last = until or datetime.now(zone).date()
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    start = datetime.combine(since, time(0), tzinfo=zone).astimezone(UTC) if since else None
    return start, end


async def _export(settings: Settings, args: argparse.Namespace) -> bytes:
    start, end = _bounds(settings, args.since, args.until)
    if start is not None and start >= end:
        raise CliError(f"--since {args.since} is after --until {args.until or 'today'}: swap them", USAGE)
    async with Database(settings.database) as db:
        opts = ExportOptions.from_settings(settings, delimiter=args.delimiter)
        if getattr(args, "with_media", False):  # photos show what rounding hides: exact readers only
            if args.format != "camtrapdp" or not args.exact:
                what = "--with-media puts photos into a Camtrap DP zip: add --format camtrapdp --exact"
                raise CliError(what, USAGE)
            opts = replace(opts, media_from=settings.photo_dir)
        # Whoever runs the command can read the database; --exact says the file is not for passing on.
        reader = cli_audience(args.exact, settings.zone, settings.untrusted_grid_km)
        exact, grid = reader.exact, reader.grid_km
        occasion = getattr(args, "occasion_days", 7)
        if occasion < 1:
            raise CliError("--occasion-days must be 1 or more", USAGE)
        return await export(db, args.format, start, end, exact=exact, grid_km=grid, options=opts,
                            occasion_days=occasion, zone=settings.zone)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    settings = Settings.load(args.env_file)
    if not Path(settings.database).is_file():  # opening would create an empty database instead
        print(f"leopard-watch export: no database at {settings.database} (LW_DATABASE): give the bot's "
              "settings with --env-file, or set LW_DATA_DIR", file=sys.stderr)  # fmt: skip
        return USAGE
    if args.out:  # before the export runs: a wrong --out is told at once, and nothing is half-written
        folder = existing(args.out.parent)
        if not args.out.parent.is_dir():
            raise CliError(f"no folder {args.out.parent} for --out {args.out}: create it, or choose another")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CliError(not_writable("the folder of --out", folder))
    data = asyncio.run(_export(settings, args))
    if args.out:
        args.out.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0
