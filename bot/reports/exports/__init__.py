"""Exports of the sightings (Darwin Core CSV/XLSX, GeoJSON, KML, Camtrap DP): the entry, what callers pass."""

from bot.reports.exports.formats import EXTENSIONS, FORMATS, MEDIA_TYPES, count_taken, export
from bot.reports.exports.records import ExportError, ExportOptions, export_rows

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "MEDIA_TYPES",
    "ExportError",
    "ExportOptions",
    "count_taken",
    "export",
    "export_rows",
]
