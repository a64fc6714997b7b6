"""The Darwin Core occurrence table (bot/reports/exports/occurrence.py) as CSV and as an Excel workbook.

CSV (RFC 4180, UTF-8 with a BOM so Excel reads Cyrillic names): comma-separated with "." decimals, what
GBIF's IPT, R and QGIS read; or, for Excel under Russian and Kazakh regional settings, ";"-separated with
"," decimals, the list and decimal separators those settings use (with "," Excel puts a whole row in one
cell, and with "." decimals it reads 43.25 as text or a date).

Text that a spreadsheet would run as a formula (a ranger named "=HYPERLINK(...)" or "@SUM(...)") is
neutralised: in CSV by a leading apostrophe, which Excel and LibreOffice show as text and hide; in the
workbook by typing the cell as a string, so the value stays exactly what the ranger wrote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from bot.reports.exports.occurrence import columns, occurrences
from bot.reports.exports.records import ExportOptions, Precision, neutralise, station_ids


def _number(value: float) -> str:
    # Positional notation only: "1e-06" is not a number to Excel under every locale.
    return f"{value:.10f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _cell(name: str, value: Any, exact: bool, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if name in ("decimalLatitude", "decimalLongitude"):
            text = f"{value:.6f}" if exact else f"{value:.4f}"  # see bot.reports.exports.records.coord
        elif name == "score":
            text = f"{value:.4f}"
        else:
            text = _number(value)
        return text.replace(".", decimal)
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def to_csv(
    rows: Iterable[dict[str, Any]], exact: bool, grid_km: float, *, options: ExportOptions | None = None
) -> bytes:
    opts = options or ExportOptions()
    rows = list(rows)
    header = columns(rows)
    records = occurrences(rows, Precision(exact, grid_km), station_ids(exact), opts.data_license)
    decimal = "," if opts.delimiter == ";" else "."
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=opts.delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for rec in records:
        writer.writerow([_cell(name, rec.get(name), exact, decimal) for name in header])
    # A BOM makes Excel, which coordinators open CSV files with, read Cyrillic names as UTF-8.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(
    rows: Iterable[dict[str, Any]], exact: bool, grid_km: float, *, options: ExportOptions | None = None
) -> bytes:
    """One sheet of occurrences (numbers as numbers, times as ISO-8601 UTC text, as Darwin Core writes
    them) and a second that says what the file is: precision, licence, contact."""
    opts = options or ExportOptions()
    rows = list(rows)
    header = columns(rows)
    precision = Precision(exact, grid_km)
    records = occurrences(rows, precision, station_ids(exact), opts.data_license)
    wb = Workbook(write_only=True)  # streams rows: a year of photos stays within memory
    ws = wb.create_sheet("occurrences")
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    head = []
    for name in header:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        head.append(cell)
    ws.append(head)
    for rec in records:
        out: list[Any] = []
        for name in header:
            value = rec.get(name)
            if isinstance(value, str):
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"  # never a formula, whatever the text starts with
                out.append(cell)
            else:
                out.append(value)
        ws.append(out)
    about = wb.create_sheet("about")
    for line in _about(precision, opts, len(records)):
        about.append(line)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _about(precision: Precision, opts: ExportOptions, count: int) -> list[list[Any]]:
    places = precision.generalizations or "exact coordinates (WGS84)"
    email = f"<{opts.contact_email}>" if opts.contact_email else ""
    contact = " ".join(x for x in (opts.contact_name, email) if x)
    return [
        ["Leopard Watch sightings: one row per photo, Darwin Core occurrence terms first"],
        ["rows", count],
        ["places", places],
        ["coordinateUncertaintyInMeters", precision.uncertainty_m or "not recorded"],
        ["data licence", opts.data_license],
        ["contact", contact or "not set (LW_CONTACT_NAME, LW_CONTACT_EMAIL)"],
        ["terms", "https://dwc.tdwg.org/terms/"],
    ]
