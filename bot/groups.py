"""Coordinator group chats: registration and per-group settings."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

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

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Groups:
    def __init__(self, db: Database, default_zone: str) -> None:
        self.db = db
        self.default_zone = default_zone

    async def register(self, chat_id: int, title: str, language: str) -> Group:
        await self.db.execute(
            """INSERT INTO groups (chat_id, title, language, timezone, created_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, active = 1""",
            (chat_id, title, language, self.default_zone, iso(utcnow())),
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
        )

    async def active(self) -> list[Group]:
        rows = await self.db.fetchall("SELECT chat_id FROM groups WHERE active = 1 ORDER BY chat_id")
        return [g for r in rows if (g := await self.get(r["chat_id"])) is not None]

    async def update(self, chat_id: int, **fields: object) -> None:
        allowed = {"language", "timezone", "trusted", "summary_weekday", "summary_hour", "active", "title"}
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
