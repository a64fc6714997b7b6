"""Sightings out of the bot for coordinators and scientists: Darwin Core CSV and XLSX, GeoJSON, KML and
Camtrap DP 1.0.2 (which standard each follows: docs/EXPORTS.md); export() picks the writer.

A new format is a writer over bot/reports/exports/records.py and its entries in the tables below.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.reports.exports.camtrapdp import package
from bot.reports.exports.detection_history import DEFAULT_OCCASION_DAYS, detection_history
from bot.reports.exports.gis import to_geojson, to_kml
from bot.reports.exports.records import (
    CAMERA_TIME_SOURCES,
    ExportError,
    ExportOptions,
    Precision,
    export_rows,
    present_columns,
)
from bot.reports.exports.tables import to_csv, to_xlsx
from storage.db import Database, iso

AQTAU = ZoneInfo("Asia/Aqtau")  # LW_TIMEZONE's default: the detection history's days
FORMATS = ("csv", "xlsx", "geojson", "kml", "camtrapdp", "detection-history")
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "geojson": "geojson", "kml": "kml", "camtrapdp": "zip",
              "detection-history": "csv"}  # fmt: skip
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
    "camtrapdp": "application/zip",
    "detection-history": "text/csv",
}
# The writers of one file from the rows alone; Camtrap DP also reads the stations table (package()).
WRITERS: dict[str, Callable[..., bytes]] = {
    "csv": to_csv, "xlsx": to_xlsx, "geojson": to_geojson, "kml": to_kml,
}  # fmt: skip


async def export(
    db: Database,
    fmt: str,
    since: datetime | None,
    until: datetime | None,
    *,
    exact: bool,
    grid_km: float,
    options: ExportOptions | None = None,
    occasion_days: int = DEFAULT_OCCASION_DAYS,
    zone: ZoneInfo = AQTAU,
) -> bytes:
    """The sightings taken in [since, until) (UTC-aware; None = open end) as one file's bytes
    (detection-history: occasions of `occasion_days`, days counted in `zone`)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    for bound in (since, until):
        if bound is not None and bound.utcoffset() is None:
            raise ExportError("since/until must be timezone-aware")
    opts = options or ExportOptions()
    if opts.delimiter not in (",", ";"):
        raise ExportError("the CSV separator is ',' or ';'")
    rows = await export_rows(db, since, until)
    precision = Precision(exact, grid_km)
    if fmt == "camtrapdp":
        return await package(db, rows, since, until, precision=precision, options=opts)
    if fmt == "detection-history":  # reads the deployments too (issue 26)
        return await detection_history(
            db, rows, since, until, precision=precision, zone=zone, occasion_days=occasion_days
        )
    # A year is ~1 s of formatting: keep the bot's event loop free meanwhile.
    return await asyncio.to_thread(WRITERS[fmt], rows, exact, grid_km, options=opts)


async def count_received_only(db: Database, since: datetime | None, until: datetime | None) -> int:
    """Of count_taken's photos, those whose only time is a receipt time (records.received_only)."""
    if "time_source" not in await present_columns(db):
        return 0
    camera = sorted(CAMERA_TIME_SOURCES)
    count = await db.scalar(
        "SELECT COUNT(*) FROM sightings WHERE taken_at >= ? AND taken_at < ? AND time_source IS NOT NULL"
        f" AND lower(time_source) NOT IN ({','.join('?' * len(camera))})",
        (iso(since) if since else "", iso(until) if until else "9999", *camera),
    )
    return int(count)


async def count_taken(db: Database, since: datetime | None, until: datetime | None) -> int:
    """How many photos an export of [since, until) holds (export_rows's period), without building it."""
    count = await db.scalar(
        "SELECT COUNT(*) FROM sightings WHERE taken_at >= ? AND taken_at < ?",
        (iso(since) if since else "", iso(until) if until else "9999"),
    )
    return int(count)
