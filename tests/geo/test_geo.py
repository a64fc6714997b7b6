"""Points, distances, movement speeds, map links and grid rounding (bot/geo/points.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.geo import parse_coordinates
from bot.geo.points import (
    DEFAULT_MAX_KM_PER_DAY,
    CoordinateError,
    Movement,
    Point,
    distance_km,
    format_dms,
    format_point,
    google_maps_url,
    movement,
    osm_url,
    round_point,
)
from tests.support.geo_cases import EXPECTED, SOUTH_WEST, assert_close, points

# --- Point -----------------------------------------------------------------------------------------


def test_point_accepts_extremes_and_stores_floats() -> None:
    p = Point(90, -180)
    assert (p.lat, p.lon) == (90.0, -180.0)
    assert isinstance(p.lat, float)
    assert Point(43, 51) == Point(43.0, 51.0)
    assert hash(Point(43, 51)) == hash(Point(43.0, 51.0))


@pytest.mark.parametrize(
    ("lat", "lon", "reason"),
    [
        (90.0001, 0.0, "lat_range"),
        (-91, 0.0, "lat_range"),
        (0.0, 180.5, "lon_range"),
        (0.0, -181, "lon_range"),
        (math.nan, 0.0, "not_finite"),
        (0.0, math.inf, "not_finite"),
        ("43.2", 51.0, "not_a_number"),
        (None, 51.0, "not_a_number"),
        (True, 51.0, "not_a_number"),
    ],
)
def test_point_rejects_invalid(lat: object, lon: object, reason: str) -> None:
    with pytest.raises(CoordinateError) as info:
        Point(lat, lon)  # type: ignore[arg-type]
    assert info.value.reason == reason
    assert isinstance(info.value, ValueError)
    assert str(info.value)  # human-readable message for logs and fallback replies


# --- formatting -------------------------------------------------------------------------------------


def test_format_point() -> None:
    assert format_point(EXPECTED) == "43.21000, 51.87000"
    assert format_point(Point(-0.5, 179.123456), digits=3) == "-0.500, 179.123"


def test_format_dms() -> None:
    assert format_dms(EXPECTED) == "43°12'36.0\"N 51°52'12.0\"E"
    assert format_dms(SOUTH_WEST, second_digits=0) == "43°12'36\"S 51°52'12\"W"
    # 59.99" rounds up into the next minute and degree rather than printing 60.0".
    assert format_dms(Point(43 + 59 / 60 + 59.99 / 3600, 0)) == "44°00'00.0\"N 0°00'00.0\"E"


def test_map_urls() -> None:
    assert (
        osm_url(EXPECTED)
        == "https://www.openstreetmap.org/?mlat=43.21000&mlon=51.87000#map=13/43.21000/51.87000"
    )
    assert google_maps_url(EXPECTED) == "https://maps.google.com/?q=43.21000,51.87000"
    assert_close(parse_coordinates(osm_url(SOUTH_WEST)), SOUTH_WEST, tol=1e-5)
    assert_close(parse_coordinates(google_maps_url(SOUTH_WEST)), SOUTH_WEST, tol=1e-5)


# --- distance and movement --------------------------------------------------------------------------


def test_distance_km() -> None:
    assert distance_km(EXPECTED, EXPECTED) == 0.0
    # One degree of latitude at the equator on WGS84 is 110.574 km.
    assert distance_km(Point(0, 0), Point(1, 0)) == pytest.approx(110.574, abs=0.01)
    a, b = Point(43.65, 51.16), Point(43.35, 52.06)
    assert distance_km(a, b) == pytest.approx(distance_km(b, a))


T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


def test_movement_real_world_dispersal_example() -> None:
    # Two camera traps about 210 km apart, the same male photographed 21 days apart.
    a, b = Point(43.20, 51.60), Point(43.20, 54.18)
    m = movement(a, T0, b, T0 + timedelta(days=21), max_km_per_day=30)
    assert m.distance_km == pytest.approx(210, abs=2)
    assert m.hours == pytest.approx(21 * 24)
    assert m.km_per_day == pytest.approx(10, abs=0.2)
    assert m.plausible


def test_movement_is_order_independent_and_zone_agnostic() -> None:
    a, b = Point(43.20, 51.60), Point(43.50, 51.90)
    aqtau = timezone(timedelta(hours=5))
    forward = movement(a, T0, b, T0 + timedelta(hours=12), DEFAULT_MAX_KM_PER_DAY)
    backward = movement(b, (T0 + timedelta(hours=12)).astimezone(aqtau), a, T0, DEFAULT_MAX_KM_PER_DAY)
    assert forward == backward
    assert forward.hours == pytest.approx(12)


def test_movement_too_fast_is_implausible() -> None:
    a, b = Point(43.20, 51.60), Point(43.20, 54.18)
    m = movement(a, T0, b, T0 + timedelta(days=2), max_km_per_day=30)
    assert m.km_per_day == pytest.approx(105, abs=1)
    assert not m.plausible


def test_movement_same_time() -> None:
    a, b = Point(43.20, 51.60), Point(43.30, 51.60)
    far = movement(a, T0, b, T0, 30)
    assert far.km_per_day is None and not far.plausible and far.hours == 0
    assert movement(a, T0, a, T0, 30) == Movement(0.0, 0.0, 0.0, True)


def test_movement_below_gps_noise_is_always_plausible() -> None:
    a, b = Point(43.20, 51.60), Point(43.205, 51.60)  # about 550 m
    m = movement(a, T0, b, T0, 30)
    assert m.km_per_day is None
    assert m.plausible
    assert movement(a, T0, b, T0 + timedelta(seconds=10), 30).plausible


def test_movement_threshold_is_inclusive_and_configurable() -> None:
    a, b = Point(0, 0), Point(1, 0)  # 110.574 km
    limit = distance_km(a, b) / 4
    assert movement(a, T0, b, T0 + timedelta(days=4), limit).plausible
    assert not movement(a, T0, b, T0 + timedelta(days=4), limit * 0.99).plausible
    assert movement(a, T0, b, T0 + timedelta(days=4), limit * 1.01).plausible


def test_movement_rejects_naive_datetimes_and_bad_limits() -> None:
    with pytest.raises(ValueError):
        movement(EXPECTED, datetime(2024, 5, 1), EXPECTED, T0, 30)
    with pytest.raises(ValueError):
        movement(EXPECTED, T0, EXPECTED, T0, 0)


# --- round_point ------------------------------------------------------------------------------------


def test_round_point_snaps_nearby_points_together() -> None:
    a = round_point(Point(43.2101, 51.8702), 10)
    b = round_point(Point(43.2150, 51.8650), 10)
    assert a == b
    assert distance_km(a, Point(43.2101, 51.8702)) <= 10


def test_round_point_non_positive_grid_is_identity() -> None:
    assert round_point(EXPECTED, 0) is EXPECTED
    assert round_point(EXPECTED, -5) is EXPECTED


def test_round_point_rejects_non_finite_grid() -> None:
    with pytest.raises(ValueError):
        round_point(EXPECTED, math.inf)
    with pytest.raises(ValueError):
        round_point(EXPECTED, math.nan)


def test_round_point_edges_stay_valid() -> None:
    for p in (Point(90, 180), Point(-90, -180), Point(89.999, 179.999), Point(-89.99, -179.99)):
        for grid in (0.5, 7, 50, 500, 50000):
            r = round_point(p, grid)
            assert distance_km(p, r) <= grid


@settings(max_examples=200, deadline=None)
@given(points, st.floats(min_value=0.01, max_value=500))
def test_round_point_stays_within_grid(p: Point, grid_km: float) -> None:
    r = round_point(p, grid_km)
    assert distance_km(p, r) <= grid_km
    assert round_point(r, grid_km) == r or distance_km(round_point(r, grid_km), r) <= grid_km
