"""Finding and blanking the info strip a camera trap burns into its photos (date, temperature, moon,
and on some models the camera's name or GPS).

A reader who may only see a grid cell must not read the camera's name or position off the picture.
The strip is found, not assumed: cameras put it at the top, the bottom or both, at heights from 3 to
10 % of the frame, in black, grey or white. A strip is a run of rows from an edge where most pixels
share one colour (its background; the text is sparse); it ends where two rows in a row do not. The
run is capped, and a dark night sky that passes for one only loses pixels that were dark anyway.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# A row is the strip's when this share of its pixels is within TOLERANCE of the strip's colour.
BACKGROUND_SHARE = 0.55
TOLERANCE = 40  # per channel, 0-255: JPEG noise and vignetting on a black band
MAX_SHARE = 0.12  # no strip is taller (seen: 2-10 % of the height)
MIN_ROWS = 4  # fewer rows than this are an edge, not a strip (at the working height below)
WORK_HEIGHT = 400  # rows are judged on a copy this tall: a strip is a band, not a detail
# One of the two rows after a strip shares its colour this little at most.
EDGE_ROWS, EDGE_SHARE = 2, 0.35
INK = 100  # a pixel this far from the strip's colour (any channel) is ink: text or a logo
INK_SHARE = (0.003, 0.45)  # a row of text: a little ink, never most of the row
TEXT_START = 0.03  # a strip's text starts this close to the edge
CLEAN_ROWS = 3  # and is followed by this many rows with no ink at all


def strips(image: Image.Image) -> list[tuple[int, int]]:
    """The (top, bottom) pixel rows of each strip found, in the image's own rows."""
    width, height = image.size
    scale = WORK_HEIGHT / height if height > WORK_HEIGHT else 1.0
    small = image.convert("RGB").resize((max(1, round(width * scale)), max(1, round(height * scale))))
    rows = np.asarray(small, dtype=np.int16)
    n = rows.shape[0]
    cap = int(n * MAX_SHARE)
    found = []
    for order in (range(n), range(n - 1, -1, -1)):
        run = _run(rows, list(order)[:cap])
        if run >= MIN_ROWS:
            first, last = (0, run) if order.start == 0 else (n - run, n)
            found.append((int(first / scale), min(height, int(np.ceil(last / scale)) + 1)))
    return found


def _run(rows: np.ndarray, order: list[int]) -> int:
    """How many rows, from the first of `order`, belong to one strip: 0 unless it ends at an edge."""
    if not order:
        return 0
    colour = np.median(rows[order[0]], axis=0)
    shares = [float(np.all(np.abs(rows[r] - colour) <= TOLERANCE, axis=1).mean()) for r in order]
    last, misses = 0, 0
    for i, share in enumerate(shares):
        if share >= BACKGROUND_SHARE:
            last, misses = i + 1, 0
        else:
            misses += 1
            if misses == 2:
                break
    # A strip is pasted on: the picture starts right after it. A dark sky or fog fades instead.
    after = shares[last : last + EDGE_ROWS]
    if last < len(order) and after and min(after) <= EDGE_SHARE:
        return last
    # No edge: the strip's colour runs on into the picture (a black strip over a night sky), or there
    # is no strip. Text tells: a cluster of rows near the edge with a few pixels far from the colour.
    return _text_rows(rows, order, colour) if last else 0


def _text_rows(rows: np.ndarray, order: list[int], colour: np.ndarray) -> int:
    ink = [float(np.any(np.abs(rows[r] - colour) > INK, axis=1).mean()) for r in order]
    marked = [i for i, share in enumerate(ink) if INK_SHARE[0] <= share <= INK_SHARE[1]]
    if not marked or marked[0] > TEXT_START * len(rows):
        return 0
    end = marked[0]
    for i in marked[1:]:
        if i - end > 2:  # the text line ended
            break
        end = i
    # Text, then the strip's plain colour again (a night sky): a texture would go on.
    clean = ink[end + 1 : end + 1 + CLEAN_ROWS]
    if len(clean) < CLEAN_ROWS or max(clean) >= INK_SHARE[0]:
        return 0
    return end + 2


def blank_imprint(image: Image.Image) -> Image.Image:
    """A copy with every strip found filled with its background colour (text and logos gone)."""
    out = image.convert("RGB")
    pixels = np.asarray(out).copy()
    for top, bottom in strips(out):
        band = pixels[top:bottom].reshape(-1, 3)
        pixels[top:bottom] = np.median(band, axis=0).astype(np.uint8)
    return Image.fromarray(pixels)
