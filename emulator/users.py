"""Emulated people: the user object and the chats a test creates."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

_GROUP_IDS = itertools.count(1_234_567_001)


@dataclass(frozen=True)
class EmulatedUser:
    """A Telegram account that a test drives; its private chat with the bot has the same id."""

    id: int
    first_name: str = "Ranger"
    username: str | None = None
    language_code: str | None = "en"
    last_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        chat["type"] = "private"
        return chat


def group_chat(chat_id: int | None, title: str, *, supergroup: bool, username: str | None) -> dict[str, Any]:
    if chat_id is None:
        # Supergroup ids are -100 followed by the channel id; basic groups are plain negatives.
        n = next(_GROUP_IDS)
        chat_id = -(10**12 + n) if supergroup else -(n % 10**9)
    chat: dict[str, Any] = {"id": chat_id, "title": title}
    if username:
        chat["username"] = username
    chat["type"] = "supergroup" if supergroup else "group"
    return chat


def channel_chat(chat_id: int | None, title: str, username: str | None) -> dict[str, Any]:
    chat = group_chat(chat_id, title, supergroup=True, username=username)
    chat["type"] = "channel"
    return chat


def forward_origin(date: int, source: EmulatedUser | dict[str, Any]) -> dict[str, Any]:
    """MessageOrigin (Bot API 7.0+): forwarded messages no longer carry forward_from/forward_date."""
    if isinstance(source, EmulatedUser):
        return {"type": "user", "date": date, "sender_user": source.to_dict()}
    if source.get("type") == "channel":
        return {"type": "channel", "date": date, "chat": dict(source), "message_id": 1}
    if "is_bot" in source:
        return {"type": "user", "date": date, "sender_user": dict(source)}
    return {"type": "chat", "date": date, "sender_chat": dict(source)}
