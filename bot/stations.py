"""Camera stations and the areas (tracts) they belong to."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.geo import Point
from storage.db import Database, iso, utcnow

# Station codes as rangers write them on the traps: letters, a dash, digits ("UST-04", "KZS-12").
CODE_RE = re.compile(r"(?<![\w-])([A-Za-zА-Яа-яЁё]{2,6})-(\d{1,4})(?![\w-])")


@dataclass(frozen=True)
class Station:
    code: str
    name: str
    point: Point
    area: str | None


def normalize_code(text: str) -> str | None:
    m = CODE_RE.fullmatch(text.strip())
    return f"{m.group(1).upper()}-{m.group(2)}" if m else None


def codes_in(text: str | None) -> list[str]:
    if not text:
        return []
    return [f"{m.group(1).upper()}-{m.group(2)}" for m in CODE_RE.finditer(text)]


class Stations:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, code: str, point: Point, name: str = "", area: str | None = None, by: int | None = None
    ) -> Station:
        norm = normalize_code(code)
        if norm is None:
            raise ValueError(f"bad station code {code!r}: use letters-digits, e.g. UST-04")
        area = area.upper() if area else None
        async with self.db.transaction() as conn:
            if area:
                await conn.execute("INSERT OR IGNORE INTO areas (code, name) VALUES (?, ?)", (area, area))
            await conn.execute(
                """INSERT INTO stations (code, name, lat, lon, area, created_by, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (code) DO UPDATE SET name = excluded.name, lat = excluded.lat,
                       lon = excluded.lon, area = COALESCE(excluded.area, stations.area)""",
                (norm, name, point.lat, point.lon, area, by, iso(utcnow())),
            )
        found = await self.get(norm)
        assert found is not None
        return found

    async def get(self, code: str) -> Station | None:
        norm = normalize_code(code) or code.upper()
        row = await self.db.fetchone("SELECT * FROM stations WHERE code = ?", (norm,))
        return _station(row) if row else None

    async def find_in_text(self, text: str | None) -> Station | None:
        for code in codes_in(text):
            station = await self.get(code)
            if station:
                return station
        return None

    async def all(self) -> list[Station]:
        return [_station(r) for r in await self.db.fetchall("SELECT * FROM stations ORDER BY code")]

    async def set_area(self, code: str, area: str) -> bool:
        area = area.upper()
        async with self.db.transaction() as conn:
            await conn.execute("INSERT OR IGNORE INTO areas (code, name) VALUES (?, ?)", (area, area))
            cur = await conn.execute("UPDATE stations SET area = ? WHERE code = ?", (area, code.upper()))
            return cur.rowcount > 0


def _station(row: object) -> Station:
    r = row  # aiosqlite.Row
    return Station(r["code"], r["name"], Point(r["lat"], r["lon"]), r["area"])  # type: ignore[index]
