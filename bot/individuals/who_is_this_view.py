"""The words of "Who is this?": the question's text, each picture's caption, and the buttons' labels and data.

Pure: no database, no Bot API. Buttons are (label, callback data) pairs; handlers/individuals.py turns
them into Telegram's keyboard. Callback data: wi:<event>:s:<individual id> (same as; an id, since a code may
not fit Telegram's 64 bytes), wi:<event>:n (new),
wi:<event>:c (can't tell), wi:<event>:f:<l|r> (the flank shown).
"""

from __future__ import annotations

import html

from bot.geo import format_speed
from bot.individuals.who_is_this import Question, Shown
from bot.text import t

PREFIX = "wi:"
FLANK_CODES = {"l": "left", "r": "right"}


def question_text(lang: str, q: Question, *, grid_km: float, exact: bool) -> str:
    lines = [t(lang, "who.title", id=q.event_id), t(lang, "who.flank", flank=t(lang, f"flank.{q.flank}"))]
    if not q.candidates:
        lines.append(t(lang, "who.empty"))
    elif q.verdict == "likely_same" and q.likely:
        lines.append(t(lang, "who.likely", code=html.escape(q.likely)))
    else:
        lines.append(t(lang, "who.cant_tell"))
    for n, c in enumerate(q.candidates, 1):
        lines.append(caption(lang, n, c))
    if q.candidates:
        lines.append("")
        lines.append(t(lang, "who.moves"))
        lines.extend(move_line(lang, c) for c in q.candidates)
        if not exact:
            lines.append(t(lang, "move.rounded", grid=f"{grid_km:g}", slack=f"{1.4142 * grid_km:.0f}"))
    if q.current is not None:
        decision, code = q.current
        lines.append(t(lang, "who.recorded", answer=answer(lang, decision, code)))
    return "\n".join(lines)


def caption(lang: str, n: int, c: Shown) -> str:
    return t(lang, "who.candidate", n=n, code=html.escape(c.code), score=f"{c.score:.2f}", inliers=c.inliers)


def move_line(lang: str, c: Shown) -> str:
    code = html.escape(c.code)
    m = c.last_move
    if m is None:
        return t(lang, "who.no_move", code=code)
    approx = "" if m.exact else "≈"
    return t(
        lang,
        "who.move",
        code=code,
        id=m.other_id,
        where=html.escape(m.where or "—"),
        km=f"{approx}{m.move.distance_km:.0f}",
        days=f"{m.move.hours / 24:.1f}",
        speed=approx + format_speed(m.move.km_per_day),
        verdict=t(lang, "who.plausible" if m.move.plausible else "who.implausible"),
    )


def answer(lang: str, decision: str, code: str | None) -> str:
    if decision == "cant_tell":
        return t(lang, "who.answer.cant_tell")
    return t(lang, f"who.answer.{decision}", code=html.escape(code or "?"))


def buttons(lang: str, q: Question) -> list[list[tuple[str, str]]]:
    e = q.event_id
    rows = [
        [(t(lang, "who.button.same", code=c.code), f"{PREFIX}{e}:s:{c.individual_id}")] for c in q.candidates
    ]
    rows.append(
        [(t(lang, "who.button.new"), f"{PREFIX}{e}:n"), (t(lang, "who.button.cant_tell"), f"{PREFIX}{e}:c")]
    )
    rows.append(
        [(t(lang, f"who.button.{flank}"), f"{PREFIX}{e}:f:{code}") for code, flank in FLANK_CODES.items()]
    )
    return rows
