"""Offline maps and contact sheets."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.geo import Point, distance_km, round_point
from bot.reports.map_layers import (
    LAND,
    ONE_ANIMAL,
    PROTECTED,
    SEA,
    TOWN,
    TWO_ANIMALS,
    MapMove,
    ProtectedAreasError,
    load_protected_areas,
)
from bot.reports.maps import (
    FALLBACK_BBOX,
    STATUS_COLOURS,
    MapArea,
    MapPoint,
    MapStation,
    Projection,
    area_labels,
    convex_hull,
    draw_map,
    projection,
    render_map,
    scale_bar,
)
from tests.support.paths import DATA

POINTS = [
    MapPoint(Point(43.21, 51.87), "confirmed"),
    MapPoint(Point(43.62, 52.41), "unconfirmed"),
    MapPoint(Point(44.05, 51.21), "rejected"),
]
STATIONS = [
    MapStation("UST-01", Point(43.1, 51.8), "UST"),
    MapStation("UST-02", Point(43.3, 52.1), "UST"),
    MapStation("UST-03", Point(43.5, 51.7), "UST"),
    MapStation("KZS-01", Point(44.2, 51.3), "KZS"),
]


def png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()
    return image.convert("RGB")


@pytest.mark.parametrize("size", [(1000, 800), (640, 480)])
def test_map_is_a_png_of_the_requested_size(size: tuple[int, int]) -> None:
    image = png(
        render_map(POINTS, STATIONS, {"UST": "Ustyurt"}, size=size, title="Устюрт · Ақтау", lang="ru")
    )
    assert image.size == size
    colours = {image.getpixel((x, y)) for x in range(0, size[0], 2) for y in range(0, size[1], 2)}
    assert all(c in colours for c in STATUS_COLOURS.values())  # dots drawn in each status colour


def test_empty_map_falls_back_to_mangystau() -> None:
    assert png(render_map([], [])).size == (1000, 800)
    proj = projection([], (1000, 800))
    assert (proj.south, proj.west, proj.north, proj.east) == FALLBACK_BBOX
    centre = proj.to_point(500, 400)
    assert centre.lat == pytest.approx(43.5) and centre.lon == pytest.approx(53.5)


def test_projection_keeps_every_point_inside_the_margins() -> None:
    proj = projection([p.point for p in POINTS] + [s.point for s in STATIONS], (1000, 800))
    for p in [p.point for p in POINTS] + [s.point for s in STATIONS]:
        x, y = proj.xy(p)
        assert proj.margin <= x <= 1000 - proj.margin and proj.margin <= y <= 800 - proj.margin
        back = proj.to_point(x, y)
        assert (back.lat, back.lon) == (pytest.approx(p.lat), pytest.approx(p.lon))


def test_scale_bar_is_true_at_the_map_latitude() -> None:
    proj = projection([Point(43.0, 51.0), Point(44.0, 53.0)], (1000, 800))
    km, px = scale_bar(proj)
    assert km in {1, 2, 5, 10, 20, 50, 100}
    # Measure the bar's pixels back on the ellipsoid along the middle parallel.
    a, b = proj.to_point(100, 400), proj.to_point(100 + px, 400)
    assert distance_km(Point(proj.mid_lat, a.lon), Point(proj.mid_lat, b.lon)) == pytest.approx(km, rel=1e-3)
    # A degree of longitude is ~81 km at 43.5°N, not the 111 km of the equator.
    deg = proj.xy(Point(proj.mid_lat, 52.0))[0] - proj.xy(Point(proj.mid_lat, 51.0))[0]
    assert deg * proj.km_per_px() == pytest.approx(111.32 * math.cos(math.radians(proj.mid_lat)), rel=0.01)


def test_untrusted_map_is_drawn_from_snapped_positions() -> None:
    snapped_points = [MapPoint(round_point(p.point, 10), p.status) for p in POINTS]
    # Same picture as drawing already-snapped sightings and no stations at all (legend aside): neither
    # the exact positions nor the stations (exact points with codes) reach it.
    assert (
        png(render_map(POINTS, STATIONS, grid_km=10)).tobytes() != png(render_map(POINTS, STATIONS)).tobytes()
    )
    with_grid = png(render_map(POINTS, STATIONS, grid_km=10)).crop((200, 40, 1000, 600))
    # (with the same grid, so the legend band under the map has the same "rounded" note and height)
    pre_snapped = png(render_map(snapped_points, [], grid_km=10)).crop((200, 40, 1000, 600))
    assert with_grid.tobytes() == pre_snapped.tobytes()
    # Area names stand in for the stations, each at its stations' mean snapped to the grid.
    labels = area_labels(STATIONS, {"UST": "Ustyurt"}, 10)
    ust_mean = Point((43.1 + 43.3 + 43.5) / 3, (51.8 + 52.1 + 51.7) / 3)
    kzs, ust = round_point(Point(44.2, 51.3), 10), round_point(ust_mean, 10)
    assert labels == [MapArea("KZS", kzs), MapArea("Ustyurt", ust)]
    labelled = png(render_map(POINTS, STATIONS, grid_km=10, labels=labels)).crop((200, 40, 1000, 600))
    assert labelled.tobytes() != with_grid.tobytes()


def test_convex_hull() -> None:
    square = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (1.0, 1.0), (1.0, 0.0)]
    assert sorted(convex_hull(square)) == [(0.0, 0.0), (0.0, 2.0), (2.0, 0.0), (2.0, 2.0)]
    assert convex_hull([(1.0, 1.0)]) == [(1.0, 1.0)]


# --- the basemap, protected areas and moves ------------------------------------------------------------

T0 = datetime(2025, 3, 4, 9, 36, tzinfo=UTC)
AREAS_FILE = DATA / "protected_areas.geojson"
# Confirmed leopards: UST -> KZS, ~108 km in 2 days (too far for one animal), then KZS -> a few km away
# a day later (one animal could).
UST, KZS, NEAR = Point(43.20, 51.80), Point(44.10, 51.30), Point(44.16, 51.38)
MOVES = [
    MapMove(UST, T0, KZS, T0 + timedelta(days=2)),
    MapMove(KZS, T0 + timedelta(days=2), NEAR, T0 + timedelta(days=3)),
]


def pixel(image: Image.Image, proj: Projection, p: Point) -> tuple[int, int, int]:
    x, y = proj.xy(p)
    return image.getpixel((round(x), round(y)))


def near_colour(
    image: Image.Image, x: float, y: float, colour: tuple[int, int, int], radius: int = 4
) -> bool:
    return any(
        image.getpixel((round(x) + dx, round(y) + dy)) == colour
        for dx in range(-radius, radius + 1)
        for dy in range(-radius, radius + 1)
    )


def arrow_xy(proj: Projection, a: Point, b: Point, at: float) -> tuple[float, float]:
    """A point on the arrow from a to b (drawn 7 px to its right), `at` of the way along."""
    (x0, y0), (x1, y1) = proj.xy(a), proj.xy(b)
    length = math.hypot(x1 - x0, y1 - y0)
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
    return x0 + (x1 - x0) * at + nx * 7, y0 + (y1 - y0) * at + ny * 7


@pytest.mark.parametrize("grid_km", [None, 10.0])
def test_map_has_sea_land_and_the_moves_where_expected(grid_km: float | None) -> None:
    points = [MapPoint(p, "confirmed") for p in (UST, KZS, NEAR)]
    areas = load_protected_areas(AREAS_FILE)
    drawing = draw_map(points, STATIONS, moves=MOVES, grid_km=grid_km, protected=areas)
    image, proj = drawing.image, drawing.proj  # the map's frame, between the title and the legend bands
    snap = (lambda p: round_point(p, grid_km)) if grid_km else (lambda p: p)
    # The Caspian west of Aktau is sea, the Mangyshlak plateau east of it land.
    assert pixel(image, proj, Point(43.90, 50.65)) == SEA  # (off the graticule lines)
    assert pixel(image, proj, Point(43.80, 52.40)) == LAND
    # Aktau, a town, is drawn where it is (a dark square), and labelled.
    assert near_colour(image, *proj.xy(Point(43.661, 51.174)), TOWN)
    # The long move is an arrow in the "two animals" colour, the short one in the "one animal" colour.
    a, b, c = snap(UST), snap(KZS), snap(NEAR)
    for at in (0.3, 0.5, 0.7):
        assert near_colour(image, *arrow_xy(proj, a, b, at), TWO_ANIMALS), at
    assert not near_colour(image, *arrow_xy(proj, a, b, 0.5), ONE_ANIMAL, radius=2)
    if b == c:  # one grid cell: the short move is a ring around it
        x, y = proj.xy(b)
        assert near_colour(image, x + 18, y, ONE_ANIMAL, radius=3)
    else:
        assert near_colour(image, *arrow_xy(proj, b, c, 0.5), ONE_ANIMAL, radius=3)
    # The protected areas' outlines: the Ustyurt test outline's south-west corner.
    assert near_colour(image, *proj.xy(Point(43.05, 51.60)), PROTECTED)


def test_protected_areas_file_must_hold_polygons(tmp_path: Path) -> None:
    areas = load_protected_areas(AREAS_FILE)
    assert [a.name for a in areas] == ["Ustyurt reserve (test outline)", "Kyzylsai park (test outline)"]
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
                   '"geometry": {"type": "Point", "coordinates": [51, 43]}}]}')  # fmt: skip
    with pytest.raises(ProtectedAreasError):
        load_protected_areas(bad)
    with pytest.raises(ProtectedAreasError):
        load_protected_areas(tmp_path / "missing.geojson")
