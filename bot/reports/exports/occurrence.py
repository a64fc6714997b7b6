"""One photo as a Darwin Core occurrence record: the row of the CSV and XLSX exports, and the properties of
a GeoJSON feature or KML placemark.

Darwin Core term names (https://dwc.tdwg.org/terms/) are used wherever a term fits, so GBIF's IPT, R
(`readr`, `finch`) and QGIS users find the fields they know; the bot's own fields follow, in snake_case so
nobody mistakes them for terms. Values are typed (numbers stay numbers; None is "no value"): each writer
formats them for its format.

Term choices worth knowing:
- occurrenceID is the Camtrap DP media-level observationID of the same photo ("obs-12"), eventID the
  Camtrap DP eventID (the bot's event: a burst of photos shares one), so rows join across formats.
- basisOfRecord: camera-trap photos (sent with a station code or imported from an SD card) are
  MachineObservation, as in GBIF's camera-trap guide; photos rangers take on patrol HumanObservation.
- coordinateUncertaintyInMeters / coordinatePrecision / dataGeneralizations say the rounding of an
  untrusted export (records.Precision); an exact export leaves the uncertainty empty (not recorded).
- eventRemarks says when the capture time is not the camera's clock (bot.reports.exports.records.time_issue).
- Every row has scientificName and occurrenceStatus, as GBIF's validator requires of an occurrence
  (scientificName is a required term; occurrenceStatus tells presences from absences). A row says
  what the photo shows of the leopard: a taxon someone or the detector named is "present"
  (Panthera pardus, Panthera uncia, or Animalia for a coordinator's "other species", which names no
  species); a photo with no taxon ("not a leopard", or the detector's score below its threshold) is
  Panthera pardus "absent", with identificationRemarks saying whose call that is. docs/EXPORTS.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bot.intake import kind_of_row, kind_word
from bot.reports.exports.records import OPTIONAL_COLUMNS, Precision, shown, time_issue, z
from bot.reports.exports.taxa import TAXA, classify

DWC_TERMS = (
    "occurrenceID", "basisOfRecord", "eventID", "eventDate", "occurrenceStatus", "scientificName", "taxonID",
    "taxonRank", "kingdom", "vernacularName", "recordedBy", "identifiedBy", "dateIdentified",
    "identificationRemarks", "decimalLatitude", "decimalLongitude", "geodeticDatum",
    "coordinateUncertaintyInMeters", "coordinatePrecision", "dataGeneralizations", "locationID", "locality",
    "eventRemarks", "license", "organismID",
)  # fmt: skip
EXTRA_COLUMNS = (
    "sightingID", "received_at_utc", "area", "location_source", "label", "score", "is_leopard",
    "reported_by_ranger", "status", "photo_sha256",
)  # fmt: skip
COORDINATES = ("decimalLatitude", "decimalLongitude")
# What a photo with no taxon is a record of: the absence of the one species the bot looks for.
ABSENT_TAXON = "Panthera pardus"


def columns(rows: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The table's header: terms, the bot's fields, then the optional columns this database has."""
    optional = tuple(c for c in OPTIONAL_COLUMNS if rows and c in rows[0])
    return DWC_TERMS + EXTRA_COLUMNS + optional


def occurrence(
    r: dict[str, Any],
    precision: Precision,
    station: Callable[[str | None], str],
    license: str,
) -> dict[str, Any]:
    """`r` is a row of records.export_rows; `station` maps codes to what this file may show."""
    c = classify(r)
    p = shown(r["lat"], r["lon"], precision.exact, precision.grid_km)
    taxon, status = (c.taxon, "present") if c.taxon else (TAXA[ABSENT_TAXON], "absent")
    issue = time_issue(r)
    rec: dict[str, Any] = {
        "occurrenceID": f"obs-{r['id']}",
        "basisOfRecord": "MachineObservation"
        if r["station_code"] or r.get("source") == "import"
        else "HumanObservation",
        "eventID": str(r["event_id"] or r["id"]),
        "eventDate": z(r["taken_at"]),
        "occurrenceStatus": status,
        "scientificName": taxon.scientific_name,
        "taxonID": taxon.taxon_id,
        "taxonRank": taxon.rank,
        "kingdom": "Animalia",
        "vernacularName": taxon.vernacular["eng"],
        "recordedBy": r["ranger"] or None,
        "identifiedBy": c.by or None,
        "dateIdentified": c.at or None,
        "identificationRemarks": c.remarks() if c.taxon else f"no leopard: {c.remarks()}",
        "decimalLatitude": p.lat if p else None,
        "decimalLongitude": p.lon if p else None,
        "geodeticDatum": "EPSG:4326" if p else None,
        "coordinateUncertaintyInMeters": precision.uncertainty_m if p else None,
        "coordinatePrecision": precision.degrees if p else None,
        "dataGeneralizations": precision.generalizations or None,
        "locationID": station(r["station_code"]) or None,
        # A station's name is a place on its own: only exact exports carry it.
        "locality": (r.get("station_name") or None) if precision.exact else None,
        "eventRemarks": issue or None,
        "license": license,
        "organismID": r.get("individual_code") or None,  # issue 25: the identified individual
        "sightingID": r["id"],
        "received_at_utc": z(r["received_at"]),
        "area": r["area"],
        "location_source": r["location_source"],
        "label": kind_word("en", kind_of_row(r)),  # the kind in words; the model's label stays stored
        "score": round(float(r["score"]), 4),
        "is_leopard": bool(r["is_leopard"]),
        "reported_by_ranger": r.get("escalated_by") is not None,  # "it is a leopard" (bot.alerts.escalations)
        "status": r["status"],
        "photo_sha256": r["photo_sha256"],
    }
    for name in OPTIONAL_COLUMNS:
        if name in r:
            rec[name] = r[name]
    return rec


def occurrences(
    rows: Iterable[dict[str, Any]],
    precision: Precision,
    station: Callable[[str | None], str],
    license: str,
) -> list[dict[str, Any]]:
    return [occurrence(r, precision, station, license) for r in rows]
