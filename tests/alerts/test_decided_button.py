"""A decided alert says its decision on the button row: one "Decided: ... (by X)" button instead of the
three review buttons, which would look as if nothing had been decided (bot/botapi/keyboards.py)."""

from __future__ import annotations

from typing import Any

from tests.conftest import GROUP, Team, eventually


def _buttons(alert: dict[str, Any]) -> list[tuple[str, str]]:
    rows = (alert.get("reply_markup") or {}).get("inline_keyboard") or []
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def test_a_decided_alert_shows_one_button_with_the_decision(team: Team, leopard_jpeg: bytes) -> None:
    await team.photo(team.ranger, leopard_jpeg)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    await eventually(lambda: _is_sent(team))
    assert len(_buttons(team.alerts()[0])) == 3
    coordinator = team.emu.user(555, "Dana")
    await team.invite(coordinator, "coordinator")
    await team.emu.press_button(coordinator, team.alerts()[0], "rv:1:rejected", check=True)
    await team.emu.wait_for(lambda: len(_buttons(team.alerts()[0])) == 1, 10)
    ((text, data),) = _buttons(team.alerts()[0])
    assert text == "✔ Decided: not a leopard (Dana)" and data == "rv:1:rejected"
    # Pressing it is answered and changes nothing: the decision stays, no second review is written.
    query = await team.emu.press_button(coordinator, team.alerts()[0], data, check=True)
    assert query is not None
    assert await team.services.db.scalar("SELECT COUNT(*) FROM reviews") == 1
    assert await team.services.db.scalar("SELECT status FROM sightings WHERE id = 1") == "rejected"


async def _is_sent(team: Team) -> bool:
    return await team.outbox_status(GROUP) == "sent"
