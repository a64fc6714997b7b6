"""Coordinator group chats: the bot stays silent in a group until an admin registers it there."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Update
from telegram.ext import ContextTypes

from bot.access import Role
from bot.i18n import LANGUAGES, pick_language, t
from bot.services import services
from handlers.common import group_language, registered_group, require
from handlers.summaries import reschedule


async def on_added(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    if msg is None or not any(m.id == context.bot.id for m in msg.new_chat_members):
        return
    lang = await group_language(update, context)
    await msg.reply_text(t(lang, "group.added"))


@require(Role.ADMIN)
async def register(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, chat = update.effective_message, update.effective_chat
    assert msg is not None and chat is not None
    lang = pick_language(
        context.args[0] if context.args else None,
        update.effective_user.language_code if update.effective_user else None,
    )
    group = await services(context).groups.register(chat.id, chat.title or "", lang)
    await reschedule(context, chat.id)
    await msg.reply_text(t(group.language, "group.registered"))


@registered_group
@require(Role.ADMIN)
async def trusted(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, chat = update.effective_message, update.effective_chat
    assert msg is not None and chat is not None
    lang = await group_language(update, context)
    value = (context.args or [""])[0].lower()
    if value not in ("on", "off"):
        await msg.reply_text(t(lang, "group.trusted_usage"))
        return
    await services(context).groups.update(chat.id, trusted=int(value == "on"))
    await msg.reply_text(t(lang, f"group.trusted_{value}"))


@registered_group
@require(Role.COORDINATOR)
async def areas(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, chat = update.effective_message, update.effective_chat
    assert msg is not None and chat is not None
    lang = await group_language(update, context)
    args = context.args or []
    if not args:
        await msg.reply_text(t(lang, "group.areas_usage"))
        return
    chosen = None if args[0].lower() == "all" else [a.upper() for a in args]
    await services(context).groups.set_areas(chat.id, chosen)
    await msg.reply_text(
        t(lang, "group.areas_set", areas=", ".join(chosen) if chosen else t(lang, "group.all_areas"))
    )


@registered_group
@require(Role.COORDINATOR)
async def group_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/settings lang ru|kk|en · /settings tz Asia/Aqtau · /settings summary WEEKDAY HOUR"""
    msg, chat = update.effective_message, update.effective_chat
    assert msg is not None and chat is not None
    svc = services(context)
    lang = await group_language(update, context)
    args = context.args or []
    try:
        if len(args) == 2 and args[0] == "lang" and args[1] in LANGUAGES:
            await svc.groups.update(chat.id, language=args[1])
            lang = args[1]
        elif len(args) == 2 and args[0] == "tz":
            ZoneInfo(args[1])
            await svc.groups.update(chat.id, timezone=args[1])
        elif len(args) == 3 and args[0] == "summary" and 0 <= int(args[1]) <= 6 and 0 <= int(args[2]) <= 23:
            await svc.groups.update(chat.id, summary_weekday=int(args[1]), summary_hour=int(args[2]))
        else:
            raise ValueError(args)
    except (ValueError, ZoneInfoNotFoundError):
        await msg.reply_text(t(lang, "group.settings_usage"))
        return
    group = await svc.groups.get(chat.id)
    assert group is not None
    await msg.reply_text(
        t(
            lang,
            "group.settings",
            lang=group.language,
            tz=group.timezone,
            trusted=t(lang, "yes" if group.trusted else "no"),
            areas=", ".join(group.areas) if not group.all_areas else t(lang, "group.all_areas"),
        )
    )
