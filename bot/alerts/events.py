"""A sighting as one reader may see it, loaded for its alert, /sighting and their later edits.

The database work of an alert lives here, the words in view.py. What the reader may have of the
sighting comes from the audience gate (bot/people/audience.py): the row handed to the view holds only
those fields, and the moves to earlier sightings are shown between grid cells to a reader who may only
see cells (an exact distance from a known place puts this one on a circle around it), with the verdict
made on the exact points: one verdict per move, whoever reads it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.alerts.movement import Move, in_movement, latest_unconfirmed_move, previous_moves
from bot.alerts.view import AlertView, ShownEvent, render
from bot.config import Settings
from bot.geo import Point, rounded_movement
from bot.media import Row, of_row
from bot.people import Audience, Groups, group_audience
from storage.db import Database

_SIGHTING = """
    SELECT s.*, r.name AS ranger_name, r.username AS ranger_username, st.name AS station_name,
           st.area AS station_area,
           (SELECT rv.user_name FROM reviews rv WHERE rv.sighting_id = s.id
            ORDER BY rv.id DESC LIMIT 1) AS reviewer_name,
           (SELECT COUNT(*) FROM sightings e WHERE e.event_id = s.id) AS photos,
           fw.name AS forwarded_by_name
    FROM sightings s LEFT JOIN rangers r ON r.user_id = s.ranger_id
    LEFT JOIN rangers fw ON fw.user_id = s.forwarded_by
    LEFT JOIN stations st ON st.code = s.station_code
    WHERE s.id = ?"""


async def load_event(
    db: Database, settings: Settings, sighting_id: int, audience: Audience
) -> ShownEvent | None:
    row = await db.fetchone(_SIGHTING, (sighting_id,))
    if row is None:
        return None
    stamp = of_row(row)
    moves: list[Move] = []
    hint: Move | None = None
    # A wrong camera clock says nothing about when the animal was there: no speeds from it at all.
    # A report from outside not yet accepted, or a photo its sender swapped out, is in no movement line.
    counts = in_movement(row["reported"], row["status"], row["replaced_by"])
    if counts and row["lat"] is not None and stamp is not None and stamp.for_movement and row["event_id"]:
        point, taken = Point(row["lat"], row["lon"]), stamp.taken_at
        days, limit = settings.movement_days, settings.max_km_per_day
        moves = await previous_moves(db, row["id"], point, taken, days=days, max_km_per_day=limit)
        hint = await latest_unconfirmed_move(db, row["id"], point, taken, days=days, max_km_per_day=limit)
        if not audience.exact:
            moves = [_coarse(mv, point, taken, audience, limit) for mv in moves]
            hint = _coarse(hint, point, taken, audience, limit) if hint is not None else None
    return ShownEvent(audience.sighting(dict(row)) | origin_fields(row, audience), stamp, moves, hint)


def origin_fields(row: Row, audience: Audience) -> dict[str, Any]:
    """Issue 22's fields, cut to the reader: a forward's kind and date, whether it is only reported, who
    forwarded it and which photo replaced this one for everyone; the origin's name or title (free
    text, it can name a place) only for a reader the gate lets read free text."""
    return {
        "forward_kind": row["forward_kind"],
        "forward_date": row["forward_date"],
        "forward_name": audience.free_text(row["forward_name"]),
        "reported": bool(row["reported"]),
        "forwarded_by_name": row["forwarded_by_name"],
        "replaced_by": row["replaced_by"],
    }


def _coarse(mv: Move, point: Point, taken: datetime, audience: Audience, limit: float) -> Move:
    """The move between the two grid cells, with the other end known only by its cell and area; the
    verdict stays the exact move's (bot.geo.points.rounded_movement)."""
    cells = rounded_movement(mv.other_point, mv.other_taken, point, taken, audience.grid_km, limit)
    shown = audience.point(mv.other_point)
    assert shown is not None
    return replace(mv, move=cells, other_point=shown, other_station=None)


async def build_view(
    db: Database, settings: Settings, sighting_id: int, audience: Audience
) -> AlertView | None:
    """The caption for any sighting; an alert is the view of an event as its group sees it."""
    event = await load_event(db, settings, sighting_id, audience)
    return None if event is None else render(event, audience, settings)


async def build_alert(db: Database, settings: Settings, event_id: int, chat_id: int) -> AlertView | None:
    group = await Groups(db, settings.timezone).get(chat_id)
    audience = group_audience(group, settings.zone, settings.untrusted_grid_km)
    return await build_view(db, settings, event_id, audience)
