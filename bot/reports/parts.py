"""A summary as the parts a group receives: the map, the text, the contact sheet and the CSV.

Rendered here, sent by bot/botapi/summaries.py. An untrusted group's parts hold no exact place: points
and moves are snapped to the grid before they reach the map, stations give way to area names, and the
contact sheet and CSV name areas or station aliases.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.config import Settings
from bot.geo import round_point
from bot.intake import EMPTY
from bot.people import Group, group_audience
from bot.places import area_names, load_stations
from bot.reports.contact_sheet import contact_sheet
from bot.reports.exports import ExportOptions, export_rows, received_only, to_csv
from bot.reports.map_layers import MapMove, ProtectedAreasError, Shape, load_protected_areas
from bot.reports.maps import MapArea, MapPoint, MapStation, area_labels, render_map
from bot.reports.summary import LEOPARD_LABELS, LeopardEvent, build_summary, status_class
from bot.reports.summary_view import period_bounds, render_summary, time_basis
from bot.text import t
from storage.db import Database
from storage.photos import PhotoStore

log = logging.getLogger(__name__)

SHEET_MAX = 12


@dataclass(frozen=True)
class Part:
    name: str  # "map", "text", "sheet", "csv": the key in summary_parts
    kind: str  # "photo", "message" or "document"
    text: str  # the message, or the caption
    data: bytes = b""
    filename: str | None = None


def protected_areas(path: Path | None) -> list[Shape]:
    """LW_PROTECTED_AREAS, read afresh for each map (an admin may replace the file any time); a file that
    cannot be read costs the outlines, never the summary."""
    if path is None:
        return []
    try:
        return load_protected_areas(path)
    except ProtectedAreasError as exc:
        log.warning("protected areas not drawn: %s", exc)
        return []


def is_leopard_photo(e: LeopardEvent) -> bool:
    """What the contact sheet shows and counts: an event a reviewer confirmed, or one the detector
    called leopard that no reviewer has turned down. A photo a ranger handed over as a leopard (a boar,
    say) is an event too, but not a leopard photo until a coordinator confirms it."""
    return e.status == "confirmed" or (e.status == "unreviewed" and e.label in LEOPARD_LABELS)


def _sheet(
    photos: PhotoStore, items: list[tuple[str, str, str]], blank: bool, lang: str
) -> tuple[bytes | None, int]:
    """The sheet and how many photos it shows (a lost photo file is left out, and not counted)."""
    images, captions, statuses = [], [], []
    for sha, caption, status in items:
        try:
            images.append(photos.read(sha))
        except (OSError, ValueError):  # a photo file lost or never stored: the sheet goes on without it
            continue
        captions.append(caption)
        statuses.append(status)
    return contact_sheet(images, captions, blank=blank, statuses=statuses, lang=lang), len(images)


async def render_parts(
    db: Database,
    photos: PhotoStore,
    settings: Settings,
    group: Group,
    start: datetime,
    end: datetime,
    skip: set[str] | frozenset[str] = frozenset(),
) -> list[Part]:
    """The parts in sending order, without those in `skip` (already delivered: not even rendered)
    and without a sheet or CSV when the period has nothing for them."""
    summary = await build_summary(db, group, start, end, settings=settings)
    # What this group may see is the audience gate's to say (bot/people/audience.py), for every part.
    audience = group_audience(group, settings.zone, settings.untrusted_grid_km)
    lang, zone, exact = audience.lang, audience.zone, audience.exact
    first, last = period_bounds(start, end, zone)  # as people count days (summary_view.period_bounds)
    days = "_".join(d.astimezone(zone).strftime("%Y-%m-%d") for d in (start, end - timedelta(seconds=1)))
    parts: list[Part] = []
    if "map" not in skip:
        stations = [
            MapStation(s.code, s.point, s.area) for s in await load_stations(db) if group.follows(s.area)
        ]
        points = [MapPoint(e.point, status_class(e.status)) for e in summary.events if e.point is not None]
        names = await area_names(db)
        grid = None if exact else audience.grid_km
        labels: list[MapArea] = []
        # The summary's moves between leopard events, as arrows (bot.reports.map_layers), each with the
        # verdict made here on the exact points: the one every reader of the move reads.
        moves = [
            MapMove(m.a.point, m.a.taken_at, m.b.point, m.b.taken_at, m.move.plausible)
            for m in summary.moves
            if m.a.point is not None and m.b.point is not None
        ]
        if grid is not None:
            # Snapped here, not only inside render_map: exact places never leave this function for an
            # untrusted group; stations (exact points, with codes) give way to area names.
            points = [MapPoint(round_point(p.point, grid), p.status) for p in points]
            moves = [
                MapMove(round_point(m.a, grid), m.t_a, round_point(m.b, grid), m.t_b, m.plausible)
                for m in moves
            ]
            labels = area_labels(stations, names, grid)
            stations = []
        title = f"{group.title}: {first} – {last}"
        png = await asyncio.to_thread(
            render_map, points, stations, names, title=title, lang=lang, grid_km=grid, labels=labels,
            moves=moves, protected=protected_areas(settings.protected_areas),
            max_km_per_day=summary.max_km_per_day,
        )  # fmt: skip
        caption = t(lang, "summary.map_caption", start=first, end=last)
        parts.append(Part("map", "photo", caption, png, "map.png"))
    if "text" not in skip:
        parts.append(Part("text", "message", render_summary(summary, lang, zone)))
    if "sheet" not in skip:
        shots = [e for e in summary.events if is_leopard_photo(e)][-SHEET_MAX:]
        # Under each photo an untrusted group reads the area, never the station code.
        where = [audience.where(e.station, e.area) or "" for e in shots]
        items = [
            (e.photo_sha256, f"#{e.id} {w}".strip() + f"\n{e.taken_at.astimezone(zone):%m-%d %H:%M}",
             status_class(e.status))
            for e, w in zip(shots, where, strict=True)
        ]
        # The photos too: some cameras burn their name or GPS into a strip, blanked for this reader.
        sheet, shown = await asyncio.to_thread(_sheet, photos, items, not exact, lang)
        if sheet is not None:
            caption = t(lang, "summary.sheet_caption", start=first, end=last, count=shown)
            parts.append(Part("sheet", "photo", caption, sheet, "leopards.jpg"))
    if "csv" not in skip:
        # The period's photos in the group's areas as CSV, for its spreadsheet; rounded unless trusted.
        # Empty frames stay out (an export asked for explicitly keeps them, Camtrap DP marks them blank).
        csv_rows = [
            r
            for r in await export_rows(db, start, end)
            if group.follows(r["area"]) and r.get("kind") != EMPTY
        ]
        if csv_rows:
            grid_km = audience.grid_km
            opts = ExportOptions.from_settings(settings)
            data = await asyncio.to_thread(to_csv, csv_rows, exact, grid_km, options=opts)
            precision = t(lang, "export.exact") if exact else t(lang, "export.rounded", grid=f"{grid_km:g}")
            # "taken" only where a camera's clock says so; receipt times are said as such.
            basis = time_basis(lang, len(csv_rows), sum(received_only(r) for r in csv_rows))
            caption = t(lang, "summary.csv_caption_by", start=first, end=last, rows=len(csv_rows),
                        basis=basis, precision=precision)  # fmt: skip
            parts.append(Part("csv", "document", caption, data, f"leopard-watch_{days}.csv"))
    return parts
