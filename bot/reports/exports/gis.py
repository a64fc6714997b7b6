"""GeoJSON (RFC 7946) and KML 2.2 (OGC 07-147r2) of the Darwin Core occurrence records (occurrence.py).

GeoJSON: [lon, lat] in WGS84, properties typed as JSON (numbers as numbers, booleans, null), a null
geometry for a photo with no place yet, so the file still lists every photo.

KML: one placemark per placed photo, its children in the order the OGC schema requires (TimeStamp
before styleUrl), and the record as typed <SchemaData> against a <Schema> of <SimpleField>s: GDAL's
LIBKML driver (QGIS) and Google Earth read those as integers, reals and booleans, where <Data> values
are all strings. None of the field names is one LIBKML keeps for itself (id, name, description,
timestamp, begin, end, ...), which it would otherwise rename or drop.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from bot.reports.exports.occurrence import COORDINATES, columns, occurrences
from bot.reports.exports.records import ExportOptions, Precision, coord, station_ids

KML_NS = "http://www.opengis.net/kml/2.2"
# KML colours are aabbggrr.
STYLES = {"confirmed": "ff2827d6", "unreviewed": "ff148cf5", "rejected": "ff969696", "other": "ff969696"}
_KML_TYPES = {
    "sightingID": "int",
    "coordinateUncertaintyInMeters": "int",
    "coordinatePrecision": "double",
    "score": "double",
    "frame_seconds": "double",
    "is_leopard": "bool",
    "reported_by_ranger": "bool",
}


def to_geojson(
    rows: Iterable[dict[str, Any]], exact: bool, grid_km: float, *, options: ExportOptions | None = None
) -> bytes:
    opts = options or ExportOptions()
    precision = Precision(exact, grid_km)
    features = []
    for rec in occurrences(rows, precision, station_ids(exact), opts.data_license):
        lat, lon = rec.pop("decimalLatitude"), rec.pop("decimalLongitude")
        # The printed precision of the other formats: nothing finer than the grid, as text or as float.
        geometry = (
            {"type": "Point", "coordinates": [float(coord(lon, exact)), float(coord(lat, exact))]}
            if lat is not None
            else None
        )
        features.append({"type": "Feature", "id": rec["sightingID"], "geometry": geometry, "properties": rec})
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _k(tag: str) -> str:
    return f"{{{KML_NS}}}{tag}"


def _kml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _title(rec: dict[str, Any]) -> str:
    """A placemark's name: the taxon present, else the detector's label (not the absent leopard's name)."""
    return str(rec["scientificName"]) if rec["occurrenceStatus"] == "present" else str(rec["label"])


def to_kml(
    rows: Iterable[dict[str, Any]], exact: bool, grid_km: float, *, options: ExportOptions | None = None
) -> bytes:
    """Photos without a place are left out: a placemark needs a point."""
    opts = options or ExportOptions()
    rows = list(rows)
    precision = Precision(exact, grid_km)
    fields = [c for c in columns(rows) if c not in COORDINATES]
    ET.register_namespace("", KML_NS)
    kml = ET.Element(_k("kml"))
    doc = ET.SubElement(kml, _k("Document"))
    ET.SubElement(doc, _k("name")).text = "Leopard Watch sightings"
    ET.SubElement(doc, _k("description")).text = (
        f"One placemark per photo; {precision.generalizations or 'exact coordinates'}. "
        f"Data licence {opts.data_license}. Fields are Darwin Core terms (https://dwc.tdwg.org/terms/)."
    )
    for status, colour in STYLES.items():
        style = ET.SubElement(doc, _k("Style"), id=status)
        icon = ET.SubElement(style, _k("IconStyle"))
        ET.SubElement(icon, _k("color")).text = colour
    schema = ET.SubElement(doc, _k("Schema"), name="occurrence", id="occurrence")
    for name in fields:
        ET.SubElement(schema, _k("SimpleField"), name=name, type=_KML_TYPES.get(name, "string"))
    for rec in occurrences(rows, precision, station_ids(exact), opts.data_license):
        lat, lon = rec["decimalLatitude"], rec["decimalLongitude"]
        if lat is None:
            continue
        pm = ET.SubElement(doc, _k("Placemark"), id=f"s{rec['sightingID']}")
        ET.SubElement(pm, _k("name")).text = f"#{rec['sightingID']} {_title(rec)}"
        if rec["dataGeneralizations"]:
            ET.SubElement(pm, _k("description")).text = rec["dataGeneralizations"]
        stamp = ET.SubElement(pm, _k("TimeStamp"))  # the schema wants the time before the style
        ET.SubElement(stamp, _k("when")).text = rec["eventDate"]
        ET.SubElement(pm, _k("styleUrl")).text = f"#{rec['status'] if rec['status'] in STYLES else 'other'}"
        data = ET.SubElement(ET.SubElement(pm, _k("ExtendedData")), _k("SchemaData"), schemaUrl="#occurrence")
        for name in fields:
            if rec.get(name) is not None:  # a missing value is a null, not an empty string
                ET.SubElement(data, _k("SimpleData"), name=name).text = _kml_value(rec[name])
        point = ET.SubElement(pm, _k("Point"))
        ET.SubElement(point, _k("coordinates")).text = f"{coord(lon, exact)},{coord(lat, exact)}"
    return ET.tostring(kml, encoding="utf-8", xml_declaration=True)
