"""Blanking positions out of captions shown to readers who may only see a rounded place.

This is fail-closed on purpose. A parser only knows the notations someone thought of, and every miss
here hands a leopard's exact position to a group that may include poachers. So instead of recognising
coordinates, the filter blanks every map link and every run of digits that could carry a position in
any notation, and keeps only number shapes known to be harmless: small counts ("2 leopards"), clock
times ("07:42"), dates ("12.05.2024", "2026-11-30") and station codes ("UST-04").
"""

from __future__ import annotations

import re
from enum import Enum

# The markers in English, for logs and tests. A reader gets them in their language: the catalog messages
# "redaction.position_hidden" and "redaction.link_hidden", passed in by the caller (bot.geo sits below
# bot.text's catalogs and does not read them itself).
POSITION_HIDDEN = "[position hidden]"
LINK_HIDDEN = "[link hidden]"

# Invisible characters that chat apps and copy-paste insert; they must not split a number in two.
_IGN = "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufe0e\ufe0f\u20e3"
_DEC = ".,·٫．，"  # decimal separators, including the fullwidth and Arabic ones
_COLON = ":："
_DASH = "\\-‐‑‒–—−"
_SLASH = "/／"
_MARKS = "°º˚ᵒ'′’‘´`ʹ\"″”“ʺ„"
_PUNCT = rf"\s{_IGN},;.·{_DASH}{_COLON}{_SLASH}\\|~_()\[\]{{}}+*=@"
_NOT_LETTER_AHEAD = r"(?![^\W\d_])"
_NOT_LETTER_BEHIND = r"(?<![^\W\d_])"

# Words that turn a bare number into a coordinate component: hemispheres, axis names and DMS units in
# en/ru/kk. Multi-letter forms are unambiguous; single letters count only when glued to a number,
# because the Russian prepositions "в" and "с" are also the letters for east and north.
_LONG = (
    r"north|south|east|west|lat(?:itude)?|lon(?:g(?:itude)?)?|lng|deg(?:rees?)?|mins?|minutes?|secs?|seconds?"
    r"|grad[a-z]*|minut[a-z]*|sekund[a-z]*"  # transliterated Russian
    r"|сев(?:ерн[а-яё]*)?\.?|юж(?:н[а-яё]*)?\.?|вост(?:очн[а-яё]*)?\.?|зап(?:адн[а-яё]*)?\.?"
    r"|шир(?:от[а-яё]*)?\.?|долг(?:от[а-яё]*)?\.?|гр(?:ад(?:ус[а-яё]*)?)?\.?|мин(?:ут[а-яё]*)?\.?"
    r"|сек(?:унд[а-яё]*)?\.?|солтүстік|оңтүстік|шығыс|батыс|енд[іi]к[а-яәіңғүұқөһ]*|бойлы[қк][а-яәіңғүұқөһ]*"
    r"|[сюзвошб](?:\.\s?)?[шдеб]\.?"  # с.ш. в.д. (ru), с.е. ш.б. (kk); not т.е., "that is"
)
_WORD = rf"(?i:{_LONG}|[nsewdmсювзошбдм]\.?)"
_SPACED_WORD = rf"(?:(?i:{_LONG})|[NSEW])"
_HS = r"[^\S\n]"  # horizontal space: a mark on the next line belongs to something else

# A degree sign followed by C or F is a temperature ("-15°C"), not a position.
_MARK_AFTER = rf"(?:°(?!{_HS}?[CcFfСс]{_NOT_LETTER_AHEAD})|[{_MARKS.replace('°', '')}])"
_AFTER = re.compile(
    rf"[{_IGN}]*(?:{_HS}*{_MARK_AFTER}|{_WORD}{_NOT_LETTER_AHEAD}|{_HS}+{_SPACED_WORD}{_NOT_LETTER_AHEAD})"
)
_BEFORE = re.compile(
    rf"(?:{_NOT_LETTER_BEHIND}{_WORD}[{_IGN}]*[{_DASH}+]?"
    rf"|{_NOT_LETTER_BEHIND}{_SPACED_WORD}{_HS}*[:=]?{_HS}*[{_DASH}+]?)[{_IGN}]*\Z"
)
# What may stand between two numbers of one written position: spaces, punctuation, marks, hemisphere
# and unit words, and short capital groups (UTM bands and MGRS squares: "39T VK 12345 67890").
_JOIN_TOKEN = rf"[{_PUNCT}{_MARKS}]|{_NOT_LETTER_BEHIND}(?:{_WORD}|[A-Z]{{1,3}}){_NOT_LETTER_AHEAD}"
_JOIN = re.compile(rf"(?:{_JOIN_TOKEN})+")
# A comma after a hemisphere letter or a mark closes a position: "51.87 в.д., 2 leopards".
_CLOSED = re.compile(
    rf"(?:[{_MARKS}]|{_NOT_LETTER_BEHIND}(?:{_WORD}|[A-Z]{{1,3}}){_NOT_LETTER_AHEAD})[\s{_IGN}.]*[,;]"
)
_MAX_GAP = 40  # longer stretches of punctuation are prose, not one notation

_ATOM = re.compile(rf"\d(?:[{_IGN}]*(?:[{_DEC}{_COLON}{_DASH}{_SLASH}][{_IGN}]*)?\d)*[{_IGN}]*")
_SEP_SPLIT = re.compile(rf"([{_DEC}{_COLON}{_DASH}{_SLASH}])")
_SEP_KIND = {**dict.fromkeys(_DEC, "."), **dict.fromkeys(_COLON, ":"), **dict.fromkeys(_SLASH, "/")}
_DROP_IGN = re.compile(rf"[{_IGN}]")
_SIGNS = "-+−‐‑‒–—"

# Links. Telegram turns a bare "domain.tld/path" into a link, so anything shaped like one counts, as
# does any scheme with "//" (intent://, osmand://) and the opaque map schemes. The parser takes links by
# this same shape, so what is hidden here as a link is read there as one, never as typed numbers.
LINK = re.compile(
    r"(?:(?<![\w.+\-])[a-z][a-z0-9+.\-]{0,30}://"
    r"|(?<![\w.+\-])(?:geo|ge0|maps|bingmaps|mapsme|yandexmaps|yandexnavi|dgis|here-location|here-route)"
    r":(?=\S)"
    r"|(?<![\w.@\-])www\."
    r"|(?<![\w.@\-])(?:[\w\-]+\.)+[^\W\d_]{2,63}(?=[/?#])"
    r")\S*",
    re.I,
)
LINK_TAIL = ".,!?;:)]}»\"'…"  # sentence punctuation after a link is the ranger's, not the link's
# what3words: "///index.home.raft", or the three words alone (each of two letters or more).
_W3W = re.compile(r"(?:/{2,3}|(?<![\w./]))[^\W\d_]{2,}[.。][^\W\d_]{2,}[.。][^\W\d_]{2,}(?![\w])")
# Open Location Code: full ("8GFJ2XXX+2X", "8GFJ0000+") and short ("2X3Q+5V") codes.
_OLC = "23456789CFGHJMPQRVWX"
_PLUS_CODE = re.compile(
    rf"(?<![\w+])(?:[{_OLC}][{_OLC}0]{{7}}\+[{_OLC}]*|[{_OLC}]{{2,7}}\+[{_OLC}]{{2,7}})(?![\w+])", re.I
)
# Query fragments pasted without their link: "lat=43.21&lon=51.87", "ll=51.87,43.21", "#map=15/43/51".
_QUERY = re.compile(
    r"(?<![\w])[?&#;]?[a-z_][\w\[\]]{0,30}[^\S\n]?=[^\S\n]?[^\s&]*\d[^\s&]*(?:&[\w\[\]]+=[^\s&]*)*", re.I
)
# Geohashes ("v0f2h4k9t") and Maidenhead locators ("LN23ab45"): letters and digits alternating.
_MIXED = re.compile(r"(?<![\w.,:/\-])[A-Za-z0-9]{6,16}(?![\w]|[.,:/\-]\d)")  # not part of a number
_SWITCH = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
# Station codes are kept here; whether they reveal a place is decided elsewhere.
_STATION = re.compile(r"(?<![\w\-])[A-Z]{2,4}-\d{1,3}(?!\d|[.,:/]\d|\w)")


class _Kind(Enum):
    SAFE = "safe"  # harmless alone, but counts towards a run of numbers
    CLOCK = "clock"  # 07:42 or 07:42-08:15: harmless, blanked only beside a position
    CLOCK_SECONDS = "clock_seconds"  # 07:42:15 reads as DMS unless a date stands beside it
    DATE = "date"
    DANGER = "danger"


def _is_clock(groups: list[str], seps: list[str]) -> bool:
    if seps and any(sep != ":" for sep in seps):
        return False
    hour, *rest = groups
    return len(hour) <= 2 and int(hour) <= 23 and all(len(g) == 2 and int(g) <= 59 for g in rest)


def _is_date(groups: list[str], seps: list[str]) -> bool:
    if len(groups) != 3 or seps[0] != seps[1] or seps[0] == ":":
        return False
    if len(groups[0]) == 4:  # 2026-11-30
        year, month, day = groups
    elif len(groups[2]) == 4:  # 30.11.2026, 30/11/2026
        day, month, year = groups
    else:
        return False  # "12.05.24" is also 12°05'24"
    return (
        year[:2] in ("19", "20")
        and len(month) <= 2
        and len(day) <= 2
        and 1 <= int(month) <= 12
        and 1 <= int(day) <= 31
    )


def _split(atom: str) -> tuple[list[str], list[str]]:
    parts = _SEP_SPLIT.split(_DROP_IGN.sub("", atom))
    return parts[0::2], [_SEP_KIND.get(p, "-") for p in parts[1::2]]


def _shape(atom: str) -> _Kind:
    """What a number says by its own shape, before looking at its neighbours."""
    groups, seps = _split(atom)
    if len(groups) == 1:
        return _Kind.DANGER if len(groups[0]) >= 5 else _Kind.SAFE  # 5+ digits: a UTM easting or northing
    if len(groups) == 2 and _is_clock(groups, seps):
        return _Kind.CLOCK
    if _is_date(groups, seps):
        return _Kind.DATE
    if len(groups) == 3 and _is_clock(groups, seps):
        return _Kind.CLOCK_SECONDS
    if seps == [":", "-", ":"] and _is_clock(groups[:2], [":"]) and _is_clock(groups[2:], [":"]):
        return _Kind.CLOCK  # a time range, 07:42-08:15
    # Two decimals are already about a kilometre; three or more parts are DMS ("43:12:36", "43-12-36").
    if len(groups) >= 3 or any(len(g) >= 5 for g in groups):
        return _Kind.DANGER
    if any(sep == "." and len(groups[i + 1]) >= 2 for i, sep in enumerate(seps)):
        return _Kind.DANGER
    if seps[0] == ":":
        return _Kind.DANGER  # "43:12" is degrees and minutes, not a time
    if seps[0] == ".":
        return _Kind.SAFE  # one decimal: eleven kilometres
    return _Kind.SAFE if _pair_safe(groups[0], groups[1]) else _Kind.DANGER


def _pair_safe(first: str, second: str) -> bool:
    # A two-digit second number can be minutes ("43 12", "43-12"); "2-3 cubs" cannot.
    return len(first) <= 3 and len(second) == 1


def _marked(s: str, m: re.Match[str]) -> bool:
    """A hemisphere letter, axis name, unit word or DMS mark touches the number."""
    if _AFTER.match(s, m.end()):
        return True
    return _BEFORE.search(s, max(0, m.start() - _MAX_GAP), m.start()) is not None


def _kind(s: str, m: re.Match[str]) -> _Kind:
    return _Kind.DANGER if _marked(s, m) else _shape(m[0])


def _integer(atom: str) -> str | None:
    groups, _ = _split(atom)
    return groups[0] if len(groups) == 1 else None


def _dangerous(run: list[re.Match[str]], kinds: list[_Kind]) -> bool:
    if _Kind.DANGER in kinds or (_Kind.CLOCK_SECONDS in kinds and _Kind.DATE not in kinds):
        return True
    for i, k in enumerate(kinds):
        if k is _Kind.CLOCK and (_minutes_before(run, kinds, i) or _seconds_after(run, kinds, i)):
            return True  # "43 12:36" and "12:34 56" are degrees, minutes and seconds
    counted = [m[0] for m, k in zip(run, kinds, strict=True) if k is _Kind.SAFE]
    if len(counted) >= 3:
        return True  # degrees, minutes, seconds written with spaces only
    if len(counted) == 2:
        first, second = (_integer(a) for a in counted)
        return first is None or second is None or not _pair_safe(first, second)
    return False


def _minutes_before(run: list[re.Match[str]], kinds: list[_Kind], i: int) -> bool:
    return i > 0 and kinds[i - 1] is _Kind.SAFE and len(_integer(run[i - 1][0]) or "9999") <= 3


def _seconds_after(run: list[re.Match[str]], kinds: list[_Kind], i: int) -> bool:
    return i + 1 < len(run) and kinds[i + 1] is _Kind.SAFE and len(_integer(run[i + 1][0]) or "") == 2


def _joins(gap: str) -> bool:
    return len(gap) <= _MAX_GAP and _JOIN.fullmatch(gap) is not None and _CLOSED.search(gap) is None


def _extent(s: str, start: int, end: int) -> tuple[int, int]:
    """Widen a blanked run over its sign, hemisphere words and marks, so no "N … E" is left around it."""
    widened = start
    while (
        before := _BEFORE.search(s, max(0, widened - _MAX_GAP), widened)
    ) is not None and before.start() < widened:
        widened = before.start()  # "северной широты 43°12'": every word of the label goes
    if widened < start:
        start = widened
    elif start > 0 and s[start - 1] in _SIGNS and (start < 2 or not s[start - 2].isalnum()):
        start -= 1
    while (after := _AFTER.match(s, end)) is not None and after.end() > end:
        end = after.end()
    return start, end


def _number_spans(s: str) -> list[tuple[int, int]]:
    kept = [m.span() for m in _STATION.finditer(s)]
    atoms = [m for m in _ATOM.finditer(s) if not any(a <= m.start() < b for a, b in kept)]
    runs: list[list[re.Match[str]]] = []
    for m in atoms:
        if runs and _joins(s[runs[-1][-1].end() : m.start()]):
            runs[-1].append(m)
        else:
            runs.append([m])
    chosen, pairs = [], []
    for run in runs:
        kinds = [_kind(s, m) for m in run]
        if _dangerous(run, kinds):
            chosen.append(run)
        elif _degree_pair(run, kinds):
            pairs.append(run)
    # "43 5" alone reads as a count ("at 10 2 cubs"), but beside another such pair or a blanked position
    # it is degrees and a tenth (or a minute) of an axis: "43 5 и 51 8". Then it goes too.
    if len(pairs) >= 2 or (pairs and chosen):
        chosen = sorted([*chosen, *pairs], key=lambda run: run[0].start())
    spans: list[tuple[int, int]] = []
    for run in chosen:
        start, end = _extent(s, run[0].start(), run[-1].end())
        if spans and start <= spans[-1][1]:
            start = spans[-1][0]
            spans.pop()
        spans.append((start, end))
    return spans


def _degree_pair(run: list[re.Match[str]], kinds: list[_Kind]) -> bool:
    """Two plain integers that could be whole degrees and one more digit of them: "43 5", "051 8"."""
    if len(run) != 2 or any(k is not _Kind.SAFE for k in kinds):
        return False
    first, second = (_integer(m[0]) for m in run)
    return first is not None and second is not None and 2 <= len(first) <= 3 and int(first) <= 180


def _grid_code(token: str) -> bool:
    digits = sum(c.isdigit() for c in token)
    return digits >= 2 and len(token) - digits >= 2 and len(_SWITCH.findall(token)) >= 2


def _hide_links(s: str, link_marker: str) -> str:
    def link(m: re.Match[str]) -> str:
        url = m[0]
        kept = url.rstrip(LINK_TAIL)
        return link_marker + url[len(kept) :]

    return LINK.sub(link, s)


def redact_coordinates(
    text: str, *, position_marker: str = POSITION_HIDDEN, link_marker: str = LINK_HIDDEN
) -> str:
    """The caption with every map link and every possible written position replaced by a marker.

    Fail-closed: a number stays only if its shape is harmless (a count, a time, a date, a station code)
    and nothing around it makes it part of a coordinate. Markers are visible so coordinators know
    something was removed; callers showing the text to a reader pass the reader's, t(lang,
    "redaction.position_hidden") and t(lang, "redaction.link_hidden") (they must not contain digits).
    """
    s = _hide_links(text, link_marker)
    for pattern in (_W3W, _PLUS_CODE, _QUERY):
        s = pattern.sub(position_marker, s)
    s = _MIXED.sub(lambda m: position_marker if _grid_code(m[0]) else m[0], s)
    out: list[str] = []
    pos = 0
    for start, end in _number_spans(s):
        out += [s[pos:start], position_marker]
        pos = end
    out.append(s[pos:])
    # "lat=… lon=…" or a plus code beside its decimals would otherwise show two markers for one place.
    marker = re.escape(position_marker)
    return re.sub(rf"{marker}(?:[\s,;]*{marker})+", position_marker, "".join(out))
