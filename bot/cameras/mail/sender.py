"""Who a message is from: the address in its From header, read the way DMARC reads it, never its display name.

`From: cam17@cameras.example <mallory@evil.example>` is mail from mallory@evil.example whose display name
looks like an address. Python's header parser, and email.utils' parseaddr and getaddresses, read that
header as cam17@cameras.example (the first thing that parses as an address), and so did this bot: a stranger
became camera CAM-17 and raised alerts. The address a mail provider checks with SPF, DKIM and DMARC is
the one in angle brackets (or the bare addr-spec when there are none), so that is the only one read here,
by a small scanner that knows quoted strings, comments and angle brackets and nothing else.

Anything unclear is nobody: two From headers, two addresses in one (RFC 5322 allows a list; DMARC
refuses such mail), two angle-bracket pairs, a group, unbalanced quotes or brackets, or an address that
is not local@domain.tld. The message is still read, but it is no camera's, so it alerts nothing.

A display name (or comment) holding another address is kept as `forged`, for the notice to say so.

From is still only what the sender wrote. Where the mailbox's provider checks SPF, DKIM and DMARC and writes
the verdict in an Authentication-Results header (RFC 8601) on top of every message it delivers, `vouched`
reads it (LW_MAIL_AUTH_SERVER names that provider's authserv-id, docs/OPERATORS.md): only the topmost such
header counts, since any below it may be the sender's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.header import decode_header, make_header

from bot.text import plain

MAX_HEADER = 2000  # characters of one From value looked at; an honest one is under a hundred

_LOCAL = r"[^\s@<>()\[\]\\,;:\"]{1,64}"
_LABEL = r"[^\s@<>()\[\]\\,;:\".]{1,63}"
_ADDRESS = re.compile(rf"^{_LOCAL}@{_LABEL}(?:\.{_LABEL})+$")
_LOOKS_LIKE = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+\.[^\s<>()\[\]\"',;:]+")


@dataclass(frozen=True)
class Author:
    address: str | None  # lower case; None: no single, well-formed address
    forged: str | None = None  # another address shown in the display name or a comment


def author(values: list[str]) -> Author:
    """The author of a message from its From header values (raw, as received: all of them)."""
    if len(values) != 1:
        return Author(None)
    value = re.sub(r"\r?\n(?=[ \t])", "", values[0])  # unfolded
    if len(value) > MAX_HEADER:
        return Author(None)
    parts = _split(value)
    if parts is None:
        return Author(None)
    outside, angles, shown = parts
    if len(angles) > 1:
        return Author(None)
    if angles:
        address = angles[0].strip()
        address = address.rsplit(":", 1)[-1].strip()  # an obsolete source route: <@relay:a@b.kz>
        display = outside
    else:
        address, display = outside.strip(), ""
    if not _ADDRESS.match(address) or plain(address, 300) != address:
        return Author(None)
    address = address.lower()
    return Author(address, _forged(address, f"{decoded(display)} {' '.join(shown)}"))


def _split(value: str) -> tuple[str, list[str], list[str]] | None:
    """(text outside quotes, comments and brackets; the contents of each <...>; the quoted strings and
    comments), or None for what is no single mailbox: a comma or semicolon outside them (a list or a
    group), text after the <...>, or an unbalanced quote, comment or bracket."""
    outside: list[str] = []
    angles: list[str] = []
    shown: list[str] = []
    current: list[str] = []
    state, depth, escaped = "out", 0, False
    for ch in value:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\" and state in ("quote", "comment"):
            escaped = True
        elif state == "quote":
            if ch == '"':
                shown.append("".join(current))
                current, state = [], "out"
            else:
                current.append(ch)
        elif state == "comment":
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    shown.append("".join(current))
                    current, state = [], "out"
                    continue
            current.append(ch)
        elif state == "angle":
            if ch == ">":
                angles.append("".join(current))
                current, state = [], "out"
            elif ch in '<"()':
                return None
            else:
                current.append(ch)
        elif ch == '"':
            state = "quote"
        elif ch == "(":
            state, depth = "comment", 1
        elif ch == "<":
            state = "angle"
        elif ch in ",;>":  # a list, a group's end, a stray bracket (a colon in a sloppy name is harmless)
            return None
        elif angles and not ch.isspace():
            return None  # text after the address
        else:
            outside.append(ch)
    if state != "out" or escaped:
        return None
    return "".join(outside), angles, shown


def decoded(text: str) -> str:
    """RFC 2047 encoded words decoded; as written when they will not decode."""
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # an unknown charset, a broken encoded word
        return text


def _forged(address: str, display: str) -> str | None:
    for found in _LOOKS_LIKE.findall(plain(display, 500)):
        if found.lower().strip(".") != address:
            return found[:100]
    return None


def vouched(results: str | None, server: str, address: str | None) -> bool:
    """Whether this Authentication-Results value (the message's topmost) is `server`'s (that authserv-id,
    or a host under that domain) and says the From domain passed: dmarc=pass, or spf=pass / dkim=pass
    for that domain or one aligned with it."""
    if not results or not server or address is None:
        return False
    fields = [f.strip() for f in re.sub(r"\([^()]*\)", " ", results).split(";")]
    ident = fields[0].split()[0].lower() if fields[0].split() else ""
    want = server.strip().lower().lstrip(".")
    if ident != want and not ident.endswith("." + want):  # providers that name each front server
        return False
    domain = address.rsplit("@", 1)[1]
    for field in fields[1:]:
        words = field.split()
        method, _, result = words[0].lower().partition("=") if words else ("", "", "")
        if result != "pass":
            continue
        props = {k.lower(): v for k, _, v in (w.partition("=") for w in words[1:])}
        if method == "dmarc" and _aligned(props.get("header.from", domain), domain):
            return True
        if method == "spf" and _aligned(props.get("smtp.mailfrom", ""), domain):
            return True
        if method == "dkim" and _aligned(props.get("header.d") or props.get("header.i", ""), domain):
            return True
    return False


def _aligned(found: str, domain: str) -> bool:
    """DMARC's relaxed alignment, near enough: the same domain, or one a subdomain of the other."""
    other = found.strip().strip('"').rsplit("@", 1)[-1].lower().rstrip(".")
    if "." not in other:
        return False
    return other == domain or other.endswith("." + domain) or domain.endswith("." + other)
