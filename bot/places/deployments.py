"""Camera deployments: a camera at a station (or a point) from its set-up to its retrieval, opened and
closed by rangers (/deploy, /retrieve), an admin (`leopard-watch deployment`) or an SD card's frames.

The vocabulary is Camtrap DP 1.0.2's deployment: cameraID, cameraModel, cameraHeight, cameraTilt,
baitUse, setupBy, timestampIssues, deploymentStart/End. Times are stored UTC; what a person types is
read in the station's zone (LW_TIMEZONE, Asia/Aqtau): a bare date starts at midnight there, and a
bare end date is the end of that day. One camera is never in two deployments at once: an overlap is
refused with a sentence that names the deployment in the way.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.geo import Point
from bot.places.stations import normalize_code
from storage.db import Database, iso, parse_iso, utcnow

SOURCES = ("telegram", "cli", "card")
YEARS = range(2000, 2101)  # camera traps of this project, and a margin; other years are typos
MAX_CAMERA = 40  # characters of a free camera id: what fits a line of `deployment list`


class DeploymentError(ValueError):
    """A deployment refused, in one sentence; `key` names it for the catalogs (deploy.*)."""

    def __init__(self, message: str, key: str, **fields: Any) -> None:
        super().__init__(message)
        self.key, self.fields = key, fields


@dataclass(frozen=True)
class Deployment:
    id: int
    station: str | None
    point: Point | None  # a deployment away from any station; a station's is the station's own
    camera: str | None
    start: datetime
    end: datetime | None  # None: still out there
    start_estimated: bool = False
    end_estimated: bool = False
    start_source: str = "cli"
    end_source: str | None = None
    camera_model: str | None = None
    camera_height: float | None = None
    camera_tilt: int | None = None
    bait: str = "none"
    setup_by: str | None = None
    timestamp_issues: bool | None = None
    knocked_down_at: datetime | None = None
    card_full_at: datetime | None = None
    comments: str | None = None

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at <= self.end)

    def overlaps(self, start: datetime, end: datetime | None) -> bool:
        return (end is None or self.start < end) and (self.end is None or start < self.end)


@dataclass(frozen=True)
class CardDeployment:
    """What an SD-card import did to deployments: the one it closed, or the estimated one it made."""

    deployment: Deployment
    made: bool  # opened and closed from the card's first and last frame
    closed: bool  # an open deployment closed at the card's last frame


def camera_id(text: str | None) -> str | None:
    """A camera id as typed, trimmed and upper-cased ("cam-17" -> "CAM-17"); None when empty."""
    if text is None or not text.strip():
        return None
    cleaned = "".join(ch for ch in text.strip().upper() if ch.isprintable() and not ch.isspace())
    if not cleaned or len(cleaned) > MAX_CAMERA:
        raise DeploymentError(f"bad camera id {text!r}: up to {MAX_CAMERA} characters", "deploy.bad_camera")
    return cleaned


def parse_when(text: str, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """A date ("2026-01-05") or an ISO time ("2026-01-05T09:30", "2026-01-05 09:30+05:00") as UTC; a
    time without an offset is in `zone`. A bare date is midnight there, or (end_of_day) the last second
    of that day: a camera retrieved "on the 5th" watched through the 5th. Years outside YEARS are
    refused like a typo (0001-01-01 in UTC+5 is before the first day a datetime can hold)."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            parsed = datetime.combine(day, time(23, 59, 59) if end_of_day else time(0), zone)
        else:
            parsed = datetime.fromisoformat(raw.replace(" ", "T", 1))
        if parsed.year not in YEARS:
            raise ValueError(f"year {parsed.year} is out of range")
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise DeploymentError(
            f"cannot read {text!r} as a date or time: use 2026-01-05 or 2026-01-05T09:30",
            "deploy.bad_time",
            typed=text,
        ) from None


def _dt(value: str | None) -> datetime | None:
    return parse_iso(value)


def _row(r: Any) -> Deployment:
    start = parse_iso(r["start_at"])
    assert start is not None
    point = Point(r["lat"], r["lon"]) if r["lat"] is not None and r["lon"] is not None else None
    issues = r["timestamp_issues"]
    return Deployment(
        r["id"], r["station_code"], point, r["camera"], start, _dt(r["end_at"]), bool(r["start_estimated"]),
        bool(r["end_estimated"]), r["start_source"], r["end_source"], r["camera_model"], r["camera_height"],
        r["camera_tilt"], r["bait"], r["setup_by"], None if issues is None else bool(issues),
        _dt(r["knocked_down_at"]), _dt(r["card_full_at"]), r["comments"],
    )  # fmt: skip


async def note_found(conn: Any, deployment_id: int, *, comment: str,
                     knocked_down: datetime | None = None) -> None:  # fmt: skip
    """What a field check found wrong, inside the check's own transaction (bot/places/checks.py): a
    comment appended to the deployment's, and when it was knocked down (the first such date stays)."""
    await conn.execute(
        """UPDATE deployments SET knocked_down_at = COALESCE(knocked_down_at, ?),
               comments = CASE WHEN comments IS NULL OR comments = '' THEN ? ELSE comments || '; ' || ? END
           WHERE id = ?""",
        (iso(knocked_down), comment, comment, deployment_id),
    )


async def load_deployments(
    db: Database, since: datetime | None = None, until: datetime | None = None
) -> list[Deployment]:
    """Every deployment that overlaps [since, until) (None: open end), oldest first."""
    rows = await db.fetchall(
        """SELECT * FROM deployments WHERE start_at < ? AND (end_at IS NULL OR end_at >= ?)
           ORDER BY start_at, id""",
        (iso(until) if until else "9999", iso(since) if since else ""),
    )
    return [_row(r) for r in rows]


class Deployments:
    """Every statement on `deployments` (and the card import's sightings.deployment_id)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, deployment_id: int) -> Deployment | None:
        row = await self.db.fetchone("SELECT * FROM deployments WHERE id = ?", (deployment_id,))
        return _row(row) if row else None

    async def all(self) -> list[Deployment]:
        return await load_deployments(self.db)

    async def station_code(self, code: str) -> str:
        norm = normalize_code(code) or code.strip().upper()
        found = await self.db.scalar("SELECT code FROM stations WHERE code IN (?, ?)", (code, norm))
        if found is None:
            raise DeploymentError(
                f"unknown station {code}: register it first with `leopard-watch station add` or /station add",
                "deploy.unknown_station", code=code,
            )  # fmt: skip
        return str(found)

    @staticmethod
    async def _refuse_overlap(
        conn: Any, camera: str | None, start: datetime, end: datetime | None, skip: int | None = None
    ) -> None:
        """Inside the writing transaction, so that two rangers cannot both place one camera."""
        if camera is None:
            return
        cur = await conn.execute("SELECT * FROM deployments WHERE camera = ?", (camera,))
        rows = await cur.fetchall()
        for other in map(_row, rows):
            if other.id != skip and other.overlaps(start, end):
                until = f"to {other.end:%Y-%m-%d %H:%M} UTC" if other.end else "and is still out there"
                where = other.station or "a point"
                raise DeploymentError(
                    f"camera {camera} is already deployed at {where} from {other.start:%Y-%m-%d %H:%M} UTC "
                    f"{until}: one camera cannot be in two places at once; end that deployment first "
                    f"(`leopard-watch deployment end {where} --camera {camera} --end ...` or /retrieve)",
                    "deploy.overlap", camera=camera, station=where, start=f"{other.start:%Y-%m-%d}",
                )  # fmt: skip

    async def add(
        self,
        station: str | None,
        camera: str | None,
        start: datetime,
        end: datetime | None = None,
        *,
        point: Point | None = None,
        source: str = "cli",
        by: int | None = None,
        setup_by: str | None = None,
        camera_model: str | None = None,
        camera_height: float | None = None,
        camera_tilt: int | None = None,
        bait: str = "none",
        estimated: bool = False,
        timestamp_issues: bool | None = None,
        comments: str | None = None,
    ) -> Deployment:
        """Open a deployment (closed already when `end` is given). Refused: an unknown station, an end
        before the start, a start in the future, the camera in another deployment meanwhile."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        code = await self.station_code(station) if station else None
        if code is None and point is None:
            raise DeploymentError("a deployment needs a station or a point", "deploy.no_place")
        camera = camera_id(camera)
        if end is not None and end < start:
            raise DeploymentError(
                f"the end {end:%Y-%m-%d %H:%M} UTC is before the start {start:%Y-%m-%d %H:%M} UTC",
                "deploy.end_before_start",
            )
        if start > utcnow() + timedelta(minutes=5):
            raise DeploymentError(f"the start {start:%Y-%m-%d %H:%M} UTC is in the future", "deploy.future")
        async with self.db.transaction() as conn:
            await self._refuse_overlap(conn, camera, start, end)
            cur = await conn.execute(
                """INSERT INTO deployments (station_code, lat, lon, camera, camera_model, camera_height,
                       camera_tilt, bait, setup_by, start_at, end_at, start_estimated, end_estimated,
                       start_source, end_source, timestamp_issues, comments, created_by, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (code, point.lat if point else None, point.lon if point else None, camera, camera_model,
                 camera_height, camera_tilt, bait or "none", setup_by, iso(start), iso(end), int(estimated),
                 int(estimated and end is not None), source, source if end is not None else None,
                 None if timestamp_issues is None else int(timestamp_issues), comments, by, iso(utcnow())),
            )  # fmt: skip
            new_id = cur.lastrowid
        assert new_id is not None
        found = await self.get(new_id)
        assert found is not None
        return found

    async def open_at(self, station: str, camera: str | None = None) -> list[Deployment]:
        code = await self.station_code(station)
        camera = camera_id(camera)
        rows = await self.db.fetchall(
            "SELECT * FROM deployments WHERE station_code = ? AND end_at IS NULL ORDER BY start_at, id",
            (code,),
        )
        return [d for d in map(_row, rows) if camera is None or d.camera == camera]

    async def end(
        self,
        station: str,
        camera: str | None,
        end: datetime,
        *,
        source: str = "cli",
        estimated: bool = False,
    ) -> Deployment:
        """Close the open deployment of `camera` at `station` (the only open one there when no camera is
        named); several open and none named is asked about, never guessed."""
        found = await self.open_at(station, camera)
        if not found:
            what = f" of camera {camera}" if camera else ""
            raise DeploymentError(
                f"no open deployment{what} at {station}: `deployment list` shows them",
                "deploy.none_open", station=station, camera=camera or "",
            )  # fmt: skip
        if len(found) > 1:
            cams = ", ".join(d.camera or "?" for d in found)
            raise DeploymentError(
                f"{len(found)} cameras are deployed at {station} ({cams}): name one with --camera",
                "deploy.which_camera", station=station, cameras=cams,
            )  # fmt: skip
        dep = found[0]
        if end < dep.start:
            raise DeploymentError(
                f"the end {end:%Y-%m-%d %H:%M} UTC is before the start {dep.start:%Y-%m-%d %H:%M} UTC",
                "deploy.end_before_start",
            )
        async with self.db.transaction() as conn:
            await self._refuse_overlap(conn, dep.camera, dep.start, end, skip=dep.id)
            await conn.execute(
                "UPDATE deployments SET end_at = ?, end_source = ?, end_estimated = ? WHERE id = ?",
                (iso(end), source, int(estimated), dep.id),
            )
        closed = await self.get(dep.id)
        assert closed is not None
        return closed

    async def note_problem(
        self,
        deployment_id: int,
        *,
        knocked_down: datetime | None = None,
        card_full: datetime | None = None,
        timestamp_issues: bool | None = None,
    ) -> None:
        """A problem found at the camera: knocked down, a card full on a date, a wrong clock."""
        async with self.db.transaction() as conn:
            await conn.execute(
                """UPDATE deployments SET knocked_down_at = COALESCE(?, knocked_down_at),
                       card_full_at = COALESCE(?, card_full_at),
                       timestamp_issues = COALESCE(?, timestamp_issues) WHERE id = ?""",
                (iso(knocked_down), iso(card_full),
                 None if timestamp_issues is None else int(timestamp_issues), deployment_id),
            )  # fmt: skip

    async def for_card(self, station: str, sighting_ids: Sequence[int]) -> CardDeployment | None:
        """The deployment an SD card's new frames came from, named on them (sightings.deployment_id):
        the station's deployment whose period holds the card's first frame (closed at the last frame
        when still open, the end marked estimated), else one opened and closed from the card's first
        and last frame, both estimated. None: the card brought no dated frame."""
        if not sighting_ids:
            return None
        ids = list(sighting_ids)
        first: datetime | None = None
        last: datetime | None = None
        for at in range(0, len(ids), 500):  # SQLite's parameter limit
            chunk = ids[at : at + 500]
            row = await self.db.fetchone(
                f"SELECT MIN(taken_at) AS a, MAX(taken_at) AS b FROM sightings "
                f"WHERE id IN ({','.join('?' * len(chunk))}) AND taken_at IS NOT NULL",
                chunk,
            )
            a, b = parse_iso(row["a"]) if row else None, parse_iso(row["b"]) if row else None
            first = a if first is None or (a is not None and a < first) else first
            last = b if last is None or (b is not None and b > last) else last
        if first is None or last is None:
            return None
        code = await self.station_code(station)
        rows = await self.db.fetchall(
            "SELECT * FROM deployments WHERE station_code = ? ORDER BY start_at DESC, id DESC", (code,)
        )
        holding = [d for d in map(_row, rows) if d.covers(first) or (d.end is None and first >= d.start)]
        made = closed = False
        if holding:
            dep = holding[0]
            if dep.end is None:
                dep = await self._close_at(dep, last)
                closed = True
        else:
            dep = await self.add(code, None, first, last, source="card", estimated=True,
                                 comments="period estimated from the card's frames")  # fmt: skip
            made = True
        async with self.db.transaction() as conn:
            for at in range(0, len(ids), 500):
                chunk = ids[at : at + 500]
                await conn.execute(
                    f"UPDATE sightings SET deployment_id = ? WHERE id IN ({','.join('?' * len(chunk))})",
                    (dep.id, *chunk),
                )
        return CardDeployment(dep, made, closed)

    async def _close_at(self, dep: Deployment, last: datetime) -> Deployment:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE deployments SET end_at = ?, end_source = 'card', end_estimated = 1 WHERE id = ?",
                (iso(max(last, dep.start)), dep.id),
            )
        closed = await self.get(dep.id)
        assert closed is not None
        return closed


class DeploymentIndex:
    """Which deployment a photo belongs to, for every photo of an export: the one the card import named
    (sightings.deployment_id), else the deployment at its station whose period holds its time (a
    cellular camera's photo, source "camera:CODE", prefers that camera's), else none."""

    def __init__(self, deployments: Iterable[Deployment]) -> None:
        self.by_id = {d.id: d for d in deployments}
        self._at: dict[str, list[Deployment]] = defaultdict(list)
        for d in sorted(self.by_id.values(), key=lambda d: (d.start, d.id)):
            if d.station:
                self._at[d.station].append(d)
        self._starts = {code: [d.start for d in deps] for code, deps in self._at.items()}

    def match(self, station: str | None, taken: datetime, source: str | None = None,
              deployment_id: int | None = None) -> Deployment | None:  # fmt: skip
        if deployment_id is not None and deployment_id in self.by_id:
            return self.by_id[deployment_id]
        if not station or station not in self._at:
            return None
        deps = self._at[station]
        upto = bisect.bisect_right(self._starts[station], taken)
        holding = [d for d in deps[:upto] if d.covers(taken)]
        if not holding:
            return None
        camera = source.split(":", 1)[1].upper() if source and source.startswith("camera:") else None
        return next((d for d in holding if camera and d.camera == camera), holding[-1])
