"""What every export writer shares: the rows, the options, how exact the places are, how times are written.

Coordinates are snapped with bot.geo.points.round_point unless the caller may see exact ones (trusted group
or an admin in private); captions are never exported because rangers type coordinates into them.
A rounded export has no station codes or names either: anyone with the station list would read the
exact place from them. Each station gets a made-up alias instead (StationAliases). Every format that
can carry it says the rounding (dataGeneralizations, coordinateUncertaintyInMeters).

The writers import this module and nothing above it: bot/reports/exports/tables.py (CSV, XLSX),
bot/reports/exports/gis.py (GeoJSON, KML) and bot/reports/exports/camtrapdp/, with the Darwin Core record
they share in bot/reports/exports/occurrence.py. The entry that picks a writer by format is
bot/reports/exports/formats.py.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.geo import Point, round_point
from bot.media import CAMERA_SOURCES
from bot.places import AreaFinder, load_stations
from storage.db import Database, iso, parse_iso

# Columns that later migrations add (0008: where the capture time came from; 0009: videos; 0016: the
# photo's kind, what people are told it holds, bot/intake/kinds.py). Exports
# use them when the database has them, and work the same without.
OPTIONAL_COLUMNS = ("time_source", "clock_issue", "video_sha256", "frame_seconds", "kind")
# Capture-time sources that are the camera's own clock (bot.media.capture_time, sightings.time_source); any
# other source (the Telegram message date, a forward's date, a file's time) is not, and exports say so.
CAMERA_TIME_SOURCES = frozenset(source.value for source in CAMERA_SOURCES)
_KM_PER_DEGREE = 111.32


# OWASP's list for CSV injection: what Excel, LibreOffice and Google Sheets start a formula with.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    pass


def neutralise(text: str) -> str:
    """Text a person wrote (a name, a station's name, a comment), made safe for a CSV cell: one that a
    spreadsheet would run as a formula gets a leading apostrophe, which Excel and LibreOffice hide. The
    one rule of every CSV the bot writes (the Darwin Core table and Camtrap DP's three tables)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class ExportOptions:
    """What an export says about itself: licences and contact (LW_DATA_LICENSE, LW_MEDIA_LICENSE,
    LW_CONTACT_NAME, LW_CONTACT_EMAIL), and the CSV field separator."""

    data_license: str = "CC-BY-4.0"
    media_license: str = "CC-BY-4.0"
    contact_name: str = ""
    contact_email: str = ""
    # ";" is what Excel expects under Russian and Kazakh regional settings (where "," is the decimal mark).
    delimiter: str = ","
    # The photo store (LW_PHOTO_DIR) whose files a Camtrap DP zip carries (--with-media, exact readers
    # only); None: the files stay on the server and the package says so.
    media_from: Path | None = None

    @classmethod
    def from_settings(cls, settings: Any, delimiter: str = ",") -> ExportOptions:
        return cls(settings.data_license, settings.media_license, settings.contact_name,
                   settings.contact_email, delimiter)  # fmt: skip


@dataclass(frozen=True)
class Precision:
    """How exact an export's places are, in the terms Darwin Core and Camtrap DP use for it."""

    exact: bool
    grid_km: float

    @property
    def uncertainty_m(self) -> int | None:
        """Half a cell's diagonal: the farthest a true point can lie from its grid node (round_point).
        Exact places carry no stated uncertainty: the phone's or camera's GPS error is not recorded."""
        return None if self.exact else math.ceil(self.grid_km * 1000 / math.sqrt(2))

    @property
    def degrees(self) -> float:
        """coordinatePrecision: the grid step in degrees of latitude, or the six decimals written."""
        return 0.000001 if self.exact else round(self.grid_km / _KM_PER_DEGREE, 3)

    @property
    def generalizations(self) -> str:
        if self.exact:
            return ""
        return (
            f"coordinates rounded to a ~{self.grid_km:g} km grid ({self.degrees:g} degree); camera "
            "stations replaced by aliases made up for this file; station names left out"
        )


def z(value: str | None) -> str:
    """ISO-8601 UTC with a Z designator, the form Camtrap DP's examples and most tools expect."""
    dt = parse_iso(value)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if dt else ""


def shown(lat: float | None, lon: float | None, exact: bool, grid_km: float) -> Point | None:
    if lat is None or lon is None:
        return None
    p = Point(lat, lon)
    return p if exact else round_point(p, grid_km)


class StationAliases:
    """Made-up station ids for one rounded export ("loc-3fa91c").

    Within the file a station keeps its alias, so photos from one camera still group together; the
    next export draws new ones, so no table of aliases can be built up over time and matched with
    the station list. Random rather than a hash of the code: the codes are few and guessable.
    """

    def __init__(self) -> None:
        self._aliases: dict[str, str] = {}

    def __call__(self, code: str | None) -> str:
        if not code:
            return ""
        if code not in self._aliases:
            taken = set(self._aliases.values())
            alias = f"loc-{secrets.token_hex(3)}"
            while alias in taken:
                alias = f"loc-{secrets.token_hex(3)}"
            self._aliases[code] = alias
        return self._aliases[code]


def station_ids(exact: bool) -> Callable[[str | None], str]:
    """How station codes appear in an export: as they are (exact), else as aliases for this one file."""
    return (lambda code: code or "") if exact else StationAliases()


def coord(value: float, exact: bool) -> str:
    # Snapped values carry float noise (43.2117...000001); four decimals (~10 m) keep all they hold.
    return f"{value:.6f}" if exact else f"{value:.4f}"


def time_issue(r: dict[str, Any]) -> str | None:
    """Why this photo's time is not the camera's own clock ("" when it is); None when the database does
    not record where times come from (before migration 0008)."""
    if "time_source" not in r and "clock_issue" not in r:
        return None
    source, issue = r.get("time_source"), r.get("clock_issue")
    if source is None and issue is None:  # a row no code has dated yet: nothing known either way
        return None
    reasons = []
    if source and str(source).lower() not in CAMERA_TIME_SOURCES:
        reasons.append(f"time from {source}, not the camera clock")
    if issue:
        reasons.append(f"clock issue: {issue}")
    return "; ".join(reasons)


def received_only(r: dict[str, Any]) -> bool:
    """Whether this photo's only time is when it travelled (a receipt, a forward, a file's or a mail's
    time), not a camera's clock: captions then say "received", not "taken"."""
    source = r.get("time_source")
    return bool(source) and str(source).lower() not in CAMERA_TIME_SOURCES


async def present_columns(db: Database) -> tuple[str, ...]:
    rows = await db.fetchall("SELECT name FROM pragma_table_info('sightings')")
    have = {r["name"] for r in rows}
    return tuple(c for c in OPTIONAL_COLUMNS if c in have)


async def export_rows(db: Database, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
    """Every photo taken in [since, until), oldest first, with station area, ranger and reviewer."""
    optional = "".join(f", s.{c}" for c in await present_columns(db))
    rows = await db.fetchall(
        f"""SELECT s.id, s.event_id, s.photo_sha256, s.ranger_id, s.taken_at, s.received_at, s.lat, s.lon,
                  s.location_source, s.station_code, s.label, s.score, s.is_leopard, s.status, s.model,
                  s.source, s.reviewed_at, s.reviewed_by, s.escalated_by, s.escalated_at{optional},
                  r.name AS ranger_name, r.username AS ranger_username, st.name AS station_name,
                  (SELECT rv.user_name FROM reviews rv WHERE rv.sighting_id = COALESCE(s.event_id, s.id)
                   ORDER BY rv.id DESC LIMIT 1) AS reviewer,
                  ind.code AS individual_code, ind.sex AS individual_sex,
                  ind.life_stage AS individual_life_stage
           FROM sightings s LEFT JOIN rangers r ON r.user_id = s.ranger_id
                LEFT JOIN stations st ON st.code = s.station_code
                -- issue 25: who the event is, as the coordinators last said (bot.individuals)
                LEFT JOIN current_identities ci ON ci.event_id = COALESCE(s.event_id, s.id)
                LEFT JOIN individuals ind ON ind.id = ci.individual_id
           WHERE s.taken_at >= ? AND s.taken_at < ? ORDER BY s.taken_at, s.id""",
        (iso(since) if since else "", iso(until) if until else "9999"),
    )
    find_area = AreaFinder(await load_stations(db))
    out = []
    for raw in rows:
        r = dict(raw)
        point = Point(r["lat"], r["lon"]) if r["lat"] is not None and r["lon"] is not None else None
        r["area"] = find_area(r["station_code"], point)
        name = r["ranger_name"] or (f"@{r['ranger_username']}" if r["ranger_username"] else "")
        r["ranger"] = name or (str(r["ranger_id"]) if r["ranger_id"] is not None else "")
        out.append(r)
    return out
