"""The map's legend as a band under the map: never over the data, and sized to read on a phone.

Entries run side by side and wrap like words (a narrow map gets one per line), the scale bar is
the last entry, and the note (e.g. "positions rounded to ~10 km") has the bottom line to itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.reports.fonts import Font, font, phone_size

Colour = tuple[int, int, int]
Swatch = tuple[str, Colour | None]  # "dot", "station", "line", "outline", "area" and a colour
INK, RULE, PAPER = (40, 40, 40), (200, 195, 185), (255, 255, 255)


@dataclass(frozen=True)
class Legend:
    rows: tuple[tuple[Swatch, str], ...]
    note: str
    scale: tuple[str, float]  # the bar's text ("20 km") and its length in px
    places: tuple[tuple[float, int], ...]  # each entry's x and line, the scale bar last
    line_h: int
    height: int
    font: Font


def layout(
    draw: ImageDraw.ImageDraw,
    width: int,
    rows: Sequence[tuple[Swatch, str]],
    note: str,
    scale: tuple[str, float],
) -> Legend:
    """Entries side by side, a new line when the next one would not fit: short entries share a line."""
    size = phone_size(width, 9.5)
    f = font(size)
    widths = [2.2 * size + draw.textlength(label, font=f) for _, label in rows]
    widths.append(scale[1] + 0.6 * size + draw.textlength(scale[0], font=f))
    pad, gap = round(0.5 * size), round(1.3 * size)
    places: list[tuple[float, int]] = []
    x, line = float(pad), 0
    for w in widths:
        if x > pad and x + w > width - pad:
            x, line = float(pad), line + 1
        places.append((x, line))
        x += w + gap
    line_h = round(1.45 * size)
    lines = line + 1 + (1 if note else 0)
    return Legend(tuple(rows), note, scale, tuple(places), line_h, 2 * pad + lines * line_h, f)


def draw_legend(image: Image.Image, legend: Legend, top: int) -> tuple[int, int, int, int]:
    """Draws the band from `top` to the picture's bottom; returns its box."""
    draw = ImageDraw.Draw(image)
    w = image.width
    box = (0, top, w, top + legend.height)
    draw.rectangle(box, fill=PAPER)
    draw.line([(0, top), (w, top)], fill=RULE, width=2)
    f, lh = legend.font, legend.line_h
    size = int(getattr(f, "size", 12))
    pad = round(0.5 * size)
    entries: list[tuple[Swatch, str] | None] = [*legend.rows, None]  # None: the scale bar
    for entry, (x, line) in zip(entries, legend.places, strict=True):
        cy = top + pad + line * lh + lh / 2
        if entry is None:
            text, px = legend.scale
            y1 = cy + 0.2 * size
            draw.line([(x, y1), (x + px, y1)], fill=INK, width=max(2, size // 8))
            for bx in (x, x + px):
                draw.line(
                    [(bx, y1 - 0.35 * size), (bx, y1 + 0.15 * size)], fill=INK, width=max(2, size // 10)
                )
            draw.text((x + px + 0.6 * size, cy), text, fill=INK, font=f, anchor="lm")
            continue
        (kind, colour), label = entry
        _swatch(draw, kind, colour, x, cy, size)
        draw.text((x + 2.2 * size, cy), label, fill=INK, font=f, anchor="lm")
    if legend.note:
        line = legend.places[-1][1] + 1
        draw.text((pad, top + pad + line * lh + lh / 2), legend.note, fill=INK, font=f, anchor="lm")
    return box


def _swatch(draw: ImageDraw.ImageDraw, kind: str, colour: Colour | None, x: float, cy: float, s: int) -> None:
    r = 0.38 * s
    mx = x + 0.8 * s
    if kind == "dot" and colour:
        draw.ellipse((mx - r, cy - r, mx + r, cy + r), fill=colour, outline=INK)
    elif kind == "line" and colour:
        draw.line([(x, cy), (x + 1.1 * s, cy)], fill=colour, width=max(3, s // 4))
        draw.polygon(
            [(x + 1.7 * s, cy), (x + 1.0 * s, cy - 0.4 * s), (x + 1.0 * s, cy + 0.4 * s)], fill=colour
        )
    elif kind == "outline" and colour:
        draw.rectangle(
            (x + 0.1 * s, cy - 0.4 * s, x + 1.5 * s, cy + 0.4 * s), outline=colour, width=max(2, s // 8)
        )
    elif kind == "area" and colour:
        fill = tuple((c + 2 * p) // 3 for c, p in zip(colour, PAPER, strict=True))
        draw.rounded_rectangle((x + 0.1 * s, cy - 0.45 * s, x + 1.5 * s, cy + 0.45 * s), radius=0.4 * s,
                               fill=fill, outline=colour, width=max(2, s // 10))  # fmt: skip
    else:
        h = 0.45 * s
        draw.polygon([(mx, cy - h), (mx - h, cy + h * 0.8), (mx + h, cy + h * 0.8)], fill=INK)
