"""The detector's input: windows over the frame and the batch of 260 px crops the network sees.

Kept apart from bot/detection/model.py so that tools/quantize.py builds its calibration crops with exactly
this code (the INT8 ranges must come from what the network really sees in the bot).

Cost matters here because INT8 made the network itself cheap: the frame is decoded once, at the
smallest size the windows need (JPEG DCT scaling), each window is cut and scaled in one Pillow call
straight into the batch array, and the mirrored copy is a numpy view written into the same array.
"""

from __future__ import annotations

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


def decode(data: bytes) -> tuple[Image.Image, tuple[int, int]]:
    """Decode untrusted bytes at the size the windows need; returns (RGB image, original upright size)."""
    image, full = open_image(data, max_side=DECODE_SIDE)
    return to_rgb(image), full


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


def batch(image: Image.Image, wins: list[Window]) -> np.ndarray:
    """float32 (2n, 3, 260, 260): each window, then each window mirrored left-right, normalised.

    One Pillow resize per window, straight from the decoded frame (resize(box=) crops and scales in
    one pass). Cutting the windows from one frame scaled once is ~0.6 ms faster per photo but moves
    them by sub-pixel rounding, which cost the weakest verified leopard (leo_008) 0.036 of its score.
    """
    n = len(wins)
    out = np.empty((2 * n, 3, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
    for i, box in enumerate(wins):
        crop = image.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR, box=box)
        np.subtract(np.asarray(crop).transpose(2, 0, 1), 127, out=out[i], dtype=np.float32)
    out[n:] = out[:n, :, :, ::-1]
    out *= _SCALE
    return out
