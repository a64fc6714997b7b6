"""One verdict per move: a trusted and an untrusted reader of the same two sightings read the same
verdict (decided on the exact points), the untrusted one with the rounded distance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.alerts.events import build_view, load_event
from bot.config import Settings
from bot.geo import Point
from bot.people import Audience, Reader
from storage.db import Database, iso
from tests.conftest import Team

T0 = datetime(2025, 6, 1, 3, tzinfo=UTC)
A, B = Point(43.50, 52.00), Point(43.50, 52.40)  # 32.4 km apart: one day apart, over 30 km/day
TRUSTED = -100_777
TWO, ONE = "suggests two individuals", "one animal could do this"


async def _sighting(db: Database, sid: int, where: Point, taken: datetime) -> None:
    sha = f"{sid:064x}"
    await db.execute(
        "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, ?, 1, ?)",
        (sha, f"{sha}.jpg", iso(taken)),
    )
    await db.execute(
        """INSERT INTO sightings (id, photo_sha256, taken_at, received_at, lat, lon, label, score,
                                  is_leopard, event_id, status)
           VALUES (?, ?, ?, ?, ?, ?, 'leopard', 0.9, 1, ?, 'confirmed')""",
        (sid, sha, iso(taken), iso(taken), where.lat, where.lon, sid),
    )


async def _two_sightings(db: Database) -> None:
    await _sighting(db, 1, A, T0)
    await _sighting(db, 2, B, T0 + timedelta(days=1))


async def test_the_alert_move_has_one_verdict_for_every_reader(tmp_path: Path) -> None:
    settings = Settings(database=tmp_path / "lw.sqlite3", movement_days=30)
    zone = ZoneInfo("Asia/Aqtau")
    async with Database(settings.database) as db:
        await _two_sightings(db)
        trusted = Audience(Reader.TRUSTED_GROUP, "en", zone, 10.0)
        untrusted = Audience(Reader.GROUP, "en", zone, 10.0)
        exact, coarse = (
            await load_event(db, settings, 2, trusted),
            await load_event(db, settings, 2, untrusted),
        )
        assert exact is not None and coarse is not None
        assert [m.move.plausible for m in exact.moves] == [m.move.plausible for m in coarse.moves] == [False]
        assert f"{exact.moves[0].move.distance_km:.1f}" == "32.4"
        assert f"{coarse.moves[0].move.distance_km:.1f}" != "32.4"  # the cells' distance, not the exact one
        trusted_view, untrusted_view = (
            await build_view(db, settings, 2, trusted),
            await build_view(db, settings, 2, untrusted),
        )
        assert trusted_view is not None and untrusted_view is not None
        assert "32 km" in trusted_view.caption and TWO in trusted_view.caption
        assert "≈" in untrusted_view.caption and TWO in untrusted_view.caption
        assert ONE not in untrusted_view.caption and "32 km" not in untrusted_view.caption


async def test_compare_has_one_verdict_for_every_reader(team: Team) -> None:
    await _two_sightings(team.services.db)
    trusted = team.emu.group(TRUSTED, "Trusted coordinators")
    await team.say(team.admin, "/register en", trusted)
    await team.say(team.admin, "/trusted on", trusted)
    exact = (await team.say(team.admin, "/compare 1 2", trusted))["text"]
    coarse = (await team.say(team.admin, "/compare 1 2", team.group))["text"]
    assert "32 km in 1.0 days, 32.4 km/day" in exact and TWO in exact
    assert "≈" in coarse and "32.4" not in coarse and TWO in coarse and ONE not in coarse
