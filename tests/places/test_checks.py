"""Field checks (issue 26): typed words in three languages, what a camera found gone or knocked over leaves
on its deployment, the set-up photo in the photo store (never a sighting), stations offered to /check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.geo import Point
from bot.places import CheckError, DeploymentError, Deployments, FieldChecks, Visit, parse_visit, parse_when
from storage.db import Database, iso
from storage.photos import PhotoStore
from tests.reports.test_effort import add_photo, add_station
from tests.support.paths import SAMPLES

START = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "c.sqlite3") as database:
        await add_station(database, "UST-04", 43.21, 51.87, "UST")
        await add_station(database, "UST-05", 43.60, 52.30, "UST")
        await add_station(database, "KZS-01", 44.10, 53.00, "KZS")
        yield database


def test_typed_checks_read_in_three_languages() -> None:
    assert parse_visit(["80%", "card", "dead"]) == Visit(battery=80, card_swapped=True, working=False)
    assert parse_visit(["80%", "card", "dead"]) == Visit(battery=80, card_swapped=True, found="dead")
    assert parse_visit(["50", "карта", "работает"]) == Visit(battery=50, card_swapped=True, found="working")
    assert parse_visit(["құлаған"]) == Visit(found="knocked_over")
    assert parse_visit(["not-found"]) == Visit(found="missing")
    assert parse_visit(["жоқ"]) == Visit(found="missing")
    assert parse_visit(["150%"]) is None  # no battery holds more than all of it
    assert parse_visit(["card", "maybe"]) is None
    assert Visit(found="knocked_over").working is False and Visit(working=True).found == "working"


async def test_a_camera_knocked_over_is_dated_at_its_last_frame(db: Database) -> None:
    dep = await Deployments(db).add("UST-04", "CAM-17", START)
    await add_photo(db, 1, "UST-04", START + timedelta(days=10))
    await add_photo(db, 2, "UST-04", START + timedelta(days=12, hours=3))
    checks = FieldChecks(db)
    done = await checks.record(
        "UST-04", Visit(battery=40, found="knocked_over"), at=START + timedelta(days=30)
    )
    assert (done.stopped_at, done.stopped_source) == (START + timedelta(days=12, hours=3), "last frame")
    row = await db.fetchone("SELECT knocked_down_at, comments FROM deployments WHERE id = ?", (dep.id,))
    assert row["knocked_down_at"] == iso(START + timedelta(days=12, hours=3))
    assert "knocked over" in row["comments"]
    stored = await db.fetchone("SELECT working, stopped_source FROM field_checks WHERE id = ?", (done.id,))
    assert (stored["working"], stored["stopped_source"]) == (0, "last frame")


async def test_a_camera_not_found_is_noted_and_stops_at_setup_without_frames(db: Database) -> None:
    dep = await Deployments(db).add("UST-05", "CAM-20", START)
    done = await FieldChecks(db).record("UST-05", Visit(found="missing"), at=START + timedelta(days=40))
    assert (done.stopped_at, done.stopped_source) == (START, "set-up")
    row = await db.fetchone("SELECT knocked_down_at, comments FROM deployments WHERE id = ?", (dep.id,))
    assert row["knocked_down_at"] is None and "not found" in row["comments"]


async def test_the_setup_photo_goes_to_the_photo_store_and_is_no_sighting(
    db: Database, tmp_path: Path
) -> None:
    await Deployments(db).add("UST-04", "CAM-17", START)
    store = PhotoStore(tmp_path / "photos")
    checks = FieldChecks(db, store)
    data = (SAMPLES / "leo_005_serengeti_night.jpg").read_bytes()
    sha = await checks.keep_photo(data)
    assert store.read(sha) == data
    pin = Point(43.2101, 51.8702)
    done = await checks.record("UST-04", Visit(found="working", photo_sha256=sha, point=pin), at=START)
    row = await db.fetchone("SELECT photo_sha256, lat, lon FROM field_checks WHERE id = ?", (done.id,))
    assert (row["photo_sha256"], row["lat"], row["lon"]) == (sha, pin.lat, pin.lon)
    assert await db.scalar("SELECT COUNT(*) FROM sightings") == 0
    assert await db.scalar("SELECT COUNT(*) FROM photos") == 0  # the sightings' table of photos
    with pytest.raises(CheckError) as refused:
        await checks.keep_photo(b"MZ\x90\x00 not an image")
    assert refused.value.key == "check.photo_unreadable"


async def test_check_offers_the_nearest_open_stations_else_the_rangers_own(db: Database) -> None:
    deps = Deployments(db)
    await deps.add("UST-04", "CAM-1", START, by=7)
    await deps.add("UST-05", "CAM-2", START + timedelta(days=1))
    await deps.add("KZS-01", "CAM-3", START + timedelta(days=2))
    await deps.add("KZS-01", "CAM-4", START, START + timedelta(days=1))  # closed: never offered twice
    checks = FieldChecks(db)
    now = START + timedelta(days=5)
    # Ranger 7 set up UST-04: theirs first, then the most recently set up.
    assert await checks.suggest(7, now) == ["UST-04", "KZS-01", "UST-05"]
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO ranger_locations (user_id, lat, lon, source, at) VALUES (7, 43.59, 52.29, 'pin', ?)",
            (iso(now - timedelta(hours=1)),),
        )
    assert await checks.suggest(7, now) == ["UST-05", "UST-04", "KZS-01"]  # a fresh pin: nearest first
    assert await checks.suggest(7, now + timedelta(days=1)) == ["UST-04", "KZS-01", "UST-05"]  # a stale one


@pytest.mark.parametrize(
    "typed", ["0001-01-01", "9999-12-31", "0001-01-01T00:00", "1850-03-01", "2026-02-30"]
)
def test_dates_no_camera_ran_on_are_refused_not_crashed(typed: str) -> None:
    # /deploy UST-04 CAM-17 0001-01-01 once overflowed converting to UTC (an error, not an answer).
    for end_of_day in (False, True):
        with pytest.raises(DeploymentError) as refused:
            parse_when(typed, ZoneInfo("Asia/Aqtau"), end_of_day=end_of_day)
        assert refused.value.key == "deploy.bad_time"
