"""Distinct photos made from one (another SHA-256 each), for tests that send several at once."""

from __future__ import annotations

import io

from PIL import Image

from tests.support.paths import SAMPLES


def shifted(jpeg: bytes, n: int) -> list[bytes]:
    """n distinct JPEGs of the same picture: each crop shifted a few pixels further."""
    base = Image.open(io.BytesIO(jpeg)).convert("RGB")
    out = []
    for i in range(n):
        buf = io.BytesIO()
        base.crop((i * 3, 0, base.width - 30 + i * 3, base.height)).save(buf, format="JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def jackal_variants(n: int) -> list[bytes]:
    """Distinct photos the model passes over (no alert of their own, so each receipt gets a 🐆 button)."""
    return shifted((SAMPLES / "neg_060_serengeti_jackal_1.jpg").read_bytes(), n)
