"""Videos as sightings: the clip stored by SHA-256, frames sampled and detected, the best one recorded.

The best frame becomes the sighting's photo through Sightings.record_detected, the path every photo
takes (place, burst, alert outbox), so alerts, /sighting, the 🐆 button and exports work unchanged;
the sighting also names its clip (video_sha256) and the second of the frame (frame_seconds).

Fairness: a clip is up to 60 inferences, a photo one. One clip is decoded at a time, on its own
thread, and its frames go to the shared detector executor one at a time, so a photo that arrives
meanwhile waits behind at most one of the clip's frames, never behind the whole clip.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.detection import Detection, Detector
from bot.intake.replacements import Standing
from bot.intake.sightings import Sightings
from bot.intake.types import PhotoIntake, Receipt, SightingError, receipt_of_row, same_message
from bot.media import CaptureTime, TimeSource, UnreadableImage, capture_time, from_camera
from bot.media.video import Frame, FrameSampler, UnreadableVideo, VideoInfo
from storage.db import Database, iso, utcnow
from storage.photos import StoredPhoto, VideoStore

log = logging.getLogger(__name__)

# How a video reached us (sightings.media): Telegram's three kinds, or a file (a document or a card).
KINDS = ("video", "video_note", "animation", "video_file")
# Frames decoded ahead, while the ones before them are detected.
BATCH = 4


@dataclass(frozen=True)
class Clip:
    """The clip itself: bytes from Telegram (20 MB at most) or a file on a card (never read whole)."""

    data: bytes | None = None
    path: Path | None = None
    kind: str = "video_file"

    @property
    def source(self) -> bytes | Path:
        if self.data is not None:
            return self.data
        assert self.path is not None, "a Clip needs data or a path"
        return self.path


@dataclass(frozen=True)
class Best:
    frame: Frame
    detection: Detection
    frames: int  # frames the detector looked at


def rank(det: Detection) -> tuple[bool, float]:
    """Which frame speaks for the clip: an alert-worthy one first, then the most leopard-like."""
    return det.alert_worthy, det.label_score if det.alert_worthy else det.score


class VideoIntake:
    def __init__(
        self,
        db: Database,
        sightings: Sightings,
        store: VideoStore,
        detector: Detector,
        executor: Executor,
        *,
        zone: ZoneInfo,
    ) -> None:
        self.db = db
        self.sightings = sightings
        self.store = store
        self.detector = detector
        self.executor = executor
        self.zone = zone
        # One thread for all decoding, which also keeps each clip's PyAV objects on one thread at a time.
        self._decoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="video")
        self._turn = asyncio.Semaphore(1)  # one clip at a time: two would each hold a detector worker

    async def record(self, intake: PhotoIntake, clip: Clip) -> Receipt:
        """Store, sample, detect and record one clip (intake.data is not used: `clip` holds it).

        Raises SightingError (reason: "empty", "not_video", "corrupt", "too_large") for a file that is
        no readable video, StorageUnavailable when it cannot be stored."""
        loop = asyncio.get_running_loop()
        async with self._turn:
            # Opened (header only) before anything is stored: what is no video is refused at once.
            sampler = await loop.run_in_executor(self._decoder, _open, clip.source)
            try:
                stored = await self._store(clip)
                row = await self.db.fetchone(
                    "SELECT * FROM sightings WHERE video_sha256 = ?", (stored.sha256,)
                )
                if row is not None and not same_message(row, intake):
                    return Receipt(row["id"], duplicate=True, event_id=row["event_id"], media=clip.kind)
                best = await self._best(sampler)
            finally:
                await loop.run_in_executor(self._decoder, sampler.close)
        if best is None:
            raise SightingError("no frame of the video could be decoded", "corrupt")
        if row is not None:  # this very message, handled again after a crash: its real receipt
            return _from_video(receipt_of_row(row, best.detection), clip, best)
        await self._remember(stored, sampler.info, best.frames)
        frame = best.frame
        receipt = await self.sightings.record_detected(
            replace(intake, data=frame.jpeg),
            best.detection,
            self._time(intake, sampler.info, frame.seconds),
            {"video_sha256": stored.sha256, "frame_seconds": frame.seconds, "media": clip.kind},
        )
        return _from_video(receipt, clip, best)

    async def replace(self, old: Standing, intake: PhotoIntake, clip: Clip) -> Receipt | None:
        """A clip swapped into a message already sent (an edit): recorded as any clip is, as a sighting
        replacing `old` (bot/intake/replacements.py). None: the clip `old` was made from (an older row
        without its file_unique_id), so only the caption may have changed."""
        intake.replaces_id = old.id
        return await self.sightings.replaced_by(old, await self.record(intake, clip))

    async def _store(self, clip: Clip) -> StoredPhoto:
        if clip.data is not None:
            return await self.store.store(clip.data)
        assert clip.path is not None
        return await self.store.store_file(clip.path)

    async def _best(self, sampler: FrameSampler) -> Best | None:
        loop = asyncio.get_running_loop()
        best: Best | None = None
        checked = 0
        pending = loop.run_in_executor(self._decoder, _batch, sampler)
        while batch := await pending:
            pending = loop.run_in_executor(self._decoder, _batch, sampler)
            for frame in batch:
                try:
                    det = await loop.run_in_executor(self.executor, self.detector.detect, frame.jpeg)
                except UnreadableImage:  # our own JPEG: only a detector bug gets here
                    log.exception("frame at %.2f s of a video could not be detected", frame.seconds)
                    continue
                checked += 1
                if best is None or rank(det) > rank(best.detection):
                    best = Best(frame, det, 0)
        return replace(best, frames=checked) if best else None

    def _time(self, intake: PhotoIntake, info: VideoInfo, seconds: float) -> CaptureTime:
        """The best frame's time: the clip's own creation time plus the frame's second in it, else when
        the file travelled (its e-mail, a forward's date, the card file's time, the receipt)."""
        zone = intake.zone or self.zone
        if info.created is not None:
            at = info.created + timedelta(seconds=seconds)
            return from_camera(at, None, zone, TimeSource.VIDEO_METADATA, intake.received_at)
        return capture_time(
            None,
            received_at=intake.received_at,
            zone=zone,
            forwarded_at=intake.forwarded_at,
            file_time=intake.file_time,
            imported=intake.source == "import",
            mailed=intake.mailed,
        )

    async def _remember(self, stored: StoredPhoto, info: VideoInfo, frames: int) -> None:
        # Before the sighting that names it (a foreign key); a row whose sighting never came is harmless.
        await self.db.execute(
            "INSERT OR IGNORE INTO videos (sha256, path, size, container, codec, width, height, duration, "
            "frames, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                stored.sha256,
                str(stored.path),
                stored.size,
                info.container,
                info.codec,
                info.width,
                info.height,
                round(info.duration, 3),
                frames,
                iso(utcnow()),
            ),
        )

    def close(self) -> None:
        self._decoder.shutdown(wait=True)


def _open(source: bytes | Path) -> FrameSampler:
    try:
        return FrameSampler(source)
    except UnreadableVideo as exc:
        raise SightingError(str(exc), exc.reason) from exc


def _batch(sampler: FrameSampler) -> list[Frame]:
    try:
        return sampler.next_batch(BATCH)
    except UnreadableVideo as exc:
        raise SightingError(str(exc), exc.reason) from exc


def _from_video(receipt: Receipt, clip: Clip, best: Best) -> Receipt:
    receipt.media, receipt.frame_seconds, receipt.frames = clip.kind, best.frame.seconds, best.frames
    return receipt


@dataclass(frozen=True)
class StoredClip:
    sighting_id: int
    path: Path
    size: int
    info: VideoInfo
    frame_seconds: float


async def clip_of(db: Database, store: VideoStore, sighting_id: int) -> StoredClip | None:
    """The clip a sighting came from, for /sighting; None for a photo's sighting."""
    row = await db.fetchone(
        "SELECT v.*, s.frame_seconds FROM sightings s JOIN videos v ON v.sha256 = s.video_sha256 "
        "WHERE s.id = ?",
        (sighting_id,),
    )
    if row is None:
        return None
    info = VideoInfo(row["container"], row["codec"], row["width"], row["height"], row["duration"], None)
    return StoredClip(sighting_id, store.path_for(row["sha256"]), row["size"], info, row["frame_seconds"])
