"""The picture a coordinator decides from: the query's and a reference's crops side by side, the matched
points joined by lines.

Built on a fresh canvas and saved without EXIF or any other metadata (a crop must not carry the
camera's position or time into a chat, issue 25 point 6). Lines and points are drawn thick enough to
read when Telegram shows the picture 400 px wide.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

from bot.individuals.features import crop

HEIGHT = 360  # each crop's height on the canvas; two 400-px-wide crops make a picture about 800 px wide
GAP = 8
MAX_LINES = 60  # more lines hide the coat they point at
_COLOURS = ((255, 221, 0), (0, 230, 255), (255, 80, 200), (120, 255, 80))

Match = tuple[tuple[float, float], tuple[float, float]]


def side_by_side(
    query: Image.Image,
    query_box: tuple[int, int, int, int] | None,
    reference: Image.Image,
    reference_box: tuple[int, int, int, int] | None,
    matches: Sequence[Match],
) -> bytes:
    """JPEG bytes: query crop on the left, reference crop on the right, matches (normalised-crop pixels,
    as in Candidate.matches) joined by lines."""
    left, right = crop(query, query_box), crop(reference, reference_box)
    s_left, s_right = HEIGHT / left.height, HEIGHT / right.height
    left = left.resize((max(1, round(left.width * s_left)), HEIGHT), Image.Resampling.BICUBIC)
    right = right.resize((max(1, round(right.width * s_right)), HEIGHT), Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (left.width + GAP + right.width, HEIGHT), (255, 255, 255))
    canvas.paste(left, (0, 0))
    offset = left.width + GAP
    canvas.paste(right, (offset, 0))
    draw = ImageDraw.Draw(canvas)
    width = max(2, canvas.width // 300)  # about 1 px once the picture is shown 400 px wide
    radius = width + 2
    for n, ((qx, qy), (rx, ry)) in enumerate(list(matches)[:MAX_LINES]):
        a = (qx * s_left, qy * s_left)
        b = (offset + rx * s_right, ry * s_right)
        colour = _COLOURS[n % len(_COLOURS)]
        draw.line([a, b], fill=colour, width=width)
        for x, y in (a, b):
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=colour, width=width)
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: nothing but pixels
    return out.getvalue()
