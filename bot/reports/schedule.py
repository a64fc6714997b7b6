"""When a group's weekly summary is due, and whether it has gone out.

A group's summary is due at its weekday/hour in its own zone. The scheduled job normally sends it at
that moment; if the bot was down then, or Telegram could not be reached, the summary is still owed
and goes out at the next chance within CATCH_UP (the summary of a week that ended days ago is stale
news, and the next one is on its way). summary_log records the summaries delivered, so none goes
twice; summary_parts records each part (map, text, sheet, CSV) that arrived or was refused for good, so
a summary that failed halfway resumes at the first part still owed and its earlier parts are not sent
again (bot/botapi/summaries.py). A part Telegram refuses for good is skipped, not retried.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.db import Database, iso, parse_iso, utcnow

CATCH_UP = timedelta(days=2)


def last_occurrence(weekday: int, hour: int, zone: ZoneInfo, now: datetime) -> datetime:
    """The latest `weekday` (0 = Monday) at `hour`:00 local time that is not after `now`, in UTC."""
    local = now.astimezone(zone)
    for back in range(8):
        day = local.date() - timedelta(days=back)
        at = datetime.combine(day, time(hour), tzinfo=zone)
        if day.weekday() == weekday and at <= local:
            return at.astimezone(UTC)
    raise AssertionError("a weekday recurs within eight days")


def week_before(occurrence: datetime, zone: ZoneInfo, days: int = 7) -> tuple[datetime, datetime]:
    """The `days` whole local days before the occurrence's date: Monday's summary covers Mon..Sun."""
    today = occurrence.astimezone(zone).date()
    end = datetime.combine(today, time(0), tzinfo=zone)
    start = datetime.combine(today - timedelta(days=days), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


async def was_sent(db: Database, chat_id: int, period_start: datetime) -> bool:
    row = await db.fetchone(
        "SELECT 1 FROM summary_log WHERE chat_id = ? AND period_start = ?", (chat_id, iso(period_start))
    )
    return row is not None


async def mark_sent(db: Database, chat_id: int, period_start: datetime) -> None:
    await db.execute(
        "INSERT OR IGNORE INTO summary_log (chat_id, period_start, sent_at) VALUES (?, ?, ?)",
        (chat_id, iso(period_start), iso(utcnow())),
    )


async def owed(db: Database, chat_id: int, occurrence: datetime, now: datetime) -> bool:
    """A catch-up is owed for a recent occurrence the group existed for and that was not sent."""
    if now - occurrence > CATCH_UP:
        return False
    created = parse_iso(await db.scalar("SELECT created_at FROM groups WHERE chat_id = ?", (chat_id,)))
    return created is not None and created < occurrence


async def delivered_parts(db: Database, chat_id: int, period_start: datetime) -> set[str]:
    """The parts of a weekly summary already sent or refused for good: a retry skips them."""
    rows = await db.fetchall(
        "SELECT part FROM summary_parts WHERE chat_id = ? AND period_start = ?", (chat_id, iso(period_start))
    )
    return {r["part"] for r in rows}


async def record_part(
    db: Database, chat_id: int, period_start: datetime, part: str, status: str, error: str | None = None
) -> None:
    """A weekly summary's part is done with: "sent", or "refused" for good (with Telegram's reason)."""
    await db.execute(
        "INSERT OR REPLACE INTO summary_parts (chat_id, period_start, part, status, error, at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (chat_id, iso(period_start), part, status, error, iso(utcnow())),
    )
