"""The services the handlers use, built once and kept in context.bot_data["services"] (PTB's pattern);
every long-lived object is one of them, made in Services.create and closed in close."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from telegram.ext import Application, CallbackContext

from bot.botapi import NoticeSender, OutboxSender
from bot.cameras import Cameras
from bot.cameras.mail import MailIntake
from bot.config import Settings
from bot.detection import Detector
from bot.detection.model import OnnxLeopardDetector
from bot.individuals import Catalogue, Identifications
from bot.intake import Sightings
from bot.intake.videos import VideoIntake
from bot.people import Access, Groups
from bot.places import Deployments, FieldChecks, Stations
from storage.db import Database
from storage.photos import PhotoStore, VideoStore


@dataclass
class Services:
    settings: Settings
    db: Database
    photos: PhotoStore
    detector: Detector
    stations: Stations
    sightings: Sightings
    outbox: OutboxSender
    access: Access
    groups: Groups
    executor: ThreadPoolExecutor
    notices: NoticeSender
    videos: VideoIntake
    cameras: Cameras
    mail: MailIntake  # camera e-mail in: what every mailbox's poller hands its messages to
    identifications: Identifications  # individuals: the catalogue (.catalogue) and "Who is this?" answers
    deployments: Deployments  # cameras at stations from set-up to retrieval (/deploy, /retrieve, cards)
    checks: FieldChecks  # rangers' visits to cameras (/check), their set-up photos in the photo store

    @classmethod
    async def create(cls, settings: Settings, detector: Detector | None = None) -> Services:
        """Open the database (migrating it) and load the model; a broken model fails here, at start."""
        detector = detector or OnnxLeopardDetector(
            threshold=settings.threshold, threads=settings.threads, precision=settings.detector_precision
        )
        db = await Database(settings.database).open()
        photos = PhotoStore(settings.photo_dir)
        stations = Stations(db)
        # onnxruntime already spreads one inference over all cores; a second worker lets the next
        # photo's decoding and windowing overlap the current inference when photos queue up
        # (bench/e2e.py: ~7 % more photos/s under a burst, the same latency for a single photo).
        executor = ThreadPoolExecutor(max_workers=settings.detector_workers, thread_name_prefix="detector")
        sightings = Sightings(
            db,
            photos,
            detector,
            stations,
            executor,
            zone=settings.zone,
            pairing=timedelta(minutes=settings.pairing_minutes),
            burst=timedelta(minutes=settings.burst_minutes),
            burst_radius_m=settings.burst_radius_m,
        )
        outbox = OutboxSender(db, photos, settings)
        access = Access(db, settings.admin_ids)
        groups = Groups(db, settings.timezone)
        notices = NoticeSender(db)
        # Clips beside the photos, by SHA-256 too (backups of LW_PHOTO_DIR then hold both).
        store = VideoStore(settings.photo_dir / "videos")
        videos = VideoIntake(db, sightings, store, detector, executor, zone=settings.zone)
        cameras = Cameras(db)
        # One intake for all mailboxes: the same cameras, the same SHA-256 dedup, the same alerts.
        mail = MailIntake(db, sightings, stations, cameras, settings, videos)
        identifications = Identifications(db, photos, Catalogue(db), movement_days=settings.movement_days)
        deployments = Deployments(db)
        checks = FieldChecks(db, photos, deployments)
        return cls(
            settings, db, photos, detector, stations, sightings, outbox, access, groups, executor, notices,
            videos, cameras, mail, identifications, deployments, checks,
        )  # fmt: skip

    async def close(self) -> None:
        self.videos.close()
        self.identifications.close()  # the catalogue's matcher thread
        self.executor.shutdown(wait=True)
        await self.db.close()


def services(owner: CallbackContext | Application) -> Services:
    """The services of a running bot, from a handler's or job's context or from the Application."""
    found: Services = owner.bot_data["services"]
    return found
