"""Reports per animal: the catalogue (/individuals), one individual's timeline and track (/individual PL-M1),
and which individuals a period saw (the weekly summary's lines).

A track is a set of places, so it follows the reader as alerts do (bot.people.Audience): exact readers
get station codes and exact distances; everyone else the area, grid-cell distances (bot.geo
.rounded_movement, the verdict made on the exact points) and a map snapped to the grid. Counting rules
for a period: "seen" is an individual with an identified event taken in it; "new" one whose first
identified event is in it; the minimum known alive adds those seen both before and after the period
(alive in between, whether or not a camera caught them).
"""

from __future__ import annotations

import asyncio
import html
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.geo import Movement, Point, format_speed, movement, round_point, rounded_movement
from bot.individuals import Catalogue, Listed, Seen
from bot.people import Audience
from bot.reports.map_layers import MapMove
from bot.reports.maps import MapPoint, render_map
from bot.text import t
from storage.db import Database, iso

MAX_TIMELINE = 30  # lines of a timeline: a phone message, not an archive (the export has all of it)


@dataclass(frozen=True)
class PeriodIndividuals:
    seen: list[str]
    new: list[str]
    minimum_alive: int


@dataclass(frozen=True)
class IndividualReport:
    text: str
    map_png: bytes | None  # None: fewer than one placed sighting


def _when(seen: Seen | None, audience: Audience) -> str:
    if seen is None or seen.taken is None:
        return "—"
    return seen.taken.astimezone(audience.zone).strftime("%Y-%m-%d")


def _where(seen: Seen, audience: Audience) -> str:
    return html.escape(audience.where(seen.station, seen.area) or "—")


def catalogue_text(listing: list[Listed], audience: Audience) -> str:
    """The catalogue, last seen at the reader's precision (a station only for exact readers)."""
    lang = audience.lang
    if not listing:
        return t(lang, "individuals.empty")
    lines = [t(lang, "individuals.title", n=len(listing))]
    for item in listing:
        ind = item.individual
        name = f" «{html.escape(ind.name)}»" if ind.name else ""
        last = item.last
        lines.append(
            t(
                lang,
                "individuals.line",
                code=html.escape(ind.code),
                name=name,
                sex=t(lang, f"sex.{ind.sex}"),
                events=item.events,
                refs=ind.references,
                last=_when(last, audience),
                where=_where(last, audience) if last else "—",
            )
        )
    return "\n".join(lines)


def _move(a: Seen, b: Seen, audience: Audience, max_km_per_day: float) -> Movement | None:
    if a.point is None or b.point is None or a.taken is None or b.taken is None:
        return None
    if audience.exact:
        return movement(a.point, a.taken, b.point, b.taken, max_km_per_day)
    return rounded_movement(a.point, a.taken, b.point, b.taken, audience.grid_km, max_km_per_day)


async def individual_report(
    catalogue: Catalogue, code: str, audience: Audience, *, max_km_per_day: float
) -> IndividualReport | None:
    """None: no such individual."""
    ind = await catalogue.get(code)
    if ind is None:
        return None
    lang = audience.lang
    seen = await catalogue.seen(ind.id)
    name = f" «{html.escape(ind.name)}»" if ind.name else ""
    lines = [
        t(lang, "individual.title", code=html.escape(ind.code), name=name, sex=t(lang, f"sex.{ind.sex}")),
        t(lang, "individual.counts", events=len(seen), refs=ind.references),
    ]
    if ind.notes and audience.exact:  # what people typed: exact readers only (Audience.free_text)
        lines.append(html.escape(ind.notes))
    approx = "" if audience.exact else "≈"
    previous: Seen | None = None
    shown = seen[-MAX_TIMELINE:]
    for s in shown:
        lines.append(
            t(lang, "individual.seen", id=s.event_id, date=_when(s, audience), where=_where(s, audience))
        )
        mv = _move(previous, s, audience, max_km_per_day) if previous else None
        if mv is not None:
            lines.append(
                t(
                    lang,
                    "individual.move",
                    km=f"{approx}{mv.distance_km:.0f}",
                    days=f"{mv.hours / 24:.1f}",
                    speed=approx + format_speed(mv.km_per_day),
                    verdict=t(lang, "who.plausible" if mv.plausible else "who.implausible"),
                )
            )
        previous = s
    if not seen:
        lines.append(t(lang, "individual.never_seen"))
    if not audience.exact and seen:
        lines.append(t(lang, "individual.grid", grid=f"{audience.grid_km:g}"))
    placed = [s for s in shown if s.point is not None and s.taken is not None]
    png = await asyncio.to_thread(_track_map, placed, audience, ind.code, max_km_per_day) if placed else None
    return IndividualReport("\n".join(lines), png)


def _track_map(placed: list[Seen], audience: Audience, code: str, max_km_per_day: float) -> bytes:
    """The weekly map's drawing (bot.reports.maps) with this animal's sightings and moves; an untrusted
    reader's points are snapped here, before the drawing sees them."""
    grid = None if audience.exact else audience.grid_km
    moves = []
    for a, b in itertools.pairwise(placed):
        assert a.point and b.point and a.taken and b.taken
        exact = movement(a.point, a.taken, b.point, b.taken, max_km_per_day)  # one verdict per move
        pa, pb = (
            (a.point, b.point) if grid is None else (round_point(a.point, grid), round_point(b.point, grid))
        )
        moves.append(MapMove(pa, a.taken, pb, b.taken, exact.plausible))
    points = [
        MapPoint(s.point if grid is None else round_point(s.point, grid), "confirmed")
        for s in placed
        if s.point
    ]
    return render_map(
        points,
        [],
        {},
        title=code,
        lang=audience.lang,
        grid_km=grid,
        moves=moves,
        max_km_per_day=max_km_per_day,
    )


async def individuals_in_period(
    db: Database,
    start: datetime,
    end: datetime,
    *,
    follows: Callable[[str | None], bool] | None = None,
    find_area: Callable[[str | None, Point | None], str | None] | None = None,
) -> PeriodIndividuals:
    """Who a period saw, by confirmed identities (see the module's counting rules). A group that follows
    some areas counts only sightings in them (follows: Group.follows, the area found by the summary's
    AreaFinder, the rule its alerts were routed by); "new" still means new to the whole catalogue."""
    rows = await db.fetchall(
        """SELECT x.code, COALESCE(s.taken_at, s.received_at) AS at, s.station_code, s.lat, s.lon
           FROM current_identities c JOIN individuals x ON x.id = c.individual_id
           JOIN sightings s ON s.id = c.event_id
           WHERE c.individual_id IS NOT NULL
           ORDER BY x.code, at"""
    )
    s, e = iso(start) or "", iso(end) or ""  # never None for a datetime
    first: dict[str, str] = {}
    visible: dict[str, list[str]] = {}
    for r in rows:
        code, at = str(r["code"]), str(r["at"])
        first[code] = min(first.get(code, at), at)
        if follows is not None:
            point = Point(r["lat"], r["lon"]) if r["lat"] is not None and r["lon"] is not None else None
            area = find_area(r["station_code"], point) if find_area is not None else None
            if not follows(area):
                continue
        visible.setdefault(code, []).append(at)
    seen = sorted(code for code, ats in visible.items() if any(s <= at < e for at in ats))
    new = [code for code in seen if first[code] >= s]
    spanning = [code for code, ats in visible.items() if code not in seen and min(ats) < s and max(ats) >= e]
    return PeriodIndividuals(seen, new, len(seen) + len(spanning))


def period_line(lang: str, found: PeriodIndividuals) -> str | None:
    """The weekly summary's line; None when no individual is known in or around the period."""
    if not found.seen and not found.minimum_alive:
        return None
    return t(
        lang,
        "summary.individuals",
        seen=", ".join(html.escape(c) for c in found.seen) or "—",
        new=", ".join(html.escape(c) for c in found.new) or "—",
        alive=found.minimum_alive,
    )
