"""Sampling effort: trap-nights per deployment, station and area in a period, and leopard events per 100
trap-nights (the relative abundance index camera-trap studies compare).

Counting rules:
- A deployment operates from its set-up to its retrieval; an open one up to `as_of` (now). Both are
  clipped to the period [start, end).
- Known outages are taken off: from a dead check's stop (its deployment's last frame, bot/places/
  checks.py) to the next check that found the camera working, else to the deployment's end.
- A trap-night is 24 hours of one camera operating (fractions kept, shown to one decimal): two cameras at
  one station count twice, as camtrapR's cameraOperation does per camera.
- Leopard events are the summary's events (bot/reports/summary.py) not rejected: confirmed or not yet
  reviewed. Stations without any deployment have no effort: their events are counted, their rate is not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.places import Deployment, load_deployments, outages
from storage.db import Database, utcnow

DAY = timedelta(days=1)
Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class AreaEffort:
    area: str  # "" for deployments whose station has no area
    deployments: int
    trap_nights: float
    events: int  # leopard events (not rejected) in the area in the period

    @property
    def per_100(self) -> float | None:
        """Leopard events per 100 trap-nights; None without effort (nothing to divide by)."""
        return 100 * self.events / self.trap_nights if self.trap_nights > 0 else None


@dataclass(frozen=True)
class Effort:
    start: datetime
    end: datetime
    by_deployment: dict[int, float]
    by_station: dict[str, float]
    by_area: dict[str, float]
    deployments: list[Deployment]
    count_by_area: dict[str, int]  # deployments that watched in the period, per area


def operating(
    dep: Deployment, down: Sequence[tuple[datetime, datetime | None]], start: datetime, end: datetime,
    as_of: datetime,
) -> list[Interval]:  # fmt: skip
    """When the deployment's camera was watching inside [start, end): its period minus known outages."""
    a = max(dep.start, start)
    b = min(dep.end or as_of, end)
    if b <= a:
        return []
    spans: list[Interval] = [(a, b)]
    for d0, d1 in down:
        cut_end = d1 or b
        nxt: list[Interval] = []
        for s, e in spans:
            if cut_end <= s or d0 >= e:
                nxt.append((s, e))
                continue
            if s < d0:
                nxt.append((s, d0))
            if cut_end < e:
                nxt.append((cut_end, e))
        spans = nxt
    return spans


def nights(spans: Iterable[Interval]) -> float:
    return sum((e - s) / DAY for s, e in spans)


async def effort(db: Database, start: datetime, end: datetime, *, as_of: datetime | None = None) -> Effort:
    """Trap-nights of every deployment overlapping [start, end), and their sums per station and area."""
    as_of = as_of or utcnow()
    deps = await load_deployments(db, start, end)
    down = await outages(db)
    areas = {r["code"]: r["area"] or "" for r in await db.fetchall("SELECT code, area FROM stations")}
    by_dep: dict[int, float] = {}
    by_station: dict[str, float] = defaultdict(float)
    by_area: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for d in deps:
        n = nights(operating(d, down.get(d.id, []), start, end, as_of))
        by_dep[d.id] = n
        area = areas.get(d.station, "") if d.station else ""
        if d.station:
            by_station[d.station] += n
        by_area[area] += n
        count[area] += n > 0
    return Effort(start, end, by_dep, dict(by_station), dict(by_area), deps, dict(count))


def area_effort(
    e: Effort, events_by_area: Mapping[str, int], follows: set[str] | None = None
) -> list[AreaEffort]:
    """One row per area with effort or events (`follows`: the areas a group may see; None: all),
    areas by name, the one without an area last."""
    keys = set(e.by_area) | {k for k, n in events_by_area.items() if n}
    rows = []
    for key in keys:
        if follows is not None and key and key not in follows:
            continue
        rows.append(AreaEffort(key, e.count_by_area.get(key, 0), round(e.by_area.get(key, 0.0), 1),
                               events_by_area.get(key, 0)))  # fmt: skip
    return sorted(rows, key=lambda r: (r.area == "", r.area))
