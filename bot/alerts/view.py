"""What a coordinator group sees for a leopard event: the caption, and the photo with the box drawn in.

Pure: the sighting arrives already cut to its reader (bot/alerts/events.py through the audience gate,
bot/people/audience.py), so nothing here decides who may see what, and nothing reads the database.
The review buttons are the sender's (bot/botapi/keyboards.py): AlertView names the event they decide.
"""

from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from PIL import ImageDraw

from bot.alerts.movement import Move, rounding_note
from bot.config import Settings
from bot.detection import KINDS
from bot.geo import Point, format_point, format_speed, google_maps_url, osm_url
from bot.media import CaptureTime, blank_imprint, by_receipt_note, local_time, open_image, time_line
from bot.people import Audience
from bot.text import CAPTION_LIMIT, KEEP, Line, fit, shorten, t
from storage.db import parse_iso
from storage.photos import PhotoStore

# The ranger's caption is quoted, not reproduced: the alert is about the photo.
CAPTION_EXCERPT = 200  # UTF-16 units


@dataclass(frozen=True)
class AlertView:
    caption: str
    lang: str  # the reader's, for the buttons the sender puts under it
    exact: bool  # the reader sees everything; otherwise the photo goes out with its camera strip blanked
    event_id: int  # what the review buttons under it decide
    photo_sha256: str
    boxes: str  # the detector's boxes as stored (JSON), for photo_with_boxes
    closed: bool = False  # its sender swapped the photo out (issue 22): nothing left to review, no buttons
    status: str = "unreviewed"  # the coordinators' decision, said on the button row once made
    reviewer: str = ""  # who made it


@dataclass(frozen=True)
class ShownEvent:
    """Everything an alert's caption says, already cut to the reader (bot/alerts/events.py loads it)."""

    fields: dict[str, Any]  # Audience.sighting: only what this reader may have
    stamp: CaptureTime | None  # the time with its source: a shot time, or only when it arrived
    moves: list[Move]
    hint: Move | None  # the latest unconfirmed sighting it might be the same animal as


def render(event: ShownEvent, audience: Audience, settings: Settings) -> AlertView:
    s, stamp = event.fields, event.stamp
    lang, zone, exact = audience.lang, audience.zone, audience.exact
    e = html.escape
    # The kind in words (catalog "kind.*", as bot/intake/kinds.py says it), never the model's label.
    word = t(lang, f"kind.{_kind(s)}")
    label = word[:1].upper() + word[1:]
    # Ranks say which lines go first if the caption is still too long once what people typed is cut.
    score = f"{s['score']:.2f}"
    if s["escalated_by"] is not None:  # the ranger's call, not the model's: say so, and what the model saw
        lines = [
            Line.of(t(lang, "alert.title_escalated", id=s["id"]), KEEP),
            Line.of(t(lang, "alert.escalated", label=e(word), score=score), 60),
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
    if s["station_code"]:  # only an exact reader has it
        code, area = e(s["station_code"]), f" · {e(s['station_area'])}" if s["station_area"] else ""
        lines.append(
            Line(
                lambda name: t(lang, "alert.station", code=code, name=name, area=area),
                {"name": s["station_name"] or ""},
                70,
            )
        )
    elif s["station_area"]:
        # Not the code nor the name (a named spring): with the station list either is the exact place.
        lines.append(Line.of(t(lang, "alert.area", area=e(s["station_area"])), 70))
    if s["lat"] is None:
        lines.append(Line.of(t(lang, "alert.no_place"), 80))
    else:
        shown = Point(s["lat"], s["lon"])  # the grid cell's centre for a non-exact reader
        links = f'<a href="{e(osm_url(shown))}">OSM</a> · <a href="{e(google_maps_url(shown))}">Google</a>'
        key = "alert.place" if exact else "alert.place_rounded"
        grid = f"{audience.grid_km:g}"
        place = t(lang, key, point=format_point(shown, 5 if exact else 2), links=links, grid=grid)
        lines.append(Line.of(place, 80))
    lines.append(Line.of(time_line(lang, stamp, parse_iso(s["received_at"]), zone), 75))
    ranger = s["ranger_name"] or (f"@{s['ranger_username']}" if s["ranger_username"] else str(s["ranger_id"]))
    lines.append(Line(lambda name: t(lang, "alert.ranger", name=name), {"name": ranger}, 65))
    lines += _origin_lines(lang, s, zone)
    moves, hint = event.moves, event.hint
    for mv in moves:
        key = "alert.move_one" if mv.move.plausible else "alert.move_two"
        lines.append(Line.of(_move_line(lang, mv, key, settings, exact), 30))
    if hint is not None:
        lines.append(Line.of(_move_line(lang, hint, "alert.move_unconfirmed", settings, exact), 20))
    compared = [*moves, *([hint] if hint else [])]
    if compared and stamp is not None:
        late = [mv.other_id for mv in compared if mv.other_by_receipt]
        late += [] if stamp.is_capture else [s["id"]]
        note = by_receipt_note(lang, late)
        if note:  # ranked with the moves it qualifies: it goes only after all of them
            lines.append(Line.of(note, 32))
        if not exact:
            # Ranked above the moves so that it goes only after all of them.
            lines.append(Line.of(rounding_note(lang, audience.grid_km), 31))
    if s["caption"]:  # only an exact reader has it (bot/people/audience.py: free_text)
        excerpt = shorten(s["caption"], CAPTION_EXCERPT)
        lines.append(Line(lambda text: t(lang, "alert.caption", text=text), {"text": excerpt}, 40))
    elif s["caption_withheld"]:
        lines.append(Line.of(t(lang, "alert.caption_withheld"), 40))
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
    closed = s.get("replaced_by") is not None
    reviewer = (s["reviewer_name"] or str(s["reviewed_by"] or "")) if s["status"] != "unreviewed" else ""
    return AlertView(
        caption, lang, exact, s["id"], s["photo_sha256"], s["boxes"], closed, s["status"], reviewer
    )


def _origin_lines(lang: str, s: dict[str, Any], zone: tzinfo) -> list[Line]:
    """Issue 22: the photo its sender swapped in for this one, and a forward's origin (its name only if
    the gate left it in, bot/alerts/events.py), who forwarded it, and whether it is only reported."""
    out = []
    if s.get("replaced_by") is not None:
        out.append(Line.of(t(lang, "alert.replaced", id=s["replaced_by"]), KEEP))
    if not s.get("forward_kind"):
        return out
    kind = t(lang, f"forward.kind.{s['forward_kind']}")
    when = local_time(parse_iso(s["forward_date"]), zone)
    if s["forward_name"]:
        named = {"name": s["forward_name"]}

        def from_named(name: str) -> str:
            return t(lang, "forward.from_named", kind=kind, name=name, time=when)

        out.append(Line(from_named, named, 66))
    else:
        out.append(Line.of(t(lang, "forward.from", kind=kind, time=when), 66))
    if s["forwarded_by_name"]:
        by = {"name": s["forwarded_by_name"]}
        out.append(Line(lambda name: t(lang, "alert.forwarded_by", name=name), by, 64))
    if s["reported"]:
        key = "alert.reported_accepted" if s["status"] == "confirmed" else "alert.reported"
        out.append(Line.of(t(lang, key), 74))
    return out


def _kind(s: dict[str, Any]) -> str:
    """The stored kind (migration 0016); a row without one was judged by the leopard classifier alone."""
    if s.get("kind") in KINDS:
        return str(s["kind"])
    return {"leopard": "leopard", "snow leopard": "snow_leopard"}.get(str(s.get("label")), "no_leopard")


def _move_line(lang: str, mv: Move, key: str, settings: Settings, exact: bool) -> str:
    approx = "" if exact else "≈"  # the note line says what it is rounded to
    return t(
        lang,
        key,
        km=f"{approx}{mv.move.distance_km:.0f}",
        id=mv.other_id,
        station=html.escape((mv.other_station if exact else mv.other_area) or "—"),
        days=f"{mv.days:.1f}",
        speed=approx + format_speed(mv.move.km_per_day),
        limit=f"{settings.max_km_per_day:g}",
    )


def photo_with_boxes(
    photos: PhotoStore, sha256: str, boxes_json: str, max_side: int = 1600, *, blank: bool = False
) -> bytes:
    """The stored photo, upright, scaled for Telegram, with the detector's box drawn in; with `blank`,
    the camera's burned-in strip (its name or GPS on some models) blanked first."""
    # max_side: a 200 MP phone original is decoded at a reduced size (bot.media.images), never in full.
    image, (width, height) = open_image(photos.read(sha256), max_side=max_side)
    image = blank_imprint(image) if blank else image.convert("RGB")
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
