"""Movement analysis counts what coordinators confirmed, whatever label the model gave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.geo import Point
from bot.movement import previous_moves
from storage.db import Database, iso

T0 = datetime(2025, 6, 1, 3, tzinfo=UTC)
UST, KZS = Point(43.21, 51.87), Point(43.40, 54.45)  # ~210 km apart


async def _sighting(db: Database, sid: int, label: str, status: str, where: Point, taken: datetime) -> None:
    sha = f"{sid:064x}"
    await db.execute(
        "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, ?, 1, ?)",
        (sha, f"{sha}.jpg", iso(taken)),
    )
    await db.execute(
        """INSERT INTO sightings (id, photo_sha256, taken_at, received_at, lat, lon, label, score,
                                  is_leopard, event_id, status)
           VALUES (?, ?, ?, ?, ?, ?, ?, 0.5, ?, ?, ?)""",
        (sid, sha, iso(taken), iso(taken), where.lat, where.lon, label, int(label == "leopard"), sid, status),
    )


async def test_confirmed_events_count_whatever_the_model_called_them(tmp_path: Path) -> None:
    async with Database(tmp_path / "lw.sqlite3") as db:
        # A pale leopard the model called "snow leopard"; coordinators pressed "Yes, leopard".
        await _sighting(db, 1, "snow leopard", "confirmed", UST, T0)
        await _sighting(db, 2, "leopard", "unreviewed", UST, T0 + timedelta(days=1))  # not yet reviewed
        await _sighting(db, 3, "leopard", "rejected", UST, T0 + timedelta(days=2))
        later = T0 + timedelta(days=21)
        moves = await previous_moves(db, 4, KZS, later, days=60, max_km_per_day=30)
        assert [m.other_id for m in moves] == [1]
        assert 205 <= moves[0].move.distance_km <= 215 and moves[0].move.plausible  # ~10 km/day
        assert await previous_moves(db, 4, KZS, later, days=7, max_km_per_day=30) == []  # outside the window
