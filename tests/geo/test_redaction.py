"""The caption filter for untrusted groups: positions written in any notation must not survive it.

The property tests write random points the ways rangers, GPS units and map apps do, and check the
output three ways: no precise component is left, the project's own parser finds nothing near the
point, and no four digits of the notation survive. The example tests pin what must stay readable.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.geo import Point, redact_coordinates
from tests.support.geo_strategies import (
    TEMPLATES,
    assert_hidden,
    grid_notation,
    link_notation,
    occurrences,
    plus_code,
    text_notation,
    utm,
)

HIDDEN, LINK = "[position hidden]", "[link hidden]"

# --- reference encoders: a plus code or UTM string must be computed right to be a fair test ---------


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


# --- positions in every notation (written by tests/support_geo_strategies.py) ------------------------

mangystau = st.builds(Point, st.floats(41, 46), st.floats(50, 56))
world = st.builds(Point, st.floats(-79.9, 83.9), st.floats(-180, 180))
anywhere = st.one_of(mangystau, world)


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
        assert occurrences(pair, out) <= occurrences(pair, around), (text, out)


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
