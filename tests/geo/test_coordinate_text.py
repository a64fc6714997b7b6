"""Coordinates as rangers write them: what parse_coordinates reads (en/ru/kk, DMS, links), what it
refuses, and redact_coordinates hiding every written point."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.geo import parse_coordinates, redact_coordinates
from bot.geo.points import CoordinateError, Point, format_dms, format_point
from tests.support.geo_cases import EXPECTED, SOUTH_WEST, assert_close, points

# --- parse_coordinates: accepted formats -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "43.21, 51.87",
        "43.21 51.87",
        "43.21,51.87",
        "43.21;51.87",
        "43,21 51,87",
        "43,21; 51,87",
        "  43.21\n51.87  ",
        "N43.21 E51.87",
        "N 43.21, E 51.87",
        "43.21N 51.87E",
        "43.21 N, 51.87 E",
        "43.21n 51.87e",
        "43.21N51.87E",
        "43.21°, 51.87°",
        "43.21° N 51.87° E",
        "43°12'36\"N 51°52'12\"E",
        "43°12′36″N 51°52′12″E",
        "43°12’36”N 51°52’12”E",
        "43°12'36''N 51°52'12''E",
        "43º12'36\"N 51º52'12\"E",
        "43° 12' 36\" N, 51° 52' 12\" E",
        "N 43° 12' 36\" E 51° 52' 12\"",
        "43°12'36N 51°52'12E",
        "43°12.6'N 51°52.2'E",
        "43°12,6'N 51°52,2'E",
        "43° 12.600' N 51° 52.200' E",
        "Lat: 43.21, Lon: 51.87",
        "latitude 43.21 longitude 51.87",
        "51.87E 43.21N",
        "E51.87 N43.21",
        "51°52'12\"E 43°12'36\"N",
    ],
)
def test_parse_english_and_numeric_formats(text: str) -> None:
    assert_close(parse_coordinates(text), EXPECTED)


@pytest.mark.parametrize(
    "text",
    [
        "43°12′36″ с.ш. 51°52′12″ в.д.",
        "43.21 с.ш., 51.87 в.д.",
        "43.21 с. ш. 51.87 в. д.",
        "43.21 сш 51.87 вд",
        "43.21 С.Ш. 51.87 В.Д.",
        "с.ш. 43.21 в.д. 51.87",
        "43.21С 51.87В",
        "С43.21 В51.87",
        "43.21 С 51.87 В",
        "43°12′36″С 51°52′12″В",
        "43.21 северной широты, 51.87 восточной долготы",
        "43.21 сев. ш. 51.87 вост. д.",
        "широта 43.21 долгота 51.87",
        "Широта: 43,21; Долгота: 51,87",
        "51.87 в.д. 43.21 с.ш.",
        "51.87 В 43.21 С",
    ],
)
def test_parse_russian_hemispheres(text: str) -> None:
    assert_close(parse_coordinates(text), EXPECTED)


@pytest.mark.parametrize(
    "text",
    [
        "43.21 с.е. 51.87 ш.б.",
        "43°12′36″ с.е., 51°52′12″ ш.б.",
        "43.21 солтүстік ендік, 51.87 шығыс бойлық",
        "солтүстік ендік 43.21, шығыс бойлық 51.87",
        "ендік 43.21 бойлық 51.87",
        "51.87 ш.б. 43.21 с.е.",
    ],
)
def test_parse_kazakh_hemispheres(text: str) -> None:
    assert_close(parse_coordinates(text), EXPECTED)


@pytest.mark.parametrize(
    "text",
    [
        "-43.21, -51.87",
        "−43.21 −51.87",
        "43.21S 51.87W",
        "S43.21 W51.87",
        "43°12'36\"S 51°52'12\"W",
        "43.21 ю.ш. 51.87 з.д.",
        "43.21Ю 51.87З",
        "43.21 о.е. 51.87 б.б.",
        "43.21 оңтүстік ендік, 51.87 батыс бойлық",
        "-43.21S -51.87W",  # redundant but consistent
    ],
)
def test_parse_southern_and_western(text: str) -> None:
    assert_close(parse_coordinates(text), SOUTH_WEST)


def test_parse_mixed_signs() -> None:
    assert_close(parse_coordinates("+43.21, -51.87"), Point(43.21, -51.87))
    assert_close(parse_coordinates("43.21S 51.87E"), Point(-43.21, 51.87))


@pytest.mark.parametrize(
    "text",
    [
        "Самец у фотоловушки, 43.21 51.87, следы свежие",
        "Leopard seen near UST-04 on 12.05.2024 at 43.21, 51.87 — adult male",
        "Камера 12, 43.21 51.87",
        "Видели в 43.21 51.87 утром",
        "Координаты:43.21,51.87",
        "(43.21, 51.87)",
        "coords 43.21N 51.87E alt 250 m",
        "43.21N 51.87E 1500m",
        "Точка 1: 43°12'36\"N 51°52'12\"E, точка 2: 44°00'00\"N 52°00'00\"E",
        "В 43.21 51.87 нашли следы",  # sentence-initial preposition "В", not East
        "43.21 51.87 С утра там",  # "С утра" = "since morning", not North
    ],
)
def test_parse_inside_longer_text(text: str) -> None:
    assert_close(parse_coordinates(text), EXPECTED)


@pytest.mark.parametrize(
    "text",
    [
        "https://maps.google.com/?q=43.21,51.87",
        "https://maps.google.com/?q=43.21%2C51.87",
        "https://www.google.com/maps?q=43.21,+51.87",
        "https://www.google.com/maps/@43.21,51.87,15z",
        "https://www.google.com/maps/place/43%C2%B012'36.0%22N/@43.2,51.8,17z/data=!3m1!4b1!4m4!3m3!8m2!3d43.21!4d51.87",
        "https://www.google.com/maps/search/43.21,+51.87",
        "https://www.openstreetmap.org/?mlat=43.21&mlon=51.87",
        "https://www.openstreetmap.org/?mlon=51.87&mlat=43.21#map=13/43.21/51.87",
        "https://www.openstreetmap.org/#map=15/43.21/51.87",
        "https://yandex.ru/maps/?ll=51.87,43.21&z=12",
        "https://yandex.kz/maps/?ll=51.87%2C43.21&z=12",
        "https://yandex.ru/maps/?ll=50.0,40.0&pt=51.87,43.21&z=12",
        "geo:43.21,51.87",
        "geo:43.21,51.87?z=15",
        "Смотри тут https://maps.google.com/?q=43.21,51.87 — там лёжка",
        "maps.google.com/?q=43.21,51.87",
    ],
)
def test_parse_map_links(text: str) -> None:
    assert_close(parse_coordinates(text), EXPECTED)


def test_link_wins_over_loose_numbers_in_text() -> None:
    text = "фото 14.30 12.5 https://www.openstreetmap.org/?mlat=43.21&mlon=51.87"
    assert_close(parse_coordinates(text), EXPECTED)


def test_first_of_several_points_is_returned() -> None:
    assert_close(parse_coordinates("43.21N 51.87E 44.10N 52.20E"), EXPECTED)


def test_clock_like_numbers_are_coordinates_when_they_are_the_whole_message() -> None:
    assert parse_coordinates("14.30, 15.45") == Point(14.30, 15.45)
    assert parse_coordinates("в 14.30N 15.45E") == Point(14.30, 15.45)


def test_whole_message_integer_pair_is_coordinates() -> None:
    assert parse_coordinates("43, 51") == Point(43, 51)
    assert parse_coordinates("43N 51E") == Point(43, 51)


# --- parse_coordinates: not coordinates --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Леопард!",
        "42",
        "43.21",
        "43.21N",
        "43,21",
        "UST-04",
        "UST-04 UST-05",
        "12.05.2024",
        "12.05.2024 14:30",
        "12/05/2024",
        "Фотоловушка UST-04, 12.05.2024, 3 особи",
        "Saw 2, 3 leopards",
        "2 cubs and 1 adult",
        "Camera 4 battery 85%",
        "weight 43.5 kg, length 1.5 m",
        "12km 15km",
        "14.30 43.21 51.87",  # a time followed by two numbers: cannot tell which pair is meant
        "Пришёл в 14.30, 15.45 ушёл",  # two times, Russian style
        "Следы 12.05, 13.05 — снова",  # two dates without year
        "Python 3.11 3.12",
        "Цена 150.5, 300.25 тенге",  # out of range but not clearly coordinates
        "https://example.com/photos/43.21,51.87",
        "https://maps.google.com/?q=Aktau",
        "version 1.2.3",
        "v1.5 2.5x",
    ],
)
def test_non_coordinates_return_none(text: str) -> None:
    assert parse_coordinates(text) is None


# --- parse_coordinates: clearly coordinates, but unusable ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("200, 51", "lat_range"),
        ("200.5, 51.87", "lat_range"),
        ("43.21, 251.87", "lon_range"),
        ("N95 E51", "lat_range"),
        ("43.21N 200.5E", "lon_range"),
        ("95°12'36\"N 51°52'12\"E", "lat_range"),
        ("Точка: 95.1 с.ш. 51.87 в.д.", "lat_range"),
        ("https://maps.google.com/?q=95.1,51.87", "lat_range"),
        ("https://yandex.ru/maps/?ll=51.87,95.1", "lat_range"),
        ("https://www.openstreetmap.org/?mlat=43.21&mlon=190.5", "lon_range"),
        ("43°75'N 51°10'E", "minutes_range"),
        ("43°12'75\"N 51°10'E", "minutes_range"),
        ("43.21N 51.87N", "hemisphere"),
        ("43.21 в.д. 51.87 з.д.", "hemisphere"),
        ("-43.21N 51.87E", "hemisphere"),
    ],
)
def test_clear_but_invalid_coordinates_raise(text: str, reason: str) -> None:
    with pytest.raises(CoordinateError) as info:
        parse_coordinates(text)
    assert info.value.reason == reason


def test_valid_coordinates_preferred_over_broken_ones() -> None:
    assert_close(parse_coordinates("N95 E51 — ошибся, вот: 43.21N 51.87E"), EXPECTED)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_never_raises_anything_else(text: str) -> None:
    try:
        result = parse_coordinates(text)
    except CoordinateError:
        return
    assert result is None or isinstance(result, Point)


coordinate_soup = st.lists(
    st.sampled_from(
        [
            *"0123456789.,;:-+ °'\"′″NSEWnsСЮВЗсшвдеоб\n",
            *("''", "с.ш.", "в.д.", "lat", "UST-", "geo:", "&mlon=", "?mlat=", "#map=9/"),
            *("https://maps.google.com/?q=", "https://yandex.ru/maps/?ll="),
        ]
    ),
    max_size=25,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(coordinate_soup)
def test_parse_never_raises_anything_else_on_coordinate_like_text(text: str) -> None:
    try:
        result = parse_coordinates(text)
    except CoordinateError:
        return
    assert result is None or isinstance(result, Point)


@settings(max_examples=200, deadline=None)
@given(coordinate_soup)
def test_redact_never_raises_and_leaves_no_precise_number(text: str) -> None:
    out = redact_coordinates(text)
    # Fail-closed: nothing finer than about a kilometre is left, whether or not the parser sees a place.
    # Dates such as 12.05.2024 are the one kept shape with two digits after a dot.
    for m in re.finditer(r"[0-9]+(?:[.,][0-9]+)+", out):
        if re.search(r"[.,][0-9]{2}", m[0]):
            assert re.fullmatch(r"[0-9]{1,2}[.,][0-9]{1,2}[.,](?:19|20)[0-9]{2}", m[0]), (text, out)


@settings(max_examples=200, deadline=None)
@given(points)
def test_redact_hides_every_written_point(p: Point) -> None:
    out = redact_coordinates(f"seen at {format_point(p)} and {format_dms(p)} today")
    assert out.startswith("seen at ") and out.endswith(" today")
    assert re.search(r"[0-9][.,][0-9]{2}|°\s*[0-9]+\s*'", out) is None


@settings(max_examples=200, deadline=None)
@given(points)
def test_format_point_round_trips(p: Point) -> None:
    assert_close(parse_coordinates(format_point(p)), p, tol=1e-5)


@settings(max_examples=200, deadline=None)
@given(points)
def test_format_dms_round_trips(p: Point) -> None:
    # 0.01" of arc is about 3e-6 degrees.
    assert_close(parse_coordinates(format_dms(p, second_digits=2)), p, tol=3e-6)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("43.21234, 51.87654", "[position hidden]"),
        ("тут 43°12'36\"N 51°52'12\"E у родника", "тут [position hidden] у родника"),
        ("https://maps.google.com/?q=43.2,51.8 big cat!", "[link hidden] big cat!"),
        ("43,2123 с.ш. 51,8765 в.д., 2 leopards", "[position hidden], 2 leopards"),
        # Fail-closed: "14.30" is also a latitude to a kilometre, so it goes even without a partner.
        ("at 14.30 near UST-04, 2 cubs", "at [position hidden] near UST-04, 2 cubs"),
        # Station codes, counts, clock times and dates are left alone (more in tests/test_redaction.py).
        ("UST-04 card check 12.05.2024 at 07:42", "UST-04 card check 12.05.2024 at 07:42"),
    ],
)
def test_redact_coordinates_hides_positions_only(text: str, shown: str) -> None:
    assert redact_coordinates(text) == shown
