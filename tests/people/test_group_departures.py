"""A coordinator made in a group holds that power only while in the group: leaving it or being removed
(the service message with left_chat_member, and chat_member where the bot is an admin) takes it, with
an audit row and a notice to the admins. Powers given elsewhere stay (LW_ADMIN_IDS, an invite, a grant
in another group). Through the real PTB client against the emulator (emulator/members.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot

from bot.people import Role
from emulator import BotApiEmulator, EmulatedUser
from tests.conftest import ADMIN, GROUP, Team, eventually

WITHDRAWN = "the coordinator power given in that group is withdrawn"


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as client:
        yield client


async def test_emulator_tells_a_departure_as_telegram_does(bot: Bot, emu: BotApiEmulator) -> None:
    admin, dana, eve = emu.user(1, "Aigerim"), emu.user(2, "Dana"), emu.user(3, "Eve")
    group = emu.group(title="Team")
    # Not an admin, and chat_member not asked for: only the service message ("Dana left the group").
    await emu.member_leaves(group, dana)
    updates = list(await bot.get_updates(timeout=0))
    assert [u.message.left_chat_member.id for u in updates if u.message and u.message.left_chat_member] == [2]
    assert all(u.chat_member is None for u in updates)
    offset = updates[-1].update_id + 1
    # An admin bot that asked for chat_member: "Aigerim removed Eve", then member -> kicked.
    await bot.get_updates(
        offset=offset, timeout=0, allowed_updates=["message", "chat_member", "my_chat_member"]
    )
    await emu.promote_bot(group, admin)
    await emu.remove_member(group, eve, admin)
    updates = list(await bot.get_updates(offset=offset, timeout=0))
    assert [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member] == ["administrator"]
    service = next(u.message for u in updates if u.message)
    assert service.left_chat_member is not None and service.left_chat_member.id == 3
    assert service.from_user is not None and service.from_user.id == 1
    change = next(u.chat_member for u in updates if u.chat_member)
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("member", "kicked")
    assert change.from_user.id == 1 and change.new_chat_member.user.id == 3
    assert (await bot.get_chat_member(group["id"], 3)).status == "kicked"
    with pytest.raises(ValueError, match="not in chat"):
        await emu.member_leaves(group, eve)


async def _reply(team: Team, who: EmulatedUser, text: str, to: dict[str, Any]) -> str:
    chat = to["chat"]
    before = len(team.emu.sent(chat["id"]))
    await team.emu.send_text(who, text, chat, reply_to_message_id=to["message_id"])
    return str((await team.emu.wait_sent(chat["id"], before + 1))[-1]["text"])


async def _make_coordinator(team: Team, person: EmulatedUser, group: dict[str, Any]) -> None:
    hello = await team.emu.send_text(person, "Hello all", group)
    said = await _reply(team, team.admin, "/coordinator", hello)
    assert "coordinator" in said, said


def _admin_told(team: Team) -> list[str]:
    return [m["text"] for m in team.emu.sent(ADMIN) if WITHDRAWN in m.get("text", "")]


async def _row(team: Team, user_id: int) -> tuple[str, str]:
    row = await team.services.db.fetchone("SELECT role, status FROM rangers WHERE user_id = ?", (user_id,))
    assert row is not None
    return str(row["role"]), str(row["status"])


async def test_leaving_the_group_takes_the_power_given_there(team: Team) -> None:
    dana = team.emu.user(610, "Dana", last_name="Abenova")
    await _make_coordinator(team, dana, team.group)
    assert await team.services.access.role(610) == Role.COORDINATOR

    await team.emu.member_leaves(team.group, dana)
    await eventually(lambda: _is(team, 610, Role.OUTSIDER))
    assert await _row(team, 610) == ("coordinator", "removed")  # an admin's /restore gives it back
    await team.emu.wait_for(lambda: len(_admin_told(team)) == 1)
    assert _admin_told(team)[0].startswith(f"Dana Abenova (610) left group Coordinators ({GROUP})")
    assert "no role now" in _admin_told(team)[0]
    audit = await team.services.db.fetchone(
        "SELECT user_id, chat_id, how, by_user, role_before, status_before, role_after, status_after "
        "FROM role_losses"
    )
    assert tuple(audit) == (610, GROUP, "left", None, "coordinator", "active", "coordinator", "removed")
    grant = await team.services.db.fetchone("SELECT revoked_at, revoked_reason FROM role_grants")
    assert grant["revoked_at"] and grant["revoked_reason"] == "left"


async def test_removed_by_an_admin_told_twice_changes_once(team: Team) -> None:
    """The bot is an admin there: the service message and chat_member both tell of one removal."""
    eve = team.emu.user(611, "Eve")
    await team.invite(eve)  # a ranger by invite, then a coordinator by a reply in the group
    await _make_coordinator(team, eve, team.group)
    coordinator_link = await team.say(eve, "/invite")
    assert "start=" in coordinator_link["text"]  # an unused invite, made with the coordinator power
    await team.emu.promote_bot(team.group, team.admin)

    await team.emu.remove_member(team.group, eve, team.admin)
    await eventually(lambda: _is(team, 611, Role.RANGER))
    assert await _row(team, 611) == ("ranger", "active")
    await team.emu.wait_for(lambda: len(_admin_told(team)) == 1)
    told = _admin_told(team)[0]
    assert "Eve (611) was removed by Aigerim from group Coordinators" in told
    assert "remain a ranger" in told and "1 unused invite(s) they made were revoked" in told
    # Both updates were handled (the inbox marks them done); only the first changed anything.
    await eventually(lambda: _done_updates(team))
    assert await team.services.db.scalar("SELECT COUNT(*) FROM role_losses") == 1
    assert await team.services.db.scalar("SELECT how FROM role_losses") == "kicked"
    assert await team.services.db.scalar("SELECT by_user FROM role_losses") == ADMIN
    assert await team.services.db.scalar("SELECT COUNT(*) FROM invites WHERE revoked_at IS NOT NULL") == 1
    assert len(_admin_told(team)) == 1


async def test_chat_member_alone_is_enough(team: Team) -> None:
    """No service message (the group hides join and leave messages): the bot, an admin there, asked
    for chat_member updates when it started polling, and they carry the departure."""
    asked = [c.get("allowed_updates") or [] for c in team.emu.calls_of("getUpdates")]
    assert asked and all("chat_member" in kinds for kinds in asked)
    dana = team.emu.user(615, "Dana")
    await _make_coordinator(team, dana, team.group)
    await team.emu.promote_bot(team.group, team.admin)
    await team.emu.remove_member(team.group, dana, team.admin, announce=False)
    await eventually(lambda: _is(team, 615, Role.OUTSIDER))
    assert await team.services.db.scalar("SELECT how FROM role_losses") == "kicked"
    await team.emu.wait_for(lambda: len(_admin_told(team)) == 1)


async def _done_updates(team: Team) -> bool:
    """Every update the emulator handed out is finished in the bot's inbox."""
    pending = await team.services.db.scalar("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL")
    return team.emu.updates_pending() == 0 and pending == 0


async def _is(team: Team, user_id: int, role: Role) -> bool:
    return await team.services.access.role(user_id) == role


async def test_powers_given_elsewhere_stay(team: Team) -> None:
    other = team.emu.group(-100_777, "Ustyurt team")
    await team.say(team.admin, "/register en", other)
    # Marat: a coordinator by invite, also made one in the group. Aliya: made one in two groups.
    marat, aliya = team.emu.user(612, "Marat"), team.emu.user(613, "Aliya")
    await team.invite(marat, "coordinator")
    await _make_coordinator(team, marat, team.group)
    await _make_coordinator(team, aliya, team.group)
    await _make_coordinator(team, aliya, other)
    admin_in_group = await team.emu.send_text(team.admin, "I am here too", team.group)
    assert admin_in_group

    await team.emu.member_leaves(team.group, marat)
    await team.emu.member_leaves(team.group, aliya)
    await team.emu.member_leaves(team.group, team.admin)  # LW_ADMIN_IDS: nothing to take
    await team.emu.wait_for(lambda: len(_admin_told(team)) == 2)
    assert await team.services.access.role(612) == Role.COORDINATOR
    assert await team.services.access.role(613) == Role.COORDINATOR
    assert await team.services.access.role(ADMIN) == Role.ADMIN
    assert all("remain a coordinator" in text for text in _admin_told(team))
    # Leaving the second group too: Aliya's last source of the power is gone.
    await team.emu.member_leaves(other, aliya)
    await eventually(lambda: _is(team, 613, Role.OUTSIDER))
    rows = await team.services.db.fetchall(
        "SELECT user_id, chat_id, status_after FROM role_losses ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [
        (612, GROUP, "active"),
        (613, GROUP, "active"),
        (613, -100_777, "removed"),
    ]


async def test_a_migrated_group_keeps_its_grants_to_revoke(team: Team) -> None:
    basic = team.emu.group(-4_001_003, "Kyzylsai", supergroup=False)
    await team.say(team.admin, "/register en", basic)
    dana = team.emu.user(614, "Dana")
    await _make_coordinator(team, dana, basic)
    new = await team.emu.migrate_group(basic, team.admin)
    await eventually(lambda: team.services.groups.get(new["id"]))
    await team.emu.member_leaves(new, dana)
    await eventually(lambda: _is(team, 614, Role.OUTSIDER))
    assert await team.services.db.scalar("SELECT chat_id FROM role_losses") == new["id"]
