"""The catalogue (issue 25, point 1): the command-line import of a research team's folder, codes, the
audit of every change, and movement lines that leave out moves between two different known animals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.alerts.movement import previous_moves
from bot.cli.catalogue import flank_of
from bot.cli.main import main
from bot.geo import Point
from bot.individuals import Catalogue, CatalogueError
from storage.db import Database, iso
from tests.support.paths import SAMPLES
from tests.support.sightings_world import seed


def _env(tmp_path: Path) -> Path:
    env = tmp_path / ".env"
    env.write_text(f"LW_DATA_DIR={tmp_path / 'data'}\n")
    return env


def test_import_a_folder_then_list_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "catalogue"
    photos = sorted(SAMPLES.glob("*.jpg"))[:3]
    (folder / "PL-M1" / "left").mkdir(parents=True)
    (folder / "PL-F2").mkdir(parents=True)
    (folder / "PL-M1" / "left" / "a.jpg").write_bytes(photos[0].read_bytes())
    (folder / "PL-M1" / "b_right.jpg").write_bytes(photos[1].read_bytes())
    (folder / "PL-F2" / "c.jpg").write_bytes(photos[2].read_bytes())
    env = str(_env(tmp_path))
    assert main(["--env-file", env, "individuals", "import", str(folder)]) == 0
    assert "2 new individuals, 3 reference photos added" in capsys.readouterr().out
    # Again: nothing new, nothing doubled.
    assert main(["--env-file", env, "individuals", "import", str(folder)]) == 0
    assert "0 new individuals, 0 reference photos added" in capsys.readouterr().out
    assert main(["--env-file", env, "individuals", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["code"], r["references"]) for r in rows] == [("PL-F2", 1), ("PL-M1", 2)]


def test_flank_from_the_path() -> None:
    animal = Path("/c/PL-M1")
    assert flank_of(animal / "left" / "x.jpg", animal) == "left"
    assert flank_of(animal / "IMG_right_3.jpg", animal) == "right"
    assert flank_of(animal / "bright.jpg", animal) == "unknown"  # a word, not a part of one


async def test_codes_and_audit(tmp_path: Path) -> None:
    async with Database(tmp_path / "db.sqlite3") as db:
        cat = Catalogue(db)
        async with db.transaction() as conn:
            first = await cat.create(conn, code=None, by=1, by_name="A", sex="male")
            second = await cat.create(conn, code=None, by=1, by_name="A", sex="male")
        assert (first.code, second.code) == ("PL-M1", "PL-M2")
        with pytest.raises(CatalogueError):
            async with db.transaction() as conn:
                await cat.create(conn, code="pl-m1", by=1)  # codes are one animal whatever the case
        with pytest.raises(CatalogueError):
            async with db.transaction() as conn:
                await cat.create(conn, code="bad code!", by=1)
        changed = await cat.update("PL-M1", by=2, by_name="B", name="Barys", sex="female")
        assert (changed.name, changed.sex) == ("Barys", "female")
        audit = await cat.history(first.id)
        assert [a["what"] for a in audit] == ["created", "edited"]
        assert json.loads(audit[1]["before"]) == {"name": None, "sex": "male"}
        assert (audit[1]["by_user"], audit[1]["by_name"]) == (2, "B")


async def test_movement_lines_skip_moves_between_two_known_animals(tmp_path: Path) -> None:
    base = datetime(2025, 3, 3, tzinfo=UTC)
    async with Database(tmp_path / "db.sqlite3") as db:
        await seed(db, base)  # confirmed events 1 (UST-01), 3 (KZS-01), 4 (near UST-01)
        cat = Catalogue(db)
        async with db.transaction() as conn:
            a = await cat.create(conn, code="PL-M1", by=1)
            b = await cat.create(conn, code="PL-M2", by=1)
            for event, ind in ((3, a), (4, b)):
                await conn.execute(
                    "INSERT INTO identifications (event_id, decision, individual_id, decided_by, at) "
                    "VALUES (?, 'same', ?, 1, ?)",
                    (event, ind.id, iso(base)),
                )
        here = Point(43.25, 51.85)
        before = await previous_moves(db, 3, Point(44.10, 51.30), base + timedelta(days=3.4), days=60,
                                      max_km_per_day=40)  # fmt: skip
        assert [m.other_id for m in before] == [1, 9]  # unidentified events still count
        moves = await previous_moves(db, 4, here, base + timedelta(days=4.4), days=60, max_km_per_day=40)
        # Event 3 is PL-M1 and this one PL-M2: no move of one animal. Events 1 and 9 are unidentified.
        assert [m.other_id for m in moves] == [1, 9]
