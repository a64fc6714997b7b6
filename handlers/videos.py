"""Videos from rangers: video, video note, animation (GIF) and video files, alone or in an album.

download -> VideoIntake.record (bot/intake/videos.py) -> receipt, through the photos' album and storage
trouble paths. The Bot API lets a bot download 20 MB; a bigger clip gets a reply telling the ranger
to bring it in on the card, without a download attempt.
"""

from __future__ import annotations

import logging
from pathlib import Path

from telegram import Animation, Document, Message, Update, Video, VideoNote
from telegram.error import TelegramError
from telegram.ext import ContextTypes, filters

from bot.intake import SightingError
from bot.intake.videos import Clip
from bot.media import VIDEO_SUFFIXES
from bot.services import services
from bot.text import t
from handlers.common import intake_of, language_of
from handlers.photos import MAX_DOWNLOAD, answer, take_part
from handlers.storage_trouble import download_not_done, photo_not_stored, transient_download
from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)

# A self-hosted Bot API server (`telegram-bot-api --local`, LW_LOCAL_MODE) hands over files up to 2 GB.
MAX_LOCAL = 2000 * 1024 * 1024
Media = Video | VideoNote | Animation | Document
_REPLIES = {"empty": "error.empty", "too_large": "video.too_large"}


def is_video_file(doc: Document | None) -> bool:
    if doc is None:
        return False
    name = (doc.file_name or "").lower()
    return (doc.mime_type or "").startswith("video/") or any(name.endswith(s) for s in VIDEO_SUFFIXES)


def media_of(msg: Message) -> tuple[str, Media] | None:
    """(kind, Telegram object) of a video message. An animation is checked first: Telegram fills
    `document` for it too, for old clients."""
    if msg.video:
        return "video", msg.video
    if msg.video_note:
        return "video_note", msg.video_note
    if msg.animation:
        return "animation", msg.animation
    if is_video_file(msg.document):
        assert msg.document is not None
        return "video_file", msg.document
    return None


class _VideoMessages(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        return media_of(message) is not None


VIDEO_MESSAGES = _VideoMessages(name="VideoMessages")


async def on_video(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await take_part(update, context, _take_video)


async def _take_video(update: Update, context: ContextTypes.DEFAULT_TYPE, msg: Message) -> None:
    lang, found, svc = language_of(update, context), media_of(msg), services(context)
    if found is None:
        return
    kind, media = found
    local = svc.settings.local_mode
    size = media.file_size or 0
    if size > (MAX_LOCAL if local else MAX_DOWNLOAD):
        await msg.reply_text(t(lang, "video.too_big", mb=f"{size / 2**20:.0f}"))
        return
    try:
        tg_file = await context.bot.get_file(media.file_id)
        # --local: the server's own copy on this machine (PTB leaves an absolute path as it is; a
        # relative one it turns into a URL). Read from there in pieces, never whole.
        if local and tg_file.file_path and Path(tg_file.file_path).is_absolute():
            clip = Clip(path=Path(tg_file.file_path), kind=kind)
        else:
            clip = Clip(data=bytes(await tg_file.download_as_bytearray()), kind=kind)
    except TelegramError as exc:
        if transient_download(exc):
            await download_not_done(update, context, msg, lang, exc)
            return
        log.warning("download of video %s failed: %s", media.file_id, exc)
        too_big = "too big" in str(exc).lower()  # file_size missing or wrong: getFile still refuses
        text = t(lang, "video.too_big", mb=f"{size / 2**20:.0f}") if too_big else t(lang, "error.download")
        await msg.reply_text(text)
        return
    # data: the best frame, once it is found
    intake = intake_of(update, b"", is_document=kind == "video_file")
    try:
        receipt = await svc.videos.record(intake, clip)
    except SightingError as exc:
        await msg.reply_text(t(lang, _REPLIES.get(exc.reason, "video.unreadable")))
        return
    except StorageUnavailable as exc:
        await photo_not_stored(update, context, msg, lang, exc)
        return
    await answer(update, context, msg, lang, receipt)
