"""Coordinates: validation, parsing what rangers type, distances, movement checks and coarsening."""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from urllib.parse import unquote_plus

from geopy.distance import geodesic


class CoordinateError(ValueError):
    """Unusable coordinates. ``reason`` is a stable code for translation: not_a_number, not_finite,
    lat_range, lon_range, minutes_range (DMS minutes/seconds >= 60) or hemisphere (contradictory letters)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Point:
    """A WGS84 position in decimal degrees."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        for value in (self.lat, self.lon):
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                raise CoordinateError(f"Coordinates must be numbers, got {value!r}", "not_a_number")
        lat, lon = float(self.lat), float(self.lon)
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise CoordinateError("Coordinates must be finite numbers", "not_finite")
        if not -90.0 <= lat <= 90.0:
            raise CoordinateError(f"Latitude {lat:g} is outside -90..90", "lat_range")
        if not -180.0 <= lon <= 180.0:
            raise CoordinateError(f"Longitude {lon:g} is outside -180..180", "lon_range")
        # Storing plain floats keeps equality and hashing independent of the caller's numeric type.
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "lon", lon)


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


def format_point(p: Point, digits: int = 5) -> str:
    """'43.21000, 51.87000': five decimals is about a metre, finer than any phone GPS fix."""
    return f"{p.lat:.{digits}f}, {p.lon:.{digits}f}"


def format_dms(p: Point, second_digits: int = 1) -> str:
    """43°12'36.0"N 51°52'12.0"E, the notation of paper maps and handheld GPS units."""

    def part(value: float, letters: str) -> str:
        # Rounding the total first carries 59.96" into the next minute instead of printing 60.0".
        minutes, seconds = divmod(round(abs(value) * 3600, second_digits), 60)
        degrees, minutes = divmod(int(minutes), 60)
        width = 3 + second_digits if second_digits > 0 else 2
        return f"{degrees}°{minutes:02d}'{seconds:0{width}.{max(second_digits, 0)}f}\"{letters[value < 0]}"

    return f"{part(p.lat, 'NS')} {part(p.lon, 'EW')}"


def osm_url(p: Point, zoom: int = 13) -> str:
    lat, lon = f"{p.lat:.5f}", f"{p.lon:.5f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map={zoom}/{lat}/{lon}"


def google_maps_url(p: Point) -> str:
    return f"https://maps.google.com/?q={p.lat:.5f},{p.lon:.5f}"


def distance_km(a: Point, b: Point) -> float:
    """Geodesic distance on the WGS84 ellipsoid (Karney's algorithm via geopy)."""
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon), ellipsoid="WGS-84").km)


# Upper bound for sustained straight-line travel between two sightings of the same leopard, used to flag
# likely misidentifications or wrong coordinates. It is a judgement call, not a measured limit:
# - Hubel et al. 2018 (Proc. R. Soc. B 285), GPS/IMU collars on four males in the Okavango
#   Delta: mean daily travel 11 km, maximum 29 km in a day.
# - Odden & Wegge 2005 (Wildlife Biology 11:145-152), radio-collared males in Bardia, Nepal: about
#   5 km moved per night in 24-hour tracking sessions.
# - Fattebert et al. 2013 (S. Afr. J. Wildl. Res. 43:61-67): a dispersing subadult male covered at least
#   353 km (195 km straight line), the longest dispersal reported for the species.
# Those are path lengths in African and Nepalese habitat; straight-line displacement is shorter. We know of
# no comparable collar data for Persian leopards in Mangystau, where sparse prey probably means larger
# ranges and longer moves, so 30 km/day straight-line is a generous bound for sightings days apart, not
# a biological limit. It is configurable: callers pass the station's or group's own value.
DEFAULT_MAX_KM_PER_DAY = 30.0
# Two phones at the same camera trap routinely disagree by hundreds of metres.
_GPS_NOISE_KM = 1.0


@dataclass(frozen=True)
class Movement:
    distance_km: float
    hours: float
    km_per_day: float | None  # None: moved with no time elapsed, i.e. infinitely fast
    plausible: bool


def movement(
    a: Point, t_a: datetime, b: Point, t_b: datetime, max_km_per_day: float = DEFAULT_MAX_KM_PER_DAY
) -> Movement:
    """Could one animal have been at ``a`` at ``t_a`` and at ``b`` at ``t_b``? Order does not matter."""
    if t_a.utcoffset() is None or t_b.utcoffset() is None:
        raise ValueError("movement() needs timezone-aware datetimes")
    if not max_km_per_day > 0:
        raise ValueError("max_km_per_day must be positive")
    dist = distance_km(a, b)
    hours = abs((t_b - t_a).total_seconds()) / 3600
    speed = dist / (hours / 24) if hours > 0 else (0.0 if dist == 0 else None)
    plausible = dist < _GPS_NOISE_KM or (speed is not None and speed <= max_km_per_day)
    return Movement(distance_km=dist, hours=hours, km_per_day=speed, plausible=plausible)


_KM_PER_DEGREE = 111.32


def round_point(p: Point, grid_km: float) -> Point:
    """Snap to a grid of roughly ``grid_km`` so a shared sighting cannot guide poachers to the spot.

    The result depends only on the grid cell, never on where inside it the animal was.
    """
    if math.isnan(grid_km) or math.isinf(grid_km):
        raise ValueError("grid_km must be finite")
    if grid_km < 1e-9:  # below a micrometre there is nothing left to hide, and steps would underflow
        return p
    lat_step = grid_km / _KM_PER_DEGREE
    lat = max(-90.0, min(90.0, round(p.lat / lat_step) * lat_step))
    # Sizing the longitude step at the band's edge nearest the equator keeps the east-west error within
    # half a cell for every point of the band; using the snapped latitude (not p.lat) avoids leaking it.
    edge = max(0.0, abs(lat) - lat_step / 2)
    lon_step = grid_km / (_KM_PER_DEGREE * math.cos(math.radians(edge)))
    lon = 0.0 if lon_step >= 360 else max(-180.0, min(180.0, round(p.lon / lon_step) * lon_step))
    return Point(lat, lon)
