"""Opening untrusted image bytes safely: size limits, decompression bombs, EXIF orientation."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

# The most pixels ever decoded into memory (~180 MB as RGB): above any camera trap, and an image above
# it is decoded at a reduced size or not at all.
MAX_PIXELS = 60_000_000
# What a file may claim: 100-200 MP phone sensors (Galaxy S24 Ultra: 200 MP HEIC), decoded at a reduced
# size (JPEG DCT scaling, a HEIC's embedded thumbnail). Pillow refuses to open anything larger.
MAX_CLAIMED_PIXELS = 300_000_000
Image.MAX_IMAGE_PIXELS = MAX_CLAIMED_PIXELS
# A real photo above MAX_PIXELS is megabytes (that 200 MP HEIC: 2.4 MB, 83 pixels per byte). A file
# claiming far more pixels per byte than any encoder achieves on a photograph is a decompression bomb.
MAX_PIXELS_PER_BYTE = 1_000
# The side an oversized image is reduced to when the caller asked for no particular size.
REDUCED_SIDE = 4096

try:  # iPhones send HEIC originals as documents.
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    pass


class UnreadableImage(ValueError):
    """The bytes are not an image we can decode (corrupt, truncated, too large, or not an image)."""

    def __init__(self, message: str, reason: str = "corrupt") -> None:
        super().__init__(message)
        self.reason = reason


def open_image(data: bytes, max_side: int | None = None) -> tuple[Image.Image, tuple[int, int]]:
    """Decode, apply EXIF orientation, and return (image, original upright size).

    With max_side, JPEGs are decoded at a reduced scale (libjpeg DCT scaling), which makes 12 MP
    camera-trap frames ~10x cheaper; the returned size is still the full upright size so that
    boxes can be reported in original-image pixels. An image above MAX_PIXELS is always reduced (a
    HEIC to its largest embedded thumbnail), and refused as too large if its format cannot be.
    """
    if not data:
        raise UnreadableImage("empty file", reason="empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            full = image.size
            claimed = full[0] * full[1]
            if claimed > MAX_PIXELS and claimed > len(data) * MAX_PIXELS_PER_BYTE:
                raise UnreadableImage(
                    f"image too large: {full[0]}x{full[1]} pixels in {len(data)} bytes", reason="too_large"
                )
            side = max_side or (REDUCED_SIDE if claimed > MAX_PIXELS else None)
            if side:
                _reduce(image, side, oversized=claimed > MAX_PIXELS)
            if image.size[0] * image.size[1] > MAX_PIXELS:
                message = f"image too large: {full[0]}x{full[1]} pixels and no reduced size to decode"
                raise UnreadableImage(message, reason="too_large")
            image.load()
    except UnreadableImage:  # a ValueError too: not to be taken for a corrupt file below
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnreadableImage(f"image too large: {exc}", reason="too_large") from exc
    except UnidentifiedImageError as exc:
        raise UnreadableImage("not an image", reason="not_image") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnreadableImage(f"corrupt image: {exc}", reason="corrupt") from exc
    orientation = image.getexif().get(0x0112, 1)
    if orientation in (5, 6, 7, 8):
        full = (full[1], full[0])
    try:
        image = ImageOps.exif_transpose(image) or image
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnreadableImage(f"corrupt image: {exc}", reason="corrupt") from exc
    return image, full


def _reduce(image: Image.Image, side: int, *, oversized: bool) -> None:
    """Have the decoder produce about `side` pixels on each side instead of the full image, where the
    format allows; `image.size` then says what will be decoded."""
    if image.format == "JPEG":
        image.draft("RGB", (side, side))
    elif image.format == "HEIF" and oversized:
        # pillow-heif decodes a HEIC only in full (1.4 GB for 200 MP) but serves its embedded
        # thumbnails: the smallest one at least this big, else the largest there is, found by halving.
        while side >= 1 and image.draft(image.mode, (side, side)) is None:
            side //= 2
