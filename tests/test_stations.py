"""Station codes in captions: exact cases and fuzzing of the caption parsers with hypothesis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.coordinates import parse_coordinates
from bot.geo import CoordinateError
from bot.stations import codes_in, normalize_code


def test_codes_found_in_captions() -> None:
    assert codes_in("UST-04 card 3, also kzs-12") == ["UST-04", "KZS-12"]
    assert codes_in("фотоловушка УСТ-7") == ["УСТ-7"]
    assert codes_in("12.05.2024 43.21, 51.87") == []
    assert codes_in("A-1 is too short, ABCDEFG-1 too long, UST-12345 too many digits") == []
    assert normalize_code(" ust-04 ") == "UST-04" and normalize_code("UST04") is None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_caption_parsers_never_crash(caption: str) -> None:
    for code in codes_in(caption):
        assert normalize_code(code) == code
    try:
        point = parse_coordinates(caption)
    except CoordinateError as exc:
        assert exc.reason  # a refusal always says why
    else:
        assert point is None or (-90 <= point.lat <= 90 and -180 <= point.lon <= 180)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.from_regex(r"[A-Z]{2,6}-[0-9]{1,4}", fullmatch=True),
    st.text(max_size=40),
)
def test_a_code_surrounded_by_spaces_is_always_found(before: str, code: str, after: str) -> None:
    assert code in codes_in(f"{before} {code} {after}")
