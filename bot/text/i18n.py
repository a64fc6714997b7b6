"""Messages in English, Russian and Kazakh from gettext catalogs (bot/text/locales/<lang>.po, read by Babel).

Catalog message ids are stable keys ("receipt.leopard"); every language, English included, has a
catalog, so a missing translation is a test failure rather than a silently English message.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LANGUAGES = ("ru", "kk", "en")
DEFAULT_LANGUAGE = "ru"
LOCALE_DIR = Path(__file__).parent / "locales"


@cache
def catalog(lang: str) -> Catalog:
    path = LOCALE_DIR / f"{lang}.po"
    if not path.is_file():  # a missing catalog falls back to English (and fails tests/test_i18n.py)
        return Catalog(locale=lang)
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def pick_language(*candidates: str | None) -> str:
    """The first supported language among e.g. a /lang choice and Telegram's language_code."""
    for code in candidates:
        if code:
            base = code.lower().replace("_", "-").split("-")[0]
            if base in LANGUAGES:
                return base
    return DEFAULT_LANGUAGE


def t(lang: str | None, key: str, /, **params: object) -> str:
    lang = pick_language(lang)
    message = catalog(lang).get(key) or catalog("en").get(key)
    found = message.string if message and message.string else key
    text = found if isinstance(found, str) else found[0]  # plural entries hold a sequence
    return text.format(**params) if params else text


def keys(lang: str) -> dict[str, str]:
    return {str(m.id): str(m.string) for m in catalog(lang) if m.id}
