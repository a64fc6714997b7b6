"""Ids people type or forge are checked before use; invites never lower a role."""

from __future__ import annotations

import pytest

from bot.text import parse_id
from tests.conftest import Team


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("#12", 12), (" 7 ", 7), ("¹", None), ("١٢", None), ("１２", None), ("0", None),
     ("-3", None), ("12a", None), ("99999999999999999999", None), ("", None), (None, None)],
)  # fmt: skip
def test_parse_id_takes_ascii_digits_in_range(text: str | None, expected: int | None) -> None:
    assert parse_id(text) == expected


async def test_odd_numbers_in_commands_get_the_usage_not_an_error(team: Team, leopard_jpeg: bytes) -> None:
    await team.photo(team.ranger, leopard_jpeg)
    coordinator = team.emu.user(555, "Dana")
    await team.invite(coordinator, "coordinator")
    for text in ("/sighting ¹", "/sighting 99999999999999999999", "/compare ¹ 1", "/compare 1 ١"):
        reply = await team.say(coordinator, text)
        assert "Something went wrong" not in reply["text"], text
        assert "/" in reply["text"], text  # the usage line
    for text in ("/suspend ¹²", "/suspend 99999999999999999999", "/restore ³"):
        reply = await team.say(team.admin, text)
        assert "Something went wrong" not in reply["text"], text
    reply = await team.say(team.admin, "/settings summary ³ 9", team.group)
    assert "Something went wrong" not in reply["text"]
    # A forged 🐆 button with a 20-digit id gets an answer, not silence.
    receipt = team.emu.sent(team.ranger.id)[-1]
    query = await team.emu.press_button(team.ranger, receipt, "esc:99999999999999999999", check=False)
    await team.say(team.ranger, "/mine")
    answer = team.emu.callback_answer(query["id"])
    assert answer is not None and answer.get("text")


async def test_a_ranger_invite_does_not_demote_a_coordinator(team: Team) -> None:
    coordinator = team.emu.user(556, "Erlan")
    await team.invite(coordinator, "coordinator")
    await team.invite(coordinator)  # a ranger's link, opened by mistake
    role = await team.services.db.scalar("SELECT role FROM rangers WHERE user_id = 556")
    assert role == "coordinator"
    assert "coordinator" in team.emu.sent(coordinator.id)[-1]["text"].lower()
