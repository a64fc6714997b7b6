"""The bot muted in a group (restricted, can_send_messages false): alerts and summary parts stay pending,
never given up, the admins are told once, and when the bot may send again (a my_chat_member update, or
a later try that succeeds) delivery resumes in order. Through the real PTB client and the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram import Bot, ChatMemberRestricted
from telegram.error import BadRequest

from bot.botapi import deliver, outbox
from emulator import BotApiEmulator
from tests.conftest import ADMIN, GROUP, Team, eventually, leopard_variants
from tests.support.sightings_world import AQTAU, seed_recent

MUTED = "may not send messages in group"
ALLOWED = "may send messages in group"


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as client:
        yield client


async def test_emulator_mutes_and_allows_the_bot_as_telegram_does(bot: Bot, emu: BotApiEmulator) -> None:
    admin = emu.user(1, "Aigerim")
    group = emu.group(title="Team")
    await emu.mute_bot(group, admin)
    [update] = await bot.get_updates(timeout=0)
    assert update.my_chat_member is not None
    member = update.my_chat_member.new_chat_member
    assert isinstance(member, ChatMemberRestricted) and member.is_member and not member.can_send_messages
    with pytest.raises(BadRequest, match=r"^Not enough rights to send text messages to the chat$"):
        await bot.send_message(group["id"], "hello")
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to send photos to the chat"):
        await bot.send_photo(group["id"], leopard_variants(1)[0])
    asked = await bot.get_chat_member(group["id"], bot.id)
    assert isinstance(asked, ChatMemberRestricted) and not asked.can_send_messages

    await emu.unmute_bot(group, admin)
    [update] = await bot.get_updates(offset=update.update_id + 1, timeout=0)
    assert update.my_chat_member is not None
    assert (update.my_chat_member.old_chat_member.status, update.my_chat_member.new_chat_member.status) == (
        "restricted",
        "member",
    )
    assert (await bot.send_message(group["id"], "hello")).text == "hello"
    assert (await bot.get_chat_member(group["id"], bot.id)).status == "member"


async def _outbox(team: Team) -> list[tuple[int, str, str]]:
    rows = await team.services.db.fetchall(
        "SELECT event_id, status, format FROM outbox WHERE chat_id = ? AND kind = 'alert' ORDER BY id",
        (GROUP,),
    )
    return [(r["event_id"], r["status"], r["format"]) for r in rows]


def _told(team: Team, words: str) -> list[str]:
    return [m["text"] for m in team.emu.sent(ADMIN) if words in m.get("text", "")]


async def _in_order(team: Team) -> bool:
    """The alerts reached the group in the order they were made (message ids grow with sighting ids)."""
    rows = await team.services.db.fetchall(
        "SELECT message_id FROM outbox WHERE chat_id = ? AND kind = 'alert' ORDER BY event_id", (GROUP,)
    )
    ids = [r["message_id"] for r in rows]
    return None not in ids and ids == sorted(ids)


async def _two_alerts_pending(team: Team) -> None:
    """Two leopard events (two stations far apart, so not one burst), their alerts queued."""
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring")
    await team.say(team.admin, "/station add KZS-01 44.60 53.10 Canyon")
    for photo, station in zip(leopard_variants(2), ("UST-04", "KZS-01"), strict=True):
        await team.photo(team.ranger, photo, caption=station)

    async def both_waiting() -> bool:
        rows = await _outbox(team)
        return len(rows) == 2 and all(status == "pending" for _, status, _ in rows)

    await eventually(both_waiting, timeout=30)


async def test_muted_group_keeps_alerts_pending_and_resumes_in_order(team: Team) -> None:
    emu = team.emu
    await emu.mute_bot(team.group, team.admin)
    await eventually(
        lambda: team.services.db.scalar("SELECT muted_since FROM groups WHERE chat_id = ?", (GROUP,))
    )
    await _two_alerts_pending(team)
    await emu.wait_for(lambda: len(_told(team, MUTED)) == 1)
    # Several drains later: still pending (never failed, never text), nothing posted, one notice.
    for _ in range(3):
        await team.services.outbox.drain(team.app.bot)
    assert [r[1:] for r in await _outbox(team)] == [("pending", "photo"), ("pending", "photo")]
    assert team.alerts() == []
    assert len(_told(team, MUTED)) == 1
    assert "restricted by Aigerim" in _told(team, MUTED)[0]
    assert await team.services.db.scalar("SELECT COUNT(*) FROM notices WHERE text LIKE '%failed%'") == 0

    await emu.unmute_bot(team.group, team.admin)
    await emu.wait_for(lambda: len(team.alerts()) == 2, timeout=20)
    await eventually(lambda: _all_sent(team))
    assert await _in_order(team)
    await emu.wait_for(lambda: len(_told(team, ALLOWED)) == 1)
    assert len(_told(team, MUTED)) == 1
    assert _told(team, "does not let the bot send photos") == []  # a mute, not a rule on media


async def _all_sent(team: Team) -> bool:
    return all(status == "sent" for _, status, _ in await _outbox(team))


async def test_mute_seen_only_by_sending_resumes_when_a_later_try_succeeds(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot was offline when muted and allowed again: no my_chat_member update tells it either way."""
    monkeypatch.setattr(outbox, "MUTED_PROBE", timedelta(seconds=1))
    emu = team.emu
    emu.restrict_bot(team.group, photos=False, documents=False, text=False)
    emu.set_chat_member(GROUP, emu.bot_user["id"], "restricted", is_member=True)
    await _two_alerts_pending(team)
    await eventually(
        lambda: team.services.db.scalar("SELECT muted_since FROM groups WHERE chat_id = ?", (GROUP,))
    )
    await emu.wait_for(lambda: len(_told(team, MUTED)) == 1)
    tries = len(emu.calls_of("sendPhoto"))
    await emu.wait_for(lambda: len(emu.calls_of("sendPhoto")) > tries + 1, timeout=15)  # probes go on
    rows = await _outbox(team)
    # Never failed, never turned to text ('sending': a probe in flight right now).
    assert [r[1] in ("pending", "sending") and r[2] == "photo" for r in rows] == [True, True]
    # Only the oldest alert is tried while muted: the newer one never jumps the queue.
    oldest, newer = (row[0] for row in rows)
    captions = [c.get("caption", "") for c in emu.calls_of("sendPhoto") if c.get("chat_id") == GROUP]
    assert captions and all(f"sighting #{oldest}" in c for c in captions)
    assert not any(f"sighting #{newer}" in c for c in captions)

    emu.restrict_bot(team.group)  # allowed again, silently
    emu.set_chat_member(GROUP, emu.bot_user["id"], "member")
    await emu.wait_for(lambda: len(team.alerts()) == 2, timeout=20)
    await eventually(lambda: _all_sent(team))
    assert await _in_order(team)
    assert [r[2] for r in await _outbox(team)] == ["photo", "photo"]
    await emu.wait_for(lambda: len(_told(team, ALLOWED)) == 1)
    assert len(_told(team, MUTED)) == 1
    assert await team.services.db.scalar("SELECT muted_since FROM groups WHERE chat_id = ?", (GROUP,)) is None


async def _parts(team: Team) -> dict[str, str]:
    rows = await team.services.db.fetchall(
        "SELECT part, status FROM summary_parts WHERE chat_id = ?", (GROUP,)
    )
    return {r["part"]: r["status"] for r in rows}


async def test_weekly_summary_waits_whole_while_muted(team: Team) -> None:
    await seed_recent(team)
    end = datetime.now(UTC)
    start = (end - timedelta(days=7)).astimezone(AQTAU)
    emu, bot = team.emu, team.app.bot
    await emu.mute_bot(team.group, team.admin)
    await eventually(lambda: _group_muted(team))
    group = await team.services.groups.get(GROUP)
    assert group is not None
    outcome = await deliver(bot, team.services, group, start, end, thread_id=None, weekly=True)
    assert not outcome.complete and not outcome.gone
    assert await _parts(team) == {}  # nothing refused for good: the map is owed, not dropped
    assert [m for m in emu.sent(GROUP) if m["method"] != "sendMessage" or "📊" in m.get("text", "")] == []

    await emu.unmute_bot(team.group, team.admin)
    await eventually(lambda: _group_allowed(team))
    group = await team.services.groups.get(GROUP)
    assert group is not None
    outcome = await deliver(bot, team.services, group, start, end, thread_id=None, weekly=True)
    assert outcome.complete
    assert await _parts(team) == {"map": "sent", "text": "sent", "sheet": "sent", "csv": "sent"}
    sent: list[dict[str, Any]] = emu.sent(GROUP)
    methods = [m["method"] for m in sent[-4:]]
    assert methods == ["sendPhoto", "sendMessage", "sendPhoto", "sendDocument"]
    assert len(await _admin_notices(team, "muted:%")) == 1


async def _admin_notices(team: Team, key: str) -> list[str]:
    rows = await team.services.db.fetchall(
        "SELECT text FROM notices WHERE chat_id = ? AND dedup_key LIKE ?", (ADMIN, key)
    )
    return [r["text"] for r in rows]


async def _group_muted(team: Team) -> bool:
    return (
        await team.services.db.scalar("SELECT muted_since FROM groups WHERE chat_id = ?", (GROUP,))
        is not None
    )


async def _group_allowed(team: Team) -> bool:
    return await team.services.db.scalar("SELECT muted_since FROM groups WHERE chat_id = ?", (GROUP,)) is None
