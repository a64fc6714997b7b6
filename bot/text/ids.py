"""Numbers people type (or forge in button data): sighting ids, user ids.

`str.isdigit()` accepts superscripts and other Unicode digits that `int()` then refuses, and a
20-digit number overflows SQLite's 64-bit INTEGER; both ended in "Something went wrong". Only ASCII
digits in a range the data can hold are ids.
"""

from __future__ import annotations

import re

# Telegram user ids have at most 52 significant bits; sighting ids are far below that.
MAX_ID = 2**52
_ASCII_ID = re.compile(r"[0-9]{1,16}")


def parse_id(text: str | None, *, maximum: int = MAX_ID) -> int | None:
    """A positive id written in ASCII digits (a leading '#' allowed), or None."""
    if text is None:
        return None
    raw = text.strip().removeprefix("#")
    if not _ASCII_ID.fullmatch(raw):
        return None
    value = int(raw)
    return value if 0 < value <= maximum else None
