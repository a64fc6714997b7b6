"""What a coordinator group reads for a summary: short HTML, phone-sized, in the group's language.

Untrusted groups see areas only: no coordinates, and no station codes or names either, which anyone
with the station list turns back into exact places (poaching risk); their moves' km and speed are worked
out from grid cells, the verdict from the exact points (bot.geo.points.rounded_movement). Trusted groups
see station codes, and the coordinates of sightings made away from any station.
"""

from __future__ import annotations

import html
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.alerts import rounding_note
from bot.cameras import camera_status
from bot.geo import format_point, format_speed, rounded_movement
from bot.media import by_receipt_note
from bot.people import group_audience
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
    lines = [
        t(lang, "summary.title", title=e(s.group.title), start=_date(s.start, zone),
          end=_date(s.end - timedelta(seconds=1), zone), days=days, zone=e(str(zone))),
        t(lang, "summary.leopards", total=c.leopards, delta=_delta(c.leopards, p.leopards)),
        t(lang, "summary.statuses", confirmed=c.confirmed, dc=_delta(c.confirmed, p.confirmed),
          unconfirmed=c.unconfirmed, du=_delta(c.unconfirmed, p.unconfirmed),
          rejected=c.rejected, dr=_delta(c.rejected, p.rejected)),
        t(lang, "summary.photos", photos=c.photos, delta=_delta(c.photos, p.photos),
          stations=c.active_stations, dstations=_delta(c.active_stations, p.active_stations)),
    ]  # fmt: skip
    if s.late:
        lines.append(t(lang, "summary.late", count=s.late))

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
    if not trusted:
        return _fit(lines + _stations_by_area(s, lang) + _silent_cameras(s, lang, zone))
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
    return _fit(lines + _silent_cameras(s, lang, zone))


def _silent_cameras(s: Summary, lang: str, zone: ZoneInfo) -> list[str]:
    """Cellular cameras that stopped writing (a flat battery, no signal, a stolen camera). Untrusted
    groups get counts by area: a camera code leads to its station as surely as a station code."""
    header = t(lang, "summary.cameras_silent", days=s.camera_silent_days)
    if not _exact(s):
        areas = Counter(c.area or "" for c in s.silent_cameras)
        no_area = t(lang, "summary.no_area")
        rows = [
            t(lang, "summary.camera_silent_area_line", area=html.escape(a) if a else no_area, count=n)
            for a, n in sorted(areas.items(), key=lambda kv: (kv[0] == "", kv[0]))
        ]
        return _section(header, rows, lang)
    rows = []
    for c in s.silent_cameras:
        status = f" · {camera_status(c.battery, c.signal)}" if c.battery or c.signal else ""
        rows.append(t(lang, "summary.camera_silent_line", code=html.escape(c.code),
                      station=html.escape(c.station or "—"), mail=_date(c.last_message_at, zone),
                      photo=_date(c.last_photo_at, zone), status=html.escape(status)))  # fmt: skip
    return _section(header, rows, lang)
