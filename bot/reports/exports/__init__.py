"""Exports of the sightings (Darwin Core CSV/XLSX, GeoJSON, KML, Camtrap DP): the entry, what callers pass."""

from bot.reports.exports.formats import EXTENSIONS, FORMATS, count_received_only, count_taken, export
from bot.reports.exports.records import ExportOptions, export_rows, received_only
from bot.reports.exports.tables import to_csv

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "ExportOptions",
    "count_received_only",
    "count_taken",
    "export",
    "export_rows",
    "received_only",
    "to_csv",
]
