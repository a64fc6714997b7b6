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

from bot.alerts.movement import Move, latest_unconfirmed_move, previous_moves
from bot.alerts.view import AlertView, ShownEvent, render
from bot.config import Settings
from bot.geo import Point, rounded_movement
from bot.media import of_row
from bot.people import Audience, Groups, group_audience
from storage.db import Database

_SIGHTING = """
    SELECT s.*, r.name AS ranger_name, r.username AS ranger_username, st.name AS station_name,
           st.area AS station_area,
           (SELECT rv.user_name FROM reviews rv WHERE rv.sighting_id = s.id
            ORDER BY rv.id DESC LIMIT 1) AS reviewer_name,
           (SELECT COUNT(*) FROM sightings e WHERE e.event_id = s.id) AS photos
    FROM sightings s LEFT JOIN rangers r ON r.user_id = s.ranger_id
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
    if row["lat"] is not None and stamp is not None and stamp.for_movement and row["event_id"] is not None:
        point, taken = Point(row["lat"], row["lon"]), stamp.taken_at
        days, limit = settings.movement_days, settings.max_km_per_day
        moves = await previous_moves(db, row["id"], point, taken, days=days, max_km_per_day=limit)
        hint = await latest_unconfirmed_move(db, row["id"], point, taken, days=days, max_km_per_day=limit)
        if not audience.exact:
            moves = [_coarse(mv, point, taken, audience, limit) for mv in moves]
            hint = _coarse(hint, point, taken, audience, limit) if hint is not None else None
    return ShownEvent(audience.sighting(dict(row)), stamp, moves, hint)


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
