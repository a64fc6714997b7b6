"""One verdict per move in the weekly summary: the text and the map arrow of a trusted and an untrusted
group agree on the verdict, which is made on the exact points; the untrusted one shows cells."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import bot.reports.parts as summary_parts
from bot.config import Settings
from bot.geo import Point
from bot.people import Group
from bot.reports.map_layers import ONE_ANIMAL, TWO_ANIMALS, move_between
from bot.reports.summary import build_summary
from bot.reports.summary_view import render_summary
from storage.db import Database, iso
from storage.photos import PhotoStore
from tests.conftest import GROUP

T0 = datetime(2025, 6, 1, 3, tzinfo=UTC)
A = Point(43.50, 52.00)
# 32.4 km east of A (cells 40 km apart), and 28.3 km east of A (cells 30.03 km apart): a day after A, the
# first is over the 30 km/day limit and the second under it, while both cell distances are over it.
OVER, UNDER = Point(43.50, 52.40), Point(43.50, 52.35)


def group(trusted: bool) -> Group:
    return Group(GROUP, "Coordinators", "en", "Asia/Aqtau", trusted, True, (), True)


async def _sighting(db: Database, sid: int, where: Point, taken: datetime) -> None:
    sha = f"{sid:064x}"
    await db.execute(
        "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, ?, 1, ?)",
        (sha, f"{sha}.jpg", iso(taken)),
    )
    await db.execute(
        """INSERT INTO sightings (id, photo_sha256, taken_at, received_at, lat, lon, label, score,
                                  is_leopard, event_id, status)
           VALUES (?, ?, ?, ?, ?, ?, 'leopard', 0.9, 1, ?, 'confirmed')""",
        (sid, sha, iso(taken), iso(taken), where.lat, where.lon, sid),
    )


def colour_count(data: bytes, colour: tuple[int, int, int]) -> int:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    return sum(1 for pixel in image.get_flattened_data() if pixel == colour)


@pytest.mark.parametrize(("b", "plausible"), [(OVER, False), (UNDER, True)])
async def test_summary_text_and_map_arrow_have_one_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, b: Point, plausible: bool
) -> None:
    settings = Settings(database=tmp_path / "lw.sqlite3", photo_dir=tmp_path / "photos")
    start, end = T0 - timedelta(days=2), T0 + timedelta(days=5)
    maps: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    real_map = summary_parts.render_map

    def record_map(*args: Any, **kwargs: Any) -> bytes:
        maps.append((args, kwargs))
        return real_map(*args, **{**kwargs, "basemap": False})

    monkeypatch.setattr(summary_parts, "render_map", record_map)
    async with Database(settings.database) as db:
        await _sighting(db, 1, A, T0)
        await _sighting(db, 2, b, T0 + timedelta(days=1))
        texts, pngs = {}, {}
        for trusted in (True, False):
            summary = await build_summary(db, group(trusted), start, end, settings=settings)
            texts[trusted] = render_summary(summary, "en", group(trusted).zone)
            parts = await summary_parts.render_parts(
                db,
                PhotoStore(settings.photo_dir),
                settings,
                group(trusted),
                start,
                end,
                {"text", "sheet", "csv"},
            )
            pngs[trusted] = next(p.data for p in parts if p.name == "map")
    lines = {
        k: next(line for line in v.splitlines() if "#1" in line and "#2" in line) for k, v in texts.items()
    }
    mark, right, wrong = ("✅", ONE_ANIMAL, TWO_ANIMALS) if plausible else ("⚠️", TWO_ANIMALS, ONE_ANIMAL)
    assert "≈" not in lines[True] and lines[True].startswith(mark), lines[True]
    assert "≈" in lines[False] and lines[False].startswith(mark), lines[False]
    # The untrusted map is handed snapped points only; the verdict it draws is still the exact one.
    (_, untrusted_kwargs) = maps[1]
    grid = untrusted_kwargs["grid_km"]
    verdicts = [move_between(m, grid, 30.0)[2].plausible for m in untrusted_kwargs["moves"]]
    assert grid and verdicts == [plausible]
    for trusted in (True, False):
        assert colour_count(pngs[trusted], right) > 50, trusted
        assert colour_count(pngs[trusted], wrong) == 0, trusted
