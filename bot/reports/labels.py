"""Map labels placed without collisions: each label tries the eight places around its dot, takes the
first where it overlaps no other label, no dot and no blocked box, and stands nearer its own dot than
any other; a label with no such place is left out rather than drawn over something else.

Labels are placed in the order they are asked for (the most important first) and drawn together at
the end, over everything, each with a halo in the ground colour so it reads over lines and fills.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import ImageDraw

from bot.reports.fonts import Font

Box = tuple[float, float, float, float]
Colour = tuple[int, int, int]
XY = tuple[float, float]
# Around a dot, in the order cartographers prefer: right, upper right, lower right, left, upper left,
# lower left, above, below.
AROUND = ((1, 0), (1, -1), (1, 1), (-1, 0), (-1, -1), (-1, 1), (0, -1), (0, 1))
_H = {1: "l", 0: "m", -1: "r"}
_V = {-1: "d", 0: "m", 1: "a"}
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float


@dataclass(frozen=True)
class Label:
    text: str
    xy: XY
    anchor: str
    box: Box
    font: Font
    colour: Colour
    halo: Colour
    kind: str  # station, town, area, move, protected, grid: what tests and the legend ask about


def overlap(a: Box, b: Box, pad: float = 0.0) -> bool:
    return not (a[2] + pad <= b[0] or b[2] + pad <= a[0] or a[3] + pad <= b[1] or b[3] + pad <= a[1])


def distance(box: Box, x: float, y: float) -> float:
    dx = max(box[0] - x, 0.0, x - box[2])
    dy = max(box[1] - y, 0.0, y - box[3])
    return math.hypot(dx, dy)


class Labels:
    def __init__(self, draw: ImageDraw.ImageDraw, frame: Box, halo_px: int = 3) -> None:
        self.draw, self.frame, self.halo_px = draw, frame, halo_px
        self.dots: list[Dot] = []
        self.blocked: list[Box] = []
        self.placed: list[Label] = []
        self.skipped: list[str] = []

    def dot(self, x: float, y: float, r: float) -> None:
        """Something drawn at a point that no label may cover or sit nearer to than to its own dot."""
        self.dots.append(Dot(x, y, r))

    def block(self, box: Box) -> None:
        self.blocked.append(box)

    def _fits(self, box: Box, own: Dot | None, mates: Sequence[Dot] = ()) -> bool:
        fx0, fy0, fx1, fy1 = self.frame
        if box[0] < fx0 or box[1] < fy0 or box[2] > fx1 or box[3] > fy1:
            return False
        if any(overlap(box, p.box, 2) for p in self.placed) or any(overlap(box, b) for b in self.blocked):
            return False
        ours = [own, *mates] if own else []
        mine = min((distance(box, d.x, d.y) for d in ours), default=0.0)
        for d in self.dots:
            if any(math.hypot(d.x - o.x, d.y - o.y) < 3 for o in ours):  # ours (or a sighting at our station)
                continue
            gap = distance(box, d.x, d.y)
            if gap <= d.r + 1 or (own and gap <= mine + d.r):
                return False
        return True

    def _box(self, xy: XY, text: str, font: Font, anchor: str) -> Box:
        x0, y0, x1, y1 = self.draw.textbbox(xy, text, font=font, anchor=anchor, stroke_width=self.halo_px)
        return float(x0), float(y0), float(x1), float(y1)

    def near(
        self, text: str, x: float, y: float, r: float, font: Font, colour: Colour, *,
        kind: str, halo: Colour = WHITE,
    ) -> Label | None:  # fmt: skip
        """The label of the dot at (x, y) of radius r, at the first of the eight places that fits."""
        own, gap = Dot(x, y, r), r + 3
        for dx, dy in AROUND:
            k = 0.75 if dx and dy else 1.0  # diagonals a little closer: the corner, not the side, is near
            xy = (x + dx * gap * k, y + dy * gap * k)
            anchor = _H[dx] + _V[dy]
            box = self._box(xy, text, font, anchor)
            if self._fits(box, own):
                return self._keep(Label(text, xy, anchor, box, font, colour, halo, kind))
        self.skipped.append(text)
        return None

    def merged(
        self, text: str, dots: Sequence[Dot], font: Font, colour: Colour, *, kind: str, halo: Colour = WHITE
    ) -> Label | None:
        """One label for dots too close together to name one by one ("UST-01, UST-02"), around them
        all, and nearer one of them than any other dot."""
        x0, y0 = min(d.x - d.r for d in dots), min(d.y - d.r for d in dots)
        x1, y1 = max(d.x + d.r for d in dots), max(d.y + d.r for d in dots)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        for dx, dy in AROUND:
            xy = (
                cx if dx == 0 else (x1 + 3 if dx > 0 else x0 - 3),
                cy if dy == 0 else (y1 + 3 if dy > 0 else y0 - 3),
            )
            anchor = _H[dx] + _V[dy]
            box = self._box(xy, text, font, anchor)
            if self._fits(box, dots[0], dots[1:]):
                return self._keep(Label(text, xy, anchor, box, font, colour, halo, kind))
        return None

    def at(
        self, text: str, places: Sequence[tuple[XY, str]], font: Font, colour: Colour, *,
        kind: str, halo: Colour = WHITE, force: bool = False,
    ) -> Label | None:  # fmt: skip
        """The first of `places` ((x, y), anchor) where the label fits; with `force`, the first place
        anyway (a move's km and days matter more than a town's name under them)."""
        for xy, anchor in places:
            box = self._box(xy, text, font, anchor)
            if self._fits(box, None):
                return self._keep(Label(text, xy, anchor, box, font, colour, halo, kind))
        if force and places:
            xy, anchor = places[0]
            return self._keep(
                Label(text, xy, anchor, self._box(xy, text, font, anchor), font, colour, halo, kind)
            )
        self.skipped.append(text)
        return None

    def _keep(self, label: Label) -> Label:
        self.placed.append(label)
        return label

    def draw_all(self) -> None:
        for lb in self.placed:
            self.draw.text(lb.xy, lb.text, fill=lb.colour, font=lb.font, anchor=lb.anchor,
                           stroke_width=self.halo_px, stroke_fill=lb.halo)  # fmt: skip
