"""The caption filter for untrusted groups: positions written in any notation must not survive it.

The property tests write random points the ways rangers, GPS units and map apps do, and check the
output three ways: no precise component is left, the project's own parser finds nothing near the
point, and no four digits of the notation survive. The example tests pin what must stay readable.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.geo.coordinates import parse_coordinates, redact_coordinates
from bot.geo.points import CoordinateError, Point, distance_km

HIDDEN, LINK = "[position hidden]", "[link hidden]"

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


def test_reference_encoders() -> None:
    # Vectors from the Open Location Code test data; the CN Tower is the UTM article's worked example,
    # and on a central meridian the northing is 0.9996 of the meridian arc (4 984 944 m at 45°).
    assert plus_code(20.3700625, 2.7821875) == "7FG49QCJ+2V"
    assert plus_code(47.0000625, 8.0000625) == "8FVC2222+22"
    assert plus_code(-41.2730625, 174.7859375) == "4VCPPQGP+Q9"
    zone, band, east, north = utm(43.642567, -79.387139)
    assert (zone, band, round(east), round(north)) == (17, "T", 630084, 4833439)
    assert [round(x) for x in utm(45, 3)[2:]] == [500000, 4982950]
    assert utm(-33.86, 151.21)[:2] == (56, "H")


# --- notations ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    text: str
    secrets: tuple[str, ...]  # components finer than a kilometre: decimals, minutes, seconds, grid digits
    codes: tuple[str, ...] = ()  # letter-digit codes (plus codes, MGRS) that must not survive either


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


def axis_text(draw: st.DrawFn, value: float, axis: str) -> tuple[str, list[str]]:
    family = draw(st.sampled_from(["decimal", "dms", "dms_spaces", "dms_colons", "dms_letters", "dm"]))
    style = draw(st.sampled_from(
        ["none", "suffix", "spaced", "prefix", "prefix_spaced", "ru", "ru_words", "kk", "ru_letter", "label"]
    ))  # fmt: skip
    pre, post = ("", "") if style == "none" else _hemi(value, axis, style)
    shown = value if style == "none" else abs(value)
    sign = "-" if shown < 0 else ""
    if family == "decimal":
        number = f"{shown:.{draw(st.integers(2, 6))}f}"
        if draw(st.booleans()):
            number = number.replace(".", ",")
        degree = draw(st.sampled_from(["", "°", "º", " °"]))
        return f"{pre}{number}{degree}{post}", [number.lstrip("-")]
    if family == "dm":
        digits = draw(st.integers(2, 4))
        total = round(abs(value) * 60, digits)
        degrees, minutes = divmod(total, 60)
        mins = f"{minutes:0{3 + digits}.{digits}f}"
        deg = f"{int(degrees):0{2 if axis == 'lat' else 3}d}" if draw(st.booleans()) else str(int(degrees))
        body = draw(st.sampled_from([f"{deg} {mins}", f"{deg}°{mins}'", f"{deg}° {mins}′", f"{deg}º{mins}"]))
        return f"{pre}{sign}{body}{post}", [mins]
    degrees, minutes, seconds = _dms(value, draw(st.integers(0, 2)))
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
    return f"{pre}{sign}{body}{post}", [f"{minutes:02d}", seconds]


@st.composite
def text_notation(draw: st.DrawFn, p: Point) -> Written:
    which = draw(st.sampled_from(["both", "both", "both", "swapped", "lat", "lon"]))
    lat, lon = axis_text(draw, p.lat, "lat"), axis_text(draw, p.lon, "lon")
    parts = {"both": [lat, lon], "swapped": [lon, lat], "lat": [lat], "lon": [lon]}[which]
    sep = draw(st.sampled_from([", ", " ", "; ", "\n", " / ", "  ", ",\u00a0"]))
    return Written(sep.join(t for t, _ in parts), tuple(s for _, secrets in parts for s in secrets))


@st.composite
def link_notation(draw: st.DrawFn, p: Point) -> Written:
    d = draw(st.integers(4, 6))
    la, lo = f"{p.lat:.{d}f}", f"{p.lon:.{d}f}"
    url = draw(st.sampled_from([
        f"https://www.google.com/maps/@{la},{lo},15z", f"https://maps.google.com/?q={la},{lo}",
        f"https://www.google.com/maps/place/{la},{lo}", f"https://www.google.com/maps/search/?api=1&query={la}%2C{lo}",
        f"https://www.openstreetmap.org/#map=15/{la}/{lo}", f"https://www.openstreetmap.org/?mlat={la}&mlon={lo}",
        f"https://yandex.ru/maps/?ll={lo},{la}&pt={lo},{la}&z=15", f"https://yandex.kz/maps/?whatshere[point]={lo},{la}",
        f"https://2gis.kz/aktau/geo/{lo},{la}", f"https://maps.apple.com/?ll={la},{lo}&q=Pin",
        f"https://www.bing.com/maps?cp={la}~{lo}&lvl=15", f"https://wego.here.com/?map={la},{lo},15,normal",
        f"https://share.here.com/l/{la},{lo}", f"https://www.waze.com/ul?ll={la},{lo}&navigate=yes",
        f"geo:{la},{lo}?z=15", f"geo:0,0?q={la},{lo}(Leopard)", f"https://osmand.net/go?lat={la}&lon={lo}&z=15",
        f"osmand://geo?lat={la}&lon={lo}", f"lat={la}&lon={lo}", f"ll={lo},{la}", f"q={la},{lo}",
    ]))  # fmt: skip
    if url.startswith("https://") and draw(st.booleans()):  # pasted without a scheme; Telegram still links it
        url = url.removeprefix("https://")
        url = url.removeprefix("www.") if draw(st.booleans()) else url
    return Written(url, (la.lstrip("-"), lo.lstrip("-")))


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
)

mangystau = st.builds(Point, st.floats(41, 46), st.floats(50, 56))
world = st.builds(Point, st.floats(-79.9, 83.9), st.floats(-180, 180))
anywhere = st.one_of(mangystau, world)


def _digit_windows(text: str) -> set[str]:
    # Digits only, across separators: "43.2134" and "43 21 34" both hold "4321".
    chunks = (re.sub(r"\D", "", c) for c in re.findall(r"\d(?:[\W_]*\d)*", text))
    return {c[i : i + 4] for c in chunks for i in range(len(c) - 3)}


def _count(number: str, text: str) -> int:
    return len(re.findall(rf"(?<![0-9]){re.escape(number)}(?![0-9])", text))


def assert_hidden(p: Point, w: Written, template: str) -> None:
    text = template.format(w.text)
    out = redact_coordinates(text)
    around = template.replace("{}", " | ")
    # (1) no precise component survives (beyond what the sentence itself holds, such as "07:42")
    for secret in w.secrets:
        assert _count(secret, out) <= _count(secret, around), (text, out, secret)
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


@settings(max_examples=300, deadline=None)
@given(anywhere, st.data(), st.sampled_from(TEMPLATES))
def test_positions_written_in_text_are_hidden(p: Point, data: st.DataObject, template: str) -> None:
    assert_hidden(p, data.draw(text_notation(p)), template)


@settings(max_examples=300, deadline=None)
@given(anywhere, st.data(), st.sampled_from(TEMPLATES))
def test_map_links_are_hidden(p: Point, data: st.DataObject, template: str) -> None:
    assert_hidden(p, data.draw(link_notation(p)), template)


@settings(max_examples=300, deadline=None)
@given(anywhere, st.data(), st.sampled_from(TEMPLATES))
def test_plus_codes_and_grid_references_are_hidden(p: Point, data: st.DataObject, template: str) -> None:
    assert_hidden(p, data.draw(grid_notation(p)), template)


@settings(max_examples=300, deadline=None)
@given(
    mangystau,
    st.sampled_from([" и ", " and ", " және ", ", ", " / ", " ", "; "]),
    st.sampled_from([("", ""), ("лат ", "лон "), ("lat ", "lon "), ("ш ", "д ")]),
    st.sampled_from(TEMPLATES),
)
def test_degrees_and_one_more_digit_per_axis_are_hidden(
    p: Point, sep: str, labels: tuple[str, str], template: str
) -> None:
    """ "43 5 и 51 8": each pair alone reads like a count, the two together are a place to ~5 km."""
    lat, lon = (f"{int(v)} {int(v * 10) % 10}" for v in (p.lat, p.lon))
    text = template.format(f"{labels[0]}{lat}{sep}{labels[1]}{lon}")
    out = redact_coordinates(text)
    around = template.replace("{}", " | ")
    for pair in (lat, lon):
        assert _count(pair, out) <= _count(pair, around), (text, out)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_never_raises_and_leaves_no_two_decimals(text: str) -> None:
    out = redact_coordinates(text)
    # Dates ("12.05.2024") are the only kept numbers with two digits after a dot.
    for m in re.finditer(r"\d+(?:[.,]\d+)+", out):
        if re.search(r"[.,]\d{2}", m[0]):
            assert re.fullmatch(r"\d{1,2}[.,]\d{1,2}[.,](?:19|20)\d\d", m[0]), (text, out)


# --- examples: what must survive, what must go -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Leopard seen near the spring, all quiet",
        "2 leopards near the spring",
        "Самка и 3 детеныша у родника",
        "UST-04 card swapped",
        "Камера UST-04, карта заменена в 07:42",
        "at 07:42, 2 leopards",
        "с 07:42 до 08:15, потом 07:50-08:10",
        "Барыс 2026-11-30 күні көрінді",
        "12.05.2024 07:42:15, UST-04",
        "-15°C, windy, tracks 1.5 km north of the camera",
        "saw 2, 3 cubs; 2-3 more yesterday",
        "т.е. 2 барса, фото с iPhone15",
        "в 10 2 детеныша",  # one such pair is a count, not a place
        "saw 12 3 times, 2 4 cubs",
        "",
    ],
)
def test_harmless_text_survives(text: str) -> None:
    assert redact_coordinates(text) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("43.21 51.87 07:42", HIDDEN),  # the time goes with the position it touches
        ("Барс 43,2134 с.ш. 51,8721 в.д., 2 детеныша", f"Барс {HIDDEN}, 2 детеныша"),
        ("тут 43°12'36\"N 51°52'12\"E у родника", f"тут {HIDDEN} у родника"),
        ("N43 12.345 E051 52.678 UST-04", f"{HIDDEN} UST-04"),
        ("43 12 36 51 52 12", HIDDEN),
        ("43:12:36, 51:52:12", HIDDEN),
        ("северной широты 43°12′ восточной долготы 51°52′", HIDDEN),
        ("at 14.30", f"at {HIDDEN}"),  # an HH.MM time is also a latitude to a kilometre
        ("lat=43.21&lon=51.87 ok", f"{HIDDEN} ok"),
        ("2X3Q+5V Aktau", f"{HIDDEN} Aktau"),
        ("8GFJ2XXX+2X", HIDDEN),
        ("///index.home.raft near the spring", f"{HIDDEN} near the spring"),
        ("39T 0512345 4781234", HIDDEN),
        ("39TVK1234567890", HIDDEN),
        ("maps.app.goo.gl/Xyz12 look!", f"{LINK} look!"),
        ("(https://yandex.ru/maps/-/CCUabc).", f"({LINK})."),
        ("see www.example.org/any?path", f"see {LINK}"),
        ("geo:43.21,51.87", LINK),
        ("intent://maps/@43.21,51.87#Intent;end", LINK),
        ("http://what3words.com/index.home.raft", LINK),
        ("call +7 701 234 5678", f"call {HIDDEN}"),
        ("12345", HIDDEN),  # could be a UTM easting
        ("geohash tpsvu6u07, locator LN23ab45", f"geohash {HIDDEN}, locator {HIDDEN}"),
        # Degrees and one more digit per axis, spaces only: harmless one at a time, a place together.
        ("43 5 и 51 8", f"{HIDDEN} и {HIDDEN}"),
        ("лат 43 5 лон 51 8 у родника", f"лат {HIDDEN} лон {HIDDEN} у родника"),
        ("ендік 43 2 бойлық 051 9", HIDDEN),
    ],
)
def test_positions_and_links_are_blanked(text: str, shown: str) -> None:
    assert redact_coordinates(text) == shown


def test_markers_can_be_translated() -> None:
    out = redact_coordinates(
        "43.21 51.87 https://osm.org/x", position_marker="[место скрыто]", link_marker="[ссылка]"
    )
    assert out == "[место скрыто] [ссылка]"
