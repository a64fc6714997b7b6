"""Opening untrusted image bytes safely: size limits, decompression bombs, EXIF orientation."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

# ~ 60 megapixels: above any camera trap or phone sensor, far below what exhausts 24 GB.
MAX_PIXELS = 60_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

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
    boxes can be reported in original-image pixels.
    """
    if not data:
        raise UnreadableImage("empty file", reason="empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            full = image.size
            if max_side and image.format == "JPEG":
                image.draft("RGB", (max_side, max_side))
            image.load()
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
