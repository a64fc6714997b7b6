"""Media a person sends beyond photos and documents: clips, stickers, voice notes, contacts, and
caption edits; split from inject.py (people, chats, texts, photos, buttons) to keep both readable."""

from __future__ import annotations

from typing import Any

from .inject import _MEDIA_GROUP_IDS, UserInputMixin
from .users import EmulatedUser


class MediaInputMixin(UserInputMixin):
    async def edit_caption(
        self, user: EmulatedUser, message: dict[str, Any], new_caption: str | None, *, date: int | None = None
    ) -> dict[str, Any]:
        """The sender edits the caption of their photo, document, ... (None or "" removes it)."""
        current = self._own_message(user, message)
        if not any(k in current for k in ("photo", "document", "video", "audio", "animation", "voice")):
            raise ValueError("only media messages have a caption to edit with edit_caption")
        current.pop("caption", None)
        current.pop("caption_entities", None)
        current.update(self._caption(new_caption))
        return await self._edited(current, date)

    async def send_content(
        self, user: EmulatedUser, content: dict[str, Any], chat: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Any other message a person can send (sticker, voice, contact, dice, poll, ...): `content`
        holds the Message fields, e.g. {"dice": {"emoji": "🎲", "value": 3}}; checked against the spec."""
        return await self._post(user, chat, dict(content))

    async def send_video(
        self,
        user: EmulatedUser,
        data: bytes,
        kind: str = "video",
        caption: str | None = None,
        chat: dict[str, Any] | None = None,
        media_group_id: str | None = None,
        *,
        file_name: str | None = "clip.mp4",
        mime_type: str | None = "video/mp4",
        file_size: int | None = None,
        forward_date: int | None = None,
        date: int | None = None,
    ) -> dict[str, Any]:
        """A clip sent as kind "video", "video_note" (round, no caption) or "animation" (a GIF, which
        Telegram turns into a silent MP4 and also gives as `document`, for old clients). The bytes are
        stored as they are (Telegram would re-encode them); width, height and duration are read from
        them. file_size: what the message claims (a 25 MB clip without 25 MB of bytes); getFile then
        refuses it above 20 MB as Telegram does."""
        if kind not in ("video", "video_note", "animation"):
            raise ValueError(f"kind must be video, video_note or animation, not {kind!r}")
        files = self._world.files
        name = file_name if kind != "video_note" else None
        media = files.add_video(data, kind, file_name=name, mime_type=mime_type, file_size=file_size)
        content: dict[str, Any] = {kind: media}
        if kind == "animation":  # the same file, as a Document (which has no size in pixels or time)
            content["document"] = {k: v for k, v in media.items() if k not in ("width", "height", "duration")}
        if media_group_id is not None:
            content["media_group_id"] = str(media_group_id)
        if kind != "video_note":
            content.update(self._caption(caption))
        return await self._post(user, chat, content, date=date, forward_date=forward_date)

    async def send_media_group(
        self,
        user: EmulatedUser,
        parts: list[tuple[str, bytes]],
        caption: str | None = None,
        chat: dict[str, Any] | None = None,
        *,
        date: int | None = None,
    ) -> list[dict[str, Any]]:
        """An album of photos and videos, each part ("photo" or "video", bytes) its own message with one
        shared media_group_id. As Telegram delivers an album typed with one caption (tdlib sends it as
        the first item's caption, sendMediaGroup's docs: "caption of the first item"), only the first
        message carries the caption; the others have none, and nothing links them to it but the id."""
        group_id = str(next(_MEDIA_GROUP_IDS))
        sent = []
        for i, (kind, data) in enumerate(parts):
            text = caption if i == 0 else None
            if kind == "photo":
                sent.append(await self.send_photo(user, data, text, chat, group_id, date=date))
            elif kind == "video":
                sent.append(await self.send_video(user, data, "video", text, chat, group_id, date=date))
            else:
                raise ValueError(f"an album part is a photo or a video, not {kind!r}")
        return sent
