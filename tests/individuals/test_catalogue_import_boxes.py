"""`individuals import FOLDER` crops the animal (issue 25): the box from --boxes (the rank command's CSV),
else the animal detector's most confident box (loaded once, on first need), else the whole photo; the
flank from --flanks, else a word of the photo's path."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from bot.cli.catalogue import _import
from bot.cli.individuals import BoxFinder
from bot.config import Settings
from bot.detection import Detection
from bot.detection.types import Box
from bot.individuals import Catalogue
from storage.db import Database


class FakeDetector:
    """The camera-trap detector's answer without the model: two animals, the second more confident."""

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, data: bytes) -> Detection:
        self.calls += 1
        return Detection(
            False, 0.0, "leopard", 0.0, animals=(Box(0, 0, 50, 50, 0.3), Box(40, 30, 340, 230, 0.9))
        )


def _photo(leopard_jpeg: bytes, quality: int = 90) -> bytes:
    """The animal on a wide, plain background (as a research team's photo shows the place too)."""
    animal = Image.open(io.BytesIO(leopard_jpeg)).convert("RGB").resize((300, 200))
    canvas = Image.new("RGB", (800, 500), (120, 140, 90))
    canvas.paste(animal, (40, 30))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=quality)
    return out.getvalue()


async def _references(settings: Settings) -> list[dict[str, object]]:
    async with Database(settings.database) as db:
        rows = await db.fetchall(
            "SELECT i.code, r.box, r.flank, r.source FROM individual_references r "
            "JOIN individuals i ON i.id = r.individual_id ORDER BY r.source"
        )
        Catalogue(db).close()
    return [
        {
            "code": r["code"],
            "box": json.loads(r["box"]) if r["box"] else None,
            "flank": r["flank"],
            "src": r["source"],
        }
        for r in rows
    ]


async def test_import_crops_with_the_detectors_best_box_or_the_given_one(
    tmp_path: Path, leopard_jpeg: bytes
) -> None:
    folder = tmp_path / "catalogue"
    for animal in ("PL-M1", "PL-F1"):
        (folder / animal).mkdir(parents=True)
    photo = _photo(leopard_jpeg)
    (folder / "PL-M1" / "cam3_left.jpg").write_bytes(photo)
    (folder / "PL-M1" / "cam4.jpg").write_bytes(_photo(leopard_jpeg, 80))  # another file, same animal
    (folder / "PL-F1" / "f.jpg").write_bytes(photo)
    settings = Settings(database=tmp_path / "lw.sqlite3", photo_dir=tmp_path / "photos")
    fake = FakeDetector()
    loads: list[Settings] = []

    def load(s: Settings) -> FakeDetector:
        loads.append(s)
        return fake

    boxes = {"PL-F1/f.jpg": (10, 20, 400, 300)}
    flanks = {"cam4.jpg": "right"}
    code = await _import(
        settings, folder, "unknown", boxes=boxes, flanks=flanks, finder=BoxFinder(settings, load)
    )
    assert code == 0
    refs = await _references(settings)
    by_src = {str(r["src"]).split(":", 1)[1]: r for r in refs}
    # No --boxes row: the detector's most confident animal, in original pixels; the flank from the name.
    assert by_src["PL-M1/cam3_left.jpg"]["box"] == [40, 30, 340, 230]
    assert by_src["PL-M1/cam3_left.jpg"]["flank"] == "left"
    # --flanks by base name wins over the path's words (none here); the detector's box again.
    assert by_src["PL-M1/cam4.jpg"]["flank"] == "right" and by_src["PL-M1/cam4.jpg"]["box"] == [
        40,
        30,
        340,
        230,
    ]
    # A --boxes row: that box, and the detector is not asked for it.
    assert by_src["PL-F1/f.jpg"]["box"] == [10, 20, 400, 300]
    assert fake.calls == 2 and len(loads) == 1  # loaded once, asked only where no box was given


async def test_import_without_a_detector_takes_the_whole_photo(tmp_path: Path, leopard_jpeg: bytes) -> None:
    folder = tmp_path / "catalogue"
    (folder / "PL-M1").mkdir(parents=True)
    (folder / "PL-M1" / "a.jpg").write_bytes(_photo(leopard_jpeg))
    settings = Settings(database=tmp_path / "lw.sqlite3", photo_dir=tmp_path / "photos")

    def broken(s: Settings) -> FakeDetector:
        raise RuntimeError("no model here")

    assert await _import(settings, folder, "male", finder=BoxFinder(settings, broken)) == 0
    assert [(r["code"], r["box"]) for r in await _references(settings)] == [("PL-M1", None)]
