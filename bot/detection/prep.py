"""The detector's input: windows over the frame and the batch of 260 px crops the network sees.

Kept apart from bot/detection/model.py so that tools/quantize.py builds its calibration crops with exactly
this code (the INT8 ranges must come from what the network really sees in the bot).

Cost matters here because INT8 made the network itself cheap: the frame is decoded once, at the
smallest size the windows need (JPEG DCT scaling), each window is cut and scaled in one Pillow call
straight into the batch array, and the mirrored copy is a numpy view written into the same array.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from bot.media import open_image

INPUT_SIZE = 260
# Windows are squares of the short side (plus the whole frame), so a decoded short side of
# INPUT_SIZE loses nothing the network could see; the decoder may give up to 2x more (DCT scales
# are powers of two), which the window resize then averages away.
DECODE_SIDE = INPUT_SIZE
# (x - 127) / 128 as one multiply: 1/128 is exact in binary, so this is bit-identical.
_SCALE = np.float32(1 / 128)

Window = tuple[int, int, int, int]


def windows(width: int, height: int) -> list[Window]:
    """The whole frame plus square windows sliding along the long side with ~1/3 overlap."""
    side = min(width, height)
    out = [(0, 0, width, height)]
    if max(width, height) < side * 1.2:  # (nearly) square: the whole frame is the only window
        return out
    n = math.ceil(max(width, height) / side * 1.5)
    for i in range(n):
        off = round(i * (max(width, height) - side) / (n - 1))
        out.append((off, 0, off + side, side) if width >= height else (0, off, side, off + side))
    return out


def decode(data: bytes, long_side: int = 0) -> tuple[Image.Image, tuple[int, int]]:
    """Decode untrusted bytes at the size the windows need, and at least `long_side` pixels on the long
    side (the animal detector's input); returns (RGB image, original upright size)."""
    image, full = open_image(data, max_side=_decode_side(data, long_side))
    return to_rgb(image), full


def _decode_side(data: bytes, long_side: int) -> int:
    """The short side to ask the decoder for (JPEG DCT scaling keeps both sides at least this)."""
    if not long_side:
        return DECODE_SIDE
    try:  # the header only; open_image does the checked decode
        w, h = Image.open(io.BytesIO(data)).size
    except Exception:  # any failure is reported by open_image, with its reason
        return DECODE_SIDE
    return max(DECODE_SIDE, math.ceil(long_side * min(w, h) / max(w, h, 1)))


def square_around(box: tuple[float, float, float, float], size: tuple[int, int], margin: float) -> Window:
    """A square crop holding `box` plus `margin` of its longer side on every side, moved inside the image
    (and cut to the image's sides where it is larger), in whole pixels."""
    w, h = size
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    # An animal longer than the frame's short side keeps all of itself, squeezed a little, rather
    # than losing its head or tail to a square.
    sw, sh = min(side, w), min(side, h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = min(max(cx - sw / 2, 0.0), w - sw)
    top = min(max(cy - sh / 2, 0.0), h - sh)
    return (round(left), round(top), round(left + sw), round(top + sh))


def to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels become mid-grey, which the (x-127)/128 normalisation maps to zero.
        rgba = image.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (127, 127, 127, 255))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image, dtype=np.float64)
        hi = arr.max() or 1.0
        return Image.fromarray((arr / hi * 255).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def batch(image: Image.Image, wins: list[Window], *, mirrors: bool = True) -> np.ndarray:
    """float32 (2n, 3, 260, 260): each window, then each window mirrored left-right, normalised
    (mirrors=False: (n, 3, 260, 260), the windows only; mirror() makes a mirror from them later).

    One Pillow resize per window, straight from the decoded frame (resize(box=) crops and scales in
    one pass). Cutting the windows from one frame scaled once is ~0.6 ms faster per photo but moves
    them by sub-pixel rounding, which cost the weakest verified leopard (leo_008) 0.036 of its score.
    """
    n = len(wins)
    out = np.empty(((2 if mirrors else 1) * n, 3, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
    for i, box in enumerate(wins):
        crop = image.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR, box=box)
        np.subtract(np.asarray(crop).transpose(2, 0, 1), 127, out=out[i], dtype=np.float32)
    if mirrors:
        out[n:] = out[:n, :, :, ::-1]
    out *= _SCALE
    return out


def mirror(crops: np.ndarray) -> np.ndarray:
    """The left-right mirrors of normalised crops (bit-identical to batch()'s own mirrors)."""
    return np.ascontiguousarray(crops[:, :, :, ::-1])
