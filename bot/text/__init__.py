"""Words people read: the ru/kk/en catalogs, Telegram's text measure, and ids as people type them."""

from bot.text.clean import plain
from bot.text.i18n import LANGUAGES, pick_language, t
from bot.text.ids import looks_numeric, parse_code, parse_id
from bot.text.tg_text import CAPTION_LIMIT, KEEP, MESSAGE_LIMIT, Line, fit, shorten, split, visible_length

__all__ = [
    "CAPTION_LIMIT",
    "KEEP",
    "LANGUAGES",
    "MESSAGE_LIMIT",
    "Line",
    "fit",
    "looks_numeric",
    "parse_code",
    "parse_id",
    "pick_language",
    "plain",
    "shorten",
    "split",
    "t",
    "visible_length",
]
