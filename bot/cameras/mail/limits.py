"""The caps on one e-mail, checked on its raw bytes before any parser sees it, and the budget its parse runs
under (bot/cameras/mail/parse.py).

Python's MIME parser checks every line against the boundary of every open multipart level, so its cost
is lines times depth: a 1 MB message nested 900 levels deep kept it busy for half a minute, and the
mailbox's intake with it. Its header parser has cases as bad on one long or deeply nested header. So a
linear pre-scan counts what makes parsing expensive (MIME depth, parts, the size of each header field and
header section, the longest line, lines times the levels around them) and refuses a message over any cap
before parsing starts; the parse itself then runs under a time budget (checked as the bytes are fed in
and between parts) and a cap on the bytes its parts decode to. A message refused here is not lost: the
intake quarantines it (kept in the mailbox, written down, the admins told; bot/cameras/mail/intake.py).

The caps sit far above what any camera sends (one multipart/mixed level, perhaps a multipart/alternative
inside, a few parts, 76-character base64 lines, a few kilobytes of headers) and far below what makes
the parser slow.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

MAX_DEPTH = 10  # nested multipart (and message/rfc822) levels; cameras use one or two
MAX_MIME_PARTS = 256  # every part at every level; cameras send two to six
MAX_HEADER_FIELD = 16 * 1024  # one header field with its folded lines (a long References fits)
MAX_HEADER_SECTION = 128 * 1024  # all header fields of the message or of one part (Received chains)
MAX_HEADER_FIELDS = 1000  # fields in one header section
MAX_LINE = 2**20  # one line; base64 is 76 characters, a whole unwrapped photo is not honest mail
# Lines times the multipart levels open around each: the parser's work. A 25 MB camera message of 76-
# character base64 lines in two levels is 0.7 million; 25 MB of empty lines in ten levels would be 90.
MAX_LINE_WORK = 4_000_000
PARSE_SECONDS = 10.0  # a 25 MB camera message parses in about a second on a Raspberry Pi 4
FEED_CHUNK = 256 * 1024  # bytes fed to the parser between looks at the clock

_BOUNDARY = re.compile(rb'boundary\*?\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))', re.IGNORECASE)
# A header line as the stdlib's feedparser tells it (its headerRE): anything else ends the header section.
_HEADER = re.compile(rb"^(From |[\x21-\x39\x3b-\x7e]*:|[\t ])")


class OverBudget(Exception):
    """The parse ran out of time or decoded too much; the message says which."""


@dataclass
class Budget:
    """What one message's parse may still spend."""

    deadline: float
    decoded: int  # bytes its parts may still decode to

    seconds: float = PARSE_SECONDS

    @classmethod
    def start(cls, raw_size: int, seconds: float | None = None) -> Budget:
        # base64 and quoted-printable only shrink: honest parts decode to less than the message's size.
        allowed = PARSE_SECONDS if seconds is None else seconds
        return cls(time.monotonic() + allowed, 2 * raw_size + 2**20, allowed)

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise OverBudget(f"parsing took over {self.seconds:g} s")

    def spend(self, decoded: int) -> None:
        self.decoded -= decoded
        if self.decoded < 0:
            raise OverBudget("its parts decode to more than twice its size")
        self.check()


def scan(raw: bytes) -> str | None:
    """Why this message is refused before parsing, or None. Linear in its size, whatever its shape."""
    data = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if data.count(b"\n") >= MAX_LINE_WORK:  # before splitting it into millions of lines
        return f"over {MAX_LINE_WORK} lines"
    longest = max(map(len, data.split(b"\n")), default=0)
    if longest > MAX_LINE:
        return f"a line of {longest} bytes (cap {MAX_LINE})"
    return _Scan(data).run()


class _Scan:
    """A walk of the MIME structure as the stdlib parser will see it: header sections line by line, then
    bodies in which only a delimiter line of an open boundary means anything, found by one regular
    expression search (so a body costs C speed, not a Python step per line). Each open level is
    (boundary, digest): None for an embedded message; in a multipart/digest a part without a
    Content-Type is a message."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.open: list[tuple[bytes | None, bool]] = []
        self.parts = 1
        self.in_header = True
        self.section = self.fields = self.field = 0
        self.content_type: bytes | None = None
        self.in_content_type = False
        self.work = data.count(b"\n") + 1  # every line is read once; more in nested levels
        self._delimiters: dict[tuple[bytes, ...], re.Pattern[bytes]] = {}

    def run(self) -> str | None:
        over = None
        while over is None and self.pos <= len(self.data):
            if self.in_header:
                over = self._header_line()
            elif any(b is not None for b, _ in self.open):
                over = self._next_delimiter()
            else:
                break  # a single-part body (or an embedded message's): nothing below it to count
        if over is None and self.work > MAX_LINE_WORK:
            over = f"over {MAX_LINE_WORK} lines times MIME levels"
        return over

    def _header_line(self) -> str | None:
        start = self.pos
        end = self.data.find(b"\n", start)
        end = len(self.data) if end < 0 else end
        line = self.data[start:end]
        self.pos = end + 1
        if not line:
            return self._body_starts()
        if not _HEADER.match(line):
            # Not a header line: the parser takes it as the body's first line, and so does this.
            self.pos = start
            return self._body_starts()
        if line[:1] in (b" ", b"\t"):
            self.field += len(line) + 1
            if self.in_content_type and self.content_type is not None:
                self.content_type += line
        else:
            self.fields += 1
            self.field = len(line) + 1
            name, _, value = line.partition(b":")
            self.in_content_type = name.strip().lower() == b"content-type" and self.content_type is None
            if self.in_content_type:
                self.content_type = value
        self.section += len(line) + 1
        if self.field > MAX_HEADER_FIELD:
            return f"a header field of over {MAX_HEADER_FIELD} bytes"
        if self.section > MAX_HEADER_SECTION:
            return f"a header section of over {MAX_HEADER_SECTION} bytes"
        if self.fields > MAX_HEADER_FIELDS:
            return f"over {MAX_HEADER_FIELDS} header fields in one section"
        return None

    def _body_starts(self) -> str | None:
        value = self.content_type
        in_digest = bool(self.open) and self.open[-1][1]
        self.section = self.fields = self.field = 0
        self.content_type, self.in_content_type = None, False
        self.in_header = False
        kind = value.split(b";", 1)[0].strip().lower() if value is not None else b""
        if value is None and in_digest:
            kind = b"message/rfc822"
        if kind.startswith(b"multipart/"):
            found = _BOUNDARY.search(value or b"")
            if found is None:
                return None  # no boundary: the parser reads it as one text part
            quoted = found.group(1)
            boundary = re.sub(rb"\\(.)", rb"\1", quoted) if quoted is not None else found.group(2)
            self.open.append((boundary.rstrip(), kind == b"multipart/digest"))
        elif kind.startswith(b"message/") and kind != b"message/delivery-status":
            self.open.append((None, False))
            self.parts += 1
            self.in_header = True  # the embedded message's own header section follows
        else:
            return None
        if len(self.open) > MAX_DEPTH:
            return f"MIME depth over {MAX_DEPTH}"
        return self._count_parts()

    def _next_delimiter(self) -> str | None:
        tokens = tuple(b for b, _ in self.open if b is not None)
        pattern = self._delimiters.get(tokens)
        if pattern is None:
            alternatives = b"|".join(re.escape(t) for t in sorted(set(tokens), key=len, reverse=True))
            pattern = re.compile(rb"^--(" + alternatives + rb")(--)?[ \t]*$", re.MULTILINE)
            self._delimiters[tokens] = pattern
        found = pattern.search(self.data, self.pos)
        stop = len(self.data) if found is None else found.start()
        self.work += max(len(self.open) - 1, 0) * self.data.count(b"\n", self.pos, stop)
        if found is None:
            self.pos = len(self.data) + 1
            return None
        self.pos = found.end() + 1
        level = max(i for i, (b, _) in enumerate(self.open) if b == found.group(1))
        del self.open[level + 1 :]
        if found.group(2):  # the closing delimiter: what follows is that multipart's epilogue
            self.open.pop()
            return None
        self.parts += 1
        self.in_header = True
        return self._count_parts()

    def _count_parts(self) -> str | None:
        return f"over {MAX_MIME_PARTS} MIME parts" if self.parts > MAX_MIME_PARTS else None
