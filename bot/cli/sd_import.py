"""`leopard-watch import FOLDER --station CODE [--ranger ID]`: SD-card import with progress and summary."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.errors import FAILED, INTERRUPTED, USAGE, CliError
from bot.config import Settings
from bot.detection.pool import DetectorPool, available_cores
from bot.places import Stations
from storage.db import Database, utcnow

if TYPE_CHECKING:
    from bot.intake.sd_card import ImportReport
    from bot.services import Services

STOPPED = FAILED  # exit status of an import that storage stopped (a full disk): run it again later


@dataclass
class Progress:
    """How far an import got, for the sentence an interrupted one ends with."""

    done: int = 0
    total: int = 0


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
        what = "does not exist" if not args.folder.exists() else "is a file"
        # On stdout, as the import's report is (tests/intake/test_import.py reads it there).
        print(f"leopard-watch import: {args.folder} is not a folder ({what}): give the SD card's folder, "
              "e.g. /media/card/DCIM")  # fmt: skip
        return USAGE
    settings = Settings.load(args.env_file)
    # Before the model loads (tens of seconds) and before a database is created for a station it lacks.
    if not asyncio.run(_registered(settings, args.station)):
        print(f"leopard-watch import: unknown station {args.station} in {settings.database}: register it "
              f"first with `leopard-watch station add {args.station} LAT LON` (or /station add in Telegram)",
              file=sys.stderr)  # fmt: skip
        return USAGE
    progress = Progress()
    try:
        return asyncio.run(_run(args, settings, progress))
    except KeyboardInterrupt:
        done = f"{progress.done} of {progress.total} files" if progress.total else "before any file"
        raise CliError(
            f"interrupted after {done} from {args.folder}; run the same command again to resume: "
            "files already imported are skipped",
            INTERRUPTED,
        ) from None


async def _registered(settings: Settings, station: str) -> bool:
    if not settings.database.is_file():
        return False
    async with Database(settings.database) as db:
        return await Stations(db).get(station) is not None


async def _run(args: argparse.Namespace, settings: Settings, progress: Progress | None = None) -> int:
    # Here, not at the top: they pull in PTB's application, PyAV and tqdm, which every other command
    # (`doctor` within its few seconds) would otherwise load for nothing.
    from tqdm import tqdm

    from bot.intake import Ranger, SightingError
    from bot.intake.sd_card import IMPORT_RANGER, import_folder
    from bot.media import scan
    from bot.services import Services

    progress = progress or Progress()
    # Detection in worker processes (bot/detection/pool.py); without --workers (tests), in this one.
    workers = getattr(args, "workers", None)
    pool = None
    if workers:
        pool = await asyncio.to_thread(_start_pool, workers, settings)  # a broken model stops it here
        print(
            f"detector: {pool.workers} process(es) x {pool.threads} thread(s), "
            f"{pool.precision} model ({pool.precision_reason})"
        )
    services = await Services.create(settings, pool)
    ranger = IMPORT_RANGER if args.ranger is None else Ranger(args.ranger)
    try:
        found = await asyncio.to_thread(scan, [args.folder])  # a card holds thousands of files
        progress.total = total = len(found.images) + len(found.videos)

        def one_more(_: Path) -> None:
            progress.done += 1
            bar.update(1)

        with tqdm(total=total, unit="file", desc=f"import {args.station}") as bar:
            try:
                report = await import_folder(
                    services, args.folder, args.station, ranger=ranger, on_file=one_more, found=found
                )
            except SightingError as exc:
                print(f"leopard-watch import: {exc}")
                return USAGE
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


def _start_pool(workers: int, settings: Settings) -> DetectorPool:
    """The detector processes, started with Ctrl-C blocked in the thread that starts them: they inherit
    that, so Ctrl-C reaches only this process, which stops them in order, instead of every worker
    printing its own traceback."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pool = DetectorPool(
            workers,
            threads=settings.detector_threads or None,  # LW_DETECTOR_THREADS, else 1-2 per worker
            threshold=settings.threshold,
            precision=settings.detector_precision,
        )
        try:
            pool.warm_up()  # every worker starts here
        except BaseException:
            pool.close()
            raise
        return pool
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


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
