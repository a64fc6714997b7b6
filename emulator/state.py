"""The emulated Telegram world: chats, messages, the update queue and injected failures.

Everything runs on one event loop, so plain dicts are safe; only getUpdates waits, on a Condition.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, bad_request, forbidden
from .files import FileStore

# What Telegram delivers when allowed_updates was never set (or set to []).
_DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_SEND_PREFIXES = ("send", "edit", "copy", "forward")
# Service messages reach every member bot, privacy mode or not.
SERVICE_KEYS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "group_chat_created",
        "supergroup_chat_created",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "forum_topic_created",
        "forum_topic_closed",
        "forum_topic_reopened",
        "pinned_message",
    }
)


@dataclass
class FailRule:
    method: str  # lower-case Bot API method name, or "*"
    code: int
    chat_id: int | None
    retry_after: int | None
    description: str | None
    times: int


@dataclass
class SentRecord:
    method: str
    chat_id: int
    message_id: int
    # Raw markup as sent: reply keyboards are not echoed in Message objects but tests still assert them.
    markup: dict[str, Any] | None


def inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    return markup if markup and "inline_keyboard" in markup else None


class World:
    def __init__(self, token: str, bot_username: str, bot_name: str, group_privacy: bool) -> None:
        bot_id = token.split(":", 1)[0]
        self.token = token
        self.group_privacy = group_privacy
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id) if bot_id.isdigit() else 123456,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.bot_chats: set[int] = set()  # groups/channels the bot is currently in
        self.blocked: set[int] = set()
        self.members: dict[tuple[int, int], dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.sent_records: list[SentRecord] = []
        self._message_ids: dict[int, int] = {}
        self.files = FileStore()
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.failures: list[FailRule] = []
        # Bots upload at most 50 MB per file (sendDocument's docs); more answers 413 with no JSON error
        # text of its own. Tests lower it (emu.limit_uploads) rather than build 50 MB.
        self.upload_limit = 50 * 1024 * 1024
        self.slow: dict[str, list[float]] = {}  # lower-case method -> delays of its next responses
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.webhook_url = ""
        self.allowed_updates: list[str] | None = None
        self.updates: list[dict[str, Any]] = []
        self.acknowledged_update_id = 0
        self._next_update_id = 1
        self.update_cond = asyncio.Condition()
        self.poll_generation = 0
        self.closing = False
        # What real groups do (see emulator/groups.py for the helpers that set these).
        self.migrated: dict[int, int] = {}  # basic group id -> the supergroup it became
        self.topics: dict[int, dict[int, dict[str, Any]]] = {}  # forum id -> thread id -> state
        self.general_closed: set[int] = set()
        self.restricted: dict[int, set[str]] = {}  # chat -> what the bot may not send: photos, ...
        self.not_started: set[int] = set()  # users who never opened the bot's private chat
        self.last_bot: dict[int, int] = {}  # chat -> the bot that posted last (privacy mode)
        self.callback_ttl = 15.0  # seconds Telegram waits for answerCallbackQuery
        self.callback_born: dict[str, float] = {}
        self.expired_callbacks: set[str] = set()

    # --- chats and messages -------------------------------------------------------------------

    @staticmethod
    def now() -> int:
        return int(time.time())

    def register_chat(self, chat: dict[str, Any], *, bot_member: bool = True) -> dict[str, Any]:
        self.chats[chat["id"]] = dict(chat)
        if chat["type"] != "private" and bot_member:
            self.bot_chats.add(chat["id"])
        return dict(chat)

    def resolve_chat(self, value: Any) -> dict[str, Any]:
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str) and value.startswith("@"):
            for chat in self.chats.values():
                if chat.get("username", "").lower() == value[1:].lower():
                    return chat
            raise bad_request("chat not found")
        if isinstance(value, int) and not isinstance(value, bool) and value in self.chats:
            return self.chats[value]
        raise bad_request("chat not found")

    def check_can_send(self, chat: dict[str, Any]) -> None:
        kind = chat["type"]
        if chat["id"] in self.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self.migrated[chat["id"]],
            )
        if chat["id"] in self.blocked:
            if kind == "private":
                raise forbidden("bot was blocked by the user")
            raise forbidden(f"bot was kicked from the {kind} chat")
        if kind == "private" and chat["id"] in self.not_started:
            raise forbidden("bot can't initiate conversation with a user")
        if kind != "private" and chat["id"] not in self.bot_chats:
            raise forbidden(f"bot is not a member of the {kind} chat")

    def check_send_rights(self, chat: dict[str, Any], method: str, params: dict[str, Any]) -> int | None:
        """Topic and media rules for a new message; returns the message_thread_id it goes to."""
        thread = params.get("message_thread_id")
        if thread is not None and (not isinstance(thread, int) or isinstance(thread, bool)):
            raise bad_request("invalid message thread identifier specified")
        topics = self.topics.get(chat["id"]) if chat.get("is_forum") else None
        if thread and topics is not None:
            topic = topics.get(thread)
            if topic is None or topic["deleted"]:
                raise bad_request("message thread not found")
            if topic["closed"]:
                raise bad_request("TOPIC_CLOSED")
        elif thread and chat["type"] != "private":
            # Outside forums a thread is a reply thread: it must be an existing message.
            if self.find(chat["id"], thread) is None:
                raise bad_request("message thread not found")
            thread = None
        elif topics is not None and chat["id"] in self.general_closed:
            raise bad_request("TOPIC_CLOSED")
        denied = self.restricted.get(chat["id"], set())
        needed = {
            "sendmessage": "text messages",
            "sendphoto": "photos",
            "senddocument": "documents",
            "sendvideo": "videos",
            "sendlocation": "text messages",
            "sendvenue": "text messages",
        }.get(method.lower())
        if method.lower() == "sendmediagroup":
            kinds = {item.get("type") for item in params.get("media") or [] if isinstance(item, dict)}
            needed = "documents" if kinds == {"document"} else "photos"
        if needed in denied:
            raise bad_request(f"not enough rights to send {needed} to the chat")
        return thread if topics is not None else None

    def next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def new_message(
        self, chat: dict[str, Any], sender: dict[str, Any] | None, date: int | None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"message_id": self.next_message_id(chat["id"])}
        if sender is not None:
            message["from"] = dict(sender)
        message["chat"] = dict(chat)
        message["date"] = self.now() if date is None else int(date)
        return message

    def store(self, message: dict[str, Any]) -> dict[str, Any]:
        self.messages[(message["chat"]["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def find(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        return self.messages.get((chat_id, message_id))

    def reply_copy(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        target = self.find(chat_id, message_id)
        if target is None:
            return None
        # Telegram never nests replies more than one level deep.
        return {k: copy.deepcopy(v) for k, v in target.items() if k != "reply_to_message"}

    def record_sent(self, method: str, message: dict[str, Any], markup: dict[str, Any] | None) -> None:
        self.last_bot[message["chat"]["id"]] = self.bot_user["id"]
        self.sent_records.append(SentRecord(method, message["chat"]["id"], message["message_id"], markup))

    def record_for(self, chat_id: int, message_id: int) -> SentRecord | None:
        for record in self.sent_records:
            if record.chat_id == chat_id and record.message_id == message_id:
                return record
        return None

    def sent_view(self, record: SentRecord) -> dict[str, Any]:
        view = copy.deepcopy(self.messages[(record.chat_id, record.message_id)])
        view["method"] = record.method
        if record.markup is not None:
            view["reply_markup"] = copy.deepcopy(record.markup)
        return view

    def delete(self, chat_id: int, message_id: int) -> bool:
        if self.messages.pop((chat_id, message_id), None) is None:
            return False
        self.sent_records = [
            r for r in self.sent_records if (r.chat_id, r.message_id) != (chat_id, message_id)
        ]
        return True

    def visible_to_bot(self, message: dict[str, Any]) -> bool:
        """Telegram only delivers group messages to member bots, and with privacy mode only some."""
        chat = message["chat"]
        if chat["type"] == "private":
            return True
        if chat["id"] not in self.bot_chats:
            return False
        if chat["type"] == "channel" or not self.group_privacy:
            return True
        bot_status = self.members.get((chat["id"], self.bot_user["id"]), {}).get("status")
        if bot_status in {"administrator", "creator"}:
            return True
        # Entity offsets count UTF-16 code units, so slice the UTF-16 encoding rather than the str.
        encoded = (message.get("text") or message.get("caption") or "").encode("utf-16-le")
        name = "@" + self.bot_user["username"].lower()
        for entity in message.get("entities") or message.get("caption_entities") or []:
            start = entity["offset"] * 2
            token = encoded[start : start + entity["length"] * 2].decode("utf-16-le").lower()
            # A bare /command reaches a privacy-mode bot only if it was the last bot to post there
            # (Telegram's rule); /command@this_bot always does.
            last = self.last_bot.get(chat["id"], self.bot_user["id"])
            bare = "@" not in token and last == self.bot_user["id"]
            if entity["type"] == "bot_command" and (bare or token.endswith(name)):
                return True
            if entity["type"] == "mention" and token == name:
                return True
        replied = message.get("reply_to_message", {}).get("from", {})
        return replied.get("id") == self.bot_user["id"] or any(key in message for key in SERVICE_KEYS)

    # --- updates ------------------------------------------------------------------------------

    async def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, kind: copy.deepcopy(payload)}
        self._next_update_id += 1
        async with self.update_cond:
            self.updates.append(update)
            self.update_cond.notify_all()
        return copy.deepcopy(update)

    def confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            # Negative offsets keep only the newest -offset updates and forget the rest.
            dropped, self.updates = self.updates[:offset], self.updates[offset:]
            if dropped:
                self.acknowledged_update_id = max(self.acknowledged_update_id, dropped[-1]["update_id"])
            return
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        highest = min(offset - 1, self._next_update_id - 1)
        self.acknowledged_update_id = max(self.acknowledged_update_id, highest)

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = next(k for k in update if k != "update_id")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _DEFAULT_EXCLUDED

    def take_deliverable(self, limit: int) -> list[dict[str, Any]]:
        # Updates of types the bot did not ask for are never generated by Telegram, so drop them.
        self.updates = [u for u in self.updates if self._allowed(u)]
        return copy.deepcopy(self.updates[:limit])

    def drop_pending(self) -> None:
        if self.updates:
            self.acknowledged_update_id = max(self.acknowledged_update_id, self.updates[-1]["update_id"])
        self.updates = []

    # --- injected failures and misc -----------------------------------------------------------

    def callback_expired(self, query_id: str) -> bool:
        born = self.callback_born.get(query_id)
        late = born is not None and time.monotonic() - born > self.callback_ttl
        return late or query_id in self.expired_callbacks

    def take_failure(self, method: str, params: dict[str, Any]) -> ApiError | None:
        for rule in self.failures:
            if rule.method not in {"*", method.lower()}:
                continue
            if rule.chat_id is not None and params.get("chat_id") != rule.chat_id:
                continue
            rule.times -= 1
            if rule.times <= 0:
                self.failures.remove(rule)
            return ApiError(rule.code, rule.description, retry_after=rule.retry_after)
        return None

    def take_delay(self, method: str) -> float:
        queue = self.slow.get(method.lower())
        return queue.pop(0) if queue else 0.0

    @staticmethod
    def is_send_method(method: str) -> bool:
        return method.lower().startswith(_SEND_PREFIXES)

    @staticmethod
    def scope_key(scope: dict[str, Any] | None, language_code: str | None) -> str:
        return json.dumps([scope or {"type": "default"}, language_code or ""], sort_keys=True)
