"""No English in Russian or Kazakh output: every catalog message rendered with sample parameters, the
decided-alert button, the redaction markers, and every text drawn on the weekly map, in ru and kk.

What may stay Latin is what is not English: codes (UST-04, CAM-7, LW_REGION), the command syntax a
person types (/settings lang ru, leopard-watch export), acronyms (GPS, CSV, JPEG), addresses, the
product's name and a few names of other products (Telegram, Excel). A unit is a word of the language:
"км", never "km".
"""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import ImageDraw

from bot.botapi import review_keyboard
from bot.geo import Point
from bot.reports import time_basis
from bot.reports.map_layers import MapMove
from bot.reports.maps import MapPoint, MapStation, render_map
from bot.text import t
from bot.text.i18n import keys

# Names of things, not English words (a product, a time zone, a mail header GBIF and mail admins know).
NAMES = {"Telegram", "Excel", "Leopard", "Watch", "Asia", "Aqtau", "Authentication-Results", "e-mail"}
# Words a person types exactly as written: command arguments and the export formats' names.
TYPED = {"force", "match", "file", "area", "all", "on", "off", "since", "until",
         "csv", "xlsx", "geojson", "kml", "camtrapdp"}  # fmt: skip
# Sample values by placeholder: Cyrillic or digits, so that any Latin left in the output is the catalog's.
SAMPLES = {"code": "UST-04", "codes": "UST-04, UST-05", "point": "43.21000, 51.87000", "zone": "Asia/Aqtau",
           "fmt": "csv", "command": "/export csv", "lang": "ru", "tz": "Asia/Aqtau",
           "link": "https://t.me/x"}  # fmt: skip
_ADDRESS = re.compile(r"https?://\S+|\S+@\S+")
_COMMAND = re.compile(r"(?:/[a-z_]+|leopard-watch)[^\n\u0400-\u04ff]*")  # a command and its typed words
_ALLOWED = re.compile(
    r"(?<![A-Za-z])[A-Z]{2,}[-_A-Z0-9]*|\b[A-Z]{2,5}-\d*|\b[A-Z]\b|\b\d+[A-Za-z]?\b|\b(?:ru|kk|en)\b|\b[a-z]+="
)
_LATIN = re.compile(r"[A-Za-z][A-Za-z'\-]*")


def latin_words(text: str) -> list[str]:
    """The Latin words of `text` that are none of the allowed kinds above."""
    text = re.sub(r"<[^>]+>", "", text)  # HTML tags are markup, not words
    text = _ADDRESS.sub(" ", text)
    text = _COMMAND.sub(" ", text)
    text = _ALLOWED.sub(" ", text)
    words = (w.rstrip("-") for w in _LATIN.findall(text))  # "Telegram-нан": a Kazakh ending on a name
    return [w for w in words if w not in NAMES and w not in TYPED]


def sample(name: str) -> str:
    return SAMPLES.get(
        name, "Айгерим" if name in ("name", "who", "title", "station", "area", "label") else "3"
    )


def render(lang: str, key: str, template: str) -> str:
    params = {f[1]: sample(f[1]) for f in string.Formatter().parse(template) if f[1]}
    return t(lang, key, **params)


def test_the_filter_finds_english() -> None:
    assert latin_words("20 km, [station hidden]") == ["km", "station", "hidden"]
    assert latin_words("Станция UST-04 · GPS · /settings lang ru|kk · 5 км") == []


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_catalog_message_is_free_of_english(lang: str) -> None:
    found = {}
    for key, template in keys(lang).items():
        words = latin_words(render(lang, key, template))
        if words:
            found[key] = words
    assert not found, found


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_buttons_markers_and_time_words(lang: str) -> None:
    for status in ("confirmed", "rejected", "other"):
        (button,) = review_keyboard(lang, 12, status, "Айгерим").inline_keyboard[0]
        assert not latin_words(button.text), button.text
        assert button.callback_data == f"rv:12:{status}"  # a press is answered "already recorded"
    for key in ("redaction.position_hidden", "redaction.link_hidden"):
        assert not latin_words(t(lang, key)) and not re.search(r"\d", t(lang, key))
    for received in (0, 2, 5):
        assert not latin_words(time_basis(lang, 5, received))
    assert not latin_words(" ".join(t(lang, f"weekday.{d}") for d in range(7)))


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_text_drawn_on_the_map_is_in_the_language(lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    original = ImageDraw.ImageDraw.text

    def record(self: ImageDraw.ImageDraw, xy: Any, text: Any, *args: Any, **kwargs: Any) -> Any:
        drawn.append(str(text))
        return original(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", record)
    points = [MapPoint(Point(43.21, 51.87), "confirmed"), MapPoint(Point(43.62, 52.41), "unconfirmed")]
    stations = [
        MapStation("UST-01", Point(43.1, 51.8), "UST"),
        MapStation("UST-02", Point(43.3, 52.1), "UST"),
    ]
    day = datetime(2026, 11, 30, tzinfo=UTC)
    moves = [MapMove(Point(43.21, 51.87), day, Point(43.62, 52.41), day.replace(day=2), True)]
    for grid in (None, 10.0):
        render_map(points, stations, {"UST": "Үстірт"}, title="Үстірт", lang=lang, grid_km=grid, moves=moves)
    assert drawn and any("км" in text for text in drawn)  # the scale bar's unit, in the language
    english = {text: latin_words(text) for text in drawn if latin_words(text)}
    assert not english, english
