"""The mail_messages table: what the bot has done with each message of a mailbox (crash safety).

The same rules as bot/botapi/inbox.py for Telegram updates: a message is written down ('processing') before
anything is made from it, marked 'done' after its sightings are committed, and flagged on the server
(\\Seen, or moved) only after that. A crash anywhere leaves a row that says what is left to do: a
'processing' row is fetched and handled again (photos are recognised by SHA-256, so nothing doubles),
a finished row not yet flagged is only flagged.

A message over one of the intake's caps (bot/cameras/mail/limits.py) is 'quarantined': finished, like a
'failed' one never flagged (it stays unread in the mailbox for a person to look at) and never fetched
again (migration 0013).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Database, iso, utcnow

FINISHED = ("done", "rejected", "failed", "quarantined")
MAX_ATTEMPTS = 5  # a message that kills the bot or fails this often is given up (and the admins told)


@dataclass(frozen=True)
class MessageRef:
    mailbox: str  # user@host:port/folder
    uidvalidity: int
    uid: int


@dataclass(frozen=True)
class Entry:
    id: int
    status: str
    attempts: int
    flagged: bool


class Ledger:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, ref: MessageRef) -> Entry | None:
        row = await self.db.fetchone(
            "SELECT id, status, attempts, flagged_at FROM mail_messages "
            "WHERE mailbox = ? AND uidvalidity = ? AND uid = ?",
            (ref.mailbox, ref.uidvalidity, ref.uid),
        )
        if row is None:
            return None
        return Entry(int(row["id"]), row["status"], int(row["attempts"]), row["flagged_at"] is not None)

    async def begin(self, ref: MessageRef, message_id: str | None, sender: str | None, subject: str) -> Entry:
        """Write the message down as 'processing' (or count one more attempt at it)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                """INSERT INTO mail_messages (mailbox, uidvalidity, uid, message_id, sender, subject, status,
                       attempts, received_at)
                   VALUES (?, ?, ?, ?, ?, ?, 'processing', 1, ?)
                   ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET attempts = attempts + 1
                   WHERE status = 'processing'""",
                (ref.mailbox, ref.uidvalidity, ref.uid, message_id, sender, subject[:300], iso(utcnow())),
            )
        entry = await self.get(ref)
        assert entry is not None
        return entry

    async def same_message(self, ref: MessageRef, message_id: str | None, own_id: int) -> int | None:
        """An earlier row of this mailbox with the same Message-ID (the mail sent twice, or the server
        renumbered its UIDs) that is done or being done, if any. Earlier: of two copies handled at once,
        exactly one (the first written down) takes the photos."""
        if not message_id:
            return None
        value = await self.db.scalar(
            "SELECT id FROM mail_messages WHERE mailbox = ? AND message_id = ? AND id < ? "
            "AND status IN ('processing', 'done') ORDER BY id LIMIT 1",
            (ref.mailbox, message_id, own_id),
        )
        return int(value) if value is not None else None

    async def set_camera(self, entry: Entry, camera_id: int | None, trusted: bool) -> None:
        await self.db.execute(
            "UPDATE mail_messages SET camera_id = ?, trusted = ? WHERE id = ?",
            (camera_id, int(trusted), entry.id),
        )

    async def finish(
        self, entry: Entry, status: str, *, reason: str | None = None, photos: int = 0, skipped: int = 0
    ) -> None:
        await self.db.execute(
            "UPDATE mail_messages SET status = ?, reason = ?, photos = ?, skipped = ?, done_at = ? "
            "WHERE id = ? AND status = 'processing'",
            (status, reason, photos, skipped, iso(utcnow()), entry.id),
        )

    async def record_reject(
        self,
        ref: MessageRef,
        reason: str,
        *,
        message_id: str | None = None,
        sender: str | None = None,
        subject: str = "",
    ) -> Entry:
        """A message not even downloaded (too large): written down finished, to be flagged."""
        await self.db.execute(
            """INSERT OR IGNORE INTO mail_messages (mailbox, uidvalidity, uid, message_id, sender, subject,
                   status, reason, received_at, done_at)
               VALUES (?, ?, ?, ?, ?, ?, 'rejected', ?, ?, ?)""",
            (
                ref.mailbox,
                ref.uidvalidity,
                ref.uid,
                message_id,
                sender,
                subject[:300],
                reason,
                iso(utcnow()),
                iso(utcnow()),
            ),
        )
        entry = await self.get(ref)
        assert entry is not None
        return entry

    async def error(self, entry: Entry, error: str) -> None:
        await self.db.execute("UPDATE mail_messages SET last_error = ? WHERE id = ?", (error[:500], entry.id))

    async def storage_trouble(self, entry: Entry) -> None:
        """The disk or database failed, not the message: that attempt does not count."""
        await self.db.execute(
            "UPDATE mail_messages SET attempts = MAX(0, attempts - 1) WHERE id = ? AND status = 'processing'",
            (entry.id,),
        )

    async def unfinished(self, mailbox: str, uidvalidity: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT uid FROM mail_messages WHERE mailbox = ? AND uidvalidity = ? AND status = 'processing' "
            "ORDER BY uid",
            (mailbox, uidvalidity),
        )
        return [int(r["uid"]) for r in rows]

    async def unflagged(self, mailbox: str, uidvalidity: int) -> list[int]:
        """Finished ('failed' and 'quarantined' ones excepted: they stay unread on the server for a person
        to look at)."""
        rows = await self.db.fetchall(
            "SELECT uid FROM mail_messages WHERE mailbox = ? AND uidvalidity = ? "
            "AND status IN ('done', 'rejected') AND flagged_at IS NULL ORDER BY uid",
            (mailbox, uidvalidity),
        )
        return [int(r["uid"]) for r in rows]

    async def known(self, mailbox: str, uidvalidity: int, uids: Sequence[int]) -> dict[int, Entry]:
        if not uids:
            return {}
        found: dict[int, Entry] = {}
        for start in range(0, len(uids), 500):  # SQLite's limit on bound parameters
            chunk = list(uids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = await self.db.fetchall(
                f"SELECT id, uid, status, attempts, flagged_at FROM mail_messages "
                f"WHERE mailbox = ? AND uidvalidity = ? AND uid IN ({marks})",
                (mailbox, uidvalidity, *chunk),
            )
            for r in rows:
                found[int(r["uid"])] = Entry(r["id"], r["status"], r["attempts"], r["flagged_at"] is not None)
        return found

    async def high_water(self, mailbox: str, uidvalidity: int) -> int | None:
        value = await self.db.scalar(
            "SELECT MAX(uid) FROM mail_messages WHERE mailbox = ? AND uidvalidity = ?", (mailbox, uidvalidity)
        )
        return int(value) if value is not None else None

    async def flagged(self, mailbox: str, uidvalidity: int, uids: Sequence[int]) -> None:
        now = iso(utcnow())
        for uid in uids:
            await self.db.execute(
                "UPDATE mail_messages SET flagged_at = ? WHERE mailbox = ? AND uidvalidity = ? AND uid = ?",
                (now, mailbox, uidvalidity, uid),
            )

    async def supersede(self, mailbox: str, uidvalidity: int) -> int:
        """The server renumbered the folder (a new UIDVALIDITY): old unfinished rows cannot be fetched by
        UID any more; their messages come back under new UIDs and are handled afresh (Message-ID and
        SHA-256 keep that free of duplicates)."""
        cur = await self.db.execute(
            "UPDATE mail_messages SET status = 'failed', reason = 'uidvalidity changed', done_at = ? "
            "WHERE mailbox = ? AND uidvalidity != ? AND status = 'processing'",
            (iso(utcnow()), mailbox, uidvalidity),
        )
        return int(cur.rowcount)
