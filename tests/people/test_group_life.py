"""What real groups do to the bot: supergroup upgrades, forum topics, anonymous admins, removal,
media restrictions and privacy mode, through the emulator with the real PTB client."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from tests.conftest import GROUP, Team, eventually, start_team


async def _basic_group(team: Team) -> dict[str, Any]:
    """A basic group (plain negative id) registered, trusted and following one area, in Russian."""
    basic = team.emu.group(-4_001_002, "Ustyurt team", supergroup=False)
    await team.say(team.admin, "/register ru", basic)
    await team.say(team.admin, "/trusted on", basic)
    await team.say(team.admin, "/areas UST", basic)
    await team.say(team.admin, "/settings summary 2 18", basic)
    return basic


async def _settings_of(team: Team, chat_id: int) -> tuple[Any, ...] | None:
    row = await team.services.db.fetchone(
        "SELECT language, timezone, trusted, all_areas, active, summary_weekday, summary_hour "
        "FROM groups WHERE chat_id = ?",
        (chat_id,),
    )
    return tuple(row) if row else None


async def _areas_of(team: Team, chat_id: int) -> list[str]:
    rows = await team.services.db.fetchall("SELECT area FROM group_areas WHERE chat_id = ?", (chat_id,))
    return [r["area"] for r in rows]


def _photos(team: Team, chat_id: int) -> list[dict[str, Any]]:
    """The alerts (a summary's map and contact sheet are photos too)."""
    return [m for m in team.emu.sent(chat_id) if m["method"] == "sendPhoto" and m.get("reply_markup")]


async def test_migrated_group_keeps_everything(team: Team, leopard_jpeg: bytes) -> None:
    basic = await _basic_group(team)
    before = await _settings_of(team, basic["id"])
    new = await team.emu.migrate_group(basic, team.admin)
    assert str(new["id"]).startswith("-100")
    await eventually(lambda: _settings_of(team, new["id"]))
    assert await _settings_of(team, new["id"]) == before
    assert await _areas_of(team, new["id"]) == ["UST"]
    assert await _settings_of(team, basic["id"]) is None  # one row, not two
    # /register in the new chat keeps the trust and areas the coordinators chose.
    await team.say(team.admin, "/register", new)
    assert await _settings_of(team, new["id"]) == before
    assert await team.services.db.scalar("SELECT COUNT(*) FROM groups") == 2
    # Its weekly job follows the new id.
    jobs = [j.name for j in team_jobs(team)]
    assert f"summary:{new['id']}" in jobs and f"summary:{basic['id']}" not in jobs


def team_jobs(team: Team) -> list[Any]:
    return list(team.app.job_queue.jobs())


async def test_alert_to_old_id_follows_the_migration_at_once(team: Team, leopard_jpeg: bytes) -> None:
    basic = await _basic_group(team)
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    # The bot never sees the service messages (it was down); it learns of the move from the 400.
    new = await team.emu.migrate_group(basic, team.admin, announce=False)
    await team.photo(team.ranger, leopard_jpeg, caption="UST-04")
    await team.emu.wait_for(lambda: len(_photos(team, new["id"])) == 1, timeout=20)
    db = team.services.db

    async def both_sent() -> bool:
        rows = await db.fetchall("SELECT chat_id, status FROM outbox WHERE kind = 'alert'")
        return {(r["chat_id"], r["status"]) for r in rows} == {(new["id"], "sent"), (GROUP, "sent")}

    await eventually(both_sent)
    # One attempt at the old id, one at the new: no hours of backoff in between.
    old_tries = [c for c in team.emu.calls_of("sendPhoto") if c.get("chat_id") == basic["id"]]
    assert len(old_tries) == 1
    assert await _settings_of(team, new["id"]) is not None
    caption = _photos(team, new["id"])[0]["caption"]
    assert "Леопард" in caption and "43.21" in caption  # Russian, exact place: trusted kept


async def test_alerts_go_to_the_registered_topic_and_fall_back_to_general(
    team: Team, leopard_jpeg: bytes, leopard2_jpeg: bytes
) -> None:
    forum = team.emu.group(-100_321_0001, "Leopard forum", forum=True)
    topic = await team.emu.create_topic(forum, "Alerts", team.admin)
    await team.emu.send_text(team.admin, "/register en", forum, thread_id=topic)
    registered = await team.emu.wait_sent(forum["id"])
    assert registered[-1].get("message_thread_id") == topic and "this topic" in registered[-1]["text"]
    await team.photo(team.ranger, leopard_jpeg)
    await team.emu.wait_for(lambda: len(_photos(team, forum["id"])) == 1, timeout=20)
    assert _photos(team, forum["id"])[0]["message_thread_id"] == topic
    # /week answers in the topic where it was asked.
    await team.emu.send_text(team.admin, "/week", forum, thread_id=topic)
    await team.emu.wait_for(lambda: len(team.emu.sent(forum["id"])) >= 4, timeout=20)
    assert all(m.get("message_thread_id") == topic for m in team.emu.sent(forum["id"]))
    # The topic is closed: the next alert goes to General, and the admins are told once.
    team.emu.close_topic(forum, topic)
    notices = len(team.emu.sent(team.admin.id))
    # A day later: its own event, not the first one's burst.
    await team.emu.send_photo(team.ranger, leopard2_jpeg, date=int(time.time()) + 86_400)
    await team.emu.wait_for(lambda: len(_photos(team, forum["id"])) == 2, timeout=20)
    assert "message_thread_id" not in _photos(team, forum["id"])[1]
    told = await team.emu.wait_sent(team.admin.id, notices + 1)
    assert any("General" in m["text"] for m in told[notices:])
    assert (
        await team.services.db.scalar("SELECT thread_id FROM groups WHERE chat_id = ?", (forum["id"],))
        is None
    )


async def test_closed_general_keeps_the_alert_until_it_reopens(team: Team, leopard_jpeg: bytes) -> None:
    forum = team.emu.group(-100_321_0002, "Leopard forum", forum=True)
    await team.say(team.admin, "/register en", forum)
    team.emu.close_general(forum)
    await team.photo(team.ranger, leopard_jpeg)
    db = team.services.db

    async def refused() -> bool:
        row = await db.fetchone("SELECT status, last_error FROM outbox WHERE chat_id = ?", (forum["id"],))
        return (
            row is not None
            and row["status"] == "pending"
            and "topic_closed" in (row["last_error"] or "").lower()
        )

    await eventually(refused, timeout=20)  # not 'failed': the alert is not lost
    team.emu.reopen_general(forum)  # an admin reopens General
    await db.execute("UPDATE outbox SET next_attempt_at = '2000-01-01' WHERE chat_id = ?", (forum["id"],))
    await team.emu.wait_for(lambda: len(_photos(team, forum["id"])) == 1, timeout=20)


async def test_anonymous_admin_is_told_to_switch_off_anonymity(team: Team) -> None:
    await team.say(team.admin, "/settings lang ru", team.group)
    before = len(team.emu.sent(GROUP))
    await team.emu.send_as_anonymous_admin(team.group, "/trusted on")
    reply = (await team.emu.wait_sent(GROUP, before + 1))[-1]
    assert "Анонимность" in reply["text"]  # plain instructions, in the group's language
    assert await team.services.db.scalar("SELECT trusted FROM groups WHERE chat_id = ?", (GROUP,)) == 0


async def test_kicked_bot_deactivates_the_group_with_one_notice(team: Team, leopard_jpeg: bytes) -> None:
    notices = len(team.emu.sent(team.admin.id))
    await team.emu.kick_bot(team.group, team.admin)
    db = team.services.db
    await eventually(lambda: db.scalar("SELECT active = 0 FROM groups WHERE chat_id = ?", (GROUP,)))
    told = await team.emu.wait_sent(team.admin.id, notices + 1)
    assert "removed from group" in told[-1]["text"]
    await team.photo(team.ranger, leopard_jpeg)
    await team.say(team.admin, "/help")
    assert [c for c in team.emu.calls_of("sendPhoto") if c.get("chat_id") == GROUP] == []
    assert len(team.emu.sent(team.admin.id)) == notices + 2  # the notice and the /help answer


async def test_chat_not_found_deactivates_once(team: Team, leopard_jpeg: bytes, leopard2_jpeg: bytes) -> None:
    notices = len(team.emu.sent(team.admin.id))
    team.emu.delete_chat(team.group)
    await team.photo(team.ranger, leopard_jpeg)
    db = team.services.db
    await eventually(lambda: db.scalar("SELECT active = 0 FROM groups WHERE chat_id = ?", (GROUP,)), 20)
    await team.photo(team.ranger, leopard2_jpeg)
    await team.say(team.ranger, "/mine")
    tries = [c for c in team.emu.calls_of("sendPhoto") if c.get("chat_id") == GROUP]
    assert len(tries) == 1
    reason = await db.scalar("SELECT inactive_reason FROM groups WHERE chat_id = ?", (GROUP,))
    assert "chat not found" in reason.lower()
    texts = [m["text"] for m in team.emu.sent(team.admin.id)[notices:]]
    assert sum("chat not found" in x.lower() for x in texts) == 1


async def test_group_without_photo_rights_gets_a_text_alert(team: Team, leopard_jpeg: bytes) -> None:
    team.emu.restrict_bot(team.group, photos=False)
    await team.photo(team.ranger, leopard_jpeg)
    await team.emu.wait_for(
        lambda: any(
            m["method"] == "sendMessage" and "/sighting 1" in m["text"] for m in team.emu.sent(GROUP)
        ),
        timeout=20,
    )
    alert = next(m for m in team.emu.sent(GROUP) if "/sighting 1" in m.get("text", ""))
    assert "sighting #1" in alert["text"]
    # The verdict edits that text message.
    await team.emu.press_button(team.admin, alert, "rv:1:confirmed")
    await team.emu.wait_for(
        lambda: (
            "Confirmed leopard" in (team.emu.sent(GROUP)[-1].get("text") or "")
            or any("Confirmed leopard" in (m.get("text") or "") for m in team.emu.sent(GROUP))
        ),
        timeout=20,
    )


async def test_privacy_mode_needs_the_bots_name_after_another_bot(team: Team) -> None:
    team.emu.other_bot_posts(team.group)
    before = len(team.emu.sent(GROUP))
    await team.emu.send_text(team.admin, "/help", team.group)  # Telegram does not deliver this one
    await team.emu.send_text(team.admin, "/help@leopard_watch_bot", team.group)
    replies = await team.emu.wait_sent(GROUP, before + 1)
    await team.say(team.admin, "/help")  # a private round trip: the group had time to answer twice
    assert len(team.emu.sent(GROUP)) == before + 1
    assert replies[-1]["method"] == "sendMessage"


async def test_update_the_library_cannot_parse_is_kept_and_skipped(team: Team, caplog: Any) -> None:
    # A callback query without chat_instance: PTB's Update.de_json raises on it, which used to fail
    # every getUpdates and make the poller ask for the same batch forever.
    await team.emu.enqueue_update("callback_query", {"id": "77", "from": team.admin.to_dict(), "data": "x"})
    reply = await team.say(team.admin, "/help")  # the bot keeps answering
    assert reply["text"]
    kept = await team.services.db.fetchone(
        "SELECT payload, error, done_at FROM inbox WHERE error IS NOT NULL"
    )
    assert kept is not None and '"77"' in kept["payload"] and kept["done_at"]
    polls = len(team.emu.calls_of("getUpdates"))
    await asyncio.sleep(1.0)
    assert len(team.emu.calls_of("getUpdates")) - polls < 10  # long polling again, not spinning
    assert sum("cannot parse" in r.getMessage() for r in caplog.records) == 1
    team.emu.spec_violations.clear()  # the broken update was injected on purpose


async def test_alert_whose_photo_file_is_gone_goes_out_as_text_at_once(
    team: Team, leopard_jpeg: bytes
) -> None:
    team.emu.fail_next("sendPhoto", 502, chat_id=GROUP)  # the first try fails; the file vanishes meanwhile
    await team.photo(team.ranger, leopard_jpeg)
    db = team.services.db
    await eventually(lambda: db.scalar("SELECT last_error FROM outbox WHERE chat_id = ?", (GROUP,)))
    for path in team.services.photos.root.rglob("*.jpg"):
        path.unlink()
    await db.execute("UPDATE outbox SET next_attempt_at = '2000-01-01' WHERE chat_id = ?", (GROUP,))
    await team.emu.wait_for(
        lambda: any("/sighting 1" in (m.get("text") or "") for m in team.emu.sent(GROUP)), timeout=20
    )
    alert = next(m for m in team.emu.sent(GROUP) if "/sighting 1" in (m.get("text") or ""))
    assert "cannot be read" in alert["text"] and alert["reply_markup"]["inline_keyboard"]
    told = await team.emu.wait_sent(team.admin.id, 2)
    assert any("cannot be read" in m["text"] for m in told)


async def test_admin_who_starts_the_bot_later_gets_the_kept_notices(
    emu: Any, settings: Any, detector: Any, leopard_jpeg: bytes
) -> None:
    late_admin = 900_777
    settings = dataclasses.replace(settings, admin_ids=frozenset({*settings.admin_ids, late_admin}))
    shy = emu.user(late_admin, "Bolat", started=False)
    async for team in start_team(emu, settings, detector):
        emu.fail_next("sendPhoto", 400, chat_id=GROUP, description="Bad Request: PHOTO_INVALID_DIMENSIONS")
        await team.photo(team.ranger, leopard_jpeg)
        db = team.services.db
        await eventually(
            lambda: db.scalar("SELECT status = 'failed' FROM notices WHERE chat_id = ?", (late_admin,))  # noqa: B023
        )
        await emu.send_text(shy, "/start")
        told = await emu.wait_sent(late_admin, 2)  # the /start answer and the kept notice
        assert any("sighting #1" in m["text"] for m in told)
