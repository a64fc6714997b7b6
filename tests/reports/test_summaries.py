"""Weekly summaries: numbers from a seeded database, rendering, precision, and the weekly schedule."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.config import Settings
from bot.people import Group
from bot.reports import last_occurrence, week_before
from bot.reports.summary import build_summary
from bot.reports.summary_view import render_summary
from handlers import summaries as handlers_summaries
from storage.db import Database, iso
from tests.conftest import GROUP, Team
from tests.support.sightings_world import AQTAU, BASE, seed, seed_recent


def group(trusted: bool = False, areas: tuple[str, ...] = ()) -> Group:
    return Group(GROUP, "Coordinators & co", "en", "Asia/Aqtau", trusted, not areas, areas, True)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "s.sqlite3") as database:
        await seed(database)
        yield database


async def test_summary_numbers_match_the_seeded_database(db: Database) -> None:
    s = await build_summary(db, group(), BASE, BASE + timedelta(days=7), settings=Settings())
    c, p = s.current, s.previous
    assert (c.leopards, c.confirmed, c.unconfirmed, c.rejected) == (5, 3, 1, 1)
    assert (c.photos, c.active_stations) == (8, 2)
    assert (p.leopards, p.confirmed, p.photos, p.active_stations) == (1, 1, 2, 1)
    assert s.late == 1
    assert [(a.key, a.confirmed, a.unconfirmed, a.rejected) for a in s.by_area] == [
        ("KZS", 1, 0, 1), ("UST", 2, 0, 0), ("", 0, 1, 0),
    ]  # fmt: skip
    assert [(x.key, x.total) for x in s.by_station] == [("KZS-01", 2), ("UST-01", 1)]
    assert [e.id for e in s.events] == [1, 3, 4, 5, 7] and s.events[0].photos == 2
    assert [(m.a.id, m.b.id, m.move.plausible) for m in s.moves] == [(1, 3, False), (3, 4, False)]
    assert 100 < s.moves[0].move.distance_km < 115 and s.moves[0].move.hours == pytest.approx(48)
    assert s.rangers == [("Serik", 6), ("Aigerim <b>", 2)]
    assert [st.code for st in s.new_stations] == ["UST-03"]
    assert [(x.code, x.last_seen) for x in s.silent] == [
        ("KZS-02", None),
        ("UST-02", BASE - timedelta(days=30)),
    ]


async def test_group_following_some_areas_sees_them_and_unknown_places(db: Database) -> None:
    s = await build_summary(db, group(areas=("UST",)), BASE, BASE + timedelta(days=7), settings=Settings())
    assert (s.current.leopards, s.current.confirmed, s.current.unconfirmed, s.current.photos) == (3, 2, 1, 6)
    assert [m.move.plausible for m in s.moves] == [True]  # UST-01 -> 7 km away, three days later
    assert [x.code for x in s.silent] == ["UST-02"]
    assert {a.key for a in s.by_area} == {"UST", ""}


async def test_rendered_summary_is_short_html_and_hides_coordinates_from_untrusted(db: Database) -> None:
    period = (BASE, BASE + timedelta(days=7))
    untrusted = render_summary(await build_summary(db, group(), *period, settings=Settings()), "en", AQTAU)
    trusted = render_summary(await build_summary(db, group(True), *period, settings=Settings()), "en", AQTAU)
    for text in (untrusted, trusted):
        assert len(text) < 4096
        assert "Leopard sightings: <b>5</b> (+4" in text
        assert "Aigerim &lt;b&gt;: 2" in text and "Coordinators &amp; co" in text
        # [05:00+05, 05:00+05 a week later): not whole days, so the hours are shown
        # (summary_view.period_bounds).
    assert "2025-03-03 05:00 – 2025-03-10 05:00 (7 days, Asia/Aqtau)" in text
    assert "KZS-02: no photos yet" in trusted and "UST-02: last photo 2025-02-01" in trusted
    assert "New stations (1): UST-03" in trusted
    assert "43.250, 51.850" in trusted  # a trusted group may see where an off-station leopard was
    assert not re.search(r"\d{2}\.\d{2}", untrusted)  # no coordinates in any form, only areas
    assert "→ #4 UST:" in untrusted
    # Nor station codes: with the station list they are exact places (tests/test_untrusted_readers.py).
    assert not re.search(r"(UST|KZS)-\d", untrusted)
    assert "KZS: 1 station(s)" in untrusted and "New stations (1), areas: UST" in untrusted


async def test_long_summary_is_trimmed_to_telegram_limit(db: Database) -> None:
    s = await build_summary(db, group(), BASE, BASE + timedelta(days=7), settings=Settings())
    many = [(f"Ranger {'x' * 300} {i}", i) for i in range(40)]
    text = render_summary(replace(s, rangers=many), "en", AQTAU)
    assert len(text) <= 4096 and "… and 32 more" in text


# --- the bot: /week, the schedule, the scheduled job ----------------------------------------------------


def _documents(team: Team, after: int) -> list[dict]:
    return [m for m in team.emu.sent(GROUP)[after:] if m["method"] == "sendDocument"]


async def test_week_command_sends_map_text_contact_sheet_and_csv(bot_team: tuple[object, Team]) -> None:
    _, team = bot_team
    await seed_recent(team)
    before = len(team.emu.sent(GROUP))
    await team.emu.send_text(team.ranger, "/week", team.group)  # anyone in a registered group may ask
    sent = (await team.emu.wait_sent(GROUP, before + 4, timeout=20))[before:]
    assert [m["method"] for m in sent] == ["sendPhoto", "sendMessage", "sendPhoto", "sendDocument"]
    png = team.emu.file_bytes(sent[0]["photo"][-1]["file_id"])
    assert Image.open(io.BytesIO(png)).size == (1000, 800)
    assert "Leopard sightings: 5" in sent[1]["text"] and "43.25" not in sent[1]["text"]
    assert "Leopard photos" in sent[2]["caption"]
    # The CSV: the photos taken in the period (7 of the seeded ones), places rounded for this group.
    assert sent[3]["document"]["file_name"].endswith(".csv") and "rounded to ~10 km" in sent[3]["caption"]
    rows = list(
        csv.DictReader(io.StringIO(team.emu.file_bytes(sent[3]["document"]["file_id"]).decode("utf-8-sig")))
    )
    assert len(rows) == 7 and ": 7." in sent[3]["caption"]
    lats = [r["decimalLatitude"] for r in rows]  # a Darwin Core table (bot/reports/exports/occurrence.py)
    assert all(lat == "" or len(lat.split(".")[1]) == 4 for lat in lats)
    assert "43.2500" not in lats  # the untrusted group does not get #4's exact place
    # A group that follows only the KZS area gets KZS photos and those of unknown area (as its alerts).
    await team.services.groups.set_areas(GROUP, ["KZS"])
    before = len(team.emu.sent(GROUP))
    await team.emu.send_text(team.ranger, "/week", team.group)
    await team.emu.wait_for(lambda: _documents(team, before) != [], timeout=20)
    [doc] = _documents(team, before)  # no contact sheet this time: those two photos are not stored
    kzs = list(
        csv.DictReader(io.StringIO(team.emu.file_bytes(doc["document"]["file_id"]).decode("utf-8-sig")))
    )
    assert sorted((r["sightingID"], r["area"]) for r in kzs) == [("3", "KZS"), ("5", "KZS"), ("7", "")]


async def test_weekly_job_fires_at_group_local_time_and_sends_summary(bot_team: tuple[object, Team]) -> None:
    app, team = bot_team
    svc, jq = team.services, app.job_queue  # type: ignore[attr-defined]
    await jq.get_jobs_by_name("summary-sync")[0].run(app)  # the repair job builds the missing schedule
    (job,) = jq.get_jobs_by_name(f"summary:{GROUP}")
    assert job.data == (0, 9, "Asia/Aqtau")  # defaults: Monday 09:00 in the group's zone
    # Time travel: from New Year's Day 2025 (a Wednesday) the next run is Monday 6 January, 09:00 in
    # Aqtau (UTC+5), i.e. 04:00 UTC; and from just after it, a week later.
    trigger = job.job.trigger
    assert trigger.get_next_fire_time(None, datetime(2025, 1, 1, tzinfo=UTC)) == datetime(
        2025, 1, 6, 4, tzinfo=UTC
    )
    assert trigger.get_next_fire_time(None, datetime(2025, 1, 6, 4, 0, 1, tzinfo=UTC)) == datetime(
        2025, 1, 13, 4, tzinfo=UTC
    )
    now = datetime.now(UTC).astimezone(AQTAU)
    expected = (now + timedelta(days=(7 - now.weekday()) % 7)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    expected += timedelta(days=7) if expected <= now else timedelta(0)
    assert job.next_t == expected and job.next_t.astimezone(UTC).hour == 4
    # Per-group settings: Friday 18:00 in Moscow (UTC+3) is 15:00 UTC.
    await svc.groups.update(GROUP, summary_weekday=4, summary_hour=18, timezone="Europe/Moscow")
    await jq.get_jobs_by_name("summary-sync")[0].run(app)
    (job,) = jq.get_jobs_by_name(f"summary:{GROUP}")  # replaced, not added
    assert job.job.trigger.get_next_fire_time(None, datetime(2025, 1, 1, tzinfo=UTC)) == datetime(
        2025, 1, 3, 15, tzinfo=UTC
    )
    # Running the job sends the last seven whole local days to the group.
    await svc.groups.update(GROUP, timezone="Asia/Aqtau")
    await seed_recent(team)
    before = len(team.emu.sent(GROUP))
    await job.run(app)
    sent = team.emu.sent(GROUP)[before:]
    assert [m["method"] for m in sent][:2] == ["sendPhoto", "sendMessage"]
    assert "Leopard sightings" in sent[1]["text"]


def test_ptb_weekday_mapping() -> None:
    # PTB >= 20: run_daily days are 0 = Sunday .. 6 = Saturday; ours are Python's, 0 = Monday.
    assert [handlers_summaries.ptb_day(d) for d in range(7)] == [1, 2, 3, 4, 5, 6, 0]
    start, end = week_before(datetime(2025, 3, 10, 4, tzinfo=UTC), AQTAU, 7)
    assert (start, end) == (datetime(2025, 3, 2, 19, tzinfo=UTC), datetime(2025, 3, 9, 19, tzinfo=UTC))


def test_on_demand_period_includes_the_current_second() -> None:
    # Stored times have whole seconds and periods end exclusively: a photo recorded in the same second
    # as /week must still count (the demo hit this: its /week came within a second of the last photo).
    for micro in (0, 400_000, 999_999):
        now = datetime(2026, 11, 25, 13, 25, 39, micro, tzinfo=UTC)
        start, end = handlers_summaries.up_to_now(now, 7)
        assert iso(start) <= iso(now) < iso(end)
        assert end - start == timedelta(days=7)


def test_last_occurrence_is_the_latest_scheduled_time_not_after_now() -> None:
    monday_9 = datetime(2025, 3, 10, 4, tzinfo=UTC)  # Monday 09:00 in Aqtau (UTC+5)
    assert last_occurrence(0, 9, AQTAU, monday_9) == monday_9
    assert last_occurrence(0, 9, AQTAU, monday_9 - timedelta(seconds=1)) == monday_9 - timedelta(days=7)
    assert last_occurrence(0, 9, AQTAU, monday_9 + timedelta(days=2)) == monday_9
    # Friday 18:00 in Moscow (UTC+3), asked on the Sunday after.
    moscow = ZoneInfo("Europe/Moscow")
    assert last_occurrence(4, 18, moscow, datetime(2025, 3, 9, 12, tzinfo=UTC)) == datetime(
        2025, 3, 7, 15, tzinfo=UTC
    )


async def _due_an_hour_ago(team: Team) -> None:
    """The group's weekly summary was due an hour ago, and the group existed long before."""
    svc = team.services
    due = datetime.now(UTC).astimezone(AQTAU) - timedelta(hours=1)
    await svc.groups.update(
        GROUP, summary_weekday=due.weekday(), summary_hour=due.hour, timezone="Asia/Aqtau"
    )
    await svc.db.execute(
        "UPDATE groups SET created_at = ? WHERE chat_id = ?", (iso(due - timedelta(days=30)), GROUP)
    )


def _summaries(team: Team) -> list[str]:
    return [m["text"] for m in team.emu.sent(GROUP) if m["method"] == "sendMessage" and "📊" in m["text"]]


async def test_summary_missed_while_the_bot_was_down_is_sent_once(bot_team: tuple[object, Team]) -> None:
    app, team = bot_team
    await seed_recent(team)
    await _due_an_hour_ago(team)  # ... and the bot was not running then
    sync = app.job_queue.get_jobs_by_name("summary-sync")[0]  # type: ignore[attr-defined]
    await sync.run(app)
    assert len(_summaries(team)) == 1
    # Neither the next repair pass nor the weekly job (say it fires late) sends it again.
    await sync.run(app)
    (weekly,) = app.job_queue.get_jobs_by_name(f"summary:{GROUP}")  # type: ignore[attr-defined]
    await weekly.run(app)
    assert len(_summaries(team)) == 1


async def test_summary_lost_to_a_network_error_is_retried(bot_team: tuple[object, Team]) -> None:
    app, team = bot_team
    sync = app.job_queue.get_jobs_by_name("summary-sync")[0]  # type: ignore[attr-defined]
    await sync.run(app)  # builds the weekly job; nothing is owed to a group registered just now
    assert _summaries(team) == []
    await seed_recent(team)
    await _due_an_hour_ago(team)
    team.emu.fail_next("sendPhoto", 502, chat_id=GROUP)  # Telegram's gateway fails the map upload
    (weekly,) = app.job_queue.get_jobs_by_name(f"summary:{GROUP}")  # type: ignore[attr-defined]
    await weekly.run(app)
    assert _summaries(team) == []
    await sync.run(app)  # the next repair pass (every few minutes) finds it owed
    assert len(_summaries(team)) == 1
    assert len([c for c in team.emu.calls_of("sendPhoto") if c["chat_id"] == GROUP]) >= 2  # failed + sent
