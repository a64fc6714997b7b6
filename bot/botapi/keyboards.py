"""The buttons under what the bot sends: the coordinators' review buttons under an alert."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.text import shorten, t

DECIDED = ("confirmed", "rejected", "other")
WHO_MAX = 24  # a name on a button: a phone shows one row of it


def review_keyboard(
    lang: str, event_id: int, status: str = "unreviewed", who: str = ""
) -> InlineKeyboardMarkup:
    """Confirm, reject, other species: callback data rv:<event>:<decision> (handlers/reviews.py).

    Once decided, one button says the decision and who made it instead of three that look the same as
    before. It carries the decision itself, so a press is answered "already recorded" and changes
    nothing; a coordinator who wants another verdict opens /sighting N, which shows the three again.
    """
    if status in DECIDED:
        text = t(
            lang, "button.decided", verdict=t(lang, f"verdict.{status}"), who=shorten(who or "?", WHO_MAX)
        )
        return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=f"rv:{event_id}:{status}")]])
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(lang, "button.confirm"), callback_data=f"rv:{event_id}:confirmed"),
                InlineKeyboardButton(t(lang, "button.reject"), callback_data=f"rv:{event_id}:rejected"),
            ],
            [InlineKeyboardButton(t(lang, "button.other"), callback_data=f"rv:{event_id}:other")],
        ]
    )
