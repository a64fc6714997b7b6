"""`leopard-watch camera add|list|remove`: cellular cameras from the terminal, with /camera's arguments.

`camera add CAM-17 UST-04 match=cam17@mail.kz,file:ust04_` registers (or updates) a camera at a station
registered before; `remove` takes it out of service as /camera remove does (it keeps what it sent).
Exit codes: 0 done, 1 refused (an unknown station or camera, a match another camera has), 2 malformed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
from typing import Any

from bot.cameras import Camera, CameraError, Cameras, parse_rule
from bot.config import Settings
from storage.db import Database, iso

USAGE, REFUSED = 2, 1
MALFORMED = {"bad_code", "bad_rule", "usage"}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("camera", help="add, list or remove cellular cameras (as /camera in Telegram)")
    actions = p.add_subparsers(dest="action", required=True)
    p_add = actions.add_parser("add", help="add or update a camera: CODE STATION [match=RULE,...]")
    p_add.add_argument("code", help="e.g. CAM-17")
    p_add.add_argument("station", help="a registered station code, e.g. UST-04")
    p_add.add_argument(
        "matches", nargs="*", help="match=ADDRESS, match=file:PREFIX or match=NAME (comma-separated)"
    )
    actions.add_parser("list", help="cameras in service as CSV: code,station,match,last_mail,last_photo,...")
    p_remove = actions.add_parser(
        "remove", help="take a camera out of service (CODE, or #N of an unknown one)"
    )
    p_remove.add_argument("code")
    for action in actions.choices.values():  # the global option after the action too (bot/cli/main.py)
        action.add_argument("--env-file", default=argparse.SUPPRESS, help="settings file")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load(args.env_file)
    if not settings.database.is_file():
        # No database, so no station for a camera: nothing is created to say so.
        what = f"unknown station {args.station}" if args.action == "add" else "no cameras"
        fix = (
            f"; add it first with `leopard-watch station add {args.station} LAT LON`"
            if args.action == "add"
            else ""
        )
        _err(f"{what}: there is no database at {settings.database} (LW_DATA_DIR){fix}")
        return REFUSED
    try:
        return asyncio.run(_run(settings, args))
    except CameraError as exc:
        text = str(exc)
        if exc.reason == "unknown_station":
            text += f"; add it first with `leopard-watch station add {exc.value} LAT LON`"
        _err(text)
        return USAGE if exc.reason in MALFORMED else REFUSED


def _err(text: str) -> None:
    print(f"leopard-watch camera: {text}", file=sys.stderr)


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    async with Database(settings.database) as db:
        cameras = Cameras(db)
        if args.action == "list":
            _list(await cameras.all())
            return 0
        if args.action == "remove":
            gone = await cameras.remove(args.code)
            print(f"{gone.label} removed; what it sent is kept, and its matches are free for another camera")
            if gone.from_file:  # read at every start: it does not bring the camera back, but says otherwise
                print(f"{gone.label} is still in LW_CAMERAS_FILE: delete it there too")
            return 0
        stray = [m for m in args.matches if not m.lower().startswith("match=")]
        if stray:
            raise CameraError(
                f"{stray[0]!r}: write each match as match=ADDRESS or match=file:PREFIX", "usage"
            )
        rules = [parse_rule(v) for m in args.matches for v in m.split("=", 1)[1].split(",") if v.strip()]
        done = await cameras.add(args.code, args.station, rules)
    c = done.camera
    print(f"{c.label} at {c.station}: {', '.join(map(str, c.rules)) or 'no match rules'}")
    if done.placed:
        print(f"{done.placed} earlier photo(s) from its address got the station's place")
    if done.leopards:
        ids = " ".join(f"/sighting {i}" for i in done.leopards)
        print(f"possible leopards among them, not alerted yet: review them in Telegram with {ids}")
    return 0


def _list(found: list[Camera]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("code", "station", "match", "last_mail", "last_photo", "battery", "signal"))
    for c in found:  # an unknown camera is its number (#3, as camera remove takes it) and its address
        match = ", ".join(map(str, c.rules)) if c.code else (c.sender or "")
        when = [iso(t) if t else "" for t in (c.last_message_at, c.last_photo_at)]
        writer.writerow((c.label, c.station or "", match, *when, c.battery or "", c.signal or ""))
    sys.stdout.write(out.getvalue())
