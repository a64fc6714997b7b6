"""Exports: CSV, GeoJSON, KML and Camtrap DP parse and validate; coordinates rounded unless exact; /export."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import socket
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import frictionless
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from bot import export_cli
from bot.camtrapdp import SCHEMA_DIR, TABLES
from bot.exports import CSV_COLUMNS, export
from bot.geo import Point, round_point
from storage.db import Database
from tests.conftest import ADMIN, GROUP
from tests.test_summaries import BASE, STATIONS, Team, bot_team, seed, sha_for

__all__ = ["bot_team"]  # the fixture, imported for pytest to find
GRID = 10.0
MONTH = (BASE - timedelta(days=60), BASE + timedelta(days=7))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "e.sqlite3") as database:
        await seed(database)
        yield database


async def test_csv_has_the_documented_columns_and_rounds_coordinates(db: Database) -> None:
    rows = list(
        csv.DictReader(
            io.StringIO((await export(db, "csv", *MONTH, exact=False, grid_km=GRID)).decode("utf-8-sig"))
        )
    )
    assert tuple(rows[0]) == CSV_COLUMNS
    by_id = {int(r["id"]): r for r in rows}
    assert set(by_id) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
    snapped = round_point(Point(43.25, 51.85), GRID)
    assert (float(by_id[4]["lat"]), float(by_id[4]["lon"])) == (round(snapped.lat, 4), round(snapped.lon, 4))
    assert by_id[4]["area"] == "UST" and by_id[4]["station"] == "" and by_id[4]["location_source"] == "pin"
    assert by_id[7]["lat"] == "" and by_id[7]["area"] == ""
    assert by_id[1]["ranger"] == "Serik" and by_id[4]["ranger"] == "Aigerim <b>"
    assert by_id[1]["taken_at_utc"] == "2025-03-04T09:36:00Z" and by_id[1]["status"] == "confirmed"
    assert (by_id[5]["label"], by_id[5]["is_leopard"]) == ("snow leopard", "0")
    assert by_id[1]["photo_sha256"] == sha_for(1)
    exact = list(
        csv.DictReader(
            io.StringIO((await export(db, "csv", *MONTH, exact=True, grid_km=GRID)).decode("utf-8-sig"))
        )
    )
    assert {(r["lat"], r["lon"]) for r in exact if r["id"] == "4"} == {("43.250000", "51.850000")}


async def test_period_bounds_are_half_open(db: Database) -> None:
    data = await export(db, "csv", BASE, BASE + timedelta(days=7), exact=True, grid_km=GRID)
    ids = {int(r["id"]) for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))}
    assert ids == {1, 2, 3, 4, 5, 6, 7}  # 8 was taken before the week, 9-11 too


async def test_geojson_is_rfc7946(db: Database) -> None:
    doc = json.loads(await export(db, "geojson", *MONTH, exact=True, grid_km=GRID))
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 11
    by_id = {f["properties"]["id"]: f for f in doc["features"]}
    assert by_id[4]["geometry"] == {"type": "Point", "coordinates": [51.85, 43.25]}  # lon, lat
    assert by_id[7]["geometry"] is None
    assert "lat" not in by_id[4]["properties"] and by_id[4]["properties"]["status"] == "confirmed"
    rounded = json.loads(await export(db, "geojson", *MONTH, exact=False, grid_km=GRID))
    lon, lat = next(f for f in rounded["features"] if f["id"] == 4)["geometry"]["coordinates"]
    snapped = round_point(Point(43.25, 51.85), GRID)
    assert (lat, lon) == (round(snapped.lat, 4), round(snapped.lon, 4)) != (43.25, 51.85)


async def test_kml_is_kml_2_2_with_a_placemark_per_placed_photo(db: Database) -> None:
    root = ET.fromstring(await export(db, "kml", *MONTH, exact=False, grid_km=GRID))
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert root.tag == "{http://www.opengis.net/kml/2.2}kml"
    marks = root.findall("k:Document/k:Placemark", ns)
    assert len(marks) == 10  # #7 has no place
    four = next(m for m in marks if m.get("id") == "s4")
    lon, lat = map(float, four.findtext("k:Point/k:coordinates", namespaces=ns).split(","))
    snapped = round_point(Point(43.25, 51.85), GRID)
    assert (lat, lon) == (round(snapped.lat, 4), round(snapped.lon, 4))
    assert four.findtext("k:TimeStamp/k:when", namespaces=ns).endswith("Z")
    assert four.findtext("k:ExtendedData/k:Data[@name='ranger']/k:value", namespaces=ns) == "Aigerim <b>"


# --- Camtrap DP -------------------------------------------------------------------------------------------


def validate_camtrapdp(data: bytes, folder: Path) -> dict[str, Any]:
    """Validate offline: datapackage.json against the vendored Camtrap DP 1.0 profile (jsonschema), then
    the package, its three tables and their foreign keys against the vendored table schemas (frictionless).
    """
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == [
            "datapackage.json",
            "deployments.csv",
            "media.csv",
            "observations.csv",
        ]
        zf.extractall(folder)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    # The 1.0 profile's "#$defs/version" lacks a slash (fixed upstream in 1.0.1, tdwg/camtrap-dp#383).
    profile = json.loads((SCHEMA_DIR / "camtrap-dp-profile.json").read_text().replace("#$defs/", "#/$defs/"))
    geojson = json.loads((Path(frictionless.__file__).parent / "assets/profiles/geojson.json").read_text())
    registry: Registry[Any] = Registry().with_resources(
        [
            # The Data Package base profile: frictionless checks those rules below, so it is not fetched.
            ("https://frictionlessdata.io/schemas/data-package.json", DRAFT4.create_resource({})),
            ("http://json.schemastore.org/geojson.json", Resource.from_contents(geojson, DRAFT4)),
        ]
    )
    validator = jsonschema.Draft4Validator(
        profile, registry=registry, format_checker=jsonschema.FormatChecker()
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(descriptor)]
    assert not errors, errors
    # frictionless: the same descriptor with the remote profile/schema URLs swapped for the vendored files.
    local = dict(descriptor, resources=[dict(r) for r in descriptor["resources"]])
    del local["profile"]
    for resource in local["resources"]:
        resource["schema"] = json.loads((SCHEMA_DIR / f"{resource['name']}-table-schema.json").read_text())
    report = frictionless.Package(local, basepath=str(folder)).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    return descriptor


def table(folder: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / f"{name}.csv").read_text(encoding="utf-8"))))


def no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError("validation tried to reach the network")


async def test_camtrapdp_validates_offline(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = await export(db, "camtrapdp", *MONTH, exact=False, grid_km=GRID)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    descriptor = validate_camtrapdp(data, tmp_path)
    assert (
        descriptor["profile"]
        == "https://raw.githubusercontent.com/tdwg/camtrap-dp/1.0/camtrap-dp-profile.json"
    )
    assert [r["name"] for r in descriptor["resources"]] == list(TABLES)
    assert {t["scientificName"] for t in descriptor["taxonomic"]} == {"Panthera pardus"}
    assert (
        descriptor["coordinatePrecision"] == 0.09
        and "1 photo(s) without any location" in descriptor["description"]
    )
    deployments = {d["deploymentID"]: d for d in table(tmp_path, "deployments")}
    media = {m["mediaID"]: m for m in table(tmp_path, "media")}
    # Rounded: stations appear under aliases made up for this file (tests/test_untrusted_readers.py).
    ust01 = deployments[media[sha_for(1)]["deploymentID"]]
    assert len(deployments) == 4 and "opportunistic-4" in deployments
    assert ust01["deploymentID"].startswith("loc-") and ust01["locationID"] == ust01["deploymentID"]
    ust = round_point(Point(*STATIONS["UST-01"][:2]), GRID)
    assert (float(ust01["latitude"]), float(ust01["longitude"])) == (round(ust.lat, 4), round(ust.lon, 4))
    assert ust01["coordinateUncertainty"] == "7072" and ust01["locationName"] == ""
    assert ust01["deploymentGroups"] == "area:UST"
    assert len(media) == 10 and media[sha_for(1)]["filePublic"] == "false"
    assert media[sha_for(1)]["filePath"] == f"media/{sha_for(1)[:2]}/{sha_for(1)}.jpg"
    obs = {o["observationID"]: o for o in table(tmp_path, "observations")}
    assert (obs["obs-1"]["observationType"], obs["obs-1"]["scientificName"]) == ("animal", "Panthera pardus")
    assert (obs["obs-1"]["classificationMethod"], obs["obs-1"]["classifiedBy"]) == ("human", "Aigerim K.")
    assert (
        obs["obs-2"]["classifiedBy"] == "Aigerim K." and obs["obs-2"]["eventID"] == "1"
    )  # the burst's review
    assert (obs["obs-5"]["observationType"], obs["obs-5"]["classificationMethod"]) == ("blank", "human")
    assert (obs["obs-8"]["classificationMethod"], obs["obs-8"]["classificationProbability"]) == (
        "machine",
        "0.9100",
    )
    assert (obs["obs-6"]["observationType"], obs["obs-6"]["observationComments"]) == (
        "unknown",
        "model label: jackal",
    )


async def test_camtrapdp_exact_and_snow_leopard(db: Database, tmp_path: Path) -> None:
    await db.execute("UPDATE sightings SET status = 'unreviewed' WHERE id = 5")  # the model's word stands
    descriptor = validate_camtrapdp(await export(db, "camtrapdp", *MONTH, exact=True, grid_km=GRID), tmp_path)
    assert "coordinatePrecision" not in descriptor
    assert {t["scientificName"] for t in descriptor["taxonomic"]} == {"Panthera pardus", "Panthera uncia"}
    deployments = {d["deploymentID"]: d for d in table(tmp_path, "deployments")}
    four = deployments["opportunistic-4"]
    assert (four["latitude"], four["coordinateUncertainty"]) == ("43.250000", "")


async def test_camtrapdp_of_an_empty_period_still_validates(tmp_path: Path) -> None:
    async with Database(tmp_path / "empty.sqlite3") as empty:
        data = await export(empty, "camtrapdp", BASE, BASE + timedelta(days=1), exact=False, grid_km=GRID)
    descriptor = validate_camtrapdp(data, tmp_path / "out")
    assert descriptor["temporal"] == {"start": "2025-03-03", "end": "2025-03-04"}


async def test_cli_writes_the_export(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("LW_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("LW_DATABASE", str(db.path))
    parser = argparse.ArgumentParser()
    parser.add_argument("--env-file", default="")
    sub = parser.add_subparsers(dest="command")
    export_cli.add_parser(sub)
    out = tmp_path / "x.geojson"
    args = parser.parse_args(
        ["export", "--format", "geojson", "--since", "2025-03-03", "--until", "2025-03-09", "--out", str(out)]
    )
    assert await asyncio.to_thread(export_cli.run, args) == 0  # it runs its own event loop
    ids = {f["id"] for f in json.loads(out.read_bytes())["features"]}
    assert ids == {1, 2, 3, 4, 5, 6, 7}  # 3-9 March in Asia/Aqtau: 2 March 19:00 to 9 March 19:00 UTC


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
