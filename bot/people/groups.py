"""Coordinator group chats: registration and per-group settings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.people.notices import queue_admin_notice
from storage.db import Database, iso, utcnow


@dataclass(frozen=True)
class Group:
    chat_id: int
    title: str
    language: str
    timezone: str
    trusted: bool
    all_areas: bool
    areas: tuple[str, ...]
    active: bool
    thread_id: int | None = None  # forum topic the group was registered in; None = General
    muted_since: str | None = None  # the bot may not send messages there since then (restricted)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def follows(self, area: str | None) -> bool:
        """Whether the group hears of things in `area` (bot.places.areas). Unknown area (None): yes, the
        same rule the alerts use (bot.alerts.routing.routed_groups), so a summary counts what was alerted."""
        return self.all_areas or area is None or area in self.areas


class Groups:
    def __init__(self, db: Database, default_zone: str) -> None:
        self.db = db
        self.default_zone = default_zone

    async def register(self, chat_id: int, title: str, language: str, thread_id: int | None = None) -> Group:
        """Register (or re-register) a group; a /register sent in a forum topic makes it the group's topic."""
        await self.db.execute(
            """INSERT INTO groups (chat_id, title, language, timezone, thread_id, created_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, active = 1,
                   inactive_reason = NULL, thread_id = excluded.thread_id""",
            (chat_id, title, language, self.default_zone, thread_id, iso(utcnow())),
        )
        group = await self.get(chat_id)
        assert group is not None
        return group

    async def get(self, chat_id: int) -> Group | None:
        row = await self.db.fetchone("SELECT * FROM groups WHERE chat_id = ?", (chat_id,))
        if row is None:
            return None
        areas = await self.db.fetchall(
            "SELECT area FROM group_areas WHERE chat_id = ? ORDER BY area", (chat_id,)
        )
        return Group(
            row["chat_id"],
            row["title"],
            row["language"],
            row["timezone"],
            bool(row["trusted"]),
            bool(row["all_areas"]),
            tuple(a["area"] for a in areas),
            bool(row["active"]),
            row["thread_id"],
            row["muted_since"],
        )

    async def active(self) -> list[Group]:
        rows = await self.db.fetchall("SELECT chat_id FROM groups WHERE active = 1 ORDER BY chat_id")
        return [g for r in rows if (g := await self.get(r["chat_id"])) is not None]

    async def summary_spec(self, chat_id: int, weekday: int, hour: int) -> tuple[int, int, str] | None:
        """When an active group's weekly summary is due: (weekday, 0 = Monday; hour; time zone), its own
        /settings where it set them, else the given weekday and hour and the default zone. None for a
        group that is not registered or no longer active."""
        row = await self.db.fetchone(
            "SELECT timezone, summary_weekday, summary_hour FROM groups WHERE chat_id = ? AND active = 1",
            (chat_id,),
        )
        if row is None:
            return None
        day = row["summary_weekday"] if row["summary_weekday"] is not None else weekday
        at = row["summary_hour"] if row["summary_hour"] is not None else hour
        return int(day), int(at), row["timezone"] or self.default_zone

    async def update(self, chat_id: int, **fields: object) -> None:
        allowed = {
            "language", "timezone", "trusted", "summary_weekday", "summary_hour", "active", "title",
            "thread_id",
        }  # fmt: skip
        for key, value in fields.items():
            if key not in allowed:
                raise ValueError(key)
            await self.db.execute(f"UPDATE groups SET {key} = ? WHERE chat_id = ?", (value, chat_id))

    async def set_areas(self, chat_id: int, areas: list[str] | None) -> None:
        """None subscribes the group to every area."""
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM group_areas WHERE chat_id = ?", (chat_id,))
            await conn.execute(
                "UPDATE groups SET all_areas = ? WHERE chat_id = ?", (int(areas is None), chat_id)
            )
            for area in areas or []:
                await conn.execute(
                    "INSERT OR IGNORE INTO areas (code, name) VALUES (?, ?)", (area.upper(), area)
                )
                await conn.execute(
                    "INSERT OR IGNORE INTO group_areas (chat_id, area) VALUES (?, ?)", (chat_id, area.upper())
                )

    async def deactivate(self, chat_id: int, reason: str) -> bool:
        """Stop writing to a group (kicked, deleted, not found); True only for the call that stopped it,
        so the admins are told once however many alerts were in flight."""
        cur = await self.db.execute(
            "UPDATE groups SET active = 0, inactive_reason = ? WHERE chat_id = ? AND active = 1",
            (reason, chat_id),
        )
        return cur.rowcount > 0

    async def set_muted(self, chat_id: int, muted: bool, *, why: str, tell: Iterable[int]) -> bool:
        """The bot may not (muted) or may again send messages in a registered group; the admins in `tell`
        are told once per change, in the same transaction. True only for the call that changed it, so
        many alerts and summary parts meeting one mute tell once."""
        now = iso(utcnow())
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT title, muted_since FROM groups WHERE chat_id = ? AND active = 1", (chat_id,)
            )
            row = await cur.fetchone()
            if row is None or (row["muted_since"] is not None) == muted:
                return False
            await conn.execute(
                "UPDATE groups SET muted_since = ? WHERE chat_id = ?", (now if muted else None, chat_id)
            )
            since = now if muted else row["muted_since"]
            name = f"{row['title']} ({chat_id})"
            text = (
                f"The bot may not send messages in group {name} ({why}). Its alerts and summaries wait "
                "there, in order, and go out as soon as an admin of the group lets the bot send again."
                if muted
                else f"The bot may send messages in group {name} again ({why}); the alerts and summaries "
                "that waited go out now, in order."
            )
            key = f"{'muted' if muted else 'unmuted'}:{chat_id}:{since}"
            await queue_admin_notice(conn, tell, text, dedup_key=key)
        return True

    async def migrate(self, old_id: int, new_id: int) -> bool:
        """A basic group became a supergroup with a new id: move its registration, trust, areas,
        settings, summary records and alerts there, in one transaction. A row already made for the
        new id (someone sent /register there first) gives way to the old one, whose settings the
        coordinators chose. False when there was nothing to move (already migrated, or never registered)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("SELECT 1 FROM groups WHERE chat_id = ?", (old_id,))
            if await cur.fetchone() is None:
                return False
            await conn.execute("DELETE FROM groups WHERE chat_id = ?", (new_id,))
            await conn.execute(
                """INSERT INTO groups (chat_id, title, language, timezone, trusted, all_areas, active,
                       summary_weekday, summary_hour, created_at, thread_id, inactive_reason)
                   SELECT ?, title, language, timezone, trusted, all_areas, 1,
                       summary_weekday, summary_hour, created_at, NULL, NULL
                   FROM groups WHERE chat_id = ?""",
                (new_id, old_id),
            )
            # role_grants too: a coordinator made in the basic group loses it on leaving the supergroup.
            for table in ("group_areas", "summary_log", "summary_parts", "role_grants"):
                await conn.execute(f"UPDATE {table} SET chat_id = ? WHERE chat_id = ?", (new_id, old_id))
            # An event alerted to both ids (the new one registered before the move) keeps the new copy.
            await conn.execute(
                "DELETE FROM outbox WHERE chat_id = ? AND event_id IN "
                "(SELECT event_id FROM outbox WHERE chat_id = ? AND kind = 'alert')",
                (old_id, new_id),
            )
            # Pending alerts go to the new id at once; sent ones keep their message ids, so the
            # buttons under them (now in the supergroup's history) still find their event.
            await conn.execute(
                "UPDATE outbox SET chat_id = ?, next_attempt_at = ? WHERE chat_id = ?",
                (new_id, iso(utcnow()), old_id),
            )
            await conn.execute("DELETE FROM groups WHERE chat_id = ?", (old_id,))
        return True
