"""Small helpers shared by the handlers: who is asking, in which language, and the receipt text."""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.geo.points import format_point
from bot.intake.sightings import PhotoIntake, Ranger, Receipt
from bot.media.exif import DEFAULT_ZONE
from bot.media.time_text import clock_warning
from bot.people.access import Role
from bot.services import services
from bot.text.i18n import pick_language, t


def ranger_of(update: Update) -> Ranger:
    user = update.effective_user
    assert user is not None
    return Ranger(user.id, user.full_name, user.username, user.language_code)


def intake_of(update: Update, data: bytes, *, is_document: bool) -> PhotoIntake:
    """What a ranger's photo or clip message says about itself, for the sighting services."""
    msg = update.effective_message
    assert msg is not None
    return PhotoIntake(
        data=data,
        ranger=ranger_of(update),
        received_at=msg.date,
        chat_id=msg.chat_id,
        message_id=msg.message_id,
        caption=msg.caption,
        media_group_id=msg.media_group_id,
        is_document=is_document,
        forwarded_at=msg.forward_origin.date if msg.forward_origin else None,
    )


def language_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    chosen = context.user_data.get("lang") if context.user_data is not None else None
    user = update.effective_user
    return pick_language(chosen, user.language_code if user else None)


async def group_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """A registered group's language; anywhere else (a private chat), the user's own."""
    chat = update.effective_chat
    group = await services(context).groups.get(chat.id) if chat and chat.type != "private" else None
    return group.language if group else language_of(update, context)


def kick_outbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deliver queued alerts and notices now rather than at the next periodic run. A PTB-tracked task,
    not a run_once job: the scheduler's dispatch added tens of milliseconds to every alert (bench/e2e.py)."""
    context.application.create_task(_drain(context), name="outbox-kick")


async def _drain(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    await svc.outbox.drain(context.bot)
    await svc.notices.drain(context.bot)


async def drain_outbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    await _drain(context)


def receipt_text(lang: str, r: Receipt, pairing_minutes: int, *, ask: bool = True) -> str:
    if r.duplicate:
        key = "receipt.duplicate" if r.media == "photo" else "receipt.duplicate_video"
        return t(lang, key, id=r.sighting_id)
    det = r.detection
    assert det is not None
    if det.leopard:
        lines = [t(lang, "receipt.leopard", id=r.sighting_id, score=f"{det.score:.2f}")]
    elif det.label == "snow leopard":
        lines = [t(lang, "receipt.snow_leopard", id=r.sighting_id, score=f"{det.label_score:.2f}")]
    else:
        lines = [
            t(
                lang,
                "receipt.other",
                id=r.sighting_id,
                label=html.escape(det.label),
                score=f"{det.label_score:.2f}",
            )
        ]
    if r.frame_seconds is not None:  # a video: which of its frames the line above is about
        second = f"{r.frame_seconds:.1f}"
        if det.alert_worthy:
            lines.append(t(lang, "receipt.video_leopard", seconds=second, score=f"{det.label_score:.2f}"))
        else:
            lines.append(t(lang, "receipt.video_other", frames=r.frames, seconds=second))
    if r.station:
        lines.append(t(lang, "receipt.station", code=html.escape(r.station)))
    elif r.point:
        lines.append(
            t(
                lang,
                "receipt.place",
                point=format_point(r.point),
                source=t(lang, f"source.{r.location_source}"),
            )
        )
    elif ask and not r.already_asked:
        lines.append(t(lang, "receipt.ask_location", minutes=pairing_minutes))
    elif ask:
        lines.append(t(lang, "receipt.waiting_location"))
    clock = clock_warning(lang, r.time, DEFAULT_ZONE)  # read back in the zone camera clocks are set to
    if clock:
        lines.append(clock)
    if any(n.startswith("bad_coordinates") for n in r.notes):
        lines.append(t(lang, "receipt.bad_coordinates"))
    for note in r.notes:
        if note.startswith("unknown_station:"):
            lines.append(t(lang, "error.unknown_station", code=html.escape(note.split(":", 1)[1])))
    return "\n".join(lines)


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def require(minimum: Role) -> Callable[[Handler], Handler]:
    """Refuse politely, and do nothing else, when the caller's role is below `minimum`."""

    def wrap(func: Handler) -> Handler:
        @functools.wraps(func)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            user, msg = update.effective_user, update.effective_message
            if user is None:
                return
            if msg is not None and msg.sender_chat is not None and update.callback_query is None:
                # An anonymous admin (from = GroupAnonymousBot, sender_chat = the group) or a linked
                # channel: anyone with that right could be behind it, so it is never an admin.
                await msg.reply_text(t(await group_language(update, context), "access.anonymous"))
                return
            role = await services(context).access.role(user.id)
            if role >= minimum:
                await func(update, context)
                return
            # In a registered group, the group's language: everyone there reads the refusal.
            lang = await group_language(update, context)
            key = {Role.OUTSIDER: "access.outsider", Role.SUSPENDED: "access.suspended"}.get(
                role, "access.admin_only" if minimum >= Role.ADMIN else "access.coordinator_only"
            )
            if update.callback_query is not None:
                await update.callback_query.answer(t(lang, key), show_alert=True)
            elif msg is not None:
                await msg.reply_text(t(lang, key))

        return guarded

    return wrap


def registered_group(func: Handler) -> Handler:
    """In a group the bot has not been registered in, stay silent: it may have been added by anyone."""

    @functools.wraps(func)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        group = await services(context).groups.get(chat.id)
        if group is not None and group.active:
            await func(update, context)

    return guarded


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    if msg is not None:
        await msg.reply_text(t(language_of(update, context), "command.unknown"))
