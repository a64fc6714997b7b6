"""The weekly contact sheet: the period's leopard photos as a grid a phone can read.

Telegram shows it about 400 px wide, so it has few columns (two up to four photos, three beyond),
its captions are at least 9 phone pixels high (bot.reports.fonts.phone_size), and each row is as tall
as its photos, not as a square cell, so no band of background is left over. Each tile says its
review status in words with a mark (✓ confirmed, ? unreviewed, ✗ rejected) as well as a colour, so it
reads in grey too.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from PIL import Image, ImageDraw

from bot.media import UnreadableImage, blank_imprint, open_image
from bot.reports.fonts import Font, font, phone_size
from bot.text import t

WIDTH = 960  # px; a tile is a third of it: a photo at ~125 px on a phone, still a photo
BACKGROUND, INK, MISSING = (30, 30, 30), (235, 235, 235), (90, 90, 90)
MARKS = {"confirmed": "✓", "unconfirmed": "?", "rejected": "✗"}
BADGE = {"confirmed": ((214, 39, 40), (255, 255, 255)), "unconfirmed": ((245, 140, 20), (20, 20, 20)),
         "rejected": ((170, 170, 170), (20, 20, 20))}  # fmt: skip


def columns_for(count: int) -> int:
    return 1 if count == 1 else 2 if count <= 4 else 3


def _fit(text: str, f: Font, width: float, draw: ImageDraw.ImageDraw) -> str:
    while text and draw.textlength(text, font=f) > width:
        text = text[:-2] + "…" if len(text) > 1 else ""
    return text


def _lines(caption: str, f: Font, width: float, draw: ImageDraw.ImageDraw) -> list[str]:
    """The caption's lines (split at "\\n"), on one line when they fit it, each cut to the width."""
    parts = [p for p in caption.split("\n") if p]
    one = " · ".join(parts)
    if draw.textlength(one, font=f) <= width:
        return [one] if one else []
    return [_fit(p, f, width, draw) for p in parts]


def _thumb(data: bytes, box: tuple[int, int], blank: bool) -> Image.Image | None:
    try:
        img, _ = open_image(data, max_side=2 * max(box))
    except UnreadableImage:
        return None
    img = blank_imprint(img) if blank else img.convert("RGB")
    scale = min(box[0] / img.width, box[1] / img.height)
    return img.resize(
        (max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.LANCZOS
    )


def contact_sheet(
    images: list[bytes],
    captions: list[str],
    *,
    blank: bool = False,
    statuses: Sequence[str] = (),
    lang: str = "en",
    width: int = WIDTH,
) -> bytes | None:
    """A JPEG grid of the photos, each with its status (see bot.reports.summary.status_class) and its
    caption (lines split at "\\n") under it; None when there is nothing to show. With `blank`, each
    photo's burned-in camera strip is blanked first (bot.media.imprint)."""
    if not images:
        return None
    cols = columns_for(len(images))
    pad = phone_size(width, 2.5)
    tile = (width - pad * (cols + 1)) // cols
    size = phone_size(width, 9.5)
    f, fb = font(size, condensed=True), font(size, bold=True, condensed=True)
    line_h = round(1.3 * size)
    thumbs = [_thumb(d, (tile, tile), blank) for d in images]
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    texts = [_lines(captions[i] if i < len(captions) else "", f, tile, draw) for i in range(len(images))]
    lines = max(len(x) for x in texts) + (1 if statuses else 0)
    cap_h = lines * line_h + pad // 2
    rows = math.ceil(len(images) / cols)
    heights = []
    for r in range(rows):
        row = [th for th in thumbs[r * cols : (r + 1) * cols] if th is not None]
        heights.append(max((th.height for th in row), default=tile * 3 // 4))
    sheet = Image.new("RGB", (width, pad + sum(h + cap_h + pad for h in heights)), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    y0 = pad
    for r, h in enumerate(heights):
        for c in range(cols):
            i = r * cols + c
            if i >= len(images):
                break
            x0, th = pad + c * (tile + pad), thumbs[i]
            if th is None:
                photo = (x0, y0, x0 + tile - 1, y0 + h - 1)
                draw.rectangle(photo, fill=MISSING)
            else:
                px, py = x0 + (tile - th.width) // 2, y0 + (h - th.height) // 2
                sheet.paste(th, (px, py))
                photo = (px, py, px + th.width - 1, py + th.height - 1)
            y = y0 + h + pad // 4
            status = statuses[i] if i < len(statuses) else ""
            if status:
                back, ink = BADGE.get(status, BADGE["rejected"])
                word = f"{MARKS.get(status, '✗')} {t(lang, f'sheet.{status}')}"
                word = _fit(word, fb, tile - pad, draw)
                w = draw.textlength(word, font=fb)
                draw.rounded_rectangle((x0, y, x0 + w + pad, y + line_h - 2), radius=pad // 2, fill=back)
                draw.text((x0 + pad / 2, y + (line_h - 2) / 2), word, fill=ink, font=fb, anchor="lm")
                draw.rectangle(photo, outline=back, width=max(2, pad // 3))
                y += line_h
            for text in texts[i]:
                draw.text((x0, y + line_h / 2), _fit(text, f, tile, draw), fill=INK, font=f, anchor="lm")
                y += line_h
        y0 += h + cap_h + pad
    out = io.BytesIO()
    sheet.save(out, format="JPEG", quality=85)
    return out.getvalue()
