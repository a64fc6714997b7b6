"""Points, strategies and checks shared by the geometry and coordinate-text tests."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from bot.geo import Point

EXPECTED = Point(43.21, 51.87)
SOUTH_WEST = Point(-43.21, -51.87)

lats = st.floats(min_value=-90, max_value=90, allow_nan=False, allow_infinity=False)
lons = st.floats(min_value=-180, max_value=180, allow_nan=False, allow_infinity=False)
points = st.builds(Point, lats, lons)


def assert_close(actual: Point | None, expected: Point, tol: float = 1e-6) -> None:
    assert actual is not None
    assert actual.lat == pytest.approx(expected.lat, abs=tol)
    assert actual.lon == pytest.approx(expected.lon, abs=tol)
