"""What people type as command arguments: ids and codes are taken only when they are what they look like,
and anything else is None (the command then answers with its usage)."""

from __future__ import annotations

import pytest

from bot.text import looks_numeric, parse_code, parse_id

NUMBERISH = ["²", "³", "٣", "１２", "-1", "0", "#²", "9" * 30, "Ⅻ"]


@pytest.mark.parametrize("text", [*NUMBERISH, "", " ", "1e3", "nan", "12a", "#", "x" * 5000])
def test_only_ascii_ids_in_range_are_ids(text: str) -> None:
    assert parse_id(text) is None


@pytest.mark.parametrize(("text", "value"), [("12", 12), ("#12", 12), (" 7 ", 7), (str(2**52), 2**52)])
def test_ids(text: str, value: int) -> None:
    assert parse_id(text) == value


@pytest.mark.parametrize("text", [*NUMBERISH, "12", "#3"])
def test_numbers_in_any_script_are_meant_as_numbers(text: str) -> None:
    assert looks_numeric(text)


@pytest.mark.parametrize("text", ["CAM-17", "", "#", "-", "1e3", "12a"])
def test_codes_are_not_numbers(text: str) -> None:
    assert not looks_numeric(text)


@pytest.mark.parametrize(
    ("text", "code"), [("ust", "UST"), ("КЗС", "КЗС"), ("UST-04", "UST-04"), ("a_1", "A_1")]
)
def test_codes(text: str, code: str) -> None:
    assert parse_code(text) == code


@pytest.mark.parametrize("text", ["", "²", "UST²", "<b>", "-UST", "_", "x" * 33, "a b", "a=b", "٣", "UST/1"])
def test_not_codes(text: str) -> None:
    assert parse_code(text) is None
