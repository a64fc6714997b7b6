"""Camera Trap Data Package (Camtrap DP 1.0.2) export: datapackage.json + three CSV tables in a zip.

The tables are built in tables.py. The package is ready for GBIF: GBIF's camera-trap
guide converts it to Darwin Core with the R package camtrapdp (`write_dwc`), which keeps the
event-level "animal" observations only and reads, besides the tables:
- `licenses` (scope "data" -> dcterms:license; scope "media" -> the media extension's dcterms:rights),
  set from LW_DATA_LICENSE / LW_MEDIA_LICENSE;
- `contributors` (the contact, from LW_CONTACT_NAME / LW_CONTACT_EMAIL), `id`, `title`, `sources`;
- `taxonomic` (taxonID, here GBIF Backbone keys: bot.reports.exports.taxa.TAXA);
- `coordinatePrecision` (-> dataGeneralizations "coordinates rounded to ... degree") and the
  deployments' coordinateUncertainty (-> coordinateUncertaintyInMeters), set only when rounded.

Media: by default the zip holds the tables only, and says so where Camtrap DP can: filePublic false,
filePath a reference to the bot's server (tables.SERVER_PATH), and a sentence in the description.
With ExportOptions.media_from (--with-media, exact readers only: photos show places and people) it
carries every stored photo and clip under media/, filePath pointing there.

Version 1.0.2, not 1.0: the 1.0 profile's `"$ref": "#$defs/version"` (fixed in 1.0.1) makes current
frictionless-py fail to resolve it, so a package declaring 1.0 fails validation for every user.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from bot.geo import Point
from bot.places import load_deployments, load_stations
from bot.reports.exports.camtrapdp.tables import SERVER_PATH, Tables, build, z
from bot.reports.exports.records import ExportError, ExportOptions, Precision, neutralise, station_ids
from bot.reports.exports.taxa import TAXA
from storage.db import Database
from storage.photos import PhotoStore, VideoStore

SCHEMA_DIR = Path(__file__).parent
VERSION = "1.0.2"
BASE_URL = f"https://raw.githubusercontent.com/tdwg/camtrap-dp/{VERSION}"
PROFILE_URL = f"{BASE_URL}/camtrap-dp-profile.json"
TABLES = ("deployments", "media", "observations")
# SPDX ids GBIF accepts, with the deed each points to (Data Package licences carry both).
LICENSE_URLS = {
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-NC-4.0": "https://creativecommons.org/licenses/by-nc/4.0/",
}
PUBLISHER = "Leopard Watch coordinators"


@cache
def table_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}-table-schema.json").read_text(encoding="utf-8"))


def columns(name: str) -> list[str]:
    # Frictionless checks the header against the schema's field order, so every table has all fields.
    return [f["name"] for f in table_schema(name)["fields"]]


@cache
def text_columns(name: str) -> frozenset[str]:
    """The table's string fields: names, comments and tags people wrote are among them; numbers, dates
    and booleans (a negative latitude starts with "-") are not."""
    return frozenset(f["name"] for f in table_schema(name)["fields"] if f["type"] == "string")


def _csv(name: str, records: Iterable[dict[str, Any]]) -> bytes:
    """One table; text cells a spreadsheet would run as a formula are neutralised (records.neutralise)."""
    text = text_columns(name)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns(name), lineterminator="\r\n", extrasaction="raise")
    writer.writeheader()
    for rec in records:
        cells = {k: v for k, v in rec.items() if v is not None}
        writer.writerow({k: neutralise(str(v)) if k in text else v for k, v in cells.items()})
    return buf.getvalue().encode("utf-8")


def _bbox_polygon(points: list[Point]) -> dict[str, Any]:
    if points:
        s, n = min(p.lat for p in points), max(p.lat for p in points)
        w, e = min(p.lon for p in points), max(p.lon for p in points)
    else:  # nothing placed: the project's region, Mangystau
        s, w, n, e = 41.0, 50.0, 46.0, 57.0
    if n - s < 0.01:
        s, n = s - 0.005, n + 0.005
    if e - w < 0.01:
        w, e = w - 0.005, e + 0.005
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    return {"type": "Polygon", "coordinates": [[[round(x, 4), round(y, 4)] for x, y in ring]]}


def _license(name: str, scope: str) -> dict[str, str]:
    entry = {"name": name, "scope": scope}
    if name in LICENSE_URLS:
        entry["path"] = LICENSE_URLS[name]
    return entry


def _resource(name: str) -> dict[str, str]:
    return {
        "name": name,
        "path": f"{name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": f"{BASE_URL}/{name}-table-schema.json",
    }


def _taxon(name: str) -> dict[str, Any]:
    taxon = TAXA[name]
    return {
        "scientificName": name,
        "taxonID": taxon.taxon_id,
        "taxonRank": taxon.rank,
        "kingdom": "Animalia",
        "vernacularNames": taxon.vernacular,
    }


def contributors(opts: ExportOptions) -> list[dict[str, str]]:
    contact = {"title": opts.contact_name or PUBLISHER, "role": "contact"}
    if opts.contact_email:
        contact["email"] = opts.contact_email
    return [contact, {"title": PUBLISHER, "role": "publisher"}]


def descriptor(
    tables: Tables,
    since: datetime | None,
    until: datetime | None,
    precision: Precision,
    opts: ExportOptions,
    media_note: str = "",
) -> dict[str, Any]:
    names = sorted({o["scientificName"] for o in tables.observations if o.get("scientificName")})
    deps = tables.deployments.values()
    first = min((d["deploymentStart"] for d in deps), default=None)
    last = max((d["deploymentEnd"] for d in deps), default=None)
    start_day = (first or z(since or datetime.now(UTC)))[:10]
    end_day = (last or z(until or datetime.now(UTC)))[:10]
    places = (
        "Coordinates are exact. "
        if precision.exact
        else f"Coordinates are rounded to a ~{precision.grid_km:g} km grid, and camera stations are "
        "identified by aliases made up for this package. "
    )
    out: dict[str, Any] = {
        "resources": [_resource(n) for n in TABLES],
        "profile": PROFILE_URL,
        "name": f"leopard-watch-{start_day}-{end_day}",
        "id": str(uuid.uuid4()),
        "created": z(datetime.now(UTC)),
        "title": f"Leopard Watch: camera-trap and ranger photos, Mangystau, {start_day} – {end_day}",
        "contributors": contributors(opts),
        "description": (
            "Photos of the Central Asian (Persian) leopard monitoring in Mangystau, Kazakhstan, sent by "
            "rangers to the Leopard Watch bot and classified by its detector and by coordinators. "
            + places
            + f"{tables.unplaced} photo(s) without any location were left out. "
            + (media_note or _SERVER_NOTE)
        ),
        "version": "1.0",
        "keywords": ["camera traps", "Panthera pardus", "leopard", "Mangystau", "Kazakhstan"],
        "sources": [{"title": "Leopard Watch"}],
        "licenses": [_license(opts.data_license, "data"), _license(opts.media_license, "media")],
        "project": {
            "title": "Leopard Watch: Central Asian leopard monitoring in Mangystau",
            "samplingDesign": "opportunistic",
            "captureMethod": ["activityDetection"],
            # Issue 25: true once any observation names an individual (bot.individuals).
            "individualAnimals": any(o.get("individualID") for o in tables.observations),
            "observationLevel": ["media", "event"],
        },
        "spatial": _bbox_polygon(tables.points),
        "temporal": {"start": start_day, "end": end_day},
        "taxonomic": [_taxon(n) for n in names],
    }
    if not precision.exact:
        out["coordinatePrecision"] = precision.degrees
    return out


_SERVER_NOTE = (
    "Media files are not in this package: they stay on the Leopard Watch server, not public "
    f"(filePublic false); filePath ({SERVER_PATH}...) names each file there. Ask the coordinators for them."
)


def _media_files(tables: Tables, media_from: Path) -> tuple[list[tuple[str, Path]], int]:
    """(path in the zip, file on disk) for every stored media file, its filePath moved into the zip;
    a file missing from the store keeps its server reference and is counted."""
    photos, videos = PhotoStore(media_from), VideoStore(media_from / "videos")
    files, missing = [], 0
    for m in tables.media:
        store = videos if m["fileMediatype"].startswith("video/") else photos
        source = store.path_for(m["mediaID"])
        if not source.is_file():
            missing += 1
            continue
        inside = f"media/{m['mediaID'][:2]}/{source.name}"
        m["filePath"] = inside
        files.append((inside, source))
    return files, missing


async def package(
    db: Database,
    rows: list[dict[str, Any]],
    since: datetime | None,
    until: datetime | None,
    *,
    precision: Precision,
    options: ExportOptions | None = None,
) -> bytes:
    """The zip bytes; `rows` come from records.export_rows (photos taken in [since, until))."""
    opts = options or ExportOptions()
    stations = {s.code: s for s in await load_stations(db)}
    videos = sorted({r["video_sha256"] for r in rows if r.get("video_sha256")})
    kinds: dict[str, tuple[str, str]] = {}  # the clip's stored path and FFmpeg demuxer (migration 0009)
    for start in range(0, len(videos), 500):  # SQLite's parameter limit
        chunk = videos[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found = await db.fetchall(
            f"SELECT sha256, path, container FROM videos WHERE sha256 IN ({marks})", chunk
        )
        kinds.update({f["sha256"]: (f["path"], f["container"]) for f in found})
    # Recorded deployments carry the real periods (issue 26); the card import names its frames' one.
    deployments = await load_deployments(db, since, until)
    named = {
        int(r["id"]): int(r["deployment_id"])
        for r in await db.fetchall("SELECT id, deployment_id FROM sightings WHERE deployment_id IS NOT NULL")
    }
    tables = build(
        rows, stations, precision, station_ids(precision.exact), kinds, deployments, until, named
    )
    files: list[tuple[str, Path]] = []
    note = ""
    if opts.media_from is not None:
        if not precision.exact:  # fail closed: photos carry what rounding hides (imprints, landmarks)
            raise ExportError("media files go only into an exact export (--exact)")
        files, missing = _media_files(tables, opts.media_from)
        gone = (
            f"{missing} file(s) missing from the server's store keep their server reference. "
            if missing
            else ""
        )
        note = (
            f"Media files are in this package, under media/ ({len(files)} file(s)). {gone}"
            "They are not public (filePublic false): do not publish them."
        )
    meta = descriptor(tables, since, until, precision, opts, note)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("datapackage.json", json.dumps(meta, ensure_ascii=False, indent=2))
        zf.writestr("deployments.csv", _csv("deployments", tables.deployments.values()))
        zf.writestr("media.csv", _csv("media", tables.media))
        zf.writestr("observations.csv", _csv("observations", tables.observations))
        for inside, source in files:  # JPEG and video compress no further: stored, not deflated
            zf.write(source, inside, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()
