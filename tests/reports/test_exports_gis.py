"""GeoJSON and KML exports: valid against the GeoJSON schema and the OGC KML 2.2 XSD, and read back with
GDAL (pyogrio; the KML through its LIBKML driver, as QGIS reads it) with the values of the database."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyogrio
import pytest

from bot.geo import Point, round_point
from bot.reports.exports import export
from storage.db import Database
from tests.support.exports import GRID, MONTH, database_rows
from tests.support.sightings_world import seed
from tests.support.validators import gdal_read, validate_geojson, validate_kml

KML = {"k": "http://www.opengis.net/kml/2.2"}


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "g.sqlite3") as database:
        await seed(database)
        yield database


def expected_point(s: dict[str, Any], exact: bool) -> tuple[float, float] | None:
    if s["lat"] is None:
        return None
    p = Point(s["lat"], s["lon"]) if exact else round_point(Point(s["lat"], s["lon"]), GRID)
    digits = 6 if exact else 4
    return round(p.lon, digits), round(p.lat, digits)


@pytest.mark.parametrize("exact", [False, True])
async def test_geojson_is_valid_typed_and_reads_back_in_gdal(
    db: Database, tmp_path: Path, exact: bool
) -> None:
    data = await export(db, "geojson", *MONTH, exact=exact, grid_km=GRID)
    doc = json.loads(data)
    validate_geojson(doc)
    stored = await database_rows(db)
    by_id = {f["id"]: f for f in doc["features"]}
    assert set(by_id) == set(stored) and by_id[7]["geometry"] is None  # no place yet: still listed
    for sid, f in by_id.items():
        props = f["properties"]
        # Numbers as numbers, flags as booleans: a GIS user can filter score > 0.5 without casting.
        assert isinstance(props["score"], float) and props["score"] == pytest.approx(stored[sid]["score"])
        assert isinstance(props["sightingID"], int) and isinstance(props["is_leopard"], bool)
        assert "decimalLatitude" not in props and props["eventDate"] == stored[sid]["taken_at"].replace(
            "+00:00", "Z"
        )
        point = expected_point(stored[sid], exact)
        assert (tuple(f["geometry"]["coordinates"]) if f["geometry"] else None) == point
        if point and not exact:
            assert props["coordinateUncertaintyInMeters"] == 7072 and props["coordinatePrecision"] == 0.09
            assert "rounded to a ~10 km grid" in props["dataGeneralizations"]
    path = tmp_path / "x.geojson"
    path.write_bytes(data)
    fields, points, columns = gdal_read(path)
    ogr_types = dict(zip(fields, columns["meta"]["ogr_types"], strict=True))
    assert ogr_types["score"] == "OFTReal" and ogr_types["sightingID"] == "OFTInteger"
    if not exact:  # in an exact file the field is null throughout, so GDAL cannot tell its type
        assert ogr_types["coordinateUncertaintyInMeters"] == "OFTInteger"
    for sid, point in zip(columns["sightingID"], points, strict=True):
        assert point == expected_point(stored[int(sid)], exact)


@pytest.mark.parametrize("exact", [False, True])
async def test_kml_passes_the_ogc_schema_and_libkml_reads_typed_fields(
    db: Database, tmp_path: Path, exact: bool
) -> None:
    data = await export(db, "kml", *MONTH, exact=exact, grid_km=GRID)
    validate_kml(data)  # TimeStamp before styleUrl, SchemaData after Schema, ...
    root = ET.fromstring(data)
    marks = root.findall("k:Document/k:Placemark", KML)
    assert len(marks) == 10  # #7 has no place
    four = next(m for m in marks if m.get("id") == "s4")
    assert four.findtext("k:TimeStamp/k:when", namespaces=KML) == "2025-03-07T09:36:00Z"
    path = tmp_path / "x.kml"
    path.write_bytes(data)
    fields, points, columns = gdal_read(path, layer=0)
    assert pyogrio.read_info(path)["driver"] == "LIBKML"
    types = dict(zip(fields, columns["meta"]["ogr_types"], strict=True))
    # LIBKML's own fields (id, name, description, timestamp, ...) stay its own; ours keep their types.
    assert (types["sightingID"], types["score"], types["coordinateUncertaintyInMeters"]) == (
        "OFTInteger", "OFTReal", "OFTInteger",  # the Schema types it even where every value is null
    )  # fmt: skip
    assert set(columns["id"]) == {f"s{sid}" for sid in range(1, 12) if sid != 7}
    stored = await database_rows(db)
    for i, sid in enumerate(columns["sightingID"]):
        s = stored[int(sid)]
        assert points[i] == pytest.approx(expected_point(s, exact))
        assert columns["score"][i] == pytest.approx(s["score"]) and columns["recordedBy"][i] == s["ranger"]
        assert bool(columns["is_leopard"][i]) == bool(s["is_leopard"])
        if not exact:
            assert columns["coordinateUncertaintyInMeters"][i] == 7072
            assert "rounded to a ~10 km grid" in columns["dataGeneralizations"][i]
    # When: LIBKML reads the placemark's time as a timestamp.
    stamp = columns["timestamp"][list(columns["sightingID"]).index(4)]
    assert str(stamp).startswith("2025-03-07T09:36")
