"""Individual leopards through the real client and the emulator (issue 25): a confirmed leopard gets "Who
is this?", a coordinator marks the flank and starts an individual, a second leopard is "same as" it, a
ranger's press is refused; /individuals, /individual CODE and /compare CODE CODE in a trusted and an
untrusted group (the untrusted answers carry no station code, station name or coordinates)."""

from __future__ import annotations

import re
import time
from typing import Any

from emulator import EmulatedUser
from emulator.markup import callback_data_of
from tests.conftest import GROUP, Team, eventually, leopard_variants

TRUSTED = -100_777
# A station code or name, or a coordinate written to more decimals than a grid node's rounding shows.
LEAK = re.compile(r"(?:UST|KZS)-\d|spring|canyon|\d{2}\.\d{3,}", re.IGNORECASE)
DAY = 86_400


def _questions(team: Team, chat: int, event: int) -> list[dict[str, Any]]:
    return [
        m
        for m in team.emu.sent(chat)
        if any(d.startswith(f"wi:{event}:") for d in callback_data_of(m.get("reply_markup")))
    ]


async def _press(team: Team, who: EmulatedUser, message: dict[str, Any], data: str) -> dict[str, Any]:
    query = await team.emu.press_button(who, message, data)
    await team.emu.wait_for(lambda: team.emu.callback_answer(query["id"]) is not None, timeout=20)
    answer = team.emu.callback_answer(query["id"])
    assert answer is not None
    return answer


async def _replies(
    team: Team, who: EmulatedUser, text: str, chat: dict[str, Any], n: int = 1
) -> list[dict[str, Any]]:
    """The bot's next n messages in the chat after a command."""
    before = len(team.emu.sent(chat["id"]))
    await team.emu.send_text(who, text, chat)
    return (await team.emu.wait_sent(chat["id"], before + n, timeout=30))[before:]


def _text(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


async def _alert(team: Team, chat: int, event: int) -> dict[str, Any] | None:
    """The event's alert as posted in the chat (the groups also get the candidates' pictures as photos)."""
    row = await team.services.db.fetchone(
        "SELECT message_id FROM outbox "
        "WHERE event_id = ? AND chat_id = ? AND kind = 'alert' AND status = 'sent'",
        (event, chat),
    )
    if row is None:
        return None
    return next((m for m in team.emu.sent(chat) if m["message_id"] == row["message_id"]), None)


async def _leopard(team: Team, photo: bytes, caption: str, date: int) -> int:
    """A ranger's leopard photo at a station, alerted to both groups and confirmed; its event id."""
    db = team.services.db
    before = int(await db.scalar("SELECT COALESCE(MAX(event_id), 0) FROM sightings"))
    await team.emu.send_photo(team.ranger, photo, caption=caption, date=date)
    await eventually(lambda: db.scalar("SELECT MAX(event_id) > ? FROM sightings", (before,)), timeout=40)
    event = int(await db.scalar("SELECT MAX(event_id) FROM sightings"))
    await eventually(lambda: _alert(team, GROUP, event), timeout=40)
    alert = await eventually(lambda: _alert(team, TRUSTED, event), timeout=40)
    assert isinstance(alert, dict)
    await team.emu.press_button(team.admin, alert, f"rv:{event}:confirmed")
    await eventually(lambda: db.scalar("SELECT status = 'confirmed' FROM sightings WHERE id = ?", (event,)))
    return event


async def test_who_is_this_from_the_first_leopard_to_the_reports(
    team: Team, leopard_jpeg: bytes, leopard2_jpeg: bytes
) -> None:
    trusted = team.emu.group(TRUSTED, "Trusted coordinators")
    await team.say(team.admin, "/register en", trusted)
    await team.say(team.admin, "/trusted on", trusted)
    dana = team.emu.user(700_050, "Dana")
    await team.invite(dana, "coordinator")
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Kazakh spring area=UST")
    await team.say(team.admin, "/station add KZS-04 43.60 51.40 Kaskyr canyon area=KZS")
    db = team.services.db
    now = int(time.time())

    # 1. A confirmed leopard: both groups are asked "Who is this?" (an empty catalogue: no candidate).
    first = await _leopard(team, leopard_jpeg, "UST-04", now - 3 * DAY)
    await team.emu.wait_for(lambda: bool(_questions(team, GROUP, first)), timeout=30)
    question = _questions(team, GROUP, first)[-1]
    assert "Who is this?" in question["text"]
    assert f"wi:{first}:n" in callback_data_of(question["reply_markup"])

    # A ranger in the group presses a button: refused, nothing recorded.
    refused = await _press(team, team.ranger, question, f"wi:{first}:n")
    assert refused.get("show_alert") is True
    assert await db.scalar("SELECT COUNT(*) FROM identifications") == 0

    # 2. The coordinator marks the flank: recorded, and the question comes again with it.
    asked = len(_questions(team, GROUP, first))
    said = await _press(team, dana, question, f"wi:{first}:f:l")
    assert "left" in said.get("text", "")
    await team.emu.wait_for(lambda: len(_questions(team, GROUP, first)) > asked, timeout=30)
    question = _questions(team, GROUP, first)[-1]
    assert "left" in question["text"]
    assert await db.scalar("SELECT flank FROM event_features WHERE event_id = ?", (first,)) == "left"

    # 3. "New individual": the catalogue's first animal, with the event's crop as its reference.
    said = await _press(team, dana, question, f"wi:{first}:n")
    code_one = str(await db.scalar("SELECT code FROM individuals"))
    assert code_one.startswith("PL-") and code_one in said.get("text", "")
    one = int(await db.scalar("SELECT id FROM individuals WHERE code = ?", (code_one,)))

    # 4. A second leopard two days later at another station: "Same as" the first one.
    second = await _leopard(team, leopard2_jpeg, "KZS-04", now - DAY)
    await team.emu.wait_for(lambda: bool(_questions(team, GROUP, second)), timeout=30)
    question = _questions(team, GROUP, second)[-1]
    assert code_one in question["text"]  # the catalogue's animal is a candidate
    assert f"wi:{second}:s:{one}" in callback_data_of(question["reply_markup"])
    refused = await _press(team, team.ranger, question, f"wi:{second}:s:{one}")
    assert refused.get("show_alert") is True
    refreshes = "SELECT COUNT(*) FROM outbox WHERE kind = 'refresh' AND event_id = ?"
    before = await db.scalar(refreshes, (second,))
    said = await _press(team, dana, question, f"wi:{second}:s:{one}")
    assert code_one in said.get("text", "")
    row = await db.fetchone(
        "SELECT decision, individual_id FROM current_identities WHERE event_id = ?", (second,)
    )
    assert row is not None and (row["decision"], row["individual_id"]) == ("same", one)
    # The alert's movement lines read who the animal is: its alerts are refreshed.
    assert await db.scalar(refreshes, (second,)) > before

    # A third leopard, another animal, so that /compare has two codes.
    third = await _leopard(team, leopard_variants(1)[0], "UST-04", now)
    await team.emu.wait_for(lambda: bool(_questions(team, TRUSTED, third)), timeout=30)
    await _press(team, team.admin, _questions(team, TRUSTED, third)[-1], f"wi:{third}:n")
    code_two = str(await db.scalar("SELECT code FROM individuals WHERE code != ?", (code_one,)))

    # 5. /individuals: the trusted group sees stations; the untrusted group areas only.
    exact = _text(await _replies(team, team.admin, "/individuals", trusted))
    grid = _text(await _replies(team, team.admin, "/individuals", team.group))
    assert code_one in exact and code_two in exact and "KZS-04" in exact
    assert code_one in grid and code_two in grid
    assert not LEAK.search(grid), grid

    # 6. /individual CODE: a track map and the timeline.
    exact_track = await _replies(team, team.admin, f"/individual {code_one}", trusted, 2)
    grid_track = await _replies(team, team.admin, f"/individual {code_one}", team.group, 2)
    assert [m["method"] for m in exact_track] == ["sendPhoto", "sendMessage"]
    assert "UST-04" in _text(exact_track) and "KZS-04" in _text(exact_track)
    assert code_one in _text(grid_track) and "≈" in _text(grid_track)
    assert not LEAK.search(_text(grid_track)), _text(grid_track)

    # 7. /compare with two individuals' codes: each stands for its last sighting.
    exact_cmp = _text(await _replies(team, team.admin, f"/compare {code_one} {code_two}", trusted))
    grid_cmp = _text(await _replies(team, team.admin, f"/compare {code_one} {code_two}", team.group))
    assert f"#{second}" in exact_cmp and f"#{third}" in exact_cmp, exact_cmp
    assert f"#{second}" in grid_cmp and f"#{third}" in grid_cmp, grid_cmp
    assert not LEAK.search(grid_cmp), grid_cmp
