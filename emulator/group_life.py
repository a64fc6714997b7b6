"""What happens to real groups, as test helpers: upgrades to supergroups, forum topics, anonymous
admins, the bot kicked or muted, chats that vanish, buttons pressed too long ago.

Each helper changes the emulated world the way Telegram does and pushes the updates Telegram would
push (service messages, my_chat_member); the Bot API methods then answer as Telegram answers
(400 with migrate_to_chat_id, TOPIC_CLOSED, "message thread not found", "not enough rights to send
photos to the chat", "chat not found", 403 "bot was kicked ...").
"""

from __future__ import annotations

import itertools
from typing import Any

from .inject_media import MediaInputMixin
from .textfmt import auto_entities
from .users import EmulatedUser, group_chat

# The account Telegram shows as the sender of an anonymous admin's messages.
GROUP_ANONYMOUS_BOT: dict[str, Any] = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
_OTHER_BOT_IDS = itertools.count(5_550_000_001)


class GroupLifeMixin(MediaInputMixin):
    # --- supergroup migration -----------------------------------------------------------------

    async def migrate_group(
        self, chat: dict[str, Any], by: EmulatedUser | None = None, *, announce: bool = True
    ) -> dict[str, Any]:
        """Upgrade a basic group to a supergroup (history made visible, a public link, topics or 200
        members do it). The old chat gets migrate_to_chat_id, the new one migrate_from_chat_id; sends
        to the old id then answer 400 with parameters.migrate_to_chat_id. Returns the new chat.
        announce=False leaves out the two service messages: the bot then learns of the move only from
        the 400, as when it was offline for longer than Telegram keeps updates (24 h)."""
        world = self._world
        old = world.chats[chat["id"]]
        if old["type"] != "group":
            raise ValueError("only basic groups migrate; supergroups already have their final id")
        new = group_chat(None, old.get("title", ""), supergroup=True, username=old.get("username"))
        world.register_chat(new, bot_member=old["id"] in world.bot_chats)
        for (chat_id, user_id), member in list(world.members.items()):
            if chat_id == old["id"]:
                world.members[(new["id"], user_id)] = dict(member)
        sender = by.to_dict() if by else None
        first = world.new_message(old, sender, None)
        first["migrate_to_chat_id"] = new["id"]
        world.store(first)
        if announce and world.visible_to_bot(first):
            await world.push_update("message", first)
        world.migrated[old["id"]] = new["id"]
        world.bot_chats.discard(old["id"])
        second = world.new_message(new, sender, None)
        second["migrate_from_chat_id"] = old["id"]
        world.store(second)
        if announce and world.visible_to_bot(second):
            await world.push_update("message", second)
        return dict(new)

    # --- forum topics -------------------------------------------------------------------------

    async def create_topic(self, chat: dict[str, Any], name: str, by: EmulatedUser) -> int:
        """A new topic in a forum; returns its message_thread_id (the id of its service message)."""
        world = self._world
        target = world.chats[chat["id"]]
        if not target.get("is_forum"):
            raise ValueError("topics exist only in forums: emu.group(..., forum=True)")
        message = world.new_message(target, by.to_dict(), None)
        thread_id = message["message_id"]
        message.update(
            {
                "message_thread_id": thread_id,
                "is_topic_message": True,
                "forum_topic_created": {"name": name, "icon_color": 7322096},
            }
        )
        topics = world.topics.setdefault(target["id"], {})
        topics[thread_id] = {"name": name, "closed": False, "deleted": False}
        world.store(message)
        if world.visible_to_bot(message):
            await world.push_update("message", message)
        return int(thread_id)

    def close_topic(self, chat: dict[str, Any], thread_id: int) -> None:
        """Closed topics refuse new messages from the bot: 400 TOPIC_CLOSED."""
        self._topic(chat, thread_id)["closed"] = True

    def reopen_topic(self, chat: dict[str, Any], thread_id: int) -> None:
        self._topic(chat, thread_id)["closed"] = False

    def delete_topic(self, chat: dict[str, Any], thread_id: int) -> None:
        """A deleted topic: 400 "message thread not found"."""
        self._topic(chat, thread_id)["deleted"] = True

    def close_general(self, chat: dict[str, Any]) -> None:
        """General closed: messages without message_thread_id get 400 TOPIC_CLOSED."""
        self._world.general_closed.add(chat["id"])

    def reopen_general(self, chat: dict[str, Any]) -> None:
        self._world.general_closed.discard(chat["id"])

    def _topic(self, chat: dict[str, Any], thread_id: int) -> dict[str, Any]:
        topic = self._world.topics.get(chat["id"], {}).get(thread_id)
        if topic is None:
            raise ValueError(f"chat {chat['id']} has no topic {thread_id}")
        return topic

    # --- who speaks ---------------------------------------------------------------------------

    async def send_as_anonymous_admin(
        self, chat: dict[str, Any], text: str, *, thread_id: int | None = None
    ) -> dict[str, Any]:
        """An admin with "Remain anonymous" on: from is GroupAnonymousBot, sender_chat the group itself."""
        world = self._world
        target = world.chats[chat["id"]]
        message = world.new_message(target, GROUP_ANONYMOUS_BOT, None)
        message["sender_chat"] = dict(target)
        if thread_id is not None:
            self._place_in_topic(message, thread_id)
        message["text"] = text
        if entities := auto_entities(text):
            message["entities"] = entities
        world.store(message)
        if world.visible_to_bot(message):
            await world.push_update("message", message)
        return dict(message)

    def other_bot_posts(self, chat: dict[str, Any]) -> None:
        """Another bot posted last: with privacy mode on, bare /commands no longer reach our bot
        (only /command@our_bot does), as Telegram decides."""
        self._world.last_bot[chat["id"]] = next(_OTHER_BOT_IDS)

    # --- the bot's membership and rights --------------------------------------------------------

    async def kick_bot(self, chat: dict[str, Any], by: EmulatedUser) -> None:
        """Remove the bot from a group: my_chat_member (kicked), then 403 for every send there."""
        world = self._world
        target = world.chats[chat["id"]]
        world.bot_chats.discard(target["id"])
        world.blocked.add(target["id"])
        bot = dict(world.bot_user)
        await world.push_update(
            "my_chat_member",
            {
                "chat": dict(target),
                "from": by.to_dict(),
                "date": world.now(),
                "old_chat_member": {"user": bot, "status": "member"},
                "new_chat_member": {"user": bot, "status": "kicked", "until_date": 0},
            },
        )

    def delete_chat(self, chat: dict[str, Any]) -> None:
        """The group is gone (deleted by its owner): every method answers 400 "chat not found"."""
        world = self._world
        world.chats.pop(chat["id"], None)
        world.bot_chats.discard(chat["id"])

    def restrict_bot(
        self, chat: dict[str, Any], *, photos: bool = True, documents: bool = True, text: bool = True
    ) -> None:
        """What the bot may send in a group (False = forbidden), as an admin's restrictions set it."""
        denied = {name for name, allowed in (("photos", photos), ("documents", documents)) if not allowed}
        if not text:
            denied.add("text messages")
        self._world.restricted[chat["id"]] = denied

    # --- buttons ------------------------------------------------------------------------------

    def expire_callbacks(self) -> None:
        """Every button press so far is too old to answer (Telegram allows a few seconds)."""
        self._world.expired_callbacks.update(self._world.callback_queries)

    def set_callback_ttl(self, seconds: float) -> None:
        self._world.callback_ttl = seconds
