"""How each cellular camera is doing: when it last wrote and sent a photo, its battery and signal, whether
it has moved from its station (and whether its GPS fix can be believed at all), and which cameras have gone
quiet (the weekly summary's list).

Kept apart from bot/cameras/registry.py, the registry (which cameras there are and how their mail is known):
this is what the cameras' own mail keeps telling us, written on every message by bot/cameras/mail/intake.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.cameras.registry import Camera
from bot.geo import Point, Region, distance_km
from storage.db import Database, iso, parse_iso, utcnow

__all__ = [
    "SilentCamera",
    "camera_status",
    "check_moved",
    "doubtful_fix",
    "record_mail",
    "record_photo_time",
    "silent_cameras",
]


@dataclass(frozen=True)
class SilentCamera:
    code: str
    station: str | None
    area: str | None
    last_message_at: datetime | None
    last_photo_at: datetime | None
    battery: str | None
    signal: str | None


def camera_status(battery: str | None, signal: str | None) -> str:
    """What the camera last said about itself: "🔋 80% · 📶 4", or ""."""
    return " · ".join(x for x in (f"🔋 {battery}" if battery else "", f"📶 {signal}" if signal else "") if x)


async def silent_cameras(db: Database, now: datetime, days: int) -> list[SilentCamera]:
    """Registered cameras in service with no e-mail for `days` (or never, registered longer ago than
    that). A removed camera is silent on purpose; one put back into service (/camera add after
    /camera remove) gets the same `days` to write as a new one, whatever it last sent before."""
    cutoff = iso(now - timedelta(days=days))
    rows = await db.fetchall(
        """SELECT c.*, st.area FROM cameras c LEFT JOIN stations st ON st.code = c.station_code
           WHERE c.code IS NOT NULL AND c.removed_at IS NULL
             AND (c.last_message_at < ? OR (c.last_message_at IS NULL AND c.created_at < ?))
             AND NOT EXISTS (SELECT 1 FROM camera_removals r WHERE r.camera_id = c.id AND r.readded_at >= ?)
           ORDER BY c.last_message_at IS NOT NULL, c.last_message_at, c.code""",
        (cutoff, cutoff, cutoff),
    )
    return [
        SilentCamera(
            r["code"],
            r["station_code"],
            r["area"],
            parse_iso(r["last_message_at"]),
            parse_iso(r["last_photo_at"]),
            r["battery"],
            r["signal"],
        )
        for r in rows
    ]


async def record_mail(
    conn: aiosqlite.Connection, camera: Camera, at: datetime, battery: str | None, signal: str | None
) -> None:
    """The camera wrote: when, and the battery/signal it reported (kept when it says nothing new)."""
    await conn.execute(
        "UPDATE cameras SET last_message_at = MAX(COALESCE(last_message_at, ''), ?), "
        "battery = COALESCE(?, battery), signal = COALESCE(?, signal) WHERE id = ?",
        (iso(at), battery, signal, camera.id),
    )


async def record_photo_time(conn: aiosqlite.Connection, camera: Camera, taken_at: datetime | None) -> None:
    if taken_at is not None:
        await conn.execute(
            "UPDATE cameras SET last_photo_at = MAX(COALESCE(last_photo_at, ''), ?) WHERE id = ?",
            (iso(taken_at), camera.id),
        )


async def check_moved(
    conn: aiosqlite.Connection, camera_id: int, station: Point, gps: Point, threshold_m: float
) -> float | None:
    """Metres from its station when this fix says the camera has moved and that move is not reported
    yet (a fix within threshold of the last reported spot is the same move); None otherwise. A fix
    back at the station clears the move, so a second move is reported again."""
    cur = await conn.execute("SELECT moved_lat, moved_lon FROM cameras WHERE id = ?", (camera_id,))
    row = await cur.fetchone()
    away = distance_km(gps, station) * 1000
    if away <= threshold_m:
        if row is not None and row["moved_lat"] is not None:
            await conn.execute(
                "UPDATE cameras SET moved_lat = NULL, moved_lon = NULL, moved_at = NULL WHERE id = ?",
                (camera_id,),
            )
        return None
    if row is not None and row["moved_lat"] is not None:
        if distance_km(gps, Point(row["moved_lat"], row["moved_lon"])) * 1000 <= threshold_m:
            return None
    await conn.execute(
        "UPDATE cameras SET moved_lat = ?, moved_lon = ?, moved_at = ? WHERE id = ?",
        (gps.lat, gps.lon, iso(utcnow()), camera_id),
    )
    return away


OUTSIDE, FAR = "outside", "far"


def doubtful_fix(gps: Point, station: Point | None, region: Region, max_km: float) -> str | None:
    """Why a camera's own GPS fix must not replace its station's place, or None when it may.

    A fix is only believed inside the deployment's region (LW_REGION) and, for a camera at a station,
    within max_km of it (LW_CAMERA_GPS_MAX_KM): a camera carried a few kilometres is "moved"
    (check_moved), one 400 km away or in the other hemisphere is a receiver that has no fix yet, a
    factory default, or a sign flipped in the firmware. Such a fix is kept with the photo as evidence
    (sightings.exif_lat/exif_lon) and the station's place stands."""
    if not region.contains(gps):
        return OUTSIDE
    if station is not None and distance_km(gps, station) > max_km:
        return FAR
    return None
