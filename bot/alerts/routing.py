"""Which coordinator groups hear about a leopard event, grouping bursts, and queueing alerts.

All functions here run inside the sighting's transaction (they take the open connection), so a
sighting and its alerts are written together or not at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from bot.geo import Point, distance_km
from bot.media import CAMERA_SOURCES, RECEIPT_SOURCES, CaptureTime, TimeSource, sql_list
from bot.places import area_of
from storage.db import iso, utcnow


async def routed_groups(conn: aiosqlite.Connection, area: str | None) -> list[int]:
    """Groups subscribed to the area, or to everything. An event with no known area goes to every
    active group: a missed leopard costs more than a message to a group that did not need it."""
    if area is None:
        cur = await conn.execute("SELECT chat_id FROM groups WHERE active = 1 ORDER BY chat_id")
    else:
        cur = await conn.execute(
            """SELECT chat_id FROM groups WHERE active = 1 AND (all_areas = 1 OR chat_id IN
                   (SELECT chat_id FROM group_areas WHERE area = ?)) ORDER BY chat_id""",
            (area,),
        )
    return [int(r["chat_id"]) for r in await cur.fetchall()]


# sightings.source of a camera nobody registered yet (bot.cameras.registry.Camera)
UNKNOWN_CAMERA = "camera:?"


async def find_burst_event(
    conn: aiosqlite.Connection,
    sighting_id: int,
    taken_at: datetime,
    point: Point | None,
    station: str | None,
    ranger_id: int,
    window: timedelta,
    radius_m: float,
    *,
    time: CaptureTime | None = None,
    chat_id: int | None = None,
    received_at: datetime | None = None,
    source: str | None = None,
) -> int | None:
    """The event this photo belongs to: same station, or within radius_m, or (without a place)
    the same ranger and source, within the time window. None means a new event.

    "The same ranger" is a person walking on with the phone. Cellular cameras all share one pseudo-ranger
    (bot/cameras/mail/intake.py), so for them `source` ("camera:CAM-17") tells the cameras apart; two unknown
    cameras ("camera:?") cannot be told apart, so a placeless photo of one never joins another's event.

    Times of different kinds are never compared (`time`, None: a camera's clock). Camera times group
    with camera times. Receipt times group only with the same ranger's receipts in the same chat (the
    alert says they were grouped by when they arrived): photos a ranger sends one after another, never
    a camera original. A file time groups with nothing: if the card copy rewrote every file's time,
    all nights on the card would look like one burst. A wrong clock groups only with wrong clocks
    whose photos arrived within a day of this one, so two battery resets a month apart stay apart.
    """
    where, args = _same_kind(time, ranger_id, chat_id, received_at)
    if where is None:
        return None
    cur = await conn.execute(
        f"""SELECT id, event_id, lat, lon, station_code, ranger_id, source FROM sightings
           WHERE event_id IS NOT NULL AND id != ? AND taken_at BETWEEN ? AND ? AND {where}
             AND reported = 0 AND replaced_by IS NULL
           ORDER BY taken_at DESC""",
        (sighting_id, iso(taken_at - window), iso(taken_at + window), *args),
    )
    for row in await cur.fetchall():
        if station and row["station_code"] == station:
            return int(row["event_id"])
        if point and row["lat"] is not None:
            if distance_km(point, Point(row["lat"], row["lon"])) * 1000 <= radius_m:
                return int(row["event_id"])
        elif (point is None or row["lat"] is None) and row["ranger_id"] == ranger_id:
            if source is None or (row["source"] == source and source != UNKNOWN_CAMERA):
                return int(row["event_id"])
    return None


def _same_kind(
    time: CaptureTime | None, ranger_id: int, chat_id: int | None, received_at: datetime | None
) -> tuple[str | None, tuple[object, ...]]:
    """SQL limiting burst candidates to times of the same kind as `time`; None: it groups with nothing."""
    if time is None or (time.is_capture and time.clock_issue is None):
        camera = sql_list(CAMERA_SOURCES)
        return f"(time_source IS NULL OR time_source IN {camera}) AND clock_issue IS NULL", ()
    if time.source is TimeSource.IMPORT_FILE_TIME:
        return None, ()
    if time.clock_issue is not None:
        arrived = received_at or time.taken_at
        day = timedelta(days=1)
        return "clock_issue IS NOT NULL AND received_at BETWEEN ? AND ?", (
            iso(arrived - day),
            iso(arrived + day),
        )
    receipts = sql_list(RECEIPT_SOURCES - {TimeSource.IMPORT_FILE_TIME})
    return f"time_source IN {receipts} AND clock_issue IS NULL AND ranger_id = ? AND chat_id IS ?", (
        ranger_id,
        chat_id,
    )


async def enqueue_for_event(conn: aiosqlite.Connection, event_id: int, *, new_alert: bool) -> None:
    now = iso(utcnow())
    if new_alert:
        cur = await conn.execute("SELECT lat, lon, station_code FROM sightings WHERE id = ?", (event_id,))
        row = await cur.fetchone()
        point = Point(row["lat"], row["lon"]) if row and row["lat"] is not None else None
        area = await area_of(conn, row["station_code"] if row else None, point)
        for chat_id in await routed_groups(conn, area):
            await conn.execute(
                "INSERT OR IGNORE INTO outbox (event_id, chat_id, kind, next_attempt_at, created_at) "
                "VALUES (?, ?, 'alert', ?, ?)",
                (event_id, chat_id, now, now),
            )
        return
    await queue_refresh(conn, event_id)


async def queue_refresh(conn: aiosqlite.Connection, event_id: int) -> None:
    """Re-render this event's alerts (new photos, a place, a decision).

    Alerts still queued or in flight get a refresh too: one in flight was rendered before this change
    and would otherwise keep its stale caption. The sender runs alerts before refreshes, so the refresh
    edits the posted message; for an alert not yet posted it is a no-op (the alert renders fresh).
    A refresh already queued covers this change (it renders when sent); one in flight does not.
    """
    now = iso(utcnow())
    await conn.execute(
        """INSERT INTO outbox (event_id, chat_id, kind, next_attempt_at, created_at)
           SELECT a.event_id, a.chat_id, 'refresh', ?, ? FROM outbox a
           WHERE a.event_id = ? AND a.kind = 'alert' AND a.status IN ('pending', 'sending', 'sent')
             AND NOT EXISTS (SELECT 1 FROM outbox r WHERE r.event_id = a.event_id
                             AND r.chat_id = a.chat_id AND r.kind = 'refresh'
                             AND r.status = 'pending')""",
        (now, now, event_id),
    )
