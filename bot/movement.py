"""Movement analysis: could one leopard have made the move between two confirmed sightings?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.geo import Movement, Point, movement
from storage.db import Database, iso, parse_iso


@dataclass(frozen=True)
class Move:
    other_id: int
    other_station: str | None
    other_taken: datetime
    move: Movement
    # Where the other sighting was, so a reader who may only see grid cells gets the move worked out
    # from the cells (bot.geo.rounded_movement), and its area in place of the station code.
    other_point: Point
    other_area: str | None

    @property
    def days(self) -> float:
        return self.move.hours / 24


async def previous_moves(
    db: Database,
    event_id: int,
    point: Point,
    taken_at: datetime,
    *,
    days: int,
    max_km_per_day: float,
    limit: int = 3,
) -> list[Move]:
    """Earlier confirmed leopard events within `days`, newest first, with the implied speed.

    Only confirmed sightings count: an unreviewed detection may be a false alarm, and a false
    alarm 200 km away would make a real leopard look like 'two individuals'. A confirmation is the
    coordinators' "yes, leopard", so it counts whatever label the model gave (a pale leopard the
    model called "snow leopard" is still a leopard once they say so).
    """
    rows = await db.fetchall(
        """SELECT s.id, s.station_code, s.taken_at, s.lat, s.lon, st.area FROM sightings s
           LEFT JOIN stations st ON st.code = s.station_code
           WHERE s.status = 'confirmed' AND s.lat IS NOT NULL
             AND s.id = s.event_id AND s.event_id != ?
             AND s.taken_at >= ? AND s.taken_at <= ?
           ORDER BY s.taken_at DESC LIMIT ?""",
        (event_id, iso(taken_at - timedelta(days=days)), iso(taken_at), limit),
    )
    moves = []
    for r in rows:
        other_taken = parse_iso(r["taken_at"])
        assert other_taken is not None
        other = Point(r["lat"], r["lon"])
        m = movement(other, other_taken, point, taken_at, max_km_per_day)
        moves.append(Move(r["id"], r["station_code"], other_taken, m, other, r["area"]))
    return moves


async def latest_unconfirmed_move(
    db: Database, event_id: int, point: Point, taken_at: datetime, *, days: int, max_km_per_day: float
) -> Move | None:
    """The most recent earlier leopard event nobody has reviewed yet, if it is newer than every
    confirmed one: shown apart, as a hint ("not counted"), because two alerts often come before
    anyone has pressed a button, and that is exactly when the coordinators compare them."""
    r = await db.fetchone(
        """SELECT s.id, s.station_code, s.taken_at, s.lat, s.lon, st.area FROM sightings s
           LEFT JOIN stations st ON st.code = s.station_code
           WHERE s.status = 'unreviewed' AND s.id = s.event_id AND s.event_id != ? AND s.lat IS NOT NULL
             AND s.taken_at >= ? AND s.taken_at <= ?
             AND NOT EXISTS (SELECT 1 FROM sightings c WHERE c.status = 'confirmed' AND c.id = c.event_id
                             AND c.id != ? AND c.lat IS NOT NULL
                             AND c.taken_at > s.taken_at AND c.taken_at <= ?)
           ORDER BY s.taken_at DESC, s.id DESC LIMIT 1""",
        (event_id, iso(taken_at - timedelta(days=days)), iso(taken_at), event_id, iso(taken_at)),
    )
    if r is None:
        return None
    other_taken = parse_iso(r["taken_at"])
    assert other_taken is not None
    other = Point(r["lat"], r["lon"])
    m = movement(other, other_taken, point, taken_at, max_km_per_day)
    return Move(r["id"], r["station_code"], other_taken, m, other, r["area"])


@dataclass(frozen=True)
class Placed:
    id: int
    station: str | None
    taken: datetime | None
    point: Point | None
    status: str
    area: str | None = None  # the station's area: what a reader who may not know stations is told


async def load_placed(db: Database, sighting_id: int) -> Placed | None:
    r = await db.fetchone(
        "SELECT s.id, s.station_code, s.taken_at, s.received_at, s.lat, s.lon, s.status, st.area "
        "FROM sightings s LEFT JOIN stations st ON st.code = s.station_code WHERE s.id = ?",
        (sighting_id,),
    )
    if r is None:
        return None
    point = Point(r["lat"], r["lon"]) if r["lat"] is not None else None
    taken = parse_iso(r["taken_at"] or r["received_at"])
    return Placed(r["id"], r["station_code"], taken, point, r["status"], r["area"])
