"""One verdict per move: a reader who sees grid cells reads the verdict made on the exact points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.geo import Point, distance_km, movement, round_point, rounded_movement

T0 = datetime(2025, 6, 1, 3, tzinfo=UTC)
A = Point(43.50, 52.00)
B = Point(43.50, 52.40)  # 32.4 km east of A: one day apart that is over the 30 km/day limit
GRID = 10.0


def test_a_move_over_the_limit_reads_two_animals_in_cells_too() -> None:
    exact = movement(A, T0, B, T0 + timedelta(days=1), 30.0)
    cells = rounded_movement(A, T0, B, T0 + timedelta(days=1), GRID, 30.0)
    assert f"{exact.distance_km:.1f}" == "32.4" and not exact.plausible
    # The distance shown stays the cells' (nothing finer than the grid), the verdict is the exact one.
    cell_km = distance_km(round_point(A, GRID), round_point(B, GRID))
    assert cells.distance_km == pytest.approx(cell_km) and f"{cells.distance_km:.0f}" != "32"
    assert cells.plausible is exact.plausible is False


@pytest.mark.parametrize("east", [0.05, 0.2, 0.36, 0.37, 0.38, 0.40, 0.45, 0.6])
@pytest.mark.parametrize("grid", [1.0, 5.0, 10.0, 25.0])
def test_cells_and_exact_points_never_disagree(east: float, grid: float) -> None:
    b = Point(A.lat + east / 3, A.lon + east)
    for hours in (0.0, 6.0, 24.0, 30.0):
        t_b = T0 + timedelta(hours=hours)
        assert rounded_movement(A, T0, b, t_b, grid).plausible == movement(A, T0, b, t_b).plausible
