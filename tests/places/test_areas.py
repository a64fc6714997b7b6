"""One area rule: the alert routing (area_of, in the sighting's transaction) and the summaries and exports
(AreaFinder) give every point the same area, on both sides of the 30 km radius."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.geo import Point, distance_km
from bot.places import Stations
from bot.places.areas import AREA_RADIUS_KM, AreaFinder, area_of, load_stations
from storage.db import Database

EARTH_KM = 6371.0088
UST = Point(43.5, 52.0)


def away(p: Point, km: float, bearing: float) -> Point:
    """The point `km` from `p` on a great circle of the mean sphere, `bearing` degrees from north."""
    d, b = km / EARTH_KM, math.radians(bearing)
    lat1, lon1 = math.radians(p.lat), math.radians(p.lon)
    lat2 = math.asin(math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(b))
    lon2 = lon1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(lat1), math.cos(d) - math.sin(lat1) * math.sin(lat2)
    )
    return Point(math.degrees(lat2), math.degrees(lon2))


KZS = away(UST, 59.96, 90)  # a point between the two can be within 30 km of both


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "areas.sqlite3") as database:
        stations = Stations(database)
        await stations.add("UST-01", UST, "Ustyurt spring", "UST")
        await stations.add("KZS-01", KZS, "Kyzylsai gorge", "KZS")
        await stations.add("NOA-01", Point(43.6, 52.4), "no area yet")
        yield database


async def test_alerts_and_summaries_find_the_same_area(db: Database) -> None:
    # Just inside and just outside the radius, on the side of UST away from KZS; then between the two.
    inside = [away(UST, km, bearing) for km in (29.95, 29.99) for bearing in range(150, 391, 30)]
    outside = [away(UST, km, bearing) for km in (30.01, 30.05) for bearing in range(150, 391, 30)]
    between = [away(UST, km, 90) for km in (29.94, 29.99, 30.02)]  # KZS at 30.02, 29.97, 29.94 km
    far = away(UST, 29.0, 0)
    named = [("UST-01", away(KZS, 1, 0)), ("NOA-01", far), ("XXX-09", far), ("NOA-01", None), (None, None)]
    cases = [(None, p) for p in inside + outside + between] + named
    finder = AreaFinder(await load_stations(db))
    async with db.transaction() as conn:
        for station, point in cases:
            assert await area_of(conn, station, point) == finder(station, point), (station, point)
    assert {finder(None, p) for p in inside} == {"UST"}
    assert {finder(None, p) for p in outside} == {None}
    assert [finder(None, p) for p in between] == ["UST", "KZS", "KZS"]  # the nearer station's area
    # A station's own area comes first; one without an area, or an unknown code, goes by the point.
    assert [finder(s, p) for s, p in named] == ["UST", "UST", "UST", None, None]
    # The test is sharp: for some of these points the WGS84 geodesic distance falls on the other side of
    # the radius, so a second formula on either side would make the two disagree above.
    assert any(distance_km(p, UST) > AREA_RADIUS_KM for p in inside)
    assert any(distance_km(p, UST) <= AREA_RADIUS_KM for p in outside)
