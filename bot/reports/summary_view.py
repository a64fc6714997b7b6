"""What a coordinator group reads for a summary: short HTML, phone-sized, in the group's language.

Untrusted groups see areas only: no coordinates, and no station codes or names either, which anyone
with the station list turns back into exact places (poaching risk); their moves' km and speed are worked
out from grid cells, the verdict from the exact points (bot.geo.points.rounded_movement). Trusted groups
see station codes, and the coordinates of sightings made away from any station.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.alerts import rounding_note
from bot.cameras import camera_status
from bot.geo import format_point, format_speed, rounded_movement
from bot.media import by_receipt_note
from bot.people import group_audience
from bot.reports.individuals import period_line
from bot.reports.summary import LeopardEvent, MoveRow, PlaceCount, Summary
from bot.text import MESSAGE_LIMIT, t, visible_length

# Rendering. Telegram's message limit is 4096 UTF-16 units of the parsed text (bot.text.tg_text); each
# section shows its top rows and a count of the rest, and _fit() drops trailing rows if a long tail
# of names still overflows.
TOP = 8


def _delta(now: int, before: int) -> str:
    d = now - before
    return f"+{d}" if d > 0 else (f"−{-d}" if d < 0 else "±0")


def _date(dt: datetime | None, zone: ZoneInfo) -> str:
    return dt.astimezone(zone).strftime("%Y-%m-%d") if dt else "—"


def period_bounds(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """A period [start, end) as people count days, the one rule of every period the bot shows: its
    first and its last day, both included (a Monday-to-Monday week reads "11-30 – 12-06"); a bound
    inside a day (/week, up to now) carries its time, so no day is claimed whole that is not."""
    first, after = start.astimezone(zone), end.astimezone(zone)
    last = (end - timedelta(seconds=1)).astimezone(zone)
    a = f"{first:%Y-%m-%d}" if first.time() == time(0) else f"{first:%Y-%m-%d %H:%M}"
    b = f"{last:%Y-%m-%d}" if after.time() == time(0) else f"{after:%Y-%m-%d %H:%M}"
    return a, b


def time_basis(lang: str, rows: int, received: int) -> str:
    """Which time `rows` photos fall into a period by, said per source (sightings.time_source): when
    they were taken, or, for the `received` ones without a camera clock, only when they arrived."""
    if not received:
        return t(lang, "period.by_taken")
    if received >= rows:
        return t(lang, "period.by_received")
    return t(lang, "period.by_mixed", received=received)


def _where(ev: LeopardEvent, trusted: bool, lang: str) -> str:
    """A place as this group may see it: station, else exact point (trusted); area (untrusted)."""
    if trusted and ev.station:
        return html.escape(ev.station)
    if trusted and ev.point is not None:
        return format_point(ev.point, 3)
    return html.escape(ev.area) if ev.area else t(lang, "summary.no_place")


def _exact(s: Summary) -> bool:
    """May this summary's group see stations and exact places? The audience gate says (one rule)."""
    return group_audience(s.group, s.group.zone, s.grid_km).exact


def _move(m: MoveRow, s: Summary, lang: str) -> str:
    trusted, mv, approx = _exact(s), m.move, ""
    if not trusted and m.a.point is not None and m.b.point is not None:
        mv = rounded_movement(m.a.point, m.a.taken_at, m.b.point, m.b.taken_at, s.grid_km, s.max_km_per_day)
        approx = "≈"
    kmd = mv.km_per_day
    speed = ("∞" if kmd is None else f"{kmd:.1f}") if trusted else approx + format_speed(kmd)
    return t(lang, "summary.move_line", ok="✅" if mv.plausible else "⚠️", a=m.a.id, b=m.b.id,
             src=_where(m.a, trusted, lang), dst=_where(m.b, trusted, lang),
             km=f"{approx}{mv.distance_km:.0f}", days=f"{mv.hours / 24:.1f}", speed=speed)  # fmt: skip


def _stations_by_area(s: Summary, lang: str) -> list[str]:
    """New and silent stations as an untrusted group may see them: how many, in which area."""
    lines = []
    if s.new_stations:
        areas = ", ".join(sorted({html.escape(st.area or "—") for st in s.new_stations}))
        lines += ["", t(lang, "summary.new_stations_areas", count=len(s.new_stations), areas=areas)]
    silent = Counter(x.area or "" for x in s.silent)
    rows = [
        t(lang, "summary.silent_area_line", area=html.escape(a) if a else t(lang, "summary.no_area"), count=n)
        for a, n in sorted(silent.items(), key=lambda kv: (kv[0] == "", kv[0]))
    ]
    return lines + _section(t(lang, "summary.silent", days=s.silent_days), rows, lang)


def _section(header: str, lines: list[str], lang: str) -> list[str]:
    if not lines:
        return []
    shown = lines[:TOP]
    if len(lines) > TOP:
        shown.append(t(lang, "summary.more", count=len(lines) - TOP))
    return ["", header, *shown]


def _fit(lines: list[str], limit: int = MESSAGE_LIMIT) -> str:
    text = "\n".join(lines)
    while visible_length(text) > limit and len(lines) > 1:
        lines = lines[:-1]  # every line is a whole HTML unit, so cutting lines never breaks a tag
        text = "\n".join([*lines, "…"])
    return text


def render_summary(summary: Summary, lang: str, zone: ZoneInfo) -> str:
    """Short HTML for Telegram in the group's language, within one message."""
    s, c, p, e = summary, summary.current, summary.previous, html.escape
    days = round((s.end - s.start).total_seconds() / 86400)
    first, last = period_bounds(s.start, s.end, zone)
    lines = [
        t(lang, "summary.title", title=e(s.group.title), start=first, end=last, days=days, zone=e(str(zone))),
        t(lang, "summary.leopards", total=c.leopards, delta=_delta(c.leopards, p.leopards)),
        t(lang, "summary.statuses", confirmed=c.confirmed, dc=_delta(c.confirmed, p.confirmed),
          unconfirmed=c.unconfirmed, du=_delta(c.unconfirmed, p.unconfirmed),
          rejected=c.rejected, dr=_delta(c.rejected, p.rejected)),
        t(lang, "summary.photos", photos=c.photos, delta=_delta(c.photos, p.photos),
          stations=c.active_stations, dstations=_delta(c.active_stations, p.active_stations)),
    ]  # fmt: skip
    if s.late:
        lines.append(t(lang, "summary.late", count=s.late))
    individuals = period_line(lang, s.individuals) if s.individuals else None
    if individuals:
        lines.append(individuals)

    def place(pc: PlaceCount, unknown: str) -> str:
        name = e(pc.key) if pc.key else t(lang, unknown)
        return t(lang, "summary.place_line", place=name, total=pc.total, confirmed=pc.confirmed,
                 unconfirmed=pc.unconfirmed, rejected=pc.rejected)  # fmt: skip

    lines += _section(t(lang, "summary.by_area"), [place(a, "summary.no_area") for a in s.by_area], lang)
    trusted = _exact(s)
    if trusted:
        lines += _section(
            t(lang, "summary.by_station"), [place(x, "summary.no_place") for x in s.by_station], lang
        )
    header = t(lang, "summary.moves", limit=f"{s.max_km_per_day:g}")
    if not trusted:
        header += "\n" + rounding_note(lang, s.grid_km)
    late = by_receipt_note(lang, [e.id for m in s.moves for e in (m.a, m.b) if e.by_receipt])
    lines += _section(header, [_move(m, s, lang) for m in s.moves] + ([late] if late else []), lang)
    rangers = [t(lang, "summary.ranger_line", name=e(name), count=n) for name, n in s.rangers]
    lines += _section(t(lang, "summary.rangers"), rangers, lang)
    lines += _frames(s, lang, trusted) + _effort(s, lang)
    if not trusted:
        rest = _stations_by_area(s, lang) + _silent_cameras(s, lang, zone) + _overdue(s, lang, zone)
        return _fit(lines + rest)
    if s.new_stations:
        codes = ", ".join(e(st.code) for st in s.new_stations[: TOP * 2])
        lines += ["", t(lang, "summary.new_stations", codes=codes, count=len(s.new_stations))]
    silent = [
        t(lang, "summary.silent_line", code=e(x.code), date=_date(x.last_seen, zone))
        if x.last_seen
        else t(lang, "summary.silent_never", code=e(x.code))
        for x in s.silent
    ]
    lines += _section(t(lang, "summary.silent", days=s.silent_days), silent, lang)
    return _fit(lines + _silent_cameras(s, lang, zone) + _overdue(s, lang, zone))


def _effort(s: Summary, lang: str) -> list[str]:
    """Trap-nights per area and leopard events per 100 of them (areas only: no place is finer)."""
    rows = []
    for a in s.effort:
        area = html.escape(a.area) if a.area else t(lang, "summary.no_area")
        rate = f"{a.per_100:.2f}" if a.per_100 is not None else "—"
        rows.append(t(lang, "summary.effort_line", area=area, nights=f"{a.trap_nights:.1f}",
                      cameras=a.deployments, events=a.events, rate=rate))  # fmt: skip
    return _section(t(lang, "summary.effort"), rows, lang)


def _by_area(areas: Iterable[str | None], key: str, lang: str) -> list[str]:
    """What untrusted groups get instead of camera or station codes: a count per area, areas by name and
    the ones outside any area last."""
    counts = Counter(a or "" for a in areas)
    no_area = t(lang, "summary.no_area")
    return [
        t(lang, key, area=html.escape(a) if a else no_area, count=n)
        for a, n in sorted(counts.items(), key=lambda kv: (kv[0] == "", kv[0]))
    ]


def _overdue(s: Summary, lang: str, zone: ZoneInfo) -> list[str]:
    """Deployed cameras nobody has checked for LW_CHECK_DUE_DAYS: station and camera for trusted groups,
    counts by area for the others (a camera or station code is a place)."""
    header = t(lang, "summary.overdue", days=s.check_due_days)
    if not _exact(s):
        rows = _by_area((o.area for o in s.overdue), "summary.overdue_area_line", lang)
        return _section(header, rows, lang)
    rows = [
        t(lang, "summary.overdue_line", station=html.escape(o.deployment.station or "—"),
          camera=html.escape(o.deployment.camera or "?"),
          date=_date(o.last_visit or o.deployment.start, zone), days=o.days)
        for o in s.overdue
    ]  # fmt: skip
    return _section(header, rows, lang)


def _frames(s: Summary, lang: str, trusted: bool) -> list[str]:
    """Camera-trap frames sorted per station (trusted) or per area (a code is a place): the one place
    empty frames are counted."""
    rows: dict[str, list[int]] = {}
    for f in s.frames:
        key = f.station if trusted else (f.area or "")
        tally = rows.setdefault(key, [0, 0, 0, 0])
        for i, n in enumerate((f.frames, f.animals, f.leopards, f.empty)):
            tally[i] += n
    unknown = t(lang, "summary.no_area")
    lines = []
    for key, (total, animals, leopards, empty) in sorted(rows.items(), key=lambda kv: (kv[0] == "", kv[0])):
        place = html.escape(key) if key else unknown
        lines.append(t(lang, "summary.frames_line", place=place, total=total, animals=animals,
                       leopards=leopards, empty=empty))  # fmt: skip
    header = t(lang, "summary.frames_by_station" if trusted else "summary.frames_by_area")
    return _section(header, lines, lang)


def _silent_cameras(s: Summary, lang: str, zone: ZoneInfo) -> list[str]:
    """Cellular cameras that stopped writing (a flat battery, no signal, a stolen camera). Untrusted
    groups get counts by area: a camera code leads to its station as surely as a station code."""
    header = t(lang, "summary.cameras_silent", days=s.camera_silent_days)
    if not _exact(s):
        rows = _by_area((c.area for c in s.silent_cameras), "summary.camera_silent_area_line", lang)
        return _section(header, rows, lang)
    rows = []
    for c in s.silent_cameras:
        status = f" · {camera_status(c.battery, c.signal)}" if c.battery or c.signal else ""
        rows.append(t(lang, "summary.camera_silent_line", code=html.escape(c.code),
                      station=html.escape(c.station or "—"), mail=_date(c.last_message_at, zone),
                      photo=_date(c.last_photo_at, zone), status=html.escape(status)))  # fmt: skip
    return _section(header, rows, lang)
