"""Weekly/monthly summaries for a coordinator group: the numbers, from the database (the words that
show them: bot/reports/summary_view.py).

Counting rules (stable, so that weeks compare):
- A leopard sighting is an *event* (a burst of photos shares one event and one review decision) whose
  photos are labelled leopard or snow leopard, or that a ranger handed to the coordinators as a
  leopard (bot.alerts.escalations), counted in the period its photo was *taken*. Events are made
  where photos come in: bot/intake/sightings.py gives alert-worthy photos an event id, and
  bot.alerts.routing.find_burst_event joins a burst into one.
- Photos per ranger and the "photos" total count what *arrived* in the period (received_at): that is
  the rangers' work that week, whatever the camera clock says.
- A group that follows some areas sees those areas plus sightings of unknown area, the same rule the
  alerts use (bot.alerts.routing.routed_groups, Group.follows): the group was alerted to them, so its
  summary counts them. A photo's area is found by the rule its alert was routed by (bot/places/areas.py).
- A photo or clip its sender swapped out (sightings.replaced_by) counts nowhere (counts, moves, map,
  contact sheet): the one that replaced it does. A forward from outside the team (sightings.reported)
  joins the moves only once confirmed, the alerts' rule (bot.alerts.movement.in_movement).
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.alerts import in_movement
from bot.cameras import SilentCamera, silent_cameras
from bot.config import Settings
from bot.geo import Movement, Point, movement
from bot.intake import EMPTY, LEOPARD_KINDS
from bot.media import RECEIPT_SOURCES
from bot.people import Group
from bot.places import AreaFinder, Overdue, StationInfo, load_stations, overdue_checks
from bot.reports.effort import AreaEffort, area_effort, effort
from bot.reports.individuals import PeriodIndividuals, individuals_in_period
from storage.db import Database, iso, parse_iso

LEOPARD_LABELS = ("leopard", "snow leopard")
SILENT_DAYS = 14


@dataclass(frozen=True)
class LeopardEvent:
    id: int
    taken_at: datetime
    status: str  # unreviewed / confirmed / rejected / other
    label: str
    station: str | None
    area: str | None
    point: Point | None
    photo_sha256: str
    photos: int
    # From the event's first photo (bot.media.capture_time): a wrong camera clock is left out of the moves,
    # a receipt time is marked there.
    clock_ok: bool = True
    by_receipt: bool = False
    in_moves: bool = True  # bot.alerts.movement's rule: a forward from outside only once confirmed


@dataclass(frozen=True)
class Counts:
    photos: int
    leopards: int
    confirmed: int
    unconfirmed: int
    rejected: int  # rejected or "other species"
    active_stations: int


@dataclass(frozen=True)
class PlaceCount:
    key: str
    confirmed: int
    unconfirmed: int
    rejected: int

    @property
    def total(self) -> int:
        return self.confirmed + self.unconfirmed + self.rejected


@dataclass(frozen=True)
class MoveRow:
    a: LeopardEvent
    b: LeopardEvent
    move: Movement


@dataclass(frozen=True)
class SilentStation:
    code: str
    area: str | None
    last_seen: datetime | None


@dataclass(frozen=True)
class Summary:
    group: Group
    start: datetime
    end: datetime
    current: Counts
    previous: Counts
    by_area: list[PlaceCount]
    by_station: list[PlaceCount]
    new_stations: list[StationInfo]
    moves: list[MoveRow]
    rangers: list[tuple[str, int]]
    silent: list[SilentStation]
    silent_days: int
    events: list[LeopardEvent]
    late: int  # leopard events that arrived in the period but were taken before it
    max_km_per_day: float
    grid_km: float = 10.0  # what an untrusted group's moves are worked out from (bot.reports.summary_view)
    # Cellular cameras that sent no e-mail for settings.camera_silent_days (bot/cameras/registry.py).
    silent_cameras: list[SilentCamera] = field(default_factory=list)
    camera_silent_days: int = 3
    frames: list[FrameCount] = field(default_factory=list)  # camera-trap frames per station, sorted
    individuals: PeriodIndividuals | None = None  # seen, new, minimum alive (bot/reports/individuals.py)
    # Trap-nights and leopard events per 100 of them, per area (bot/reports/effort.py), and deployed
    # cameras nobody has visited for settings.check_due_days (bot/places/checks.py).
    effort: list[AreaEffort] = field(default_factory=list)
    overdue: list[Overdue] = field(default_factory=list)
    check_due_days: int = 30


@dataclass(frozen=True)
class FrameCount:
    """One station's camera-trap frames that arrived in the period. Empty frames are counted here and
    nowhere else: they stay out of the photo counts, maps and contact sheets."""

    station: str
    area: str | None
    frames: int
    animals: int  # an animal found, leopards included
    leopards: int
    empty: int


def status_class(status: str) -> str:
    return {"confirmed": "confirmed", "unreviewed": "unconfirmed"}.get(status, "rejected")


def _point(row: Any) -> Point | None:
    return Point(row["lat"], row["lon"]) if row["lat"] is not None and row["lon"] is not None else None


async def _rows(db: Database, start: datetime, end: datetime) -> list[Any]:
    # One pass over both periods: the two indexed ranges are OR-ed, which SQLite serves from both indexes.
    return await db.fetchall(
        """SELECT id, event_id, taken_at, received_at, lat, lon, station_code, label, status, ranger_id,
                  photo_sha256, time_source, clock_issue, kind, source, reported, replaced_by
           FROM sightings
           WHERE (taken_at >= ? AND taken_at < ?) OR (received_at >= ? AND received_at < ?)""",
        (iso(start), iso(end), iso(start), iso(end)),
    )


def _events(rows: Sequence[dict[str, Any]]) -> list[LeopardEvent]:
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["event_id"] or r["id"]].append(r)
    out = []
    for key, members in groups.items():
        members.sort(key=lambda m: (m["taken_at"], m["id"]))
        head = next((m for m in members if m["id"] == key), members[0])
        placed = next((m for m in members if m["point"] is not None), head)
        taken = parse_iso(members[0]["taken_at"])
        assert taken is not None
        out.append(
            LeopardEvent(
                key, taken, head["status"], head["label"], placed["station_code"], placed["area"],
                placed["point"], head["photo_sha256"], len(members), members[0].get("clock_issue") is None,
                members[0].get("time_source") in RECEIPT_SOURCES,
                in_movement(head.get("reported", 0), head["status"], head.get("replaced_by")),
            )
        )  # fmt: skip
    return sorted(out, key=lambda e: (e.taken_at, e.id))


def _counts(
    rows: Sequence[dict[str, Any]], start: datetime, end: datetime
) -> tuple[Counts, list[LeopardEvent]]:
    s, e = iso(start), iso(end)
    taken = [r for r in rows if s <= r["taken_at"] < e]
    events = _events([r for r in taken if r["leopard"]])
    by = Counter(status_class(ev.status) for ev in events)
    counts = Counts(
        photos=sum(1 for r in rows if s <= r["received_at"] < e and r.get("kind") != EMPTY),
        leopards=len(events),
        confirmed=by["confirmed"],
        unconfirmed=by["unconfirmed"],
        rejected=by["rejected"],
        active_stations=len({r["station_code"] for r in taken if r["station_code"]}),
    )
    return counts, events


def _places(events: Iterable[LeopardEvent], key: str) -> list[PlaceCount]:
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for ev in events:
        tally[getattr(ev, key) or ""][status_class(ev.status)] += 1
    rows = [PlaceCount(k, c["confirmed"], c["unconfirmed"], c["rejected"]) for k, c in tally.items()]
    return sorted(rows, key=lambda p: (-p.total, p.key == "", p.key))


def movements(events: Iterable[LeopardEvent], max_km_per_day: float) -> list[MoveRow]:
    """Consecutive pairs of confirmed, placed events in time order, as bot.alerts.movement judges them."""
    placed = [
        e for e in events if e.status == "confirmed" and e.point is not None and e.clock_ok and e.in_moves
    ]
    out = []
    for a, b in itertools.pairwise(placed):
        assert a.point is not None and b.point is not None
        out.append(MoveRow(a, b, movement(a.point, a.taken_at, b.point, b.taken_at, max_km_per_day)))
    return out


async def _silent(
    db: Database, group: Group, stations: Sequence[StationInfo], end: datetime, days: int
) -> list[SilentStation]:
    cutoff = end - timedelta(days=days)
    # MAX over the (station_code, taken_at) index: one short index probe per station.
    rows = await db.fetchall(
        """SELECT st.code, (SELECT MAX(s.taken_at) FROM sightings s
                            WHERE s.station_code = st.code AND s.taken_at < ?) AS last
           FROM stations st WHERE st.created_at < ?""",
        (iso(end), iso(cutoff)),
    )
    by_code = {s.code: s for s in stations}
    out = []
    for r in rows:
        last = parse_iso(r["last"])
        info = by_code.get(r["code"])
        if info is None or not group.follows(info.area) or (last is not None and last >= cutoff):
            continue
        out.append(SilentStation(r["code"], info.area, last))
    never = datetime.min.replace(tzinfo=end.tzinfo)
    return sorted(out, key=lambda s: (s.last_seen or never, s.code))


async def _ranger_names(db: Database, ids: Iterable[int]) -> dict[int, str]:
    ids = [i for i in set(ids) if i is not None]
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = await db.fetchall(f"SELECT user_id, name, username FROM rangers WHERE user_id IN ({marks})", ids)
    return {
        r["user_id"]: r["name"] or (f"@{r['username']}" if r["username"] else str(r["user_id"])) for r in rows
    }


async def build_summary(
    db: Database,
    group: Group,
    start: datetime,
    end: datetime,
    *,
    settings: Settings,
    silent_days: int = SILENT_DAYS,
) -> Summary:
    """Everything a coordinator group's summary shows for [start, end), and the period before it."""
    if start.utcoffset() is None or end.utcoffset() is None or end <= start:
        raise ValueError("build_summary needs an aware, non-empty period")
    prev_start = start - (end - start)
    stations = await load_stations(db)
    find_area = AreaFinder(stations)
    rows = []
    for raw in await _rows(db, prev_start, end):
        if raw["replaced_by"] is not None:  # swapped out by its sender: the file that replaced it counts
            continue
        r = dict(raw)
        r["point"] = _point(raw)
        r["area"] = find_area(r["station_code"], r["point"])
        if not group.follows(r["area"]):
            continue
        # Every event the groups were alerted to: an event id is given to exactly the photos the model
        # found alert-worthy (leopard or snow leopard) and to those a ranger handed over.
        r["leopard"] = r["event_id"] is not None
        r["taken_at"] = r["taken_at"] or r["received_at"]
        rows.append(r)
    current, events = _counts(rows, start, end)
    previous, _ = _counts(rows, prev_start, start)
    s, e = iso(start), iso(end)
    arrived = [r for r in rows if s <= r["received_at"] < e]
    late = len({r["event_id"] or r["id"] for r in arrived if r["leopard"] and r["taken_at"] < s})
    per_ranger = Counter(r["ranger_id"] for r in arrived if r.get("kind") != EMPTY)
    names = await _ranger_names(db, per_ranger)
    rangers = sorted(
        ((names.get(uid, str(uid)), n) for uid, n in per_ranger.items()), key=lambda x: (-x[1], x[0])
    )
    new = [st for st in stations if start <= st.created_at < end and group.follows(st.area)]
    return Summary(
        group=group,
        start=start,
        end=end,
        current=current,
        previous=previous,
        by_area=_places(events, "area"),
        by_station=[p for p in _places(events, "station") if p.key],
        new_stations=new,
        moves=movements(events, settings.max_km_per_day),
        rangers=rangers,
        silent=await _silent(db, group, stations, end, silent_days),
        silent_days=silent_days,
        events=events,
        late=late,
        max_km_per_day=settings.max_km_per_day,
        grid_km=settings.untrusted_grid_km,
        silent_cameras=[
            c for c in await silent_cameras(db, end, settings.camera_silent_days) if group.follows(c.area)
        ],
        camera_silent_days=settings.camera_silent_days,
        frames=frame_counts(arrived),
        individuals=await individuals_in_period(db, start, end, follows=group.follows, find_area=find_area),
        effort=area_effort(
            await effort(db, start, end),
            Counter(ev.area or "" for ev in events if status_class(ev.status) != "rejected"),
            None if group.all_areas else {a for a in group.areas},
        ),
        overdue=[o for o in await overdue_checks(db, end, settings.check_due_days) if group.follows(o.area)],
        check_due_days=settings.check_due_days,
    )


def frame_counts(arrived: Iterable[dict[str, Any]]) -> list[FrameCount]:
    """Camera-trap frames (SD cards and camera e-mail) that arrived in the period, per station, sorted
    as the intake sorted them (sightings.kind): with an animal (leopards included), leopard, empty."""
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    areas: dict[str, str | None] = {}
    for r in arrived:
        source = r.get("source") or ""
        if not r["station_code"] or not (source == "import" or source.startswith("camera:")):
            continue
        kind = r.get("kind") or "no_leopard"
        c = tally[r["station_code"]]
        c["frames"] += 1
        c["animals"] += kind in ("animal", *LEOPARD_KINDS)
        c["leopards"] += kind in LEOPARD_KINDS
        c["empty"] += kind == EMPTY
        areas[r["station_code"]] = r["area"]
    return [
        FrameCount(code, areas[code], c["frames"], c["animals"], c["leopards"], c["empty"])
        for code, c in sorted(tally.items())
    ]
