"""Text from outside (a mail subject, a file name, a sender's name) made fit to show a person: one line,
no control, format or bidi characters, a bounded length.

A subject is whatever a stranger typed. NUL, BEL and ESC do nothing useful in a Telegram message and can
upset a terminal reading the log; a right-to-left override (U+202E) makes "gpj.exe" read "exe.jpg"; zero-
width characters and soft hyphens hide inside a word so that it no longer matches what a reader (or a
filter) looks for. Everything of Unicode's categories Cc (controls), Cf (format: bidi embeddings,
overrides and isolates, zero-width joiners and spaces, soft hyphen, BOM), Cs (lone surrogates, which a
surrogateescape decode leaves behind), Co (private use) and Cn (unassigned) is removed; line and
paragraph breaks of any kind become a space; runs of white space become one space; a pile of combining
marks on one letter ("Zalgo" text, which draws over the lines around it) is cut to a few.
"""

from __future__ import annotations

import unicodedata

__all__ = ["plain"]

# Characters that separate words: removed outright they would glue two words into one.
_SPACES = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029")
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
MAX_MARKS = 3  # combining marks kept on one base letter; real scripts (Vietnamese, Kazakh) need at most 2


def plain(text: object, limit: int = 200) -> str:
    """`text` as one clean line of at most `limit` characters (an ellipsis marks a cut); "" for None."""
    if text is None:
        return ""
    source = str(text)
    if len(source) > limit * 8:  # nothing past this can survive the cut: do not walk megabytes
        source = source[: limit * 8]
    out: list[str] = []
    marks = 0
    for ch in source:
        if ch in _SPACES or ch.isspace():
            out.append(" ")
            marks = 0
            continue
        category = unicodedata.category(ch)
        if category in _DROPPED:
            continue
        if category[0] == "M":
            marks += 1
            if marks > MAX_MARKS:
                continue
        else:
            marks = 0
        out.append(ch)
    line = " ".join("".join(out).split())
    if len(line) > limit:
        line = line[: max(limit - 1, 0)].rstrip() + "…"
    return line
