"""Text formatting as the Bot API does it: parse_mode markup -> plain text + MessageEntity list.

Bots most often break in production on markup Telegram rejects (an unescaped "<" in HTML, a "." in
MarkdownV2), so the parsers are strict in the same places and use Telegram's error wording.
Entity offsets and lengths are in UTF-16 code units, as in the real API.
"""

from __future__ import annotations

import html
import re
from typing import Any

from .errors import bad_request

_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY = re.compile(r"&(#\d{1,7}|#x[0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_ATTR = re.compile(r"""\s*([a-zA-Z_-]+)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s>]+))?""")
_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}
_AUTO_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")),
    ("mention", re.compile(r"(?<![\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("url", re.compile(r"https?://[^\s<>\"]+")),
)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fail(reason: str) -> Exception:
    return bad_request(f"can't parse entities: {reason}")


class _Builder:
    """Accumulates output text and entities while a parser walks the source."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.parts: list[str] = []
        self.offset = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.offset += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.offset > start:
            self.entities.append({"type": kind, "offset": start, "length": self.offset - start, **extra})

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode())

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


def _html_attrs(src: str, pos: int, start: int, out: _Builder) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    while True:
        while pos < len(src) and src[pos].isspace():
            pos += 1
        if pos >= len(src):
            raise _fail(f"Unclosed start tag at byte offset {out.byte_offset(start)}")
        if src[pos] == ">":
            return attrs, pos + 1
        match = _ATTR.match(src, pos)
        if not match or match.end() == pos:
            raise _fail(f"Unclosed start tag at byte offset {out.byte_offset(start)}")
        value = match.group(2) or ""
        if value[:1] in {'"', "'"}:
            value = value[1:-1]
        attrs[match.group(1).lower()] = html.unescape(value)
        pos = match.end()


def parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder(src)
    stack: list[tuple[str, int, dict[str, str]]] = []
    i = 0
    while i < len(src):
        ch = src[i]
        if ch == "&":
            match = _HTML_ENTITY.match(src, i)
            out.add(html.unescape(match.group(0)) if match else "&")
            i = match.end() if match else i + 1
            continue
        if ch != "<":
            out.add(ch)
            i += 1
            continue
        if src.startswith("</", i):
            end = src.find(">", i)
            if end == -1:
                raise _fail(f"Unclosed end tag at byte offset {out.byte_offset(i)}")
            name = src[i + 2 : end].strip().lower()
            if not stack:
                raise _fail(f"Unexpected end tag at byte offset {out.byte_offset(i)}")
            tag, begin, attrs = stack.pop()
            if name != tag:
                raise _fail(
                    f'Unmatched end tag at byte offset {out.byte_offset(i)}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            _close_html(out, stack, tag, begin, attrs)
            i = end + 1
            continue
        j = i + 1
        while j < len(src) and not src[j].isspace() and src[j] != ">":
            j += 1
        if j >= len(src):
            raise _fail(f"Unclosed start tag at byte offset {out.byte_offset(i)}")
        name = src[i + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise _fail(f'Unsupported start tag "{name}" at byte offset {out.byte_offset(i)}')
        attrs, i_next = _html_attrs(src, j, i, out)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _fail(f'Tag "span" must have class "tg-spoiler" at byte offset {out.byte_offset(i)}')
        stack.append((name, out.offset, attrs))
        i = i_next
    if stack:
        raise _fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _close_html(
    out: _Builder, stack: list[tuple[str, int, dict[str, str]]], tag: str, begin: int, attrs: dict[str, str]
) -> None:
    kind = _HTML_TAGS[tag]
    if tag == "a":
        if "href" in attrs:
            out.entity(kind, begin, url=attrs["href"])
        return
    if tag == "tg-emoji":
        out.entity(kind, begin, custom_emoji_id=attrs.get("emoji-id", ""))
        return
    language = attrs.get("class", "")
    # <pre><code class="language-x"> is one pre entity with a language, not two entities.
    if tag == "code" and stack and stack[-1][0] == "pre" and language.startswith("language-"):
        stack[-1][2]["language"] = language.removeprefix("language-")
        return
    if tag == "pre" and "language" in attrs:
        out.entity(kind, begin, language=attrs["language"])
    elif tag == "blockquote" and "expandable" in attrs:
        out.entity("expandable_blockquote", begin)
    else:
        out.entity(kind, begin)


def parse_markdown_v2(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder(src)
    stack: list[tuple[str, int, int]] = []  # kind, output offset, source index
    quote_start: int | None = None
    pre_language = ""
    i = 0
    while i < len(src):
        ch = src[i]
        top = stack[-1][0] if stack else None
        if ch == "\\" and i + 1 < len(src) and 0 < ord(src[i + 1]) < 127:
            out.add(src[i + 1])
            i += 2
        elif top in {"code", "pre"}:
            closer = "```" if top == "pre" else "`"
            if src.startswith(closer, i):
                kind, begin, _ = stack.pop()
                out.entity(
                    kind, begin, **({"language": pre_language} if kind == "pre" and pre_language else {})
                )
                i += len(closer)
            else:
                out.add(ch)
                i += 1
        elif src.startswith("```", i):
            newline = src.find("\n", i + 3)
            header = src[i + 3 : newline] if newline != -1 else ""
            pre_language = header if header and " " not in header and "`" not in header else ""
            skip = len(pre_language) + 1 if pre_language else 0
            stack.append(("pre", out.offset, i))
            i += 3 + skip
        elif ch == ">" and (i == 0 or src[i - 1] == "\n"):
            quote_start = out.offset if quote_start is None else quote_start
            i += 1
        elif ch == "\n":
            if quote_start is not None and not src.startswith(">", i + 1):
                out.entity("blockquote", quote_start)
                quote_start = None
            out.add(ch)
            i += 1
        elif src.startswith(("__", "||"), i) or ch in "*_~`[":
            token = src[i : i + 2] if src.startswith(("__", "||"), i) else ch
            kind = {"__": "underline", "||": "spoiler", "*": "bold", "_": "italic", "~": "strikethrough"}.get(
                token, "code" if token == "`" else "text_link"
            )
            if top == kind and kind != "text_link":
                _, begin, _ = stack.pop()
                out.entity(kind, begin)
            else:
                stack.append((kind, out.offset, i))
            i += len(token)
        elif ch == "]" and top == "text_link":
            match = re.compile(r"\(((?:\\.|[^)\\])*)\)").match(src, i + 1)
            if not match:
                raise _fail(
                    f"Can't find end of TextUrl entity at byte offset {out.byte_offset(stack[-1][2])}"
                )
            _, begin, _ = stack.pop()
            out.entity("text_link", begin, url=re.sub(r"\\(.)", r"\1", match.group(1)))
            i = match.end()
        elif ch in _MDV2_RESERVED:
            raise _fail(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        else:
            out.add(ch)
            i += 1
    if stack:
        kind, _, index = stack[-1]
        raise _fail(f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {out.byte_offset(index)}")
    if quote_start is not None:
        out.entity("blockquote", quote_start)
    return out.result()


def parse_markdown(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder(src)
    i = 0
    while i < len(src):
        ch = src[i]
        if ch == "\\" and i + 1 < len(src) and src[i + 1] in "_*`[":
            out.add(src[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            out.add(ch)
            i += 1
            continue
        if ch == "[":
            match = re.compile(r"\[([^\]]*)\]\(([^)]*)\)").match(src, i)
            if not match:
                raise _fail(f"Can't find end of the entity starting at byte offset {out.byte_offset(i)}")
            begin = out.offset
            out.add(match.group(1))
            out.entity("text_link", begin, url=match.group(2))
            i = match.end()
            continue
        token = "```" if src.startswith("```", i) else ch
        end = src.find(token, i + len(token))
        if end == -1:
            raise _fail(f"Can't find end of the entity starting at byte offset {out.byte_offset(i)}")
        begin = out.offset
        out.add(src[i + len(token) : end])
        out.entity({"*": "bold", "_": "italic", "`": "code", "```": "pre"}[token], begin)
        i = end + len(token)
    return out.result()


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace from texts; entities must follow the shift."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    limit = utf16_len(stripped)
    result = []
    for ent in entities:
        start = max(0, ent["offset"] - shift)
        end = min(limit, ent["offset"] + ent["length"] - shift)
        if end > start:
            result.append({**ent, "offset": start, "length": end - start})
    return stripped, result


def format_text(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Apply parse_mode (or explicit entities) the way sendMessage/captions do."""
    mode = (parse_mode or "").lower()
    if not mode:
        return _strip(text, [dict(e) for e in entities or []])
    parsers = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}
    if mode not in parsers:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    return _strip(*parsers[mode](text))


def auto_entities(text: str) -> list[dict[str, Any]]:
    """Entities the Telegram client detects in what a user types (commands, mentions, ...)."""
    found: list[dict[str, Any]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            found.append(
                {"type": kind, "offset": utf16_len(text[: match.start()]), "length": utf16_len(match.group())}
            )
    found.sort(key=lambda e: e["offset"])
    return found
