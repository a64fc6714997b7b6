"""Periods read the way people count days, and captions say which time put a photo into the period.

One rule (bot/reports/summary_view.py: period_bounds): a period shows its first and its last day, both
included; a bound inside a day carries its time. So the weekly summary of Monday 7 December covers
"2026-11-30 – 2026-12-06 (7 days)", and /week, up to now, shows the hours it starts and ends at.
Captions say "by the time taken" only for photos with a camera's clock (sightings.time_source)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.people import Group
from bot.reports import period_bounds, render_parts, time_basis, week_before
from bot.reports.exports import count_received_only, count_taken
from bot.reports.summary import build_summary
from bot.reports.summary_view import render_summary
from bot.text import LANGUAGES, t
from handlers.summaries import up_to_now
from storage.db import Database
from storage.photos import PhotoStore
from tests.conftest import GROUP
from tests.support.sightings_world import seed

AQTAU = ZoneInfo("Asia/Aqtau")
# The seeded week as whole local days: Monday 3 March .. Sunday 9 March 2025 in Asia/Aqtau.
WEEK = week_before(datetime(2025, 3, 10, 9, tzinfo=AQTAU), AQTAU)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "p.sqlite3") as database:
        await seed(database)
        yield database


def group(lang: str) -> Group:
    return Group(GROUP, "Coordinators", lang, "Asia/Aqtau", True, True, (), True)


def test_a_week_of_whole_days_ends_on_its_last_day() -> None:
    # The week: Monday 30 November up to (not including) Monday 7 December.
    start, end = week_before(datetime(2026, 12, 7, 9, tzinfo=AQTAU), AQTAU)
    assert period_bounds(start, end, AQTAU) == ("2026-11-30", "2026-12-06")


def test_a_period_up_to_now_shows_the_hours_it_spans() -> None:
    now = datetime(2026, 12, 7, 5, 15, 30, tzinfo=UTC)  # 10:15 in Aqtau
    first, last = period_bounds(*up_to_now(now, 7), AQTAU)
    # Seven times 24 hours: from 10:15 a week ago to 10:15 now, not "11-30 – 12-07" as if 8 whole days.
    assert (first, last) == ("2026-11-30 10:15", "2026-12-07 10:15")


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_summary_title_counts_days_as_people_do(db: Database, lang: str) -> None:
    summary = await build_summary(db, group(lang), *WEEK, settings=Settings())
    title = render_summary(summary, lang, AQTAU).splitlines()[1]
    assert title.startswith("2025-03-03 – 2025-03-09 (7 "), title


async def _csv_caption(db: Database, tmp_path: Path, lang: str) -> str:
    parts = await render_parts(
        db, PhotoStore(tmp_path), Settings(), group(lang), *WEEK, skip={"map", "sheet", "text"}
    )
    (csv_part,) = [p for p in parts if p.name == "csv"]
    return csv_part.text


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_csv_caption_says_received_where_the_time_is_a_receipt_time(
    db: Database, tmp_path: Path, lang: str
) -> None:
    await db.execute("UPDATE sightings SET time_source = 'exif_original'")
    caption = await _csv_caption(db, tmp_path, lang)
    assert t(lang, "period.by_taken") in caption and "2025-03-03 – 2025-03-09" in caption
    # Every photo of the week dated only by when it arrived (the case): no "taken" at all.
    await db.execute("UPDATE sightings SET time_source = 'telegram_receipt'")
    caption = await _csv_caption(db, tmp_path, lang)
    assert t(lang, "period.by_received") in caption
    assert t(lang, "period.by_taken") not in caption
    if lang == "en":
        assert "taken" not in caption.replace("when taken is not known", "")
    # Some of each: the caption counts the ones known only by their receipt.
    await db.execute("UPDATE sightings SET time_source = 'exif_original' WHERE id IN (1, 2, 3)")
    caption = await _csv_caption(db, tmp_path, lang)
    rows = int(re.findall(r": (\d+)\.", caption)[0]) if lang != "kk" else None
    received = await count_received_only(db, *WEEK)
    assert t(lang, "period.by_mixed", received=received) in caption
    assert rows is None or rows == await count_taken(db, *WEEK)


async def test_counting_receipt_times_follows_the_time_sources(db: Database) -> None:
    await db.execute("UPDATE sightings SET time_source = NULL")
    assert await count_received_only(db, *WEEK) == 0  # nothing recorded: counted with the camera's
    await db.execute("UPDATE sightings SET time_source = 'mail_received' WHERE id IN (1, 2)")
    await db.execute("UPDATE sightings SET time_source = 'maker_note' WHERE id = 3")
    assert await count_received_only(db, *WEEK) == 2
    assert await count_received_only(db, WEEK[0] + timedelta(days=30), None) == 0


@pytest.mark.parametrize("lang", LANGUAGES)
def test_time_basis_words_each_source(lang: str) -> None:
    assert time_basis(lang, 5, 0) == t(lang, "period.by_taken")
    assert time_basis(lang, 5, 5) == t(lang, "period.by_received")
    assert time_basis(lang, 5, 2) == t(lang, "period.by_mixed", received=2)
    assert len({time_basis(lang, 5, n) for n in (0, 2, 5)}) == 3
