"""SD-card import: a camera-trap folder becomes sightings of one station, resumably.

Resumable for free: photos are keyed by SHA-256, so a second run finds every finished file already
recorded and skips it before running the detector. That is also what a full disk (or a failing one, or
a database another program holds) costs: the import stops at the first file storage refuses, since
every later one would fail the same way, and its summary names the files not imported yet and says to
run the same command again once the disk has room.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from bot.config import Settings
from bot.detection import Detector, Kind
from bot.detection.pool import DetectorPool
from bot.intake.card_clocks import ClockTally
from bot.intake.kinds import EMPTY, LEOPARD_KINDS, kind_word
from bot.intake.sightings import Sightings
from bot.intake.types import PhotoIntake, Ranger, Receipt, SightingError
from bot.intake.videos import Clip, VideoIntake
from bot.media import HIDDEN, FolderScan, Skipped, scan
from bot.places import CardDeployment, Deployments, Stations
from storage.db import Database, utcnow
from storage.errors import Reason, StorageUnavailable

IMPORT_RANGER = Ranger(0, "SD-card import")
# The terminal summary shows this many lines of each list; the complete lists go to a file.
LIST_LIMIT = 20
# Why storage refused a file, and what the operator does before running the same command again.
STOPPED = {
    "disk_full": ("disk full", "free space on the disk"),
    "io": ("disk failing", "check the disk (dmesg, the system log)"),
    "database": ("database busy", "let the program that holds the database finish (a backup?)"),
}


class ImportServices(Protocol):
    """What an import uses of the bot's services (bot/services.py Services, a floor above this one)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Database: ...
    @property
    def detector(self) -> Detector: ...
    @property
    def stations(self) -> Stations: ...
    @property
    def sightings(self) -> Sightings: ...
    @property
    def videos(self) -> VideoIntake: ...


@dataclass(frozen=True)
class CardSort:
    """One station's frames of an import, sorted as camera-trap users sort a card."""

    station: str
    frames: int  # every new frame (a clip counts as its best frame)
    animals: int  # an animal found, leopards included
    leopards: int  # a leopard or a pale leopard / snow leopard
    empty: int  # the animal detector found nothing: kept, never alerted


@dataclass
class ImportReport:
    station: str = ""  # the registered code, however it was typed on the command line
    files: int = 0  # every file under the folder: the rows below add up to it
    new: int = 0
    skipped: int = 0
    unreadable: list[str] = field(default_factory=list)
    left_out: list[Skipped] = field(default_factory=list)  # files that are neither photos nor videos
    from_videos: int = 0  # of the new sightings
    kinds: Counter[Kind] = field(default_factory=Counter)  # new sightings by what they hold (kinds.py)
    leopards: list[int] = field(default_factory=list)
    alerts_sent: int = 0
    clocks: ClockTally = field(default_factory=ClockTally)  # wrong and missing camera clocks, per station
    stopped: StorageUnavailable | None = None  # storage refused a file: the import ended there
    not_stored: list[str] = field(default_factory=list)  # that file and every one after it
    sighting_ids: list[int] = field(default_factory=list)  # the new ones, for their deployment
    deployment: CardDeployment | None = None  # the one the card closed or made (bot/places/deployments.py)

    def stop(self, exc: StorageUnavailable, rest: Sequence[Path]) -> None:
        self.stopped, self.not_stored = exc, [str(p) for p in rest]

    @property
    def why(self) -> tuple[str, str]:
        """(what happened, what to do) when the import stopped early."""
        reason: Reason = self.stopped.reason if self.stopped else "io"
        return STOPPED[reason]

    def table(self, limit: int | None = LIST_LIMIT, full_list: Path | None = None) -> str:
        """Counts, then every list of files, each cut at `limit` lines with "…and N more"."""
        rows = [
            ("files found", self.files),
            ("new sightings", self.new),
            ("already imported (skipped)", self.skipped),
            ("unreadable", len(self.unreadable)),
            ("  of them from videos", self.from_videos),
            ("other files skipped", len(self.left_out)),
            ("leopard sightings", len(self.leopards)),
            ("alerts delivered", self.alerts_sent),
        ]
        if self.stopped:
            rows.insert(5, (f"not imported ({self.why[0]})", len(self.not_stored)))
        rows += self.clocks.rows()
        rows += self.sorted_rows()
        width = max(len(name) for name, _ in rows)
        lines = [f"{name.ljust(width)}  {value:>7}" for name, value in rows]
        lines += self.clocks.warnings()
        if self.deployment:
            d, how = self.deployment.deployment, "made (estimated)" if self.deployment.made else "named"
            lines.append(f"deployment {d.id} {how}: {d.start:%Y-%m-%d %H:%M} – {d.end:%Y-%m-%d %H:%M} UTC")
        if self.leopards:
            lines.append("leopard sighting numbers: " + ", ".join(f"#{i}" for i in self.leopards))
        for title, items in self.lists():
            lines.append(f"{title} ({len(items)}):")
            shown = items if limit is None else items[:limit]
            lines += [f"  {item}" for item in shown]
            if len(shown) < len(items):
                where = f" (all of them in {full_list})" if full_list else ""
                lines.append(f"  …and {len(items) - len(shown)} more{where}")
        if self.stopped:
            what, todo = self.why
            lines.append(f"IMPORT STOPPED, {what}: {self.stopped.detail}")
            lines.append(
                f"{len(self.not_stored)} file(s) not imported yet: {todo}, then run the same command again "
                "(files already imported are skipped)."
            )
        return "\n".join(lines)

    @property
    def sorted(self) -> CardSort:
        """The card sorted: frames with an animal (leopards included), with a leopard, empty."""
        k = self.kinds
        leopards = sum(k[x] for x in LEOPARD_KINDS)
        return CardSort(self.station, sum(k.values()), k["animal"] + leopards, leopards, k[EMPTY])

    def sorted_rows(self) -> list[tuple[str, int]]:
        """The sorting in the summary's words: kinds, never the model's labels."""
        c = self.sorted
        rows = [
            (f"frames sorted at {self.station}", c.frames),
            ("  with an animal (leopards included)", c.animals),
            ("  with a leopard", c.leopards),
            ("  empty (kept, never alerted)", c.empty),
        ]
        if self.kinds["no_leopard"]:  # the animal detector did not run: neither animal nor empty is known
            rows.append((f"  {kind_word('en', 'no_leopard')} (not sorted)", self.kinds["no_leopard"]))
        return rows

    def truncated(self, limit: int = LIST_LIMIT) -> bool:
        return any(len(items) > limit for _, items in self.lists())

    def lists(self) -> list[tuple[str, list[str]]]:
        """(title, lines) of every non-empty list: unreadable photos and videos, then other files by kind."""
        out = [("unreadable photos and videos", self.unreadable)]
        if self.stopped:
            out.append((f"not imported yet ({self.why[0]})", self.not_stored))
        kinds = sorted({s.kind for s in self.left_out})
        for kind in kinds:
            title = {HIDDEN: "skipped hidden files", "": "skipped files without an extension"}.get(
                kind, f"skipped {kind} files"
            )
            out.append((title, _names([s for s in self.left_out if s.kind == kind])))
        out += self.clocks.lists()
        return [(title, items) for title, items in out if items]


def _names(skipped: list[Skipped]) -> list[str]:
    return [str(s.path) for s in skipped]


async def import_folder(
    services: ImportServices,
    folder: Path,
    station: str,
    *,
    ranger: Ranger = IMPORT_RANGER,
    on_file: Callable[[Path], None] | None = None,
    found: FolderScan | None = None,
) -> ImportReport:
    """Import the photos and videos under `folder` (or the ones `found` by an earlier scan of it)."""
    registered = await services.stations.get(station)
    if registered is None:
        raise SightingError(
            f"unknown station {station}: register it first with /station add", "unknown_station"
        )
    station = registered.code
    found = found or scan([folder])
    files = len(found.images) + len(found.videos) + len(found.skipped)
    report = ImportReport(station, files, left_out=list(found.skipped))
    report.clocks.zone = services.settings.zone
    # With detector processes (import --workers), the next photos are read and detected ahead.
    ahead = ReadAhead.of(services.detector, found.images, services.db)
    files_in_order = [*((p, False) for p in found.images), *((p, True) for p in found.videos)]
    for i, (path, video) in enumerate(files_in_order):
        try:
            read = ahead.reader(i) if ahead and not video else None
            receipt = await _record(services, path, station, ranger, video=video, read=read)
            if receipt.duplicate:
                report.skipped += 1
            else:
                report.new += 1
                report.sighting_ids.append(receipt.sighting_id)
                report.from_videos += int(video)
                report.clocks.add(station, path, receipt.time)
                det = receipt.detection
                if det is not None:
                    report.kinds[det.kind] += 1
                    if det.alert_worthy:
                        report.leopards.append(receipt.sighting_id)
        except (OSError, SightingError) as exc:
            report.unreadable.append(f"{path}: {exc}")
        except StorageUnavailable as exc:  # nothing of this file was recorded; the rest would fail too
            report.stop(exc, [p for p, _ in files_in_order[i:]])
            if ahead:
                ahead.drop()
            break
        if on_file:
            on_file(path)
    if not report.stopped:  # a stopped card is not all there: its last frame is not the camera's
        report.deployment = await Deployments(services.db).for_card(station, report.sighting_ids)
    return report


async def _record(
    services: ImportServices,
    path: Path,
    station: str,
    ranger: Ranger,
    *,
    video: bool,
    read: Callable[[], Awaitable[bytes]] | None = None,
) -> Receipt:
    # A camera that writes no shot time (or a bad one) still left its clock in the file's time.
    mtime = datetime.fromtimestamp((await asyncio.to_thread(path.stat)).st_mtime, UTC)
    intake = PhotoIntake(
        data=b"",
        ranger=ranger,
        received_at=utcnow(),
        caption=path.name,
        is_document=True,
        source="import",
        station_code=station,
        file_time=mtime,
    )
    if video:  # read from the card in pieces, never whole: a clip can be gigabytes
        return await services.videos.record(intake, Clip(path=path))
    # record_photo recognises a finished file by its SHA-256 before running the detector.
    intake.data = await (read() if read else asyncio.to_thread(path.read_bytes))
    return await services.sightings.record_photo(intake)


class ReadAhead:
    """Reads the next files of an import and starts their detection in the pool, in order, so the
    workers stay busy while the parent records one photo at a time. Files already recorded (a resumed
    import) are read but not detected: the importer skips them by SHA-256 anyway."""

    def __init__(self, pool: DetectorPool, paths: Sequence[Path], db: Database) -> None:
        self.pool, self.paths, self.db = pool, paths, db
        self.depth = 2 * pool.workers  # one photo running and one queued per worker
        self._read: dict[int, bytes | OSError] = {}
        self._started: dict[int, bytes] = {}  # prefetched, by index, until their turn has passed
        self._next = 0

    @classmethod
    def of(cls, detector: object, paths: Sequence[Path], db: Database) -> ReadAhead | None:
        """A read-ahead when `detector` is a pool (a single in-process session gains nothing)."""
        return cls(detector, paths, db) if isinstance(detector, DetectorPool) else None

    def drop(self) -> None:
        """The import ended early: detections started for files it will not record are cancelled."""
        for data in self._started.values():
            self.pool.discard(data)
        self._started.clear()

    def reader(self, i: int) -> Callable[[], Awaitable[bytes]]:
        return lambda: self.take(i)

    async def recorded(self, sha256: str) -> bool:
        row = await self.db.fetchone("SELECT 1 FROM sightings WHERE photo_sha256 = ?", (sha256,))
        return row is not None

    async def take(self, i: int) -> bytes:
        """The bytes of paths[i] (raising its OSError), with the files after it already under way."""
        while self._next < min(len(self.paths), i + self.depth):
            j, self._next = self._next, self._next + 1
            try:
                data = await asyncio.to_thread(self.paths[j].read_bytes)
            except OSError as exc:
                self._read[j] = exc
                continue
            self._read[j] = data
            if not await self.recorded(await asyncio.to_thread(_sha256, data)):
                self.pool.prefetch(data)
                self._started[j] = data
        for j in [j for j in self._started if j < i]:
            self.pool.discard(self._started.pop(j))
        self._started.pop(i, None)
        got = self._read.pop(i, None)
        if got is None:
            return await asyncio.to_thread(self.paths[i].read_bytes)
        if isinstance(got, OSError):
            raise got
        return got


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
