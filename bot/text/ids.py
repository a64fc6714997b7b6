"""Numbers and codes people type (or forge in button data): sighting ids, user ids, area codes.

`str.isdigit()` accepts superscripts and other Unicode digits that `int()` then refuses, and a
20-digit number overflows SQLite's 64-bit INTEGER; both ended in "Something went wrong". Only ASCII
digits in a range the data can hold are ids. Codes are short words: a 5000-character "area" would
be stored, and every reply that names it would outgrow Telegram's message limit.
"""

from __future__ import annotations

import re

# Telegram user ids have at most 52 significant bits; sighting ids are far below that.
MAX_ID = 2**52
_ASCII_ID = re.compile(r"[0-9]{1,16}")
MAX_CODE = 32
_ASCII_DIGITS = frozenset("0123456789")


def parse_id(text: str | None, *, maximum: int = MAX_ID) -> int | None:
    """A positive id written in ASCII digits (a leading '#' allowed), or None."""
    if text is None:
        return None
    raw = text.strip().removeprefix("#")
    if not _ASCII_ID.fullmatch(raw):
        return None
    value = int(raw)
    return value if 0 < value <= maximum else None


def looks_numeric(text: str) -> bool:
    """Meant as a number ("12", "#3", "²", "٣", "-1"), whether or not parse_id takes it: such an argument
    is an id or nothing, never a name to look up."""
    raw = text.strip().removeprefix("#").removeprefix("-").removeprefix("+")
    return bool(raw) and all(ch.isnumeric() for ch in raw)


def parse_code(text: str | None) -> str | None:
    """An area or station code as typed, upper-cased: up to 32 letters (any script: "УСТ" is typed too),
    ASCII digits, '-' and '_', starting with a letter or digit. Not "²", not markup, not a paragraph."""
    if text is None:
        return None
    raw = text.strip()
    if not 0 < len(raw) <= MAX_CODE or raw[0] in "-_":
        return None
    if all(ch.isalpha() or ch in _ASCII_DIGITS or ch in "-_" for ch in raw):
        return raw.upper()
    return None
