"""The button under a receipt: "this is a leopard" hands a photo the model passed over to coordinators."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from bot.alerts import Escalation, escalate
from bot.intake import Receipt
from bot.services import services
from bot.text import parse_id, t
from handlers.common import kick_outbox, language_of

PREFIX = "esc:"


def escalate_keyboard(lang: str, receipts: list[Receipt]) -> InlineKeyboardMarkup | None:
    """One button per fresh photo the model did not alert on (one photo: a sentence; an album: #N)."""
    passed = [r for r in receipts if not r.duplicate and not r.event_id]
    if not passed:
        return None
    single = len(receipts) == 1

    def button(r: Receipt) -> InlineKeyboardButton:
        text = t(lang, "button.escalate") if single else t(lang, "button.escalate_one", id=r.sighting_id)
        return InlineKeyboardButton(text, callback_data=f"{PREFIX}{r.sighting_id}")

    rows = [[button(r)] for r in passed]
    return InlineKeyboardMarkup(rows)


async def on_escalate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or not query.data:
        return
    lang = language_of(update, context)
    raw = query.data.removeprefix(PREFIX)
    sighting = parse_id(raw)
    if sighting is None:
        await query.answer(t(lang, "review.invalid"), show_alert=True)
        return
    outcome = await escalate(services(context).db, sighting, query.from_user.id)
    if outcome is Escalation.NOT_FOUND:
        await query.answer(t(lang, "review.invalid"), show_alert=True)
        return
    await query.answer(t(lang, f"escalate.{outcome.value}", id=raw), show_alert=True)
    if outcome is Escalation.SENT:
        kick_outbox(context)
    # The pressed button has done its job; an album's other buttons stay.
    markup = query.message.reply_markup if isinstance(query.message, Message) else None
    if markup is not None:
        rows = [[b for b in row if b.callback_data != query.data] for row in markup.inline_keyboard]
        kept = [row for row in rows if row]
        await query.edit_message_reply_markup(InlineKeyboardMarkup(kept) if kept else None)
