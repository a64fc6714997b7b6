"""Offline weekly maps drawn with Pillow: no tile server, nothing leaves the machine.

The projection is equirectangular with longitudes shrunk by cos(mid-latitude), which is close enough
to conformal over a region the size of Mangystau (~5° of latitude) for shapes and distances to read
right, and simple enough to need no GIS library. The basemap, protected areas, area patches and move
arrows are drawn by bot/reports/map_layers.py, the names placed by bot/reports/labels.py, the legend
under the map by bot/reports/legend.py.

Sizes are for a phone: Telegram shows the map about 400 px wide, so every size here is a number of
"phone pixels" times width/400 (bot.reports.fonts.phone_size), and no text is under 9 phone pixels.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image, ImageDraw

from bot.geo import DEFAULT_MAX_KM_PER_DAY, Point, distance_km, round_point
from bot.reports.fonts import Font, font, phone_size
from bot.reports.labels import XY, Box, Dot, Label, Labels
from bot.reports.legend import Swatch, draw_legend, layout
from bot.reports.map_layers import (
    ONE_ANIMAL,
    PROTECTED,
    TWO_ANIMALS,
    Canvas,
    MapMove,
    Shape,
    area_outline,
    convex_hull,
    move_between,
    points_of,
)
from bot.text import t

__all__ = [
    "CONTEXT_DEGREES", "FALLBACK_BBOX", "STATUS_COLOURS", "Font", "MapArea", "MapDrawing", "MapPoint",
    "MapStation", "Projection", "area_labels", "convex_hull", "draw_map", "font", "projection",
    "render_map", "scale_bar",
]  # fmt: skip

# Mangystau region with a margin: what the map shows when there is nothing to show.
FALLBACK_BBOX = (41.0, 50.0, 46.0, 57.0)  # south, west, north, east
STATUS_COLOURS = {
    "confirmed": (214, 39, 40),
    "unconfirmed": (245, 140, 20),
    "rejected": (150, 150, 150),
}
_BACKGROUND, _GRID, _INK, _AREA = (246, 243, 235), (215, 210, 198), (40, 40, 40), (60, 110, 160)
_WHITE = (255, 255, 255)
# Enough of the region around the week's points to show the coast and a town to read them against.
CONTEXT_DEGREES = 1.0


@dataclass(frozen=True)
class MapPoint:
    point: Point
    status: str  # confirmed / unconfirmed / rejected (see bot.reports.summary.status_class)


@dataclass(frozen=True)
class MapStation:
    code: str
    point: Point
    area: str | None = None


@dataclass(frozen=True)
class MapArea:
    """An area's name, drawn where a map for an untrusted group would otherwise show its stations."""

    name: str
    point: Point


def area_labels(stations: Sequence[MapStation], names: Mapping[str, str], grid_km: float) -> list[MapArea]:
    """One label per area at the mean of its stations, snapped to the grid: the group learns roughly
    where the area is, and nothing about where in it the cameras stand."""
    by_area: dict[str, list[Point]] = defaultdict(list)
    for st in stations:
        if st.area:
            by_area[st.area].append(st.point)
    out = []
    for area, pts in sorted(by_area.items()):
        mean = Point(sum(p.lat for p in pts) / len(pts), sum(p.lon for p in pts) / len(pts))
        out.append(MapArea(names.get(area, area), round_point(mean, grid_km)))
    return out


@dataclass(frozen=True)
class Projection:
    south: float
    west: float
    north: float
    east: float
    width: int
    height: int
    margin: int
    top: int = 0  # the map frame's first row: the title band is above it

    @property
    def k(self) -> float:
        """Pixels per degree of latitude (and per degree of longitude times cos(mid-latitude))."""
        lon_span = (self.east - self.west) * math.cos(math.radians(self.mid_lat))
        return min(
            (self.width - 2 * self.margin) / lon_span,
            (self.height - 2 * self.margin) / (self.north - self.south),
        )

    @property
    def mid_lat(self) -> float:
        return (self.north + self.south) / 2

    def xy(self, p: Point) -> tuple[float, float]:
        cx, cy = self.width / 2, self.top + self.height / 2
        x = cx + (p.lon - (self.west + self.east) / 2) * math.cos(math.radians(self.mid_lat)) * self.k
        y = cy - (p.lat - self.mid_lat) * self.k
        return x, y

    def to_point(self, x: float, y: float) -> Point:
        lat = self.mid_lat - (y - self.top - self.height / 2) / self.k
        lon = (self.west + self.east) / 2 + (x - self.width / 2) / (
            math.cos(math.radians(self.mid_lat)) * self.k
        )
        return Point(max(-90.0, min(90.0, lat)), max(-180.0, min(180.0, lon)))

    def km_per_px(self) -> float:
        """Measured on the WGS84 ellipsoid along the middle parallel, where the scale bar is true."""
        mid = self.top + self.height / 2
        a, b = self.to_point(self.margin, mid), self.to_point(self.width - self.margin, mid)
        return distance_km(Point(self.mid_lat, a.lon), Point(self.mid_lat, b.lon)) / (
            self.width - 2 * self.margin
        )


def projection(
    points: Sequence[Point], size: tuple[int, int], margin: int = 60, min_span: float = 0.0, top: int = 0
) -> Projection:
    """A projection of `points` into a frame `size` px (from row `top` down)."""
    if points:
        south, north = min(p.lat for p in points), max(p.lat for p in points)
        west, east = min(p.lon for p in points), max(p.lon for p in points)
        pad_lat = max(0.15, (north - south) * 0.12, (min_span - (north - south)) / 2)
        pad_lon = max(0.15, (east - west) * 0.12, (min_span - (east - west)) / 2)
        south, north, west, east = south - pad_lat, north + pad_lat, west - pad_lon, east + pad_lon
    else:
        south, west, north, east = FALLBACK_BBOX
    return Projection(south, west, north, east, size[0], size[1], margin, top)


def scale_bar(proj: Projection) -> tuple[float, float]:
    """A round length (1, 2 or 5 × 10^n km) about a fifth of the map wide, and its length in pixels."""
    km_px = proj.km_per_px()
    target = km_px * proj.width / 5
    step = 10 ** math.floor(math.log10(target))
    km = max((m * step for m in (1, 2, 5) if m * step <= target), default=step)
    return km, km / km_px


@dataclass(frozen=True)
class MapDrawing:
    """The picture and where things went on it: what the tests measure."""

    image: Image.Image
    proj: Projection
    frame: Box  # the map itself, between the title band and the legend band
    legend: Box
    labels: tuple[Label, ...]
    skipped: tuple[str, ...]  # labels left out for want of room
    smallest_text: int  # px, of every text drawn


def _graticule(draw: ImageDraw.ImageDraw, proj: Projection, frame: Box) -> list[tuple[str, XY]]:
    """The lines; returns their degree marks (longitudes along the bottom, latitudes down the left
    edge, so the bare "°" needs no letter in any language), named after the week's own labels."""
    x0, y0, x1, y1 = frame
    # Lines about a fifth of the map apart: a zoomed-in map still gets lines to read positions from,
    # and their marks do not crowd each other out.
    steps = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
    step = next((s for s in steps if s * proj.k >= (x1 - x0) / 5), steps[-1])
    ticks: list[tuple[str, XY]] = []
    lon = math.ceil(proj.to_point(x0, y0).lon / step) * step
    while (x := proj.xy(Point(proj.mid_lat, lon))[0]) < x1:
        draw.line([(x, y0), (x, y1)], fill=_GRID, width=1)
        ticks.append((f"{lon:g}°", (x + 4, y1 - 3)))
        lon += step
    lat = math.ceil(proj.to_point(x0, y1).lat / step) * step
    while (y := proj.xy(Point(lat, proj.west))[1]) > y0:
        draw.line([(x0, y), (x1, y)], fill=_GRID, width=1)
        ticks.append((f"{lat:g}°", (x0 + 4, y - 3)))
        lat += step
    return ticks


def _around(box: Box, gap: float) -> list[tuple[tuple[float, float], str]]:
    """Places for a name around a shape's bounding box: above, below, right, left, then the corners."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    sides = [((cx, y0 - gap), "md"), ((cx, y1 + gap), "ma"), ((x1 + gap, cy), "lm"), ((x0 - gap, cy), "rm")]
    corners = [((x1, y0 - gap), "ld"), ((x0, y0 - gap), "rd"), ((x1, y1 + gap), "la"), ((x0, y1 + gap), "ra")]
    return sides + corners


def _bounds(pts: Sequence[tuple[float, float]]) -> Box:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def _name_stations(
    names: Labels, proj: Projection, stations: Sequence[MapStation], f: Font, dot: float
) -> None:
    """Each station's code beside it; the codes of stations too close to name one by one, together
    beside them ("UST-01, UST-02"); a code with no room at all is left out (the area still shows)."""
    left: dict[str | None, list[MapStation]] = defaultdict(list)
    for st in stations:
        x, y = proj.xy(st.point)
        if names.near(st.code, x, y, dot, f, _INK, kind="station") is None:
            left[st.area].append(st)
    for group in left.values():
        if len(group) > 1:
            dots = [Dot(*proj.xy(s.point), dot) for s in group]
            if names.merged(", ".join(s.code for s in group), dots, f, _INK, kind="stations") is not None:
                names.skipped[:] = [n for n in names.skipped if n not in {s.code for s in group}]


def draw_map(
    points: Sequence[MapPoint],
    stations: Sequence[MapStation],
    areas: Mapping[str, str] | None = None,
    *,
    size: tuple[int, int] = (1000, 800),
    title: str = "",
    lang: str = "en",
    grid_km: float | None = None,
    labels: Sequence[MapArea] = (),
    moves: Sequence[MapMove] = (),
    protected: Sequence[Shape] = (),
    max_km_per_day: float = DEFAULT_MAX_KM_PER_DAY,
    basemap: bool = True,
) -> MapDrawing:
    """The basemap, protected areas, the areas as translucent patches around their stations, stations,
    sightings by status and the moves between leopard events; the title above, the legend below.

    With grid_km (untrusted groups) sightings and move ends are snapped to that grid first, and each
    move's km and days are worked out from the grid cells (bot.geo.points.rounded_movement), so the picture
    holds no more precision than the group may see; the arrow's colour is the verdict made on the exact
    points (MapMove.plausible), the one every group reads; stations are not drawn at all: a station is
    an exact point, its code and its patch lead back to it; `labels` (see area_labels) name the areas
    instead, at grid nodes.
    """
    if grid_km:
        points = [MapPoint(round_point(p.point, grid_km), p.status) for p in points]
        stations = []
        labels = [MapArea(a.name, round_point(a.point, grid_km)) for a in labels]
    arrows = [move_between(m, grid_km, max_km_per_day) for m in moves]
    shown = [p.point for p in points] + [s.point for s in stations] + [a.point for a in labels]
    shown += [p for a, b, _ in arrows for p in (a, b)]
    if not shown:  # nothing of the week to show: the protected areas are still worth a look
        shown = list(points_of(protected))
    width, height = size
    text, bold = phone_size(width, 9.5), phone_size(width, 10)
    dot, line = phone_size(width, 4), phone_size(width, 2.2)
    image = Image.new("RGB", size, _BACKGROUND)
    draw = ImageDraw.Draw(image)
    by_area: dict[str, list[MapStation]] = defaultdict(list)
    for st in stations:
        if st.area:
            by_area[st.area].append(st)
    counts: dict[str, int] = defaultdict(int)
    for p in points:
        counts[p.status] += 1
    rows: list[tuple[Swatch, str]] = [
        (("dot", STATUS_COLOURS[k]), t(lang, f"map.{k}", count=counts.get(k, 0))) for k in STATUS_COLOURS
    ]
    if stations:
        rows.append((("station", None), t(lang, "map.station")))
    if by_area:
        rows.append((("area", _AREA), t(lang, "map.area")))
    verdicts = {mv.plausible for _, _, mv in arrows}
    if True in verdicts:
        rows.append((("line", ONE_ANIMAL), t(lang, "map.move_one")))
    if False in verdicts:
        rows.append((("line", TWO_ANIMALS), t(lang, "map.move_two", limit=f"{max_km_per_day:g}")))
    if protected:
        rows.append((("outline", PROTECTED), t(lang, "map.protected")))
    note = t(lang, "map.rounded", grid=f"{grid_km:g}") if grid_km else ""
    # The legend's height is known before the scale (the bar is at most a fifth of the width).
    legend = layout(draw, width, rows, note, (_scale_text(lang, 500), width / 5))
    title_h = round(1.7 * phone_size(width, 11)) if title else 0
    frame: Box = (0, title_h, width, height - legend.height)
    frame_h = max(1, height - legend.height - title_h)
    proj = projection(shown, (width, frame_h), margin=round(0.06 * width),
                      min_span=CONTEXT_DEGREES if basemap else 0.0, top=title_h)  # fmt: skip
    names = Labels(draw, frame)
    canvas = Canvas(image, proj, names)
    towns = canvas.basemap(lang, dot) if basemap else []
    draw = canvas.draw
    ticks = _graticule(draw, proj, frame)
    named: list[tuple[str, list[tuple[float, float]]]] = canvas.protected(protected, max(2, line // 2))
    patches = []
    for area, members in sorted(by_area.items()):
        outline = area_outline([proj.xy(s.point) for s in members], margin=2.6 * dot)
        canvas.patch(outline, _AREA, max(2, line // 2))
        patches.append(((areas or {}).get(area, area), outline))
    places = []
    for start, end, mv in arrows:
        where = canvas.arrow(start, end, ONE_ANIMAL if mv.plausible else TWO_ANIMALS, line, dot)
        label = t(lang, "map.move", km=f"{mv.distance_km:.0f}", days=f"{mv.hours / 24:.1f}")
        places.append((label, where, ONE_ANIMAL if mv.plausible else TWO_ANIMALS))
    for st in stations:
        x, y = proj.xy(st.point)
        h = 0.9 * dot
        draw.polygon(
            [(x, y - 1.2 * h), (x - h, y + 0.8 * h), (x + h, y + 0.8 * h)], fill=_INK, outline=_WHITE
        )
        names.dot(x, y, h)
    order = {"rejected": 0, "unconfirmed": 1, "confirmed": 2}  # the ones that matter are drawn on top
    for p in sorted(points, key=lambda p: order.get(p.status, 0)):
        x, y = proj.xy(p.point)
        colour = STATUS_COLOURS.get(p.status, STATUS_COLOURS["rejected"])
        r = dot * (0.8 if stations and any(s.point == p.point for s in stations) else 1.0)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour, outline=_WHITE, width=max(2, dot // 4))
        names.dot(x, y, r)
    # Names, the most important first: each takes the best place the earlier ones left.
    for label, where, colour in places:
        names.at(label, where, font(bold, bold=True), colour, kind="move")
    for a in labels:
        x, y = proj.xy(a.point)
        near = [_around((x - k * dot, y - k * dot, x + k * dot, y + k * dot), 4) for k in (1, 3, 5)]
        names.at(a.name, [((x, y), "mm"), *(p for ring in near for p in ring)], font(text, bold=True), _AREA,
                 kind="area", halo=_BACKGROUND)  # fmt: skip
    _name_stations(names, proj, stations, font(text, condensed=True), dot)
    for name, outline in patches:
        names.at(
            name, _around(_bounds(outline), 3), font(text, bold=True), _AREA, kind="area", halo=_BACKGROUND
        )
    for name, ring in named:
        names.at(name, _around(_bounds(ring), 4), font(text, bold=True, condensed=True), PROTECTED,
                 kind="protected", halo=_BACKGROUND)  # fmt: skip
    for name, x, y, r in towns:
        names.near(name, x, y, r, font(text - 1), (45, 45, 45), kind="town", halo=_BACKGROUND)
    for mark, at in ticks:
        names.at(mark, [(at, "ld")], font(phone_size(width)), _INK, kind="grid", halo=_BACKGROUND)
    names.draw_all()
    if title:
        draw.rectangle((0, 0, width, title_h), fill=_WHITE)
        f = font(phone_size(width, 11), bold=True)
        while draw.textlength(title, font=f) > width - 16 and len(title) > 2:
            title = title[:-2] + "…"
        draw.text((width / 2, title_h / 2), title, fill=_INK, font=f, anchor="mm")
    km, px = scale_bar(proj)
    legend = replace(legend, scale=(_scale_text(lang, km), px))
    legend_box = draw_legend(image, legend, height - legend.height)
    sizes = [int(getattr(f, "size", 0)) for f in (*(lb.font for lb in names.placed), legend.font)]
    return MapDrawing(image, proj, frame, legend_box, tuple(names.placed), tuple(names.skipped), min(sizes))


def _scale_text(lang: str, km: float) -> str:
    return t(lang, "map.scale", km=f"{km:g}")  # "км" in ru and kk: the unit is a word of the language


def render_map(*args: Any, **kwargs: Any) -> bytes:
    """draw_map's picture as PNG bytes (the same arguments)."""
    out = io.BytesIO()
    draw_map(*args, **kwargs).image.save(out, format="PNG", optimize=True)
    return out.getvalue()
