"""Answers that are no failure make no noise: an edit of an alert someone deleted ("message to edit not
found") is recorded quietly, not told to the admins as a failed alert, and a double tap on a button
("message is not modified") is answered quietly, never with "Something went wrong"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError

from bot.botapi import is_noise
from bot.botapi.errors import Fate, classify
from bot.text import t
from emulator import BotApiEmulator
from tests.conftest import ADMIN, GROUP, RANGER, Team, eventually


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as client:
        yield client


async def test_emulator_edits_answer_as_telegram_does(bot: Bot, emu: BotApiEmulator) -> None:
    admin = emu.user(1, "Aigerim")
    group = emu.group(title="Team")
    keys = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
    sent = await bot.send_message(group["id"], "alert", reply_markup=keys)
    await bot.edit_message_reply_markup(group["id"], sent.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"^Message is not modified: specified new message content"):
        await bot.edit_message_reply_markup(group["id"], sent.message_id, reply_markup=None)
    emu.delete_by_admin(group, sent.message_id)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("changed", chat_id=group["id"], message_id=sent.message_id)
    with pytest.raises(ValueError, match="no message"):
        emu.delete_by_admin(group, sent.message_id)
    assert admin.id == 1


def test_what_counts_as_noise() -> None:
    gone, same = BadRequest("Message to edit not found"), BadRequest("Message is not modified: same")
    assert classify(gone).fate is Fate.MESSAGE_GONE and classify(same).fate is Fate.NOT_MODIFIED
    assert is_noise(gone) and is_noise(same)
    for other in (BadRequest("Message can't be edited"), Forbidden("bot was kicked"), NetworkError("x")):
        assert not is_noise(other)
    assert not is_noise(ValueError("message is not modified"))
    muted = BadRequest("Not enough rights to send text messages to the chat")
    assert classify(muted).fate is Fate.MUTED
    assert classify(BadRequest("CHAT_WRITE_FORBIDDEN")).fate is Fate.MUTED
    assert classify(BadRequest("Have no rights to send a message")).fate is Fate.MUTED
    assert classify(BadRequest("Not enough rights to send photos to the chat")).fate is Fate.NO_MEDIA


async def _notices(team: Team) -> list[str]:
    rows = await team.services.db.fetchall("SELECT text FROM notices WHERE chat_id = ?", (ADMIN,))
    return [r["text"] for r in rows]


async def test_an_alert_deleted_in_the_group_is_no_failure(team: Team, leopard_jpeg: bytes) -> None:
    emu = team.emu
    await team.photo(team.ranger, leopard_jpeg)
    await emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    alert = team.alerts()[0]
    await eventually(lambda: _alert_sent(team))
    emu.delete_by_admin(team.group, alert["message_id"])
    # A decision still comes (a button pressed before the delete): the alert's edit finds nothing.
    await emu.press_button(team.admin, alert, "rv:1:confirmed", check=False)
    await eventually(lambda: _refresh_done(team))
    row = await team.services.db.fetchone("SELECT status, last_error FROM outbox WHERE kind = 'refresh'")
    assert row["status"] == "failed" and "deleted in the chat" in row["last_error"]
    assert len(emu.calls_of("editMessageCaption")) == 1  # one try, no retries
    await team.services.notices.drain(team.app.bot)
    assert [n for n in await _notices(team) if "failed" in n or "edit" in n] == []
    assert [m for m in emu.sent(ADMIN) if "failed" in m.get("text", "")] == []
    assert await team.services.db.scalar("SELECT status FROM sightings WHERE id = 1") == "confirmed"


async def _alert_sent(team: Team) -> bool:
    return await team.outbox_status(GROUP) == "sent"


async def _refresh_done(team: Team) -> bool:
    return bool(
        await team.services.db.scalar(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'refresh' AND status != 'pending'"
        )
    )


def _escalate_receipt(team: Team) -> dict[str, Any]:
    for message in reversed(team.emu.sent(RANGER)):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        if any(b.get("callback_data", "").startswith("esc:") for row in rows for b in row):
            return message
    raise AssertionError("no receipt with the 🐆 button")


async def test_a_double_tap_is_answered_quietly(team: Team, jackal_jpeg: bytes) -> None:
    emu = team.emu
    await team.photo(team.ranger, jackal_jpeg)
    receipt = _escalate_receipt(team)
    data = receipt["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    # Two taps before the bot handles the first: both carry the button, so both edit it away.
    first = await emu.press_button(team.ranger, receipt, data)
    second = await emu.press_button(team.ranger, receipt, data, check=False)
    assert second["message"].get("reply_markup"), "the second tap must still see the button"
    await emu.wait_for(
        lambda: None not in (emu.callback_answer(first["id"]), emu.callback_answer(second["id"]))
    )
    await emu.wait_for(lambda: len(emu.calls_of("editMessageReplyMarkup")) == 2)
    await eventually(lambda: _handled(team))
    lang = "en"
    assert [m for m in emu.sent(RANGER) if m.get("text") == t(lang, "error.internal")] == []
    now = next(m for m in emu.sent(RANGER) if m["message_id"] == receipt["message_id"])
    assert not now.get("reply_markup")  # the button did its job once


async def _handled(team: Team) -> bool:
    pending = await team.services.db.scalar("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL")
    return team.emu.updates_pending() == 0 and pending == 0
