"""The weekly contact sheet read on a phone (~400 px wide): no empty band, captions ~9 px or more there,
each photo's review status in words and a mark, and only leopard photos, counted as such."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageDraw

import bot.reports.parts as summary_parts
from bot.config import Settings
from bot.people import Group
from bot.reports.contact_sheet import contact_sheet
from bot.text import t
from storage.db import Database, iso
from storage.photos import PhotoStore
from tests.conftest import GROUP
from tests.support.paths import SAMPLES
from tests.support.sightings_world import BASE, SERIK, STATIONS, seed


def photo(size: tuple[int, int], shade: int) -> bytes:
    """A made-up camera photo: a gradient, so no row of it is the sheet's background."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image = ImageChops.add(image, Image.new("RGB", size, (shade, 60, 40)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def jpeg(data: bytes | None) -> Image.Image:
    assert data is not None
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert not image.getexif()  # re-encoded: no camera GPS rides along
    return image.convert("RGB")


def longest_background_band(image: Image.Image) -> int:
    """The most rows in a row holding nothing but the sheet's background (JPEG noise allowed)."""
    grey = image.convert("L")
    background = float(grey.getpixel((0, 0)))  # type: ignore[arg-type]
    longest = run = 0
    for y in range(grey.height):
        lo, hi = (float(v) for v in grey.crop((0, y, grey.width, y + 1)).getextrema())  # type: ignore[arg-type]
        run = run + 1 if abs(lo - background) <= 12 and abs(hi - background) <= 12 else 0
        longest = max(longest, run)
    return longest


@pytest.mark.parametrize(("count", "size"), [(5, (1600, 900)), (3, (1920, 1080)), (7, (1200, 900))])
def test_no_band_of_background(count: int, size: tuple[int, int]) -> None:
    images = [photo(size, 20 * i) for i in range(count)]
    image = jpeg(contact_sheet(images, [f"#{i} UST-01\n03-0{i} 23:41" for i in range(count)]))
    assert longest_background_band(image) <= 0.15 * image.height


def test_captions_read_at_nine_pixels_on_a_phone() -> None:
    images = [photo((1600, 1200), 40)] * 5
    empty = jpeg(contact_sheet(images, [" "] * 5))  # a blank line: the same layout
    eights = jpeg(contact_sheet(images, ["8888"] * 5))
    assert empty.size == eights.size
    # The caption's glyphs are where the two sheets differ; a digit is ~0.73 of the font's size.
    mask = ImageChops.difference(empty, eights).convert("L").point(lambda v: 255 if v > 80 else 0)
    box = mask.crop((0, 0, eights.width // 3, eights.height)).getbbox()  # the first column's captions
    assert box is not None
    first_line = mask.crop((0, box[1], eights.width // 3, box[1] + 60)).getbbox()
    assert first_line is not None
    digit_h = first_line[3] - first_line[1]
    assert digit_h >= 0.7 * 9 * eights.width / 400, digit_h


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_each_tile_says_its_status_in_words_and_a_mark(lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    real_text = ImageDraw.ImageDraw.text

    def record(self: ImageDraw.ImageDraw, xy: Any, text: Any, *args: Any, **kwargs: Any) -> None:
        drawn.append(str(text))
        real_text(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", record)
    statuses = ["confirmed", "unconfirmed", "rejected"]
    sheet = contact_sheet([photo((1600, 1200), 10)] * 3, ["#1", "#2", "#3"], statuses=statuses, lang=lang)
    assert sheet is not None
    for status, mark in zip(statuses, ("✓", "?", "✗"), strict=True):
        assert f"{mark} {t(lang, f'sheet.{status}')}" in drawn, drawn
    assert len({t(lang, f"sheet.{s}") for s in statuses}) == 3


def group() -> Group:
    return Group(GROUP, "Coordinators", "en", "Asia/Aqtau", True, True, (), True)


def variants(n: int) -> list[bytes]:
    """The sample leopard, cut differently: n photo files with n hashes."""
    base = Image.open(SAMPLES / "leo_005_serengeti_night.jpg").convert("RGB")
    out = []
    for i in range(n):
        buf = io.BytesIO()
        base.crop((i, 0, base.width - 20 + i, base.height)).save(buf, format="JPEG")
        out.append(buf.getvalue())
    return out


async def test_the_sheet_shows_and_counts_only_leopard_photos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database=tmp_path / "lw.sqlite3", photo_dir=tmp_path / "photos")
    store = PhotoStore(settings.photo_dir)
    shas = [store.put(data).sha256 for data in variants(12)]
    calls: list[dict[str, Any]] = []
    real_sheet = summary_parts.contact_sheet

    def record(images: list[bytes], captions: list[str], **kwargs: Any) -> bytes | None:
        calls.append({"captions": captions, **kwargs})
        return real_sheet(images, captions, **kwargs)

    monkeypatch.setattr(summary_parts, "contact_sheet", record)
    async with Database(settings.database) as db:
        await seed(db, BASE, {sid: shas[sid - 1] for sid in range(1, 12)})
        # A boar a ranger handed to the coordinators as a leopard: an event, alerted, still unreviewed.
        taken = iso(BASE + timedelta(days=2.5))
        lat, lon = STATIONS["UST-01"][0], STATIONS["UST-01"][1]
        await db.execute(
            "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, ?, 1, ?)",
            (shas[11], "boar.jpg", taken),
        )
        await db.execute(
            "INSERT INTO sightings (id, photo_sha256, ranger_id, taken_at, received_at, lat, lon, "
            "station_code, label, score, is_leopard, event_id, status, escalated_by) "
            "VALUES (20, ?, ?, ?, ?, ?, ?, 'UST-01', 'wild boar', 0.8, 0, 20, 'unreviewed', ?)",
            (shas[11], SERIK, taken, taken, lat, lon, SERIK),
        )
        parts = await summary_parts.render_parts(
            db, store, settings, group(), BASE, BASE + timedelta(days=7), skip={"map", "text", "csv"}
        )
    [sheet] = parts
    shown = [c.split()[0] for c in calls[-1]["captions"]]
    # Confirmed leopards (#1, #3, #4) and the detector's unreviewed leopard (#7); neither the rejected
    # snow leopard (#5) nor the ranger's boar (#20).
    assert shown == ["#1", "#3", "#4", "#7"]
    assert calls[-1]["statuses"] == ["confirmed", "confirmed", "confirmed", "unconfirmed"]
    assert sheet.text.startswith("🐆 Leopard photos") and sheet.text.endswith("(4)")
