"""Validators and readers the export tests share: the official artefacts in tests/standards/ (copied from
../shared/standards with their licences, see tests/standards/README.md), offline.

- Camtrap DP: frictionless-py validates the package as any user's would: it fetches the profile and table
  schemas the descriptor names (the official 1.0.2 URLs), checks the descriptor against the profile,
  every table against its schema, and the foreign keys between tables. Only the transport is swapped:
  a requests session that serves those URLs from tests/standards/ and refuses any other.
- KML: lxml against the OGC KML 2.2 XSD (with its xAL and Atom imports, local).
- GeoJSON: jsonschema against the GeoJSON FeatureCollection schema (geojson/schema).
"""

from __future__ import annotations

import csv
import io
import json
import struct
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import frictionless
import jsonschema
import pyogrio
import requests
from lxml import etree
from requests.adapters import BaseAdapter
from requests.models import PreparedRequest, Response

from tests.support.paths import REPO, STANDARDS

CAMTRAP = STANDARDS / "camtrap-dp"
EXAMPLE = CAMTRAP / "1.0.2" / "example"
RAW = "https://raw.githubusercontent.com/tdwg/camtrap-dp"
# What frictionless fetches for a Camtrap DP 1.0.2 package, and where the official copy is here. The
# 1.0.2 table schemas are the ones the bot writes against (bot/reports/exports/camtrapdp/), verbatim
# from tag 1.0.2.
BOT_SCHEMAS = REPO / "bot" / "reports" / "exports" / "camtrapdp"
FRICTIONLESS_ASSETS = Path(frictionless.__file__).parent / "assets"
DATA_PACKAGE = STANDARDS / "frictionless" / "data-package.json"  # Data Package v1, the profile's base
OFFLINE = {
    f"{RAW}/1.0.2/camtrap-dp-profile.json": BOT_SCHEMAS / "camtrap-dp-profile.json",
    **{f"{RAW}/1.0.2/{t}-table-schema.json": BOT_SCHEMAS / f"{t}-table-schema.json"
       for t in ("deployments", "media", "observations")},
    f"{RAW}/1.0/camtrap-dp-profile.json": CAMTRAP / "1.0" / "camtrap-dp-profile.json",
    "https://specs.frictionlessdata.io/schemas/data-package.json": DATA_PACKAGE,
    # The profile's "spatial" is GeoJSON; frictionless ships that schema (a copy of schemastore's).
    "http://json.schemastore.org/geojson.json": FRICTIONLESS_ASSETS / "profiles/geojson.json",
}  # fmt: skip


class OfflineStandards(BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        url = str(request.url)
        if url not in OFFLINE:
            raise AssertionError(f"validation tried to reach the network: {url}")
        self.fetched.append(url)
        response = Response()
        response.status_code, response.url, response.request = 200, url, request
        response.raw = io.BytesIO(OFFLINE[url].read_bytes())
        return response

    def close(self) -> None:
        pass


def frictionless_report(datapackage: Path) -> tuple[frictionless.Report, list[str]]:
    """frictionless's own validation of a package on disk (descriptor, profile, tables, foreign keys)."""
    adapter = OfflineStandards()
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    with frictionless.system.use_context(http_session=session):
        # validate() rather than Package(...).validate(): a descriptor that fails the profile is a report
        # with its errors, as `frictionless validate` prints it, not an exception.
        report = frictionless.validate(str(datapackage))
    return report, adapter.fetched


def validate_package_dir(folder: Path) -> dict[str, Any]:
    report, fetched = frictionless_report(folder / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    descriptor: dict[str, Any] = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    # The profile and every table schema were really read (a validator that skipped them would pass).
    assert descriptor["profile"] in fetched
    assert {r["schema"] for r in descriptor["resources"] if isinstance(r.get("schema"), str)} <= set(fetched)
    return descriptor


def validate_camtrapdp(data: bytes, folder: Path) -> dict[str, Any]:
    """Unzip a Camtrap DP export into `folder` and validate it as validate_package_dir does."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == [
            "datapackage.json",
            "deployments.csv",
            "media.csv",
            "observations.csv",
        ]
        zf.extractall(folder)
    return validate_package_dir(folder)


def table(folder: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / f"{name}.csv").read_text(encoding="utf-8"))))


@cache
def kml_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(STANDARDS / "kml-2.2/ogc/kml/2.2.0/ogckml22-local.xsd")))


def validate_kml(data: bytes) -> None:
    schema = kml_schema()
    ok = schema.validate(etree.fromstring(data))
    assert ok, [f"line {e.line}: {e.message}" for e in schema.error_log]


def validate_geojson(doc: dict[str, Any]) -> None:
    schema = json.loads((STANDARDS / "geojson" / "FeatureCollection.json").read_text(encoding="utf-8"))
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(doc)
    ]
    assert not errors, errors


def gdal_read(
    path: Path, **kwargs: Any
) -> tuple[list[str], list[tuple[float, float] | None], dict[str, Any]]:
    """Read a vector file with GDAL (pyogrio): field names, (lon, lat) per feature, column values."""
    meta, _, geometry, values = pyogrio.raw.read(path, **kwargs)
    points = [None if g is None else point_from_wkb(g) for g in geometry]
    columns = {name: list(col) for name, col in zip(meta["fields"], values, strict=True)}
    return list(meta["fields"]), points, {"meta": meta, **columns}


def point_from_wkb(wkb: bytes) -> tuple[float, float]:
    order = "<" if wkb[0] == 1 else ">"
    # EWKB keeps Z/M flags in the high bits, ISO WKB adds 1000s: a 3D point is still a point.
    kind = (struct.unpack(f"{order}I", wkb[1:5])[0] & 0x0FFFFFFF) % 1000
    assert kind == 1, f"not a point: WKB type {kind}"
    x, y = struct.unpack(f"{order}dd", wkb[5:21])
    return x, y
