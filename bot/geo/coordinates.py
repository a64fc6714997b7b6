"""Finding coordinates in what rangers type: decimal, degrees-minutes-seconds, ru/kk/en hemisphere
letters and words, and map links (Google, OpenStreetMap, Yandex, geo:)."""

from __future__ import annotations

import math
import re
from typing import NamedTuple
from urllib.parse import unquote_plus

from bot.geo.points import CoordinateError, Point
from bot.geo.redaction import redact_coordinates as redact_coordinates  # callers import it from here

# Parsing. Rangers paste GPS apps, phone map links and hand-typed DMS in three languages, so the parser
# is deliberately tolerant of notation but conservative about bare numbers: a false positive files a
# sighting at the wrong place, while a miss only makes the bot ask for the location again.

# (pattern, axis, sign); sign 0 marks an axis label such as "lat:". Longer forms precede single letters
# because regex alternation takes the first branch that matches, not the longest.
_SH, _D = r"\s*(?:шир[а-я]*\.?|ш\.)", r"\s*(?:долг[а-я]*\.?|д\.)"  # "северной широты", "вост. д."
_FORMS: tuple[tuple[str, str, int], ...] = (
    (r"north", "lat", 1), (r"south", "lat", -1), (r"east", "lon", 1), (r"west", "lon", -1),
    (rf"сев(?:ерн[а-я]*|\.){_SH}", "lat", 1), (rf"юж(?:н[а-я]*|\.){_SH}", "lat", -1),
    (rf"вост(?:очн[а-я]*|\.){_D}", "lon", 1), (rf"зап(?:адн[а-я]*|\.){_D}", "lon", -1),
    (r"солтүстік\s+ендік", "lat", 1), (r"оңтүстік\s+ендік", "lat", -1),
    (r"шығыс\s+бойлық", "lon", 1), (r"батыс\s+бойлық", "lon", -1),
    (r"lat(?:itude)?|широт[аы]|ендік", "lat", 0), (r"lon(?:g(?:itude)?)?|lng|долгот[аы]|бойлық", "lon", 0),
    # Russian abbreviations need a dot or no gap between letters so the prepositions "в", "с" and
    # a following word are not mistaken for "в.д." / "с.ш.".
    (r"с(?:\.\s?)?ш\.?", "lat", 1), (r"ю(?:\.\s?)?ш\.?", "lat", -1),
    (r"в(?:\.\s?)?д\.?", "lon", 1), (r"з(?:\.\s?)?д\.?", "lon", -1),
    (r"с\.\s?е\.?", "lat", 1), (r"о\.\s?е\.?", "lat", -1),  # Kazakh с.е. / о.е. / ш.б. / б.б.
    (r"ш\.\s?б\.?", "lon", 1), (r"б\.\s?б\.?", "lon", -1),
    (r"[nс]\.?", "lat", 1), (r"[sю]\.?", "lat", -1), (r"[eв]\.?", "lon", 1), (r"[wз]\.?", "lon", -1),
)  # fmt: skip
_HEMI = r"(?<![^\W\d_])(?:" + "|".join(f for f, _, _ in _FORMS) + r")(?![^\W\d_])"
_FORM_RES = tuple((re.compile(f, re.I), axis, sign) for f, axis, sign in _FORMS)
_HEMI_AT = re.compile(_HEMI, re.I)
_LEAD = re.compile(rf"(?P<t>{_HEMI})(?P<ws>\s*[:=]?\s*)\Z", re.I)
_TRAIL = re.compile(rf"(?P<ws>\s*)(?P<t>{_HEMI})", re.I)
_TOK = rf"(?:{_HEMI})\s*[:=]?\s*"
_GAP = re.compile(rf"\s*(?P<a>{_TOK})?(?P<sep>[,;])?\s*(?P<b>{_TOK})?", re.I)

_FRAC_NUM = r"[0-9]{1,2}(?:[.,][0-9]+)?"
_COMP = re.compile(
    # Refusing a digit, "digit." or a sign/mark in front keeps dates (12.05.2024), codes (UST-04) and
    # the tails of longer numbers from being read as a coordinate.
    r"(?<![0-9\-+°'#№_])(?<![0-9]\.)(?P<sign>[-+])?"
    rf"(?:(?P<deg>[0-9]{{1,3}})\s*°\s*(?P<min>{_FRAC_NUM})\s*'(?:\s*(?P<sec>{_FRAC_NUM})\s*\"?)?"
    r"|(?P<dec>[0-9]{1,3}(?:[.,][0-9]+)?)(?P<mark>\s*°)?)"
    r"(?![0-9°'])(?!\.[0-9])"
)
_MARKS = str.maketrans(
    {"′": "'", "’": "'", "‘": "'", "´": "'", "`": "'", "ʹ": "'", "″": '"', "ʺ": '"', "”": '"', "“": '"',
     "„": '"', "«": '"', "»": '"', "º": "°", "˚": "°", "ᵒ": "°", "−": "-"}
)  # fmt: skip
_PUNCT_ONLY = re.compile(r"[\s.,;:!?]*")
_CLOCK = re.compile(r"(?:[01]?[0-9]|2[0-3])[.,][0-5][0-9]")  # "14.30": Russian writes times with a dot

_URL = re.compile(
    r"(?:https?://|geo:|(?<![\w.@/])(?:www\.|maps\.)?(?:google|openstreetmap|osm|yandex)\.[a-z.]{2,}/)\S*",
    re.I,
)
_U = r"\s*([-+]?[0-9]{1,3}(?:\.[0-9]+)?)(?![0-9])"
# Yandex writes longitude first; pt/whatshere is the dropped pin, ll only the map centre.
_YANDEX_RULES = (rf"[?&#](?:pt|whatshere\[point\])={_U},{_U}", rf"[?&#]ll={_U},{_U}")
_LATLON_RULES = (
    rf"!3d{_U}!4d{_U}",  # Google's pin; "/@lat,lon" is only the viewport centre
    rf"[?&#](?:q|query|ll|sll|center|daddr|destination)=(?:loc:)?{_U}\s*,{_U}",
    rf"/@{_U},{_U}",
    rf"/(?:place|search|dir)/{_U}\s*,{_U}",
    rf"#map=[0-9.]+/{_U}/{_U}",
    rf"^geo:{_U},{_U}",
    rf"^(?=.*?[?&#]mlat={_U})(?=.*?[?&#]mlon={_U})",  # OSM's pin, in either order
)


class _Tok(NamedTuple):
    axis: str
    sign: int
    single: bool
    before: bool  # touches the number before it, no whitespace in between
    after: bool  # touches the number after it


class _Hemi(NamedTuple):
    axis: str
    sign: int
    weak: bool  # a lone letter separated by a space: in Russian it may just be the word "в" or "с"


def _tok(text: str, before: bool, after: bool) -> _Tok:
    core = text.strip().rstrip(":=").strip()
    for form, axis, sign in _FORM_RES:
        if form.fullmatch(core):
            return _Tok(axis, sign, len(re.sub(r"[.\s]", "", core)) == 1, before, after)
    raise AssertionError(core)  # unreachable: _HEMI is built from _FORMS


def _magnitude(m: re.Match[str]) -> float:
    dec, minutes, seconds = (float(m[k].replace(",", ".")) if m[k] else 0.0 for k in ("dec", "min", "sec"))
    if m["dec"] is not None:
        return dec
    if minutes >= 60 or seconds >= 60:
        raise CoordinateError("Minutes and seconds must be below 60", "minutes_range")
    return int(m["deg"]) + minutes / 60 + seconds / 3600


def _signed(m: re.Match[str], hemi: _Hemi | None) -> float:
    value = _magnitude(m)
    if hemi is not None and hemi.sign:
        if m["sign"] == "-" and hemi.sign > 0:
            raise CoordinateError("A minus sign contradicts the N/E letter", "hemisphere")
        return math.copysign(value, hemi.sign)
    return -value if m["sign"] == "-" else value


def _fractional(m: re.Match[str]) -> bool:
    return m["dec"] is not None and not m["dec"].isdigit()


_Pair = tuple[tuple[re.Match[str], re.Match[str]], tuple[_Hemi | None, _Hemi | None], bool]


def _gap_tokens(g: re.Match[str]) -> list[_Tok]:
    return [
        _tok(g[k], before=g.start(k) == g.start(), after=g.end(k) == g.end() and not g[k][-1].isspace())
        for k in ("a", "b")
        if g[k]
    ]


def _to_point(s: str, pair: _Pair) -> Point | None:
    """Raise only when the numbers are unmistakably meant as coordinates."""
    (c0, c1), hemis, sep = pair
    # A spaced lone letter ("43.21 51.87 С утра") counts only when the partner is marked too.
    h0, h1 = (None if h is not None and h.weak and None in hemis else h for h in hemis)
    marked = h0 is not None or h1 is not None or any(m["dec"] is None or m["mark"] for m in (c0, c1))
    both_fractional = _fractional(c0) and _fractional(c1)
    whole = _PUNCT_ONLY.fullmatch(s[: c0.start()] + " " + s[c1.end() :]) is not None
    strong = marked or (whole and (both_fractional or sep))
    if not strong and (not both_fractional or any(_CLOCK.fullmatch(m["dec"]) for m in (c0, c1))):
        return None  # "saw 2, 3 cubs", "arrived 14.30, left 15.45"
    try:
        if h0 is not None and h1 is not None and h0.axis == h1.axis:
            raise CoordinateError("Both numbers are marked as the same axis", "hemisphere")
        first, second = _signed(c0, h0), _signed(c1, h1)
        swap = (h0 is not None and h0.axis == "lon") or (h1 is not None and h1.axis == "lat")
        return Point(second, first) if swap else Point(first, second)
    except CoordinateError:
        if strong:
            raise
        return None  # "150.5, 300.25 tenge" is a price, not a broken coordinate


def _assign(
    prefix: bool, n: int, lead: _Tok | None, gaps: list[list[_Tok]], trail: _Tok | None
) -> tuple[list[_Hemi | None], set[int]]:
    """Attach hemisphere tokens under one reading; also return gaps that hold stray tokens."""
    hemis: list[_Hemi | None] = [None] * n

    def put(i: int, tok: _Tok | None) -> bool:
        if tok is None or (not prefix and tok.sign == 0):  # "lat:" only labels what follows it
            return False
        hemis[i] = _Hemi(tok.axis, tok.sign, tok.single and not (tok.after if prefix else tok.before))
        return True

    bad = {
        i
        for i, toks in enumerate(gaps)
        if toks and (len(toks) > 1 or not put(i + 1 if prefix else i, toks[-1] if prefix else toks[0]))
    }
    put(0, lead) if prefix else put(n - 1, trail)
    return hemis, bad


def _text_candidates(s: str) -> list[Point | CoordinateError]:
    nums = []
    for m in _COMP.finditer(s):
        st, en = m.start(), m.end()
        # A number glued to letters is a code ("UST04", "12km") unless the letters are a hemisphere.
        glued_before = st > 0 and s[st - 1].isalpha() and not _LEAD.search(s, max(0, st - 40), st)
        if not glued_before and not (en < len(s) and s[en].isalpha() and not _HEMI_AT.match(s, en)):
            nums.append(m)
    # Chains: numbers separated only by whitespace, one comma/semicolon and hemisphere tokens.
    chains: list[tuple[list[re.Match[str]], list[re.Match[str]]]] = []
    for m in nums:
        g = _GAP.fullmatch(s, chains[-1][0][-1].end(), m.start()) if chains else None
        if g is not None:
            chains[-1][0].append(m)
            chains[-1][1].append(g)
        else:
            chains.append(([m], []))
    out: list[Point | CoordinateError] = []
    for k, (chain, gap_ms) in enumerate(chains):
        start = chains[k - 1][0][-1].end() if k else 0
        stop = chains[k + 1][0][0].start() if k + 1 < len(chains) else len(s)
        lm = _LEAD.search(s, max(start, chain[0].start() - 40), chain[0].start())
        tm = _TRAIL.match(s, chain[-1].end(), stop)
        lead = _tok(lm["t"], False, lm["ws"] == "") if lm else None
        trail = _tok(tm["t"], tm["ws"] == "", False) if tm else None
        gaps = [_gap_tokens(g) for g in gap_ms]
        readings = [_assign(prefix, len(chain), lead, gaps, trail) for prefix in (False, True)]
        hemis, bad = max(readings, key=lambda r: sum(h is not None for h in r[0]) - len(r[1]))
        pairs: list[_Pair] = [
            ((chain[i], chain[i + 1]), (hemis[i], hemis[i + 1]), gap_ms[i]["sep"] is not None)
            for i in range(len(chain) - 1)
            if i not in bad
        ]

        def rank(p: _Pair) -> tuple[int, int]:
            return sum(h is not None for h in p[1]), sum(_fractional(m) for m in p[0])

        best = max(map(rank, pairs), default=None)
        pairs = [p for p in pairs if rank(p) == best]
        # In a run like "14.30 43.21 51.87" only hemisphere letters can tell which two belong together.
        if not pairs or (len(pairs) > 1 and best is not None and best[0] < 2):
            continue
        try:
            point = _to_point(s, pairs[0])
        except CoordinateError as exc:
            out.append(exc)
        else:
            if point is not None:
                out.append(point)
    return out


def _url_candidate(url: str) -> Point | CoordinateError | None:
    u = unquote_plus(url)
    yandex = "yandex." in re.sub(r"^[a-z]+:/*", "", u, flags=re.I).split("/", 1)[0].lower()
    for rule in _YANDEX_RULES if yandex else _LATLON_RULES:
        if m := re.search(rule, u, re.I):
            try:
                return Point(float(m[2]), float(m[1])) if yandex else Point(float(m[1]), float(m[2]))
            except CoordinateError as exc:
                return exc
    return None


def parse_coordinates(text: str) -> Point | None:
    """Find the first coordinates in a ranger's message or caption.

    Returns None when nothing looks like coordinates, and raises CoordinateError when something is
    clearly meant as coordinates but unusable (out of range, minutes >= 60, two latitudes...).
    Bare numbers without letters, degree marks or a link are accepted only when both have decimals
    or the message consists of nothing else ("200, 51").
    """
    s = text.translate(_MARKS).replace("''", '"')
    candidates: list[Point | CoordinateError] = []
    for m in _URL.finditer(s):
        found = _url_candidate(m[0])
        if found is not None:
            candidates.append(found)
    # The replacement is not whitespace, so numbers on either side of a link never pair up.
    candidates += _text_candidates(_URL.sub(" ¦ ", s))
    for c in candidates:
        if isinstance(c, Point):
            return c
    errors = [c for c in candidates if isinstance(c, CoordinateError)]
    if errors:
        raise errors[0]
    return None
