"""bot.text.plain: text from outside as one clean line a person may be shown."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.text import plain


def test_controls_bidi_and_invisible_characters_are_removed() -> None:
    hostile = "CAM\u200b-17\x00\x07\x1b[31m \u202egpj.exe\u202c \u2066x\u2069 soft\u00adhyphen"
    hostile += " \ufeffbom \ue000pua"
    assert plain(hostile) == "CAM-17[31m gpj.exe x softhyphen bom pua"


def test_every_kind_of_line_break_is_one_space() -> None:
    assert plain("a\r\nb\nc\rd\te\x0bf\x0cg\x1ch\x85i\u2028j\u2029k") == "a b c d e f g h i j k"
    assert plain("  lots   of\n\n space  ") == "lots of space"


def test_length_is_capped_with_an_ellipsis() -> None:
    assert plain("x" * 500, 10) == "xxxxxxxxx…"
    assert plain("short", 10) == "short"
    assert plain(None) == "" and plain("") == ""


def test_a_pile_of_combining_marks_is_cut() -> None:
    zalgo = "a" + "\u0301" * 50 + "b"
    assert plain(zalgo) == "a" + "\u0301" * 3 + "b"
    assert plain("Қазақ тілі ә ё") == "Қазақ тілі ә ё"  # real scripts keep their letters and marks
    assert plain("Tiếng Việt") == "Tiếng Việt"


def test_megabytes_are_not_walked() -> None:
    assert len(plain("y" * 10_000_000, 200)) == 200


@given(st.text())
def test_nothing_invisible_survives(text: str) -> None:
    out = plain(text, 80)
    assert len(out) <= 80
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in out)
    assert "  " not in out and out == out.strip()
    assert plain(out, 80) == out  # clean text stays as it is
