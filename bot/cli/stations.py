"""`leopard-watch station add|list|remove|import`: camera stations from the terminal, checked as /station add.

Arguments are those of the Telegram command (`station add UST-04 43.21 51.87 Spring area=UST`). A pair
that reads as swapped, or a point outside LW_REGION, is what a ranger would be asked about; a script
cannot be asked, so it is refused with the reason and `--force` keeps it as typed. Exit codes: 0 done,
1 refused or failed, 2 a malformed argument or file.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.geo import CoordinateError, Placement, Point, Region, format_point, swap
from bot.places import MAX_NAME, Station, Stations, normalize_code
from bot.text import parse_code
from storage.db import Database

COLUMNS = ("code", "lat", "lon", "name", "area")
USAGE, REFUSED = 2, 1


class Problem(ValueError):
    """One sentence about one station; usage says whether it is malformed (2) or refused (1)."""

    def __init__(self, message: str, *, usage: bool) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class Row:
    line: int  # 0: the command line
    station: Station


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "station", help="add, list, remove or import camera stations (as /station in Telegram)"
    )
    actions = p.add_subparsers(dest="action", required=True)
    force = "keep coordinates that look swapped or lie outside LW_REGION, as typed"
    p_add = actions.add_parser("add", help="add or update a station: CODE LAT LON [name ...] [area=AREA]")
    p_add.add_argument("code", help="letters-digits, e.g. UST-04")
    p_add.add_argument("lat", help="latitude in decimal degrees, e.g. 43.21")
    p_add.add_argument("lon", help="longitude in decimal degrees, e.g. 51.87")
    p_add.add_argument("words", nargs="*", help="the station's name, and area=AREA")
    p_add.add_argument("--force", action="store_true", help=force)
    actions.add_parser("list", help="the stations as CSV (code,lat,lon,name,area), which import takes back")
    p_remove = actions.add_parser("remove", help="delete a station added by mistake (one without sightings)")
    p_remove.add_argument("code")
    p_import = actions.add_parser("import", help="add or update the stations of a CSV file, all or none")
    p_import.add_argument(
        "file", type=Path, help="columns code,lat,lon,name,area (a header line is optional)"
    )
    p_import.add_argument("--force", action="store_true", help=force)
    # The global option after the action too, as after every other command (bot/cli/main.py).
    for action in actions.choices.values():
        action.add_argument("--env-file", default=argparse.SUPPRESS, help="settings file")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load(args.env_file)
    try:
        if args.action == "add":
            rows = [
                Row(0, parse_station(args.code, args.lat, args.lon, args.words, settings.bounds, args.force))
            ]
            return asyncio.run(_write(settings, rows))
        if args.action == "list":
            return asyncio.run(_list(settings))
        if args.action == "remove":
            return asyncio.run(_remove(settings, args.code))
        return _import(settings, args.file, args.force)
    except Problem as exc:
        _err(str(exc))
        return USAGE if exc.usage else REFUSED


def _err(text: str) -> None:
    print(f"leopard-watch station: {text}", file=sys.stderr)


def parse_station(
    code: str, lat: str, lon: str, words: Sequence[str], region: Region, force: bool
) -> Station:
    """The station these arguments describe, or a Problem saying in one sentence what is wrong with them."""
    norm = normalize_code(code)
    if norm is None:
        raise Problem(f"bad station code {code!r}: use letters-digits, e.g. UST-04", usage=True)
    areas = [w.split("=", 1)[1] for w in words if w.lower().startswith("area=")]
    name = " ".join(w for w in words if not w.lower().startswith("area=")).strip()
    if len(areas) > 1:
        raise Problem(f"{norm}: give one area=AREA, not {len(areas)}", usage=True)
    area = parse_code(areas[0]) if areas and areas[0] else None
    if areas and areas[0] and area is None:
        raise Problem(f"{norm}: bad area {areas[0]!r}: use letters, digits, '-' or '_', e.g. UST", usage=True)
    if len(name) > MAX_NAME:
        raise Problem(
            f"{norm}: the name is {len(name)} characters; keep it to {MAX_NAME} characters", usage=True
        )
    try:
        point = Point(_degrees(lat, "latitude", norm), _degrees(lon, "longitude", norm))
    except CoordinateError as exc:
        raise Problem(f"{norm}: {exc}", usage=True) from None
    placement = region.place(point)
    if placement is not Placement.INSIDE and not force:
        where = f"LW_REGION {region.describe()}"
        if placement is Placement.SWAPPED:
            other = swap(point)
            assert other is not None
            raise Problem(
                f"{norm}: {format_point(point, 2)} lies outside {where} but {format_point(other, 2)} lies "
                f"inside, so latitude and longitude look swapped: type them the other way round, or add "
                f"--force to keep them as typed",
                usage=False,
            )
        raise Problem(
            f"{norm}: {format_point(point, 2)} lies outside {where}: check the coordinates, or add --force "
            f"to keep them (or widen LW_REGION)",
            usage=False,
        )
    return Station(norm, name, point, area)


def _degrees(raw: str, what: str, code: str) -> float:
    try:
        return float(raw.strip().replace(",", "."))
    except ValueError:
        raise Problem(f"{code}: {raw!r} is not a {what} in decimal degrees, e.g. 43.21", usage=True) from None


async def _write(settings: Settings, rows: Sequence[Row]) -> int:
    # The first write creates the database in the data directory, and says so once: that is the moment
    # an operator learns where the data lives (and notices a wrong --env-file).
    created = not settings.database.exists()
    async with Database(settings.database) as db:
        if created:
            _err(
                f"created the database {settings.database} (data directory {settings.data_dir}, LW_DATA_DIR)"
            )
        stations = Stations(db)
        before = {s.code for s in await stations.all()}
        saved = await stations.add_all([r.station for r in rows])
    for row, st in zip(rows, saved, strict=True):
        done = "updated" if st.code in before else "added"
        print(f"{_where(row)}{_show(st)}: {done}")
    if rows and rows[0].line:
        print(f"{len(saved)} station{'' if len(saved) == 1 else 's'} imported")
    return 0


def _where(row: Row) -> str:
    return f"line {row.line}: " if row.line else ""


def _show(st: Station) -> str:
    name = f" {st.name}" if st.name else ""
    return f"{st.code} {format_point(st.point)}{name} area {st.area or '—'}"


async def _list(settings: Settings) -> int:
    if not settings.database.is_file():  # listing must not create an empty database
        _err(f"no database at {settings.database} (LW_DATA_DIR): no station has been added yet")
        return REFUSED
    async with Database(settings.database) as db:
        rows = await Stations(db).all()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for st in rows:  # repr of a float is its shortest exact form: the list loses no precision
        writer.writerow([st.code, repr(st.point.lat), repr(st.point.lon), st.name, st.area or ""])
    sys.stdout.write(out.getvalue())
    return 0


async def _remove(settings: Settings, code: str) -> int:
    if not settings.database.is_file():
        _err(f"no station {code}: there is no database at {settings.database} (LW_DATA_DIR)")
        return REFUSED
    async with Database(settings.database) as db:
        result = await Stations(db).remove(code)
    if result.station is None:
        _err(f"no station {code}; `leopard-watch station list` shows the codes")
        return REFUSED
    if not result.removed:
        _err(
            f"{result.station.code} is kept: {result.sightings} sighting(s) and {result.cameras} camera(s) "
            f"name it; correct it with `leopard-watch station add {result.station.code} LAT LON` instead"
        )
        return REFUSED
    print(f"{result.station.code} removed")
    return 0


def _import(settings: Settings, path: Path, force: bool) -> int:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM: saved from Excel
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        _err(f"cannot read {path} ({why}): check the path, or save the file as UTF-8 CSV")
        return USAGE
    first = text.split("\n", 1)[0]
    # Excel under Russian or Kazakh settings saves ';' between fields (and ',' decimals, read as '.').
    delimiter = ";" if ";" in first and "," not in first else ","
    rows: list[Row] = []
    lines: list[str] = []
    seen: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields) or (line == 1 and fields[0].strip().lower() == "code"):
            continue
        try:
            if len(fields) != len(COLUMNS):
                raise Problem(f"expected 5 columns ({','.join(COLUMNS)}), got {len(fields)}", usage=True)
            code, lat, lon, name, area = (f.strip() for f in fields)
            words = [name, f"area={area}"] if area else [name]
            st = parse_station(code, lat, lon, words, settings.bounds, force)
            if st.code in seen:
                raise Problem(f"{st.code} again (first on line {seen[st.code]})", usage=True)
            seen[st.code] = line
            rows.append(Row(line, st))
            lines.append(f"line {line}: {_show(st)}: ok")
        except Problem as exc:
            lines.append(f"line {line}: {exc}")
    if len(rows) < len(lines):
        print("\n".join(lines))
        _err(f"nothing imported from {path}: {len(rows)} of {len(lines)} rows are fine; correct the others "
             "(or add --force for coordinates that are right as they are) and run it again")  # fmt: skip
        return REFUSED
    if not rows:
        _err(f"no stations in {path}: expected lines of {','.join(COLUMNS)}")
        return USAGE
    return asyncio.run(_write(settings, rows))
