"""`leopard-watch deployment add|end|list`: camera deployments from the terminal (as /deploy and /retrieve).

Dates or ISO times are read in the station's zone (LW_TIMEZONE, Asia/Aqtau) and stored UTC: a bare
start date is that day's midnight there, a bare end date its last second. Exit codes: 0 done, 1
refused (an overlap, an unknown station), 2 a malformed argument.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
from typing import Any

from bot.config import Settings
from bot.places import Deployment, DeploymentError, Deployments, load_deployments, parse_when
from storage.db import Database, utcnow

USAGE, REFUSED = 2, 1
COLUMNS = ("id", "station", "camera", "start", "end", "estimated", "model", "height_m", "setup_by", "source")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("deployment", help="add, end or list camera deployments (as /deploy and /retrieve)")
    actions = p.add_subparsers(dest="action", required=True)
    p_add = actions.add_parser("add", help="a camera set up at a station: STATION --camera ID --start DATE")
    p_add.add_argument("station", help="registered station code, e.g. UST-04")
    p_add.add_argument("--camera", required=True, help="the camera's id, e.g. CAM-17")
    p_add.add_argument("--start", required=True, help="set-up date or ISO time in the station's zone")
    p_add.add_argument("--end", default=None, help="retrieval date or ISO time (leave out: still out there)")
    p_add.add_argument("--model", default=None, help="camera model, e.g. 'Bushnell Core DS'")
    p_add.add_argument("--height", type=float, default=None, help="camera height above ground, metres")
    p_add.add_argument("--tilt", type=int, default=None, help="camera tilt, degrees (-90 to 90)")
    p_add.add_argument("--bait", default="none", help="bait used (default: none)")
    p_add.add_argument("--setup-by", default=None, help="who set the camera up")
    p_end = actions.add_parser("end", help="a camera retrieved: STATION [--camera ID] --end DATE")
    p_end.add_argument("station")
    p_end.add_argument("--camera", default=None, help="which camera, when several are at the station")
    p_end.add_argument("--end", required=True, help="retrieval date or ISO time in the station's zone")
    actions.add_parser("list", help="every deployment as CSV, times in the station's zone")
    for action in actions.choices.values():
        action.add_argument("--env-file", default=argparse.SUPPRESS, help="settings file")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load(args.env_file)
    try:
        return asyncio.run(_run(args, settings))
    except DeploymentError as exc:
        usage = exc.key in ("deploy.bad_time", "deploy.bad_camera")
        print(f"leopard-watch deployment: {exc}", file=sys.stderr)
        return USAGE if usage else REFUSED


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    zone = settings.zone
    async with Database(settings.database) as db:
        deployments = Deployments(db)
        if args.action == "add":
            start = parse_when(args.start, zone)
            end = parse_when(args.end, zone, end_of_day=True) if args.end else None
            dep = await deployments.add(
                args.station, args.camera, start, end, source="cli", camera_model=args.model,
                camera_height=args.height, camera_tilt=args.tilt, bait=args.bait, setup_by=args.setup_by,
            )  # fmt: skip
            print(f"deployment {dep.id}: {describe(dep, settings)}")
            return 0
        if args.action == "end":
            dep = await deployments.end(
                args.station, args.camera, parse_when(args.end, zone, end_of_day=True)
            )
            print(f"deployment {dep.id} ended: {describe(dep, settings)}")
            return 0
        print(listing(await load_deployments(db), settings), end="")
        return 0


def _local(settings: Settings, dep_time: Any) -> str:
    return dep_time.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M") if dep_time else ""


def describe(dep: Deployment, settings: Settings) -> str:
    end = _local(settings, dep.end) or "still out there"
    return (f"{dep.camera or 'unknown camera'} at {dep.station or 'a point'} from "
            f"{_local(settings, dep.start)} to {end} ({settings.timezone})")  # fmt: skip


def listing(deps: list[Deployment], settings: Settings) -> str:
    """An admin's list: exact (the terminal reads the database itself, bot.people.cli_audience)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    now = utcnow()
    for d in deps:
        estimated = "+".join(x for x, on in (("start", d.start_estimated), ("end", d.end_estimated)) if on)
        writer.writerow([
            d.id, d.station or "", d.camera or "", _local(settings, d.start),
            _local(settings, d.end) if d.end else f"open ({(now - d.start).days} days)", estimated,
            d.camera_model or "", "" if d.camera_height is None else f"{d.camera_height:g}", d.setup_by or "",
            d.start_source,
        ])  # fmt: skip
    return buf.getvalue()
