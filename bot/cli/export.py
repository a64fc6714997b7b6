"""`leopard-watch export`: the same files as /export, straight from the database, for scripts and cron.

Dates are calendar days in LW_TIMEZONE, both inclusive, as in the bot command. Unless --exact is
given (whoever runs this can read the database) the file is the one an untrusted reader gets:
coordinates rounded to LW_UNTRUSTED_GRID_KM and station codes replaced by aliases made up for the
file, so it can be passed on without the exact places.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

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
    p.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD (default: everything)")
    p.add_argument(
        "--until", type=date.fromisoformat, help="last day, YYYY-MM-DD, inclusive (default: today)"
    )
    p.add_argument(
        "--exact",
        action="store_true",
        help="exact coordinates and station codes (default: rounded to the grid, stations as aliases)",
    )
    p.add_argument("--out", type=Path, help="output file (default: standard output)")
    return p


def _bounds(settings: Settings, since: date | None, until: date | None) -> tuple[datetime | None, datetime]:
    zone = settings.zone
    last = until or datetime.now(zone).date()
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    start = datetime.combine(since, time(0), tzinfo=zone).astimezone(UTC) if since else None
    return start, end


async def _export(settings: Settings, args: argparse.Namespace) -> bytes:
    start, end = _bounds(settings, args.since, args.until)
    if start is not None and start >= end:
        raise ValueError("--since is after --until")
    async with Database(settings.database) as db:
        opts = ExportOptions.from_settings(settings, delimiter=args.delimiter)
        # Whoever runs the command can read the database; --exact says the file is not for passing on.
        reader = cli_audience(args.exact, settings.zone, settings.untrusted_grid_km)
        exact, grid = reader.exact, reader.grid_km
        return await export(db, args.format, start, end, exact=exact, grid_km=grid, options=opts)


def run(args: argparse.Namespace) -> int:
    settings = Settings.load(args.env_file)
    if not Path(settings.database).is_file():  # opening would create an empty database instead
        print(f"leopard-watch export: no database at {settings.database} (LW_DATABASE)", file=sys.stderr)
        return 2
    try:
        data = asyncio.run(_export(settings, args))
    except (ValueError, FileNotFoundError) as exc:
        print(f"leopard-watch export: {exc}", file=sys.stderr)
        return 2
    if args.out:
        args.out.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0
