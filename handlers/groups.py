"""Coordinator group chats: the bot stays silent in a group until an admin registers it there."""

from __future__ import annotations

import functools
from zoneinfo import available_timezones

from telegram import Chat, ChatMember, ChatMemberRestricted, Message, Update, User
from telegram.ext import ContextTypes

from bot.people import Leaving, Role, queue_admin_notice
from bot.services import services
from bot.text import LANGUAGES, parse_code, pick_language, t
from handlers.common import group_language, kick_outbox, registered_group, require
from handlers.summaries import reschedule

MAX_AREAS = 20  # a group follows a few areas; more words than that is not a list of areas
# The IANA names the system knows: ZoneInfo() itself also opens "Asia" (a directory: IsADirectoryError),
# "posixrules" and long paths (OSError), so a name is looked up here instead of tried.
time_zones = functools.cache(available_timezones)


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
    args = context.args or []
    asked = args[0].lower() if args else None
    lang = pick_language(asked, update.effective_user.language_code if update.effective_user else None)
    if len(args) > 1 or (asked is not None and asked not in LANGUAGES):
        await msg.reply_text(t(lang, "group.register_usage"))
        return
    # Registered in a forum topic: alerts and summaries go to that topic, not to General.
    thread = msg.message_thread_id if msg.is_topic_message else None
    group = await services(context).groups.register(chat.id, chat.title or "", lang, thread)
    await reschedule(context, chat.id)
    kick_outbox(context)  # alerts held while the group was switched off resume now
    await msg.reply_text(t(group.language, "group.registered_topic" if thread else "group.registered"))


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup (new id): Telegram posts migrate_to_chat_id in the old chat and
    migrate_from_chat_id in the new one; either moves the registration, whichever arrives first."""
    msg = update.effective_message
    if msg is None:
        return
    if msg.migrate_to_chat_id:
        old, new = msg.chat_id, msg.migrate_to_chat_id
    elif msg.migrate_from_chat_id:
        old, new = msg.migrate_from_chat_id, msg.chat_id
    else:
        return
    svc = services(context)
    if not await svc.groups.migrate(old, new):
        return
    await reschedule(context, old)
    await reschedule(context, new)
    kick_outbox(context)


async def on_my_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was removed from a group: stop writing there (every send would fail) and tell the admins.
    Muted there (restricted, can_send_messages off) or allowed again: its alerts wait, or resume."""
    change = update.my_chat_member
    if change is None or change.chat.type == "private":
        return
    status = change.new_chat_member.status
    svc = services(context)
    who = change.from_user.full_name if change.from_user else "?"
    if status not in (ChatMember.LEFT, ChatMember.BANNED):
        muted = _cannot_send(change.new_chat_member)
        if muted != _cannot_send(change.old_chat_member):
            why = f"{'restricted' if muted else 'allowed'} by {who}"
            if await svc.outbox.set_muted(change.chat.id, muted, why):
                kick_outbox(context)  # the admins' notice; when allowed again, the alerts that waited
        return
    if await svc.groups.deactivate(change.chat.id, f"bot {status} by {who}"):
        await queue_admin_notice(
            svc.db,
            svc.settings.admin_ids,
            f"The bot was removed from group {change.chat.title or ''} ({change.chat.id}) by {who}. "
            "It gets no alerts or summaries until the bot is added back and an admin sends /register there.",
        )
        await reschedule(context, change.chat.id)
        kick_outbox(context)


async def on_member_left(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A member left ("X left the group") or was removed ("A removed X", from = A): the powers granted
    in the group go with them."""
    msg = update.effective_message
    if msg is None or msg.left_chat_member is None or msg.left_chat_member.is_bot:
        return
    person, actor = msg.left_chat_member, msg.from_user
    await _departed(context, person, msg.chat, actor if actor and actor.id != person.id else None)


async def on_member_change(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """chat_member (sent when the bot is an admin there): the same departure, told another way; also
    where no service message is posted (large groups, hidden join and leave messages)."""
    change = update.chat_member
    if change is None or change.chat.type == "private" or change.new_chat_member.user.is_bot:
        return
    if not (_present(change.old_chat_member) and not _present(change.new_chat_member)):
        return
    person, actor = change.new_chat_member.user, change.from_user
    await _departed(context, person, change.chat, actor if actor.id != person.id else None)


async def _departed(context: ContextTypes.DEFAULT_TYPE, person: User, chat: Chat, by: User | None) -> None:
    by_id, by_name = (by.id, by.full_name) if by else (None, "")
    leaving = Leaving(person.id, person.full_name, chat.id, chat.title or "", by_id, by_name)
    if await services(context).access.left_group(leaving) is not None:
        kick_outbox(context)  # the admins' notice


def _present(member: ChatMember) -> bool:
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status not in (ChatMember.LEFT, ChatMember.BANNED)


def _cannot_send(member: ChatMember) -> bool:
    """Restricted, still a member, with can_send_messages off: the bot is muted there."""
    return isinstance(member, ChatMemberRestricted) and member.is_member and not member.can_send_messages


@registered_group
@require(Role.ADMIN)
async def trusted(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, chat = update.effective_message, update.effective_chat
    assert msg is not None and chat is not None
    lang = await group_language(update, context)
    args = context.args or []
    value = args[0].lower() if len(args) == 1 else ""
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
    if not args:  # the current choice, then how to change it
        group = await services(context).groups.get(chat.id)
        assert group is not None
        now = ", ".join(group.areas) if not group.all_areas else t(lang, "group.all_areas")
        await msg.reply_text(t(lang, "group.areas_set", areas=now) + "\n" + t(lang, "group.areas_usage"))
        return
    codes = list(dict.fromkeys(parse_code(a) for a in args))
    words = [a.lower() for a in args]
    every = words == ["all"]
    if not every and (not args or "all" in words or None in codes or len(codes) > MAX_AREAS):
        await msg.reply_text(t(lang, "group.areas_usage"))
        return
    chosen = None if every else [c for c in codes if c is not None]
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
    if len(args) == 2 and args[0] == "lang" and args[1] in LANGUAGES:
        await svc.groups.update(chat.id, language=args[1])
        lang = args[1]
    elif len(args) == 2 and args[0] == "tz" and args[1] in time_zones():
        await svc.groups.update(chat.id, timezone=args[1])
    elif len(args) == 3 and args[0] == "summary" and _in(args[1], 0, 6) and _in(args[2], 0, 23):
        await svc.groups.update(chat.id, summary_weekday=int(args[1]), summary_hour=int(args[2]))
    elif args:
        await msg.reply_text(t(lang, "group.settings_usage"))
        return
    group = await svc.groups.get(chat.id)
    spec = await svc.groups.summary_spec(chat.id, svc.settings.summary_weekday, svc.settings.summary_hour)
    assert group is not None and spec is not None
    text = t(
        lang,
        "group.settings",
        lang=group.language,
        tz=group.timezone,
        trusted=t(lang, "yes" if group.trusted else "no"),
        areas=", ".join(group.areas) if not group.all_areas else t(lang, "group.all_areas"),
    )
    day, hour = t(lang, f"weekday.{spec[0]}"), f"{spec[1]:02d}"
    text += "\n" + t(lang, "group.settings_summary", weekday=day, hour=hour)
    # Alone, /settings shows the current values and then how to change them.
    await msg.reply_text(text if args else f"{text}\n\n{t(lang, 'group.settings_usage')}")


@registered_group
@require(Role.ADMIN)
async def make_coordinator(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply /coordinator to a member's message: they become a coordinator, no private link needed."""
    await _grant(update, context, "coordinator")


@registered_group
@require(Role.COORDINATOR)  # a coordinator may invite rangers already; a reply is the same power
async def make_ranger(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _grant(update, context, "ranger")


async def _grant(update: Update, context: ContextTypes.DEFAULT_TYPE, role: str) -> None:
    msg, chat, user = update.effective_message, update.effective_chat, update.effective_user
    assert msg is not None and chat is not None and user is not None
    svc = services(context)
    lang = await group_language(update, context)
    person = _grantee(msg)
    if isinstance(person, str):
        await msg.reply_text(t(lang, person))
        return
    if person.id in svc.settings.admin_ids:  # above every role already; a rangers row would only mislead
        await msg.reply_text(t(lang, "grant.admin", name=person.full_name))
        return
    granted = await svc.access.grant(
        person.id, person.full_name, person.username, person.language_code, role, by=user.id, chat_id=chat.id
    )
    key = f"grant.done_{granted.role}" if granted.changed else f"grant.already_{granted.role}"
    await msg.reply_text(t(lang, key, name=person.full_name))


def _grantee(msg: Message) -> User | str:
    """The person whose message the command replies to, or the catalog key of the refusal."""
    replied = msg.reply_to_message
    # In a forum topic every message "replies" to the topic's opening service message.
    if replied is None or replied.forum_topic_created is not None:
        return "grant.usage"
    person = replied.from_user
    # sender_chat: a channel post or an anonymous admin (from = GroupAnonymousBot), whoever wrote it.
    if replied.sender_chat is not None or person is None or person.is_bot:
        return "grant.not_a_person"
    # "A added B" has A as its sender: the role would go to the one who added, not to the newcomer.
    if replied.new_chat_members and any(m.id != person.id for m in replied.new_chat_members):
        return "grant.usage"
    return person


def _in(text: str, low: int, high: int) -> bool:
    """ASCII digits within [low, high]: int() accepts '٣' and ' 3', isdigit() accepts '³'."""
    return text.isascii() and text.isdigit() and low <= int(text) <= high
