"""Sending a summary to a group part by part, and what each Bot API failure means for it.

A summary is four messages: the map, the text, the contact sheet of the period's leopards and the
CSV (the last two only when there is something to show). For the weekly summary each part that
arrives, or that Telegram refuses for good (a group that forbids files), is recorded in summary_parts,
so a retry resumes at the first part still owed and a part already recorded is never sent again (only
a crash between Telegram's answer and the record can repeat one part); the summary is delivered when
every part is sent or refused, and a refused part is not retried. The failures (bot.botapi.errors)
are met as the alert outbox meets them: a migrated group is followed to its new id, a closed or
deleted topic falls back to General, a kicked bot or deleted chat deactivates the group, and the
admins are told once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.botapi.errors import Failure, Fate, classify
from bot.geo.points import round_point
from bot.people.groups import Group
from bot.people.notices import queue_admin_notice
from bot.reports.exports.records import ExportOptions, export_rows
from bot.reports.exports.tables import to_csv
from bot.reports.map_layers import MapMove, ProtectedAreasError, Shape, load_protected_areas
from bot.reports.maps import MapArea, MapPoint, MapStation, area_labels, contact_sheet, render_map
from bot.reports.summary import build_summary, follows, load_stations, render_summary, status_class
from bot.services import Services
from bot.text.i18n import t
from storage.db import iso, utcnow
from storage.photos import PhotoStore

log = logging.getLogger(__name__)

SHEET_MAX = 12
# A group can only migrate once (basic group -> supergroup); more hops mean something is wrong.
MAX_MOVES = 2
# A timeout after an upload went out may hide a message that did arrive; a part resent on that
# guess would reach the group twice, so wait long for the answer, as the alert outbox does.
READ_TIMEOUT, WRITE_TIMEOUT = 90.0, 120.0
# Telegram will never accept these as they are; retrying the same request is pointless.
FOR_GOOD = (Fate.REFUSED, Fate.NO_MEDIA, Fate.NOT_MODIFIED)
TOLD_AS = {"map": "map", "text": "text", "sheet": "contact sheet of leopard photos", "csv": "CSV file"}


@dataclass(frozen=True)
class Part:
    name: str  # "map", "text", "sheet", "csv": the key in summary_parts
    kind: str  # "photo", "message" or "document"
    text: str  # the message, or the caption
    data: bytes = b""
    filename: str | None = None


@dataclass(frozen=True)
class Outcome:
    chat_id: int  # where the group is now: a migration changes it
    complete: bool  # every part sent or refused; False: something is still owed
    gone: bool = False  # the group no longer receives (bot kicked, chat deleted)


def protected_areas(path: Path | None) -> list[Shape]:
    """LW_PROTECTED_AREAS, read afresh for each map (an admin may replace the file any time); a file that
    cannot be read costs the outlines, never the summary."""
    if path is None:
        return []
    try:
        return load_protected_areas(path)
    except ProtectedAreasError as exc:
        log.warning("protected areas not drawn: %s", exc)
        return []


def _sheet(photos: PhotoStore, items: list[tuple[str, str]]) -> bytes | None:
    images, captions = [], []
    for sha, caption in items:
        try:
            images.append(photos.read(sha))
        except (OSError, ValueError):  # a photo file lost or never stored: the sheet goes on without it
            continue
        captions.append(caption)
    return contact_sheet(images, captions)


async def render_parts(
    svc: Services, group: Group, start: datetime, end: datetime, skip: set[str] | frozenset[str] = frozenset()
) -> list[Part]:
    """The parts in sending order, without those in `skip` (already delivered: not even rendered)
    and without a sheet or CSV when the period has nothing for them."""
    summary = await build_summary(svc.db, group, start, end, settings=svc.settings)
    lang, zone = group.language, group.zone
    first, last = (d.astimezone(zone).strftime("%Y-%m-%d") for d in (start, end - timedelta(seconds=1)))
    parts: list[Part] = []
    if "map" not in skip:
        stations = [
            MapStation(s.code, s.point, s.area) for s in await load_stations(svc.db) if follows(group, s.area)
        ]
        points = [MapPoint(e.point, status_class(e.status)) for e in summary.events if e.point is not None]
        rows = await svc.db.fetchall("SELECT code, name FROM areas")
        names = {r["code"]: r["name"] or r["code"] for r in rows}
        grid = None if group.trusted else svc.settings.untrusted_grid_km
        labels: list[MapArea] = []
        # The summary's moves between leopard events, as arrows (bot.reports.map_layers).
        moves = [
            MapMove(m.a.point, m.a.taken_at, m.b.point, m.b.taken_at)
            for m in summary.moves
            if m.a.point is not None and m.b.point is not None
        ]
        if grid is not None:
            # Snapped here, not only inside render_map: exact places never leave this function for an
            # untrusted group; stations (exact points, with codes) give way to area names.
            points = [MapPoint(round_point(p.point, grid), p.status) for p in points]
            moves = [MapMove(round_point(m.a, grid), m.t_a, round_point(m.b, grid), m.t_b) for m in moves]
            labels = area_labels(stations, names, grid)
            stations = []
        title = f"{group.title}: {first} – {last}"
        png = await asyncio.to_thread(
            render_map, points, stations, names, title=title, lang=lang, grid_km=grid, labels=labels,
            moves=moves, protected=protected_areas(svc.settings.protected_areas),
            max_km_per_day=summary.max_km_per_day,
        )  # fmt: skip
        caption = t(lang, "summary.map_caption", start=first, end=last)
        parts.append(Part("map", "photo", caption, png, "map.png"))
    if "text" not in skip:
        parts.append(Part("text", "message", render_summary(summary, lang, zone)))
    if "sheet" not in skip:
        shots = [e for e in summary.events if e.status in ("confirmed", "unreviewed")][-SHEET_MAX:]
        # Under each photo an untrusted group reads the area, never the station code.
        where = [(e.station if group.trusted else None) or e.area or "" for e in shots]
        items = [
            (e.photo_sha256, f"#{e.id} {w} {e.taken_at.astimezone(zone):%m-%d %H:%M}")
            for e, w in zip(shots, where, strict=True)
        ]
        sheet = await asyncio.to_thread(_sheet, svc.photos, items)
        if sheet is not None:
            caption = t(lang, "summary.sheet_caption", start=first, end=last, count=len(items))
            parts.append(Part("sheet", "photo", caption, sheet, "leopards.jpg"))
    if "csv" not in skip:
        # The period's photos in the group's areas as CSV, for its spreadsheet; rounded unless trusted.
        csv_rows = [r for r in await export_rows(svc.db, start, end) if follows(group, r["area"])]
        if csv_rows:
            grid_km = svc.settings.untrusted_grid_km
            opts = ExportOptions.from_settings(svc.settings)
            data = await asyncio.to_thread(to_csv, csv_rows, group.trusted, grid_km, options=opts)
            exact = group.trusted
            precision = t(lang, "export.exact") if exact else t(lang, "export.rounded", grid=f"{grid_km:g}")
            caption = t(
                lang, "summary.csv_caption", start=first, end=last, rows=len(csv_rows), precision=precision
            )
            parts.append(Part("csv", "document", caption, data, f"leopard-watch_{first}_{last}.csv"))
    return parts


async def send_part(bot: Bot, part: Part, chat_id: int, thread_id: int | None) -> None:
    if part.kind == "message":
        await bot.send_message(
            chat_id,
            part.text,
            parse_mode=ParseMode.HTML,
            disable_web_page_preview=True,
            message_thread_id=thread_id,
            read_timeout=READ_TIMEOUT,
            write_timeout=WRITE_TIMEOUT,
        )
    else:
        send = bot.send_photo if part.kind == "photo" else bot.send_document
        await send(
            chat_id,
            part.data,
            caption=part.text,
            filename=part.filename,
            message_thread_id=thread_id,
            read_timeout=READ_TIMEOUT,
            write_timeout=WRITE_TIMEOUT,
        )


async def delivered_parts(svc: Services, chat_id: int, period_start: datetime) -> set[str]:
    rows = await svc.db.fetchall(
        "SELECT part FROM summary_parts WHERE chat_id = ? AND period_start = ?", (chat_id, iso(period_start))
    )
    return {r["part"] for r in rows}


async def _record(
    svc: Services, chat_id: int, period_start: datetime, part: str, status: str, error: str | None = None
) -> None:
    await svc.db.execute(
        "INSERT OR REPLACE INTO summary_parts (chat_id, period_start, part, status, error, at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (chat_id, iso(period_start), part, status, error, iso(utcnow())),
    )


async def _tell_admins(svc: Services, text: str, dedup_key: str | None) -> None:
    await queue_admin_notice(svc.db, svc.settings.admin_ids, text, dedup_key=dedup_key)


async def deliver(
    bot: Bot,
    svc: Services,
    group: Group,
    start: datetime,
    end: datetime,
    *,
    thread_id: int | None,
    weekly: bool,
) -> Outcome:
    """Send the summary of [start, end) to the group, in topic `thread_id` (None: General).

    weekly: the scheduled summary, whose parts are recorded under (chat, start) and resumed; an
    on-demand /week or /month is sent whole each time and records nothing.
    """
    for _ in range(MAX_MOVES + 1):
        done = await delivered_parts(svc, group.chat_id, start) if weekly else set()
        parts = await render_parts(svc, group, start, end, done)
        outcome, moved_to = await _send_parts(bot, svc, group, start, parts, thread_id, weekly)
        if moved_to is None:
            return outcome
        moved = await svc.groups.get(moved_to)
        if moved is None or not moved.active:
            return Outcome(moved_to, complete=False, gone=moved is None)
        # The supergroup is a new chat: the old group's topics are not there, so General it is.
        group, thread_id = moved, moved.thread_id
    log.error("summary for %s: chat id keeps migrating; giving up for now", group.chat_id)
    return Outcome(group.chat_id, complete=False)


async def _send_parts(
    bot: Bot,
    svc: Services,
    group: Group,
    start: datetime,
    parts: list[Part],
    thread_id: int | None,
    weekly: bool,
) -> tuple[Outcome, int | None]:
    """Send parts in order; returns the outcome, and the new chat id when the group has migrated."""
    chat_id = group.chat_id
    for part in parts:
        while True:
            try:
                await send_part(bot, part, chat_id, thread_id)
            except TelegramError as exc:
                failure = classify(exc, in_topic=thread_id is not None)
            else:
                if weekly:
                    await _record(svc, chat_id, start, part.name, "sent")
                break
            if failure.fate is Fate.MIGRATED and failure.new_chat_id is not None:
                # False when someone (the outbox) moved it first: the new id is right either way.
                await svc.groups.migrate(chat_id, failure.new_chat_id)
                log.info("summary: group %s migrated to %s", chat_id, failure.new_chat_id)
                # The alert outbox uses the same key: one notice, whichever sender met the move first.
                await _tell_admins(
                    svc,
                    f"Group {chat_id} became a supergroup ({failure.new_chat_id}); its registration, "
                    "settings, alerts and summaries moved there.",
                    f"migrated:{chat_id}",
                )
                return Outcome(failure.new_chat_id, complete=False), failure.new_chat_id
            if failure.fate is Fate.TOPIC_GONE and thread_id is not None:
                await _topic_gone(svc, group, thread_id, failure)
                thread_id = None  # this part and the rest go to General
                continue
            if failure.fate is Fate.CHAT_GONE:
                await _chat_gone(svc, group, failure)
                return Outcome(chat_id, complete=False, gone=True), None
            if failure.fate in FOR_GOOD:
                await _refused(svc, group, start, part.name, failure, weekly)
                break
            # RETRY, WAIT, TOPIC_CLOSED: the same request may succeed later; the rest waits for it.
            if failure.fate is Fate.TOPIC_CLOSED and weekly:
                await _tell_admins(
                    svc,
                    f"The weekly summary for group {group.title} ({chat_id}) cannot be posted: its General "
                    f"topic is closed ({failure.detail}). It will be retried; reopen General or /register "
                    "the group in an open topic.",
                    f"summary-general-closed:{chat_id}:{iso(start)}",
                )
            log.warning("summary for chat %s stopped at the %s: %s", chat_id, part.name, failure.detail)
            return Outcome(chat_id, complete=False), None
    return Outcome(chat_id, complete=True), None


async def _topic_gone(svc: Services, group: Group, thread_id: int, failure: Failure) -> None:
    log.warning("summary for chat %s: topic %s gone (%s)", group.chat_id, thread_id, failure.detail)
    if thread_id != group.thread_id:
        return  # the topic a /week was asked in, not the group's own: nothing to change
    await svc.groups.update(group.chat_id, thread_id=None)
    # The same key as for alerts: one notice for the topic, whichever message found it gone first.
    await _tell_admins(
        svc,
        f"The topic that group {group.title} ({group.chat_id}) was registered in is closed or deleted "
        f"({failure.detail}); alerts and summaries now go to General. Send /register in a topic to "
        "move them there.",
        f"topic-gone:{group.chat_id}:{thread_id}",
    )


async def _chat_gone(svc: Services, group: Group, failure: Failure) -> None:
    log.warning("summary: cannot write to chat %s (%s); deactivating it", group.chat_id, failure.detail)
    if await svc.groups.deactivate(group.chat_id, failure.detail):
        await _tell_admins(
            svc,
            f"Group {group.title} ({group.chat_id}) no longer receives alerts or summaries: "
            f"{failure.detail}. An admin can add the bot back and send /register there.",
            None,  # deactivate() is True once per deactivation: a group kicked again is news again
        )


async def _refused(
    svc: Services, group: Group, start: datetime, part: str, failure: Failure, weekly: bool
) -> None:
    log.warning("summary for chat %s: the %s was refused (%s); skipped", group.chat_id, part, failure.detail)
    if not weekly:
        return  # an on-demand summary is asked for by someone watching; the admins need not hear it
    await _record(svc, group.chat_id, start, part, "refused", failure.detail)
    day = start.astimezone(group.zone).strftime("%Y-%m-%d")
    await _tell_admins(
        svc,
        f"The weekly summary for group {group.title} ({group.chat_id}), week from {day}, goes out without "
        f"its {TOLD_AS.get(part, part)}: Telegram refused it ({failure.detail}).",
        f"summary-refused:{group.chat_id}:{iso(start)}:{part}",
    )
