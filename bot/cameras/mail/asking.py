"""The notices the camera-mail intake queues, each written for its reader through the audience gate.

Who is asked about cameras is every admin and active coordinator (bot/cameras/registry.py coordinators);
what each may read of a place or of what a stranger wrote is bot.people.audience's decision, never this
module's. An admin in private reads exactly: a GPS fix as the camera wrote it, a subject as it came. A
coordinator in private gets the fix's grid cell and no subject (a subject is free text, and a new camera
puts its GPS position there). So a notice is built per reader, from that reader's Audience.

Strings that came in the mail (sender, subject) arrive here as bot.text.plain made them: one line, no
control or bidi characters.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import aiosqlite

from bot.cameras.mail.match import CameraMatch
from bot.cameras.mail.parse import ParsedMail
from bot.cameras.registry import Camera, coordinators
from bot.config import Settings
from bot.geo import Point, format_point
from bot.people import Access, Audience, Groups, audience_for, queue_notice
from bot.text import pick_language, plain, t
from storage.db import Database, iso, utcnow

log = logging.getLogger(__name__)

# Unknown senders are asked about at most this many times a day: spam comes from ever new addresses.
UNKNOWN_NOTICES_PER_DAY = 5
# Quarantined mail is told to the admins at most this many times a day: a flood of it is an attack, and
# the ledger keeps every one anyway.
QUARANTINE_NOTICES_PER_DAY = 10


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    audience: Audience


class Asker:
    """Queues camera notices to the people who are asked about cameras, each as the gate lets them read."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.access = Access(db, settings.admin_ids)
        self.groups = Groups(db, settings.timezone)

    async def recipients(self) -> list[Recipient]:
        """Every admin and active coordinator as a reader in a private chat (outside any transaction)."""
        found = []
        for chat_id, lang in await coordinators(self.db, self.settings.admin_ids):
            audience = await audience_for(
                groups=self.groups,
                access=self.access,
                chat_id=chat_id,
                private=True,
                user_id=chat_id,
                lang=pick_language(lang),
                zone=self.settings.zone,
                grid_km=self.settings.untrusted_grid_km,
            )
            found.append(Recipient(chat_id, audience))
        return found

    async def tell(
        self,
        conn: aiosqlite.Connection,
        recipients: list[Recipient],
        dedup: str,
        text: Callable[[Audience], str],
        *,
        admins_only: bool = False,
    ) -> bool:
        """One notice per recipient (at most once per dedup key each); True if any was queued now. The
        admins' own notices are kind 'admin', which `leopard-watch doctor` lists when undelivered."""
        queued = False
        kind = "admin" if admins_only else "camera"
        for r in recipients:
            if admins_only and r.chat_id not in self.settings.admin_ids:
                continue
            queued |= await queue_notice(conn, r.chat_id, kind, text(r.audience), dedup_key=dedup)
        return queued

    async def ask(
        self,
        conn: aiosqlite.Connection,
        recipients: list[Recipient],
        camera: Camera,
        match: CameraMatch,
        mail: ParsedMail,
        count: int,
    ) -> bool:
        """Asked once about a camera nobody registered, and once about a registered camera's name
        arriving from an address that may not alert (or that the display name or the provider's
        Authentication-Results give away as forged). True if a notice was queued now."""
        sender = plain(mail.sender or "?", 120)
        if camera.code is None:
            key = f"camera-unknown:{camera.id}"
            if await self.told_today(
                conn, "camera-unknown:%"
            ) >= UNKNOWN_NOTICES_PER_DAY and not await _asked(conn, key):
                log.warning("unknown camera #%s (%s): daily limit of notices reached", camera.id, sender)
                return False
            which = "camera.notice_unknown" if match.trusted else "camera.notice_unknown_held"
            subject = subject_line(mail.subject)
            return await self.tell(
                conn,
                recipients,
                key,
                lambda a: t(
                    a.lang,
                    which,
                    number=camera.id,
                    sender=sender,
                    subject=subject_for(a, subject),
                    count=count,
                ),
            )
        if match.trusted:
            return False
        which = "camera.notice_untrusted"
        if match.unvouched:
            which = "camera.notice_unvouched"
        elif mail.forged:
            which = "camera.notice_forged"
        forged, station = plain(mail.forged, 120), camera.station or "—"
        return await self.tell(
            conn,
            recipients,
            f"camera-sender:{camera.id}:{sender}",
            lambda a: t(a.lang, which, code=camera.label, sender=sender, station=station, forged=forged),
        )

    async def told_today(self, conn: aiosqlite.Connection, like: str) -> int:
        """Distinct notices of this kind (a dedup_key pattern) queued in the last day."""
        cur = await conn.execute(
            "SELECT COUNT(DISTINCT dedup_key) FROM notices WHERE dedup_key LIKE ? AND created_at >= ?",
            (like, iso(utcnow() - timedelta(days=1))),
        )
        row = await cur.fetchone()
        return int(row[0]) if row else 0


async def _asked(conn: aiosqlite.Connection, key: str) -> bool:
    cur = await conn.execute("SELECT 1 FROM notices WHERE dedup_key = ? LIMIT 1", (key,))
    return await cur.fetchone() is not None


def subject_line(subject: str) -> str:
    """A subject as shown to a reader who may read it: one clean line, short, without the links spam
    puts there."""
    return plain(re.sub(r"\S*(?:://|www\.)\S*", "[link]", plain(subject, 500)), 60)


def subject_for(audience: Audience, subject: str) -> str:
    """A mail subject as this reader may have it: as written for exact readers, else withheld."""
    return audience.free_text(subject) or t(audience.lang, "camera.subject_withheld")


def fix_for(audience: Audience, fix: Point) -> str:
    """A camera's GPS fix as this reader may have it: exact, or its grid cell said to be one."""
    shown = audience.point(fix)
    assert shown is not None
    if audience.exact:
        return format_point(shown)
    grid = f"{audience.grid_km:g}"
    return t(audience.lang, "camera.fix_rounded", point=format_point(shown, 2), grid=grid)


def doubtful_fix_text(
    audience: Audience,
    why: str,
    *,
    code: str,
    number: int,
    fix: Point,
    sighting: int,
    station: tuple[str, str | None] | None,  # (code, area)
    km: float | None,
    settings: Settings,
) -> str:
    """The question about a camera GPS fix that was not believed (bot.cameras.health.doubtful_fix)."""
    lang, point = audience.lang, fix_for(audience, fix)
    where = (audience.where(*station) if station else None) or "—"
    if why == "far" and km is not None:
        limit = f"{settings.camera_gps_max_km:g}"
        return t(lang, "camera.notice_gps_far", code=code, point=point, km=f"{km:.0f}", station=where,
                 id=sighting, limit=limit)  # fmt: skip
    region = settings.bounds.describe()
    if station is None:
        return t(lang, "camera.notice_gps_outside_unplaced", code=code, point=point, region=region,
                 id=sighting, number=number)  # fmt: skip
    return t(lang, "camera.notice_gps_outside", code=code, point=point, region=region, station=where,
             id=sighting)  # fmt: skip
