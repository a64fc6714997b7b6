"""Camera Trap Data Package (Camtrap DP 1.0) export: datapackage.json + three CSV tables in a zip.

Mapping from the bot's model:
- deployments: one per camera station (deploymentID = locationID = station code, locationName = its
  name; in a rounded export both become a made-up alias, bot.exports.StationAliases, and the name is
  left out: with the station list either would give the exact place back). A photo sent away from any
  station becomes its own opportunistic pseudo-deployment "opportunistic-<sighting id>" at the photo's
  place (tagged "opportunistic"); photos with no place at all cannot be placed in a deployment, which
  needs coordinates, and are left out (their number is stated in the package description).
- media: one per photo (mediaID = SHA-256, filePath relative as in the bot's photo store, filePublic
  false: the photos are not published with the package).
- observations: one media-level observation per photo. A coordinator's decision wins over the model:
  confirmed -> animal, Panthera pardus, human; rejected ("not a leopard") -> blank, human;
  other species -> animal without a name, human. Unreviewed detections are machine classifications:
  leopard -> Panthera pardus, snow leopard -> Panthera uncia, anything else -> unknown (the leopard
  probability stayed below the threshold; the model's ImageNet label goes into the comments). A photo
  the ranger handed to the coordinators as a leopard (bot.escalations) and nobody has reviewed yet is
  the ranger's human classification, Panthera pardus, with the model's label in the comments.
"""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from bot.exports import station_ids
from bot.geo import Point, round_point
from bot.summaries import load_stations
from storage.db import Database, parse_iso

SCHEMA_DIR = Path(__file__).parent
VERSION = "1.0"
BASE_URL = f"https://raw.githubusercontent.com/tdwg/camtrap-dp/{VERSION}"
PROFILE_URL = f"{BASE_URL}/camtrap-dp-profile.json"
TABLES = ("deployments", "media", "observations")
TAXA = {
    "Panthera pardus": {"eng": "leopard", "rus": "леопард", "kaz": "қабылан"},
    "Panthera uncia": {"eng": "snow leopard", "rus": "ирбис", "kaz": "ілбіс"},
}
_KM_PER_DEGREE = 111.32


@cache
def table_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}-table-schema.json").read_text(encoding="utf-8"))


def columns(name: str) -> list[str]:
    # Frictionless checks the header against the schema's field order, so every table has all fields.
    return [f["name"] for f in table_schema(name)["fields"]]


def _z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(value: str | None) -> str:
    when = parse_iso(value)
    return _z(when) if when else ""


def _classify(r: dict[str, Any]) -> dict[str, Any]:
    status, reviewer = r["status"], r["reviewer"] or (str(r["reviewed_by"]) if r.get("reviewed_by") else "")
    human = {
        "classificationMethod": "human",
        "classifiedBy": reviewer,
        "classificationTimestamp": _stamp(r["reviewed_at"]),
    }
    if status == "confirmed":  # the review button says "confirm leopard", whatever the model's label
        return {"observationType": "animal", "scientificName": "Panthera pardus", **human}
    if status == "rejected":
        return {"observationType": "blank", **human}
    if status == "other":
        return {"observationType": "animal", **human}
    if r.get("escalated_by") is not None:
        return {
            "observationType": "animal",
            "scientificName": "Panthera pardus",
            "classificationMethod": "human",
            "classifiedBy": r["ranger"],
            "classificationTimestamp": _stamp(r.get("escalated_at")),
            "observationComments": f"reported by the ranger as a leopard; model label: {r['label']}",
        }
    machine = {
        "classificationMethod": "machine",
        "classifiedBy": r["model"] or "leopard-watch detector",
        "classificationProbability": f"{max(0.0, min(1.0, r['score'])):.4f}",
    }
    if r["label"] == "snow leopard":
        return {"observationType": "animal", "scientificName": "Panthera uncia", **machine}
    if r["is_leopard"]:
        return {"observationType": "animal", "scientificName": "Panthera pardus", **machine}
    return {"observationType": "unknown", "observationComments": f"model label: {r['label']}", **machine}


def _csv(name: str, records: Iterable[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns(name), lineterminator="\r\n", extrasaction="raise")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: v for k, v in rec.items() if v is not None})
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


async def package(
    db: Database,
    rows: list[dict[str, Any]],
    since: datetime | None,
    until: datetime | None,
    *,
    exact: bool,
    grid_km: float,
) -> bytes:
    """The zip bytes; `rows` come from bot.exports.export_rows (photos taken in [since, until))."""
    stations = {s.code: s for s in await load_stations(db)}
    deployments: dict[str, dict[str, Any]] = {}
    media, observations, unplaced = [], [], 0
    uncertainty = None if exact else math.ceil(grid_km * 1000 / math.sqrt(2))  # half a cell's diagonal

    def place(p: Point) -> Point:
        return p if exact else round_point(p, grid_km)

    station_id = station_ids(exact)

    for r in rows:
        taken = parse_iso(r["taken_at"])
        assert taken is not None
        station = stations.get(r["station_code"] or "")
        if station is not None:
            dep_id, where = station_id(station.code), place(station.point)
            extra = {
                "locationID": dep_id,
                "locationName": (station.name or None) if exact else None,
                "dstart": station.created_at,
            }
        elif r["lat"] is not None and r["lon"] is not None:
            dep_id, where = f"opportunistic-{r['id']}", place(Point(r["lat"], r["lon"]))
            extra = {"deploymentTags": f"opportunistic | locationSource:{r['location_source'] or 'unknown'}"}
        else:
            unplaced += 1
            continue
        dep = deployments.setdefault(
            dep_id,
            {
                "deploymentID": dep_id,
                "latitude": f"{where.lat:.6f}" if exact else f"{where.lat:.4f}",
                "longitude": f"{where.lon:.6f}" if exact else f"{where.lon:.4f}",
                "coordinateUncertainty": uncertainty,
                "deploymentGroups": f"area:{r['area']}" if r["area"] else None,
                "_point": where,
                "_first": taken,
                "_last": taken,
                **extra,
            },
        )
        dep["_first"], dep["_last"] = min(dep["_first"], taken), max(dep["_last"], taken)
        sha = r["photo_sha256"]
        media.append({
            "mediaID": sha, "deploymentID": dep_id, "timestamp": _z(taken),
            "filePath": f"media/{sha[:2]}/{sha}.jpg", "filePublic": "false", "fileName": f"{sha}.jpg",
            "fileMediatype": "image/jpeg",
        })  # fmt: skip
        observations.append({
            "observationID": f"obs-{r['id']}", "deploymentID": dep_id, "mediaID": sha,
            "eventID": str(r["event_id"]) if r["event_id"] else None, "eventStart": _z(taken),
            "eventEnd": _z(taken), "observationLevel": "media", **_classify(r),
        })  # fmt: skip
    for dep in deployments.values():
        start = min(dep.pop("_first"), dep.pop("dstart", None) or datetime.max.replace(tzinfo=UTC))
        dep["deploymentStart"], dep["deploymentEnd"] = _z(start), _z(dep.pop("_last"))
    points = [dep.pop("_point") for dep in deployments.values()]
    names = sorted({o["scientificName"] for o in observations if o.get("scientificName")})
    first = min((d["deploymentStart"] for d in deployments.values()), default=None)
    last = max((d["deploymentEnd"] for d in deployments.values()), default=None)
    start_day = (first or _z(since or datetime.now(UTC)))[:10]
    end_day = (last or _z(until or datetime.now(UTC)))[:10]
    descriptor: dict[str, Any] = {
        "resources": [
            {
                "name": n,
                "path": f"{n}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": f"{BASE_URL}/{n}-table-schema.json",
            }
            for n in TABLES
        ],
        "profile": PROFILE_URL,
        "name": f"leopard-watch-{start_day}-{end_day}",
        "id": str(uuid.uuid4()),
        "created": _z(datetime.now(UTC)),
        "title": f"Leopard Watch: camera-trap and ranger photos, Mangystau, {start_day} – {end_day}",
        "contributors": [{"title": "Leopard Watch coordinators", "role": "publisher"}],
        "description": (
            "Photos of the Central Asian (Persian) leopard monitoring in Mangystau, Kazakhstan, sent by "
            "rangers to the Leopard Watch bot and classified by its detector and by coordinators. "
            + (
                "Coordinates are exact. "
                if exact
                else f"Coordinates are rounded to a ~{grid_km:g} km grid, and camera stations are "
                "identified by aliases made up for this package. "
            )
            + f"{unplaced} photo(s) without any location were left out. Media files are not included."
        ),
        "version": "1.0",
        "keywords": ["camera traps", "Panthera pardus", "leopard", "Mangystau", "Kazakhstan"],
        "project": {
            "title": "Leopard Watch: Central Asian leopard monitoring in Mangystau",
            "samplingDesign": "opportunistic",
            "captureMethod": ["activityDetection"],
            "individualAnimals": False,
            "observationLevel": ["media"],
        },
        "spatial": _bbox_polygon(points),
        "temporal": {"start": start_day, "end": end_day},
        "taxonomic": [
            {"scientificName": n, "taxonRank": "species", "vernacularNames": TAXA[n]} for n in names
        ],
    }
    if not exact:
        descriptor["coordinatePrecision"] = round(grid_km / _KM_PER_DEGREE, 3)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2))
        zf.writestr("deployments.csv", _csv("deployments", deployments.values()))
        zf.writestr("media.csv", _csv("media", media))
        zf.writestr("observations.csv", _csv("observations", observations))
    return out.getvalue()
