"""Station codes in captions: exact cases and fuzzing of the caption parsers with hypothesis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.geo import CoordinateError, parse_coordinates
from bot.places.stations import codes_in, match_codes, normalize_code


def test_codes_found_in_captions() -> None:
    assert codes_in("UST-04 card 3, also kzs-12") == ["UST-04", "KZS-12"]
    assert codes_in("фотоловушка УСТ-7") == ["UST-7"]  # canonical Latin, as /station add stores it
    assert codes_in("12.05.2024 43.21, 51.87") == []
    assert codes_in("A-1 is too short, ABCDEFG-1 too long, UST-12345 too many digits") == []
    assert normalize_code(" ust-04 ") == "UST-04" and normalize_code("UST04") == "UST-04"
    assert normalize_code("уст") is None and normalize_code("2 leopards") is None


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


# --- codes as rangers type them ------------------------------------------------------------------------
# How a Latin code letter comes out of a Russian or Kazakh keyboard, independently of bot/places/stations.py:
# the look-alikes of the issue (Kazakh Ү/Ұ ~ Y, Қ ~ K, Һ ~ H, І ~ I) and the letters that sound the same.
SPELLINGS: dict[str, str] = {
    "A": "AaАа", "B": "BbВвБб", "C": "CcСс", "E": "EeЕеЁё", "H": "HhНнҺһХх", "I": "IiІіИи", "K": "KkКкҚқ",
    "M": "MmМм", "N": "NnНнҢң", "O": "OoОоӨө", "P": "PpРрПп", "S": "SsСс", "T": "TtТт", "U": "UuУуҮүҰұ",
    "X": "XxХх", "Y": "YyУуҮүҰұ", "Z": "ZzЗз", "D": "DdДд", "L": "LlЛл", "G": "GgГг", "R": "RrРр",
    "V": "VvВв", "F": "FfФф",
}  # fmt: skip
SEPARATORS = ["-", "-", "–", "—", "‐", "－", " ", "", "_"]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
letters = st.text(alphabet=sorted(SPELLINGS), min_size=2, max_size=5)


@st.composite
def registry_and_pick(draw: st.DrawFn) -> tuple[list[str], str]:
    """Registered codes with distinct numbers (so no typing of one can be another), and one of them."""
    numbers = draw(st.lists(st.integers(0, 999), min_size=1, max_size=8, unique=True))
    codes = [f"{draw(letters)}-{n:0{draw(st.integers(1, 4))}d}" for n in numbers]
    return codes, draw(st.sampled_from(codes))


@st.composite
def typed_as(draw: st.DrawFn, code: str, *, pad: bool = True) -> str:
    """`code` as a ranger might type it: any spelling of each letter, any separator, the number with
    or without its zeros (pad=False: exactly without), maybe in full-width digits."""
    head, digits = code.split("-")
    typed = "".join(draw(st.sampled_from(SPELLINGS[c])) for c in head)
    number = int(digits)
    if pad:
        digits = draw(st.sampled_from([digits, str(number), f"{number:03d}", f"{number:04d}"]))
    else:
        digits = str(number)
    digits = digits.translate(FULL_WIDTH) if draw(st.booleans()) else digits
    return typed + draw(st.sampled_from(SEPARATORS)) + digits


@settings(max_examples=400, deadline=None)
@given(st.data(), registry_and_pick(), st.sampled_from(["", "фото ", "камера 3, ", "card check: "]))
def test_a_code_however_typed_names_its_station(
    data: st.DataObject, registry: tuple[list[str], str], before: str
) -> None:
    codes, code = registry
    typed = data.draw(typed_as(code))
    assert match_codes(f"{before}{typed} ok", codes).codes == (code,), typed


@settings(max_examples=200, deadline=None)
@given(letters, st.integers(1, 9), st.data())
def test_a_code_that_fits_two_stations_is_asked_about(head: str, number: int, data: st.DataObject) -> None:
    codes = [f"{head}-{number:02d}", f"{head}-{number:03d}", "QQ-1"]
    typed = data.draw(typed_as(f"{head}-{number}", pad=False))  # "UST-4": UST-04 or UST-004?
    assert match_codes(typed, codes).codes == tuple(sorted(codes[:2])), typed
    # Written with the zeros as registered, each is its own station.
    for code in codes[:2]:
        assert match_codes(code, codes).codes == (code,)


def test_a_cyrillic_letter_that_reads_two_ways_is_asked_about() -> None:
    assert match_codes("УСТ-04", ["UST-04", "YST-04"]).codes == ("UST-04", "YST-04")
    assert match_codes("UST-04", ["UST-04", "YST-04"]).codes == ("UST-04",)


WORDS = (
    "леопард следы фото камера проверка карта сегодня утром ночью уст кзс устюрт родник архар "
    "қабылан із сурет камера тексеру бүгін түнде ұст бұлақ арқар "
    "leopard tracks photo camera card check today night ust kzs spring ibex near the"
).split()


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(WORDS),
            st.sampled_from(WORDS).map(str.upper),
            st.integers(0, 100_000).filter(lambda n: n not in (4, 12)).map(str),
            st.floats(0, 1000, allow_nan=False).map(lambda x: f"{x:.2f}"),
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([" ", ", ", " - ", ". "]),
    st.data(),
)
def test_words_and_numbers_are_not_codes_nor_hide_one(
    parts: list[str], glue: str, data: st.DataObject
) -> None:
    registered = ["UST-04", "KZS-12"]
    text = glue.join(parts)
    assert codes_in(text) == []
    assert match_codes(text, registered).codes == ()
    # The same words around a code typed loosely ("уст 4") leave it found.
    at = data.draw(st.integers(0, len(parts)))
    around = glue.join([*parts[:at], data.draw(typed_as("UST-04")), *parts[at:]])
    assert match_codes(around, registered).codes == ("UST-04",), around
