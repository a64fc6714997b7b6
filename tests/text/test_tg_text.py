"""bot.text.tg_text: Telegram's UTF-16 measure of parsed HTML, and fitting captions and messages into it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text import KEEP, Line, fit, shorten, split, visible_length
from emulator.textfmt import format_text, utf16_len

TITLE = "🐆 <b>Leopard</b> 0.91 · sighting #7"
STATUS_HEAD = "✅ Confirmed leopard: "


def test_visible_length_counts_parsed_text_in_utf16_units() -> None:
    assert visible_length("<b>a</b>") == 1
    assert visible_length("&lt;&gt;&amp;&quot;") == 4
    assert visible_length("🐆") == 2
    assert visible_length("&#128006; &#x1F406;") == 5
    assert visible_length('<a href="https://x.org/?a=1&amp;b=2">OSM</a>') == 3


def test_shorten_never_splits_a_surrogate_pair_or_leaves_a_dangling_joiner() -> None:
    assert shorten("🐆🐆🐆", 4) == "🐆…"
    assert shorten("🐆🐆🐆", 6) == "🐆🐆🐆"
    assert shorten("ab👩\u200d👩", 6) == "ab👩…"  # not "ab👩\u200d…"
    assert shorten("abc", 0) == ""


def test_typed_values_are_shortened_before_lines_are_dropped() -> None:
    lines = [
        Line.of(TITLE, KEEP),
        Line(lambda name: f"👤 {name}", {"name": "🐆" * 300}, 50),
        Line.of("↔ 12 km from #3", 10),
        Line(lambda who: f"{STATUS_HEAD}{who}", {"who": "Dana"}, KEEP),
    ]
    text = fit(lines, 200)
    assert visible_length(text) <= 200
    assert "↔ 12 km from #3" in text and "…" in text and text.endswith(f"{STATUS_HEAD}Dana")


def test_lines_go_least_important_first_and_the_last_of_equals_first() -> None:
    lines = [
        Line.of(TITLE, KEEP),
        Line.of("place " + "x" * 40, 80),
        *[Line.of(f"move {i} " + "y" * 40, 30) for i in range(5)],
        Line(lambda who: f"{STATUS_HEAD}{who}", {"who": "Dana"}, KEEP),
    ]
    text = fit(lines, 200)
    assert visible_length(text) <= 200
    assert "place" in text and "move 0" in text and "move 4" not in text and text.endswith("Dana")


def test_split_keeps_lines_whole_and_messages_within_the_limit() -> None:
    lines = [f"{i} · <b>{'🐆' * 30}</b>" for i in range(200)]
    chunks = list(split(lines, 1000))
    assert len(chunks) > 1 and sum(c.count("\n") + 1 for c in chunks) == 200
    for chunk in chunks:
        parsed, _ = format_text(chunk, "HTML", None)
        assert utf16_len(parsed) <= 1000
    assert list(split(["x" * 5000], 4096)) == ["x" * 4095 + "…"]


piece = st.one_of(
    st.characters(codec="utf-8"),  # any code point but lone surrogates, astral ones included
    st.sampled_from(["<", ">", "&", "&amp;", "<b>", "&#128006;", '"', "'", "🐆", "👩\u200d👩", "\n"]),
)
typed = st.lists(piece, max_size=700).map("".join)


@settings(max_examples=150, deadline=None)
# Up to 40 move lines: then cutting what people typed is not enough and lines must go.
@given(caption=typed, ranger=typed, station=typed, reviewer=typed, moves=st.integers(0, 40))
def test_fitted_alert_is_valid_html_within_the_limit_and_keeps_title_and_status(
    caption: str, ranger: str, station: str, reviewer: str, moves: int
) -> None:
    lines = [
        Line.of(TITLE, KEEP),
        Line(lambda name: f"📍 Station UST-04 {name}", {"name": station}, 70),
        Line.of('🗺 43.21000, 51.87000 (<a href="https://osm.org/?a=1&amp;b=2">OSM</a>)', 80),
        Line(lambda name: f"👤 {name}", {"name": ranger}, 65),
        *[Line.of(f"↔ {i} km from #{i} (UST-0{i}) in 1.0 days", 30) for i in range(moves)],
        Line(lambda text: f"💬 {text}", {"text": caption}, 40),
        Line(lambda who: f"{STATUS_HEAD}{who}, 2026-03-01 10:00", {"who": reviewer}, KEEP),
    ]
    text = fit(lines, 1024)
    assert visible_length(text) <= 1024
    parsed, entities = format_text(text, "HTML", None)  # raises on markup Telegram would refuse
    assert utf16_len(parsed) <= 1024
    assert parsed.startswith("🐆 Leopard 0.91 · sighting #7")
    assert STATUS_HEAD.strip() in parsed and parsed.rstrip().endswith("2026-03-01 10:00")
    assert [e["type"] for e in entities][:1] == ["bold"]
