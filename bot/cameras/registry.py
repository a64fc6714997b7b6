"""Cellular cameras, registered like stations: which station each one stands at and how its e-mail is
recognised (what the cameras report about themselves is bot/cameras/health.py).

A camera nobody registered is still a row (code NULL, known by its From address): its photos are kept
and linked to it, so that `/camera assign` can give them the station afterwards.

A removed camera (/camera remove) is still a row too, marked removed_at (migration 0011): its sightings,
mail ledger rows and photos name it, so deleting it would leave them pointing at nothing, and a data
manager asking "which camera sent this, registered by whom, out of service since when" must still get
an answer. It matches no mail and is listed nowhere; adding its code again puts the same row back.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiosqlite

from bot.alerts import UNKNOWN_CAMERA
from bot.geo import Point
from bot.intake import Place, give_place
from bot.places import Station, normalize_code
from storage.db import Database, iso, parse_iso, utcnow

log = logging.getLogger(__name__)

SENDER, NAME, FILE = "sender", "name", "file"
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_ADDRESS_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CameraError(ValueError):
    """A /camera command or camera file that cannot be carried out; reason is a stable code."""

    def __init__(self, message: str, reason: str, value: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.value = value


@dataclass(frozen=True)
class Rule:
    kind: str  # SENDER (address), NAME (in subject or body), FILE (file-name prefix)
    value: str

    def __str__(self) -> str:
        return self.value if self.kind == SENDER else f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class Camera:
    id: int
    code: str | None  # None: not registered yet
    station: str | None
    sender: str | None
    rules: tuple[Rule, ...] = ()
    last_message_at: datetime | None = None
    last_photo_at: datetime | None = None
    battery: str | None = None
    signal: str | None = None
    moved: Point | None = None
    from_file: bool = False

    @property
    def label(self) -> str:
        return self.code or f"#{self.id}"

    @property
    def source(self) -> str:
        """The sightings.source of its photos."""
        return f"camera:{self.code}" if self.code else UNKNOWN_CAMERA

    def names(self) -> list[str]:
        """Names looked for in a subject or body: its code and its name rules."""
        found = [self.code] if self.code else []
        return found + [r.value for r in self.rules if r.kind == NAME and r.value != self.code]


def normalize_camera_code(text: str) -> str:
    if not _CODE_RE.match(text):
        raise CameraError(f"bad camera code {text!r}", "bad_code", text)
    return text.upper()


def parse_rule(text: str) -> Rule:
    """`a@b.kz` (sender), `name:X` or a bare word (name in the subject/body), `file:PREFIX`."""
    kind, _, value = (
        text.partition(":") if text.lower().startswith(("file:", "name:", "sender:")) else ("", "", text)
    )
    kind, value = kind.lower(), value.strip()
    if kind == SENDER or (not kind and "@" in value):
        if not _ADDRESS_RE.match(value):
            raise CameraError(f"bad address {value!r}", "bad_rule", text)
        return Rule(SENDER, value.lower())
    if kind == FILE:
        if not 2 <= len(value) <= 40 or re.search(r"[\s\\/]", value):
            raise CameraError(f"bad file prefix {value!r}", "bad_rule", text)
        return Rule(FILE, value.lower())
    if not 2 <= len(value) <= 40 or re.search(r"\s", value):
        raise CameraError(f"bad camera name {value!r}", "bad_rule", text)
    return Rule(NAME, value.upper())


@dataclass(frozen=True)
class Assigned:
    camera: Camera
    placed: int  # earlier photos that got the station's place
    leopards: tuple[int, ...]  # earlier photos the detector found alert-worthy but that were not alerted


def _camera(row: aiosqlite.Row, rules: list[Rule]) -> Camera:
    moved = Point(row["moved_lat"], row["moved_lon"]) if row["moved_lat"] is not None else None
    return Camera(
        row["id"],
        row["code"],
        row["station_code"],
        row["sender"],
        tuple(rules),
        parse_iso(row["last_message_at"]),
        parse_iso(row["last_photo_at"]),
        row["battery"],
        row["signal"],
        moved,
        bool(row["from_file"]),
    )


class Cameras:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self, *, registered: bool = False) -> list[Camera]:
        rules: dict[int, list[Rule]] = {}
        for r in await self.db.fetchall("SELECT camera_id, kind, value FROM camera_matches ORDER BY value"):
            rules.setdefault(r["camera_id"], []).append(Rule(r["kind"], r["value"]))
        where = "WHERE removed_at IS NULL" + (" AND code IS NOT NULL" if registered else "")
        rows = await self.db.fetchall(f"SELECT * FROM cameras {where} ORDER BY code IS NULL, code, id")
        return [_camera(r, rules.get(r["id"], [])) for r in rows]

    async def get(self, code_or_number: str) -> Camera | None:
        """A camera in service by its code, or an unregistered one by the number /camera list shows
        (#3 or 3)."""
        text = code_or_number.strip()
        number = text.lstrip("#")
        for camera in await self.all():
            if camera.code == text.upper() or (number.isdigit() and camera.id == int(number)):
                return camera
        return None

    async def add(
        self,
        code: str,
        station: str,
        rules: list[Rule],
        *,
        by: int | None = None,
        from_file: bool = False,
        unknown_id: int | None = None,
    ) -> Assigned:
        """Register (or update, or put back into service) a camera. It takes over an unknown camera,
        earlier photos included: the one named by unknown_id (/camera assign), and any whose address is
        one of its sender rules."""
        code = normalize_camera_code(code)
        async with self.db.transaction() as conn:
            station = await _station_code(conn, station)
            await _readd(conn, code, by)
            await conn.execute(
                """INSERT INTO cameras (code, station_code, from_file, created_by, created_at)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (code) DO UPDATE SET station_code = excluded.station_code,
                       from_file = excluded.from_file""",
                (code, station, int(from_file), by, iso(utcnow())),
            )
            cur = await conn.execute("SELECT id FROM cameras WHERE code = ?", (code,))
            row = await cur.fetchone()
            assert row is not None
            camera_id = int(row["id"])
            await _add_rules(conn, camera_id, rules)
            senders = [r.value for r in rules if r.kind == SENDER]
            marks = ",".join("?" * len(senders))
            cur = await conn.execute(
                # A removed unknown camera stays as the coordinator left it: dismissed, not merged.
                "SELECT id FROM cameras WHERE code IS NULL AND removed_at IS NULL "
                f"AND (id = ? OR sender IN ({marks}))",
                (unknown_id, *senders),
            )
            placed, leopards = 0, list[int]()
            for unknown in list(await cur.fetchall()):
                p, leo = await _absorb(conn, int(unknown["id"]), camera_id, code, station)
                placed += p
                leopards += leo
        camera = await self.get(code)
        assert camera is not None
        return Assigned(camera, placed, tuple(leopards))

    async def assign(
        self, number: str, station: str, code: str | None = None, *, by: int | None = None
    ) -> Assigned:
        """Give an unknown camera a station (and a code): its address becomes its sender rule."""
        camera = await self.get(number)
        if camera is None or camera.code is not None:
            raise CameraError(f"no unknown camera {number}", "not_unknown", number)
        rules = [Rule(SENDER, camera.sender)] if camera.sender else []
        return await self.add(code or f"CAM-{camera.id}", station, rules, by=by, unknown_id=camera.id)

    async def unknown(self, conn: aiosqlite.Connection, sender: str | None) -> Camera:
        """The unknown camera writing from this address (one for mail without a usable From)."""
        key = sender or ""
        await conn.execute(
            "INSERT OR IGNORE INTO cameras (code, sender, created_at) VALUES (NULL, ?, ?)",
            (key, iso(utcnow())),
        )
        cur = await conn.execute(
            "SELECT * FROM cameras WHERE code IS NULL AND removed_at IS NULL AND sender = ?", (key,)
        )
        row = await cur.fetchone()
        assert row is not None
        return _camera(row, [])

    async def load_file(self, path: Path) -> int:
        """LW_CAMERAS_FILE: [[camera]] tables with code, station and match (a list); how many it
        registered. Cameras that an earlier version of the file defined and this one does not are left,
        but lose from_file. A camera removed with /camera remove stays removed: the file is read at
        every start, and a restart must not quietly undo a coordinator (/camera add puts it back)."""
        try:
            data = tomllib.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CameraError(f"{path}: {exc}", "bad_file", str(path)) from exc
        entries = data.get("camera", [])
        if not isinstance(entries, list):
            raise CameraError(f"{path}: expected [[camera]] tables", "bad_file", str(path))
        await self.db.execute("UPDATE cameras SET from_file = 0 WHERE from_file = 1")
        removed = {
            r["code"] for r in await self.db.fetchall("SELECT code FROM cameras WHERE removed_at IS NOT NULL")
        }
        loaded = 0
        for entry in entries:
            if not isinstance(entry, dict) or not entry.get("code") or not entry.get("station"):
                raise CameraError(f"{path}: every [[camera]] needs code and station", "bad_file", str(path))
            if str(entry["code"]).upper() in removed:
                log.warning(
                    "%s: camera %s was removed with /camera remove: not registered", path, entry["code"]
                )
                continue
            matches = entry.get("match", [])
            rules = [parse_rule(str(m)) for m in ([matches] if isinstance(matches, str) else matches)]
            try:
                await self.add(str(entry["code"]), str(entry["station"]), rules, from_file=True)
            except CameraError as exc:
                raise CameraError(f"{path}: camera {entry['code']}: {exc}", exc.reason, exc.value) from exc
            loaded += 1
        return loaded

    async def remove(self, code_or_number: str, *, by: int | None = None) -> Camera:
        """Take a camera out of service: it matches no mail (its rules are freed for another camera),
        is no longer listed or reported silent, and keeps everything it sent. Mail from its address
        is then an unknown sender's, as if it had never been registered."""
        camera = await self.get(code_or_number)
        if camera is None:
            raise CameraError(f"no camera {code_or_number}", "not_found", code_or_number)
        now = iso(utcnow())
        async with self.db.transaction() as conn:
            # The rules are kept in the removal's record: the ledger says what arrived, this says
            # why it was taken as this camera's.
            await conn.execute(
                "INSERT INTO camera_removals (camera_id, code, station_code, rules, removed_by, removed_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (camera.id, camera.code, camera.station, ", ".join(map(str, camera.rules)), by, now),
            )
            await conn.execute("DELETE FROM camera_matches WHERE camera_id = ?", (camera.id,))
            await conn.execute(
                "UPDATE cameras SET removed_at = ?, removed_by = ? WHERE id = ?", (now, by, camera.id)
            )
        return camera


async def _readd(conn: aiosqlite.Connection, code: str, by: int | None) -> None:
    """A removed camera's code registered again: the same row back in service, and the removal it
    ends closed with who and when. Not a second row: sightings name their camera by code
    (source "camera:CAM-17"), so two rows with one code would make every old sighting ambiguous."""
    cur = await conn.execute("SELECT id FROM cameras WHERE code = ? AND removed_at IS NOT NULL", (code,))
    row = await cur.fetchone()
    if row is None:
        return
    now = iso(utcnow())
    await conn.execute(
        "UPDATE camera_removals SET readded_by = ?, readded_at = ? "
        "WHERE camera_id = ? AND readded_at IS NULL",
        (by, now, row["id"]),
    )
    await conn.execute("UPDATE cameras SET removed_at = NULL, removed_by = NULL WHERE id = ?", (row["id"],))


async def _station_code(conn: aiosqlite.Connection, station: str) -> str:
    # normalize_code: the same reading of typed codes as /station.
    norm = normalize_code(station) or station.upper()
    cur = await conn.execute("SELECT code FROM stations WHERE code IN (?, ?)", (station, norm))
    row = await cur.fetchone()
    if row is None:
        raise CameraError(f"unknown station {station}", "unknown_station", station)
    return str(row["code"])


async def _add_rules(conn: aiosqlite.Connection, camera_id: int, rules: list[Rule]) -> None:
    for rule in rules:
        cur = await conn.execute(
            "SELECT c.id, c.code FROM camera_matches m JOIN cameras c ON c.id = m.camera_id "
            "WHERE m.kind = ? AND m.value = ?",
            (rule.kind, rule.value),
        )
        taken = await cur.fetchone()
        if taken is not None and taken["id"] != camera_id:
            raise CameraError(f"{rule} already names camera {taken['code']}", "rule_taken", str(rule))
        await conn.execute(
            "INSERT OR IGNORE INTO camera_matches (camera_id, kind, value) VALUES (?, ?, ?)",
            (camera_id, rule.kind, rule.value),
        )


async def _absorb(
    conn: aiosqlite.Connection, unknown_id: int, camera_id: int, code: str, station: str
) -> tuple[int, tuple[int, ...]]:
    """An unknown camera turns out to be `code`: its photos become that camera's, and those without a
    place get the station's. Alerts already sent for them are refreshed with the place; photos that
    were held back (the sender was not trusted) are listed for the coordinators, not alerted now."""
    cur = await conn.execute("SELECT code, name, lat, lon, area FROM stations WHERE code = ?", (station,))
    st = await cur.fetchone()
    assert st is not None
    cur = await conn.execute(
        """SELECT s.id, s.lat, s.event_id, s.label, s.is_leopard FROM sightings s
           JOIN mail_photos p ON p.sighting_id = s.id WHERE p.camera_id = ? AND p.own = 1 ORDER BY s.id""",
        (unknown_id,),
    )
    rows = list(await cur.fetchall())
    leopards = []
    for row in rows:
        await conn.execute("UPDATE sightings SET source = ? WHERE id = ?", (f"camera:{code}", row["id"]))
        if row["event_id"] is None and (row["is_leopard"] or row["label"] == "snow leopard"):
            leopards.append(int(row["id"]))
    # The place is given (and alerts already sent refreshed) the one way intake gives any sighting one.
    unplaced = [row for row in rows if row["lat"] is None]
    where = Station(st["code"], st["name"], Point(st["lat"], st["lon"]), st["area"])
    await give_place(conn, unplaced, Place(where.point, "station", where))
    for table in ("mail_photos", "mail_messages"):
        await conn.execute(f"UPDATE {table} SET camera_id = ? WHERE camera_id = ?", (camera_id, unknown_id))
    await conn.execute(
        "UPDATE cameras SET last_message_at = MAX(COALESCE(last_message_at, ''), "
        "COALESCE((SELECT last_message_at FROM cameras WHERE id = ?), '')) WHERE id = ?",
        (unknown_id, camera_id),
    )
    await conn.execute("DELETE FROM cameras WHERE id = ?", (unknown_id,))
    return len(unplaced), tuple(leopards)


async def coordinators(db: Database, admin_ids: frozenset[int]) -> list[tuple[int, str | None]]:
    """Who is asked about cameras: every admin and active coordinator, with their language."""
    rows = await db.fetchall(
        "SELECT user_id, language FROM rangers WHERE role = 'coordinator' AND status = 'active'"
    )
    people = {int(r["user_id"]): r["language"] for r in rows}
    if admin_ids:
        marks = ",".join("?" * len(admin_ids))
        rows = await db.fetchall(
            f"SELECT user_id, language FROM rangers WHERE user_id IN ({marks})", tuple(admin_ids)
        )
        langs = {int(r["user_id"]): r["language"] for r in rows}
        people.update({a: langs.get(a) for a in admin_ids})
    return sorted(people.items())
