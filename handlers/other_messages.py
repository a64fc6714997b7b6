"""Everything else a person can send in a private chat gets a reply: nothing is silently dropped.

Telegram delivers voice notes, stickers, contacts, dice, polls and more; a ranger in the field who
gets no answer cannot tell a bot that ignored them from one that is down. Nothing is stored for
these: they carry no sighting.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.text import t
from handlers.common import language_of

# Message kinds in the order they are checked; the first present names the reply.
# Videos never get here: handlers/videos.py takes them as sightings.
_KINDS = (
    ("voice", "voice"),
    ("audio", "voice"),
    ("sticker", "sticker"),
    ("contact", "contact"),
    ("dice", "other"),
    ("poll", "other"),
)


def kind_of(msg: Message) -> str:
    for attribute, kind in _KINDS:
        if getattr(msg, attribute, None):
            return kind
    return "other"


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    if msg is None:
        return
    await msg.reply_text(t(language_of(update, context), f"other.{kind_of(msg)}"))
