"""One camera e-mail in, its photos recorded as sightings through the same path as a ranger's file.

`MailIntake.handle` is what the poller calls for every message it fetched, and what the demo calls for
a message built in memory: ledger row 'processing', camera matched, each image through
Sightings.record_photo (EXIF time and GPS, detection, SHA-256 dedup, bursts, alert rows in the outbox),
camera bookkeeping and notices, ledger row 'done'. Flagging the message on the server is the caller's
last step.

A message over one of the caps in bot/cameras/mail/limits.py is 'quarantined' instead: nothing is read
from it, the admins are told once, and it stays unread in the mailbox (the poller never flags it). A
camera's GPS fix replaces its station's place only when bot.cameras.health.doubtful_fix finds nothing
wrong with it; otherwise it is kept with the photo and the coordinators are asked once per camera. Every
notice is written per reader through the audience gate (bot/cameras/mail/asking.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from bot.alerts import UNKNOWN_CAMERA
from bot.cameras.health import check_moved, doubtful_fix, record_mail, record_photo_time
from bot.cameras.mail.asking import (
    QUARANTINE_NOTICES_PER_DAY,
    Asker,
    Recipient,
    doubtful_fix_text,
    subject_for,
    subject_line,
)
from bot.cameras.mail.ledger import MAX_ATTEMPTS, Entry, Ledger, MessageRef
from bot.cameras.mail.match import match_camera
from bot.cameras.mail.parse import Attachment, ParsedMail, parse_mail
from bot.cameras.registry import Camera, Cameras
from bot.config import Settings
from bot.geo import Point, distance_km
from bot.intake import PhotoIntake, Ranger, Receipt, SightingError, Sightings
from bot.media import MailTimes, PhotoMeta, UnreadableImage, read_meta
from bot.people import queue_admin_notice
from bot.places import Station, Stations
from bot.text import plain, t
from storage.db import Database, parse_iso, utcnow

log = logging.getLogger(__name__)

# Camera photos are nobody's report: one pseudo-ranger, as the SD-card import has (bot/intake/sd_card.py).
# Negative, so that it can never be a Telegram user.
CAMERA_RANGER = Ranger(-1, "📡 camera e-mail")


class Videos(Protocol):
    """bot/intake/videos.py's VideoIntake: a clip's best frame recorded as a sighting."""

    async def record(self, intake: PhotoIntake, clip: Any) -> Receipt: ...


@dataclass
class MailOutcome:
    status: str  # done / rejected / failed / quarantined, or the finished status found when already handled
    already: bool = False  # handled before (a replay or a re-delivery): nothing was done now
    camera: str | None = None
    trusted: bool = False
    sightings: list[int] = field(default_factory=list)  # made from this message (new or replayed)
    new: int = 0
    alerts: int = 0  # new alert events queued
    deliver: bool = False  # an alert, an alert refresh or a notice waits to be sent
    skipped: list[str] = field(default_factory=list)  # "file: reason"
    copies: int = 0  # media another message (or upload) had already made sightings of
    reason: str | None = None


class MailIntake:
    def __init__(
        self,
        db: Database,
        sightings: Sightings,
        stations: Stations,
        cameras: Cameras,
        settings: Settings,
        videos: Videos | None = None,  # None: video attachments are skipped (they stay in the mailbox)
    ) -> None:
        self.db = db
        self.videos = videos
        self.sightings = sightings
        self.stations = stations
        self.cameras = cameras
        self.settings = settings
        self.ledger = Ledger(db)
        self.asker = Asker(db, settings)

    async def handle(self, raw: bytes, ref: MessageRef) -> MailOutcome:
        """Raises StorageUnavailable (disk, database): the message stays 'processing' for the next try."""
        known = await self.ledger.get(ref)
        if known is not None and known.status != "processing":
            return MailOutcome(known.status, already=True)
        limit = int(self.settings.mail_max_mb * 2**20)
        # A 25 MB message takes a while to decode: not on the event loop.
        mail = await asyncio.to_thread(parse_mail, raw, max_part_bytes=limit)
        entry = await self.ledger.begin(ref, mail.message_id, mail.sender, mail.subject)
        if entry.status != "processing":
            return MailOutcome(entry.status, already=True)
        if entry.attempts > MAX_ATTEMPTS:
            return await self._give_up(entry, ref, mail)
        if mail.quarantine is not None:
            return await self._quarantine(entry, ref, mail)
        if mail.error:
            await self.ledger.finish(entry, "rejected", reason=f"unreadable: {mail.error}")
            return MailOutcome("rejected", reason="unreadable")
        # The same Message-ID again (sent twice, or the server renumbered its UIDs) is still read: cheap
        # camera firmware reuses Message-IDs (a counter reset at every reboot), and skipping on it would
        # lose a new photo. SHA-256 keeps a true copy from doubling, before any detection runs.
        earlier = await self.ledger.same_message(ref, mail.message_id, entry.id)
        return await self._take(entry, mail, earlier)

    async def _quarantine(self, entry: Entry, ref: MessageRef, mail: ParsedMail) -> MailOutcome:
        """Over a cap: written down with the cap, the admins told once (and not without end in a flood),
        left unread in the mailbox for a person and never fetched again."""
        why = mail.quarantine or "?"
        await self.ledger.finish(entry, "quarantined", reason=why[:300])
        recipients = await self.asker.recipients()
        out = MailOutcome("quarantined", reason=why)
        async with self.db.transaction() as conn:
            if await self.asker.told_today(conn, "mail-quarantined:%") >= QUARANTINE_NOTICES_PER_DAY:
                log.warning(
                    "camera e-mail UID %s quarantined (%s); daily limit of notices reached", ref.uid, why
                )
                return out
            out.deliver = await self.asker.tell(
                conn,
                recipients,
                f"mail-quarantined:{entry.id}",
                lambda a: t(
                    a.lang,
                    "mail.notice_quarantined",
                    why=why,
                    uid=ref.uid,
                    mailbox=ref.mailbox,
                    sender=mail.sender or "?",
                    subject=subject_for(a, subject_line(mail.subject)) or "—",
                ),
                admins_only=True,
            )
        log.warning("camera e-mail UID %s of %s quarantined: %s", ref.uid, ref.mailbox, why)
        return out

    async def _take(self, entry: Entry, mail: ParsedMail, earlier: int | None = None) -> MailOutcome:
        match = match_camera(
            await self.cameras.all(), mail, self.settings.mail_allow_list, self.settings.mail_auth_server
        )
        out = MailOutcome("done", trusted=match.trusted)
        out.skipped = [f"{a.filename or '(no name)'}: {a.skipped}" for a in mail.attachments if a.skipped]
        readable: list[tuple[Attachment, PhotoMeta]] = []
        for attachment in mail.images:
            try:
                readable.append((attachment, await asyncio.to_thread(read_meta, attachment.data)))
            except UnreadableImage as exc:
                reason = getattr(exc, "reason", "corrupt")
                out.skipped.append(f"{attachment.filename or '(no name)'}: {reason}")
        videos = mail.videos if self.videos is not None else []
        out.skipped += [f"{a.filename or '(no name)'}: video" for a in mail.videos if self.videos is None]
        camera = match.camera
        if camera is None and (readable or videos):  # junk with an image name makes no unknown camera
            async with self.db.transaction() as conn:
                camera = await self.cameras.unknown(conn, mail.sender)
        await self.ledger.set_camera(entry, camera.id if camera else None, match.trusted)
        station = await self.stations.get(camera.station) if camera and camera.station else None
        out.camera = camera.label if camera else None
        media: list[tuple[Attachment, PhotoMeta | None]] = [*readable, *((v, None) for v in videos)]
        # Who is asked, and what each may read: looked up before the transactions that queue notices.
        readers = await self.asker.recipients() if camera is not None and media else []
        for attachment, meta in media:
            await self._media(
                entry, attachment, meta, camera, station, match.trusted, out, mail.times, readers
            )
        async with self.db.transaction() as conn:
            if camera is not None:
                await record_mail(conn, camera, utcnow(), mail.battery, mail.signal)
            if camera is not None and out.sightings:
                out.deliver |= await self.asker.ask(conn, readers, camera, match, mail, len(out.sightings))
        if not out.sightings:
            out.reason = "no_media" if not mail.attachments else "no_photo"
            if out.copies:
                out.reason = "copies of photos already recorded"
            if earlier is not None:
                out.reason = f"same Message-ID as message row {earlier}"
        await self.ledger.finish(entry, "done", reason=out.reason, photos=out.new, skipped=len(out.skipped))
        return out

    async def _media(
        self,
        entry: Entry,
        attachment: Attachment,
        meta: PhotoMeta | None,  # None: a video
        camera: Camera | None,
        station: Station | None,
        trusted: bool,
        out: MailOutcome,
        mailed: MailTimes,
        readers: list[Recipient],
    ) -> None:
        name = attachment.filename or "(no name)"
        sha = hashlib.sha256(attachment.data).hexdigest()
        own = await self._claim(entry, sha, camera, name, video=meta is None)
        fix = meta.gps if meta is not None else None
        s = self.settings
        doubt = (
            doubtful_fix(fix, station.point if station else None, s.bounds, s.camera_gps_max_km)
            if fix
            else None
        )
        gps = fix if doubt is None else None  # a doubtful fix is evidence (exif_lat/lon), never the place
        moved = station is not None and gps is not None and self._away(station, gps) > s.camera_moved_m
        intake = PhotoIntake(
            data=attachment.data,
            ranger=CAMERA_RANGER,
            received_at=utcnow(),
            is_document=True,
            source=camera.source if camera else UNKNOWN_CAMERA,
            # A camera away from its station is where its GPS says, not at the station.
            station_code=station.code if station and not moved else None,
            gps_first=True,
            use_gps=doubt is None,
            may_alert=trusted,
            # Not the fetch time: a mailbox out of reach for two days would date its backlog all "now".
            mailed=mailed,
        )
        try:
            if meta is not None:
                receipt = await self.sightings.record_photo(intake)
            else:  # the clip's best frame becomes the sighting (bot/intake/videos.py)
                from bot.intake.videos import Clip

                assert self.videos is not None
                receipt = await self.videos.record(replace(intake, data=b""), Clip(data=attachment.data))
        except SightingError as exc:
            out.skipped.append(f"{name}: {exc.reason}")
            return
        if receipt.duplicate and not own:
            out.skipped.append(f"{name}: already recorded as #{receipt.sighting_id}")
            out.copies += 1
            return
        out.sightings.append(receipt.sighting_id)
        out.new += 0 if receipt.duplicate else 1
        out.alerts += int(receipt.new_alert)
        out.deliver |= receipt.event_id is not None
        row = await self.db.fetchone("SELECT taken_at FROM sightings WHERE id = ?", (receipt.sighting_id,))
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE mail_photos SET sighting_id = ? WHERE message_row = ? AND sha256 = ?",
                (receipt.sighting_id, entry.id, sha),
            )
            if camera is not None:
                await record_photo_time(conn, camera, parse_iso(row["taken_at"]) if row else None)
            if camera is not None and station is not None and gps is not None:
                away = await check_moved(conn, camera.id, station.point, gps, self.settings.camera_moved_m)
                if away is not None:
                    out.deliver |= await self.asker.tell(
                        conn,
                        readers,
                        f"camera-moved:{camera.id}:{receipt.sighting_id}",
                        lambda a: t(
                            a.lang,
                            "camera.notice_moved",
                            code=camera.label,
                            station=station.code,
                            km=f"{away / 1000:.1f}",
                            id=receipt.sighting_id,
                        ),
                    )
            if camera is not None and fix is not None and doubt is not None:
                km = distance_km(fix, station.point) if station else None
                place = (station.code, station.area) if station else None
                out.deliver |= await self.asker.tell(
                    conn,
                    readers,
                    f"camera-gps:{camera.id}",  # asked once per camera, not once per photo
                    lambda a: doubtful_fix_text(
                        a,
                        doubt,
                        code=camera.label,
                        number=camera.id,
                        fix=fix,
                        sighting=receipt.sighting_id,
                        station=place,
                        km=km,
                        settings=self.settings,
                    ),
                )

    async def _claim(self, entry: Entry, sha: str, camera: Camera | None, name: str, *, video: bool) -> bool:
        """Write the photo down for this message before recording it; True if it is (or will be) this
        message's own sighting, False if another upload made that sighting first."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT own FROM mail_photos WHERE message_row = ? AND sha256 = ?", (entry.id, sha)
            )
            row = await cur.fetchone()
            if row is not None:
                return bool(row["own"])
            # Another message may be recording the same file right now (the camera sent it twice):
            # the first to claim it owns it.
            column = "video_sha256" if video else "photo_sha256"  # a fixed name, never input
            cur = await conn.execute(
                f"SELECT 1 FROM sightings WHERE {column} = ? "
                "UNION ALL SELECT 1 FROM mail_photos WHERE sha256 = ? AND own = 1",
                (sha, sha),
            )
            own = await cur.fetchone() is None
            await conn.execute(
                "INSERT INTO mail_photos (message_row, sha256, own, camera_id, filename) "
                "VALUES (?, ?, ?, ?, ?)",
                (entry.id, sha, int(own), camera.id if camera else None, name[:200]),
            )
            return own

    @staticmethod
    def _away(station: Station, gps: Point) -> float:
        return distance_km(gps, station.point) * 1000

    async def _give_up(self, entry: Entry, ref: MessageRef, mail: ParsedMail) -> MailOutcome:
        await self.ledger.finish(entry, "failed", reason=f"gave up after {MAX_ATTEMPTS} attempts")
        await queue_admin_notice(
            self.db,
            self.settings.admin_ids,
            f"A camera e-mail could not be handled after {MAX_ATTEMPTS} attempts and was left unread in "
            f"the mailbox (from {plain(mail.sender or '?', 120)}, subject {subject_line(mail.subject)!r}, "
            f"UID {ref.uid}); "
            "see the log.",
            dedup_key=f"mail-failed:{entry.id}",
        )
        return MailOutcome("failed", reason="gave_up")
