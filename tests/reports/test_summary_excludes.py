"""What the weekly summary leaves out (issues 22 and 24): a photo its sender swapped out (replaced_by) is
out of the counts, the moves, the map's arrows and the contact sheet; a forward from outside the team
(reported) joins the moves only once confirmed, the alerts' rule; empty frames are out of the CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import bot.reports.parts as summary_parts
from bot.config import Settings
from bot.people import Group
from bot.reports.summary import build_summary
from storage.db import Database, iso
from storage.photos import PhotoStore
from tests.conftest import GROUP
from tests.support.paths import SAMPLES
from tests.support.sightings_world import BASE, SERIK, STATIONS, seed

WEEK = (BASE, BASE + timedelta(days=7))
SHOWN = (1, 3, 4, 7)  # the seeded week's leopard photos on the contact sheet


def group() -> Group:
    return Group(GROUP, "Coordinators", "en", "Asia/Aqtau", True, True, (), True)


def leopard_files(n: int) -> list[bytes]:
    """The sample leopard cut n ways: n photo files with n hashes, for a contact sheet to show."""
    base = Image.open(SAMPLES / "leo_005_serengeti_night.jpg").convert("RGB")
    out = []
    for i in range(n):
        buf = io.BytesIO()
        base.crop((i, 0, base.width - 20 + i, base.height)).save(buf, format="JPEG")
        out.append(buf.getvalue())
    return out


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database=tmp_path / "lw.sqlite3", photo_dir=tmp_path / "photos")


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    store = PhotoStore(settings.photo_dir)
    shas = [store.put(data).sha256 for data in leopard_files(len(SHOWN))]
    async with Database(settings.database) as database:
        await seed(database, BASE, dict(zip(SHOWN, shas, strict=True)))
        yield database


async def add(db: Database, sid: int, *, days: float, label: str = "jackal", **columns: object) -> None:
    """One more sighting at UST-01 in the seeded week, with its photo row and any other columns."""
    at = iso(BASE + timedelta(days=days))
    lat, lon = STATIONS["UST-01"][:2]
    await db.execute(
        "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, ?, 1, ?)",
        (f"x{sid}", f"x{sid}.jpg", at),
    )
    await db.execute(
        "INSERT INTO sightings (id, photo_sha256, ranger_id, taken_at, received_at, lat, lon, station_code, "
        "label, score, is_leopard, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'UST-01', ?, 0.1, 0, 'unreviewed')",
        (sid, f"x{sid}", SERIK, at, at, lat, lon, label),
    )
    for name, value in columns.items():  # names are this test's own
        await db.execute(f"UPDATE sightings SET {name} = ? WHERE id = ?", (value, sid))


async def swap_out(db: Database, old: int, new: int) -> None:
    """The sender swapped the photo of `old` for a jackal, sighting `new` (bot/intake/replacements.py)."""
    await add(db, new, days=3.45, replaces_id=old)
    await db.execute("UPDATE sightings SET replaced_by = ? WHERE id = ?", (new, old))


async def test_a_swapped_out_photo_is_out_of_counts_and_moves(db: Database) -> None:
    before = await build_summary(db, group(), *WEEK, settings=Settings())
    assert [(m.a.id, m.b.id) for m in before.moves] == [(1, 3), (3, 4)]
    await swap_out(db, 3, 12)  # #3: a confirmed leopard at KZS-01, between #1 and #4
    s = await build_summary(db, group(), *WEEK, settings=Settings())
    assert [e.id for e in s.events] == [1, 4, 5, 7]
    c = s.current
    assert (c.leopards, c.confirmed, c.unconfirmed, c.rejected) == (4, 2, 1, 1)
    assert c.photos == before.current.photos  # #3 out, the jackal that replaced it in
    assert [(x.key, x.total) for x in s.by_station] == [("KZS-01", 1), ("UST-01", 1)]
    assert [(m.a.id, m.b.id) for m in s.moves] == [(1, 4)]


async def test_a_forward_from_outside_moves_only_once_confirmed(db: Database) -> None:
    await db.execute("UPDATE sightings SET reported = 1, status = 'unreviewed' WHERE id = 3")
    s = await build_summary(db, group(), *WEEK, settings=Settings())
    assert [(m.a.id, m.b.id) for m in s.moves] == [(1, 4)]
    assert not next(e for e in s.events if e.id == 3).in_moves
    await db.execute("UPDATE sightings SET status = 'confirmed' WHERE id = 3")  # the coordinators accept it
    s = await build_summary(db, group(), *WEEK, settings=Settings())
    assert [(m.a.id, m.b.id) for m in s.moves] == [(1, 3), (3, 4)]


async def test_the_map_draws_no_arrow_to_a_swapped_out_photo(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[dict[str, Any]] = []

    def render_map(*args: Any, **kwargs: Any) -> bytes:
        drawn.append(kwargs)
        return b"png"

    monkeypatch.setattr(summary_parts, "render_map", render_map)
    await swap_out(db, 3, 12)
    store = PhotoStore(settings.photo_dir)
    await summary_parts.render_parts(db, store, settings, group(), *WEEK, skip={"text", "sheet", "csv"})
    [(a, b)] = [(m.a, m.b) for m in drawn[-1]["moves"]]
    kzs = STATIONS["KZS-01"][:2]
    assert kzs not in {(p.lat, p.lon) for p in (a, b)}  # #3 was the only leopard at KZS-01 in the moves


async def test_the_contact_sheet_leaves_a_swapped_out_photo_out(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    captions: list[list[str]] = []
    real_sheet = summary_parts.contact_sheet

    def record(images: list[bytes], texts: list[str], **kwargs: Any) -> bytes | None:
        captions.append(texts)
        return real_sheet(images, texts, **kwargs)

    monkeypatch.setattr(summary_parts, "contact_sheet", record)
    await swap_out(db, 3, 12)
    store = PhotoStore(settings.photo_dir)
    [sheet] = await summary_parts.render_parts(
        db, store, settings, group(), *WEEK, skip={"map", "text", "csv"}
    )
    assert [c.split()[0] for c in captions[-1]] == ["#1", "#4", "#7"]
    assert sheet.text.endswith("(3)")


async def test_the_summary_csv_leaves_empty_frames_out(db: Database, settings: Settings) -> None:
    async def csv_rows() -> list[dict[str, str]]:
        store = PhotoStore(settings.photo_dir)
        [part] = await summary_parts.render_parts(
            db, store, settings, group(), *WEEK, skip={"map", "text", "sheet"}
        )
        rows = list(csv.DictReader(io.StringIO(part.data.decode("utf-8-sig"))))
        assert f": {len(rows)}." in part.text  # the caption counts what the file holds
        return rows

    before = await csv_rows()
    await add(db, 30, days=2.5, label="", kind="empty", source="import")  # wind in the grass
    await add(db, 31, days=2.6, kind="animal", source="import")
    after = await csv_rows()
    assert len(after) == len(before) + 1  # the animal, not the empty frame
    # An export asked for explicitly still has it (Camtrap DP marks it blank).
    assert 30 in {r["id"] for r in await summary_parts.export_rows(db, *WEEK)}
