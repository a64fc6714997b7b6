"""The buttons under what the bot sends: the coordinators' review buttons under an alert."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.text import t


def review_keyboard(lang: str, event_id: int) -> InlineKeyboardMarkup:
    """Confirm, reject, other species: callback data rv:<event>:<decision> (handlers/reviews.py)."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(lang, "button.confirm"), callback_data=f"rv:{event_id}:confirmed"),
                InlineKeyboardButton(t(lang, "button.reject"), callback_data=f"rv:{event_id}:rejected"),
            ],
            [InlineKeyboardButton(t(lang, "button.other"), callback_data=f"rv:{event_id}:other")],
        ]
    )
