"""What a coordinator group sees for a leopard event: photo with the box, HTML caption, review buttons."""

from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import ImageDraw
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import Settings
from bot.coordinates import redact_coordinates
from bot.geo import Point, format_point, format_speed, google_maps_url, osm_url, round_point
from bot.i18n import t
from bot.images import open_image
from bot.movement import Move, latest_unconfirmed_move, previous_moves
from storage.db import Database, parse_iso
from storage.photos import PhotoStore

CAPTION_LIMIT = 1024  # Bot API limit for photo captions


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
    taken = parse_iso(s["taken_at"])
    label = t(lang, f"label.{s['label']}") if s["label"] in ("leopard", "snow leopard") else s["label"]
    if s["escalated_by"] is not None:  # the ranger's call, not the model's: say so, and what the model saw
        lines = [
            t(lang, "alert.title_escalated", id=s["id"]),
            t(lang, "alert.escalated", label=e(label), score=f"{s['score']:.2f}"),
        ]
    elif s["event_id"] is None:  # the model passed it over and nobody handed it on: not an alert
        lines = [t(lang, "alert.title_other", label=e(label), score=f"{s['score']:.2f}", id=s["id"])]
    else:
        lines = [t(lang, "alert.title", label=e(label), score=f"{s['score']:.2f}", id=s["id"])]
    if s["photos"] > 1:
        lines.append(t(lang, "alert.more_photos", count=s["photos"] - 1))
    point = Point(s["lat"], s["lon"]) if s["lat"] is not None else None
    if s["station_code"]:
        area = f" · {e(s['station_area'])}" if s["station_area"] else ""
        lines.append(
            t(lang, "alert.station", code=e(s["station_code"]), name=e(s["station_name"] or ""), area=area)
        )
    if point is None:
        lines.append(t(lang, "alert.no_place"))
    else:
        shown = point if trusted else round_point(point, settings.untrusted_grid_km)
        links = f'<a href="{e(osm_url(shown))}">OSM</a> · <a href="{e(google_maps_url(shown))}">Google</a>'
        key = "alert.place" if trusted else "alert.place_rounded"
        lines.append(
            t(
                lang,
                key,
                point=format_point(shown, 5 if trusted else 2),
                links=links,
                grid=f"{settings.untrusted_grid_km:g}",
            )
        )
    lines.append(t(lang, "alert.taken", time=local_time(taken, zone), zone=e(str(zone))))
    ranger = s["ranger_name"] or (f"@{s['ranger_username']}" if s["ranger_username"] else str(s["ranger_id"]))
    lines.append(t(lang, "alert.ranger", name=e(ranger)))
    if point is not None and taken is not None and s["event_id"] is not None:
        days, limit = settings.movement_days, settings.max_km_per_day
        moves = await previous_moves(db, s["id"], point, taken, days=days, max_km_per_day=limit)
        for mv in moves:
            lines.append(
                _move_line(lang, mv, "alert.move_one" if mv.move.plausible else "alert.move_two", settings)
            )
        hint = await latest_unconfirmed_move(db, s["id"], point, taken, days=days, max_km_per_day=limit)
        if hint is not None:
            lines.append(_move_line(lang, hint, "alert.move_unconfirmed", settings))
    if s["caption"]:
        # A ranger's typed coordinates or map link would undo the rounding for an untrusted group.
        said = s["caption"] if trusted else redact_coordinates(s["caption"])
        lines.append(t(lang, "alert.caption", text=e(said[:200])))
    if s["status"] != "unreviewed":
        who = e(s["reviewer_name"] or str(s["reviewed_by"]))
        lines.append(
            t(
                lang,
                f"alert.status.{s['status']}",
                who=who,
                time=local_time(parse_iso(s["reviewed_at"]), zone),
            )
        )
    caption = "\n".join(lines)
    if len(caption) > CAPTION_LIMIT:
        caption = "\n".join(lines[:4])[:CAPTION_LIMIT]
    return AlertView(caption, review_keyboard(lang, s["id"]), s["photo_sha256"], s["boxes"])


def _move_line(lang: str, mv: Move, key: str, settings: Settings) -> str:
    return t(
        lang,
        key,
        km=f"{mv.move.distance_km:.0f}",
        id=mv.other_id,
        station=html.escape(mv.other_station or "—"),
        days=f"{mv.days:.1f}",
        speed=format_speed(mv.move.km_per_day),
        limit=f"{settings.max_km_per_day:g}",
    )


def photo_with_boxes(photos: PhotoStore, sha256: str, boxes_json: str, max_side: int = 1600) -> bytes:
    """The stored photo, upright, scaled for Telegram, with the detector's box drawn in."""
    image, (width, height) = open_image(photos.read(sha256))
    image = image.convert("RGB")
    scale = min(1.0, max_side / max(width, height))
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
