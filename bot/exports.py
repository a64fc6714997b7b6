"""Sightings out of the bot for coordinators and scientists: CSV, GeoJSON, KML and Camtrap DP 1.0.

Coordinates are snapped with bot.geo.round_point unless the caller may see exact ones (trusted group
or an admin in private); captions are never exported because rangers type coordinates into them.
A rounded export has no station codes or names either: anyone with the station list would read the
exact place from them. Each station gets a made-up alias instead (StationAliases).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from bot.geo import Point, round_point
from bot.summaries import AreaFinder, load_stations
from storage.db import Database, iso, parse_iso

FORMATS = ("csv", "geojson", "kml", "camtrapdp")
EXTENSIONS = {"csv": "csv", "geojson": "geojson", "kml": "kml", "camtrapdp": "zip"}
MEDIA_TYPES = {
    "csv": "text/csv",
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
    "camtrapdp": "application/zip",
}
CSV_COLUMNS = (
    "id", "taken_at_utc", "received_at_utc", "lat", "lon", "location_source", "station", "area", "ranger",
    "label", "score", "is_leopard", "reported_by_ranger", "status", "photo_sha256",
)  # fmt: skip
KML_NS = "http://www.opengis.net/kml/2.2"


class ExportError(ValueError):
    pass


def z(value: str | None) -> str:
    """ISO-8601 UTC with a Z designator, the form Camtrap DP's examples and most tools expect."""
    dt = parse_iso(value)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if dt else ""


def shown(lat: float | None, lon: float | None, exact: bool, grid_km: float) -> Point | None:
    if lat is None or lon is None:
        return None
    p = Point(lat, lon)
    return p if exact else round_point(p, grid_km)


class StationAliases:
    """Made-up station ids for one rounded export ("loc-3fa91c").

    Within the file a station keeps its alias, so photos from one camera still group together; the
    next export draws new ones, so no table of aliases can be built up over time and matched with
    the station list. Random rather than a hash of the code: the codes are few and guessable.
    """

    def __init__(self) -> None:
        self._aliases: dict[str, str] = {}

    def __call__(self, code: str | None) -> str:
        if not code:
            return ""
        if code not in self._aliases:
            taken = set(self._aliases.values())
            alias = f"loc-{secrets.token_hex(3)}"
            while alias in taken:
                alias = f"loc-{secrets.token_hex(3)}"
            self._aliases[code] = alias
        return self._aliases[code]


def station_ids(exact: bool) -> Callable[[str | None], str]:
    """How station codes appear in an export: as they are (exact), else as aliases for this one file."""
    return (lambda code: code or "") if exact else StationAliases()


def coord(value: float, exact: bool) -> str:
    # Snapped values carry float noise (43.2117...000001); four decimals (~10 m) keep all they hold.
    return f"{value:.6f}" if exact else f"{value:.4f}"


async def export_rows(db: Database, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
    """Every photo taken in [since, until), oldest first, with station area, ranger and reviewer."""
    rows = await db.fetchall(
        """SELECT s.id, s.event_id, s.photo_sha256, s.ranger_id, s.taken_at, s.received_at, s.lat, s.lon,
                  s.location_source, s.station_code, s.label, s.score, s.is_leopard, s.status, s.model,
                  s.reviewed_at, s.reviewed_by, s.escalated_by, s.escalated_at, r.name AS ranger_name,
                  r.username AS ranger_username,
                  (SELECT rv.user_name FROM reviews rv WHERE rv.sighting_id = COALESCE(s.event_id, s.id)
                   ORDER BY rv.id DESC LIMIT 1) AS reviewer
           FROM sightings s LEFT JOIN rangers r ON r.user_id = s.ranger_id
           WHERE s.taken_at >= ? AND s.taken_at < ? ORDER BY s.taken_at, s.id""",
        (iso(since) if since else "", iso(until) if until else "9999"),
    )
    area_of = AreaFinder(await load_stations(db))
    out = []
    for raw in rows:
        r = dict(raw)
        point = Point(r["lat"], r["lon"]) if r["lat"] is not None and r["lon"] is not None else None
        r["area"] = area_of(r["station_code"], point)
        name = r["ranger_name"] or (f"@{r['ranger_username']}" if r["ranger_username"] else "")
        r["ranger"] = name or (str(r["ranger_id"]) if r["ranger_id"] is not None else "")
        out.append(r)
    return out


def _record(
    r: dict[str, Any], exact: bool, grid_km: float, station: Callable[[str | None], str]
) -> dict[str, Any]:
    p = shown(r["lat"], r["lon"], exact, grid_km)
    return {
        "id": r["id"],
        "taken_at_utc": z(r["taken_at"]),
        "received_at_utc": z(r["received_at"]),
        "lat": coord(p.lat, exact) if p else "",
        "lon": coord(p.lon, exact) if p else "",
        "location_source": r["location_source"] or "",
        "station": station(r["station_code"]),
        "area": r["area"] or "",
        "ranger": r["ranger"],
        "label": r["label"],
        "score": f"{r['score']:.4f}",
        "is_leopard": int(r["is_leopard"]),
        "reported_by_ranger": int(r["escalated_by"] is not None),  # "it is a leopard" (bot.escalations)
        "status": r["status"],
        "photo_sha256": r["photo_sha256"],
    }


def to_csv(rows: Iterable[dict[str, Any]], exact: bool, grid_km: float) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    station = station_ids(exact)
    for r in rows:
        writer.writerow(_record(r, exact, grid_km, station))
    # A BOM makes Excel, which coordinators open CSV files with, read Cyrillic names as UTF-8.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_geojson(rows: Iterable[dict[str, Any]], exact: bool, grid_km: float) -> bytes:
    """RFC 7946: [lon, lat], WGS84, and a null geometry for photos that have no place yet."""
    features = []
    station = station_ids(exact)
    for r in rows:
        rec = _record(r, exact, grid_km, station)
        lat, lon = rec.pop("lat"), rec.pop("lon")
        geometry = {"type": "Point", "coordinates": [float(lon), float(lat)]} if lat != "" else None
        features.append({"type": "Feature", "id": rec["id"], "geometry": geometry, "properties": rec})
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def to_kml(rows: Iterable[dict[str, Any]], exact: bool, grid_km: float) -> bytes:
    """KML 2.2 placemarks (photos without a place are left out: a placemark needs a point)."""
    ET.register_namespace("", KML_NS)
    kml = ET.Element(f"{{{KML_NS}}}kml")
    doc = ET.SubElement(kml, f"{{{KML_NS}}}Document")
    ET.SubElement(doc, f"{{{KML_NS}}}name").text = "Leopard Watch sightings"
    colours = {"confirmed": "ff2827d6", "unreviewed": "ff148cf5", "rejected": "ff969696", "other": "ff969696"}
    for status, colour in colours.items():  # KML colours are aabbggrr
        style = ET.SubElement(doc, f"{{{KML_NS}}}Style", id=status)
        icon = ET.SubElement(style, f"{{{KML_NS}}}IconStyle")
        ET.SubElement(icon, f"{{{KML_NS}}}color").text = colour
    station = station_ids(exact)
    for r in rows:
        rec = _record(r, exact, grid_km, station)
        if rec["lat"] == "":
            continue
        pm = ET.SubElement(doc, f"{{{KML_NS}}}Placemark", id=f"s{rec['id']}")
        ET.SubElement(pm, f"{{{KML_NS}}}name").text = f"#{rec['id']} {rec['label']}"
        ET.SubElement(pm, f"{{{KML_NS}}}styleUrl").text = f"#{rec['status']}"
        stamp = ET.SubElement(pm, f"{{{KML_NS}}}TimeStamp")
        ET.SubElement(stamp, f"{{{KML_NS}}}when").text = rec["taken_at_utc"]
        data = ET.SubElement(pm, f"{{{KML_NS}}}ExtendedData")
        for key in CSV_COLUMNS:
            if key not in ("lat", "lon"):
                item = ET.SubElement(data, f"{{{KML_NS}}}Data", name=key)
                ET.SubElement(item, f"{{{KML_NS}}}value").text = str(rec[key])
        point = ET.SubElement(pm, f"{{{KML_NS}}}Point")
        ET.SubElement(point, f"{{{KML_NS}}}coordinates").text = f"{rec['lon']},{rec['lat']}"
    return ET.tostring(kml, encoding="utf-8", xml_declaration=True)


async def export(
    db: Database,
    fmt: str,
    since: datetime | None,
    until: datetime | None,
    *,
    exact: bool,
    grid_km: float,
) -> bytes:
    """The sightings taken in [since, until) (UTC-aware; None = open end) as one file's bytes."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    for bound in (since, until):
        if bound is not None and bound.utcoffset() is None:
            raise ExportError("since/until must be timezone-aware")
    rows = await export_rows(db, since, until)
    writer = {"csv": to_csv, "geojson": to_geojson, "kml": to_kml}.get(fmt)
    if writer is not None:  # a year is ~1 s of formatting: keep the bot's event loop free meanwhile
        return await asyncio.to_thread(writer, rows, exact, grid_km)
    from bot.camtrapdp import package  # only this format needs the stations table and the zip writer

    return await package(db, rows, since, until, exact=exact, grid_km=grid_km)
