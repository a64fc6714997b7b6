"""The weekly map read on a phone (Telegram shows it ~400 px wide): the legend under the map, areas as
areas, names placed without collisions and nearer their own dot, and no text under ~9 px there."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from bot.geo import Point
from bot.reports.labels import Label, distance, overlap
from bot.reports.map_layers import MapMove
from bot.reports.maps import STATUS_COLOURS, MapDrawing, MapPoint, MapStation, area_labels, draw_map

# A crowded week: four stations a few km apart in one area, two in another, one alone, sightings at
# most of them and one between them, and two moves.
STATIONS = [
    MapStation("UST-01", Point(43.21, 51.87), "UST"),
    MapStation("UST-02", Point(43.26, 51.93), "UST"),
    MapStation("UST-03", Point(43.18, 51.97), "UST"),
    MapStation("UST-04", Point(43.30, 51.84), "UST"),
    MapStation("KZS-01", Point(43.55, 52.42), "KZS"),
    MapStation("KZS-02", Point(43.62, 52.30), "KZS"),
    MapStation("BOZ-01", Point(43.35, 52.60), "BOZ"),
]
POINTS = [
    MapPoint(Point(43.21, 51.87), "confirmed"),
    MapPoint(Point(43.26, 51.93), "rejected"),
    MapPoint(Point(43.23, 51.91), "unconfirmed"),
    MapPoint(Point(43.55, 52.42), "confirmed"),
    MapPoint(Point(43.62, 52.30), "confirmed"),
]
T0 = datetime(2025, 3, 4, tzinfo=UTC)
MOVES = [
    MapMove(Point(43.21, 51.87), T0, Point(43.55, 52.42), T0 + timedelta(days=1), False),
    MapMove(Point(43.55, 52.42), T0 + timedelta(days=1), Point(43.62, 52.30), T0 + timedelta(days=3), True),
]
NAMES = {"UST": "Ustyurt", "KZS": "Kyzylsai", "BOZ": "Bozzhyra"}
TITLE = "Ustyurt leopard coordinators: 2025-03-03 – 2025-03-09"


def drawings() -> list[tuple[str, MapDrawing]]:
    out = []
    for lang in ("en", "ru", "kk"):
        for size in ((1000, 800), (640, 480)):
            drawing = draw_map(POINTS, STATIONS, NAMES, size=size, title=TITLE, lang=lang, moves=MOVES)
            out.append((f"{lang} {size}", drawing))
        labels = area_labels(STATIONS, NAMES, 10)
        untrusted = draw_map(
            POINTS, STATIONS, NAMES, title=TITLE, lang=lang, moves=MOVES, grid_km=10, labels=labels
        )
        out.append((f"{lang} untrusted", untrusted))
    return out


DRAWINGS = drawings()


@pytest.mark.parametrize(("name", "drawing"), DRAWINGS, ids=[n for n, _ in DRAWINGS])
def test_no_two_labels_overlap_and_all_stay_on_the_map(name: str, drawing: MapDrawing) -> None:
    boxes = [lb.box for lb in drawing.labels]
    assert boxes
    for i, a in enumerate(boxes):
        assert all(not overlap(a, b) for b in boxes[i + 1 :]), name
        x0, y0, x1, y1 = drawing.frame
        assert x0 <= a[0] and y0 <= a[1] and a[2] <= x1 and a[3] <= y1, name


@pytest.mark.parametrize(("name", "drawing"), DRAWINGS, ids=[n for n, _ in DRAWINGS])
def test_the_legend_is_outside_the_map_frame(name: str, drawing: MapDrawing) -> None:
    fx0, fy0, fx1, fy1 = drawing.frame
    ly0, ly1 = drawing.legend[1], drawing.legend[3]
    assert ly0 >= fy1 and ly1 <= drawing.image.height, name  # a band under the map, inside the picture
    for p in POINTS:  # every sighting is drawn inside the frame, none under the legend
        x, y = drawing.proj.xy(p.point)
        assert fx0 <= x <= fx1 and fy0 <= y <= fy1, name


@pytest.mark.parametrize(("name", "drawing"), DRAWINGS, ids=[n for n, _ in DRAWINGS])
def test_text_is_at_least_nine_pixels_on_a_400_px_phone(name: str, drawing: MapDrawing) -> None:
    assert drawing.smallest_text >= 9 * drawing.image.width / 400, name
    for lb in drawing.labels:
        assert lb.box[3] - lb.box[1] >= 9 * drawing.image.width / 400, (name, lb.text)


def station_labels(drawing: MapDrawing) -> list[Label]:
    return [lb for lb in drawing.labels if lb.kind == "station"]


@pytest.mark.parametrize(("name", "drawing"), DRAWINGS[:2], ids=[n for n, _ in DRAWINGS[:2]])
def test_a_station_label_is_nearer_its_own_dot_than_any_other(name: str, drawing: MapDrawing) -> None:
    placed = station_labels(drawing)
    assert len(placed) >= 5, [lb.text for lb in placed]  # most stations named, even crowded
    dots = [drawing.proj.xy(s.point) for s in STATIONS] + [drawing.proj.xy(p.point) for p in POINTS]
    for lb in placed:
        own = drawing.proj.xy(next(s.point for s in STATIONS if s.code == lb.text))
        mine = distance(lb.box, *own)
        for x, y in dots:
            if math.dist((x, y), own) >= 3:
                assert distance(lb.box, x, y) > mine, (lb.text, (x, y))


def test_an_area_of_two_stations_is_a_patch_not_a_line() -> None:
    pair = [
        MapStation("KZS-01", Point(43.55, 52.42), "KZS"),
        MapStation("KZS-02", Point(43.62, 52.30), "KZS"),
    ]
    drawing = draw_map([], pair, {"KZS": "Kyzylsai"}, basemap=False)
    (ax, ay), (bx, by) = (drawing.proj.xy(s.point) for s in pair)
    length = math.hypot(bx - ax, by - ay)
    nx, ny = -(by - ay) / length, (bx - ax) / length
    background = drawing.image.getpixel((5, round(drawing.frame[1] + 5)))
    for side in (1, -1):  # beside the middle of the two stations, the area's fill
        x, y = (ax + bx) / 2 + side * nx * 15, (ay + by) / 2 + side * ny * 15
        assert drawing.image.getpixel((round(x), round(y))) != background
    # ... and its name, once.
    assert [lb.text for lb in drawing.labels if lb.kind == "area"] == ["Kyzylsai"]


def test_status_dots_and_legend_swatches_keep_their_colours() -> None:
    image = DRAWINGS[0][1].image
    colours = {image.getpixel((x, y)) for x in range(0, image.width, 2) for y in range(0, image.height, 2)}
    assert all(c in colours for c in STATUS_COLOURS.values())
