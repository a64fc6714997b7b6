"""The README's two pictures, drawn by the bot's own code, offline: an alert as a group sees it, a weekly map.

    python tools/readme_pictures.py            # writes docs/img/alert.jpg and docs/img/weekly-map.png

A throwaway database in a temporary folder gets a trusted coordinator group, six camera stations and
a week of photos: the sample camera-trap photos of bot/samples, re-saved with a camera clock in EXIF
(and shifted by a few pixels, as tests/conftest.py `leopard_variants` does, so each is a new file).
They go through the real intake (the ONNX detector, places from the station code in the caption,
bursts, the alert outbox), the coordinators' verdicts go through the review function the buttons call,
and then the alert caption, the photo with its box and the weekly map are made exactly as the bot makes
them for Telegram. Only the chat bubble around the alert (layout, fonts, buttons) is drawn here, as
a phone would show it. Re-run after changing the alert, the map or the sample photos.
"""

from __future__ import annotations

import asyncio
import html
import io
import re
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from bot.alerts import build_alert, decide, photo_with_boxes
from bot.botapi import review_keyboard
from bot.config import Settings
from bot.geo import Point
from bot.intake import PhotoIntake, Ranger
from bot.reports import render_parts
from bot.reports.maps import Font, font
from bot.services import Services

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "bot" / "samples"
OUT = ROOT / "docs" / "img"
ZONE = ZoneInfo("Asia/Aqtau")
GROUP_ID, ADMIN_ID = -100_555_0001, 900_001
SERIK, AIGERIM = Ranger(700_001, "Serik"), Ranger(700_002, "Aigerim")
# code: (lat, lon, name, area). Made-up stations and names: no real camera's place is shown here.
STATIONS = {
    "UST-01": (43.21, 51.87, "Upper spring", "UST"),
    "UST-02": (43.33, 52.05, "Dry gully", "UST"),
    "UST-03": (43.10, 52.25, "South ridge", "UST"),
    "UST-04": (43.42, 51.80, "Old well", "UST"),
    "KZS-01": (43.55, 52.42, "Red canyon", "KZS"),
    "KZS-02": (43.68, 52.20, "North cliff", "KZS"),
}
WEEK = datetime(2025, 3, 3, tzinfo=ZONE)  # a Monday: the map shows Mon 3 - Sun 9 March 2025


@dataclass(frozen=True)
class Shot:
    sample: str
    shift: int  # pixels cut off the left: another file, the same picture
    station: str
    taken: timedelta  # after WEEK, on the camera's clock
    ranger: Ranger
    verdict: str | None = None  # what a coordinator pressed, if anything


LEO_NIGHT, LEO_IR = "leo_005_serengeti_night.jpg", "leo_009_chimpsee_ir_forest.jpg"
JACKAL = "neg_060_serengeti_jackal_1.jpg"


def day(days: int, hours: int, minutes: int) -> timedelta:
    return timedelta(days=days, hours=hours, minutes=minutes)


SHOTS = [
    Shot(LEO_IR, 0, "UST-01", day(0, 23, 41), SERIK, "confirmed"),
    Shot(LEO_IR, 3, "UST-01", day(0, 23, 42), SERIK),  # the same burst: one alert, "1 more photo"
    Shot(JACKAL, 0, "UST-02", day(1, 4, 10), SERIK),
    Shot(LEO_NIGHT, 6, "KZS-01", day(2, 2, 17), AIGERIM, "confirmed"),
    Shot(LEO_IR, 6, "UST-02", day(3, 21, 5), SERIK, "rejected"),
    Shot(LEO_NIGHT, 3, "KZS-02", day(4, 1, 33), AIGERIM, "confirmed"),
    Shot(LEO_NIGHT, 0, "UST-03", day(5, 3, 58), SERIK),
]
ALERTED = 7  # the last shot: its alert weighs the moves from the confirmed leopards before it


def camera_file(sample: str, shift: int, taken: datetime) -> bytes:
    """The sample as a camera trap writes it: DateTimeOriginal in the camera's local time, no GPS."""
    image = Image.open(SAMPLES / sample).convert("RGB")
    image = image.crop((shift, 0, image.width - 30 + shift, image.height)) if shift else image
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=92)
    return out.getvalue()


async def build_world(svc: Services) -> None:
    await svc.groups.register(GROUP_ID, "Ustyurt leopard coordinators", "en")
    await svc.groups.update(GROUP_ID, trusted=1)
    for code, (lat, lon, name, area) in STATIONS.items():
        await svc.stations.add(code, Point(lat, lon), name, area, by=ADMIN_ID)
    for shot in SHOTS:
        taken = WEEK + shot.taken
        data = camera_file(shot.sample, shot.shift, taken)
        # Sent as a file a day later, when the ranger reached the trap; the caption names the station.
        arrived, caption = taken + timedelta(hours=30), f"{shot.station} card check"
        intake = PhotoIntake(data, shot.ranger, arrived, caption=caption, is_document=True)
        receipt = await svc.sightings.record_photo(intake)
        if shot.verdict and receipt.event_id is not None:
            await decide(svc.db, receipt.event_id, shot.verdict, ADMIN_ID, "Aigerim K.", GROUP_ID)


# The chat bubble: Telegram's light theme, at twice a phone's 400 px so it stays sharp when scaled.
WIDTH, PAD, TEXT = 800, 22, 27
INK, LINK, BUBBLE, BACK = (20, 20, 20), (36, 120, 190), (255, 255, 255), (214, 228, 204)
BUTTON, BUTTON_INK = (233, 240, 226), (70, 110, 60)
# Colour emoji, as a phone draws them (Debian: fonts-noto-color-emoji). Without the font they are left out.
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
EMOJI = re.compile("([\U0001f000-\U0001faff\u2600-\u27bf])\ufe0f?")
Colour = tuple[int, int, int]
Piece = tuple[str, Font, Colour]  # a word or one emoji, with its face and colour


@lru_cache(maxsize=64)
def emoji(char: str, size: int) -> Image.Image | None:
    """One emoji scaled to the text size: the colour font exists only as 109 px bitmaps."""
    if not EMOJI_FONT.exists():
        return None
    face = ImageFont.truetype(str(EMOJI_FONT), 109)
    glyph = Image.new("RGBA", (160, 160))
    ImageDraw.Draw(glyph).text((0, 0), char, font=face, embedded_color=True)
    box = glyph.getbbox()
    if box is None:
        return None
    glyph = glyph.crop(box)
    return glyph.resize((round(glyph.width * size / glyph.height), size), Image.Resampling.LANCZOS)


def width_of(piece: Piece) -> float:
    text, face, _ = piece
    if EMOJI.fullmatch(text):
        image = emoji(text[0], TEXT)
        return image.width + 3 if image else 0
    return face.getlength(text)


def lines_of(caption: str, width: int) -> list[list[Piece]]:
    """Telegram HTML (only the tags the bot writes: b, a) as wrapped lines of pieces."""
    out: list[list[Piece]] = [[]]
    bold = link = False
    x = 0.0
    for token in re.split(r"(<[^>]+>)", caption):
        if token.startswith("<"):
            name = token.strip("</>").split()[0].lower()
            bold = (not token.startswith("</")) if name == "b" else bold
            link = (not token.startswith("</")) if name == "a" else link
            continue
        face, colour = font(TEXT, bold), LINK if link else INK
        for i, text in enumerate(html.unescape(token).split("\n")):
            if i:
                out.append([])
                x = 0.0
            for word in (w for part in EMOJI.split(text) for w in re.findall(r"\s*\S+\s*|\s+", part)):
                piece = (word, face, colour)
                if x + width_of((word.rstrip(), face, colour)) > width and out[-1] and word.strip():
                    out.append([])
                    x, piece = 0.0, (word.lstrip(), face, colour)
                out[-1].append(piece)
                x += width_of(piece)
    return out


def draw_pieces(canvas: Image.Image, xy: tuple[float, float], pieces: list[Piece]) -> None:
    x, y = xy
    draw = ImageDraw.Draw(canvas)
    for text, face, colour in pieces:
        if EMOJI.fullmatch(text):
            image = emoji(text[0], TEXT)
            if image is not None:
                canvas.paste(image, (round(x), round(y + 2)), image)
        else:
            draw.text((x, y), text, font=face, fill=colour)
        x += width_of((text, face, colour))


def alert_picture(photo: bytes, caption: str, buttons: list[list[str]]) -> Image.Image:
    """The alert as the group's phone shows it: the photo, the caption under it, the buttons below."""
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    inner = WIDTH - 2 * PAD
    image = image.resize((inner, round(image.height * inner / image.width)), Image.Resampling.LANCZOS)
    lines = lines_of(caption, inner - 2 * PAD)
    step, button_h, gap = round(TEXT * 1.35), round(TEXT * 2.4), 8
    bubble_h = image.height + PAD + len(lines) * step + PAD
    canvas = Image.new("RGB", (WIDTH, PAD + bubble_h + len(buttons) * (button_h + gap) + 2 * PAD), BACK)
    draw = ImageDraw.Draw(canvas)
    draw.rounded_rectangle((PAD, PAD, WIDTH - PAD, PAD + bubble_h), radius=18, fill=BUBBLE)
    canvas.paste(image, (PAD, PAD))
    y = PAD + image.height + PAD
    for row in lines:
        draw_pieces(canvas, (2 * PAD, y), row)
        y += step
    y = PAD + bubble_h + gap
    face = font(TEXT - 2, True)
    for labels in buttons:
        w = (inner - gap * (len(labels) - 1)) / len(labels)
        for i, label in enumerate(labels):
            x0 = PAD + i * (w + gap)
            draw.rounded_rectangle((x0, y, x0 + w, y + button_h), radius=14, fill=BUTTON)
            pieces = [(p, face, BUTTON_INK) for p in EMOJI.split(label) if p]
            text_w = sum(width_of(p) for p in pieces)
            draw_pieces(canvas, (x0 + (w - text_w) / 2, y + (button_h - TEXT * 1.2) / 2), pieces)
        y += button_h + gap
    return canvas


def small_jpeg(image: Image.Image, limit: int = 300_000) -> bytes:
    for quality in (85, 80, 75, 70, 60):
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
        if out.tell() < limit:
            break
    return out.getvalue()


def small_png(data: bytes, limit: int = 300_000) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    for colours in (256, 128, 64):
        out = io.BytesIO()
        image.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            out, format="PNG", optimize=True
        )
        if out.tell() < limit:
            break
    return out.getvalue()


async def main() -> int:
    with tempfile.TemporaryDirectory(prefix="leopard-watch-pictures-") as tmp:
        settings = Settings(
            database=Path(tmp) / "pictures.sqlite3",
            photo_dir=Path(tmp) / "photos",
            admin_ids=frozenset({ADMIN_ID}),
        )
        svc = await Services.create(settings)
        try:
            await build_world(svc)
            view = await build_alert(svc.db, settings, ALERTED, GROUP_ID)
            assert view is not None, f"sighting #{ALERTED} made no alert"
            photo = photo_with_boxes(svc.photos, view.photo_sha256, view.boxes)
            keyboard = review_keyboard(view.lang, view.event_id).inline_keyboard
            buttons = [[button.text for button in row] for row in keyboard]
            alert = alert_picture(photo, view.caption, buttons)
            group = await svc.groups.get(GROUP_ID)
            assert group is not None
            end = WEEK + timedelta(days=7)
            parts = await render_parts(
                svc.db, svc.photos, svc.settings, group, WEEK, end, skip={"text", "sheet", "csv"}
            )
        finally:
            await svc.close()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "alert.jpg").write_bytes(small_jpeg(alert))
    (OUT / "weekly-map.png").write_bytes(small_png(parts[0].data))
    for name in ("alert.jpg", "weekly-map.png"):
        print(f"{OUT / name}: {(OUT / name).stat().st_size // 1000} KB")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
