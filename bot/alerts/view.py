"""What a coordinator group sees for a leopard event: photo with the box, HTML caption, review buttons."""

from __future__ import annotations

import html
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import ImageDraw
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.alerts.movement import Move, latest_unconfirmed_move, previous_moves
from bot.config import Settings
from bot.geo.coordinates import redact_coordinates
from bot.geo.points import (
    Point,
    format_point,
    format_speed,
    google_maps_url,
    osm_url,
    round_point,
    rounded_movement,
    rounding_slack_km,
)
from bot.media.capture_time import of_row
from bot.media.images import open_image
from bot.media.time_text import by_receipt_note, time_line
from bot.text.i18n import t
from bot.text.tg_text import CAPTION_LIMIT, KEEP, Line, fit, shorten
from storage.db import Database, parse_iso
from storage.photos import PhotoStore

# The ranger's caption is quoted, not reproduced: the alert is about the photo.
CAPTION_EXCERPT = 200  # UTF-16 units


@dataclass(frozen=True)
class AlertView:
    caption: str
    keyboard: InlineKeyboardMarkup
    photo_sha256: str
    boxes: str  # the detector's boxes as stored (JSON), for photo_with_boxes


def review_keyboard(lang: str, event_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(lang, "button.confirm"), callback_data=f"rv:{event_id}:confirmed"),
                InlineKeyboardButton(t(lang, "button.reject"), callback_data=f"rv:{event_id}:rejected"),
            ],
            [InlineKeyboardButton(t(lang, "button.other"), callback_data=f"rv:{event_id}:other")],
        ]
    )


def local_time(dt: datetime | None, zone: ZoneInfo) -> str:
    return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M") if dt else "?"


@dataclass(frozen=True)
class Audience:
    """Who reads the caption: language, time zone, and whether exact coordinates are safe to show."""

    lang: str
    zone: ZoneInfo
    trusted: bool


async def group_audience(db: Database, settings: Settings, chat_id: int) -> Audience:
    g = await db.fetchone("SELECT language, timezone, trusted FROM groups WHERE chat_id = ?", (chat_id,))
    if g is None:
        return Audience("ru", settings.zone, False)
    return Audience(g["language"], ZoneInfo(g["timezone"]), bool(g["trusted"]))


async def build_alert(db: Database, settings: Settings, event_id: int, chat_id: int) -> AlertView | None:
    return await build_view(db, settings, event_id, await group_audience(db, settings, chat_id))


async def build_view(
    db: Database, settings: Settings, sighting_id: int, audience: Audience
) -> AlertView | None:
    """The caption for any sighting; an alert is the view of an event as its group sees it."""
    s = await db.fetchone(
        """SELECT s.*, r.name AS ranger_name, r.username AS ranger_username, st.name AS station_name,
                  st.area AS station_area,
                  (SELECT rv.user_name FROM reviews rv WHERE rv.sighting_id = s.id
                   ORDER BY rv.id DESC LIMIT 1) AS reviewer_name,
                  (SELECT COUNT(*) FROM sightings e WHERE e.event_id = s.id) AS photos
           FROM sightings s LEFT JOIN rangers r ON r.user_id = s.ranger_id
           LEFT JOIN stations st ON st.code = s.station_code
           WHERE s.id = ?""",
        (sighting_id,),
    )
    if s is None:
        return None
    lang, zone, trusted = audience.lang, audience.zone, audience.trusted
    e = html.escape
    stamp = of_row(s)  # the time with its source: a shot time, or only when the photo arrived
    label = t(lang, f"label.{s['label']}") if s["label"] in ("leopard", "snow leopard") else s["label"]
    # Ranks say which lines go first if the caption is still too long once what people typed is cut.
    score = f"{s['score']:.2f}"
    if s["escalated_by"] is not None:  # the ranger's call, not the model's: say so, and what the model saw
        lines = [
            Line.of(t(lang, "alert.title_escalated", id=s["id"]), KEEP),
            Line.of(t(lang, "alert.escalated", label=e(label), score=score), 60),
        ]
    elif s["event_id"] is None:  # the model passed it over and nobody handed it on: not an alert
        lines = [Line.of(t(lang, "alert.title_other", label=e(label), score=score, id=s["id"]), KEEP)]
    else:
        lines = [Line.of(t(lang, "alert.title", label=e(label), score=score, id=s["id"]), KEEP)]
    if s["frame_seconds"] is not None:  # the photo is a clip's best frame (bot/intake/videos.py)
        lines.append(Line.of(t(lang, "alert.video", seconds=f"{s['frame_seconds']:.1f}"), 72))
    if s["photos"] > 1:
        lines.append(Line.of(t(lang, "alert.more_photos", count=s["photos"] - 1), 50))
        if stamp is not None and not stamp.is_capture:  # routing.find_burst_event: by arrival; say so
            lines.append(Line.of(t(lang, "alert.grouped_by_receipt"), 49))
    point = Point(s["lat"], s["lon"]) if s["lat"] is not None else None
    if s["station_code"] and trusted:
        code, area = e(s["station_code"]), f" · {e(s['station_area'])}" if s["station_area"] else ""
        lines.append(
            Line(
                lambda name: t(lang, "alert.station", code=code, name=name, area=area),
                {"name": s["station_name"] or ""},
                70,
            )
        )
    elif s["station_code"] and s["station_area"]:
        # Not the code nor the name (a named spring): with the station list either is the exact place.
        lines.append(Line.of(t(lang, "alert.area", area=e(s["station_area"])), 70))
    if point is None:
        lines.append(Line.of(t(lang, "alert.no_place"), 80))
    else:
        shown = point if trusted else round_point(point, settings.untrusted_grid_km)
        links = f'<a href="{e(osm_url(shown))}">OSM</a> · <a href="{e(google_maps_url(shown))}">Google</a>'
        key = "alert.place" if trusted else "alert.place_rounded"
        grid = f"{settings.untrusted_grid_km:g}"
        place = t(lang, key, point=format_point(shown, 5 if trusted else 2), links=links, grid=grid)
        lines.append(Line.of(place, 80))
    lines.append(Line.of(time_line(lang, stamp, parse_iso(s["received_at"]), zone), 75))
    ranger = s["ranger_name"] or (f"@{s['ranger_username']}" if s["ranger_username"] else str(s["ranger_id"]))
    lines.append(Line(lambda name: t(lang, "alert.ranger", name=name), {"name": ranger}, 65))
    # A wrong camera clock says nothing about when the animal was there: no speeds from it at all.
    if point is not None and stamp is not None and stamp.for_movement and s["event_id"] is not None:
        taken = stamp.taken_at
        days, limit = settings.movement_days, settings.max_km_per_day
        moves = await previous_moves(db, s["id"], point, taken, days=days, max_km_per_day=limit)
        hint = await latest_unconfirmed_move(db, s["id"], point, taken, days=days, max_km_per_day=limit)
        if not trusted:
            # An exact distance from a sighting whose place is known (or shown to someone else) puts
            # this one on a circle around it; two such circles cross near the spot.
            moves = [_coarse(mv, point, taken, settings) for mv in moves]
            hint = _coarse(hint, point, taken, settings) if hint is not None else None
        for mv in moves:
            key = "alert.move_one" if mv.move.plausible else "alert.move_two"
            lines.append(Line.of(_move_line(lang, mv, key, settings, trusted), 30))
        if hint is not None:
            lines.append(Line.of(_move_line(lang, hint, "alert.move_unconfirmed", settings, trusted), 20))
        compared = [*moves, *([hint] if hint else [])]
        late = [mv.other_id for mv in compared if mv.other_by_receipt]
        late += [] if stamp.is_capture else [s["id"]]
        note = by_receipt_note(lang, late) if compared else None
        if note:  # ranked with the moves it qualifies: it goes only after all of them
            lines.append(Line.of(note, 32))
        if not trusted and (moves or hint is not None):
            # Ranked above the moves so that it goes only after all of them.
            lines.append(Line.of(rounding_note(lang, settings.untrusted_grid_km), 31))
    if s["caption"]:
        # A ranger's typed coordinates, map link, station code or station name would undo the rounding.
        said = s["caption"]
        if not trusted:
            said = redact_stations(redact_coordinates(said), *await _stations(db))
        excerpt = shorten(said, CAPTION_EXCERPT)
        lines.append(Line(lambda text: t(lang, "alert.caption", text=text), {"text": excerpt}, 40))
    if s["status"] != "unreviewed":
        status_key = f"alert.status.{s['status']}"
        when = local_time(parse_iso(s["reviewed_at"]), zone)
        lines.append(
            Line(
                lambda who: t(lang, status_key, who=who, time=when),
                {"who": s["reviewer_name"] or str(s["reviewed_by"])},
                KEEP,
            )
        )
    caption = fit(lines, CAPTION_LIMIT)
    return AlertView(caption, review_keyboard(lang, s["id"]), s["photo_sha256"], s["boxes"])


def _move_line(lang: str, mv: Move, key: str, settings: Settings, trusted: bool) -> str:
    approx = "" if trusted else "≈"  # the note line says what it is rounded to
    return t(
        lang,
        key,
        km=f"{approx}{mv.move.distance_km:.0f}",
        id=mv.other_id,
        station=html.escape((mv.other_station if trusted else mv.other_area) or "—"),
        days=f"{mv.days:.1f}",
        speed=approx + format_speed(mv.move.km_per_day),
        limit=f"{settings.max_km_per_day:g}",
    )


def _coarse(mv: Move, point: Point, taken: datetime, settings: Settings) -> Move:
    grid, limit = settings.untrusted_grid_km, settings.max_km_per_day
    return replace(mv, move=rounded_movement(mv.other_point, mv.other_taken, point, taken, grid, limit))


def rounding_note(lang: str, grid_km: float) -> str:
    """What a rounded distance is: said wherever one is shown (alerts, /compare, summaries)."""
    return t(lang, "move.rounded", grid=f"{grid_km:g}", slack=f"{rounding_slack_km(grid_km):.0f}")


async def _stations(db: Database) -> tuple[list[str], list[str]]:
    rows = await db.fetchall("SELECT code, name FROM stations")
    return [r["code"] for r in rows], [r["name"] for r in rows if r["name"]]


STATION_HIDDEN = "[station hidden]"  # in the style of bot.geo.redaction's "[position hidden]"
# Rangers type codes on Russian and Kazakh keyboards too ("УСТ-04"), with whatever dash the phone gives.
_LETTERS = "A-Za-zА-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі"
_DASHES = "\\-\u2010-\u2015\u2212\ufe63\uff0d"
_DASHED_CODE = re.compile(rf"(?<![\w{_DASHES}])[{_LETTERS}]{{2,6}}[{_DASHES}]\d{{1,4}}(?![\w{_DASHES}])")


def redact_stations(text: str, codes: Iterable[str], names: Iterable[str]) -> str:
    """The text without station codes or station names: with the station list either is the place.

    Fail-closed like bot.geo.redaction: every dashed code ("UST-04", "ұст–4") goes, registered or not; so
    does letters-then-a-registered-station's-number with a space or nothing between ("ust 4", "UST04"),
    even where it was "card 4". A name goes whole and by each capitalised word of it ("Kaskyrbulak
    spring", "kaskyrbulak"), in any case.
    """
    # Full-width letters and digits ("ＵＳＴ－０４", a name typed in full width) read the same to a person
    # but match none of the patterns below: fold them first, as bot.places.stations does to recognise codes.
    text = unicodedata.normalize("NFKC", text)
    text = _DASHED_CODE.sub(STATION_HIDDEN, text)
    numbers = {int(m.group(1)) for c in codes if (m := re.search(r"(\d{1,4})$", c))}
    patterns = [rf"[{_LETTERS}]{{2,6}}[ _]?0*{n}(?!\d)" for n in sorted(numbers)]
    for name in names:
        words = [name.strip(), *(w for w in name.split() if len(w) >= 4 and w[:1].isupper())]
        patterns += [re.escape(w) for w in words if len(w) >= 3]
    if not patterns:
        return text
    longest_first = sorted(set(patterns), key=len, reverse=True)
    return re.sub(rf"(?<!\w)(?:{'|'.join(longest_first)})(?!\w)", STATION_HIDDEN, text, flags=re.IGNORECASE)


def photo_with_boxes(photos: PhotoStore, sha256: str, boxes_json: str, max_side: int = 1600) -> bytes:
    """The stored photo, upright, scaled for Telegram, with the detector's box drawn in."""
    # max_side: a 200 MP phone original is decoded at a reduced size (bot.media.images), never in full.
    image, (width, height) = open_image(photos.read(sha256), max_side=max_side)
    image = image.convert("RGB")
    # Never above what was decoded: a thumbnail stands in for a 200 MP original and is not blown up.
    scale = min(1.0, max_side / max(width, height), image.size[0] / width)
    if scale < 1.0 or image.size != (width, height):
        image = image.resize((max(1, round(width * scale)), max(1, round(height * scale))))
    sx, sy = image.size[0] / width, image.size[1] / height
    draw = ImageDraw.Draw(image)
    line = max(2, round(max(image.size) / 250))
    for x0, y0, x1, y1, *_ in json.loads(boxes_json or "[]"):
        draw.rectangle((x0 * sx, y0 * sy, x1 * sx, y1 * sy), outline=(255, 200, 0), width=line)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()
