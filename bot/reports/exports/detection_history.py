"""Detection history for occupancy models: stations x occasions, 1 (a leopard), 0 (watched, none), NA (no
camera operating), as camtrapR's detectionHistory builds it from cameraOperation and the records.

- Occasions are `occasion_days` long, from midnight (LW_TIMEZONE) of the first day; the last one may be
  shorter (its length is in its column name's span: the next column's start).
- A station's operation is the union of its deployments' operating time (bot/reports/effort.py: set-up to
  retrieval, known outages taken off). An occasion with none of it is NA; a leopard photographed there
  anyway is still 1 (the photo proves the camera ran).
- A detection is a leopard event (an event id: the detector's or a ranger's) not rejected.
- Rows are the stations with a deployment in the period. Rounded exports name stations by aliases made up
  for the file and give grid points (records.StationAliases), like every other format.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.geo import Point, round_point
from bot.places import load_deployments, load_stations, outages
from bot.reports.effort import Interval, nights, operating
from bot.reports.exports.records import Precision, coord, station_ids
from storage.db import Database, parse_iso, utcnow

NA = "NA"
DEFAULT_OCCASION_DAYS = 7
DETECTED_STATUSES = ("confirmed", "unreviewed")


def occasions(since: datetime, until: datetime, days: int, zone: ZoneInfo) -> list[Interval]:
    first = datetime.combine(since.astimezone(zone).date(), time(0), zone).astimezone(UTC)
    out = []
    at = first
    while at < until:
        out.append((at, min(at + timedelta(days=days), until)))
        at += timedelta(days=days)
    return out


def _overlap(spans: Sequence[Interval], a: datetime, b: datetime) -> float:
    return sum(max(0.0, (min(e, b) - max(s, a)).total_seconds()) for s, e in spans)


async def detection_history(
    db: Database,
    rows: list[dict[str, Any]],
    since: datetime | None,
    until: datetime | None,
    *,
    precision: Precision,
    zone: ZoneInfo,
    occasion_days: int = DEFAULT_OCCASION_DAYS,
    as_of: datetime | None = None,
) -> bytes:
    """The CSV's bytes; `rows` come from records.export_rows (photos taken in [since, until))."""
    if occasion_days < 1:
        raise ValueError("an occasion is at least one day")
    as_of = as_of or utcnow()
    deps = await load_deployments(db, since, until)
    start = since or min((d.start for d in deps), default=as_of)
    end = until or min(max((d.end or as_of for d in deps), default=as_of), as_of)
    down = await outages(db)
    watched: dict[str, list[Interval]] = defaultdict(list)
    for d in deps:
        if d.station:
            watched[d.station] += operating(d, down.get(d.id, []), start, end, as_of)
    stations = {s.code: s for s in await load_stations(db)}
    cols = occasions(start, end, occasion_days, zone)
    seen: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        taken = parse_iso(r["taken_at"])
        if r["event_id"] is None or r["status"] not in DETECTED_STATUSES or taken is None:
            continue
        code = r["station_code"]
        for i, (a, b) in enumerate(cols):
            if code in watched and a <= taken < b:
                seen[code].add(i)
    alias = station_ids(precision.exact)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    names = [f"o{i + 1}_{a.astimezone(zone):%Y-%m-%d}" for i, (a, _) in enumerate(cols)]
    writer.writerow(["station", "latitude", "longitude", "trap_nights", *names])
    for code in sorted(watched, key=lambda c: alias(c) if not precision.exact else c):
        info = stations.get(code)
        if info is None:
            continue
        point: Point = info.point if precision.exact else round_point(info.point, precision.grid_km)
        spans = watched[code]
        cells = [
            "1" if i in seen[code] else ("0" if _overlap(spans, a, b) > 0 else NA)
            for i, (a, b) in enumerate(cols)
        ]
        writer.writerow([alias(code), coord(point.lat, precision.exact), coord(point.lon, precision.exact),
                         f"{nights(spans):.1f}", *cells])  # fmt: skip
    return buf.getvalue().encode("utf-8")
