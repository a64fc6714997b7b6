from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.coordinates import parse_coordinates, redact_coordinates
from bot.geo import (
    DEFAULT_MAX_KM_PER_DAY,
    CoordinateError,
    Movement,
    Point,
    distance_km,
    format_dms,
    format_point,
    google_maps_url,
    movement,
    osm_url,
    round_point,
)

EXPECTED = Point(43.21, 51.87)
SOUTH_WEST = Point(-43.21, -51.87)

lats = st.floats(min_value=-90, max_value=90, allow_nan=False, allow_infinity=False)
lons = st.floats(min_value=-180, max_value=180, allow_nan=False, allow_infinity=False)
points = st.builds(Point, lats, lons)


def assert_close(actual: Point | None, expected: Point, tol: float = 1e-6) -> None:
    assert actual is not None
    assert actual.lat == pytest.approx(expected.lat, abs=tol)
    assert actual.lon == pytest.approx(expected.lon, abs=tol)


# --- Point -----------------------------------------------------------------------------------------


def test_point_accepts_extremes_and_stores_floats() -> None:
    p = Point(90, -180)
    assert (p.lat, p.lon) == (90.0, -180.0)
    assert isinstance(p.lat, float)
    assert Point(43, 51) == Point(43.0, 51.0)
    assert hash(Point(43, 51)) == hash(Point(43.0, 51.0))


@pytest.mark.parametrize(
    ("lat", "lon", "reason"),
    [
        (90.0001, 0.0, "lat_range"),
        (-91, 0.0, "lat_range"),
        (0.0, 180.5, "lon_range"),
        (0.0, -181, "lon_range"),
        (math.nan, 0.0, "not_finite"),
        (0.0, math.inf, "not_finite"),
        ("43.2", 51.0, "not_a_number"),
        (None, 51.0, "not_a_number"),
        (True, 51.0, "not_a_number"),
    ],
)
def test_point_rejects_invalid(lat: object, lon: object, reason: str) -> None:
    with pytest.raises(CoordinateError) as info:
        Point(lat, lon)  # type: ignore[arg-type]
    assert info.value.reason == reason
    assert isinstance(info.value, ValueError)
    assert str(info.value)  # human-readable message for logs and fallback replies


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


# --- formatting -------------------------------------------------------------------------------------


def test_format_point() -> None:
    assert format_point(EXPECTED) == "43.21000, 51.87000"
    assert format_point(Point(-0.5, 179.123456), digits=3) == "-0.500, 179.123"


def test_format_dms() -> None:
    assert format_dms(EXPECTED) == "43°12'36.0\"N 51°52'12.0\"E"
    assert format_dms(SOUTH_WEST, second_digits=0) == "43°12'36\"S 51°52'12\"W"
    # 59.99" rounds up into the next minute and degree rather than printing 60.0".
    assert format_dms(Point(43 + 59 / 60 + 59.99 / 3600, 0)) == "44°00'00.0\"N 0°00'00.0\"E"


def test_map_urls() -> None:
    assert (
        osm_url(EXPECTED)
        == "https://www.openstreetmap.org/?mlat=43.21000&mlon=51.87000#map=13/43.21000/51.87000"
    )
    assert google_maps_url(EXPECTED) == "https://maps.google.com/?q=43.21000,51.87000"
    assert_close(parse_coordinates(osm_url(SOUTH_WEST)), SOUTH_WEST, tol=1e-5)
    assert_close(parse_coordinates(google_maps_url(SOUTH_WEST)), SOUTH_WEST, tol=1e-5)


# --- distance and movement --------------------------------------------------------------------------


def test_distance_km() -> None:
    assert distance_km(EXPECTED, EXPECTED) == 0.0
    # One degree of latitude at the equator on WGS84 is 110.574 km.
    assert distance_km(Point(0, 0), Point(1, 0)) == pytest.approx(110.574, abs=0.01)
    a, b = Point(43.65, 51.16), Point(43.35, 52.06)
    assert distance_km(a, b) == pytest.approx(distance_km(b, a))


T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


def test_movement_real_world_dispersal_example() -> None:
    # Two camera traps about 210 km apart, the same male photographed 21 days apart.
    a, b = Point(43.20, 51.60), Point(43.20, 54.18)
    m = movement(a, T0, b, T0 + timedelta(days=21), max_km_per_day=30)
    assert m.distance_km == pytest.approx(210, abs=2)
    assert m.hours == pytest.approx(21 * 24)
    assert m.km_per_day == pytest.approx(10, abs=0.2)
    assert m.plausible


def test_movement_is_order_independent_and_zone_agnostic() -> None:
    a, b = Point(43.20, 51.60), Point(43.50, 51.90)
    aqtau = timezone(timedelta(hours=5))
    forward = movement(a, T0, b, T0 + timedelta(hours=12), DEFAULT_MAX_KM_PER_DAY)
    backward = movement(b, (T0 + timedelta(hours=12)).astimezone(aqtau), a, T0, DEFAULT_MAX_KM_PER_DAY)
    assert forward == backward
    assert forward.hours == pytest.approx(12)


def test_movement_too_fast_is_implausible() -> None:
    a, b = Point(43.20, 51.60), Point(43.20, 54.18)
    m = movement(a, T0, b, T0 + timedelta(days=2), max_km_per_day=30)
    assert m.km_per_day == pytest.approx(105, abs=1)
    assert not m.plausible


def test_movement_same_time() -> None:
    a, b = Point(43.20, 51.60), Point(43.30, 51.60)
    far = movement(a, T0, b, T0, 30)
    assert far.km_per_day is None and not far.plausible and far.hours == 0
    assert movement(a, T0, a, T0, 30) == Movement(0.0, 0.0, 0.0, True)


def test_movement_below_gps_noise_is_always_plausible() -> None:
    a, b = Point(43.20, 51.60), Point(43.205, 51.60)  # about 550 m
    m = movement(a, T0, b, T0, 30)
    assert m.km_per_day is None
    assert m.plausible
    assert movement(a, T0, b, T0 + timedelta(seconds=10), 30).plausible


def test_movement_threshold_is_inclusive_and_configurable() -> None:
    a, b = Point(0, 0), Point(1, 0)  # 110.574 km
    limit = distance_km(a, b) / 4
    assert movement(a, T0, b, T0 + timedelta(days=4), limit).plausible
    assert not movement(a, T0, b, T0 + timedelta(days=4), limit * 0.99).plausible
    assert movement(a, T0, b, T0 + timedelta(days=4), limit * 1.01).plausible


def test_movement_rejects_naive_datetimes_and_bad_limits() -> None:
    with pytest.raises(ValueError):
        movement(EXPECTED, datetime(2024, 5, 1), EXPECTED, T0, 30)
    with pytest.raises(ValueError):
        movement(EXPECTED, T0, EXPECTED, T0, 0)


# --- round_point ------------------------------------------------------------------------------------


def test_round_point_snaps_nearby_points_together() -> None:
    a = round_point(Point(43.2101, 51.8702), 10)
    b = round_point(Point(43.2150, 51.8650), 10)
    assert a == b
    assert distance_km(a, Point(43.2101, 51.8702)) <= 10


def test_round_point_non_positive_grid_is_identity() -> None:
    assert round_point(EXPECTED, 0) is EXPECTED
    assert round_point(EXPECTED, -5) is EXPECTED


def test_round_point_rejects_non_finite_grid() -> None:
    with pytest.raises(ValueError):
        round_point(EXPECTED, math.inf)
    with pytest.raises(ValueError):
        round_point(EXPECTED, math.nan)


def test_round_point_edges_stay_valid() -> None:
    for p in (Point(90, 180), Point(-90, -180), Point(89.999, 179.999), Point(-89.99, -179.99)):
        for grid in (0.5, 7, 50, 500, 50000):
            r = round_point(p, grid)
            assert distance_km(p, r) <= grid


@settings(max_examples=200, deadline=None)
@given(points, st.floats(min_value=0.01, max_value=500))
def test_round_point_stays_within_grid(p: Point, grid_km: float) -> None:
    r = round_point(p, grid_km)
    assert distance_km(p, r) <= grid_km
    assert round_point(r, grid_km) == r or distance_km(round_point(r, grid_km), r) <= grid_km


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
