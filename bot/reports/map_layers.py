"""What the weekly map is drawn on, and the moves drawn over it: an offline basemap of Mangystau, the
protected areas an admin loads from a GeoJSON file (LW_PROTECTED_AREAS), and arrows between leopard
events labelled "km / days", coloured by whether one animal could have made the move.

The basemap (bot/reports/basemap/mangystau.geojson, built by tools/build_basemap.py) is Natural Earth 1:10m
(public domain: land, lakes, country and region borders; the Caspian is the sea around the land),
simplified to ~500 m, and towns from GeoNames (CC BY 4.0). Nothing is fetched at run time.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from bot.geo import Movement, Point, movement, round_point, rounded_movement
from bot.reports.labels import XY, Labels

BASEMAP = Path(__file__).parent / "basemap" / "mangystau.geojson"
SEA, LAND, COAST = (168, 204, 232), (243, 239, 226), (96, 140, 180)
BORDER, REGION, TOWN = (110, 90, 110), (165, 150, 165), (45, 45, 45)
PROTECTED = (34, 139, 34)
ONE_ANIMAL, TWO_ANIMALS = (30, 150, 60), (200, 20, 140)  # green / magenta: distinct from the red dots

Ring = list[tuple[float, float]]  # (lon, lat)
Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Shape:
    layer: str  # land, lake, border, region, protected
    parts: tuple[tuple[Ring, ...], ...]  # polygons (outer ring, holes...) or lines (one ring each)
    name: str = ""


@dataclass(frozen=True)
class Town:
    names: dict[str, str]  # language -> name
    point: Point
    population: int


@dataclass(frozen=True)
class MapMove:
    """Two leopard events in time order; the map works out the km and days itself, so an untrusted
    group's arrow cannot carry more than its grid cells. `plausible` is the verdict made on the exact
    points by whoever had them (one verdict per move): the arrow's colour, when the ends are cells."""

    a: Point
    t_a: datetime
    b: Point
    t_b: datetime
    plausible: bool | None = None


def _parts(geometry: dict[str, Any]) -> tuple[tuple[Ring, ...], ...]:
    kind, coords = geometry["type"], geometry["coordinates"]

    def ring(c: list[list[float]]) -> Ring:
        return [(float(x), float(y)) for x, y, *_ in c]

    if kind == "Polygon":
        return (tuple(ring(r) for r in coords),)
    if kind == "MultiPolygon":
        return tuple(tuple(ring(r) for r in poly) for poly in coords)
    if kind == "LineString":
        return ((ring(coords),),)
    if kind == "MultiLineString":
        return tuple((ring(line),) for line in coords)
    if kind == "GeometryCollection":
        return tuple(p for g in geometry["geometries"] for p in _parts(g))
    return ()


@cache
def basemap() -> tuple[tuple[Shape, ...], tuple[Town, ...]]:
    doc = json.loads(BASEMAP.read_text(encoding="utf-8"))
    shapes, towns = [], []
    for f in doc["features"]:
        props = f["properties"]
        if props["layer"] == "town":
            lon, lat = f["geometry"]["coordinates"]
            names = {"en": props["name"], "ru": props["name_ru"], "kk": props["name_kk"]}
            towns.append(Town(names, Point(lat, lon), int(props["population"])))
        else:
            shapes.append(Shape(props["layer"], _parts(f["geometry"])))
    return tuple(shapes), tuple(towns)


class ProtectedAreasError(ValueError):
    pass


def load_protected_areas(path: Path) -> list[Shape]:
    """Polygons with a "name" property from a GeoJSON FeatureCollection (WGS84, as RFC 7946 and QGIS's
    GeoJSON export write it). Public outlines: drawn for untrusted groups too."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProtectedAreasError(f"{path}: {exc}") from exc
    out = []
    for i, f in enumerate(doc.get("features", []) if isinstance(doc, dict) else []):
        geometry = f.get("geometry") or {}
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise ProtectedAreasError(f"{path}: feature {i} is not a Polygon or MultiPolygon")
        name = str((f.get("properties") or {}).get("name") or "")
        out.append(Shape("protected", _parts(geometry), name))
    return out


def move_between(m: MapMove, grid_km: float | None, max_km_per_day: float) -> tuple[Point, Point, Movement]:
    if grid_km:
        a, b = round_point(m.a, grid_km), round_point(m.b, grid_km)
        mv = rounded_movement(m.a, m.t_a, m.b, m.t_b, grid_km, max_km_per_day)
    else:
        a, b, mv = m.a, m.b, movement(m.a, m.t_a, m.b, m.t_b, max_km_per_day)
    return a, b, mv if m.plausible is None else replace(mv, plausible=m.plausible)


def convex_hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain; collinear points are dropped."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for chain, seq in ((lower, pts), (upper, reversed(pts))):
        for p in seq:
            while len(chain) >= 2 and cross(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
    return lower[:-1] + upper[:-1]


def area_outline(xy: Sequence[tuple[float, float]], margin: float) -> list[tuple[float, float]]:
    """The hull of circles of `margin` px around an area's stations: a patch with room around its
    cameras, so two stations read as a place and never as a line from one to the other."""
    steps = 32
    ring = [
        (x + margin * math.cos(2 * math.pi * i / steps), y + margin * math.sin(2 * math.pi * i / steps))
        for x, y in xy
        for i in range(steps)
    ]
    return convex_hull(ring)


class Canvas:
    """Draws lon/lat geometry through a projection (bot.reports.maps.Projection) on a Pillow image; the
    names go to a Labels (bot/reports/labels.py), which places them after everything else is drawn."""

    def __init__(self, image: Image.Image, proj: Any, labels: Labels) -> None:
        self.image, self.draw, self.proj, self.labels = image, ImageDraw.Draw(image), proj, labels

    def xy(self, ring: Ring) -> list[tuple[float, float]]:
        return [self.proj.xy(Point(max(-90.0, min(90.0, y)), max(-180.0, min(180.0, x)))) for x, y in ring]

    def basemap(self, lang: str, dot: float) -> list[tuple[str, float, float, float]]:
        """Sea, land, lakes and borders; the towns' squares. Returns the towns to name (name, x, y, r),
        biggest first: they are named last, where the week's own labels left room."""
        shapes, towns = basemap()
        d = self.draw
        d.rectangle((0, 0, self.image.width, self.image.height), fill=SEA)  # the Caspian, and beyond the data
        for s in (s for s in shapes if s.layer == "land"):
            for poly in s.parts:
                d.polygon(self.xy(poly[0]), fill=LAND, outline=COAST)
                for hole in poly[1:]:
                    d.polygon(self.xy(hole), fill=SEA, outline=COAST)
        for s in (s for s in shapes if s.layer == "lake"):
            for poly in s.parts:
                d.polygon(self.xy(poly[0]), fill=SEA, outline=COAST)
        for layer, colour, width in (("region", REGION, 2), ("border", BORDER, 3)):
            for s in (s for s in shapes if s.layer == layer):
                for (line,) in s.parts:
                    self.dashed(self.xy(line), colour, width, dash=10 if layer == "border" else 5)
        out = []
        x0, y0, x1, y1 = self.labels.frame
        for town in sorted(towns, key=lambda t: -t.population):
            x, y = self.proj.xy(town.point)
            if not (x0 <= x <= x1 and y0 <= y <= y1):
                continue
            r = dot * (0.7 if town.population >= 50_000 else 0.55)
            d.rectangle((x - r, y - r, x + r, y + r), fill=TOWN, outline=(255, 255, 255))
            self.labels.dot(x, y, r)
            out.append((town.names.get(lang) or town.names["en"], x, y, r))
        return out

    def dashed(
        self, pts: list[tuple[float, float]], colour: tuple[int, int, int], width: int, dash: int
    ) -> None:
        on, left = True, float(dash)
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            length = math.hypot(x1 - x0, y1 - y0)
            pos = 0.0
            while pos < length:
                step = min(left, length - pos)
                if on:
                    f0, f1 = pos / length, (pos + step) / length
                    a = (x0 + (x1 - x0) * f0, y0 + (y1 - y0) * f0)
                    b = (x0 + (x1 - x0) * f1, y0 + (y1 - y0) * f1)
                    self.draw.line([a, b], fill=colour, width=width)
                pos += step
                left -= step
                if left <= 0:
                    on, left = not on, float(dash)

    def protected(self, areas: Sequence[Shape], width: int) -> list[tuple[str, list[tuple[float, float]]]]:
        """The outlines; returns each named area's outline in px, to be named where there is room."""
        out = []
        for area in areas:
            for poly in area.parts:
                pts = self.xy(poly[0])
                self.draw.line([*pts, pts[0]], fill=PROTECTED, width=width)
            if area.name and area.parts:
                out.append((area.name, self.xy(area.parts[0][0])))
        return out

    def patch(self, outline: list[tuple[float, float]], colour: Colour, width: int, alpha: int = 56) -> None:
        """A translucent filled polygon with a solid rim: what lies under it still shows."""
        if len(outline) < 3:
            return
        layer = Image.new("RGBA", self.image.size, (0, 0, 0, 0))
        ImageDraw.Draw(layer).polygon(outline, fill=(*colour, alpha))
        self.image.paste(layer, (0, 0), layer)
        self.draw.line([*outline, outline[0]], fill=colour, width=width, joint="curve")

    def arrow(self, a: Point, b: Point, colour: Colour, width: int, dot: float) -> list[tuple[XY, str]]:
        """An arrow from a to b, set off to its right; returns the places for its label, on that side
        first: a move there and back shows as two arrows and two labels rather than one line."""
        (x0, y0), (x1, y1) = self.proj.xy(a), self.proj.xy(b)
        length = math.hypot(x1 - x0, y1 - y0)
        gap = 2.5 * dot
        if length < 1:  # the same place (or grid cell): a ring, not an arrow
            r = 2.2 * dot
            self.draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), outline=colour, width=width)
            self.labels.block(_square(x0, y0, r + width / 2))
            return [((x0 + r + 4, y0 - r), "ld"), ((x0 - r - 4, y0 - r), "rd"), ((x0 + r + 4, y0 + r), "la"),
                    ((x0 - r - 4, y0 + r), "ra")]  # fmt: skip
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        nx, ny = -uy, ux  # the arrow's right-hand side on screen (y grows downwards)
        off = 0.9 * dot
        x0, y0, x1, y1 = x0 + nx * off, y0 + ny * off, x1 + nx * off, y1 + ny * off
        stop = max(0.0, length - 1.3 * dot)  # the head ends at the dot's rim, not over it
        tip = (x0 + ux * stop, y0 + uy * stop)
        self.draw.line([(x0 + ux * dot, y0 + uy * dot), tip], fill=colour, width=width)
        head, spread = 3.2 * width, 0.5
        left = (tip[0] - ux * head - nx * head * spread, tip[1] - uy * head - ny * head * spread)
        right = (tip[0] - ux * head + nx * head * spread, tip[1] - uy * head + ny * head * spread)
        self.draw.polygon([tip, left, right], fill=colour)
        for i in range(1, int(stop // (2 * width))):  # the line itself is kept clear of labels
            along = i * 2 * width
            self.labels.block(_square(x0 + ux * along, y0 + uy * along, width / 2))
        self.labels.block(_square(*tip, head / 2))
        places = []
        for side in (1, -1):
            for at in (0.5, 0.38, 0.62, 0.28, 0.72):
                mx = x0 + (x1 - x0) * at + nx * gap * side
                my = y0 + (y1 - y0) * at + ny * gap * side
                h = "l" if nx * side >= 0 else "r"
                v = "m" if abs(ny) < 0.5 else ("a" if ny * side > 0 else "d")
                places.append(((mx, my), h + v))
        return places


def _square(x: float, y: float, r: float) -> tuple[float, float, float, float]:
    return x - r, y - r, x + r, y + r


def points_of(areas: Sequence[Shape]) -> Iterator[Point]:
    for area in areas:
        for poly in area.parts:
            for x, y in poly[0]:
                yield Point(y, x)
