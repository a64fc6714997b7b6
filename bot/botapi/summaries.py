"""Sending a summary to a group part by part, and what each Bot API failure means for it.

A summary is four messages, rendered by bot/reports/parts.py: the map, the text, the contact sheet of
the period's leopards and the CSV (the last two only when there is something to show). For the weekly
summary each part that arrives, or that Telegram refuses for good (a group that forbids files), is
recorded in summary_parts (bot/reports/schedule.py), so a retry resumes at the first part still owed
and a part already recorded is never sent again (only a crash between Telegram's answer and the record
can repeat one part); the summary is delivered when every part is sent or refused, and a refused part
is not retried. The failures (bot.botapi.errors) are met as the alert outbox meets them: a migrated
group is followed to its new id, a closed or deleted topic falls back to General, a kicked bot or
deleted chat deactivates the group, a muted bot leaves the rest owed (nothing refused for good) until it
may send again, and the admins are told once.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.botapi.errors import Failure, Fate, classify, refine
from bot.botapi.outbox import hold_alerts
from bot.config import Settings
from bot.people import Group, Groups, queue_admin_notice
from bot.reports import Part, delivered_parts, record_part, render_parts
from storage.db import Database, iso
from storage.photos import PhotoStore

log = logging.getLogger(__name__)

# A group can only migrate once (basic group -> supergroup); more hops mean something is wrong.
MAX_MOVES = 2
# A timeout after an upload went out may hide a message that did arrive; a part resent on that
# guess would reach the group twice, so wait long for the answer, as the alert outbox does.
READ_TIMEOUT, WRITE_TIMEOUT = 90.0, 120.0
# Telegram will never accept these as they are; retrying the same request is pointless.
FOR_GOOD = (Fate.REFUSED, Fate.NO_MEDIA, Fate.NOT_MODIFIED)
TOLD_AS = {"map": "map", "text": "text", "sheet": "contact sheet of leopard photos", "csv": "CSV file"}


@dataclass(frozen=True)
class Outcome:
    chat_id: int  # where the group is now: a migration changes it
    complete: bool  # every part sent or refused; False: something is still owed
    gone: bool = False  # the group no longer receives (bot kicked, chat deleted)


class SummaryServices(Protocol):
    """What sending a summary uses of the services (bot.services.Services has them all)."""

    @property
    def db(self) -> Database: ...
    @property
    def groups(self) -> Groups: ...
    @property
    def photos(self) -> PhotoStore: ...
    @property
    def settings(self) -> Settings: ...


async def send_part(bot: Bot, part: Part, chat_id: int, thread_id: int | None) -> None:
    if part.kind == "message":
        await bot.send_message(
            chat_id,
            part.text,
            parse_mode=ParseMode.HTML,
            disable_web_page_preview=True,
            message_thread_id=thread_id,
            read_timeout=READ_TIMEOUT,
            write_timeout=WRITE_TIMEOUT,
        )
    else:
        send = bot.send_photo if part.kind == "photo" else bot.send_document
        await send(
            chat_id,
            part.data,
            caption=part.text,
            filename=part.filename,
            message_thread_id=thread_id,
            read_timeout=READ_TIMEOUT,
            write_timeout=WRITE_TIMEOUT,
        )


async def _tell_admins(svc: SummaryServices, text: str, dedup_key: str | None) -> None:
    await queue_admin_notice(svc.db, svc.settings.admin_ids, text, dedup_key=dedup_key)


async def deliver(
    bot: Bot,
    svc: SummaryServices,
    group: Group,
    start: datetime,
    end: datetime,
    *,
    thread_id: int | None,
    weekly: bool,
) -> Outcome:
    """Send the summary of [start, end) to the group, in topic `thread_id` (None: General).

    weekly: the scheduled summary, whose parts are recorded under (chat, start) and resumed; an
    on-demand /week or /month is sent whole each time and records nothing.
    """
    for _ in range(MAX_MOVES + 1):
        done = await delivered_parts(svc.db, group.chat_id, start) if weekly else set()
        parts = await render_parts(svc.db, svc.photos, svc.settings, group, start, end, done)
        outcome, moved_to = await _send_parts(bot, svc, group, start, parts, thread_id, weekly)
        if moved_to is None:
            return outcome
        moved = await svc.groups.get(moved_to)
        if moved is None or not moved.active:
            return Outcome(moved_to, complete=False, gone=moved is None)
        # The supergroup is a new chat: the old group's topics are not there, so General it is.
        group, thread_id = moved, moved.thread_id
    log.error("summary for %s: chat id keeps migrating; giving up for now", group.chat_id)
    return Outcome(group.chat_id, complete=False)


async def _send_parts(
    bot: Bot,
    svc: SummaryServices,
    group: Group,
    start: datetime,
    parts: list[Part],
    thread_id: int | None,
    weekly: bool,
) -> tuple[Outcome, int | None]:
    """Send parts in order; returns the outcome, and the new chat id when the group has migrated."""
    chat_id = group.chat_id
    for part in parts:
        while True:
            try:
                await send_part(bot, part, chat_id, thread_id)
            except TelegramError as exc:
                failure = await refine(bot, chat_id, classify(exc, in_topic=thread_id is not None))
            else:
                if weekly:
                    await record_part(svc.db, chat_id, start, part.name, "sent")
                if group.muted_since is not None:
                    await _muted(svc, chat_id, False, "a summary went out there")
                    group = dataclasses.replace(group, muted_since=None)
                break
            if failure.fate is Fate.MUTED:
                await _muted(svc, chat_id, True, failure.detail)
                log.warning("summary for chat %s waits at the %s: %s", chat_id, part.name, failure.detail)
                return Outcome(chat_id, complete=False), None
            if failure.fate is Fate.NO_MEDIA and group.muted_since is not None:
                # Marked muted, refused a file, yet muted no more: lifted meanwhile; try the part again.
                await _muted(svc, chat_id, False, "its restriction was lifted")
                group = dataclasses.replace(group, muted_since=None)
                continue
            if failure.fate is Fate.MIGRATED and failure.new_chat_id is not None:
                # False when someone (the outbox) moved it first: the new id is right either way.
                await svc.groups.migrate(chat_id, failure.new_chat_id)
                log.info("summary: group %s migrated to %s", chat_id, failure.new_chat_id)
                # The alert outbox uses the same key: one notice, whichever sender met the move first.
                await _tell_admins(
                    svc,
                    f"Group {chat_id} became a supergroup ({failure.new_chat_id}); its registration, "
                    "settings, alerts and summaries moved there.",
                    f"migrated:{chat_id}",
                )
                return Outcome(failure.new_chat_id, complete=False), failure.new_chat_id
            if failure.fate is Fate.TOPIC_GONE and thread_id is not None:
                await _topic_gone(svc, group, thread_id, failure)
                thread_id = None  # this part and the rest go to General
                continue
            if failure.fate is Fate.CHAT_GONE:
                await _chat_gone(svc, group, failure)
                return Outcome(chat_id, complete=False, gone=True), None
            if failure.fate in FOR_GOOD:
                await _refused(svc, group, start, part.name, failure, weekly)
                break
            # RETRY, WAIT, TOPIC_CLOSED: the same request may succeed later; the rest waits for it.
            if failure.fate is Fate.TOPIC_CLOSED and weekly:
                await _tell_admins(
                    svc,
                    f"The weekly summary for group {group.title} ({chat_id}) cannot be posted: its General "
                    f"topic is closed ({failure.detail}). It will be retried; reopen General or /register "
                    "the group in an open topic.",
                    f"summary-general-closed:{chat_id}:{iso(start)}",
                )
            log.warning("summary for chat %s stopped at the %s: %s", chat_id, part.name, failure.detail)
            return Outcome(chat_id, complete=False), None
    return Outcome(chat_id, complete=True), None


async def _muted(svc: SummaryServices, chat_id: int, muted: bool, why: str) -> None:
    """The same bookkeeping as the alert outbox's: one notice per change, the group's alerts held or due."""
    if await svc.groups.set_muted(chat_id, muted, why=why, tell=svc.settings.admin_ids):
        await hold_alerts(svc.db, chat_id, muted)


async def _topic_gone(svc: SummaryServices, group: Group, thread_id: int, failure: Failure) -> None:
    log.warning("summary for chat %s: topic %s gone (%s)", group.chat_id, thread_id, failure.detail)
    if thread_id != group.thread_id:
        return  # the topic a /week was asked in, not the group's own: nothing to change
    await svc.groups.update(group.chat_id, thread_id=None)
    # The same key as for alerts: one notice for the topic, whichever message found it gone first.
    await _tell_admins(
        svc,
        f"The topic that group {group.title} ({group.chat_id}) was registered in is closed or deleted "
        f"({failure.detail}); alerts and summaries now go to General. Send /register in a topic to "
        "move them there.",
        f"topic-gone:{group.chat_id}:{thread_id}",
    )


async def _chat_gone(svc: SummaryServices, group: Group, failure: Failure) -> None:
    log.warning("summary: cannot write to chat %s (%s); deactivating it", group.chat_id, failure.detail)
    if await svc.groups.deactivate(group.chat_id, failure.detail):
        await _tell_admins(
            svc,
            f"Group {group.title} ({group.chat_id}) no longer receives alerts or summaries: "
            f"{failure.detail}. An admin can add the bot back and send /register there.",
            None,  # deactivate() is True once per deactivation: a group kicked again is news again
        )


async def _refused(
    svc: SummaryServices, group: Group, start: datetime, part: str, failure: Failure, weekly: bool
) -> None:
    log.warning("summary for chat %s: the %s was refused (%s); skipped", group.chat_id, part, failure.detail)
    if not weekly:
        return  # an on-demand summary is asked for by someone watching; the admins need not hear it
    await record_part(svc.db, group.chat_id, start, part, "refused", failure.detail)
    day = start.astimezone(group.zone).strftime("%Y-%m-%d")
    await _tell_admins(
        svc,
        f"The weekly summary for group {group.title} ({group.chat_id}), week from {day}, goes out without "
        f"its {TOLD_AS.get(part, part)}: Telegram refused it ({failure.detail}).",
        f"summary-refused:{group.chat_id}:{iso(start)}:{part}",
    )
