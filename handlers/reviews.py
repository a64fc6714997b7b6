"""Review buttons under alerts: Confirm leopard / Not a leopard / Other species.

The press is answered before the decision is written: Telegram accepts an answer for a few seconds
only, and a late answer ("query is too old") must cost nothing but the toast. The ranger's verdict
is queued with the decision itself (bot.alerts.reviews.decide) and delivered by the notice sender.

Anyone in the group can press a button, so only an active coordinator or an admin decides; anyone
else gets a polite refusal, nothing changes, and the attempt is recorded (bot.alerts.reviews.record_refusal).
"""

from __future__ import annotations

import logging
import re

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.alerts import DECISIONS, decide, may_decide, record_refusal, review_status
from bot.people import Role
from bot.services import services
from bot.text import t
from handlers.common import kick_outbox, language_of

log = logging.getLogger(__name__)

# [0-9], not str.isdigit(): that accepts "¹" and other Unicode digits, which int() then refuses.
_DATA = re.compile(r"rv:([0-9]{1,19}):([a-z]+)")
SQLITE_MAX_INTEGER = 2**63 - 1  # a larger id cannot even be bound as a query parameter


def parse_review(data: str | None) -> tuple[int, str] | None:
    """(event id, decision) from callback data, or None for anything the bot's buttons never carry
    (callback data can be forged by a custom client)."""
    match = _DATA.fullmatch(data or "")
    if match is None or match.group(2) not in DECISIONS:
        return None
    event = int(match.group(1))
    return (event, match.group(2)) if 0 < event <= SQLITE_MAX_INTEGER else None


async def on_review(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.message is None:
        return
    lang = language_of(update, context)
    chat_id = query.message.chat.id
    svc = services(context)
    # Only in a registered group; a forged press anywhere else (a private chat) still gets its answer.
    group = await svc.groups.get(chat_id)
    parsed = parse_review(query.data) if group is not None and group.active else None
    status = await review_status(svc.db, parsed[0], chat_id) if parsed else None
    if parsed is None or status is None:
        await _answer(query, t(lang, "review.invalid"), show_alert=True)
        return
    event, decision = parsed
    user = query.from_user
    role = await svc.access.role(user.id)
    if not may_decide(role):
        # A suspended person is told why; anyone else (no role, removed, a ranger) who decides. The
        # presser's language, not the group's: only the presser sees this answer.
        refusal = "review.refused_suspended" if role == Role.SUSPENDED else "review.refused"
        await _answer(query, t(lang, refusal), show_alert=True)
        await record_refusal(svc.db, event, decision, user.id, user.full_name, chat_id, role)
        log.info("review %s of event %s by %s (%s) refused", decision, event, user.id, role.name)
        return
    key = f"review.already.{decision}" if status == decision else f"review.done.{decision}"
    await _answer(query, t(lang, key))
    outcome = await decide(
        svc.db, event, decision, user.id, user.full_name, chat_id, movement_days=svc.settings.movement_days
    )
    if outcome is not None and outcome.changed:
        kick_outbox(context)  # the ranger's notice and the alert edits, now rather than at the next tick


async def _answer(query: CallbackQuery, text: str, *, show_alert: bool = False) -> None:
    try:
        await query.answer(text, show_alert=show_alert)
    except TelegramError as exc:
        # Too late or a network error: only the presser's toast is lost, never the decision.
        log.warning("button press %s not answered: %s", query.id, exc)
