"""Positions written the ways rangers, GPS units and map apps write them, shared by the parser's tests and
the caption filter's, so that what one is shown as a position the other is shown too.

Each notation is a Hypothesis strategy returning a Written: the text, the parts of it finer than a
kilometre (the filter must leave none), and, where the parser promises to read it back, to what
precision. `readable=True` draws only those, in the forms a ranger writes one position in (one notation
and one hemisphere style for both axes); the filter's tests draw every form, mixed and partial too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple

from hypothesis import strategies as st

from bot.geo import CoordinateError, Point, distance_km, parse_coordinates, redact_coordinates

# --- reference encoders: a plus code or UTM string must be computed right to be a fair test ---------

OLC = "23456789CFGHJMPQRVWX"


def plus_code(lat: float, lon: float) -> str:
    """Open Location Code, 10 digits (about 14 m), by the spec's integer algorithm."""
    lat_v = min(math.floor((min(max(lat, -90.0), 90.0) + 90) * 8000), 180 * 8000 - 1)
    lon_v = math.floor(((lon + 180) % 360) * 8000)
    digits: list[str] = []
    for _ in range(5):
        digits += [OLC[lon_v % 20], OLC[lat_v % 20]]
        lat_v, lon_v = lat_v // 20, lon_v // 20
    code = "".join(reversed(digits))
    return f"{code[:8]}+{code[8:]}"


def utm(lat: float, lon: float) -> tuple[int, str, float, float]:
    """Zone, latitude band, easting, northing (Snyder's series, WGS84; centimetres are plenty)."""
    a, f, k0 = 6378137.0, 1 / 298.257223563, 0.9996
    e2 = f * (2 - f)
    ep2 = e2 / (1 - e2)
    zone = min(int((lon + 180) // 6) + 1, 60)
    phi, lam = math.radians(lat), math.radians(lon)
    lam0 = math.radians((zone - 1) * 6 - 180 + 3)
    n = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    t, c = math.tan(phi) ** 2, ep2 * math.cos(phi) ** 2
    aa = math.cos(phi) * (lam - lam0)
    m = a * (
        (1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256) * phi
        - (3 * e2 / 8 + 3 * e2**2 / 32 + 45 * e2**3 / 1024) * math.sin(2 * phi)
        + (15 * e2**2 / 256 + 45 * e2**3 / 1024) * math.sin(4 * phi)
        - (35 * e2**3 / 3072) * math.sin(6 * phi)
    )
    east = 500000 + k0 * n * (
        aa + (1 - t + c) * aa**3 / 6 + (5 - 18 * t + t**2 + 72 * c - 58 * ep2) * aa**5 / 120
    )
    north = k0 * (
        m
        + n
        * math.tan(phi)
        * (
            aa**2 / 2
            + (5 - t + 9 * c + 4 * c**2) * aa**4 / 24
            + (61 - 58 * t + t**2 + 600 * c - 330 * ep2) * aa**6 / 720
        )
    )
    band = "CDEFGHJKLMNPQRSTUVWXX"[int((lat + 80) // 8)]
    return zone, band, east, north + (10_000_000 if lat < 0 else 0)


def mgrs_square(zone: int, east: float, north: float) -> str:
    column = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")[(zone - 1) % 3][int(east // 100_000) - 1]
    row = "ABCDEFGHJKLMNPQRSTUV"[(int(north // 100_000) + (5 if zone % 2 == 0 else 0)) % 20]
    return column + row


# --- notations ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    text: str
    secrets: tuple[str, ...]  # components finer than a kilometre: decimals, minutes, seconds, grid digits
    codes: tuple[str, ...] = ()  # letter-digit codes (plus codes, MGRS) that must not survive either
    tol: float | None = None  # degrees the parser may be off by; None: the parser promises nothing


class _Axis(NamedTuple):
    text: str
    secrets: list[str]
    tol: float


STYLES = ("none", "suffix", "spaced", "prefix", "prefix_spaced", "ru", "ru_words", "kk", "ru_letter", "label")
# Degrees and minutes written with letters ("43d12m36s", "43 град 12 мин") are hidden, not read.
FAMILIES = ("decimal", "dms", "dms_spaces", "dms_colons", "dms_letters", "dm")
READ_FAMILIES = ("decimal", "dms", "dms_spaces", "dms_colons", "dm")
SEPARATORS = (", ", " ", "; ", "\n", " / ", "  ", ",\u00a0")


def _hemi(value: float, axis: str, style: str) -> tuple[str, str]:
    """Prefix and suffix around an unsigned number."""
    neg = value < 0
    letter = ("NS" if axis == "lat" else "EW")[neg]
    words = {
        "suffix": ("", letter),
        "spaced": ("", " " + letter),
        "prefix": (letter, ""),
        "prefix_spaced": (letter + " ", ""),
        "ru": ("", " " + (("с.ш.", "ю.ш.") if axis == "lat" else ("в.д.", "з.д."))[neg]),
        "ru_words": ((("северной широты ", "южной широты "), ("восточной долготы ", "западной долготы "))
                     [axis == "lon"][neg], ""),
        "kk": ("", " " + (("солтүстік ендік", "оңтүстік ендік") if axis == "lat"
                          else ("шығыс бойлық", "батыс бойлық"))[neg]),
        "ru_letter": ("", ("СЮ" if axis == "lat" else "ВЗ")[neg]),
        "label": (f"{axis}: ", ""),
    }  # fmt: skip
    return words[style]


def _dms(value: float, second_digits: int) -> tuple[int, int, str]:
    total = round(abs(value) * 3600, second_digits)
    minutes, seconds = divmod(total, 60)
    degrees, minutes = divmod(int(minutes), 60)
    width = 3 + second_digits if second_digits else 2
    return degrees, minutes, f"{seconds:0{width}.{second_digits}f}"


def axis_text(
    draw: st.DrawFn, value: float, axis: str, family: str | None = None, style: str | None = None
) -> _Axis:
    family = family or draw(st.sampled_from(FAMILIES))
    style = style or draw(st.sampled_from(STYLES))
    pre, post = ("", "") if style == "none" else _hemi(value, axis, style)
    shown = value if style in ("none", "label") else abs(value)  # a label names the axis, not its sign
    sign = "-" if shown < 0 else ""
    if family == "decimal":
        digits = draw(st.integers(2, 6))
        number = f"{shown:.{digits}f}"
        if draw(st.booleans()):
            number = number.replace(".", ",")
        degree = draw(st.sampled_from(["", "°", "º", " °"]))
        return _Axis(f"{pre}{number}{degree}{post}", [number.lstrip("-")], 0.5 * 10**-digits)
    if family == "dm":  # degrees and decimal minutes, as Garmin units show them ("N43 12.600 E051 52.200")
        digits = draw(st.integers(2, 4))
        total = round(abs(value) * 60, digits)
        degrees, minutes = divmod(total, 60)
        mins = f"{minutes:0{3 + digits}.{digits}f}"
        if draw(st.booleans()):
            mins = mins.replace(".", ",")
        deg = f"{int(degrees):0{2 if axis == 'lat' else 3}d}" if draw(st.booleans()) else str(int(degrees))
        body = draw(st.sampled_from(
            [f"{deg} {mins}", f"{deg}°{mins}'", f"{deg}° {mins}′", f"{deg}º{mins}", f"{deg}:{mins}"]
        ))  # fmt: skip
        return _Axis(f"{pre}{sign}{body}{post}", [mins], 0.5 * 10**-digits / 60)
    second_digits = draw(st.integers(0, 2))
    degrees, minutes, seconds = _dms(value, second_digits)
    body = {
        "dms": draw(st.sampled_from([
            f"{degrees}°{minutes:02d}'{seconds}\"", f"{degrees}° {minutes:02d}′ {seconds}″",
            f"{degrees}º{minutes:02d}'{seconds}''", f"{degrees}°{minutes:02d}’{seconds}”",
        ])),
        "dms_spaces": f"{degrees} {minutes:02d} {seconds}",
        "dms_colons": f"{degrees}:{minutes:02d}:{seconds}",
        "dms_letters": draw(st.sampled_from([
            f"{degrees}d{minutes:02d}m{seconds}s", f"{degrees}d {minutes:02d}m {seconds}s",
            f"{degrees} град {minutes:02d} мин {seconds} сек",
            f"{degrees} градусов {minutes:02d} минут {seconds} секунд",
            f"{degrees} gradusov {minutes:02d} minut {seconds} sekund",
        ])),
    }[family]  # fmt: skip
    return _Axis(f"{pre}{sign}{body}{post}", [f"{minutes:02d}", seconds], 0.5 * 10**-second_digits / 3600)


@st.composite
def text_notation(draw: st.DrawFn, p: Point, readable: bool = False) -> Written:
    if readable:
        # Swapped axes are read right only when letters or labels say which is which.
        which = draw(st.sampled_from(["both", "both", "swapped"]))
        family = draw(st.sampled_from(READ_FAMILIES))
        style = draw(st.sampled_from(STYLES if which == "both" else STYLES[1:]))
        lat, lon = axis_text(draw, p.lat, "lat", family, style), axis_text(draw, p.lon, "lon", family, style)
    else:
        which = draw(st.sampled_from(["both", "both", "both", "swapped", "lat", "lon"]))
        lat, lon = axis_text(draw, p.lat, "lat"), axis_text(draw, p.lon, "lon")
    parts = {"both": [lat, lon], "swapped": [lon, lat], "lat": [lat], "lon": [lon]}[which]
    sep = draw(st.sampled_from(SEPARATORS))
    return Written(
        sep.join(a.text for a in parts),
        tuple(s for a in parts for s in a.secrets),
        tol=max(lat.tol, lon.tol) + 1e-9 if readable else None,
    )


@st.composite
def link_notation(draw: st.DrawFn, p: Point, readable: bool = False) -> Written:
    d = draw(st.integers(4, 6))
    la, lo = f"{p.lat:.{d}f}", f"{p.lon:.{d}f}"
    tld = draw(st.sampled_from(["kz", "ru", "com", "kg", "uz", "ae"]))
    city = draw(st.sampled_from(["aktau", "zhanaozen", "almaty", "moscow"]))
    oid = draw(st.integers(10**13, 10**17))
    zoom = draw(st.sampled_from(["16", "17.5", "11"]))
    links = [  # (link, whether the parser reads it: a bare "ll=" does not say whose axis order it is)
        (f"https://www.google.com/maps/@{la},{lo},15z", True),
        (f"https://maps.google.com/?q={la},{lo}", True),
        (f"https://www.google.com/maps/place/{la},{lo}", True),
        (f"https://www.google.com/maps/search/?api=1&query={la}%2C{lo}", True),
        (f"https://www.openstreetmap.org/#map=15/{la}/{lo}", True),
        (f"https://www.openstreetmap.org/?mlat={la}&mlon={lo}", True),
        (f"https://yandex.ru/maps/?ll={lo},{la}&pt={lo},{la}&z=15", True),
        (f"https://yandex.kz/maps/?whatshere[point]={lo},{la}", True),
        (f"https://maps.apple.com/?ll={la},{lo}&q=Pin", True),
        (f"https://www.bing.com/maps?cp={la}~{lo}&lvl=15", True),
        (f"https://wego.here.com/?map={la},{lo},15,normal", True),
        (f"https://share.here.com/l/{la},{lo}", True),
        (f"https://www.waze.com/ul?ll={la},{lo}&navigate=yes", True), (f"geo:{la},{lo}?z=15", True),
        (f"geo:0,0?q={la},{lo}(Leopard)", True), (f"https://osmand.net/go?lat={la}&lon={lo}&z=15", True),
        (f"osmand://geo?lat={la}&lon={lo}", True), (f"lat={la}&lon={lo}", False), (f"ll={lo},{la}", False),
        (f"q={la},{lo}", True),
        # 2GIS, the map Kazakh phones share most: longitude first, in the path and in "m=lon,lat/zoom".
        (f"https://2gis.{tld}/{city}/geo/{lo},{la}", True),
        (f"https://2gis.{tld}/{city}/geo/{oid}/{lo},{la}", True),
        (f"https://2gis.{tld}/{city}/firm/{oid}/{lo}%2C{la}", True),
        (f"https://2gis.{tld}/{city}?m={lo}%2C{la}%2F{zoom}", True),
        (f"https://2gis.{tld}/{city}?m={lo},{la}/{zoom}", True),
        (f"https://2gis.{tld}/{city}/geo/{oid}?m={lo}%2C{la}%2F{zoom}", True),
        (f"https://2gis.{tld}/{city}/directions/points/%7C{lo}%2C{la}%3B{oid}", True),
        (f"dgis://2gis.ru/routeSearch/rsType/car/to/{lo},{la}", True),
    ]  # fmt: skip
    url, reads = draw(st.sampled_from([link for link in links if link[1] or not readable]))
    if url.startswith("https://") and draw(st.booleans()):  # pasted without a scheme; Telegram still links it
        url = url.removeprefix("https://")
        url = url.removeprefix("www.") if draw(st.booleans()) else url
    return Written(url, (la.lstrip("-"), lo.lstrip("-")), tol=0.5 * 10**-d + 1e-9 if reads else None)


@st.composite
def grid_notation(draw: st.DrawFn, p: Point) -> Written:
    kind = draw(
        st.sampled_from(["plus", "plus_short", "utm", "utm_letters", "utm_labels", "mgrs", "mgrs_spaced"])
    )
    if kind.startswith("plus"):
        code = plus_code(p.lat, p.lon)
        if kind == "plus_short":
            code = code[4:] + " " + draw(st.sampled_from(["Aktau", "Шетпе", "Жанаозен"]))
        return Written(code, (), (code.split(" ")[0].replace("+", ""),))
    zone, band, east, north = utm(max(min(p.lat, 83.9), -79.9), p.lon)
    e, n = f"{int(east):06d}", f"{int(north):07d}"
    if kind.startswith("mgrs"):
        e5, n5 = e[-5:], n[-5:]
        square = mgrs_square(zone, east, north)
        text = f"{zone}{band}{square}{e5}{n5}" if kind == "mgrs" else f"{zone}{band} {square} {e5} {n5}"
        return Written(text, (e5, n5), (f"{square}{e5}",))
    e = "0" + e if draw(st.booleans()) else e
    text = {"utm": f"{zone}{band} {e} {n}", "utm_letters": f"{zone}{band} {e}E {n}N",
            "utm_labels": f"UTM {zone}{band} E: {e} N: {n}"}[kind]  # fmt: skip
    return Written(text, (e, n))


# The words around a position in a caption; the last ones end in a time or a word, as rangers add them.
TEMPLATES = (
    "{}",
    "Leopard seen at {} near the spring",
    "Барс у родника {} утром, следы свежие",
    "Барыс {} маңында көрінді",
    "Camera UST-04: {} 07:42",  # a position followed by a time
    "{} 07:42",
    "Самка с котятами, {}, 2 детеныша",
    "Photo from {}.",
    "Тут: {} (проверить)",
    "{} в 06.15",
    "{} at 7:40",
    "{}, утром",
    "{} с 06.15 до 07.30",
)

# The deployment's region (bot/geo/region.py's default box) with a margin, and its mirror images, so that
# southern and western letters are written too.
around_region = st.builds(
    lambda lat, lon, south, west: Point(-lat if south else lat, -lon if west else lon),
    st.floats(38, 49.5),
    st.floats(46.5, 59.5),
    st.booleans(),
    st.booleans(),
)


# --- what the filter must leave behind ------------------------------------------------------------


def _digit_windows(text: str) -> set[str]:
    # Digits only, across separators: "43.2134" and "43 21 34" both hold "4321".
    chunks = (re.sub(r"\D", "", c) for c in re.findall(r"\d(?:[\W_]*\d)*", text))
    return {c[i : i + 4] for c in chunks for i in range(len(c) - 3)}


def occurrences(number: str, text: str) -> int:
    return len(re.findall(rf"(?<![0-9]){re.escape(number)}(?![0-9])", text))


def assert_hidden(p: Point, w: Written, template: str) -> None:
    text = template.format(w.text)
    out = redact_coordinates(text)
    around = template.replace("{}", " | ")
    # (1) no precise component survives (beyond what the sentence itself holds, such as "07:42")
    for secret in w.secrets:
        assert occurrences(secret, out) <= occurrences(secret, around), (text, out, secret)
    # (2) the project's own parser finds nothing within 2 km of the point, in either axis order
    try:
        found = parse_coordinates(out)
    except CoordinateError:
        found = None
    if found is not None:
        near = [p] + ([Point(p.lon, p.lat)] if abs(p.lon) <= 90 else [])
        assert all(distance_km(found, q) > 2 for q in near), (text, out, found)
    # (3) no four consecutive digits of the notation survive
    leaked = _digit_windows(w.text) & _digit_windows(out) - _digit_windows(around)
    assert not leaked, (text, out, leaked)
    for code in w.codes:
        windows = {code[i : i + 4] for i in range(len(code) - 3)}
        assert not {x for x in windows if x in out.upper() and x not in around.upper()}, (text, out, code)
    # The rest of the sentence is still there: the filter must not simply drop captions.
    for word in re.findall(r"[^\W\d_]{4,}", around):
        assert word in out, (text, out, word)
