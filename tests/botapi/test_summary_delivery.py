"""Weekly summaries in real groups: parts refused for good, resuming after a failure, forum topics,
migration to a supergroup and kicked bots; all through the emulator and the real PTB client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram.ext import Application

from bot.app import build_application, running
from bot.config import Settings
from emulator import BotApiEmulator
from storage.db import iso
from tests.conftest import ADMIN, GROUP, RANGER, Team
from tests.support.sightings_world import AQTAU, NoDetector, seed_recent

Message = dict[str, Any]


@asynccontextmanager
async def started(emu: BotApiEmulator, settings: Settings, *, forum: bool = False) -> AsyncIterator[Team]:
    app = build_application(settings, NoDetector())
    async with running(app):
        without_the_start_sync(app)
        chat = emu.group(GROUP, "Coordinators", forum=forum)
        team = Team(
            emu, app.bot_data["services"], emu.user(ADMIN, "Aigerim"), emu.user(RANGER, "Serik"), chat, app
        )
        await team.say(team.admin, "/register en", team.group)
        await team.invite(team.ranger)
        yield team


def without_the_start_sync(app: Application) -> None:
    """The tests run the repair passes themselves (`sync`) and count what each one tries. The bot's own
    pass 0.5 s after the start (handlers/__init__.py) fired, on a loaded machine, in the middle of
    them, after the summary was owed, and tried once more (3 map attempts for 2 passes). Taken out
    before any group is registered: if it has fired already, it found no group."""
    assert app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name("summary-sync-start"):
        job.schedule_removal()


@pytest.fixture
async def team(emu: BotApiEmulator, settings: Settings) -> AsyncIterator[Team]:
    async with started(emu, settings) as t:
        yield t


def app_of(team: Team) -> Application:
    app: Application = team.app
    return app


async def sync(team: Team) -> None:
    """One pass of the repair job, as it runs every few minutes: it sends summaries still owed."""
    app = app_of(team)
    assert app.job_queue is not None
    await app.job_queue.get_jobs_by_name("summary-sync")[0].run(app)


async def owe_summary(team: Team, chat_id: int = GROUP) -> None:
    """The seeded week ending now; the group's weekly summary was due an hour ago and is owed."""
    await seed_recent(team)
    due = datetime.now(UTC).astimezone(AQTAU) - timedelta(hours=1)
    svc = team.services
    await svc.groups.update(
        chat_id, summary_weekday=due.weekday(), summary_hour=due.hour, timezone="Asia/Aqtau"
    )
    await svc.db.execute(
        "UPDATE groups SET created_at = ? WHERE chat_id = ?", (iso(due - timedelta(days=30)), chat_id)
    )


def kinds(messages: list[Message]) -> list[str]:
    """What each summary message is, by its caption or text."""
    names = []
    for m in messages:
        body = m.get("caption") or m.get("text") or ""
        if m["method"] == "sendPhoto":
            names.append("map" if body.startswith("🗺") else "sheet" if body.startswith("🐆") else "photo?")
        elif m["method"] == "sendMessage":
            names.append("text" if "📊" in body else "message?")
        else:
            names.append("csv" if m["method"] == "sendDocument" else m["method"])
    return names


async def parts(team: Team, chat_id: int = GROUP) -> dict[str, str]:
    rows = await team.services.db.fetchall(
        "SELECT part, status FROM summary_parts WHERE chat_id = ?", (chat_id,)
    )
    return {r["part"]: r["status"] for r in rows}


async def logged(team: Team, chat_id: int = GROUP) -> int:
    return int(
        await team.services.db.scalar("SELECT COUNT(*) FROM summary_log WHERE chat_id = ?", (chat_id,))
    )


async def admin_notices(team: Team, like: str) -> list[str]:
    rows = await team.services.db.fetchall(
        "SELECT text FROM notices WHERE chat_id = ? AND dedup_key LIKE ?", (ADMIN, like)
    )
    return [r["text"] for r in rows]


async def test_group_that_forbids_files_gets_the_rest_once_and_admins_are_told_once(team: Team) -> None:
    emu = team.emu
    emu.fail_next(
        "sendDocument", 400, chat_id=GROUP,
        description="Bad Request: not enough rights to send documents to the chat", times=5,
    )  # fmt: skip
    await owe_summary(team)
    before = len(emu.sent(GROUP))
    await sync(team)
    assert kinds(emu.sent(GROUP)[before:]) == ["map", "text", "sheet"]
    assert await parts(team) == {"map": "sent", "text": "sent", "sheet": "sent", "csv": "refused"}
    assert await logged(team) == 1  # delivered: the CSV cannot be, and is not owed
    [notice] = await admin_notices(team, "summary-refused:%")
    assert "CSV file" in notice and "not enough rights to send documents" in notice.lower()
    # The next repair passes send nothing more, not even the refused CSV.
    await sync(team)
    await sync(team)
    assert kinds(emu.sent(GROUP)[before:]) == ["map", "text", "sheet"]
    assert len([c for c in emu.calls_of("sendDocument") if c["chat_id"] == GROUP]) == 1
    assert len(await admin_notices(team, "summary-refused:%")) == 1
    # The notice reaches the admin's private chat, once.
    await team.services.notices.drain(app_of(team).bot)
    told = [m for m in emu.sent(ADMIN) if "refused" in (m.get("text") or "")]
    assert len(told) == 1 and "Coordinators" in told[0]["text"]


async def test_summary_stopped_by_a_network_error_resumes_without_resending_the_map(team: Team) -> None:
    emu = team.emu
    await owe_summary(team)
    emu.fail_next("sendMessage", 502, chat_id=GROUP)  # Telegram's gateway fails the text
    before = len(emu.sent(GROUP))
    await sync(team)
    assert kinds(emu.sent(GROUP)[before:]) == ["map"]
    assert await parts(team) == {"map": "sent"} and await logged(team) == 0
    await sync(team)  # the next repair pass: the rest of it, from the failed part on
    assert kinds(emu.sent(GROUP)[before:]) == ["map", "text", "sheet", "csv"]
    assert await parts(team) == {"map": "sent", "text": "sent", "sheet": "sent", "csv": "sent"}
    assert await logged(team) == 1
    await sync(team)
    assert kinds(emu.sent(GROUP)[before:]) == ["map", "text", "sheet", "csv"]
    assert await admin_notices(team, "summary-%") == []  # a passing network error is no news for admins


# --- forum topics ---------------------------------------------------------------------------------


@pytest.fixture
async def forum(emu: BotApiEmulator, settings: Settings) -> AsyncIterator[tuple[Team, int]]:
    """A forum group registered in its "Leopards" topic; yields the team and that topic's thread id."""
    async with started(emu, settings, forum=True) as team:
        thread = await emu.create_topic(team.group, "Leopards", by=team.admin)
        await in_topic(team, team.admin, "/register en", thread, 1)
        group = await team.services.groups.get(GROUP)
        assert group is not None and group.thread_id == thread
        yield team, thread


async def in_topic(team: Team, who: Any, text: str, thread: int | None, replies: int) -> list[Message]:
    """Send text in a topic (None: General) and return the bot's next `replies` messages in the group."""
    before = len(team.emu.sent(GROUP))
    await team.emu.send_text(who, text, team.group, thread_id=thread)
    return (await team.emu.wait_sent(GROUP, before + replies, timeout=20))[before:]


async def test_summaries_go_to_the_registered_topic_and_week_answers_where_asked(
    forum: tuple[Team, int],
) -> None:
    team, thread = forum
    emu = team.emu
    await owe_summary(team)
    before = len(emu.sent(GROUP))
    await sync(team)
    weekly = emu.sent(GROUP)[before:]
    assert kinds(weekly) == ["map", "text", "sheet", "csv"]
    assert [m.get("message_thread_id") for m in weekly] == [thread] * 4
    sent_to = [c.get("message_thread_id") for c in emu.calls_of("sendPhoto") if c["chat_id"] == GROUP]
    assert sent_to[-2:] == [thread, thread]
    # /week asked in another topic is answered there, and asked in General, in General.
    talk = await emu.create_topic(team.group, "Talk", by=team.ranger)
    answer = await in_topic(team, team.ranger, "/week", talk, 4)
    assert kinds(answer) == ["map", "text", "sheet", "csv"]
    assert [m.get("message_thread_id") for m in answer] == [talk] * 4
    answer = await in_topic(team, team.ranger, "/week", None, 4)
    assert [m.get("message_thread_id") for m in answer] == [None] * 4


async def test_deleted_topic_falls_back_to_general_and_admins_are_told_once(forum: tuple[Team, int]) -> None:
    team, thread = forum
    emu = team.emu
    emu.delete_topic(team.group, thread)
    await owe_summary(team)
    before = len(emu.sent(GROUP))
    await sync(team)
    weekly = emu.sent(GROUP)[before:]
    assert kinds(weekly) == ["map", "text", "sheet", "csv"]
    assert [m.get("message_thread_id") for m in weekly] == [None] * 4  # General
    group = await team.services.groups.get(GROUP)
    assert group is not None and group.thread_id is None  # later alerts and summaries: General at once
    assert await logged(team) == 1
    [notice] = await admin_notices(team, f"topic-gone:{GROUP}:%")
    assert "General" in notice


async def test_closed_general_keeps_the_summary_owed_and_tells_admins_once(
    emu: BotApiEmulator, settings: Settings
) -> None:
    async with started(emu, settings, forum=True) as team:  # registered in General
        emu.close_general(team.group)
        await owe_summary(team)
        before = len(emu.sent(GROUP))
        await sync(team)
        await sync(team)
        assert emu.sent(GROUP)[before:] == [] and await logged(team) == 0
        assert len([c for c in emu.calls_of("sendPhoto") if c["chat_id"] == GROUP]) == 2  # retried
        [notice] = await admin_notices(team, "summary-general-closed:%")
        assert "General" in notice and "closed" in notice
        emu.reopen_general({"id": GROUP})  # an admin reopens General
        await sync(team)
        assert kinds(emu.sent(GROUP)[before:]) == ["map", "text", "sheet", "csv"]
        assert await logged(team) == 1


# --- the group changes: migration, kicked bot, deleted chat ----------------------------------------

BASIC = -555_0002  # a basic group: only these migrate (to a new -100… supergroup id)


async def test_group_upgraded_to_a_supergroup_keeps_its_schedule_and_owed_summary(team: Team) -> None:
    emu, svc = team.emu, team.services
    basic = emu.group(BASIC, "Field team", supergroup=False)
    await team.say(team.admin, "/register en", basic)
    await owe_summary(team, BASIC)
    await svc.groups.update(BASIC, trusted=1)
    old = await svc.groups.get(BASIC)
    assert old is not None
    # The bot was offline when it happened: it learns of the new id only from the 400 on sending.
    new_chat = await emu.migrate_group(basic, announce=False)
    new_id = new_chat["id"]
    await sync(team)
    assert kinds(emu.sent(new_id)) == ["map", "text", "sheet", "csv"]
    assert await svc.groups.get(BASIC) is None
    moved = await svc.groups.get(new_id)
    assert moved is not None and moved.active and moved.trusted
    assert (moved.timezone, moved.language) == (old.timezone, old.language)
    assert await logged(team, new_id) == 1 and await parts(team, new_id) == {
        "map": "sent", "text": "sent", "sheet": "sent", "csv": "sent",
    }  # fmt: skip
    jq = app_of(team).job_queue
    assert jq is not None
    assert not jq.get_jobs_by_name(f"summary:{BASIC}")
    (job,) = jq.get_jobs_by_name(f"summary:{new_id}")
    row = await svc.db.fetchone(
        "SELECT summary_weekday, summary_hour FROM groups WHERE chat_id = ?", (new_id,)
    )
    assert job.data == (row["summary_weekday"], row["summary_hour"], "Asia/Aqtau")
    # Sent once: the next pass finds nothing owed at either id.
    await sync(team)
    assert len(emu.sent(new_id)) == 4


@pytest.mark.parametrize("how", ["kicked", "deleted"])
async def test_group_the_bot_cannot_reach_is_deactivated_with_one_admin_notice(team: Team, how: str) -> None:
    emu, svc = team.emu, team.services
    await owe_summary(team)
    if how == "kicked":
        emu.block_chat(GROUP)  # 403 "bot was kicked", the my_chat_member update lost (bot offline)
    else:
        emu.delete_chat(team.group)  # 400 "chat not found"
    await sync(team)
    group = await svc.groups.get(GROUP)
    assert group is not None and not group.active
    reason = await svc.db.scalar("SELECT inactive_reason FROM groups WHERE chat_id = ?", (GROUP,))
    assert ("kicked" if how == "kicked" else "chat not found") in reason.lower()
    jq = app_of(team).job_queue
    assert jq is not None and not jq.get_jobs_by_name(f"summary:{GROUP}")
    calls = len(emu.calls)
    await sync(team)
    assert len(emu.calls) == calls  # nothing more is tried there
    rows = await svc.db.fetchall(
        "SELECT text FROM notices WHERE chat_id = ? AND text LIKE ?", (ADMIN, "%no longer receives%")
    )
    assert len(rows) == 1
