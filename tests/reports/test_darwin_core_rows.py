"""Darwin Core rows GBIF accepts: every occurrence has scientificName and occurrenceStatus, in the table
(CSV), in GeoJSON and in KML. A photo with a taxon is that taxon "present"; a coordinator's "other
species" is Animalia present (no species is named); "not a leopard" and the detector's "no leopard"
are the leopard "absent" (docs/EXPORTS.md, "Taxa and occurrenceStatus")."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import pandas as pd
import pytest

from bot.reports.exports import export
from storage.db import Database
from tests.support.exports import GRID, MONTH
from tests.support.sightings_world import ADMIN, seed

KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "dwc.sqlite3") as database:
        await seed(database)
        # Sighting 6 (a jackal by the model): a coordinator said "other species".
        await database.execute(
            "UPDATE sightings SET status = 'other', reviewed_by = ?, reviewed_at = taken_at WHERE id = 6",
            (ADMIN,),
        )
        yield database


async def rows(db: Database) -> dict[int, dict[str, object]]:
    data = await export(db, "csv", *MONTH, exact=True, grid_km=GRID)
    frame = pd.read_csv(io.StringIO(data.decode("utf-8-sig")), keep_default_na=False, na_values=[""])
    return {int(r["sightingID"]): r for r in frame.to_dict("records")}


async def test_every_row_names_a_taxon_and_its_status(db: Database) -> None:
    table = await rows(db)
    assert len(table) == 11
    for sid, r in table.items():
        assert isinstance(r["scientificName"], str) and r["scientificName"], sid
        assert r["occurrenceStatus"] in ("present", "absent"), sid
        assert r["kingdom"] == "Animalia" and r["taxonID"].startswith("https://www.gbif.org/species/"), sid


async def test_each_kind_of_photo_reads_as_gbif_expects(db: Database) -> None:
    table = await rows(db)
    said = {sid: (r["scientificName"], r["taxonRank"], r["occurrenceStatus"]) for sid, r in table.items()}
    assert said[1] == ("Panthera pardus", "species", "present")  # confirmed by a coordinator
    assert said[8] == ("Panthera pardus", "species", "present")  # the detector's leopard, not reviewed
    assert said[6] == ("Animalia", "kingdom", "present")  # "other species": an animal, no species named
    assert said[5] == ("Panthera pardus", "species", "absent")  # "not a leopard"
    assert said[10] == ("Panthera pardus", "species", "absent")  # the detector found no leopard
    # Whose call an absence is stays readable.
    assert table[5]["identificationRemarks"].startswith("no leopard: classified by a human")
    assert table[10]["identificationRemarks"].startswith("no leopard: classified by a machine")


async def test_geojson_and_kml_carry_the_same_terms(db: Database) -> None:
    table = await rows(db)
    doc = json.loads(await export(db, "geojson", *MONTH, exact=True, grid_km=GRID))
    for feature in doc["features"]:
        props, sid = feature["properties"], feature["id"]
        assert (props["scientificName"], props["occurrenceStatus"]) == (
            table[sid]["scientificName"],
            table[sid]["occurrenceStatus"],
        )
    kml = ET.fromstring(await export(db, "kml", *MONTH, exact=True, grid_km=GRID))
    names = {}
    for pm in kml.iter(f"{KML}Placemark"):
        data = {d.get("name"): d.text for d in pm.iter(f"{KML}SimpleData")}
        assert data["occurrenceStatus"] in ("present", "absent") and data["scientificName"]
        names[int(pm.get("id", "s0")[1:])] = pm.findtext(f"{KML}name") or ""
    # A placemark's name is what the photo shows, never the name of the leopard it lacks.
    assert "Panthera pardus" in names[1] and "Panthera pardus" not in names[10]
