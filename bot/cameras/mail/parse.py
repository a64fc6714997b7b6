"""Reading one e-mail as a camera sends it: who from, subject, body text, and its media attachments.

Input is untrusted. The stdlib parser with policy=default is lenient (a broken MIME structure becomes
defects, not exceptions), but header objects are built lazily and a few malformed headers still raise
on access, so every header and part is read under its own guard: one bad part costs that part only.
Attachments are classified by their bytes, not by what the sender says they are (cameras label JPEGs
application/octet-stream, spam labels executables image/jpeg). Archives are never opened: no camera
zips its photos, and a zip is how a 1 KB message becomes gigabytes.

Before any of that, limits.scan refuses a message whose shape would make the parser itself slow (deep or
wide MIME, huge headers or lines) and the parse runs under limits.Budget: such a message comes back with
`quarantine` set and nothing read from it but its top header fields. Who sent it is sender.author's
reading of From: the address, never the display name. Every string a person may be shown (subject, file
names) is bot.text.plain's one clean line: no control, format or bidi characters.

Its times (ParsedMail.times) date photos whose camera wrote no shot time (bot.media.capture_time.from_mail):
only the topmost Received header is read, the one our own mail server added on delivery; every header
below it is whatever the sender wrote, and so is Date.
"""

from __future__ import annotations

import codecs
import email.policy
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesFeedParser
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from bot.cameras.mail.limits import FEED_CHUNK, MAX_HEADER_SECTION, Budget, OverBudget, scan
from bot.cameras.mail.sender import MAX_HEADER, author, decoded
from bot.media import MailTimes
from bot.text import plain

IMAGE, VIDEO, ARCHIVE, OTHER = "image", "video", "archive", "other"
MAX_PARTS = 64  # leaf parts looked at per message; cameras send one to five
TEXT_LIMIT = 20_000  # characters of body text kept for camera names and battery/signal lines
# Codecs that are no text encoding, or raise on errors="replace": a text part declaring one is read as UTF-8.
_NOT_TEXT = frozenset({"idna", "punycode", "undefined", "raw_unicode_escape", "unicode_escape"})
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"}
_BATTERY_RE = re.compile(
    r"\b(?:battery|batt|bat|power|заряд|батарея)\s*(?:level)?\s*[:=]?\s*(\d{1,3})\s*%", re.I
)
_SIGNAL_RE = re.compile(
    r"\b(?:signal(?:\s+strength)?|csq|rssi|сигнал)\s*[:=]?\s*(-?\d{1,3}(?:\s*/\s*\d{1,3})?\s*(?:dbm|%)?)",
    re.I,
)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    kind: str  # IMAGE, VIDEO, ARCHIVE or OTHER, from the bytes where they say
    size: int
    data: bytes = b""  # empty when skipped for its size
    skipped: str | None = None  # why it is not offered to the detector: "too_large", "malformed", ...


@dataclass(frozen=True)
class ParsedMail:
    sender: str | None  # the From address (sender.author), lower case; forgeable, so it is only a hint
    subject: str
    message_id: str | None
    text: str  # the plain body, or the HTML body reduced to text
    attachments: tuple[Attachment, ...]
    defects: int = 0
    battery: str | None = None
    signal: str | None = None
    error: str | None = None  # nothing could be read from it at all
    times: MailTimes = field(default_factory=MailTimes)  # the receiving server's stamp and Date, UTC
    quarantine: str | None = None  # over a cap or the parse budget (limits.py): kept, reported, not read
    forged: str | None = None  # another address its From header's display name showed
    auth_results: str | None = None  # the topmost Authentication-Results header (sender.vouched reads it)

    @property
    def images(self) -> list[Attachment]:
        return [a for a in self.attachments if a.kind == IMAGE and a.skipped is None]

    @property
    def videos(self) -> list[Attachment]:
        return [a for a in self.attachments if a.kind == VIDEO and a.skipped is None]


def media_kind(data: bytes, content_type: str = "", filename: str = "") -> str:
    """IMAGE, VIDEO, ARCHIVE or OTHER by magic bytes; the declared type only when the bytes say nothing."""
    head = data[:16]
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"II*\x00", b"MM\x00*")):
        return IMAGE
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return IMAGE
    if head[4:8] == b"ftyp":
        return IMAGE if head[8:12] in _HEIF_BRANDS else VIDEO  # HEIC photos and MP4/MOV/3GP share ISO BMFF
    if head[:4] == b"RIFF" and head[8:12] in (b"AVI ", b"AVIX"):
        return VIDEO
    if head.startswith((b"\x1a\x45\xdf\xa3", b"\x30\x26\xb2\x75", b"\x00\x00\x01\xba")):
        return VIDEO
    if len(data) > 188 and data[0] == data[188] == 0x47:
        return VIDEO  # MPEG transport stream
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b")):
        return ARCHIVE
    declared = content_type.lower()
    name = filename.lower()
    if declared.startswith("video/") or name.endswith((".mp4", ".mov", ".avi", ".3gp", ".mkv")):
        return VIDEO
    if declared.startswith("image/") or name.endswith((".jpg", ".jpeg", ".png", ".heic", ".tif", ".tiff")):
        return IMAGE  # unknown bytes under an image name: the image reader decides (and refuses)
    if "zip" in declared or "compressed" in declared or name.endswith((".zip", ".rar", ".7z", ".gz")):
        return ARCHIVE
    return OTHER


def parse_mail(raw: bytes, *, max_part_bytes: int) -> ParsedMail:
    """Never raises: a message over a cap comes back with `quarantine` set, one nothing can be read from
    with `error`."""
    try:
        over = scan(raw)
        if over is not None:
            return _quarantined(raw, over)
        budget = Budget.start(len(raw))
        parser = BytesFeedParser(policy=email.policy.default)
        for start in range(0, len(raw), FEED_CHUNK):
            parser.feed(raw[start : start + FEED_CHUNK])
            budget.check()
        return _read(parser.close(), max_part_bytes, budget, _author_fields(raw))
    except OverBudget as exc:
        return _quarantined(raw, str(exc))
    except Exception as exc:  # parser bugs on hostile input
        return ParsedMail(None, "", None, "", (), error=f"{type(exc).__name__}: {exc}"[:300])


def _quarantined(raw: bytes, reason: str) -> ParsedMail:
    """Only what the report needs, read from the top header section without the parser."""
    fields = _author_fields(raw)
    subject = " ".join(decoded(v) for v in fields.get("subject", [])[:1])
    message_id = plain(" ".join(fields.get("message-id", [])[:1]), 250)
    who = author(fields.get("from", []))
    return ParsedMail(who.address, plain(subject, 300), message_id or None, "", (), quarantine=reason)


def _author_fields(raw: bytes) -> dict[str, list[str]]:
    """From, Subject, Message-ID and Authentication-Results of the top header section as written
    (unfolded, each cut a little past sender.MAX_HEADER, so that a longer one is refused there rather
    than read short)."""
    top = raw[:MAX_HEADER_SECTION].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    fields: dict[str, list[str]] = {}
    name = ""
    for line in top.decode("utf-8", errors="replace").split("\n"):
        if line[:1] in (" ", "\t") and name:
            fields[name][-1] = (fields[name][-1] + line)[: MAX_HEADER + 1]
            continue
        key, colon, value = line.partition(":")
        name = key.strip().lower() if colon else ""
        if name in ("from", "subject", "message-id", "authentication-results"):
            fields.setdefault(name, []).append(value.strip()[: MAX_HEADER + 1])
        else:
            name = ""
    return fields


def _read(msg: Message, max_part_bytes: int, budget: Budget, fields: dict[str, list[str]]) -> ParsedMail:
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[Attachment] = []
    defects = len(msg.defects)
    leaves = 0
    for part in msg.walk():
        budget.check()
        if part.is_multipart():
            defects += len(part.defects)
            continue
        leaves += 1
        if leaves > MAX_PARTS:
            attachments.append(Attachment("", "", OTHER, 0, skipped="too_many_parts"))
            break
        defects += len(part.defects)
        item = _leaf(part, max_part_bytes, texts, htmls, budget)
        if item is not None:
            attachments.append(item)
    text = "\n".join(texts) if texts else "\n".join(_html_text(h) for h in htmls)
    # Not shown to anyone, but read for names and battery lines: controls and bidi go here too.
    text = "\n".join(plain(line, TEXT_LIMIT) for line in text[:TEXT_LIMIT].splitlines())
    subject = plain(_header(msg, "subject"), 300)
    status = f"{subject}\n{text}"
    battery = _BATTERY_RE.search(status)
    signal = _SIGNAL_RE.search(status)
    who = author(fields.get("from", []))
    return ParsedMail(
        sender=who.address,
        subject=subject,
        message_id=plain(_header(msg, "message-id"), 250) or None,
        text=text,
        attachments=tuple(attachments),
        defects=defects,
        battery=f"{battery.group(1)}%" if battery else None,
        signal=" ".join(signal.group(1).split())[:16] if signal else None,
        times=MailTimes(_received(msg), _date(_header(msg, "date"))),
        forged=who.forged,
        auth_results=next(iter(fields.get("authentication-results", [])), None),
    )


def _leaf(
    part: Message, max_part_bytes: int, texts: list[str], htmls: list[str], budget: Budget
) -> Attachment | None:
    """A body text goes to texts/htmls (None returned); anything else is an attachment."""
    try:
        ctype = part.get_content_type()
        filename = _filename(part)
        disposition = (part.get_content_disposition() or "").lower()
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
    except Exception:
        return Attachment("", "", OTHER, 0, skipped="malformed")
    budget.spend(len(data))
    if ctype in ("text/plain", "text/html") and not filename and disposition != "attachment":
        (texts if ctype == "text/plain" else htmls).append(_decode_text(part, data)[:TEXT_LIMIT])
        return None
    kind = media_kind(data, ctype, filename)
    if not data:
        return Attachment(filename, ctype, kind, 0, skipped="empty")
    if len(data) > max_part_bytes:
        return Attachment(filename, ctype, kind, len(data), skipped="too_large")
    if kind not in (IMAGE, VIDEO):
        return Attachment(filename, ctype, kind, len(data), skipped=kind)
    return Attachment(filename, ctype, kind, len(data), data)


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    # A path in a file name ("../../x.jpg") means nothing here: only the last component is kept.
    return plain(re.split(r"[\\/]", str(name)[:1000])[-1], 200)


def _decode_text(part: Message, data: bytes) -> str:
    """The text of a body part; a charset Python does not know, or no text encoding at all ("hex",
    "idna"), is read as UTF-8, and a part that cannot be read at all costs only itself."""
    data = data[: TEXT_LIMIT * 4]  # no character takes more than four bytes in any charset read here
    try:
        info = codecs.lookup(part.get_content_charset() or "utf-8")
        if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_TEXT:
            raise LookupError(info.name)
        return data.decode(info.name, errors="replace")
    except (LookupError, UnicodeError, ValueError, TypeError):
        return data.decode("utf-8", errors="replace")
    except Exception:
        return ""


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
        return " ".join(str(value).split()) if value is not None else ""
    except Exception:
        pass
    for key, raw in msg.raw_items():  # the unparsed header, decoded by hand
        if key.lower() == name:
            try:
                return " ".join(str(make_header(decode_header(raw))).split())
            except Exception:
                return " ".join(str(raw).split())
    return ""


def _received(msg: Message) -> datetime | None:
    """The date of the topmost Received header ("from … by …; Tue, 10 Mar 2026 05:31:02 +0500")."""
    try:
        found = msg.get_all("received") or []
        top = str(found[0]) if found else None
    except Exception:  # a header object that will not build: its raw text
        top = next((str(raw) for key, raw in msg.raw_items() if key.lower() == "received"), None)
    if top is None:
        return None
    _, semicolon, stamp = top.rpartition(";")
    return _date(stamp) if semicolon else None


def _date(text: str) -> datetime | None:
    """An RFC 5322 date as aware UTC; None when it is missing or cannot be read."""
    text = " ".join(text.split())
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
        if when.tzinfo is None:  # "-0000" (RFC 5322: UTC, the sender's zone unknown) or no zone at all
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):  # garbage, year 0, offsets out of range
        return None


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "tr", "li"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_text(markup: str) -> str:
    """HTML-only mail (some cameras, most spam) as plain text, for names and battery lines."""
    parser = _Text()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    return "".join(parser.parts)
