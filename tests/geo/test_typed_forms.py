"""Typed locations rangers use that the caption filter already knew and the parser did not (issue 21):
2GIS links, Garmin degrees and decimal minutes, and coordinates followed by a time or a word; with
their neighbours, which must not be misread. The property test draws positions from the generators the
filter's tests use (tests/support_geo_strategies.py): every form the parser reads, the filter hides."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.geo import CoordinateError, Point, parse_coordinates, redact_coordinates
from tests.conftest import Team
from tests.support.geo_cases import EXPECTED, SOUTH_WEST, assert_close
from tests.support.geo_strategies import TEMPLATES, around_region, assert_hidden, link_notation, text_notation

TOL = 1e-4
DDM = Point(43 + 12.6 / 60, 51 + 52.2 / 60)  # N43 12.600 E051 52.200 is 43.21, 51.87 exactly
DMS = Point(43 + 12 / 60 + 36 / 3600, 51 + 52 / 60 + 12 / 3600)


def _read(text: str) -> Point | str | None:
    try:
        return parse_coordinates(text)
    except CoordinateError as exc:
        return exc.reason


# --- 2GIS links: longitude first, in every shape the app and the site share ---------------------------


@pytest.mark.parametrize(
    "text",
    [
        "https://2gis.kz/aktau/geo/51.87,43.21",
        "https://2gis.kz/aktau/geo/70000001234567/51.87,43.21",
        "https://2gis.kz/aktau?m=51.87%2C43.21%2F16",
        "https://2gis.kz/aktau?m=51.87,43.21/17.5",
        "https://2gis.ru/moscow/geo/51.87,43.21",
        "https://2gis.com/geo/51.87,43.21",
        "https://2gis.kg/bishkek/geo/51.87%2C43.21",
        "http://www.2gis.kz/aktau/geo/51.87,43.21",
        "2gis.kz/aktau/geo/51.87,43.21",  # pasted without a scheme: a link still, not two bare numbers
        "https://2gis.kz/aktau/firm/70000001234567/51.87%2C43.21",
        # The pin in the path wins over the map's centre in "m=".
        "https://2gis.kz/aktau/firm/70000001234567/51.87%2C43.21?m=50.10%2C44.60%2F11",
        "https://2gis.kz/aktau/geo/70000001234567?m=51.87%2C43.21%2F16",  # a place page: its map centre
        "https://2gis.kz/aktau/directions/points/%7C51.87%2C43.21%3B70000001234567",
        "https://2gis.kz/aktau/directions/points/50.10%2C44.60%7C51.87%2C43.21?m=50.9%2C43.9%2F9",
        "dgis://2gis.ru/routeSearch/rsType/car/to/51.87,43.21",
        "Барс тут https://2gis.kz/aktau/geo/51.87,43.21 утром",
        "(https://2gis.kz/aktau/geo/51.87,43.21).",
    ],
)
def test_2gis_links_are_read_longitude_first(text: str) -> None:
    assert_close(parse_coordinates(text), EXPECTED, tol=TOL)


@pytest.mark.parametrize(
    "text",
    [
        "https://go.2gis.com/x7k2p",
        "go.2gis.com/x7k2p",
        "Барс тут https://go.2gis.com/x7k2p, у родника",
        "https://2gis.kz/aktau/geo/70000001234567",  # a place id: only 2GIS knows where it is
        "https://2gis.kz/aktau/firm/70000001234567",
        "https://maps.app.goo.gl/Xyz12AbC",
        "https://goo.gl/maps/Xyz12AbC",
        "https://yandex.ru/maps/-/CCUabc",
    ],
)
def test_links_that_cannot_be_read_offline_are_refused_not_guessed(text: str) -> None:
    with pytest.raises(CoordinateError) as info:
        parse_coordinates(text)
    assert info.value.reason == "link"


def test_a_position_typed_beside_a_short_link_is_read() -> None:
    assert_close(parse_coordinates("go.2gis.com/x7k2p 43.21 51.87"), EXPECTED, tol=TOL)


@pytest.mark.parametrize(
    "text",
    [
        "https://www.bing.com/maps?cp=43.21~51.87&lvl=15",
        "https://wego.here.com/?map=43.21,51.87,15,normal",
        "https://share.here.com/l/43.21,51.87",
        "https://osmand.net/go?lat=43.21&lon=51.87&z=15",
        "osmand://geo?lat=43.21&lon=51.87",
        "https://yandex.kz/maps/?whatshere%5Bpoint%5D=51.87%2C43.21",
    ],
)
def test_other_map_links_are_read_in_their_own_order(text: str) -> None:
    assert_close(parse_coordinates(text), EXPECTED, tol=TOL)


@pytest.mark.parametrize(
    "text",
    [
        "example.com/photos/51.87,43.21",  # numbers inside any link are the link's, not a position
        "https://2gis.kz/aktau",
        "https://2gis.kz/aktau/search/родник",
    ],
)
def test_links_without_a_position_give_none(text: str) -> None:
    assert parse_coordinates(text) is None


# --- degrees and decimal minutes (Garmin), with and without letters ------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "N43 12.600 E051 52.200",
        "N43 12.600, E051 52.200",
        "N 43 12.600 E 051 52.200",
        "43 12.600N 51 52.200E",
        "43 12.600 N 51 52.200 E",
        "N43°12.600' E51°52.200'",
        "N43°12.600 E051°52.200",
        "43°12.600 N 51°52.200 E",
        "43:12.600 51:52.200",
        "N43:12.600 E51:52.200",
        "43 12.600 51 52.200",
        "43 12.600, 51 52.200",
        "43 12,600 51 52,200",
        "N43 12,600 E051 52,200",
        "43 12.600 с.ш. 51 52.200 в.д.",
        "43 12.6С 51 52.2В",
        "lat 43 12.600 lon 51 52.200",
        "51 52.200E 43 12.600N",
        "Барс N43 12.600 E051 52.200 у родника",
        "Камера UST-04: N43 12.600 E051 52.200 07:42",
    ],
)
def test_degrees_and_decimal_minutes_are_read(text: str) -> None:
    assert_close(parse_coordinates(text), DDM, tol=TOL)


def test_southern_and_western_degrees_and_decimal_minutes() -> None:
    assert_close(parse_coordinates("S43 12.600 W051 52.200"), SOUTH_WEST, tol=TOL)
    assert_close(parse_coordinates("-43 12.600 -51 52.200"), SOUTH_WEST, tol=TOL)


@pytest.mark.parametrize(
    "text",
    ["N43 12 36 E051 52 12", "43 12 36N 51 52 12E", "43 12 36 51 52 12", "N43:12:36 E51:52:12"],
)
def test_degrees_minutes_seconds_without_marks_are_read(text: str) -> None:
    assert_close(parse_coordinates(text), DMS, tol=TOL)


def test_seconds_with_decimals_are_not_read_as_minutes() -> None:
    # "N43 12 36.5" once paired 36.5 with 51 and gave (36.5, 51).
    expected = Point(43 + 12 / 60 + 36.5 / 3600, 51 + 52 / 60 + 12.5 / 3600)
    assert_close(parse_coordinates("N43 12 36.5 E51 52 12.5"), expected, tol=TOL)


@pytest.mark.parametrize(
    "text",
    ["N43 75.000 E051 52.200", "43 75.000N 51 52.200E", "43 12.600 51 60.000", "43:75.000 51:52.200"],
)
def test_minutes_of_sixty_or_more_are_refused(text: str) -> None:
    with pytest.raises(CoordinateError) as info:
        parse_coordinates(text)
    assert info.value.reason == "minutes_range"


# --- a complete pair followed by a time or a word -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "43.2100, 51.8700 в 06.15",
        "43.21 51.87 at 7:40",
        "43.2100,51.8700 утром",
        "43.21 51.87 в 06.15",
        "43.21, 51.87 в 6.15",
        "43.2100 51.8700 в 6:15",
        "43.21, 51.87 с 06.15 до 07.30",
        "43.2100 51.8700 06.15",  # a time beside four-decimal coordinates
        "43.2100, 51.8700 06.15",
        "43.21N 51.87E в 06.15",
        "N43.21 E51.87 в 06.15",
        "43.21 с.ш. 51.87 в.д. в 06.15",
        "43.21С 51.87В в 06.15",
        "43.2100, 51.8700 в 06.15, 2 детеныша",
        "N43 12.600 E051 52.200 в 06.15",
        "43 12.600 51 52.200 утром",
        "фото 3 43.2100 51.8700 утром",
        "Камера 12 43.21 51.87",  # "12 43.21" is not degrees and minutes: 51.87 has no minutes
    ],
)
def test_a_time_or_a_word_after_the_pair_is_left_out(text: str) -> None:
    assert_close(parse_coordinates(text), EXPECTED, tol=TOL)


@pytest.mark.parametrize(
    "text",
    ["43.21 S 51.87 W в 06.15", "S43.21 51.87W", "S 43.21, 51.87 W", "43.21S, W51.87"],
)
def test_hemisphere_letters_are_kept_whichever_side_they_stand(text: str) -> None:
    assert_close(parse_coordinates(text), SOUTH_WEST, tol=TOL)


def test_a_letter_on_each_side_of_the_comma_belongs_one_to_each_number() -> None:
    assert_close(parse_coordinates("43.21N, E51.87"), EXPECTED, tol=TOL)


# --- neighbours that are not positions ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "06.15",
        "в 06.15",
        "с 06.15 до 07.30",
        "12.05.2024",
        "12.05.2024 в 06.15",
        "43 12",
        "43 12.600",
        "N43 12.600",
        "43 12 36",
        "07:42:15 08:10:20",
        "07:42:15.5 08:10:20.5",
        "12.05.2024 07:42:15, 2 cubs",
        "at 10 14.30, 3 15.45",
        "saw 3 12.5 km away, 2 14.5 km later",
        "43 75.000 51 52.200 утром",  # broken minutes inside a sentence: not surely a position
        "12/05",
        "14.30 43.21 51.87",
    ],
)
def test_neighbours_are_not_read_as_positions(text: str) -> None:
    assert not isinstance(_read(text), Point), text


# --- the filter hides every form above ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "N43 12.600 E051 52.200",
        "43:12.600 51:52.200",
        "43 12,600 51 52,200",
        "43.2100, 51.8700 в 06.15",
        "43.21 51.87 at 7:40",
        "2gis.kz/aktau/geo/51.87,43.21",
        "dgis://2gis.ru/routeSearch/rsType/car/to/51.87,43.21",
        "https://2gis.kz/aktau?m=51.87%2C43.21%2F16",
        "N43 12 36.5 E51 52 12.5",
    ],
)
def test_the_filter_hides_each_typed_form(text: str) -> None:
    out = redact_coordinates(text)
    assert not re.search(r"\d{2}\D?\d{2}", out.replace("06.15", "").replace("7:40", "")), (text, out)


# --- one set of generators for the parser and the filter ---------------------------------------------


@settings(max_examples=500, deadline=None)
@given(around_region, st.data(), st.sampled_from(TEMPLATES))
def test_every_form_the_parser_reads_is_read_back_and_hidden(
    p: Point, data: st.DataObject, template: str
) -> None:
    written = data.draw(st.one_of(text_notation(p, readable=True), link_notation(p, readable=True)))
    assert written.tol is not None
    text = template.format(written.text)
    assert_close(parse_coordinates(text), p, tol=written.tol)
    assert_hidden(p, written, template)


# --- through the bot ----------------------------------------------------------------------------------


async def test_a_2gis_link_sets_the_place_without_a_swap_question(team: Team) -> None:
    reply = await team.say(team.ranger, "https://2gis.kz/aktau/geo/51.87,43.21")
    assert "Location saved" in reply["text"] and "reply_markup" not in reply, reply["text"]
    row = await team.services.db.fetchone(
        "SELECT lat, lon, source FROM ranger_locations WHERE user_id = ?", (team.ranger.id,)
    )
    assert (row["lat"], row["lon"], row["source"]) == (43.21, 51.87, "text")


async def test_a_short_link_gets_a_reply_that_says_why(team: Team) -> None:
    reply = await team.say(team.ranger, "https://go.2gis.com/x7k2p")
    assert "link" in reply["text"] and "impossible" not in reply["text"], reply["text"]
    row = await team.services.db.fetchone(
        "SELECT 1 FROM ranger_locations WHERE user_id = ?", (team.ranger.id,)
    )
    assert row is None
