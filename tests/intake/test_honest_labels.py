"""Honest labels (issue 24, point 4): whatever ImageNet class the model's best guess was ("coyote",
"television", "bison"), people read one of five kinds in their language, with the leopard score beside
it and never the other label's score. Receipts, /mine, alerts, exports and the weekly summary, in ru,
kk and en."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import Image

from bot.alerts.events import build_view
from bot.config import Settings
from bot.detection import Box, Detection
from bot.detection.model import OnnxLeopardDetector
from bot.geo import Point
from bot.intake import Receipt, receipt_text
from bot.people import Audience, Reader
from bot.reports.exports import FORMATS, export
from bot.reports.summary import build_summary
from bot.reports.summary_view import render_summary
from bot.text import LANGUAGES, t
from emulator import BotApiEmulator
from tests.conftest import GROUP, Team, eventually, start_team

BOX = Box(10, 10, 50, 40, 0.8)
# Each photo's width picks its detection: the fake detector below answers by it.
DETECTIONS = {
    64: Detection(False, 0.04, "coyote", 0.38, animals=(BOX,), animal_detector=True),
    65: Detection(False, 0.01, "television", 0.57, animal_detector=True),
    66: Detection(False, 0.06, "bison", 0.61),  # no animal detector: "no leopard found"
    67: Detection(False, 0.08, "snow leopard", 0.72, animals=(BOX,), animal_detector=True),
    68: Detection(True, 0.93, "leopard", 0.93, boxes=(BOX,), animals=(BOX,), animal_detector=True),
}
KINDS = {64: "animal", 65: "empty", 66: "no_leopard", 67: "snow_leopard", 68: "leopard"}
RAW = ("coyote", "television", "bison")
PER_PHOTO = ("csv", "xlsx", "geojson", "kml", "camtrapdp")
OTHER_SCORES = ("0.38", "0.57", "0.61", "0.72")  # the other labels' scores: never shown


class ByWidth:
    """A detector that returns the detection chosen for a photo of that width."""

    threshold = 0.10

    def detect(self, data: bytes) -> Detection:
        width = Image.open(io.BytesIO(data)).size[0]
        return DETECTIONS[width]


def photo(width: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, 48), (width, 90, 40)).save(out, format="JPEG")
    return out.getvalue()


def assert_honest(text: str, where: str) -> None:
    low = text.lower()
    for raw in RAW:
        assert raw not in low, f"{where} shows the model's label {raw!r}:\n{text}"
    for score in OTHER_SCORES:
        assert score not in text, f"{where} shows another label's score {score}:\n{text}"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("width", sorted(DETECTIONS))
def test_receipts_say_the_kind_with_the_leopard_score(lang: str, width: int) -> None:
    det = DETECTIONS[width]
    for frame in (None, 2.5):  # a photo, and a clip's best frame
        r = Receipt(7, detection=det, point=Point(43.2, 51.8), location_source="pin", frame_seconds=frame)
        text = receipt_text(lang, r, 10)
        assert_honest(text, f"receipt ({lang})")
        assert f"{det.score:.2f}" in text
        if KINDS[width] != "leopard":  # the leopard's receipt keeps its own sentence
            assert t(lang, f"kind.{KINDS[width]}") in text


@pytest.fixture
async def team(emu: BotApiEmulator, settings: Settings) -> AsyncIterator[Team]:
    async for one in start_team(emu, settings, cast(OnnxLeopardDetector, ByWidth())):
        yield one


async def test_mine_alerts_exports_and_summary_never_show_model_labels(team: Team, tmp_path: Path) -> None:
    ranger, db, settings = team.ranger, team.services.db, team.services.settings
    await team.location(ranger, 43.25, 51.85)  # placed, so the GIS files carry them too
    for width in sorted(DETECTIONS):
        receipt = await team.photo(ranger, photo(width))
        assert_honest(receipt["text"], "receipt")
    rows = await db.fetchall("SELECT id, kind, label FROM sightings ORDER BY id")
    # The raw label is kept for the model's students; the kind is what people are told.
    assert [r["kind"] for r in rows] == [KINDS[w] for w in sorted(DETECTIONS)]
    assert [r["label"] for r in rows][:3] == ["coyote", "television", "bison"]

    # Alerts: the snow leopard and the leopard reach the group, each with its kind and leopard score.
    async def alerted() -> list[dict[str, Any]]:
        return team.alerts()

    for alert in cast(list[dict[str, Any]], await eventually(alerted, 30)):
        assert_honest(alert["caption"], "alert")
    # /mine in every language: every kind but the empty frame, which stays out of the way.
    for lang in LANGUAGES:
        await team.say(ranger, f"/lang {lang}")
        mine = (await team.say(ranger, "/mine"))["text"]
        assert_honest(mine, f"/mine ({lang})")
        assert t(lang, "kind.animal") in mine and t(lang, "kind.no_leopard") in mine
        assert t(lang, "kind.empty") not in mine and "0.04" in mine
        # Any sighting's caption (alerts, /sighting), for every reader kind.
        for reader in (Reader.GROUP, Reader.ADMIN):
            audience = Audience(reader, lang, settings.zone, settings.untrusted_grid_km)
            for r in rows:
                view = await build_view(db, settings, r["id"], audience)
                assert view is not None
                assert_honest(view.caption, f"caption of #{r['id']} ({lang}, {reader})")
                assert t(lang, f"kind.{r['kind']}").lower() in view.caption.lower()
        group = await team.services.groups.get(GROUP)
        assert group is not None
        end = datetime.now(UTC) + timedelta(hours=1)
        summary = await build_summary(db, group, end - timedelta(days=7), end, settings=settings)
        assert_honest(render_summary(summary, lang, settings.zone), f"summary ({lang})")
    # Every export format, exact and rounded: raw labels stay in the database.
    for fmt in FORMATS:
        for exact in (True, False):
            data = await export(db, fmt, None, None, exact=exact, grid_km=10.0)
            text = _text_of(data)
            for raw in RAW:
                assert raw not in text.lower(), f"{fmt} export shows the model's label {raw!r}"
            if fmt in PER_PHOTO:  # the formats with a row per photo say each one's kind
                assert "another animal" in text and "no animal found" in text


def _text_of(data: bytes) -> str:
    """A file's text; a zip's (XLSX, Camtrap DP) members' texts together."""
    if not data.startswith(b"PK"):
        return data.decode("utf-8")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return "\n".join(zf.read(name).decode("utf-8", "replace") for name in zf.namelist())
