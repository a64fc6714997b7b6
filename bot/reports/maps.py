"""Offline maps and contact sheets drawn with Pillow: no tile server, nothing leaves the machine.

The projection is equirectangular with longitudes shrunk by cos(mid-latitude), which is close enough
to conformal over a region the size of Mangystau (~5° of latitude) for shapes and distances to read
right, and simple enough to need no GIS library. The basemap, protected areas and movement arrows are
drawn by bot/reports/map_layers.py. Sizes are for a phone: Telegram shows a 1000 px map about 400 px wide.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from bot.geo import DEFAULT_MAX_KM_PER_DAY, Point, distance_km, round_point
from bot.media import UnreadableImage, blank_imprint, open_image
from bot.reports.map_layers import ONE_ANIMAL, TWO_ANIMALS, Canvas, MapMove, Shape, move_between, points_of
from bot.text import t

# Mangystau region with a margin: what the map shows when there is nothing to show.
FALLBACK_BBOX = (41.0, 50.0, 46.0, 57.0)  # south, west, north, east
STATUS_COLOURS = {
    "confirmed": (214, 39, 40),
    "unconfirmed": (245, 140, 20),
    "rejected": (150, 150, 150),
}
_BACKGROUND, _GRID, _INK, _AREA = (246, 243, 235), (215, 210, 198), (40, 40, 40), (60, 110, 160)
_FONTS = ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "LiberationSans-Regular.ttf")
_BOLD = (
    "DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "LiberationSans-Bold.ttf",
)
# Enough of the region around the week's points to show the coast and a town to read them against.
CONTEXT_DEGREES = 1.0

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


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


@lru_cache(maxsize=16)
def font(size: int, bold: bool = False) -> Font:
    # DejaVu has Cyrillic and Kazakh letters; Pillow's built-in font is only a last resort.
    for name in (*_BOLD, *_FONTS) if bold else _FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


@dataclass(frozen=True)
class Projection:
    south: float
    west: float
    north: float
    east: float
    width: int
    height: int
    margin: int

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
        cx, cy = self.width / 2, self.height / 2
        x = cx + (p.lon - (self.west + self.east) / 2) * math.cos(math.radians(self.mid_lat)) * self.k
        y = cy - (p.lat - self.mid_lat) * self.k
        return x, y

    def to_point(self, x: float, y: float) -> Point:
        lat = self.mid_lat - (y - self.height / 2) / self.k
        lon = (self.west + self.east) / 2 + (x - self.width / 2) / (
            math.cos(math.radians(self.mid_lat)) * self.k
        )
        return Point(max(-90.0, min(90.0, lat)), max(-180.0, min(180.0, lon)))

    def km_per_px(self) -> float:
        """Measured on the WGS84 ellipsoid along the middle parallel, where the scale bar is true."""
        a, b = (
            self.to_point(self.margin, self.height / 2),
            self.to_point(self.width - self.margin, self.height / 2),
        )
        return distance_km(Point(self.mid_lat, a.lon), Point(self.mid_lat, b.lon)) / (
            self.width - 2 * self.margin
        )


def projection(
    points: Sequence[Point], size: tuple[int, int], margin: int = 60, min_span: float = 0.0
) -> Projection:
    if points:
        south, north = min(p.lat for p in points), max(p.lat for p in points)
        west, east = min(p.lon for p in points), max(p.lon for p in points)
        pad_lat = max(0.15, (north - south) * 0.12, (min_span - (north - south)) / 2)
        pad_lon = max(0.15, (east - west) * 0.12, (min_span - (east - west)) / 2)
        south, north, west, east = south - pad_lat, north + pad_lat, west - pad_lon, east + pad_lon
    else:
        south, west, north, east = FALLBACK_BBOX
    return Projection(south, west, north, east, size[0], size[1], margin)


def scale_bar(proj: Projection) -> tuple[float, float]:
    """A round length (1, 2 or 5 × 10^n km) about a fifth of the map wide, and its length in pixels."""
    km_px = proj.km_per_px()
    target = km_px * proj.width / 5
    step = 10 ** math.floor(math.log10(target))
    km = max((m * step for m in (1, 2, 5) if m * step <= target), default=step)
    return km, km / km_px


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


def _graticule(draw: ImageDraw.ImageDraw, proj: Projection) -> None:
    span = max(proj.north - proj.south, proj.east - proj.west)
    step = 1.0 if span >= 2 else 0.25  # a zoomed-in map still gets lines to read positions from
    small = font(14)
    w, h = proj.width, proj.height
    lon = math.ceil(proj.to_point(0, 0).lon / step) * step
    while (x := proj.xy(Point(proj.mid_lat, lon))[0]) < w:
        draw.line([(x, 0), (x, h)], fill=_GRID, width=1)
        draw.text((x + 3, h - 18), f"{lon:g}°E", fill=_INK, font=small)
        lon += step
    lat = math.ceil(proj.to_point(0, h).lat / step) * step
    while (y := proj.xy(Point(lat, proj.west))[1]) > 0:
        draw.line([(0, y), (w, y)], fill=_GRID, width=1)
        draw.text((4, y - 15), f"{lat:g}°N", fill=_INK, font=small)
        lat += step


def _areas(
    draw: ImageDraw.ImageDraw, proj: Projection, stations: Sequence[MapStation], names: Mapping[str, str]
) -> None:
    by_area: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for st in stations:
        if st.area:
            by_area[st.area].append(proj.xy(st.point))
    for area, xy in sorted(by_area.items()):
        hull = convex_hull(xy)
        if len(hull) >= 3:
            draw.polygon(hull, outline=_AREA, width=2)
        elif len(hull) == 2:
            draw.line(hull, fill=_AREA, width=2)
        else:
            x, y = hull[0]
            draw.ellipse((x - 14, y - 14, x + 14, y + 14), outline=_AREA, width=2)
        cx = sum(p[0] for p in hull) / len(hull)
        top = min(p[1] for p in hull)
        draw.text((cx, top - 20), names.get(area, area), fill=_AREA, font=font(15), anchor="ms")


Swatch = tuple[str, tuple[int, int, int] | None]  # "dot", "station", "line", "outline" and a colour


def _legend(
    draw: ImageDraw.ImageDraw,
    proj: Projection,
    rows: Sequence[tuple[Swatch, str]],
    note: str,
    avoid: Sequence[tuple[float, float]],
) -> str:
    """The legend in the corner that hides the fewest of the week's points (bottom left when none does);
    returns that corner ("bl", "br", "tl", "tr")."""
    f, small, step = font(19), font(16), 29
    box_w = 50 + max(int(draw.textlength(label, font=f)) for _, label in rows)
    box_w = max(box_w, int(draw.textlength(note, font=small)) + 20) if note else box_w
    box_h = 16 + step * len(rows) + (26 if note else 0)
    top_y, bottom_y = 48, proj.height - 30 - box_h

    def box(corner: str) -> tuple[float, float, float, float]:
        x = 12 if corner[1] == "l" else proj.width - 12 - box_w
        y = bottom_y if corner[0] == "b" else top_y
        return x, y, x + box_w, y + box_h

    def hidden(corner: str) -> int:
        x0, y0, x1, y1 = box(corner)
        return sum(1 for x, y in avoid if x0 - 12 <= x <= x1 + 12 and y0 - 12 <= y <= y1 + 12)

    corner = min(("bl", "br", "tl", "tr"), key=lambda c: (hidden(c), ("bl", "br", "tl", "tr").index(c)))
    x0, y0, x1, y1 = box(corner)
    draw.rectangle((x0, y0, x1, y1), fill=(255, 255, 255), outline=_GRID)
    for i, ((kind, colour), label) in enumerate(rows):
        y = y0 + 10 + step * i
        if kind == "dot" and colour:
            draw.ellipse((x0 + 10, y + 2, x0 + 28, y + 20), fill=colour, outline=_INK)
        elif kind == "line" and colour:
            draw.line([(x0 + 6, y + 11), (x0 + 30, y + 11)], fill=colour, width=6)
            draw.polygon([(x0 + 38, y + 11), (x0 + 26, y + 3), (x0 + 26, y + 19)], fill=colour)
        elif kind == "outline" and colour:
            draw.rectangle((x0 + 9, y + 3, x0 + 31, y + 19), outline=colour, width=3)
        else:
            draw.polygon([(x0 + 19, y + 1), (x0 + 11, y + 19), (x0 + 27, y + 19)], fill=_INK)
        draw.text((x0 + 44, y), label, fill=_INK, font=f)
    if note:
        draw.text((x0 + 10, y0 + 12 + step * len(rows)), note, fill=_INK, font=small)
    return corner


def render_map(
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
) -> bytes:
    """PNG of the basemap, protected areas, stations, area outlines (convex hulls of their stations),
    sightings by status and the moves between leopard events.

    With grid_km (untrusted groups) sightings and move ends are snapped to that grid first, and each
    move's km and days are worked out from the grid cells (bot.geo.points.rounded_movement), so the picture
    holds no more precision than the group may see; the arrow's colour is the verdict made on the exact
    points (MapMove.plausible), the one every group reads; stations are not drawn at all: a station is
    an exact point, its code and its hull corners lead back to it; `labels` (see area_labels) name the
    areas instead, at grid nodes.
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
    proj = projection(shown, size, min_span=CONTEXT_DEGREES if basemap else 0.0)
    image = Image.new("RGB", size, _BACKGROUND)
    draw = ImageDraw.Draw(image)
    canvas = Canvas(draw, proj)
    if basemap:
        canvas.basemap(lang, font(19))
    _graticule(draw, proj)
    canvas.protected(protected, font(18, bold=True))
    _areas(draw, proj, stations, areas or {})
    for st in stations:
        x, y = proj.xy(st.point)
        draw.polygon([(x, y - 8), (x - 7, y + 6), (x + 7, y + 6)], fill=_INK)
        draw.text((x + 9, y - 2), st.code, fill=_INK, font=font(15), anchor="lm", stroke_width=2,
                  stroke_fill=(255, 255, 255))  # fmt: skip
    for a in labels:  # a halo keeps the name readable over grid lines and dots
        draw.text(proj.xy(a.point), a.name, fill=_AREA, font=font(19, bold=True), anchor="mm", stroke_width=3,
                  stroke_fill=_BACKGROUND)  # fmt: skip
    for start, end, mv in arrows:
        label = t(lang, "map.move", km=f"{mv.distance_km:.0f}", days=f"{mv.hours / 24:.1f}")
        canvas.arrow(start, end, ONE_ANIMAL if mv.plausible else TWO_ANIMALS, label, font(22, bold=True))
    order = {"rejected": 0, "unconfirmed": 1, "confirmed": 2}  # the ones that matter are drawn on top
    for p in sorted(points, key=lambda p: order.get(p.status, 0)):
        x, y = proj.xy(p.point)
        colour = STATUS_COLOURS.get(p.status, STATUS_COLOURS["rejected"])
        draw.ellipse((x - 8, y - 8, x + 8, y + 8), fill=colour, outline=(255, 255, 255), width=2)
    counts: dict[str, int] = defaultdict(int)
    for p in points:
        counts[p.status] += 1
    rows: list[tuple[Swatch, str]] = [
        (("dot", STATUS_COLOURS[k]), t(lang, f"map.{k}", count=counts.get(k, 0))) for k in STATUS_COLOURS
    ]
    if stations:
        rows.append((("station", None), t(lang, "map.station")))
    verdicts = {mv.plausible for _, _, mv in arrows}
    if True in verdicts:
        rows.append((("line", ONE_ANIMAL), t(lang, "map.move_one")))
    if False in verdicts:
        rows.append((("line", TWO_ANIMALS), t(lang, "map.move_two", limit=f"{max_km_per_day:g}")))
    if protected:
        rows.append((("outline", (34, 139, 34)), t(lang, "map.protected")))
    note = t(lang, "map.rounded", grid=f"{grid_km:g}") if grid_km else ""
    avoid = [proj.xy(p) for p in shown]
    corner = _legend(draw, proj, rows, note, avoid)
    _scale(draw, proj, left=corner == "br")
    if title:
        draw.rectangle((0, 0, proj.width, 40), fill=(255, 255, 255))
        draw.text((proj.width / 2, 8), title, fill=_INK, font=font(23, bold=True), anchor="ma")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _scale(draw: ImageDraw.ImageDraw, proj: Projection, left: bool = False) -> None:
    km, px = scale_bar(proj)
    x1, y1 = (px + 30 if left else proj.width - 20), proj.height - 24
    draw.rectangle((x1 - px - 10, y1 - 28, x1 + 10, y1 + 10), fill=(255, 255, 255))
    draw.line([(x1 - px, y1), (x1, y1)], fill=_INK, width=3)
    for x in (x1 - px, x1):
        draw.line([(x, y1 - 6), (x, y1 + 4)], fill=_INK, width=2)
    draw.text((x1 - px / 2, y1 - 8), f"{km:g} km", fill=_INK, font=font(18), anchor="ms")


def contact_sheet(
    images: list[bytes], captions: list[str], thumb: int = 240, columns: int = 4, *, blank: bool = False
) -> bytes | None:
    """A JPEG grid of thumbnails with a caption under each; None when there is nothing to show. With
    `blank`, each photo's burned-in camera strip is blanked first (bot.media.imprint)."""
    if not images:
        return None
    columns = max(1, min(columns, len(images)))
    rows = math.ceil(len(images) / columns)
    cap_h, pad = 22, 6
    cell_w, cell_h = thumb + pad, thumb + cap_h + pad
    sheet = Image.new("RGB", (columns * cell_w + pad, rows * cell_h + pad), (30, 30, 30))
    draw = ImageDraw.Draw(sheet)
    f = font(13)
    for i, data in enumerate(images):
        x0, y0 = pad + (i % columns) * cell_w, pad + (i // columns) * cell_h
        try:
            img, _ = open_image(data, max_side=thumb * 2)
            img = blank_imprint(img) if blank else img.convert("RGB")
            img.thumbnail((thumb, thumb))
            sheet.paste(img, (x0 + (thumb - img.width) // 2, y0 + thumb - img.height))  # on its caption
        except UnreadableImage:
            draw.rectangle((x0, y0, x0 + thumb, y0 + thumb), fill=(90, 90, 90))
        caption = captions[i] if i < len(captions) else ""
        while caption and draw.textlength(caption, font=f) > thumb:
            caption = caption[:-2] + "…" if len(caption) > 1 else ""
        draw.text((x0 + thumb / 2, y0 + thumb + 4), caption, fill=(235, 235, 235), font=f, anchor="ma")
    out = io.BytesIO()
    sheet.save(out, format="JPEG", quality=85)
    return out.getvalue()
