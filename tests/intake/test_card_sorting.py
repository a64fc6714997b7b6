"""An SD card sorted (issue 24, point 5): frames with an animal, with a leopard, and empty ones, counted by
the import and by the weekly summary per station; empty frames kept but never alerted and out of the
coordinators' way; Camtrap DP says blank / animal / unclassified and still validates."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from PIL import Image

from bot.config import Settings
from bot.detection import Box, Detection, Detector
from bot.detection.model import OnnxLeopardDetector
from bot.geo import Point
from bot.intake import Ranger
from bot.intake.sd_card import import_folder
from bot.people import Group
from bot.reports.exports import export
from bot.reports.summary import build_summary
from bot.reports.summary_view import render_summary
from bot.services import Services
from bot.text import LANGUAGES, t
from tests.support.paths import SAMPLES, SHARED
from tests.support.validators import validate_camtrapdp

BOX = Box(4, 4, 40, 30, 0.7)
# A photo's width picks what the fake detector says of it.
BY_WIDTH = {
    60: Detection(False, 0.03, "coyote", 0.41, animals=(BOX,), animal_detector=True),  # another animal
    61: Detection(False, 0.02, "valley", 0.50, animal_detector=True),  # empty: wind and grass
    62: Detection(True, 0.91, "leopard", 0.91, boxes=(BOX,), animals=(BOX,), animal_detector=True),
    63: Detection(False, 0.05, "television", 0.33),  # no animal detector ran
}
CARD = [60, 61, 61, 61, 62, 60, 63]  # 2 animals, 3 empty, 1 leopard, 1 not sorted
STATION = "UST-04"


class ByWidth:
    threshold = 0.10

    def detect(self, data: bytes) -> Detection:
        return BY_WIDTH[Image.open(io.BytesIO(data)).size[0]]


def frame(width: int, shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, 40), (shade, 120, 60)).save(out, format="JPEG")
    return out.getvalue()


async def open_services(settings: Settings, detector: Detector) -> Services:
    svc = await Services.create(settings, detector)
    await svc.stations.add(STATION, Point(43.21, 51.87), "Spring", "UST")
    return svc


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    svc = await open_services(settings, ByWidth())
    try:
        yield svc
    finally:
        await svc.close()


@pytest.fixture
def card(tmp_path: Path) -> Path:
    folder = tmp_path / "DCIM" / "100MEDIA"
    folder.mkdir(parents=True)
    for i, width in enumerate(CARD):
        (folder / f"IMG_{i:04d}.JPG").write_bytes(frame(width, 10 * i))
    return tmp_path / "DCIM"


def group(lang: str, trusted: bool) -> Group:
    return Group(-1001, "Coordinators", lang, "Asia/Aqtau", trusted, True, (), True)


async def test_import_sorts_the_card_and_keeps_empty_frames_out_of_the_way(
    services: Services, card: Path, tmp_path: Path
) -> None:
    report = await import_folder(services, card, STATION)
    sort = report.sorted
    assert (sort.frames, sort.animals, sort.leopards, sort.empty) == (7, 3, 1, 3)  # animals: leopards too
    table = report.table()
    for raw in ("coyote", "valley", "television"):  # the model's ImageNet guesses stay in the database
        assert raw not in table
    assert "frames sorted at UST-04" in table and "empty (kept, never alerted)" in table
    assert "no leopard found (not sorted)" in table
    db = services.db
    rows = await db.fetchall("SELECT id, kind, label, event_id FROM sightings ORDER BY id")
    empties = [r for r in rows if r["kind"] == "empty"]
    assert len(empties) == 3 and all(r["label"] == "valley" for r in empties)  # kept, raw label stored
    assert all(r["event_id"] is None for r in empties)  # never alerted
    # /mine of the ranger the card was imported as: every frame but the empty ones.
    own = await services.sightings.latest_of(0)
    assert sorted(s.kind for s in own) == ["animal", "animal", "leopard", "no_leopard"]

    # The weekly summary: per station for a trusted group, per area otherwise; photo counts without empties.
    end = datetime.now(UTC) + timedelta(hours=1)
    for lang in LANGUAGES:
        for trusted in (True, False):
            summary = await build_summary(db, group(lang, trusted), end - timedelta(days=7), end,
                                          settings=services.settings)  # fmt: skip
            assert summary.current.photos == 4 and dict(summary.rangers) == {"SD-card import": 4}
            text = render_summary(summary, lang, services.settings.zone)
            place = STATION if trusted else "UST"
            line = t(lang, "summary.frames_line", place=place, total=7, animals=3, leopards=1, empty=3)
            assert line in text, text
            assert trusted or STATION not in text

    # Camtrap DP: blank, animal, unclassified by kind, and the package still validates.
    data = await export(db, "camtrapdp", None, None, exact=True, grid_km=10.0)
    validate_camtrapdp(data, tmp_path / "package")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        observations = list(csv.DictReader(io.StringIO(zf.read("observations.csv").decode())))
    by_sighting = {
        int(o["observationID"].removeprefix("obs-")): o["observationType"]
        for o in observations
        if o["observationLevel"] == "media"
    }
    expected = {"animal": "animal", "empty": "blank", "leopard": "animal", "no_leopard": "unclassified"}
    assert by_sighting == {r["id"]: expected[r["kind"]] for r in rows}
    assert all("valley" not in o["observationComments"] for o in observations)


async def test_real_import_of_sample_frames(
    settings: Settings, detector: OnnxLeopardDetector, tmp_path: Path
) -> None:
    """The real detector over a small card of camera-trap files: every frame sorted and counted once,
    whatever the model's own labels were, and none of them in the summary."""
    folder = tmp_path / "card"
    folder.mkdir()
    for name in ("reconyx_hc500_hyperfire.jpg", "reconyx_hc600_IMG_0164.jpg", "truthcam35_PRMS0001.jpg"):
        shutil.copy(SHARED / "samples" / "camera-files" / name, folder / name)
    shutil.copy(SAMPLES / "leo_005_serengeti_night.jpg", folder / "leopard.jpg")
    svc = await open_services(settings, cast(Detector, detector))
    try:
        report = await import_folder(svc, folder, STATION, ranger=Ranger(0, "SD-card import"))
        rows = await svc.db.fetchall("SELECT kind, label, is_leopard FROM sightings")
    finally:
        await svc.close()
    assert report.new == 4 and not report.unreadable
    sort = report.sorted
    unsorted = report.kinds["no_leopard"]
    assert sort.frames == 4 and sort.animals + sort.empty + unsorted == 4
    assert sort.leopards >= 1  # the sample leopard
    assert all(r["kind"] is not None for r in rows)
    table = report.table()
    for r in rows:
        if r["label"] not in ("leopard", "snow leopard"):
            assert f"label: {r['label']}" not in table and f" {r['label']} " not in table
