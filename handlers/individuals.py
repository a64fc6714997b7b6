"""Individual leopards in the chat: "Who is this?" under confirmed alerts (its delivery job and buttons),
/individuals, /individual PL-M1, and /compare with individuals' codes.

The question is queued with the confirmation (bot/alerts/reviews.py) and sent by deliver_questions, a
job like the outbox's: a failed send is retried with backoff, a 400/403 ends it. Anyone in the group
can press a button, so only an active coordinator or an admin decides (bot.alerts.may_decide); the
answer is recorded with who and when, and a changed answer is a new row (bot.individuals.identification).
"""

from __future__ import annotations

import logging
import re

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.alerts import may_decide
from bot.individuals import (
    FLANK_CODES,
    CatalogueError,
    Decision,
    build_question,
    question_text,
    who_buttons,
    who_caption,
)
from bot.people import group_audience
from bot.reports.individuals import catalogue_text, individual_report
from bot.services import services
from bot.text import CAPTION_LIMIT, parse_id, split, t
from handlers import movement
from handlers.common import kick_outbox, language_of, reader

log = logging.getLogger(__name__)

_DATA = re.compile(r"wi:([0-9]{1,19}):(s:[0-9]{1,19}|n|c|f:[lr])")
SQLITE_MAX_INTEGER = 2**63 - 1


def parse_who(data: str | None) -> tuple[int, str, str | None] | None:
    """(event, action s/n/c/f, argument) from callback data; None for what the buttons never carry."""
    match = _DATA.fullmatch(data or "")
    if match is None:
        return None
    event = int(match.group(1))
    action, _, arg = match.group(2).partition(":")
    if not 0 < event <= SQLITE_MAX_INTEGER or (action == "s" and not 0 < int(arg) <= SQLITE_MAX_INTEGER):
        return None
    return event, action, arg or None


async def deliver_questions(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue job: send the "Who is this?" questions owed (handlers/__init__.py schedule_jobs)."""
    svc = services(context)
    ids = svc.identifications
    for event_id, chat_id, attempts in await ids.due_questions():
        group = await svc.groups.get(chat_id)
        if group is None or not group.active:
            await ids.question_failed(event_id, chat_id, attempts, "group inactive", final=True)
            continue
        audience = group_audience(group, svc.settings.zone, svc.settings.untrusted_grid_km)
        try:
            q = await build_question(
                ids, svc.photos, event_id, audience, max_km_per_day=svc.settings.max_km_per_day
            )
        except (OSError, ValueError) as exc:  # the photo is gone or unreadable: no question can be asked
            log.error("who-is-this for event %s not built: %s", event_id, exc)
            await ids.question_failed(event_id, chat_id, attempts, f"not built: {exc}", final=True)
            continue
        if q is None:
            await ids.question_failed(event_id, chat_id, attempts, "not a leopard event", final=True)
            continue
        lang = audience.lang
        # One message: the buttons hang under it (a question of 3 candidates is far below the limit).
        text = next(split(question_text(lang, q, grid_km=audience.grid_km, exact=audience.exact).split("\n")))
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                for row in who_buttons(lang, q)
            ]
        )
        pictures = [(n, c) for n, c in enumerate(q.candidates, 1) if c.picture is not None]
        try:
            if pictures:
                media = [
                    InputMediaPhoto(
                        c.picture or b"", caption=who_caption(lang, n, c), parse_mode=ParseMode.HTML
                    )
                    for n, c in pictures
                ]
                if len(media) == 1:  # an album needs two or more
                    await context.bot.send_photo(
                        chat_id, media[0].media, caption=media[0].caption, parse_mode=ParseMode.HTML,
                        message_thread_id=group.thread_id,
                    )  # fmt: skip
                else:
                    await context.bot.send_media_group(chat_id, media, message_thread_id=group.thread_id)
            sent = await context.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                message_thread_id=group.thread_id,
            )
        except (Forbidden, BadRequest) as exc:
            log.error("who-is-this for event %s to %s refused: %s", event_id, chat_id, exc.message)
            await ids.question_failed(
                event_id, chat_id, attempts, f"{type(exc).__name__}: {exc.message}", final=True
            )
            continue
        except (TelegramError, OSError) as exc:
            await ids.question_failed(
                event_id, chat_id, attempts, f"{type(exc).__name__}: {exc}", final=False
            )
            continue
        await ids.question_sent(event_id, chat_id, sent.message_id)


async def on_who(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.message is None:
        return
    lang = language_of(update, context)
    chat_id = query.message.chat.id
    svc = services(context)
    ids = svc.identifications
    group = await svc.groups.get(chat_id)
    parsed = parse_who(query.data) if group is not None and group.active else None
    if parsed is None or not await ids.was_asked(parsed[0], chat_id):
        await _answer(query, t(lang, "who.invalid"), show_alert=True)
        return
    event, action, arg = parsed
    user = query.from_user
    if not may_decide(await svc.access.role(user.id)):
        await _answer(query, t(lang, "who.refused"), show_alert=True)
        return
    if action == "f":
        flank = FLANK_CODES[arg or "l"]
        await ids.event_crop(event, flank)
        await ids.ask_again(event, chat_id)
        # The delivery job asks again within seconds; not from here, so that one sender sends.
        await _answer(query, t(lang, "who.flank_set", flank=t(lang, f"flank.{flank}")))
        return
    crop = await ids.event_crop(event)
    if crop is None:
        await _answer(query, t(lang, "who.invalid"), show_alert=True)
        return
    code = None
    if action == "s":
        found = await ids.catalogue.get(int(arg or 0))
        if found is None:
            await _answer(query, t(lang, "who.invalid"), show_alert=True)
            return
        code = found.code
    decision: Decision = "same" if action == "s" else "new" if action == "n" else "cant_tell"
    try:
        done = await ids.identify(
            crop, decision, by=user.id, by_name=user.full_name, chat_id=chat_id, code=code
        )
    except CatalogueError as exc:
        await _answer(query, exc.text(lang), show_alert=True)
        return
    if done.changed:
        kick_outbox(context)  # the alerts whose movement lines read this identity, edited now
    said = (
        t(lang, "who.answer.cant_tell")
        if done.individual is None
        else t(lang, f"who.answer.{decision}", code=done.individual.code)
    )
    await _answer(query, t(lang, "who.recorded" if done.changed else "who.already", answer=said))


async def individuals_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    assert msg is not None
    svc = services(context)
    audience = await reader(update, context)
    listing = await svc.identifications.catalogue.listing()
    for part in split(catalogue_text(listing, audience).split("\n")):
        await msg.reply_text(part, parse_mode=ParseMode.HTML)


async def individual_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    assert msg is not None
    svc = services(context)
    audience = await reader(update, context)
    args = context.args or []
    if len(args) != 1:
        await msg.reply_text(t(audience.lang, "individual.usage"))
        return
    report = await individual_report(
        svc.identifications.catalogue, args[0], audience, max_km_per_day=svc.settings.max_km_per_day
    )
    if report is None:
        await msg.reply_text(t(audience.lang, "individual.missing", code=args[0][:48]))
        return
    if report.map_png is not None:
        await msg.reply_photo(
            report.map_png, caption=t(audience.lang, "individual.map_caption")[:CAPTION_LIMIT]
        )
    for part in split(report.text.split("\n")):
        await msg.reply_text(part, parse_mode=ParseMode.HTML)


async def compare(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/compare with individuals' codes as well as event numbers: a code stands for that individual's
    last sighting, and the move is judged by /compare itself (handlers/movement.py), at its precision."""
    svc = services(context)
    args = list(context.args or [])
    for n, arg in enumerate(args):
        if parse_id(arg) is not None:
            continue
        ind = await svc.identifications.catalogue.get(arg)
        seen = await svc.identifications.catalogue.seen(ind.id) if ind else []
        placed = [s for s in seen if s.point is not None and s.taken is not None]
        if placed:
            args[n] = str(placed[-1].event_id)
    context.args = args
    await movement.compare(update, context)


async def _answer(query: CallbackQuery, text: str, *, show_alert: bool = False) -> None:
    try:
        await query.answer(text[:200], show_alert=show_alert)
    except TelegramError as exc:
        log.warning("button press %s not answered: %s", query.id, exc)
