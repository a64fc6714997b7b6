"""/sighting 12: the photo with its box and the alert's caption, for any sighting, on request; for a
video's sighting, then the clip (a clean copy, bot/media/video.py clean_copy).

In a group anyone may look again at what was alerted there; any other sighting only an active
coordinator or admin may open, and then with the group's precision. Privately it is for coordinators
(registered in handlers/__init__.py), with exact places for admins only.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.alerts import alerted_here, alerted_in, build_view, photo_with_boxes
from bot.botapi import review_keyboard
from bot.intake.videos import clip_of
from bot.media.video import UnreadableVideo, clean_copy
from bot.people import Role
from bot.services import Services, services
from bot.text import parse_id, t
from handlers.common import reader

log = logging.getLogger(__name__)

MAX_UPLOAD = 50 * 1024 * 1024  # what a bot may send (the Bot API's upload limit)


async def sighting_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, chat, user = update.effective_message, update.effective_chat, update.effective_user
    assert msg is not None and chat is not None and user is not None
    svc = services(context)
    in_group = chat.type != "private"
    # A group reads at its own language, zone and trust, as its alerts do; a private chat by role.
    audience = await reader(update, context)
    args = context.args or []
    sid = parse_id(args[0]) if len(args) == 1 else None
    if sid is None:
        await msg.reply_text(t(audience.lang, "sighting.usage"))
        return
    # Everyone in a group can read its alerts, but not events it was never sent (other areas, photos
    # the model passed over): a member with no role must not page through every sighting by number.
    # The same answer whether or not the sighting exists, so numbers cannot be probed either.
    if in_group and await svc.access.role(user.id) < Role.COORDINATOR:
        if not await alerted_here(svc.db, sid, chat.id):
            await msg.reply_text(t(audience.lang, "sighting.not_here", id=sid))
            return
    view = await build_view(svc.db, svc.settings, sid, audience)
    if view is None:
        await msg.reply_text(t(audience.lang, "compare.missing", id=sid))
        return
    # Review buttons only where they work: in a group this event was alerted to.
    here = in_group and await alerted_in(svc.db, sid, chat.id)
    keyboard = review_keyboard(view.lang, view.event_id) if here else None
    try:
        photo = await asyncio.to_thread(
            photo_with_boxes, svc.photos, view.photo_sha256, view.boxes, blank=not view.exact
        )
    except (OSError, ValueError):  # the photo file is gone (disk trouble): the record still answers
        await msg.reply_text(view.caption, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    else:
        await msg.reply_photo(photo, caption=view.caption, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    if audience.exact:
        await send_clip(msg, svc, sid, audience.lang)
    elif await clip_of(svc.db, svc.videos.store, sid) is not None:
        # A clip's frames carry the camera's strip (its name, on some models its GPS) and are not
        # re-encoded here: the clip goes only to readers who may see the place anyway.
        await msg.reply_text(t(audience.lang, "sighting.clip_withheld", id=sid))


async def send_clip(msg: Message, svc: Services, sid: int, lang: str) -> None:
    """The clip a video sighting came from, after its best frame; nothing for a photo's sighting."""
    clip = await clip_of(svc.db, svc.videos.store, sid)
    if clip is None:
        return
    if clip.size > MAX_UPLOAD:
        await msg.reply_text(t(lang, "sighting.clip_too_big", id=sid, mb=f"{clip.size / 2**20:.0f}"))
        return
    caption = t(lang, "sighting.clip", id=sid, seconds=f"{clip.frame_seconds:.1f}")
    name = f"sighting-{sid}"
    try:
        data, ext = await asyncio.to_thread(clean_copy, clip.path, clip.info)
        if clip.info.mp4:  # Telegram plays it inline
            info = clip.info
            await msg.reply_video(
                data, caption=caption, duration=round(info.duration), width=info.width, height=info.height,
                supports_streaming=True, filename=name + ext,
            )  # fmt: skip
        else:  # an AVI and the like: a file the reader's player opens
            await msg.reply_document(data, caption=caption, filename=name + ext)
    except (OSError, UnreadableVideo, TelegramError) as exc:
        log.warning("clip of sighting #%s not sent: %s", sid, exc)
        await msg.reply_text(t(lang, "sighting.clip_failed", id=sid))
