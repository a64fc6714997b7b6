"""Who a confirmed leopard event is: the coordinators' answers (same as, new individual, can't tell), kept
with their history, and the queue of "Who is this?" questions owed to the groups.

An answer is never overwritten: a changed one is a new identifications row, and the newest row is the
event's identity. "Same" and "new" give the individual the event's crop as a reference (so the
catalogue grows with what people confirmed); an answer changed away from an individual takes that crop
back. Only coordinators answer (bot.alerts.may_decide); the handler asks before calling here.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.alerts import refresh_movement_alerts
from bot.individuals.catalogue import Catalogue, CatalogueError, Individual, row_individual
from bot.individuals.features import FLANKS, extract, from_bytes, to_bytes
from bot.media import open_image
from storage.db import Database, iso, utcnow
from storage.photos import PhotoStore

Decision = Literal["same", "new", "cant_tell"]
DECISIONS: tuple[Decision, ...] = ("same", "new", "cant_tell")
MAX_ATTEMPTS = 20
MAX_BACKOFF = timedelta(minutes=30)


@dataclass(frozen=True)
class EventCrop:
    """The event's photo, the box used, the flank, and its features (bot.individuals.features bytes)."""

    event_id: int
    photo_sha256: str
    box: tuple[int, int, int, int] | None
    flank: str
    features: bytes
    station: str | None


@dataclass(frozen=True)
class Identified:
    event_id: int
    decision: Decision
    individual: Individual | None
    changed: bool  # False: the event already had this answer; nothing was written


def best_box(boxes_json: str) -> tuple[int, int, int, int] | None:
    """The detector's most confident box (original pixels), or None (the whole photo)."""
    boxes = [b for b in json.loads(boxes_json or "[]") if len(b) >= 4]
    if not boxes:
        return None
    best = max(boxes, key=lambda b: b[4] if len(b) > 4 else 0.0)
    return int(best[0]), int(best[1]), int(best[2]), int(best[3])


def compute_crop(data: bytes, box: tuple[int, int, int, int] | None, flank: str) -> bytes:
    """Features of the animal in a stored photo: CPU work, run in an executor by the callers."""
    image, original = open_image(data)
    if box is not None and image.size != original:  # a huge photo opens reduced: scale the box with it
        sx, sy = image.size[0] / original[0], image.size[1] / original[1]
        box = (round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy))
    return to_bytes(extract(image, box, flank))


class Identifications:
    """Every statement on identifications, event_features and who_is_this."""

    def __init__(
        self, db: Database, photos: PhotoStore, catalogue: Catalogue, *, movement_days: int = 60
    ) -> None:
        self.db = db
        self.photos = photos
        self.catalogue = catalogue
        self.movement_days = movement_days  # how far the alerts' movement lines look (Settings)

    def close(self) -> None:
        self.catalogue.close()

    async def event_crop(self, event_id: int, flank: str | None = None) -> EventCrop | None:
        """The event's crop and features, computed once and stored; a new flank re-tags them (the
        keypoints do not depend on it). None: no such leopard event."""
        row = await self.db.fetchone(
            "SELECT s.photo_sha256, s.boxes, s.station_code, f.features, f.flank, f.box AS fbox "
            "FROM sightings s LEFT JOIN event_features f ON f.event_id = s.id "
            "WHERE s.id = ? AND s.event_id = s.id",
            (event_id,),
        )
        if row is None:
            return None
        if flank is not None and flank not in FLANKS:
            raise CatalogueError("flank", choices=", ".join(FLANKS))
        if row["features"] is not None:
            box = _box(row["fbox"])
            stored = from_bytes(bytes(row["features"]))
            want = flank or row["flank"]
            if want != stored.flank:
                data = to_bytes(type(stored)(stored.keypoints, stored.descriptors, stored.crop_size, want))
                await self.db.execute(
                    "UPDATE event_features SET flank = ?, features = ? WHERE event_id = ?",
                    (want, data, event_id),
                )
                return EventCrop(event_id, row["photo_sha256"], box, want, data, row["station_code"])
            return EventCrop(
                event_id, row["photo_sha256"], box, want, bytes(row["features"]), row["station_code"]
            )
        box = best_box(row["boxes"])
        data = self.photos.read(row["photo_sha256"])
        features = await asyncio.to_thread(compute_crop, data, box, flank or "unknown")  # CPU: off the loop
        await self.db.execute(
            "INSERT OR REPLACE INTO event_features (event_id, photo_sha256, box, flank, features, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, row["photo_sha256"], json.dumps(box) if box else None, flank or "unknown", features,
             iso(utcnow())),
        )  # fmt: skip
        return EventCrop(
            event_id, row["photo_sha256"], box, flank or "unknown", features, row["station_code"]
        )

    async def current(self, event_id: int) -> tuple[Decision, Individual | None] | None:
        row = await self.db.fetchone(
            "SELECT decision, individual_id FROM current_identities WHERE event_id = ?", (event_id,)
        )
        if row is None:
            return None
        ind = None if row["individual_id"] is None else await self.catalogue.get(int(row["individual_id"]))
        return row["decision"], ind

    async def history(self, event_id: int) -> list[dict[str, object]]:
        rows = await self.db.fetchall(
            "SELECT i.decision, x.code, i.flank, i.decided_by, i.decided_name, i.chat_id, i.at "
            "FROM identifications i LEFT JOIN individuals x ON x.id = i.individual_id "
            "WHERE i.event_id = ? ORDER BY i.id",
            (event_id,),
        )
        return [dict(r) for r in rows]

    async def identify(
        self,
        crop: EventCrop,
        decision: Decision,
        *,
        by: int,
        by_name: str,
        chat_id: int | None,
        code: str | None = None,
        score: float | None = None,
    ) -> Identified:
        """Record one answer. "same" needs the individual's code; "new" makes one (next free code). The
        check and the write share one transaction, so two coordinators pressing together write once."""
        if decision not in DECISIONS:
            raise CatalogueError("decision", decision=str(decision)[:20])
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT decision, individual_id FROM current_identities WHERE event_id = ?", (crop.event_id,)
            )
            before = await cur.fetchone()
            individual: Individual | None = None
            if decision == "same":
                cur = await conn.execute(
                    "SELECT * FROM individuals WHERE code = ? COLLATE NOCASE", (code or "",)
                )
                found = await cur.fetchone()
                if found is None:
                    raise CatalogueError("missing", code=(code or "")[:48])
                individual = row_individual(found)
                if before is not None and before["individual_id"] == individual.id:
                    return Identified(crop.event_id, decision, individual, False)
            elif decision == "cant_tell" and before is not None and before["decision"] == "cant_tell":
                return Identified(crop.event_id, decision, None, False)
            elif decision == "new" and before is not None and before["decision"] == "new":
                # A second press of "New individual" must not make a second animal.
                cur = await conn.execute("SELECT * FROM individuals WHERE id = ?", (before["individual_id"],))
                found = await cur.fetchone()
                return Identified(
                    crop.event_id, decision, None if found is None else row_individual(found), False
                )
            if before is not None and before["individual_id"] is not None:
                await self.catalogue.drop_references_of_event(
                    conn, int(before["individual_id"]), crop.event_id, by=by, by_name=by_name
                )
            if decision == "new":
                individual = await self.catalogue.create(conn, code=None, by=by, by_name=by_name)
            if individual is not None:
                await self.catalogue.add_reference(
                    conn, individual, photo_sha256=crop.photo_sha256, box=crop.box, flank=crop.flank,
                    features=crop.features, source=f"event:{crop.event_id}", by=by, by_name=by_name,
                    sighting_id=crop.event_id, station=crop.station,
                )  # fmt: skip
            await conn.execute(
                "INSERT INTO identifications (event_id, decision, individual_id, flank, score, decided_by, "
                "decided_name, chat_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    crop.event_id, decision, individual.id if individual else None, crop.flank, score, by,
                    by_name, chat_id, iso(utcnow()),
                ),
            )  # fmt: skip
            # The alerts' movement lines leave out moves between two different identified animals
            # (bot.alerts.movement): who this is changes them, as a verdict does.
            await refresh_movement_alerts(conn, crop.event_id, movement_days=self.movement_days)
        return Identified(crop.event_id, decision, individual, True)

    # The "Who is this?" queue (rows are queued by bot/alerts/reviews.py with the confirmation).

    async def due_questions(self) -> list[tuple[int, int, int]]:
        """(event, chat, attempts) owed now, oldest first."""
        rows = await self.db.fetchall(
            "SELECT event_id, chat_id, attempts FROM who_is_this "
            "WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at, event_id LIMIT 20",
            (iso(utcnow()),),
        )
        return [(int(r["event_id"]), int(r["chat_id"]), int(r["attempts"])) for r in rows]

    async def ask_again(self, event_id: int, chat_id: int) -> None:
        """A flank was marked: the question goes out again with it."""
        now = iso(utcnow())
        await self.db.execute(
            "INSERT INTO who_is_this (event_id, chat_id, next_attempt_at, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (event_id, chat_id) "
            "DO UPDATE SET status = 'pending', attempts = 0, next_attempt_at = ?",
            (event_id, chat_id, now, now, now),
        )

    async def question_sent(self, event_id: int, chat_id: int, message_id: int | None) -> None:
        await self.db.execute(
            "UPDATE who_is_this SET status = 'sent', attempts = attempts + 1, message_id = ?, sent_at = ?, "
            "last_error = NULL WHERE event_id = ? AND chat_id = ?",
            (message_id, iso(utcnow()), event_id, chat_id),
        )

    async def question_failed(
        self, event_id: int, chat_id: int, attempts: int, error: str, *, final: bool
    ) -> None:
        """Retry with backoff, or give up (a 400/403 cannot succeed later; nor can a 20th attempt)."""
        if final or attempts + 1 >= MAX_ATTEMPTS:
            await self.db.execute(
                "UPDATE who_is_this SET status = 'failed', attempts = attempts + 1, last_error = ? "
                "WHERE event_id = ? AND chat_id = ?",
                (error, event_id, chat_id),
            )
            return
        later = utcnow() + min(MAX_BACKOFF, timedelta(seconds=2 ** min(attempts + 1, 11)))
        await self.db.execute(
            "UPDATE who_is_this SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
            "WHERE event_id = ? AND chat_id = ?",
            (iso(later), error, event_id, chat_id),
        )

    async def was_asked(self, event_id: int, chat_id: int) -> bool:
        """Answers only count where the question went: callback data can be forged."""
        found = await self.db.scalar(
            "SELECT 1 FROM who_is_this WHERE event_id = ? AND chat_id = ?", (event_id, chat_id)
        )
        return found is not None


def _box(text: str | None) -> tuple[int, int, int, int] | None:
    if not text:
        return None
    b = json.loads(text)
    return int(b[0]), int(b[1]), int(b[2]), int(b[3])
