"""Roles, invites, groups and languages: every boundary refuses politely and changes nothing."""

from __future__ import annotations

from tests.conftest import Team, leopard_variants


async def counts(team: Team) -> tuple[int, int, int]:
    db = team.services.db
    return (
        await db.scalar("SELECT COUNT(*) FROM sightings"),
        await db.scalar("SELECT COUNT(*) FROM stations"),
        await db.scalar("SELECT COUNT(*) FROM groups"),
    )


async def test_outsider_gets_polite_refusal_and_nothing_else(team: Team, leopard_jpeg: bytes) -> None:
    outsider = team.emu.user(123_456, "Curious")
    before = await counts(team)
    for action in ("/start", "/station list", "/rangers", "43.2, 51.8", "UST-04"):
        reply = await team.say(outsider, action)
        assert "only for the rangers and coordinators" in reply["text"], action
    receipt = await team.photo(outsider, leopard_jpeg)
    assert "ask your coordinator for an invite" in receipt["text"]
    assert await counts(team) == before
    assert not any(team.services.photos.root.rglob("*.jpg"))  # the photo was not even downloaded
    help_text = (await team.say(outsider, "/help"))["text"]
    assert "invite" in help_text and "/station" not in help_text


async def test_suspended_ranger_is_refused(team: Team, leopard_jpeg: bytes) -> None:
    reply = await team.say(team.admin, f"/suspend {team.ranger.id}")
    assert "suspended" in reply["text"]
    receipt = await team.photo(team.ranger, leopard_jpeg)
    assert "suspended" in receipt["text"]
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == 0


async def test_ranger_cannot_use_coordinator_commands(team: Team) -> None:
    before = await counts(team)
    for cmd in ("/station add UST-04 43.2 51.8 x", "/invite", f"/remove {team.admin.id}"):
        assert "Only coordinators" in (await team.say(team.ranger, cmd))["text"], cmd
    reply = await team.say(team.ranger, "/areas UST", team.group)
    assert "Only coordinators" in reply["text"]
    assert (await team.services.groups.get(team.group["id"])).all_areas  # unchanged
    assert await counts(team) == before


async def test_non_admin_cannot_register_a_group(team: Team) -> None:
    group = team.emu.group(-100_321, "Random chat")
    await team.emu.add_bot_to_group(team.ranger, group)
    hello = (await team.emu.wait_sent(group["id"]))[-1]
    assert "until an administrator registers" in hello["text"]
    reply = await team.say(team.ranger, "/register", group)
    assert "Only an administrator" in reply["text"]
    assert await team.services.groups.get(group["id"]) is None
    # In an unregistered group other commands are ignored: no reply at all.
    sent = len(team.emu.sent(group["id"]))
    await team.emu.send_text(team.admin, "/areas UST", group)
    await team.say(team.admin, "/help")
    assert len(team.emu.sent(group["id"])) == sent


async def test_invites_are_one_time_and_expire(team: Team) -> None:
    reply = await team.say(team.admin, "/invite")
    code = reply["text"].split("start=")[1].split()[0]
    first, second = team.emu.user(801, "Aru"), team.emu.user(802, "Bek")
    assert "registered as a ranger" in (await team.say(first, f"/start {code}"))["text"]
    assert "invalid, already used or expired" in (await team.say(second, f"/start {code}"))["text"]
    reply = await team.say(team.admin, "/invite")
    code = reply["text"].split("start=")[1].split()[0]
    await team.services.db.execute(
        "UPDATE invites SET expires_at = '2000-01-01T00:00:00+00:00' WHERE code = ?", (code,)
    )
    assert "expired" in (await team.say(second, f"/start {code}"))["text"]
    assert await team.services.db.scalar("SELECT COUNT(*) FROM rangers WHERE user_id = 802") == 0


async def test_coordinator_invites_rangers_but_not_coordinators(team: Team) -> None:
    coordinator = team.emu.user(803, "Dana")
    await team.invite(coordinator, "coordinator")
    assert "start=" in (await team.say(coordinator, "/invite"))["text"]
    assert "Only an administrator" in (await team.say(coordinator, "/invite coordinator"))["text"]
    people = (await team.say(coordinator, "/rangers"))["text"]
    assert "Dana" in people and "Serik" in people


async def test_language_follows_telegram_and_lang_overrides(team: Team, jackal_jpeg: bytes) -> None:
    kazakh = team.emu.user(804, "Ерлан", language_code="kk")
    await team.invite(kazakh)
    receipt = await team.photo(kazakh, jackal_jpeg)
    assert "Бақылау" in receipt["text"]
    assert "русский" in (await team.say(kazakh, "/lang ru"))["text"]
    receipt = await team.photo(kazakh, leopard_variants(1)[0])
    assert "Наблюдение #2" in receipt["text"]


async def test_commands_menu_per_scope_and_language(team: Team) -> None:
    private_ru = team.emu.my_commands({"type": "all_private_chats"}, "ru")
    group_en = team.emu.my_commands({"type": "all_group_chats"}, None)
    assert {c["command"] for c in private_ru} >= {"start", "help", "station"}
    assert "register" in {c["command"] for c in group_en}
    assert any("\u0400" <= ch <= "\u04ff" for c in private_ru for ch in c["description"])


async def test_help_shows_the_callers_commands(team: Team) -> None:
    ranger_help = (await team.say(team.ranger, "/help"))["text"]
    admin_help = (await team.say(team.admin, "/help"))["text"]
    assert "/station" not in ranger_help and "/lang" in ranger_help
    assert "/station" in admin_help and "/register" in admin_help


async def test_restore_undoes_suspend(team: Team, jackal_jpeg: bytes) -> None:
    await team.say(team.admin, f"/suspend {team.ranger.id}")
    assert "can use the bot again" in (await team.say(team.admin, f"/restore {team.ranger.id}"))["text"]
    assert "Sighting #1" in (await team.photo(team.ranger, jackal_jpeg))["text"]
    assert "Only coordinators" in (await team.say(team.ranger, f"/restore {team.ranger.id}"))["text"]


async def test_mine_lists_the_rangers_own_sightings_with_decisions(
    team: Team, leopard_jpeg: bytes, jackal_jpeg: bytes
) -> None:
    assert "not sent any photos" in (await team.say(team.ranger, "/mine"))["text"]
    await team.photo(team.ranger, leopard_jpeg)
    jackal_receipt = await team.photo(team.ranger, jackal_jpeg)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    await team.emu.press_button(team.admin, team.alerts()[0], "rv:1:confirmed")

    def told() -> bool:
        return any("confirmed sighting #1" in (m.get("text") or "") for m in team.emu.sent(team.ranger.id))

    await team.emu.wait_for(told, timeout=10)
    lines = (await team.say(team.ranger, "/mine"))["text"].splitlines()
    assert lines[1].startswith("#2 ") and "no leopard detected" in lines[1]
    assert lines[2].startswith("#1 ") and "leopard" in lines[2] and "confirmed leopard" in lines[2]
    # The ranger hands #2 over: it waits for the coordinators now.
    await team.emu.press_button(team.ranger, jackal_receipt, "esc:2")
    await team.emu.wait_for(lambda: len(team.alerts()) == 2, timeout=20)
    lines = (await team.say(team.ranger, "/mine"))["text"].splitlines()
    assert lines[1].startswith("#2 ") and "sent to coordinators, not reviewed yet" in lines[1]
    other = team.emu.user(805, "Other")
    await team.invite(other)
    assert "not sent any photos" in (await team.say(other, "/mine"))["text"]  # only one's own


async def test_restore_does_not_bring_back_a_removed_person(team: Team) -> None:
    await team.say(team.admin, f"/remove {team.ranger.id}")
    assert "No such user" in (await team.say(team.admin, f"/restore {team.ranger.id}"))["text"]
    assert "only for the rangers and coordinators" in (await team.say(team.ranger, "/mine"))["text"]
