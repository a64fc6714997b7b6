"""Field checks: a ranger's visit to a camera (/check UST-04): battery, card swapped, what they found
(working, dead, not found, knocked over), a set-up photo and the GPS pin; which cameras are overdue for
one (LW_CHECK_DUE_DAYS).

A check that finds the camera dead (or gone, or knocked over) says when it stopped as well as the bot can
tell: the last frame of that deployment before the visit (stopped_source "last frame"), else the previous
check that found it working ("last check"), else its set-up ("set-up"). From then until a check finds it
working again (or the deployment ends) is an outage: effort (bot/reports/effort.py) leaves it out. A
camera knocked over also dates the deployment's knocked_down_at (Camtrap DP's problem note) at that stop.

The set-up photo goes to the photo store by its SHA-256 (column photo_sha256), not by Telegram's file id:
a file id dies with the bot's token, the file on disk does not. It is never a sighting: no
detection, no alert, no receipt.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.geo import Point, distance_km
from bot.media import UnreadableImage, open_image
from bot.places.deployments import Deployment, Deployments, load_deployments, note_found
from storage.db import Database, iso, parse_iso, utcnow
from storage.photos import PhotoStore

FINDINGS = ("working", "dead", "missing", "knocked_over")  # what a ranger can find at the camera
BATTERY_STEPS = (100, 75, 50, 25, 0)  # the buttons; a typed check takes any percentage
SUGGESTED = 6  # stations offered as buttons to `/check` alone
NEAR_FOR = timedelta(hours=6)  # a ranger's last pin older than this says nothing of where they are now
_BATTERY = re.compile(r"^(\d{1,3})%?$")
# Typed words (`/check UST-04 80% card dead`), in the three languages; "-" and "_" are the same.
_WORDS = {
    "card": ("card_swapped", True), "sd": ("card_swapped", True), "карта": ("card_swapped", True),
    "карточка": ("card_swapped", True),
    "working": ("found", "working"), "ok": ("found", "working"), "работает": ("found", "working"),
    "істейді": ("found", "working"), "жұмыс_істейді": ("found", "working"),
    "dead": ("found", "dead"), "broken": ("found", "dead"), "не_работает": ("found", "dead"),
    "сломана": ("found", "dead"), "істемейді": ("found", "dead"), "бұзылған": ("found", "dead"),
    "missing": ("found", "missing"), "gone": ("found", "missing"), "not_found": ("found", "missing"),
    "пропала": ("found", "missing"), "нет": ("found", "missing"), "жоқ": ("found", "missing"),
    "knocked": ("found", "knocked_over"), "knocked_over": ("found", "knocked_over"),
    "упала": ("found", "knocked_over"), "сбита": ("found", "knocked_over"),
    "құлаған": ("found", "knocked_over"),
}  # fmt: skip


class CheckError(ValueError):
    """A check's part refused, in one sentence; `key` names it for the catalogs (check.*)."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Visit:
    """What a ranger found at the camera; None where they did not say. `found` refines a camera that is
    not working ("dead", "missing", "knocked_over"); a bare `working=False` is "dead"."""

    battery: int | None = None  # percent
    card_swapped: bool | None = None
    working: bool | None = None
    photo_sha256: str | None = None  # the set-up photo in the photo store
    point: Point | None = None  # the ranger's pin at the camera
    found: str | None = None

    def __post_init__(self) -> None:
        if self.found is not None:
            if self.found not in FINDINGS:
                raise ValueError(f"unknown finding {self.found!r}")
            object.__setattr__(self, "working", self.found == "working")
        elif self.working is not None:
            object.__setattr__(self, "found", "working" if self.working else "dead")


def parse_visit(words: list[str]) -> Visit | None:
    """`80% card working|dead|missing|knocked` in any order (ru/kk words too); None when a word is none
    of them."""
    fields: dict[str, object] = {}
    for word in (w.lower().replace("-", "_") for w in words):
        m = _BATTERY.match(word)
        if m and int(m.group(1)) <= 100:
            fields["battery"] = int(m.group(1))
        elif word in _WORDS:
            name, value = _WORDS[word]
            fields[name] = value
        else:
            return None
    found = fields.get("found")
    card = fields.get("card_swapped")
    battery = fields.get("battery")
    return Visit(
        battery=battery if isinstance(battery, int) else None,
        card_swapped=card if isinstance(card, bool) else None,
        found=found if isinstance(found, str) else None,
    )


@dataclass(frozen=True)
class Check:
    id: int
    station: str
    deployment: Deployment | None
    at: datetime
    visit: Visit
    stopped_at: datetime | None = None
    stopped_source: str | None = None


@dataclass(frozen=True)
class Overdue:
    """An open deployment nobody has visited for LW_CHECK_DUE_DAYS (its last visit, else its set-up)."""

    deployment: Deployment
    area: str | None
    last_visit: datetime | None  # None: never checked since set-up
    days: int


class FieldChecks:
    """Every statement on `field_checks`, and the set-up photos they keep."""

    def __init__(self, db: Database, photos: PhotoStore | None = None,
                 deployments: Deployments | None = None) -> None:  # fmt: skip
        self.db = db
        self.photos = photos
        self.deployments = deployments or Deployments(db)

    async def keep_photo(self, data: bytes) -> str:
        """A set-up photo into the photo store (decoded first: bytes from outside are untrusted); its
        SHA-256. The file lands before any row names it, as for sightings."""
        if self.photos is None:
            raise CheckError("no photo store configured", "check.photo_unreadable")
        try:
            open_image(data, max_side=64)
        except UnreadableImage as exc:
            raise CheckError(f"not a readable image: {exc}", "check.photo_unreadable") from exc
        return (await self.photos.store(data)).sha256

    async def record(self, station: str, visit: Visit, *, by: int | None = None,
                     at: datetime | None = None, camera: str | None = None) -> Check:  # fmt: skip
        """One visit to the station's (open) deployment; a stopped camera's stop is dated here."""
        if visit.battery is not None and not 0 <= visit.battery <= 100:
            raise ValueError("battery is a percentage, 0 to 100")
        at = at or utcnow()
        open_ = await self.deployments.open_at(station, camera)
        dep = open_[-1] if open_ else None
        code = dep.station if dep and dep.station else await self.deployments.station_code(station)
        stopped_at = stopped_source = None
        if visit.working is False and dep is not None:
            stopped_at, stopped_source = await self._stopped(dep, at)
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                """INSERT INTO field_checks (deployment_id, station_code, at, by_user, battery, card_swapped,
                       working, stopped_at, stopped_source, photo_sha256, lat, lon, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (dep.id if dep else None, code, iso(at), by, visit.battery, _bit(visit.card_swapped),
                 _bit(visit.working), iso(stopped_at), stopped_source, visit.photo_sha256,
                 visit.point.lat if visit.point else None, visit.point.lon if visit.point else None,
                 iso(utcnow())),
            )  # fmt: skip
            new_id = cur.lastrowid
            if dep is not None and visit.found in ("missing", "knocked_over"):
                local = f"{at:%Y-%m-%d}"
                note = "camera not found at the check of " if visit.found == "missing" else "knocked over, "
                await note_found(
                    conn, dep.id, comment=f"{note}{local} UTC",
                    knocked_down=(stopped_at or at) if visit.found == "knocked_over" else None,
                )  # fmt: skip
        assert new_id is not None
        return Check(new_id, code, dep, at, visit, stopped_at, stopped_source)

    async def _stopped(self, dep: Deployment, at: datetime) -> tuple[datetime, str]:
        last_frame = await self.db.scalar(
            """SELECT MAX(taken_at) FROM sightings
               WHERE (deployment_id = ? OR (deployment_id IS NULL AND station_code = ?
                      AND (source = 'import' OR source LIKE 'camera:%')))
                 AND taken_at >= ? AND taken_at <= ?""",
            (dep.id, dep.station, iso(dep.start), iso(at)),
        )
        if last_frame:
            found = parse_iso(last_frame)
            assert found is not None
            return found, "last frame"
        last_ok = await self.db.scalar(
            "SELECT MAX(at) FROM field_checks WHERE deployment_id = ? AND working = 1 AND at <= ?",
            (dep.id, iso(at)),
        )
        if last_ok:
            found = parse_iso(last_ok)
            assert found is not None
            return found, "last check"
        return dep.start, "set-up"

    async def last_visits(self) -> dict[int, datetime]:
        rows = await self.db.fetchall(
            "SELECT deployment_id, MAX(at) AS at FROM field_checks WHERE deployment_id IS NOT NULL "
            "GROUP BY deployment_id"
        )
        out = {}
        for r in rows:
            at = parse_iso(r["at"])
            if at is not None:
                out[int(r["deployment_id"])] = at
        return out

    async def suggest(self, user_id: int, now: datetime | None = None) -> list[str]:
        """Stations to offer as buttons to `/check` alone: those with a camera out. Nearest first when the
        ranger sent a pin in the last NEAR_FOR hours, else the ones they deployed or checked most
        recently, then the most recently set up."""
        now = now or utcnow()
        rows = await self.db.fetchall(
            """SELECT d.station_code AS code, s.lat, s.lon,
                      MAX(COALESCE((SELECT MAX(c.at) FROM field_checks c
                                    WHERE c.deployment_id = d.id AND c.by_user = ?), ''),
                          CASE WHEN d.created_by = ? THEN d.start_at ELSE '' END) AS mine,
                      d.start_at
               FROM deployments d JOIN stations s ON s.code = d.station_code
               WHERE d.end_at IS NULL""",
            (user_id, user_id),
        )
        best: dict[str, tuple[str, str, float, float]] = {}
        for r in rows:
            key = (r["mine"] or "", r["start_at"])
            if r["code"] not in best or key > best[r["code"]][:2]:
                best[r["code"]] = (*key, r["lat"], r["lon"])
        pin = await self.db.fetchone("SELECT lat, lon, at FROM ranger_locations WHERE user_id = ?",
                                     (user_id,))  # fmt: skip
        pinned_at = parse_iso(pin["at"]) if pin else None
        if pin and pinned_at and now - pinned_at <= NEAR_FOR:
            here = Point(pin["lat"], pin["lon"])
            ordered = sorted(best, key=lambda c: (distance_km(here, Point(best[c][2], best[c][3])), c))
        else:
            ordered = sorted(best, key=lambda c: (best[c][0], best[c][1], c), reverse=True)
        return ordered[:SUGGESTED]


async def outages(db: Database) -> dict[int, list[tuple[datetime, datetime | None]]]:
    """Per deployment, the spans its camera was known dead: from a dead check's stop to the next check
    that found it working (None: not since; the deployment's end closes it)."""
    rows = await db.fetchall(
        """SELECT deployment_id, at, working, stopped_at FROM field_checks
           WHERE deployment_id IS NOT NULL AND working IS NOT NULL ORDER BY deployment_id, at, id"""
    )
    by_dep: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    dead_since: dict[int, datetime] = {}
    for r in rows:
        dep, at = int(r["deployment_id"]), parse_iso(r["at"])
        assert at is not None
        if not r["working"]:
            dead_since.setdefault(dep, parse_iso(r["stopped_at"]) or at)
        elif dep in dead_since:
            by_dep[dep].append((dead_since.pop(dep), at))
    for dep, since in dead_since.items():
        by_dep[dep].append((since, None))
    return dict(by_dep)


async def overdue_checks(db: Database, now: datetime, due_days: int) -> list[Overdue]:
    """Open deployments whose last visit (else set-up) is more than `due_days` before `now`, the
    longest waiting first. Area: the station's."""
    visits = await FieldChecks(db).last_visits()
    areas = {r["code"]: r["area"] for r in await db.fetchall("SELECT code, area FROM stations")}
    out = []
    for dep in await load_deployments(db, now, None):
        if dep.end is not None or dep.start > now:
            continue
        last = visits.get(dep.id)
        since = last or dep.start
        if now - since > timedelta(days=due_days):
            out.append(Overdue(dep, areas.get(dep.station or ""), last, (now - since).days))
    return sorted(out, key=lambda o: (-o.days, o.deployment.station or "", o.deployment.camera or ""))


def _bit(value: bool | None) -> int | None:
    return None if value is None else int(value)
