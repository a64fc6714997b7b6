"""`leopard-watch import FOLDER --station CODE [--ranger ID]`: SD-card import with progress and summary."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from tqdm import tqdm

from bot.config import Settings
from bot.detection.pool import DetectorPool, available_cores
from bot.intake import Ranger, SightingError
from bot.intake.sd_card import IMPORT_RANGER, ImportReport, import_folder
from bot.media import scan
from bot.places import Stations
from bot.services import Services
from storage.db import Database, utcnow

STOPPED = 3  # exit status of an import that storage stopped (a full disk): run it again later


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import a camera-trap folder (SD card) for one station; resumable")
    p.add_argument("folder", type=Path)
    p.add_argument("--station", required=True, help="registered station code, e.g. UST-04")
    p.add_argument("--ranger", type=int, default=None, help="Telegram user id of the ranger who collected it")
    p.add_argument(
        "--workers",
        type=_positive,
        default=available_cores(),
        help="detector processes, each with its own model session (default: the cores available)",
    )


def _positive(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError("must be a whole number >= 1")
    return int(raw)


def run(args: argparse.Namespace) -> int:
    if not args.folder.is_dir():
        print(f"leopard-watch import: {args.folder} is not a folder")
        return 2
    settings = Settings.load(args.env_file)
    # Before the model loads (tens of seconds) and before a database is created for a station it lacks.
    if not asyncio.run(_registered(settings, args.station)):
        print(f"leopard-watch import: unknown station {args.station} in {settings.database}: register it "
              f"first with `leopard-watch station add {args.station} LAT LON` (or /station add in Telegram)",
              file=sys.stderr)  # fmt: skip
        return 2
    return asyncio.run(_run(args, settings))


async def _registered(settings: Settings, station: str) -> bool:
    if not settings.database.is_file():
        return False
    async with Database(settings.database) as db:
        return await Stations(db).get(station) is not None


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    # Detection in worker processes (bot/detection/pool.py); without --workers (tests), in this one.
    workers = getattr(args, "workers", None)
    pool = None
    if workers:
        pool = DetectorPool(
            workers,
            threads=settings.detector_threads or None,  # LW_DETECTOR_THREADS, else 1-2 per worker
            threshold=settings.threshold,
            precision=settings.detector_precision,
        )
        await asyncio.to_thread(pool.warm_up)  # a broken model stops the import here
        print(
            f"detector: {pool.workers} process(es) x {pool.threads} thread(s), "
            f"{pool.precision} model ({pool.precision_reason})"
        )
    services = await Services.create(settings, pool)
    ranger = IMPORT_RANGER if args.ranger is None else Ranger(args.ranger)
    try:
        found = await asyncio.to_thread(scan, [args.folder])  # a card holds thousands of files
        total = len(found.images) + len(found.videos)
        with tqdm(total=total, unit="file", desc=f"import {args.station}") as bar:
            try:
                report = await import_folder(
                    services,
                    args.folder,
                    args.station,
                    ranger=ranger,
                    on_file=lambda _: bar.update(1),
                    found=found,
                )
            except SightingError as exc:
                print(f"leopard-watch import: {exc}")
                return 2
        if settings.token and report.leopards:
            report.alerts_sent = await _deliver(services, settings)
        elif report.leopards:
            print("No LW_TOKEN: leopard alerts stay queued and go out at the bot's next start.")
        print(report.table(full_list=_write_full_list(report, settings)))
        return STOPPED if report.stopped else 0
    finally:
        await services.close()
        if pool is not None:
            pool.close()


def _write_full_list(report: ImportReport, settings: Settings) -> Path | None:
    """A card with thousands of bad files would bury the summary, so the terminal shows the first
    lines of each list and the complete lists go next to the database, where the summary points.
    On a full disk the list may not fit either: then the summary is all there is, and says so."""
    if not report.truncated():
        return None
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    path = settings.database.parent / "imports" / f"import-{report.station}-{stamp}.txt"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report.table(limit=None) + "\n", encoding="utf-8")
    except OSError as exc:
        path.unlink(missing_ok=True)
        print(f"The complete lists could not be written to {path}: {exc}")
        return None
    return path


async def _deliver(services: Services, settings: Settings) -> int:
    from telegram import Bot

    async with Bot(settings.token, base_url=settings.base_url, base_file_url=settings.base_file_url) as bot:
        return await services.outbox.drain(bot)
