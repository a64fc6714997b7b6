"""Movement analysis: could one leopard have made the move between two confirmed sightings?

A sighting whose camera clock looks wrong (sightings.clock_issue) never counts: its time is not when
the animal was there. One timed by its receipt or file (bot.media.capture_time) counts, but the Move says so,
and every reader of it prints the caveat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.geo import Movement, Point, movement, rounding_slack_km
from bot.media import RECEIPT_SOURCES, CaptureTime, of_row, sql_list
from bot.text import t
from storage.db import Database, iso, parse_iso

_RECEIPT = f"s.time_source IN {sql_list(RECEIPT_SOURCES)} AS by_receipt"
# Issue 22: a forward from outside the team (sightings.reported) counts once a coordinator confirmed it
# (the confirm button on its alert is the acceptance); a photo its sender swapped out never counts.
IN_MOVEMENT = "(s.reported = 0 OR s.status = 'confirmed') AND s.replaced_by IS NULL"
# Issue 25: where coordinators said who both events are (current_identities, bot.individuals), a move
# between two different individuals is no move of one animal, so it is left out.
SAME_ANIMAL = """NOT EXISTS (SELECT 1 FROM current_identities mine JOIN current_identities theirs
                   ON theirs.individual_id != mine.individual_id
                  WHERE mine.event_id = ? AND theirs.event_id = s.id)"""


def in_movement(reported: int | bool, status: str, replaced_by: int | None) -> bool:
    """IN_MOVEMENT for one row already read."""
    return (not reported or status == "confirmed") and replaced_by is None


@dataclass(frozen=True)
class Move:
    other_id: int
    other_station: str | None
    other_taken: datetime
    move: Movement
    # Where the other sighting was, so a reader who may only see grid cells gets the move worked out
    # from the cells (bot.geo.points.rounded_movement), and its area in place of the station code.
    other_point: Point
    other_area: str | None
    other_by_receipt: bool = False  # the other sighting's time is when it was received, not taken

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
        f"""SELECT s.id, s.station_code, s.taken_at, s.lat, s.lon, st.area, {_RECEIPT} FROM sightings s
           LEFT JOIN stations st ON st.code = s.station_code
           WHERE s.status = 'confirmed' AND s.lat IS NOT NULL AND s.clock_issue IS NULL
             AND s.id = s.event_id AND s.event_id != ? AND {IN_MOVEMENT} AND {SAME_ANIMAL}
             AND s.taken_at >= ? AND s.taken_at <= ?
           ORDER BY s.taken_at DESC LIMIT ?""",
        (event_id, event_id, iso(taken_at - timedelta(days=days)), iso(taken_at), limit),
    )
    moves = []
    for r in rows:
        other_taken = parse_iso(r["taken_at"])
        assert other_taken is not None
        other = Point(r["lat"], r["lon"])
        m = movement(other, other_taken, point, taken_at, max_km_per_day)
        by_receipt = bool(r["by_receipt"])
        moves.append(Move(r["id"], r["station_code"], other_taken, m, other, r["area"], by_receipt))
    return moves


async def latest_unconfirmed_move(
    db: Database, event_id: int, point: Point, taken_at: datetime, *, days: int, max_km_per_day: float
) -> Move | None:
    """The most recent earlier leopard event nobody has reviewed yet, if it is newer than every
    confirmed one: shown apart, as a hint ("not counted"), because two alerts often come before
    anyone has pressed a button, and that is exactly when the coordinators compare them."""
    r = await db.fetchone(
        f"""SELECT s.id, s.station_code, s.taken_at, s.lat, s.lon, st.area, {_RECEIPT} FROM sightings s
           LEFT JOIN stations st ON st.code = s.station_code
           WHERE s.status = 'unreviewed' AND s.id = s.event_id AND s.event_id != ? AND s.lat IS NOT NULL
             AND s.clock_issue IS NULL AND s.taken_at >= ? AND s.taken_at <= ? AND {IN_MOVEMENT}
             AND NOT EXISTS (SELECT 1 FROM sightings c WHERE c.status = 'confirmed' AND c.id = c.event_id
                             AND c.id != ? AND c.lat IS NOT NULL AND c.clock_issue IS NULL
                             AND c.replaced_by IS NULL
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
    return Move(r["id"], r["station_code"], other_taken, m, other, r["area"], bool(r["by_receipt"]))


@dataclass(frozen=True)
class Placed:
    id: int
    station: str | None
    taken: datetime | None
    point: Point | None
    status: str
    area: str | None = None  # the station's area: what a reader who may not know stations is told
    time: CaptureTime | None = None  # where `taken` came from, and whether the clock looks wrong


async def load_placed(db: Database, sighting_id: int) -> Placed | None:
    r = await db.fetchone(
        "SELECT s.id, s.station_code, s.taken_at, s.received_at, s.lat, s.lon, s.status, st.area, "
        "s.time_source, s.clock_issue "
        "FROM sightings s LEFT JOIN stations st ON st.code = s.station_code WHERE s.id = ?",
        (sighting_id,),
    )
    if r is None:
        return None
    point = Point(r["lat"], r["lon"]) if r["lat"] is not None else None
    taken = parse_iso(r["taken_at"] or r["received_at"])
    return Placed(r["id"], r["station_code"], taken, point, r["status"], r["area"], of_row(r))


def rounding_note(lang: str, grid_km: float) -> str:
    """What a rounded distance is: said wherever one is shown (alerts, /compare, summaries)."""
    return t(lang, "move.rounded", grid=f"{grid_km:g}", slack=f"{rounding_slack_km(grid_km):.0f}")
