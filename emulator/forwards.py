"""Forwarded media and media swapped by an edit, as Telegram delivers them to a bot (issue 22).

Forwards (Bot API 7.0, "MessageOrigin"): a forwarded message carries `forward_origin`, one of
MessageOriginUser (`sender_user`), MessageOriginHiddenUser (`sender_user_name`: the sender hides their
account in forwards), MessageOriginChat (`sender_chat`, optional `author_signature`: sent on behalf of
a chat) and MessageOriginChannel (`chat`, `message_id`, optional `author_signature`), each with `date`,
the original's send time. `from` and `date` of the message are the forwarder's and the forward's.

Media edits: the apps let a sender replace the photo, video or file of a message already sent; the
bot gets an `edited_message` (Update: "New version of a message that is known to the bot and was
edited") with the same message_id, `edit_date` set, and the new media, whose file_unique_id ("supposed
to be the same over time and for different bots") differs from the old one's. A forwarded message
cannot be edited (tdlib: "message can't be edited"), so swapping one raises.
"""

from __future__ import annotations

from typing import Any

from .inject_media import MediaInputMixin
from .users import EmulatedUser

# The media fields of a Message a swap replaces (Message: photo, video, document, animation, ...).
_MEDIA_KEYS = ("photo", "video", "document", "animation", "audio", "voice", "video_note")
_KEEP: Any = object()  # swap_media(caption=...): leave the caption as it is


def hidden_user(name: str) -> dict[str, Any]:
    """A forward source for origin(): someone who hides their account in forwards."""
    return {"hidden_user": name}


def origin(
    date: int,
    source: EmulatedUser | dict[str, Any],
    *,
    message_id: int = 1,
    author_signature: str | None = None,
) -> dict[str, Any]:
    """MessageOrigin for `source`: an EmulatedUser (user), hidden_user(name) (hidden_user), a channel
    chat from emu.channel() (channel, with the post's message_id) or a group chat (chat)."""
    if isinstance(source, EmulatedUser):
        return {"type": "user", "date": date, "sender_user": source.to_dict()}
    if "hidden_user" in source:
        return {"type": "hidden_user", "date": date, "sender_user_name": source["hidden_user"]}
    signed = {"author_signature": author_signature} if author_signature else {}
    if source.get("type") == "channel":
        return {"type": "channel", "date": date, "chat": dict(source), "message_id": message_id, **signed}
    return {"type": "chat", "date": date, "sender_chat": dict(source), **signed}


class ForwardsMixin(MediaInputMixin):
    """Forwarding photos and files with each MessageOrigin kind, and swapping a sent message's media."""

    async def forward_photo(
        self,
        user: EmulatedUser,
        data: bytes,
        source: EmulatedUser | dict[str, Any],
        posted: int,
        caption: str | None = None,
        chat: dict[str, Any] | None = None,
        *,
        message_id: int = 1,
        author_signature: str | None = None,
        date: int | None = None,
    ) -> dict[str, Any]:
        """`user` forwards a photo first posted at `posted` (Unix time) by `source` (see origin())."""
        files = self._world.files
        content: dict[str, Any] = {"photo": files.add_photo(data) or files.add_opaque_photo(data)}
        content.update(self._caption(caption))
        found = origin(posted, source, message_id=message_id, author_signature=author_signature)
        return await self._forwarded(user, chat, content, found, date)

    async def forward_document(
        self,
        user: EmulatedUser,
        data: bytes,
        file_name: str,
        mime_type: str,
        source: EmulatedUser | dict[str, Any],
        posted: int,
        caption: str | None = None,
        chat: dict[str, Any] | None = None,
        *,
        date: int | None = None,
    ) -> dict[str, Any]:
        """`user` forwards a file (an uncompressed photo keeps its EXIF) first posted at `posted`."""
        content: dict[str, Any] = {"document": self._world.files.add_document(data, file_name, mime_type)}
        content.update(self._caption(caption))
        return await self._forwarded(user, chat, content, origin(posted, source), date)

    async def _forwarded(
        self,
        user: EmulatedUser,
        chat: dict[str, Any] | None,
        content: dict[str, Any],
        found: dict[str, Any],
        date: int | None,
    ) -> dict[str, Any]:
        world = self._world
        target = self._chat(user, chat)
        if target["type"] == "private":
            world.not_started.discard(user.id)
        message = world.new_message(target, user.to_dict(), date)
        message["forward_origin"] = found
        message.update(content)
        stored = world.store(message)
        if world.visible_to_bot(message):
            await world.push_update("message", message)
        return stored

    async def swap_photo(
        self,
        user: EmulatedUser,
        message: dict[str, Any],
        data: bytes,
        *,
        caption: str | None = _KEEP,
        date: int | None = None,
    ) -> dict[str, Any]:
        """The sender replaces the media of their message with a photo (the apps' "Replace photo")."""
        files = self._world.files
        photo = files.add_photo(data) or files.add_opaque_photo(data)
        return await self._swap(user, message, {"photo": photo}, caption, date)

    async def swap_document(
        self,
        user: EmulatedUser,
        message: dict[str, Any],
        data: bytes,
        file_name: str,
        mime_type: str,
        *,
        caption: str | None = _KEEP,
        date: int | None = None,
    ) -> dict[str, Any]:
        """The sender replaces the media of their message with a file."""
        document = self._world.files.add_document(data, file_name, mime_type)
        return await self._swap(user, message, {"document": document}, caption, date)

    async def swap_video(
        self,
        user: EmulatedUser,
        message: dict[str, Any],
        data: bytes,
        kind: str = "video",
        *,
        file_name: str | None = "clip.mp4",
        mime_type: str | None = "video/mp4",
        caption: str | None = _KEEP,
        date: int | None = None,
    ) -> dict[str, Any]:
        """The sender replaces the media of their message with a clip, "video" or "animation" (a GIF,
        also given as `document`, as send_video does). A video note is never swapped in: the apps
        cannot edit one (editMessageMedia's InputMedia has no video note either)."""
        if kind not in ("video", "animation"):
            raise ValueError(f"kind must be video or animation, not {kind!r}")
        media = self._world.files.add_video(data, kind, file_name=file_name, mime_type=mime_type)
        content: dict[str, Any] = {kind: media}
        if kind == "animation":
            content["document"] = {k: v for k, v in media.items() if k not in ("width", "height", "duration")}
        return await self._swap(user, message, content, caption, date)

    async def _swap(
        self,
        user: EmulatedUser,
        message: dict[str, Any],
        media: dict[str, Any],
        caption: str | None,
        date: int | None,
    ) -> dict[str, Any]:
        current = self._own_message(user, message)
        if "forward_origin" in current:
            raise ValueError("a forwarded message cannot be edited")
        if not any(k in current for k in _MEDIA_KEYS):
            raise ValueError("only a media message can have its media replaced")
        for key in _MEDIA_KEYS:
            current.pop(key, None)
        current.update(media)
        if caption is not _KEEP:
            current.pop("caption", None)
            current.pop("caption_entities", None)
            current.update(self._caption(caption))
        return await self._edited(current, date)
