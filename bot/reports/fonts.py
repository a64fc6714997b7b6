"""The faces the pictures are drawn in, and how big text must be to read on a phone.

Telegram shows a photo about 400 px wide on a phone, whatever its size: a picture W px wide is read at
400/W of its size, so text must be at least PHONE_PX * W / 400 px high to be ~9 px on the phone.
"""

from __future__ import annotations

import math
from functools import lru_cache

from PIL import ImageFont

PHONE_WIDTH, PHONE_PX = 400, 9.0
_REGULAR = ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "LiberationSans-Regular.ttf")
_BOLD = (
    "DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "LiberationSans-Bold.ttf",
)
_CONDENSED = (
    "DejaVuSansCondensed.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
    "LiberationSansNarrow-Regular.ttf",
)
_CONDENSED_BOLD = (
    "DejaVuSansCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "LiberationSansNarrow-Bold.ttf",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False, condensed: bool = False) -> Font:
    # DejaVu has Cyrillic and Kazakh letters; Pillow's built-in font is only a last resort. The condensed
    # faces fit a station code or a caption into a thumbnail's width at a size a phone can read.
    faces = {(False, False): _REGULAR, (True, False): _BOLD, (False, True): _CONDENSED,
             (True, True): _CONDENSED_BOLD}[(bold, condensed)]  # fmt: skip
    for name in (*faces, *_REGULAR):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def phone_size(width: int, phone_px: float = PHONE_PX) -> int:
    """The font size (px) that reads as `phone_px` px when a picture `width` px wide is shown 400 px wide."""
    return math.ceil(phone_px * width / PHONE_WIDTH)
