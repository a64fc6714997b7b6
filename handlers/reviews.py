"""Review buttons under alerts: Confirm leopard / Not a leopard / Other species."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.i18n import t
from bot.reviews import DECISIONS, alerted_in, decide
from bot.services import services
from handlers.common import kick_outbox, language_of, registered_group


@registered_group
async def on_review(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or not query.data or query.message is None:
        return
    lang = language_of(update, context)
    _, event, decision = query.data.split(":", 2)
    if decision not in DECISIONS or not event.isdigit():
        await query.answer(t(lang, "review.invalid"), show_alert=True)
        return
    svc = services(context)
    user = query.from_user
    if not await alerted_in(svc.db, int(event), query.message.chat.id):
        await query.answer(t(lang, "review.invalid"), show_alert=True)
        return
    outcome = await decide(
        svc.db,
        int(event),
        decision,
        user.id,
        user.full_name,
        query.message.chat.id,
        movement_days=svc.settings.movement_days,
    )
    if outcome is None:
        await query.answer(t(lang, "review.invalid"), show_alert=True)
        return
    await query.answer(t(lang, f"review.done.{decision}"))
    kick_outbox(context)
    if outcome.ranger_id and outcome.changed:
        await context.bot.send_message(
            outcome.ranger_id, t(outcome.ranger_language, f"review.ranger.{decision}", id=event)
        )
