"""Who decides on alerts: only an active coordinator or an admin. Anyone else in the group who
presses a review button gets a polite refusal, nothing changes and the attempt is audited; an admin
makes members coordinators by replying /coordinator to one of their messages in the group."""

from __future__ import annotations

import re
from typing import Any

from bot.people import Role
from bot.text import t
from emulator import BotApiEmulator, EmulatedUser
from tests.conftest import ADMIN, GROUP, RANGER, Team, eventually

VERDICT = re.compile(r"Coordinators (confirmed|reviewed) sighting #")
REFUSED = t("en", "review.refused")
REFUSED_SUSPENDED = t("en", "review.refused_suspended")


async def _alert(team: Team, photo: bytes) -> dict[str, Any]:
    await team.photo(team.ranger, photo)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    await eventually(lambda: _alert_sent(team))
    return team.alerts()[0]


async def _alert_sent(team: Team) -> bool:
    return await team.outbox_status(GROUP) == "sent"


async def _answer(emu: BotApiEmulator, query: dict[str, Any]) -> dict[str, Any]:
    await emu.wait_for(lambda: emu.callback_answer(query["id"]) is not None)
    answer = emu.callback_answer(query["id"])
    assert answer is not None
    return answer


def _verdicts(emu: BotApiEmulator) -> list[str]:
    """The verdicts the ranger was told (not the receipt, which says "Coordinators are alerted")."""
    return [m["text"] for m in emu.sent(RANGER) if VERDICT.search(m.get("text", ""))]


async def _count(team: Team, sql: str) -> int:
    return int(await team.services.db.scalar(sql))


async def _reply(team: Team, who: EmulatedUser, text: str, to: dict[str, Any]) -> str:
    """Send text as a reply to message `to` in its chat; the bot's answer there."""
    chat = to["chat"]
    before = len(team.emu.sent(chat["id"]))
    await team.emu.send_text(who, text, chat, reply_to_message_id=to["message_id"])
    return str((await team.emu.wait_sent(chat["id"], before + 1))[-1]["text"])


async def test_only_an_active_coordinator_decides(team: Team, leopard_jpeg: bytes) -> None:
    suspended = team.emu.user(601, "Suspended")
    removed = team.emu.user(602, "Removed")
    stranger = team.emu.user(603, "Stranger", language_code="ru")  # the refusal speaks the presser's language
    for person in (suspended, removed):
        await team.invite(person, "coordinator")
    await team.say(team.admin, f"/suspend {suspended.id}")
    await team.say(team.admin, f"/remove {removed.id}")
    alert = await _alert(team, leopard_jpeg)
    edits = len(team.emu.calls_of("editMessageCaption"))

    expected = {
        suspended: REFUSED_SUSPENDED,
        removed: REFUSED,
        stranger: t("ru", "review.refused"),
        team.ranger: REFUSED,
    }
    for person, text in expected.items():
        answer = await _answer(team.emu, await team.emu.press_button(person, alert, "rv:1:rejected"))
        assert (answer.get("text"), answer.get("show_alert")) == (text, True), person

    await eventually(lambda: team.services.db.scalar("SELECT COUNT(*) = 4 FROM review_refusals"))
    rows = await team.services.db.fetchall(
        "SELECT sighting_id, user_id, user_name, chat_id, decision, role, ranger_role, ranger_status, at "
        "FROM review_refusals ORDER BY id"
    )
    assert [tuple(r)[:8] for r in rows] == [
        (1, 601, "Suspended", GROUP, "rejected", "suspended", "coordinator", "suspended"),
        (1, 602, "Removed", GROUP, "rejected", "outsider", "coordinator", "removed"),
        (1, 603, "Stranger", GROUP, "rejected", "outsider", None, None),
        (1, RANGER, "Serik", GROUP, "rejected", "ranger", "ranger", "active"),
    ]
    assert all(r["at"] for r in rows)
    # Nothing about the sighting changed: no decision, no notice for the ranger, no alert edit.
    assert await team.services.db.scalar("SELECT status FROM sightings WHERE id = 1") == "unreviewed"
    assert await _count(team, "SELECT COUNT(*) FROM reviews") == 0
    assert await _count(team, "SELECT COUNT(*) FROM notices WHERE kind = 'verdict'") == 0
    assert await _count(team, "SELECT COUNT(*) FROM outbox WHERE kind = 'refresh'") == 0
    assert len(team.emu.calls_of("editMessageCaption")) == edits
    assert _verdicts(team.emu) == []

    # An active coordinator's press still decides, and the ranger hears it once.
    dana = team.emu.user(604, "Dana")
    await team.invite(dana, "coordinator")
    answer = await _answer(team.emu, await team.emu.press_button(dana, alert, "rv:1:rejected"))
    assert answer.get("text") == "Recorded: not a leopard."
    await team.emu.wait_for(lambda: len(_verdicts(team.emu)) == 1, 10)
    assert "not a leopard" in _verdicts(team.emu)[0]
    assert await team.services.db.scalar("SELECT status FROM sightings WHERE id = 1") == "rejected"
    assert await team.services.db.scalar("SELECT user_id FROM reviews") == 604
    assert await _count(team, "SELECT COUNT(*) FROM review_refusals") == 4


async def test_an_admin_reply_makes_a_member_a_coordinator(team: Team, leopard_jpeg: bytes) -> None:
    alert = await _alert(team, leopard_jpeg)
    dana = team.emu.user(610, "Dana", username="dana_kz", last_name="Abenova")
    # Privacy mode: the bot never sees this message, only the admin's command replying to it.
    hello = await team.emu.send_text(dana, "Hi all, I coordinate the Kyzylsai cameras", team.group)
    answer = await _answer(team.emu, await team.emu.press_button(dana, alert, "rv:1:confirmed"))
    assert answer.get("text") == REFUSED

    said = await _reply(team, team.admin, "/coordinator", hello)
    assert said == "Dana Abenova is now a coordinator and can record decisions with the buttons under alerts."
    row = await team.services.db.fetchone(
        "SELECT name, username, role, status FROM rangers WHERE user_id = ?", (610,)
    )
    assert tuple(row) == ("Dana Abenova", "dana_kz", "coordinator", "active")
    grant = await team.services.db.fetchone("SELECT user_id, role, granted_by, chat_id FROM role_grants")
    assert tuple(grant) == (610, "coordinator", ADMIN, GROUP)

    answer = await _answer(team.emu, await team.emu.press_button(dana, alert, "rv:1:confirmed"))
    assert answer.get("text") == "Recorded: confirmed leopard."
    await team.emu.wait_for(lambda: len(_verdicts(team.emu)) == 1, 10)
    assert await team.services.db.scalar("SELECT status FROM sightings WHERE id = 1") == "confirmed"
    assert await team.services.db.scalar("SELECT user_id FROM reviews") == 610

    # Again, or /ranger (a grant never lowers an active coordinator): nothing changes.
    assert await _reply(team, team.admin, "/coordinator", hello) == "Dana Abenova is already a coordinator."
    assert await _reply(team, team.admin, "/ranger", hello) == "Dana Abenova is already a coordinator."
    assert await team.services.access.role(610) == Role.COORDINATOR
    assert await _count(team, "SELECT COUNT(*) FROM role_grants") == 1

    # A suspended coordinator is made active again by the same reply.
    await team.say(team.admin, "/suspend 610")
    assert "now a coordinator" in await _reply(team, team.admin, "/coordinator", hello)
    assert await team.services.access.role(610) == Role.COORDINATOR


async def test_only_an_admin_grants_and_only_to_a_person(team: Team) -> None:
    dana = team.emu.user(620, "Dana")
    hello = await team.emu.send_text(dana, "Hello", team.group)
    eve, coordinator = team.emu.user(621, "Eve"), team.emu.user(622, "Marat")
    await team.invite(coordinator, "coordinator")

    assert await _reply(team, eve, "/coordinator", hello) == t("en", "access.outsider")
    assert await _reply(team, team.ranger, "/coordinator", hello) == "Only an administrator can do this."
    assert await _reply(team, coordinator, "/coordinator", hello) == "Only an administrator can do this."
    assert await team.services.access.role(620) == Role.OUTSIDER

    usage = t("en", "grant.usage")
    assert "/coordinator" in usage and "/ranger" in usage
    assert (await team.say(team.admin, "/coordinator", team.group))["text"] == usage
    bot_said = team.emu.sent(GROUP)[-1]  # the bot's own message
    assert await _reply(team, team.admin, "/coordinator", bot_said) == t("en", "grant.not_a_person")
    anonymous = await team.emu.send_as_anonymous_admin(team.group, "I am an admin, anonymously")
    assert await _reply(team, team.admin, "/coordinator", anonymous) == t("en", "grant.not_a_person")
    own = await team.emu.send_text(team.admin, "Me", team.group)
    assert await _reply(team, team.admin, "/coordinator", own) == (
        "Aigerim is an administrator and can do everything already."
    )
    # An anonymous admin could be anyone with that right: refused before the reply is even read.
    before = len(team.emu.sent(GROUP))
    await team.emu.send_as_anonymous_admin(team.group, "/coordinator")
    assert (await team.emu.wait_sent(GROUP, before + 1))[-1]["text"] == t("en", "access.anonymous")
    assert await _count(team, "SELECT COUNT(*) FROM role_grants") == 0
    assert await _count(team, "SELECT COUNT(*) FROM rangers WHERE user_id IN (620, 621)") == 0
    assert await team.services.access.role(620) == Role.OUTSIDER

    # A coordinator may add a ranger the same way (as with /invite).
    assert await _reply(team, coordinator, "/ranger", hello) == (
        "Dana is now a ranger and can send me photos in a private chat."
    )
    assert await team.services.access.role(620) == Role.RANGER
    assert await _reply(team, team.admin, "/coordinator", hello) == (
        "Dana is now a coordinator and can record decisions with the buttons under alerts."
    )


async def test_a_grant_in_a_forum_topic(team: Team) -> None:
    forum = team.emu.group(-100_444, "Kyzylsai forum", forum=True)
    topic = await team.emu.create_topic(forum, "Alerts", team.admin)
    before = len(team.emu.sent(forum["id"]))
    await team.emu.send_text(team.admin, "/register en", forum, thread_id=topic)
    await team.emu.wait_sent(forum["id"], before + 1)
    # In a topic every message "replies" to the topic's opening message: that is no person's message.
    before = len(team.emu.sent(forum["id"]))
    await team.emu.send_text(team.admin, "/coordinator", forum, thread_id=topic)
    assert (await team.emu.wait_sent(forum["id"], before + 1))[-1]["text"] == t("en", "grant.usage")
    dana = team.emu.user(630, "Dana")
    hello = await team.emu.send_text(dana, "Hello", forum, thread_id=topic)
    before = len(team.emu.sent(forum["id"]))
    await team.emu.send_text(
        team.admin, "/coordinator", forum, thread_id=topic, reply_to_message_id=hello["message_id"]
    )
    said = (await team.emu.wait_sent(forum["id"], before + 1))[-1]["text"]
    assert said.startswith("Dana is now a coordinator")
    assert await team.services.access.role(630) == Role.COORDINATOR


async def test_group_help_tells_how_to_make_coordinators(team: Team) -> None:
    admin_help = (await team.say(team.admin, "/help", team.group))["text"]
    assert "reply /coordinator to a member's message" in admin_help
    stranger_help = (await team.say(team.emu.user(640, "Newcomer"), "/help", team.group))["text"]
    assert "an admin can instead reply /coordinator" in stranger_help
    coordinator = team.emu.user(641, "Marat")
    await team.invite(coordinator, "coordinator")
    assert "reply /ranger" in (await team.say(coordinator, "/help", team.group))["text"]
    for lang in ("ru", "kk"):
        assert "/coordinator" in t(lang, "help.admin") and "/coordinator" in t(lang, "help.outsider")
