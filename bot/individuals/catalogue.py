"""The catalogue of known leopards: individuals, their reference crops, and the audit of every change.

Every write records who made it, when, and what the fields were before (individual_changes), in the
transaction that makes it. First and last seen are derived from the animal's identified events and the
sightings its reference crops came from, never stored, so they cannot drift from the evidence.

The gallery (every reference crop as the matcher takes it, and through it the matcher's kd-tree) stays in
memory between questions: building it costs far more than one query. Its version is the newest audit
row: every write audits in its own transaction, so the counter moves with each committed change, from
this process or another (`individuals import` while the bot runs), and a rolled-back write moves
nothing. Ranking is CPU work and runs on the catalogue's own worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.geo import Point
from bot.individuals.features import FLANKS, Features, from_bytes
from bot.individuals.matching import Candidate, Reference, rank
from bot.text import t
from storage.db import Database, iso, parse_iso, utcnow

SEXES = ("male", "female", "unknown")
LIFE_STAGES = ("adult", "subadult", "juvenile")
# Research teams name folders after their animals (lt_wilA_Borupanwila_female_3_BFC3): keep such names.
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,47}")
CODE_PREFIX = "PL"  # Panthera pardus; the letter after it says the sex (PL-M1, PL-F2, PL-U3)
_EDITABLE = ("name", "sex", "life_stage", "notes")
Conn = Database | aiosqlite.Connection
_REFS = "(SELECT COUNT(*) FROM individual_references r WHERE r.individual_id = i.id) AS refs"


class CatalogueError(ValueError):
    """A code, sex or flank the catalogue refuses. A catalog key with its values, so that a button's
    answer speaks the presser's language (text(lang)); str() is the English, for the command line."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = f"catalogue.error.{key}"
        self.params = params
        super().__init__(t("en", self.key, **params))

    def text(self, lang: str) -> str:
        return t(lang, self.key, **self.params)


@dataclass(frozen=True)
class Individual:
    id: int
    code: str
    name: str | None
    sex: str
    life_stage: str | None
    notes: str | None
    references: int = 0


@dataclass(frozen=True)
class Seen:
    """One event an individual was identified in (or a reference crop came from), as stored: exact.
    Readers get it through the Audience gate (bot/reports/individuals.py)."""

    event_id: int
    taken: datetime | None
    point: Point | None
    station: str | None
    area: str | None
    decision: str  # same, new, or reference (a catalogue crop from this sighting)


@dataclass(frozen=True)
class Listed:
    individual: Individual
    first: Seen | None
    last: Seen | None
    events: int


def check_code(code: str) -> str:
    code = code.strip()
    if not CODE.fullmatch(code):
        raise CatalogueError("code", code=code[:48])
    return code


class Catalogue:
    """Every statement on individuals, individual_references and individual_changes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._gallery: tuple[int, list[Reference]] | None = None  # (version, references)
        self._loading = asyncio.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _worker(self) -> ThreadPoolExecutor:
        # One thread: two questions at once would only split the 2 cores between them; made on first
        # use, so the command line's catalogue that never ranks starts none.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="individuals")
        return self._executor

    async def version(self) -> int:
        """The catalogue's version: the newest audit row (every write makes one)."""
        return int(await self.db.scalar("SELECT COALESCE(MAX(id), 0) FROM individual_changes"))

    async def create(
        self,
        conn: aiosqlite.Connection,
        *,
        code: str | None,
        by: int | None,
        by_name: str = "",
        name: str | None = None,
        sex: str = "unknown",
        life_stage: str | None = None,
        notes: str | None = None,
    ) -> Individual:
        """A new individual (code None: the next free PL-<sex letter><n>), inside the caller's transaction."""
        if sex not in SEXES:
            raise CatalogueError("sex", choices=", ".join(SEXES))
        if life_stage is not None and life_stage not in LIFE_STAGES:
            raise CatalogueError("life_stage", choices=", ".join(LIFE_STAGES))
        code = check_code(code) if code else await next_code(conn, sex)
        cur = await conn.execute("SELECT 1 FROM individuals WHERE code = ? COLLATE NOCASE", (code,))
        if await cur.fetchone() is not None:
            raise CatalogueError("exists", code=code)
        now = iso(utcnow())
        cur = await conn.execute(
            "INSERT INTO individuals (code, name, sex, life_stage, notes, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (code, name, sex, life_stage, notes, by, now),
        )
        assert cur.lastrowid is not None
        found = Individual(int(cur.lastrowid), code, name, sex, life_stage, notes)
        fields = {"code": code, "name": name, "sex": sex, "life_stage": life_stage, "notes": notes}
        await audit(conn, found.id, "created", None, fields, by, by_name)
        return found

    async def update(self, code: str, *, by: int | None, by_name: str = "", **fields: Any) -> Individual:
        """Change name, sex, life stage or notes; the fields before go to the audit."""
        unknown = set(fields) - set(_EDITABLE)
        if unknown:
            raise CatalogueError("fields", fields=", ".join(sorted(unknown)))
        if "sex" in fields and fields["sex"] not in SEXES:
            raise CatalogueError("sex", choices=", ".join(SEXES))
        if fields.get("life_stage") is not None and fields["life_stage"] not in LIFE_STAGES:
            raise CatalogueError("life_stage", choices=", ".join(LIFE_STAGES))
        async with self.db.transaction() as conn:
            cur = await conn.execute("SELECT * FROM individuals WHERE code = ? COLLATE NOCASE", (code,))
            row = await cur.fetchone()
            if row is None:
                raise CatalogueError("missing", code=code[:48])
            before = {k: row[k] for k in fields if row[k] != fields[k]}
            if not before:
                return row_individual(row)
            sets = ", ".join(f"{k} = ?" for k in before)
            await conn.execute(
                f"UPDATE individuals SET {sets} WHERE id = ?", (*[fields[k] for k in before], row["id"])
            )
            await audit(conn, int(row["id"]), "edited", before, {k: fields[k] for k in before}, by, by_name)
            cur = await conn.execute("SELECT * FROM individuals WHERE id = ?", (row["id"],))
            changed = await cur.fetchone()
        assert changed is not None
        return row_individual(changed)

    async def add_reference(
        self,
        conn: aiosqlite.Connection,
        individual: Individual,
        *,
        photo_sha256: str,
        box: Sequence[int] | None,
        flank: str,
        features: bytes,
        source: str,
        by: int | None,
        by_name: str = "",
        sighting_id: int | None = None,
        station: str | None = None,
    ) -> bool:
        """One reference crop (False: this photo and flank were already one of its references)."""
        if flank not in FLANKS:
            raise CatalogueError("flank", choices=", ".join(FLANKS))
        cur = await conn.execute(
            "INSERT OR IGNORE INTO individual_references (individual_id, photo_sha256, box, flank, "
            "sighting_id, station_code, source, features, added_by, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                individual.id, photo_sha256, json.dumps(list(box)) if box else None, flank, sighting_id,
                station, source, features, by, iso(utcnow()),
            ),
        )  # fmt: skip
        if cur.rowcount == 0:
            return False
        after = {"reference": cur.lastrowid, "photo": photo_sha256, "flank": flank, "sighting": sighting_id}
        await audit(conn, individual.id, "reference added", None, after, by, by_name)
        return True

    async def drop_references_of_event(
        self,
        conn: aiosqlite.Connection,
        individual_id: int,
        event_id: int,
        *,
        by: int | None,
        by_name: str = "",
    ) -> int:
        """An identification changed: the crops it gave the individual it no longer names go, audited."""
        cur = await conn.execute(
            "SELECT id, photo_sha256, flank FROM individual_references "
            "WHERE individual_id = ? AND sighting_id = ?",
            (individual_id, event_id),
        )
        rows = list(await cur.fetchall())
        for r in rows:
            before = {
                "reference": r["id"],
                "photo": r["photo_sha256"],
                "flank": r["flank"],
                "sighting": event_id,
            }
            await conn.execute("DELETE FROM individual_references WHERE id = ?", (r["id"],))
            await audit(conn, individual_id, "reference removed", before, None, by, by_name)
        return len(rows)

    async def get(self, code_or_id: str | int) -> Individual | None:
        column = "id = ?" if isinstance(code_or_id, int) else "code = ? COLLATE NOCASE"
        row = await self.db.fetchone(
            f"SELECT i.*, {_REFS} FROM individuals i WHERE i.{column}",
            (code_or_id,),
        )
        return None if row is None else row_individual(row)

    async def all(self) -> list[Individual]:
        rows = await self.db.fetchall(f"SELECT i.*, {_REFS} FROM individuals i ORDER BY i.code")
        return [row_individual(r) for r in rows]

    async def seen(self, individual_id: int) -> list[Seen]:
        """Its identified events and reference sightings, oldest first (one entry per event)."""
        rows = await self.db.fetchall(
            """SELECT s.id, s.taken_at, s.received_at, s.lat, s.lon, s.station_code, st.area, x.decision
               FROM (SELECT event_id AS sid, decision FROM current_identities WHERE individual_id = ?
                     UNION ALL
                     SELECT sighting_id, 'reference' FROM individual_references
                      WHERE individual_id = ? AND sighting_id IS NOT NULL) x
               JOIN sightings s ON s.id = x.sid
               LEFT JOIN stations st ON st.code = s.station_code
               ORDER BY COALESCE(s.taken_at, s.received_at), s.id""",
            (individual_id, individual_id),
        )
        found: dict[int, Seen] = {}
        for r in rows:
            if int(r["id"]) in found:
                continue
            point = Point(r["lat"], r["lon"]) if r["lat"] is not None else None
            taken = parse_iso(r["taken_at"] or r["received_at"])
            found[int(r["id"])] = Seen(
                int(r["id"]), taken, point, r["station_code"], r["area"], r["decision"]
            )
        return list(found.values())

    async def listing(self) -> list[Listed]:
        out = []
        for ind in await self.all():
            seen = await self.seen(ind.id)
            out.append(Listed(ind, seen[0] if seen else None, seen[-1] if seen else None, len(seen)))
        return out

    async def history(self, individual_id: int) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT what, before, after, by_user, by_name, at FROM individual_changes "
            "WHERE individual_id = ? ORDER BY id",
            (individual_id,),
        )
        return [dict(r) for r in rows]

    async def gallery(self) -> list[Reference]:
        """Every reference crop as the matcher takes it, loaded once per catalogue version (the matcher
        keys its kd-tree on these very objects, so an unchanged gallery keeps its tree too)."""
        async with self._loading:  # two questions at once load it once
            version = await self.version()
            if self._gallery is None or self._gallery[0] != version:
                rows = await self.db.fetchall(
                    "SELECT r.id, r.features, r.station_code, i.code FROM individual_references r "
                    "JOIN individuals i ON i.id = r.individual_id ORDER BY r.id"
                )
                loop = asyncio.get_running_loop()
                refs = await loop.run_in_executor(self._worker(), _references, rows)
                self._gallery = (version, refs)
            return self._gallery[1]

    async def rank(self, query: Features, *, query_station: str | None) -> list[Candidate]:
        """The catalogue ranked against one crop (bot.individuals.matching.rank), on the worker thread."""
        gallery = await self.gallery()
        if not gallery:
            return []
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker(), _rank, query, gallery, query_station)

    async def reference_photo(self, reference_id: int) -> tuple[str, list[int] | None] | None:
        """The stored photo and box of one reference crop (what the side-by-side picture shows)."""
        row = await self.db.fetchone(
            "SELECT photo_sha256, box FROM individual_references WHERE id = ?", (reference_id,)
        )
        if row is None:
            return None
        return row["photo_sha256"], (json.loads(row["box"]) if row["box"] else None)


def _references(rows: list[aiosqlite.Row]) -> list[Reference]:
    return [
        Reference(r["code"], str(r["id"]), r["station_code"], from_bytes(bytes(r["features"]))) for r in rows
    ]


def _rank(query: Features, gallery: list[Reference], query_station: str | None) -> list[Candidate]:
    return rank(query, gallery, query_station=query_station)


async def next_code(conn: Conn, sex: str) -> str:
    prefix = f"{CODE_PREFIX}-{sex[0].upper()}"
    cur = await conn.execute("SELECT code FROM individuals WHERE code LIKE ?", (f"{prefix}%",))
    taken = {str(r["code"]).upper() for r in await cur.fetchall()}
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


async def audit(
    conn: Conn,
    individual_id: int,
    what: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    by: int | None,
    by_name: str,
) -> None:
    await conn.execute(
        "INSERT INTO individual_changes (individual_id, what, before, after, by_user, by_name, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            individual_id, what, None if before is None else json.dumps(before, ensure_ascii=False),
            None if after is None else json.dumps(after, ensure_ascii=False), by, by_name, iso(utcnow()),
        ),
    )  # fmt: skip


def row_individual(row: aiosqlite.Row) -> Individual:
    keys = row.keys()
    refs = int(row["refs"]) if "refs" in keys else 0
    return Individual(
        int(row["id"]), row["code"], row["name"], row["sex"], row["life_stage"], row["notes"], refs
    )
