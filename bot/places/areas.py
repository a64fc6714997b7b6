"""Areas (tracts) and which one a point is in: its station's, else the nearest station's within 30 km.

One rule for everyone who asks: the alert routing (area_of, once per event, inside the sighting's
transaction) and the summaries and exports (AreaFinder, once per photo of a week, a month or a year).
Both measure with one formula, the haversine on the sphere of the Earth's mean radius (IUGG R1), and
not Karney's geodesic on the WGS84 ellipsoid (bot.geo.points.distance_km), for two reasons:
- it is what the summaries and exports have always counted with, so the areas that people have been
  sent and compare week to week stay as they were; only alert routing moves, and only for a point
  less than ~90 m from the 30 km radius (the largest gap between the two at 41-47° N in Mangystau,
  well inside a phone's GPS error; a point that drops out of every area is alerted to every group);
- it costs under a microsecond per distance, the geodesic ~80 µs: a year's export (bench/summaries.py,
  100 000 photos, 40 stations) would spend ~15 s more on distances.
Ties (two stations exactly as far) go to the later station code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.geo import Point
from storage.db import Database, parse_iso

# A point with no station takes the area of the nearest station within this distance.
AREA_RADIUS_KM = 30.0
_EARTH_KM = 6371.0088  # the mean radius, IUGG R1
_STATIONS = "SELECT code, name, lat, lon, area, created_at FROM stations ORDER BY code"


@dataclass(frozen=True)
class StationInfo:
    code: str
    name: str
    point: Point
    area: str | None
    created_at: datetime


def _info(row: Any) -> StationInfo:
    created = parse_iso(row["created_at"])
    assert created is not None
    return StationInfo(row["code"], row["name"], Point(row["lat"], row["lon"]), row["area"], created)


async def load_stations(db: Database) -> list[StationInfo]:
    return [_info(r) for r in await db.fetchall(_STATIONS)]


class AreaFinder:
    """The area rule over a list of stations loaded once: for every photo of a month or a year."""

    def __init__(self, stations: Iterable[StationInfo]) -> None:
        stations = list(stations)
        self.by_code = {s.code: s for s in stations}
        self._areal = [
            (math.radians(s.point.lat), math.radians(s.point.lon), s.area) for s in stations if s.area
        ]

    def __call__(self, station: str | None, point: Point | None) -> str | None:
        info = self.by_code.get(station) if station else None
        if info is not None and info.area:
            return info.area
        if point is None:
            return None
        lat, lon = math.radians(point.lat), math.radians(point.lon)
        best: tuple[float, str | None] = (AREA_RADIUS_KM, None)
        for slat, slon, area in self._areal:
            h = (
                math.sin((slat - lat) / 2) ** 2
                + math.cos(lat) * math.cos(slat) * math.sin((slon - lon) / 2) ** 2
            )
            d = 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(h)))
            if d <= best[0]:
                best = (d, area)
        return best[1]


async def area_of(conn: aiosqlite.Connection, station: str | None, point: Point | None) -> str | None:
    """The area rule inside the sighting's transaction (the open connection sees its uncommitted
    stations): the same AreaFinder over the stations as they are now, so routing and counting agree."""
    cur = await conn.execute(_STATIONS)
    return AreaFinder(_info(r) for r in await cur.fetchall())(station, point)


async def area_names(db: Database) -> dict[str, str]:
    """Each area's name by code (the code itself for an area without a name)."""
    return {r["code"]: r["name"] or r["code"] for r in await db.fetchall("SELECT code, name FROM areas")}
