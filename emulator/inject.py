"""What people do in Telegram, turned into Updates for the bot: messages, edits, button presses."""

from __future__ import annotations

import copy
import itertools
import time
from typing import Any

from .markup import callback_data_of
from .state import World
from .textfmt import auto_entities
from .users import EmulatedUser, channel_chat, forward_origin, group_chat

_QUERY_IDS = itertools.count(4_382_001_000_000_000_001)
_MEDIA_GROUP_IDS = itertools.count(13_600_000_000_000_001)


class UserInputMixin:
    """Injection half of BotApiEmulator; expects `_world` to be set by the subclass."""

    _world: World

    # --- people and chats ---------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Ranger",
        username: str | None = None,
        language_code: str | None = "en",
        last_name: str | None = None,
        *,
        started: bool = True,
    ) -> EmulatedUser:
        """started=False: someone who never opened the bot; sends to them get 403 until they write to it."""
        user = EmulatedUser(user_id, first_name, username, language_code, last_name)
        self._world.users[user_id] = user.to_dict()
        self._world.register_chat(user.chat)
        if not started:
            self._world.not_started.add(user_id)
        return user

    def group(
        self,
        chat_id: int | None = None,
        title: str = "Rangers",
        *,
        supergroup: bool = True,
        username: str | None = None,
        bot_member: bool = True,
        forum: bool = False,
    ) -> dict[str, Any]:
        """forum=True: a supergroup with topics (General plus those emu.create_topic makes)."""
        chat = group_chat(chat_id, title, supergroup=supergroup or forum, username=username)
        if forum:
            chat["is_forum"] = True
            self._world.topics[chat["id"]] = {}
        return self._world.register_chat(chat, bot_member=bot_member)

    def channel(
        self, chat_id: int | None = None, title: str = "Patrol log", *, username: str | None = None
    ) -> dict[str, Any]:
        return self._world.register_chat(channel_chat(chat_id, title, username))

    # --- plumbing -----------------------------------------------------------------------------

    def _chat(self, user: EmulatedUser, chat: dict[str, Any] | None) -> dict[str, Any]:
        world = self._world
        world.users.setdefault(user.id, user.to_dict())
        chat = chat or user.chat
        if chat["id"] not in world.chats:
            world.register_chat(chat)
        return world.chats[chat["id"]]

    async def _post(
        self,
        user: EmulatedUser,
        chat: dict[str, Any] | None,
        content: dict[str, Any],
        *,
        date: int | None = None,
        forward_date: int | None = None,
        forward_from: EmulatedUser | dict[str, Any] | None = None,
        reply_to_message_id: int | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        world = self._world
        target = self._chat(user, chat)
        if target["type"] == "private":
            world.not_started.discard(user.id)  # writing to a bot opens the chat for its replies
        message = world.new_message(target, user.to_dict(), date)
        if thread_id is not None:
            self._place_in_topic(message, thread_id)
        if forward_date is not None:
            message["forward_origin"] = forward_origin(int(forward_date), forward_from or user)
        if reply_to_message_id is not None:
            replied = world.reply_copy(target["id"], reply_to_message_id)
            if replied is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {target['id']} to reply to")
            message["reply_to_message"] = replied
        message.update(content)
        stored = world.store(message)
        if self._world.visible_to_bot(message):
            await world.push_update("message", message)
        return stored

    def _place_in_topic(self, message: dict[str, Any], thread_id: int) -> None:
        """A message in a forum topic: Telegram marks it and makes it a reply to the topic's first message."""
        world = self._world
        chat_id = message["chat"]["id"]
        if thread_id not in world.topics.get(chat_id, {}):
            raise ValueError(f"chat {chat_id} has no topic {thread_id}; create it with emu.create_topic()")
        message["message_thread_id"] = thread_id
        message["is_topic_message"] = True
        created = world.reply_copy(chat_id, thread_id)
        if created is not None:
            message["reply_to_message"] = created

    def _own_message(self, user: EmulatedUser, message: dict[str, Any]) -> dict[str, Any]:
        current = self._world.find(message["chat"]["id"], message["message_id"])
        if current is None or current.get("from", {}).get("id") != user.id:
            raise ValueError(f"message {message['message_id']} was not sent by user {user.id}")
        return current

    async def _edited(self, message: dict[str, Any], date: int | None) -> dict[str, Any]:
        message["edit_date"] = self._world.now() if date is None else int(date)
        if self._world.visible_to_bot(message):
            await self._world.push_update("edited_message", message)
        return copy.deepcopy(message)

    @staticmethod
    def _caption(caption: str | None) -> dict[str, Any]:
        if not caption:
            return {}
        entities = auto_entities(caption)
        return {"caption": caption, **({"caption_entities": entities} if entities else {})}

    # --- what a person can do -----------------------------------------------------------------

    async def send_text(
        self,
        user: EmulatedUser,
        text: str,
        chat: dict[str, Any] | None = None,
        *,
        forward_date: int | None = None,
        forward_from: EmulatedUser | dict[str, Any] | None = None,
        reply_to_message_id: int | None = None,
        date: int | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """thread_id: the forum topic the text is written in (see emu.create_topic)."""
        entities = auto_entities(text)
        content: dict[str, Any] = {"text": text, **({"entities": entities} if entities else {})}
        return await self._post(
            user,
            chat,
            content,
            date=date,
            forward_date=forward_date,
            forward_from=forward_from,
            reply_to_message_id=reply_to_message_id,
            thread_id=thread_id,
        )

    async def send_photo(
        self,
        user: EmulatedUser,
        image_bytes: bytes,
        caption: str | None = None,
        chat: dict[str, Any] | None = None,
        media_group_id: str | None = None,
        forward_date: int | None = None,
        *,
        forward_from: EmulatedUser | dict[str, Any] | None = None,
        reply_to_message_id: int | None = None,
        date: int | None = None,
    ) -> dict[str, Any]:
        files = self._world.files
        photo = files.add_photo(image_bytes) or files.add_opaque_photo(image_bytes)
        content: dict[str, Any] = {"photo": photo}
        if media_group_id is not None:
            content["media_group_id"] = str(media_group_id)
        content.update(self._caption(caption))
        return await self._post(
            user,
            chat,
            content,
            date=date,
            forward_date=forward_date,
            forward_from=forward_from,
            reply_to_message_id=reply_to_message_id,
        )

    async def send_album(
        self,
        user: EmulatedUser,
        images: list[bytes],
        caption: str | None = None,
        chat: dict[str, Any] | None = None,
        *,
        date: int | None = None,
    ) -> list[dict[str, Any]]:
        """Several photos sent at once: one message each, sharing a media_group_id; caption on the first."""
        group_id = str(next(_MEDIA_GROUP_IDS))
        return [
            await self.send_photo(user, data, caption if i == 0 else None, chat, group_id, date=date)
            for i, data in enumerate(images)
        ]

    async def send_document(
        self,
        user: EmulatedUser,
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        chat: dict[str, Any] | None = None,
        media_group_id: str | None = None,
        *,
        forward_date: int | None = None,
        date: int | None = None,
    ) -> dict[str, Any]:
        content: dict[str, Any] = {"document": self._world.files.add_document(data, file_name, mime_type)}
        if media_group_id is not None:
            content["media_group_id"] = str(media_group_id)
        content.update(self._caption(caption))
        return await self._post(user, chat, content, date=date, forward_date=forward_date)

    async def send_location(
        self,
        user: EmulatedUser,
        lat: float,
        lon: float,
        chat: dict[str, Any] | None = None,
        live_period: int | None = None,
        horizontal_accuracy: float | None = None,
        *,
        reply_to_message_id: int | None = None,
        date: int | None = None,
    ) -> dict[str, Any]:
        """A pin (or a live location, with live_period). reply_to_message_id: sent as a reply to that
        message of the chat (the user's photo, the bot's receipt): the update then carries a copy of it
        in `reply_to_message`, as Telegram does, which is how a user says which message they mean."""
        location: dict[str, Any] = {"latitude": float(lat), "longitude": float(lon)}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = float(horizontal_accuracy)
        if live_period is not None:
            location["live_period"] = int(live_period)
        return await self._post(
            user, chat, {"location": location}, date=date, reply_to_message_id=reply_to_message_id
        )

    async def edit_live_location(
        self,
        user: EmulatedUser,
        message: dict[str, Any],
        lat: float,
        lon: float,
        *,
        heading: int | None = None,
        horizontal_accuracy: float | None = None,
        date: int | None = None,
    ) -> dict[str, Any]:
        current = self._own_message(user, message)
        old = current.get("location", {})
        if "live_period" not in old:
            raise ValueError("only live locations (send_location(..., live_period=N)) can be edited")
        location: dict[str, Any] = {
            "latitude": float(lat),
            "longitude": float(lon),
            "live_period": old["live_period"],
        }
        if heading is not None:
            location["heading"] = int(heading)
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = float(horizontal_accuracy)
        current["location"] = location
        return await self._edited(current, date)

    async def send_venue(
        self,
        user: EmulatedUser,
        lat: float,
        lon: float,
        title: str,
        address: str,
        chat: dict[str, Any] | None = None,
        *,
        reply_to_message_id: int | None = None,
        date: int | None = None,
    ) -> dict[str, Any]:
        """A venue (a place picked from the map's list); a reply as for send_location."""
        location = {"latitude": float(lat), "longitude": float(lon)}
        venue = {"location": location, "title": title, "address": address}
        content = {"venue": venue, "location": dict(location)}
        return await self._post(user, chat, content, date=date, reply_to_message_id=reply_to_message_id)

    async def edit_text(
        self, user: EmulatedUser, message: dict[str, Any], new_text: str, *, date: int | None = None
    ) -> dict[str, Any]:
        current = self._own_message(user, message)
        if "text" not in current:
            raise ValueError("only text messages can be edited with edit_text")
        current["text"] = new_text
        current.pop("entities", None)
        if entities := auto_entities(new_text):
            current["entities"] = entities
        return await self._edited(current, date)

    async def press_button(
        self, user: EmulatedUser, message: dict[str, Any], callback_data: str, *, check: bool = True
    ) -> dict[str, Any]:
        """Press an inline button; returns the CallbackQuery. check=False allows stale/removed buttons."""
        world = self._world
        chat_id, message_id = message["chat"]["id"], message["message_id"]
        current = world.find(chat_id, message_id)
        if check:
            offered = callback_data_of(current.get("reply_markup") if current else None)
            if callback_data not in offered:
                raise ValueError(
                    f"message {message_id} in chat {chat_id} has no button with callback_data "
                    f"{callback_data!r}; buttons now: {offered}"
                )
        self._chat(user, message["chat"])
        source = current or {k: v for k, v in message.items() if k != "method"}
        query: dict[str, Any] = {
            "id": str(next(_QUERY_IDS)),
            "from": user.to_dict(),
            "message": copy.deepcopy(source),
            "chat_instance": str(abs(chat_id) * 7919 + 4_000_000_000_000),
            "data": callback_data,
        }
        world.callback_queries[query["id"]] = query
        world.callback_born[query["id"]] = time.monotonic()
        await world.push_update("callback_query", query)
        return copy.deepcopy(query)

    async def add_bot_to_group(
        self, user: EmulatedUser, chat: dict[str, Any], *, date: int | None = None
    ) -> dict[str, Any]:
        world = self._world
        target = self._chat(user, chat)
        world.bot_chats.add(target["id"])
        world.blocked.discard(target["id"])
        when = world.now() if date is None else int(date)
        bot = world.bot_user
        # Telegram sends my_chat_member first, then the service message.
        await world.push_update(
            "my_chat_member",
            {
                "chat": dict(target),
                "from": user.to_dict(),
                "date": when,
                "old_chat_member": {"user": dict(bot), "status": "left"},
                "new_chat_member": {"user": dict(bot), "status": "member"},
            },
        )
        # Telegram also sends the legacy new_chat_participant/new_chat_member; the spec does not name them.
        service = {"new_chat_members": [dict(bot)]}
        return await self._post(user, target, service, date=when)

    async def channel_post(
        self, chat: dict[str, Any], text: str, *, date: int | None = None
    ) -> dict[str, Any]:
        world = self._world
        target = world.chats.get(chat["id"]) or world.register_chat(chat)
        message = world.new_message(target, None, date)
        message["sender_chat"] = dict(target)
        message["text"] = text
        if entities := auto_entities(text):
            message["entities"] = entities
        stored = world.store(message)
        if self._world.visible_to_bot(message):
            await world.push_update("channel_post", message)
        return stored

    async def enqueue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Raw escape hatch for update types without a helper (chat_member, message_reaction, ...)."""
        return await self._world.push_update(kind, payload)
