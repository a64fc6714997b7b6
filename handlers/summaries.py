"""/week, /month and /export, and each group's scheduled weekly summary.

The commands are registered in handler group -1 (handlers/__init__.py) and end the update's processing
there (handlers/common.py final), so they work whatever order the catch-all handlers (e.g. "unknown
command" in private chats) were added in. The sync job is scheduled there too (schedule_jobs).

Scheduling: one PTB job per active group, "summary:<chat_id>", at the group's weekday/hour
(groups.summary_weekday/summary_hour, else LW_SUMMARY_WEEKDAY/LW_SUMMARY_HOUR) in the group's own
time zone. A sync job builds them at start-up and repairs them every few minutes, so a group that
registers or changes /settings is picked up without other code calling in; reschedule() does it at once.
The sync job also sends summaries still owed (bot down at the time, Telegram unreachable): see
bot/reports/schedule.py; summary_log keeps each from going out twice. Sending, part by part, and what
Telegram's errors mean for a group (migrated, topic gone, bot kicked) is bot/botapi/summaries.py; here
the jobs follow the group: a migrated group's job moves to its new id, a deactivated group's is removed.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from telegram import Message, Update
from telegram.error import NetworkError
from telegram.ext import ContextTypes, Job, JobQueue

from bot.botapi import Outcome, deliver
from bot.people import Group
from bot.reports import last_occurrence, mark_sent, owed, time_basis, was_sent, week_before
from bot.reports.exports import EXTENSIONS, FORMATS, ExportOptions, count_received_only, count_taken, export
from bot.services import Services, services
from bot.text import t
from handlers.common import Handler, reader, registered_group
from handlers.runtime import Runtime

log = logging.getLogger(__name__)

WEEK, MONTH, EXPORT_DAYS = 7, 30, 30
SYNC_INTERVAL = 300.0  # seconds between schedule repairs
Spec = tuple[int, int, str]  # weekday (0 = Monday), hour, time zone


def ptb_day(weekday: int) -> int:
    """Our weekdays are Python's (0 = Monday); PTB >= 20 run_daily counts 0 = Sunday."""
    return (weekday + 1) % 7


def up_to_now(now: datetime, days: int) -> tuple[datetime, datetime]:
    """The last `days` days up to this moment, for /week and /month.

    Times are stored to the second and periods end exclusively, so the end is rounded *up* to the next
    whole second: a photo recorded in the same second as the command still counts.
    """
    end = now.replace(microsecond=0) + timedelta(seconds=1)
    return end - timedelta(days=days), end


def _on_demand(days: int) -> Handler:
    @registered_group
    async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, msg = update.effective_chat, update.effective_message
        assert chat is not None and msg is not None
        svc = services(context)
        group = await svc.groups.get(chat.id)
        assert group is not None
        # Answer where it was asked; message_thread_id alone is also set on replies outside forums.
        thread = msg.message_thread_id if msg.is_topic_message else None
        start, end = up_to_now(datetime.now(UTC), days)
        outcome = await deliver(context.bot, svc, group, start, end, thread_id=thread, weekly=False)
        await follow_group(context, group.chat_id, outcome)

    return command


week_command, month_command = _on_demand(WEEK), _on_demand(MONTH)


# A bot uploads at most 50 MB per file (sendDocument's docs; over it Telegram answers 413).
UPLOAD_LIMIT = 50 * 1024 * 1024
FIRST_DAY = date(2000, 1, 1)  # before any camera trap of the project; far dates overflow datetime sums
AHEAD = timedelta(days=366)  # "until" may run a little into the future (a planned season's end)


def parse_export_args(args: list[str], zone: ZoneInfo, now: datetime) -> tuple[str, date, date] | None:
    """[format] [since DATE] [until DATE]; bare dates fill since then until; both days inclusive.
    "csv;" (or "csv ;") asks for the ";"-separated CSV that Excel expects under Russian/Kazakh settings.
    None (the usage) for anything else: an unknown word, a date outside FIRST_DAY .. today + a year
    (0001-01-01 and 9999-12-31 overflow the period's arithmetic), a word given twice, since after until."""
    today = now.astimezone(zone).date()
    fmt, found, pending = "csv", {}, None
    for arg in args:
        word = arg.lower()
        if word in (";", "csv;"):
            fmt = "csv;"
        elif word in FORMATS:
            fmt = word
        elif word in ("since", "from", "until", "to") and pending is None:
            pending = "since" if word in ("since", "from") else "until"
        else:
            day = _day(arg, today)
            slot = pending or ("until" if "since" in found else "since")
            if day is None or slot in found:
                return None
            found[slot] = day
            pending = None
    if pending is not None:  # "since" with no date after it
        return None
    until = found.get("until", today)
    since = found.get("since", max(FIRST_DAY, until - timedelta(days=EXPORT_DAYS - 1)))
    return (fmt, since, until) if since <= until else None


def _day(text: str, today: date) -> date | None:
    """An ISO date (YYYY-MM-DD, ASCII digits) within FIRST_DAY .. today + AHEAD, else None."""
    if not text.isascii():  # a date people type is ASCII; anything else is not worth parsing
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= today + AHEAD else None


async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, chat, user = update.effective_message, update.effective_chat, update.effective_user
    assert msg is not None and chat is not None and user is not None
    svc = services(context)
    audience = await reader(update, context)  # exact only for a trusted group or an admin in private
    lang, zone = audience.lang, audience.zone
    parsed = parse_export_args(context.args or [], zone, datetime.now(UTC))
    if parsed is None:
        await msg.reply_text(t(lang, "export.usage"))
        return
    fmt, since_day, until_day = parsed
    exact = audience.exact
    since = datetime.combine(since_day, time(0), tzinfo=zone).astimezone(UTC)
    until = datetime.combine(until_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    grid = svc.settings.untrusted_grid_km
    opts = ExportOptions.from_settings(svc.settings, delimiter=";" if fmt == "csv;" else ",")
    fmt = fmt.rstrip(";")
    data = await export(svc.db, fmt, since, until, exact=exact, grid_km=grid, options=opts)
    rows = await count_taken(svc.db, since, until)
    basis = time_basis(lang, rows, await count_received_only(svc.db, since, until))
    precision = t(lang, "export.exact") if exact else t(lang, "export.rounded", grid=f"{grid:g}")
    caption = t(lang, "export.caption_by", fmt=fmt, since=since_day, until=until_day, rows=rows, basis=basis,
                precision=precision)  # fmt: skip
    name = f"leopard-watch_{since_day}_{until_day}.{EXTENSIONS[fmt]}"
    build = _builder(svc, zone, exact, opts)
    if len(data) > UPLOAD_LIMIT:
        await _refuse_big_export(msg, lang, len(data), fmt, since_day, until_day, build)
        return
    try:
        await msg.reply_document(io.BytesIO(data), filename=name, caption=caption)
    except NetworkError as exc:  # 413: the upload counted bigger than the file (multipart, a lower cap)
        if "too large" not in str(exc).lower():
            raise
        await _refuse_big_export(msg, lang, len(data), fmt, since_day, until_day, build)


Build = Callable[[str, date, date], Awaitable[int]]


def _builder(svc: Services, zone: ZoneInfo, exact: bool, opts: ExportOptions) -> Build:
    """The size of the export of `fmt` for these days, with the same precision and options."""

    async def size(fmt: str, since_day: date, until_day: date) -> int:
        since = datetime.combine(since_day, time(0), tzinfo=zone).astimezone(UTC)
        until = datetime.combine(until_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        grid = svc.settings.untrusted_grid_km
        return len(await export(svc.db, fmt, since, until, exact=exact, grid_km=grid, options=opts))

    return size


async def _refuse_big_export(
    msg: Message, lang: str, size: int, fmt: str, since_day: date, until_day: date, build: Build
) -> None:
    """An export a bot may not upload: its size and the cap, and an export that fits, found by trying
    the other formats for the same days, then the same format for fewer days (the latest ones)."""
    lines = [t(lang, "export.too_big", size=_size(size), limit=_size(UPLOAD_LIMIT))]
    fitting = await _fitting(fmt, since_day, until_day, build)
    if fitting is None:
        lines.append(t(lang, "export.nothing_fits"))
    else:
        other, since, until, fits = fitting
        command = f"/export {other} since {since} until {until}"
        lines.append(t(lang, "export.try_instead", command=command, size=_size(fits)))
    await msg.reply_text("\n".join(lines))


async def _fitting(
    fmt: str, since_day: date, until_day: date, build: Build
) -> tuple[str, date, date, int] | None:
    for other in (f for f in FORMATS if f != fmt):
        size = await build(other, since_day, until_day)
        if size <= UPLOAD_LIMIT:
            return other, since_day, until_day, size
    days = (until_day - since_day).days + 1
    while days > 1:
        days //= 2
        since = until_day - timedelta(days=days - 1)
        size = await build(fmt, since, until_day)
        if size <= UPLOAD_LIMIT:
            return fmt, since, until_day, size
    return None


def _size(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.1f} MB"
    return f"{n / 2**10:.1f} KB" if n >= 2**10 else f"{n} B"


# --- the weekly schedule -------------------------------------------------------------------------


async def group_spec(svc: Services, chat_id: int) -> Spec | None:
    return await svc.groups.summary_spec(chat_id, svc.settings.summary_weekday, svc.settings.summary_hour)


def schedule_group(job_queue: JobQueue, chat_id: int, spec: Spec) -> Job:
    """(Re)place the group's weekly job; the zone is the group's, so 09:00 means 09:00 there."""
    for old in job_queue.get_jobs_by_name(f"summary:{chat_id}"):
        old.schedule_removal()
    weekday, hour, zone = spec
    return job_queue.run_daily(
        weekly_summary,
        time=time(hour, tzinfo=ZoneInfo(zone)),
        days=(ptb_day(weekday),),
        name=f"summary:{chat_id}",
        chat_id=chat_id,
        data=spec,
    )


async def reschedule(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> Job | None:
    """Call after a group registers or changes its settings (the sync job would catch up later)."""
    assert context.job_queue is not None
    spec = await group_spec(services(context), chat_id)
    if spec is None:
        for old in context.job_queue.get_jobs_by_name(f"summary:{chat_id}"):
            old.schedule_removal()
        return None
    return schedule_group(context.job_queue, chat_id, spec)


async def sync_schedules(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Make the jobs match the groups table: one job per active group, at its current settings."""
    assert context.job_queue is not None
    svc = services(context)
    wanted = {g.chat_id: await group_spec(svc, g.chat_id) for g in await svc.groups.active()}
    for job in context.job_queue.jobs():
        if job.name and job.name.startswith("summary:") and job.chat_id not in wanted:
            job.schedule_removal()
    for chat_id, spec in wanted.items():
        current = context.job_queue.get_jobs_by_name(f"summary:{chat_id}")
        if spec is not None and (len(current) != 1 or current[0].data != spec):
            schedule_group(context.job_queue, chat_id, spec)
    # Summaries owed because the bot was down at the time, or Telegram could not be reached then.
    now = datetime.now(UTC)
    for chat_id, spec in wanted.items():
        if spec is None:
            continue
        occurrence = last_occurrence(spec[0], spec[1], ZoneInfo(spec[2]), now)
        if await owed(svc.db, chat_id, occurrence, now) and (group := await svc.groups.get(chat_id)):
            await deliver_weekly(context, group, occurrence)


async def weekly_summary(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    assert job is not None and job.chat_id is not None
    svc = services(context)
    group = await svc.groups.get(job.chat_id)
    spec = await group_spec(svc, job.chat_id)
    if group is None or not group.active or spec is None:
        job.schedule_removal()
        return
    occurrence = last_occurrence(spec[0], spec[1], group.zone, datetime.now(UTC))
    await deliver_weekly(context, group, occurrence)


async def deliver_weekly(context: ContextTypes.DEFAULT_TYPE, group: Group, occurrence: datetime) -> None:
    """The summary due at `occurrence`, once; what Telegram did not take yet stays owed for the sync job."""
    svc = services(context)
    start, end = week_before(occurrence, group.zone, WEEK)
    async with Runtime.of(context).summary_lock:  # the scheduled job and the sync job's catch-up: not both
        if await was_sent(svc.db, group.chat_id, start):
            return
        outcome = await deliver(context.bot, svc, group, start, end, thread_id=group.thread_id, weekly=True)
        if outcome.complete:
            await mark_sent(svc.db, outcome.chat_id, start)
        elif not outcome.gone:
            log.info("summary for chat %s owed; retrying within %ds", outcome.chat_id, SYNC_INTERVAL)
    await follow_group(context, group.chat_id, outcome)


async def follow_group(context: ContextTypes.DEFAULT_TYPE, chat_id: int, outcome: Outcome) -> None:
    """Keep the weekly job with the group: at its new id after a migration, none once it is gone."""
    if outcome.chat_id != chat_id or outcome.gone:
        await reschedule(context, chat_id)  # the old id has no active group now: its job goes
    if outcome.chat_id != chat_id:
        await reschedule(context, outcome.chat_id)
