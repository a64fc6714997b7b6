"""Telegram's own measure of a text, and fitting messages into it.

The Bot API limits (1024 for a caption, 4096 for a message) count UTF-16 code units of the text as
shown, after parse_mode is applied: tags cost nothing, "&amp;" costs one, an emoji outside the BMP
costs two. Python's len() of the HTML source is wrong both ways, so an emoji-heavy caption that "fit"
was refused by Telegram.

What people typed (a ranger's caption and name, a station's name) can be any length, so a message is
built as Lines whose typed values are shortened first, evenly from the longest down; only if that is
not enough are whole lines dropped, least important first. Typed values are shortened before they
are escaped, so no cut can fall inside a tag or an entity.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

CAPTION_LIMIT = 1024
MESSAGE_LIMIT = 4096
ELLIPSIS = "…"
KEEP = 1_000  # rank of a line that is never dropped (title, verdict)
# Typed values are not cut below this many units before lines are dropped: "👤 …" tells nobody anything.
TYPED_FLOOR = 24

_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
# Left dangling at a cut these would glue the ellipsis to a half emoji (ZWJ, variation selector).
_DANGLING = "\u200d\ufe0e\ufe0f"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def visible_text(html_text: str) -> str:
    """The text Telegram shows for parse_mode=HTML: tags removed, entities decoded."""
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), _TAG.sub("", html_text))


def visible_length(html_text: str) -> int:
    """UTF-16 code units of the parsed text. Surrounding whitespace, which Telegram trims, is
    counted: over-estimating is the safe side of a limit."""
    return utf16_len(visible_text(html_text))


def shorten(text: str, limit: int) -> str:
    """Plain (unescaped) text cut to at most `limit` UTF-16 units, marked with "…" when cut.

    Cuts fall between code points, so a surrogate pair is never split."""
    if utf16_len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    budget, used, end = limit - 1, 0, 0  # the ellipsis is one unit
    for ch in text:
        cost = 2 if ord(ch) > 0xFFFF else 1
        if used + cost > budget:
            break
        used += cost
        end += 1
    return text[:end].rstrip().rstrip(_DANGLING) + ELLIPSIS


@dataclass(frozen=True)
class Line:
    """One line of an HTML message: `render` gets each value of `typed` (raw text someone typed)
    HTML-escaped and perhaps shortened, as keyword arguments, and returns the line's HTML."""

    render: Callable[..., str]
    typed: Mapping[str, str] = field(default_factory=dict)
    rank: int = 0  # when lines must go, the lowest rank goes first (the last of equals first)

    @classmethod
    def of(cls, html_text: str, rank: int = 0) -> Line:
        """A line with nothing typed in it (already escaped HTML)."""
        return cls(lambda: html_text, {}, rank)

    def html(self, cap: int | None = None) -> str:
        values = {k: html.escape(v if cap is None else shorten(v, cap)) for k, v in self.typed.items()}
        return self.render(**values)


def _join(lines: Sequence[Line], cap: int | None) -> str:
    return "\n".join(line.html(cap) for line in lines)


def _fit_typed(lines: Sequence[Line], limit: int) -> str | None:
    """The lines with typed values cut to the largest common cap that fits, or None if even
    TYPED_FLOOR is too much."""
    full = _join(lines, None)
    if visible_length(full) <= limit:
        return full
    longest = max((utf16_len(v) for line in lines for v in line.typed.values()), default=0)
    low, high = TYPED_FLOOR, longest - 1
    best: str | None = None
    while low <= high:
        cap = (low + high) // 2
        text = _join(lines, cap)
        if visible_length(text) <= limit:
            best, low = text, cap + 1
        else:
            high = cap - 1
    return best


def fit(lines: Sequence[Line], limit: int) -> str:
    """The lines as one HTML text whose visible length is at most `limit`; see the module doc."""
    kept = list(lines)
    while True:
        text = _fit_typed(kept, limit)
        if text is not None:
            return text
        droppable = [i for i, line in enumerate(kept) if line.rank < KEEP]
        if not droppable:
            break
        del kept[min(droppable, key=lambda i: (kept[i].rank, -i))]
    # Only the never-dropped lines are left and they are too long on their own (not a message this
    # bot writes): plain text cut to size is still better than a message Telegram refuses.
    return html.escape(shorten(visible_text(_join(kept, 0)), limit), quote=False)


def split(lines: Sequence[str], limit: int = MESSAGE_LIMIT) -> Iterator[str]:
    """HTML lines packed into as few messages as possible, each within `limit`; a line is never
    split across messages, and one too long by itself is cut (as plain text)."""
    chunk: list[str] = []
    size = 0
    for line in lines:
        length = visible_length(line)
        if length > limit:
            line = html.escape(shorten(visible_text(line), limit), quote=False)
            length = visible_length(line)
        if chunk and size + 1 + length > limit:
            yield "\n".join(chunk)
            chunk, size = [], 0
        size += length + (1 if chunk else 0)
        chunk.append(line)
    if chunk:
        yield "\n".join(chunk)
