"""Who is in a group, as test helpers: members who leave or are removed, the bot promoted, muted and
allowed again, and messages deleted by people (which a bot is never told of).

Each helper changes the emulated world as Telegram does and pushes what Telegram pushes:

- a member leaving, or removed by an admin: the service message with `left_chat_member` (every member
  bot gets it, privacy mode or not) and, only to a bot that asked for "chat_member" in allowed_updates
  and is an administrator of the group, a `chat_member` update (old status -> "left" or "kicked");
- the bot restricted (can_send_messages false): a `my_chat_member` update with status "restricted",
  after which sends answer 400 "Bad Request: not enough rights to send text messages to the chat" (and
  "... photos ..." / "... documents ...", the texts of tdlib's permission checks that telegram-bot-api
  passes on) and getChatMember shows the restriction; allowed again: `my_chat_member` back to "member";
- a message deleted by a person: no update at all; editing it answers 400 "Bad Request: message to
  edit not found" (emulator/api_edit.py, as an identical edit answers "message is not modified").
"""

from __future__ import annotations

from typing import Any

from .api_misc import member_object
from .state import World
from .users import EmulatedUser

# What the bot may not do once an admin mutes it in the apps ("Send messages" off turns off every kind).
_MUTED_RIGHTS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
)
_GONE = ("left", "kicked")


class MembersMixin:
    """Membership half of BotApiEmulator; expects `_world` to be set by the subclass."""

    _world: World

    # --- people leaving -----------------------------------------------------------------------

    async def member_leaves(
        self, chat: dict[str, Any], user: EmulatedUser, *, announce: bool = True
    ) -> dict[str, Any]:
        """`user` leaves the group by themselves: "X left the group" (from = X) and, where the bot may see
        it, chat_member member -> left. announce=False: no service message, as in a group that hides
        join and leave messages (or a large one); chat_member is then the only sign. Returns the
        service message (stored even when not announced)."""
        return await self._departure(chat, user, by=None, announce=announce)

    async def remove_member(
        self, chat: dict[str, Any], user: EmulatedUser, by: EmulatedUser, *, announce: bool = True
    ) -> dict[str, Any]:
        """An admin removes `user` ("A removed X", from = A). In a supergroup removing is a ban
        (banChatMember): chat_member member -> kicked, until_date 0 (for ever). announce as in
        member_leaves. Returns the service message."""
        return await self._departure(chat, user, by=by, announce=announce)

    async def _departure(
        self, chat: dict[str, Any], user: EmulatedUser, *, by: EmulatedUser | None, announce: bool
    ) -> dict[str, Any]:
        world = self._world
        target = world.chats[chat["id"]]
        world.users.setdefault(user.id, user.to_dict())
        before = world.members.get((target["id"], user.id)) or member_object(user.to_dict(), "member", {})
        if before["status"] in _GONE:
            raise ValueError(f"user {user.id} is not in chat {target['id']}")
        status = "left" if by is None or target["type"] == "group" else "kicked"
        after = member_object(user.to_dict(), status, {})
        world.members[(target["id"], user.id)] = after
        actor = (by or user).to_dict()
        message = world.new_message(target, actor, None)
        message["left_chat_member"] = user.to_dict()
        stored = world.store(message)
        # Telegram posts the service message first, then the membership change.
        if announce and world.visible_to_bot(message):
            await world.push_update("message", message)
        if self._sees_members(target):
            await world.push_update(
                "chat_member",
                {
                    "chat": dict(target),
                    "from": actor,
                    "date": world.now(),
                    "old_chat_member": before,
                    "new_chat_member": after,
                },
            )
        return stored

    def _sees_members(self, chat: dict[str, Any]) -> bool:
        """chat_member updates go only to a member bot that is an administrator there (and only when
        allowed_updates names "chat_member": World.take_deliverable drops them otherwise)."""
        world = self._world
        status = world.members.get((chat["id"], world.bot_user["id"]), {}).get("status")
        return chat["id"] in world.bot_chats and status in ("administrator", "creator")

    # --- the bot's own rights -----------------------------------------------------------------

    async def promote_bot(self, chat: dict[str, Any], by: EmulatedUser) -> None:
        """An admin makes the bot an administrator (it then sees every message and chat_member
        updates): my_chat_member member -> administrator."""
        rights = {"can_manage_chat": True, "can_delete_messages": True, "can_restrict_members": True}
        await self._bot_becomes(chat, by, "administrator", rights)

    async def mute_bot(self, chat: dict[str, Any], by: EmulatedUser) -> None:
        """An admin restricts the bot with every "send" right off (the apps' "Send messages" switch):
        my_chat_member -> restricted, can_send_messages false; every send then answers 400 "not enough
        rights to send ... to the chat". The bot stays a member and still gets the group's updates."""
        denied = {"text messages", "photos", "documents", "videos"}
        self._world.restricted[chat["id"]] = denied
        rights = {"is_member": True, **dict.fromkeys(_MUTED_RIGHTS, False), "until_date": 0}
        await self._bot_becomes(chat, by, "restricted", rights)

    async def unmute_bot(self, chat: dict[str, Any], by: EmulatedUser) -> None:
        """The restriction is lifted: my_chat_member restricted -> member, and sends work again."""
        self._world.restricted.pop(chat["id"], None)
        await self._bot_becomes(chat, by, "member", {})

    async def _bot_becomes(
        self, chat: dict[str, Any], by: EmulatedUser, status: str, fields: dict[str, Any]
    ) -> None:
        world = self._world
        target = world.chats[chat["id"]]
        bot = world.bot_user
        key = (target["id"], bot["id"])
        before = world.members.get(key) or member_object(bot, "member", {})
        after = member_object(bot, status, fields)
        if status == "member":
            world.members.pop(key, None)  # getChatMember's default for a member bot
        else:
            world.members[key] = after
        await world.push_update(
            "my_chat_member",
            {
                "chat": dict(target),
                "from": by.to_dict(),
                "date": world.now(),
                "old_chat_member": before,
                "new_chat_member": after,
            },
        )

    # --- messages people delete ---------------------------------------------------------------

    def delete_by_admin(self, chat: dict[str, Any], message_id: int) -> None:
        """A group admin deletes a message (an alert the bot posted, say). Bots get no update for
        deletions; the bot learns of it only when it next edits the message: 400 "message to edit not
        found"."""
        if not self._world.delete(chat["id"], message_id):
            raise ValueError(f"no message {message_id} in chat {chat['id']}")
