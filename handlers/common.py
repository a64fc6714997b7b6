"""Small helpers shared by the handlers: who is asking, in which language, who reads a chat, delivery now
and the periodic jobs around it, the wrappers put on handlers at registration (access, final), and the
error handler."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from telegram import (
    Message,
    MessageOrigin,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.botapi import InboxBot, is_noise
from bot.intake import ForwardOrigin, PhotoIntake, Ranger, forward_origin
from bot.people import Audience, Role, audience_for
from bot.services import services
from bot.text import pick_language, t
from handlers.runtime import Runtime

log = logging.getLogger(__name__)


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
        origin=origin_of(msg.forward_origin),
        file_unique_id=file_unique_id(msg),
    )


def origin_of(found: MessageOrigin | None) -> ForwardOrigin | None:
    """A forward's origin as the intake keeps it (Bot API MessageOrigin: user, hidden_user, chat, channel)."""
    if found is None:
        return None
    if isinstance(found, MessageOriginUser):
        user = found.sender_user
        return forward_origin("user", found.date, user.full_name, user.id)
    if isinstance(found, MessageOriginHiddenUser):
        return forward_origin("hidden_user", found.date, found.sender_user_name, None)
    if isinstance(found, MessageOriginChat):
        chat = found.sender_chat
        return forward_origin("chat", found.date, chat.title or chat.full_name, chat.id)
    if isinstance(found, MessageOriginChannel):
        return forward_origin("channel", found.date, found.chat.title, found.chat.id)
    return forward_origin(str(found.type), found.date, None, None)


def file_unique_id(msg: Message) -> str | None:
    """The message's file, the same for every bot and over time: an edit with another one swapped it."""
    media = msg.photo[-1] if msg.photo else msg.effective_attachment
    return getattr(media, "file_unique_id", None)


def language_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    chosen = context.user_data.get("lang") if context.user_data is not None else None
    user = update.effective_user
    return pick_language(chosen, user.language_code if user else None)


async def group_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """A registered group's language; anywhere else (a private chat), the user's own."""
    chat = update.effective_chat
    group = await services(context).groups.get(chat.id) if chat and chat.type != "private" else None
    return group.language if group else language_of(update, context)


async def reader(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Audience:
    """Who reads this chat, as the audience gate (bot/people/audience.py) sees it."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    svc = services(context)
    return await audience_for(
        groups=svc.groups,
        access=svc.access,
        chat_id=chat.id,
        private=chat.type == "private",
        user_id=user.id,
        lang=language_of(update, context),
        zone=svc.settings.zone,
        grid_km=svc.settings.untrusted_grid_km,
    )


def kick_outbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deliver queued alerts and notices now rather than at the next periodic run. A PTB-tracked task,
    not a run_once job: the scheduler's dispatch added tens of milliseconds to every alert (bench/e2e.py)."""
    context.application.create_task(_drain(context), name="outbox-kick")


async def _drain(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    await svc.outbox.drain(context.bot)
    await svc.notices.drain(context.bot)


async def drain_outbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue job: the periodic delivery run (handlers/__init__.py schedule_jobs)."""
    await _drain(context)


async def purge_inbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue job: forget updates finished longer ago than bot/botapi/inbox.py keeps them."""
    await Runtime.of(context).inbox.purge()


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
R = TypeVar("R")
# A handler that returns something: a ConversationHandler's step returns the next state.
Step = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, R]]


def require(minimum: Role) -> Callable[[Step[R]], Step[R | None]]:
    """Refuse politely, and do nothing else, when the caller's role is below `minimum`. The handler's
    result is handed on (a conversation's next state); a refusal returns None, which starts none."""

    def wrap(func: Step[R]) -> Step[R | None]:
        @functools.wraps(func)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> R | None:
            user, msg = update.effective_user, update.effective_message
            if user is None:
                return None
            if msg is not None and msg.sender_chat is not None and update.callback_query is None:
                # An anonymous admin (from = GroupAnonymousBot, sender_chat = the group) or a linked
                # channel: anyone with that right could be behind it, so it is never an admin.
                await msg.reply_text(t(await group_language(update, context), "access.anonymous"))
                return None
            role = await services(context).access.role(user.id)
            if role >= minimum:
                return await func(update, context)
            # In a registered group, the group's language: everyone there reads the refusal.
            lang = await group_language(update, context)
            key = {Role.OUTSIDER: "access.outsider", Role.SUSPENDED: "access.suspended"}.get(
                role, "access.admin_only" if minimum >= Role.ADMIN else "access.coordinator_only"
            )
            if update.callback_query is not None:
                await update.callback_query.answer(t(lang, key), show_alert=True)
            elif msg is not None:
                await msg.reply_text(t(lang, key))
            return None

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


def final(func: Handler) -> Handler:
    """End the update's processing once `func` has answered: handlers in later groups (the catch-alls,
    e.g. "unknown command" in private chats) must not answer too. ApplicationHandlerStop skips the
    done-marker's group as well, so the update is marked done here: otherwise a restart would replay
    it (a /week or an /export sent twice)."""

    @functools.wraps(func)
    async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await func(update, context)
        await Runtime.of(context).inbox.mark_done(update, context)
        raise ApplicationHandlerStop

    return run


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    if msg is not None:
        await msg.reply_text(t(language_of(update, context), "command.unknown"))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The error handler: logged, and a user in a private chat is told something went wrong. A failed
    poll (no update: the network, Telegram itself) is the connection's state, not an error of ours:
    one line when it starts and one when it ends (bot/botapi/polling.py)."""
    if update is None and isinstance(context.error, TelegramError) and isinstance(context.bot, InboxBot):
        await context.bot.health.failed(context.error)
        return
    if context.error is not None and is_noise(context.error):
        # A double tap edits a message into what it already is, or the message was deleted meanwhile:
        # the edit is done or moot. The press is answered quietly (if the handler had not yet).
        log.info("ignored: %s", context.error)
        if isinstance(update, Update) and update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        return
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message and update.effective_chat:
        if update.effective_chat.type == "private":
            try:
                await update.effective_message.reply_text(
                    t(
                        pick_language(update.effective_user.language_code if update.effective_user else None),
                        "error.internal",
                    )
                )
            except Exception:  # the error handler must never raise
                log.exception("could not tell the user about the error")
