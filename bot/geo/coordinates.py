"""Finding coordinates in what rangers type: decimal, degrees-minutes-seconds, degrees and decimal minutes
(Garmin), ru/kk/en hemisphere letters and words, and map links (Google, OpenStreetMap, Yandex, 2GIS, geo:)."""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from bot.geo.map_links import read_link
from bot.geo.points import CoordinateError, Point
from bot.geo.redaction import LINK

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
# A slash joins two numbers ("43.21 / 51.87") but, unlike a comma, does not make them a pair by itself.
_GAP = re.compile(rf"\s*(?P<a>{_TOK})?(?P<sep>[,;/])?\s*(?P<b>{_TOK})?", re.I)

# Refusing a digit, "digit." or a sign/mark in front keeps dates (12.05.2024), codes (UST-04) and the
# tails of longer numbers from being read as a coordinate.
_START = r"(?<![0-9\-+°'#№_])(?<![0-9]\.)(?P<sign>[-+])?"
_END = r"(?![0-9°'])(?!\.[0-9])"
_FRAC_NUM = r"[0-9]{1,2}(?:[.,][0-9]+)?"
_MIN_FRAC = r"[0-9]{1,2}[.,][0-9]+"  # minutes with decimals: what makes "43 12.600" degrees and minutes
_HS = r"[^\S\n]+"
_DECIMAL = r"(?P<dec>[0-9]{1,3}(?:[.,][0-9]+)?)(?P<mark>\s*°)?"
_SEXAGESIMAL = (
    # Seconds after a space need their mark: in "43°12.6' 07:42" the 07 is the hour.
    rf"(?P<deg>[0-9]{{1,3}})\s*°\s*(?P<min>{_FRAC_NUM})\s*'"
    rf"(?:(?:\s+(?={_FRAC_NUM}\s*\"))?(?P<sec>{_FRAC_NUM})\s*\"?)?"
    rf"|(?P<mdeg>[0-9]{{1,3}})\s*°\s*(?P<mmin>{_MIN_FRAC})(?!\s*°)"  # 43°12.600, no minute mark
    rf"|(?<![:：])(?P<cdeg>[0-9]{{1,3}}):(?P<cmin>{_MIN_FRAC})(?:\s*')?(?!:)"  # 43:12.600
    # Loose forms, marked by nothing but spacing: 43 12 36, 43:12:36 and 43 12.600.
    rf"|(?<![:：])(?P<ldeg>[0-9]{{1,3}})(?P<lsep>{_HS}|:)(?P<lmin>[0-9]{{2}})(?P=lsep)(?P<lsec>{_FRAC_NUM})(?!:)"
    rf"|(?P<sdeg>[0-9]{{1,3}}){_HS}(?P<smin>{_MIN_FRAC})(?:\s*')?(?!\s*°)"
)
_COMP = re.compile(rf"{_START}(?:{_SEXAGESIMAL}|{_DECIMAL}){_END}")
_PLAIN = re.compile(rf"{_START}(?:{_DECIMAL}){_END}")  # a loose form read again as separate numbers
_PARTS = (("deg", "min", "sec", "marked"), ("mdeg", "mmin", "", "marked"), ("cdeg", "cmin", "", "marked"),
          ("ldeg", "lmin", "lsec", "loose"), ("sdeg", "smin", "", "loose"))  # fmt: skip
_MARKS = str.maketrans(
    {"′": "'", "’": "'", "‘": "'", "´": "'", "`": "'", "ʹ": "'", "″": '"', "ʺ": '"', "”": '"', "“": '"',
     "„": '"', "«": '"', "»": '"', "º": "°", "˚": "°", "ᵒ": "°", "−": "-"}
)  # fmt: skip
_PUNCT_ONLY = re.compile(r"[\s.,;:!?]*")
_CLOCK = re.compile(r"(?:[01]?[0-9]|2[0-3])[.,][0-5][0-9]")  # "14.30": Russian writes times with a dot


class _Num(NamedTuple):
    start: int
    end: int
    sign: str | None
    kind: str  # "dec"; "marked" (degree or minute marks, or 43:12.600); "loose" (marked only by spacing)
    deg: str  # the whole number for "dec"
    min: str | None
    sec: str | None
    mark: bool  # a degree sign after a decimal


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


def _num(m: re.Match[str]) -> _Num:
    if m["dec"] is not None:
        return _Num(m.start(), m.end(), m["sign"], "dec", m["dec"], None, None, bool(m["mark"]))
    deg, mins, sec, kind = next(p for p in _PARTS if m[p[0]] is not None)
    return _Num(m.start(), m.end(), m["sign"], kind, m[deg], m[mins], m[sec] if sec else None, False)


def _tok(text: str, before: bool, after: bool) -> _Tok:
    core = text.strip().rstrip(":=").strip()
    for form, axis, sign in _FORM_RES:
        if form.fullmatch(core):
            return _Tok(axis, sign, len(re.sub(r"[.\s]", "", core)) == 1, before, after)
    raise AssertionError(core)  # unreachable: _HEMI is built from _FORMS


def _magnitude(n: _Num) -> float:
    if n.kind == "dec":
        return float(n.deg.replace(",", "."))
    minutes, seconds = (float(v.replace(",", ".")) if v else 0.0 for v in (n.min, n.sec))
    if minutes >= 60 or seconds >= 60:
        raise CoordinateError("Minutes and seconds must be below 60", "minutes_range")
    return int(n.deg) + minutes / 60 + seconds / 3600


def _signed(n: _Num, hemi: _Hemi | None) -> float:
    value = _magnitude(n)
    if hemi is not None and hemi.sign:
        if n.sign == "-" and hemi.sign > 0:
            raise CoordinateError("A minus sign contradicts the N/E letter", "hemisphere")
        return math.copysign(value, hemi.sign)
    return -value if n.sign == "-" else value


def _precise(n: _Num) -> bool:
    """Finer than whole degrees: a decimal fraction, or minutes."""
    return n.kind != "dec" or not n.deg.isdigit()


def _decimals(n: _Num) -> int:
    return len(n.deg.replace(",", ".").partition(".")[2]) if n.kind == "dec" else 6


def _clock_like(n: _Num) -> bool:
    """Shaped like a time of day: "14.30", "10 14.30" (a count, then a time), "07:42:15"."""
    if n.kind == "dec":
        return _CLOCK.fullmatch(n.deg) is not None
    if int(n.deg) > 23:
        return False
    if n.sec is None:
        return n.min is not None and _CLOCK.fullmatch(n.min) is not None
    return int(n.min or 0) <= 59 and float(n.sec.replace(",", ".")) < 60


_Pair = tuple[tuple[_Num, _Num], tuple[_Hemi | None, _Hemi | None], bool]


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
    marked = h0 is not None or h1 is not None or any(n.kind == "marked" or n.mark for n in (c0, c1))
    both_precise = _precise(c0) and _precise(c1)
    clock = any(_clock_like(n) for n in (c0, c1))
    # The whole message "07:42:15 08:10:20" is still two times, not degrees, minutes and seconds.
    whole = _PUNCT_ONLY.fullmatch(s[: c0.start] + " " + s[c1.end :]) is not None
    whole = whole and not (clock and any(n.kind == "loose" and n.sec is not None for n in (c0, c1)))
    strong = marked or (whole and (both_precise or sep))
    if not strong and (not both_precise or clock):
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


class _Reading(NamedTuple):
    hemis: list[_Hemi | None]
    bad: set[int]  # gaps that no pair may span
    gap_of: dict[int, int]  # number -> the gap its hemisphere token came from


def _assign(prefix: bool, n: int, lead: _Tok | None, gaps: list[list[_Tok]], trail: _Tok | None) -> _Reading:
    """Attach hemisphere tokens under one reading (tokens after their numbers, or before them)."""
    r = _Reading([None] * n, set(), {})

    def put(i: int, tok: _Tok, before: bool, gap: int | None = None) -> bool:
        if r.hemis[i] is not None or (not before and tok.sign == 0):  # "lat:" only labels what follows it
            return False
        r.hemis[i] = _Hemi(tok.axis, tok.sign, tok.single and not (tok.after if before else tok.before))
        if gap is not None:
            r.gap_of[i] = gap
        return True

    for i, toks in enumerate(gaps):
        if len(toks) == 2:  # "43.21N, E51.87": one letter closes a number, the other opens the next
            ok = put(i, toks[0], False, i) and put(i + 1, toks[1], True, i)
        else:
            ok = not toks or put(i + 1 if prefix else i, toks[0], prefix, i)
        if not ok:
            r.bad.add(i)
    # Nothing stands before the first number or after the last: a word there can only be theirs.
    for i, tok, before in ((0, lead, True), (n - 1, trail, False))[:: 1 if prefix else -1]:
        if tok is not None:
            put(i, tok, before)
    return r


def _drop_weak(r: _Reading) -> None:
    """In a run of three or more numbers, a spaced lone letter beside no other letter is a word ("в 06.15"):
    the run ends there, so "43.21 51.87 в 06.15" is the position and the time, not three coordinates."""
    n = len(r.hemis)
    for i, h in enumerate(r.hemis):
        if n >= 3 and h is not None and h.weak:
            if all(r.hemis[j] is None for j in (i - 1, i + 1) if 0 <= j < n):
                r.hemis[i] = None
                if i in r.gap_of:
                    r.bad.add(r.gap_of[i])


def _chains(s: str, nums: list[_Num]) -> list[tuple[list[_Num], list[re.Match[str]]]]:
    """Numbers separated only by whitespace, one comma/semicolon/slash and hemisphere tokens."""
    chains: list[tuple[list[_Num], list[re.Match[str]]]] = []
    for n in nums:
        g = _GAP.fullmatch(s, chains[-1][0][-1].end, n.start) if chains else None
        if g is not None:
            chains[-1][0].append(n)
            chains[-1][1].append(g)
        else:
            chains.append(([n], []))
    return chains


def _numbers(s: str, matches: list[re.Match[str]]) -> list[_Num]:
    out = []
    for m in matches:
        st, en = m.start(), m.end()
        # A number glued to letters is a code ("UST04", "12km") unless the letters are a hemisphere.
        glued_before = st > 0 and s[st - 1].isalpha() and not _LEAD.search(s, max(0, st - 40), st)
        glued = glued_before or (en < len(s) and s[en].isalpha() and not _HEMI_AT.match(s, en))
        if not glued:
            out.append(_num(m))
        elif m["dec"] is None and any(m[p[0]] is not None for p in _PARTS if p[3] == "loose"):
            out += _numbers(s, list(_PLAIN.finditer(s, st, en)))
    return out


def _candidates(s: str, nums: list[_Num], start: int, stop: int) -> list[Point | CoordinateError]:
    """What the runs of numbers between start and stop say; neighbours bound the words they may take."""
    chains = _chains(s, nums)
    out: list[Point | CoordinateError] = []
    for k, (chain, gap_ms) in enumerate(chains):
        lo = chains[k - 1][0][-1].end if k else start
        hi = chains[k + 1][0][0].start if k + 1 < len(chains) else stop
        found, loose = _chain_candidate(s, chain, gap_ms, lo, hi)
        if found is not None:
            out.append(found)
        elif loose:
            # "12 43.21 51.87" is no degrees and minutes (51.87 has none): read the loose ones as numbers.
            plain = [p for n in chain for p in (_numbers(s, list(_PLAIN.finditer(s, n.start, n.end)))
                                                if n in loose else [n])]  # fmt: skip
            out += _candidates(s, plain, lo, hi)
    return out


def _chain_candidate(
    s: str, chain: list[_Num], gap_ms: list[re.Match[str]], lo: int, hi: int
) -> tuple[Point | CoordinateError | None, list[_Num]]:
    """The chain's position (or why it is unusable), and its loose forms that no letter marks."""
    lm = _LEAD.search(s, max(lo, chain[0].start - 40), chain[0].start)
    tm = _TRAIL.match(s, chain[-1].end, hi)
    lead = _tok(lm["t"], False, lm["ws"] == "") if lm else None
    trail = _tok(tm["t"], tm["ws"] == "", False) if tm else None
    gaps = [_gap_tokens(g) for g in gap_ms]
    readings = [_assign(prefix, len(chain), lead, gaps, trail) for prefix in (False, True)]
    r = max(readings, key=lambda r: sum(h is not None for h in r.hemis) - len(r.bad))
    _drop_weak(r)
    loose = [n for n, h in zip(chain, r.hemis, strict=True) if n.kind == "loose" and h is None]

    def eligible(i: int) -> bool:
        # A loose form without letters pairs only with another sexagesimal number.
        a, b = chain[i], chain[i + 1]
        return i not in r.bad and not ((a in loose and b.kind == "dec") or (b in loose and a.kind == "dec"))

    pairs: list[_Pair] = [
        ((chain[i], chain[i + 1]), (r.hemis[i], r.hemis[i + 1]), gap_ms[i]["sep"] in (",", ";"))
        for i in range(len(chain) - 1)
        if eligible(i)
    ]

    def rank(p: _Pair) -> tuple[int, int, int, bool]:
        # Letters first, then precision (a time has fewer decimals than a GPS), then a comma between.
        (a, b), hemis, sep = p
        return sum(h is not None for h in hemis), _precise(a) + _precise(b), min(map(_decimals, (a, b))), sep

    best = max(map(rank, pairs), default=None)
    pairs = [p for p in pairs if rank(p) == best]
    # In a run like "14.30 43.21 51.87" only hemisphere letters can tell which two belong together.
    if not pairs or (len(pairs) > 1 and best is not None and best[0] < 2):
        return None, loose
    try:
        return _to_point(s, pairs[0]), loose
    except CoordinateError as exc:
        return exc, loose


def parse_coordinates(text: str) -> Point | None:
    """Find the first coordinates in a ranger's message or caption.

    Returns None when nothing looks like coordinates, and raises CoordinateError when something is
    clearly meant as coordinates but unusable (out of range, minutes >= 60, two latitudes, a short map
    link that only its service can resolve...). Bare numbers without letters, degree marks or a link are
    accepted only when both have decimals (or minutes) or the message consists of nothing else ("200, 51").
    Words after a complete pair are left out: "43.21, 51.87 в 06.15".
    """
    s = text.translate(_MARKS).replace("''", '"')
    candidates: list[Point | CoordinateError] = []
    for m in LINK.finditer(s):
        found = read_link(m[0])
        if found is not None:
            candidates.append(found)
    # The replacement is not whitespace, so numbers on either side of a link never pair up.
    s = LINK.sub(" ¦ ", s)
    candidates += _candidates(s, _numbers(s, list(_COMP.finditer(s))), 0, len(s))
    for c in candidates:
        if isinstance(c, Point):
            return c
    errors = [c for c in candidates if isinstance(c, CoordinateError)]
    if errors:
        raise errors[0]
    return None
