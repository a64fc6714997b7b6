"""Camera stations and the areas (tracts) they belong to, and finding station codes in what rangers type."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from bot.geo import Point
from storage.db import Database, iso, utcnow

# Codes are registered in Latin ("UST-04"), but rangers type them on Russian and Kazakh keyboards. Each
# Cyrillic letter below may stand for the Latin letter it sounds like (the layout types "УСТ" for UST,
# "КЗС" for KZS) or the one it looks like (У/Ү/Ұ ~ Y, Н ~ H, Р ~ P, С ~ C, В ~ B, Х ~ X). The first
# letter is the canonical reading that /station add stores; the others only widen matching, and a
# typed code that fits several registered stations is asked about, never guessed.
_LATIN_OF: dict[str, str] = {
    "А": "A", "Ә": "A", "Б": "B", "В": "VB", "Г": "G", "Ғ": "G", "Д": "D", "Е": "E", "Ё": "E",
    "З": "Z", "И": "I", "Й": "YJ", "І": "I", "К": "K", "Қ": "KQ", "Л": "L", "М": "M", "Н": "NH",
    "Ң": "NH", "О": "O", "Ө": "O", "П": "P", "Р": "RP", "С": "SC", "Т": "T", "У": "UY", "Ү": "UY",
    "Ұ": "UY", "Ф": "F", "Х": "HX", "Һ": "H", "Ы": "Y", "Э": "E",
}  # fmt: skip
MAX_NAME = 100  # characters of a station's name: what fits a line of /station list
_LETTERS = "A-Za-z" + "".join(sorted({c for k in _LATIN_OF for c in (k, k.lower())}))
# Dashes a phone or a pasted document may put between letters and digits (NFKC has already turned the
# full-width and small hyphen-minus into "-").
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_DASH_CLASS = "".join(re.escape(c) for c in _DASHES)
# Letters right next to digits, as before, now with the wider alphabet and separators. A space, an
# underscore or nothing between them is "loose": free text is full of "card 3" and "IMG_0001", so a loose
# token only counts when it names a registered station, while a dashed one is a code even when unknown.
_TOKEN_RE = re.compile(
    rf"(?<![\w{_DASH_CLASS}])(?P<letters>[{_LETTERS}]{{2,6}})(?P<sep>[{_DASH_CLASS}]|[ _]?)"
    rf"(?P<digits>[0-9]{{1,4}})(?![\w{_DASH_CLASS}])"
)


@dataclass(frozen=True)
class Station:
    code: str
    name: str
    point: Point
    area: str | None


@dataclass(frozen=True)
class Removal:
    """What Stations.remove did: station None (no such station), removed, or kept for what names it."""

    station: Station | None
    removed: bool = False
    sightings: int = 0
    cameras: int = 0


@dataclass(frozen=True)
class CodeToken:
    """Something in a text that may be a station code, as typed (letters upper-cased)."""

    letters: str
    digits: str
    dashed: bool

    @property
    def canonical(self) -> str:
        return f"{''.join(_LATIN_OF.get(c, c)[0] for c in self.letters)}-{self.digits}"

    def fits(self, code: str, *, exact_digits: bool) -> bool:
        """Could this token be the registered `code`? Letter by letter through the readings above;
        digits as typed, or (exact_digits=False) with leading zeros ignored ("UST-4" for UST-04)."""
        other = _token(code)
        if other is None or len(other.letters) != len(self.letters):
            return False
        if exact_digits and other.digits != self.digits:
            return False
        if not exact_digits and int(other.digits) != int(self.digits):
            return False
        return all(_readings(a) & _readings(b) for a, b in zip(self.letters, other.letters, strict=True))


@dataclass(frozen=True)
class CodeMatch:
    """What a text says about stations: the registered codes its first matching token fits (one:
    found; several: ask which), and the dashed codes that fit no registered station."""

    typed: str | None = None
    codes: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lookup:
    station: Station | None = None
    candidates: tuple[Station, ...] = ()  # several stations fit: ask the ranger, save nothing
    typed: str | None = None
    unknown: tuple[str, ...] = ()


def _readings(letter: str) -> set[str]:
    return {letter, *_LATIN_OF.get(letter, "")}


def _fold(text: str) -> str:
    # NFKC turns full-width letters, digits and hyphens ("ＵＳＴ－０４") into ASCII.
    return unicodedata.normalize("NFKC", text)


def _make(m: re.Match[str]) -> CodeToken:
    sep = m.group("sep")
    return CodeToken(m.group("letters").upper(), m.group("digits"), sep != "" and sep in _DASHES)


def _token(text: str) -> CodeToken | None:
    m = _TOKEN_RE.fullmatch(_fold(text.strip()))
    return _make(m) if m else None


def tokens(text: str | None) -> list[CodeToken]:
    if not text:
        return []
    return [_make(m) for m in _TOKEN_RE.finditer(_fold(text))]


def normalize_code(text: str) -> str | None:
    """The canonical Latin spelling of one code however it was typed ("уст 04" -> "UST-04")."""
    token = _token(text)
    return token.canonical if token else None


def codes_in(text: str | None) -> list[str]:
    """Dashed station codes in free text, canonical; loose forms need a registered station (match_codes)."""
    return [token.canonical for token in tokens(text) if token.dashed]


def match_codes(text: str | None, registered: Iterable[str]) -> CodeMatch:
    """Which registered codes the text names. The first token that fits any registered code decides:
    a code registered exactly as typed, then letters read as above with the digits as typed, then with
    leading zeros ignored; each step that finds one code wins, one that finds several asks."""
    codes = sorted(set(registered))
    unknown: list[str] = []
    for token in tokens(text):
        as_typed = f"{token.letters}-{token.digits}"
        steps = (
            [c for c in codes if c == as_typed],
            [c for c in codes if token.fits(c, exact_digits=True)],
            [c for c in codes if token.fits(c, exact_digits=False)],
        )
        found = next((step for step in steps if step), None)
        if found:
            return CodeMatch(token.canonical, tuple(found), tuple(unknown))
        if token.dashed:
            unknown.append(token.canonical)
    return CodeMatch(unknown=tuple(unknown))


class Stations:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, code: str, point: Point, name: str = "", area: str | None = None, by: int | None = None
    ) -> Station:
        (found,) = await self.add_all([Station(code, name, point, area)], by=by)
        return found

    async def add_all(self, stations: Iterable[Station], by: int | None = None) -> list[Station]:
        """Add (or update) every station in one transaction: a bad code stops them all, before any is
        written, so an imported file is never half loaded."""
        rows = []
        for s in stations:
            norm = normalize_code(s.code)
            if norm is None:
                raise ValueError(f"bad station code {s.code!r}: use letters-digits, e.g. UST-04")
            rows.append((norm, s.name, s.point, s.area.upper() if s.area else None))
        async with self.db.transaction() as conn:
            for norm, name, point, area in rows:
                if area:
                    await conn.execute("INSERT OR IGNORE INTO areas (code, name) VALUES (?, ?)", (area, area))
                await conn.execute(
                    """INSERT INTO stations (code, name, lat, lon, area, created_by, created_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (code) DO UPDATE SET name = excluded.name, lat = excluded.lat,
                           lon = excluded.lon, area = COALESCE(excluded.area, stations.area)""",
                    (norm, name, point.lat, point.lon, area, by, iso(utcnow())),
                )
        found = [await self.get(norm) for norm, *_ in rows]
        assert all(found)
        return [s for s in found if s is not None]

    async def remove(self, code: str) -> Removal:
        """Delete a station registered by mistake. One that sightings or cameras name is kept (deleting it
        would leave them pointing at nothing) and the counts say why; a ranger's remembered place at it
        keeps its coordinates and loses only the code."""
        found = await self.get(code)
        if found is None:
            return Removal(None)
        async with self.db.transaction() as conn:
            cur = await conn.execute("SELECT COUNT(*) FROM sightings WHERE station_code = ?", (found.code,))
            sightings = (await cur.fetchone() or (0,))[0]
            cur = await conn.execute("SELECT COUNT(*) FROM cameras WHERE station_code = ?", (found.code,))
            cameras = (await cur.fetchone() or (0,))[0]
            if sightings or cameras:
                return Removal(found, sightings=sightings, cameras=cameras)
            await conn.execute(
                "UPDATE ranger_locations SET station_code = NULL WHERE station_code = ?", (found.code,)
            )
            await conn.execute("DELETE FROM stations WHERE code = ?", (found.code,))
        return Removal(found, removed=True)

    async def get(self, code: str) -> Station | None:
        """The station with exactly this code (a stored code as it is, or a typed one made canonical)."""
        norm = normalize_code(code) or code.upper()
        row = await self.db.fetchone(
            "SELECT * FROM stations WHERE code IN (?, ?) ORDER BY code = ? DESC LIMIT 1", (code, norm, code)
        )
        return _station(row) if row else None

    async def lookup(self, text: str | None) -> Lookup:
        if not tokens(text):  # most captions name no station: no need to read the table
            return Lookup()
        stations = {s.code: s for s in await self.all()}
        match = match_codes(text, stations)
        found = tuple(stations[c] for c in match.codes)
        if len(found) == 1:
            return Lookup(found[0], typed=match.typed, unknown=match.unknown)
        return Lookup(candidates=found, typed=match.typed, unknown=match.unknown)

    async def find_in_text(self, text: str | None) -> Station | None:
        """The one station the text names; None when it names none, or several it could mean."""
        return (await self.lookup(text)).station

    async def all(self) -> list[Station]:
        return [_station(r) for r in await self.db.fetchall("SELECT * FROM stations ORDER BY code")]

    async def set_area(self, code: str, area: str) -> bool:
        area = area.upper()
        norm = normalize_code(code) or code.upper()
        async with self.db.transaction() as conn:
            await conn.execute("INSERT OR IGNORE INTO areas (code, name) VALUES (?, ?)", (area, area))
            cur = await conn.execute(
                "UPDATE stations SET area = ? WHERE code IN (?, ?)", (area, norm, code.upper())
            )
            return cur.rowcount > 0


def _station(row: object) -> Station:
    r = row  # aiosqlite.Row
    return Station(r["code"], r["name"], Point(r["lat"], r["lon"]), r["area"])  # type: ignore[index]
