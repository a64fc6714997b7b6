"""Offline maps and contact sheets."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image

from bot.geo import Point, distance_km, round_point
from bot.maps import (
    FALLBACK_BBOX,
    STATUS_COLOURS,
    MapArea,
    MapPoint,
    MapStation,
    area_labels,
    contact_sheet,
    convex_hull,
    projection,
    render_map,
    scale_bar,
)
from tests.conftest import SAMPLES

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
    pre_snapped = png(render_map(snapped_points, [])).crop((200, 40, 1000, 600))
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


def test_contact_sheet() -> None:
    assert contact_sheet([], []) is None
    leopard = (SAMPLES / "leo_005_serengeti_night.jpg").read_bytes()
    sheet = contact_sheet([leopard] * 5 + [b"not an image"], ["#1 UST-01 · Ақтау"] * 6, thumb=120, columns=4)
    assert sheet is not None
    image = Image.open(io.BytesIO(sheet))
    assert image.format == "JPEG"
    assert image.size == (4 * 126 + 6, 2 * (120 + 22 + 6) + 6)
    assert not image.getexif()  # re-encoded: no camera GPS rides along
