"""Videos from rangers: video, video note, animation (GIF) and video files, alone or in an album.

download -> VideoIntake.record (bot/intake/videos.py) -> receipt, through the photos' album and storage
trouble paths. The Bot API lets a bot download 20 MB; a bigger clip gets a reply telling the ranger
to bring it in on the card, without a download attempt. An edit that swaps another clip into a message
already sent (issue 22) records it as a sighting replacing the old one, as handlers/photos.py does.
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
from handlers.common import file_unique_id, intake_of, language_of
from handlers.photos import MAX_DOWNLOAD, answer, on_caption_edit, take_part
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
    clip = await _clip(update, context, msg, lang, kind, media)
    if clip is None:
        return
    # data: the best frame, once it is found
    intake = intake_of(update, b"", is_document=kind == "video_file")
    try:
        receipt = await svc.videos.record(intake, clip)
    except (SightingError, StorageUnavailable) as exc:
        await _not_recorded(update, context, msg, lang, exc)
        return
    await answer(update, context, msg, lang, receipt)


async def on_video_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited video message: another clip swapped in (a photo or clip replaced by it), else a
    caption edit, which may give the sighting a place (handlers/photos.py)."""
    msg = update.edited_message
    if msg is None or await _swap_video(update, context, msg):
        return
    await on_caption_edit(update, context)


async def _swap_video(update: Update, context: ContextTypes.DEFAULT_TYPE, msg: Message) -> bool:
    """As handlers/photos.py swaps a photo: the clip of the edit, another file than the sighting the
    message stands for, becomes a sighting replacing it (bot/intake/replacements.py). False: the same
    file, only the caption changed."""
    found, uid = media_of(msg), file_unique_id(msg)
    if found is None or uid is None:
        return False
    svc = services(context)
    standing = await svc.sightings.standing(msg.chat_id, msg.message_id)
    if standing is None or not standing.swapped(uid):
        return False
    lang, (kind, media) = language_of(update, context), found
    clip = await _clip(update, context, msg, lang, kind, media)
    if clip is None:
        return True
    intake = intake_of(update, b"", is_document=kind == "video_file")
    intake.received_at = msg.edit_date or msg.date  # the new clip reached the bot with the edit
    try:
        receipt = await svc.videos.replace(standing, intake, clip)
    except (SightingError, StorageUnavailable) as exc:
        await _not_recorded(update, context, msg, lang, exc)
        return True
    if receipt is None:
        return False
    await answer(update, context, msg, lang, receipt)
    return True


async def _clip(
    update: Update, context: ContextTypes.DEFAULT_TYPE, msg: Message, lang: str, kind: str, media: Media
) -> Clip | None:
    """The clip to record, or None once the ranger has been answered (too big, failed, retried later)."""
    local = services(context).settings.local_mode
    size = media.file_size or 0
    if size > (MAX_LOCAL if local else MAX_DOWNLOAD):
        await msg.reply_text(t(lang, "video.too_big", mb=f"{size / 2**20:.0f}"))
        return None
    try:
        tg_file = await context.bot.get_file(media.file_id)
        # --local: the server's own copy on this machine (PTB leaves an absolute path as it is; a
        # relative one it turns into a URL). Read from there in pieces, never whole.
        if local and tg_file.file_path and Path(tg_file.file_path).is_absolute():
            return Clip(path=Path(tg_file.file_path), kind=kind)
        return Clip(data=bytes(await tg_file.download_as_bytearray()), kind=kind)
    except TelegramError as exc:
        if transient_download(exc):
            await download_not_done(update, context, msg, lang, exc)
            return None
        log.warning("download of video %s failed: %s", media.file_id, exc)
        too_big = "too big" in str(exc).lower()  # file_size missing or wrong: getFile still refuses
        text = t(lang, "video.too_big", mb=f"{size / 2**20:.0f}") if too_big else t(lang, "error.download")
        await msg.reply_text(text)
        return None


async def _not_recorded(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    msg: Message,
    lang: str,
    exc: SightingError | StorageUnavailable,
) -> None:
    if isinstance(exc, StorageUnavailable):
        await photo_not_stored(update, context, msg, lang, exc)
        return
    await msg.reply_text(t(lang, _REPLIES.get(exc.reason, "video.unreadable")))
