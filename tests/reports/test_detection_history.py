"""The detection-history export (issue 26): stations x occasions, 1/0/NA as camtrapR's detectionHistory."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.places import Deployments, FieldChecks, Visit
from bot.reports.exports import export
from storage.db import Database
from tests.reports.test_effort import add_photo, add_station

AQTAU_MIDNIGHT = datetime(2026, 1, 4, 19, tzinfo=UTC)  # 2026-01-05 00:00 in Asia/Aqtau
SINCE, UNTIL = AQTAU_MIDNIGHT, AQTAU_MIDNIGHT + timedelta(days=28)  # four weekly occasions


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "dh.sqlite3") as database:
        await add_station(database, "UST-04", 43.21, 51.87, "UST")
        await add_station(database, "KZS-01", 44.10, 51.30, "KZS")
        await add_station(database, "KZS-02", 44.30, 51.50, "KZS")  # no deployment: no row
        deps = Deployments(database)
        # UST-04 watches all four weeks; KZS-01 only from day 15 (weeks 3 and 4).
        await deps.add("UST-04", "CAM-17", SINCE, UNTIL + timedelta(days=30))
        await deps.add("KZS-01", "CAM-20", SINCE + timedelta(days=15), UNTIL + timedelta(days=30))
        await add_photo(database, 1, "UST-04", SINCE + timedelta(days=2))  # week 1
        await add_photo(database, 2, "KZS-01", SINCE + timedelta(days=22))  # week 4
        await add_photo(database, 3, "UST-04", SINCE + timedelta(days=9), leopard=False)  # a jackal
        await add_photo(database, 4, "KZS-02", SINCE + timedelta(days=9))
        yield database


def read(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


async def test_detection_history_by_week(db: Database) -> None:
    rows = read(await export(db, "detection-history", SINCE, UNTIL, exact=True, grid_km=10.0))
    assert rows[0] == ["station", "latitude", "longitude", "trap_nights",
                       "o1_2026-01-05", "o2_2026-01-12", "o3_2026-01-19", "o4_2026-01-26"]  # fmt: skip
    body = {r[0]: r for r in rows[1:]}
    assert set(body) == {"UST-04", "KZS-01"}
    assert body["UST-04"][3:] == ["28.0", "1", "0", "0", "0"]
    assert body["KZS-01"][3:] == ["13.0", "NA", "NA", "0", "1"]


async def test_occasion_length_and_a_dead_camera(db: Database) -> None:
    checks = FieldChecks(db)
    await db.execute("UPDATE deployments SET end_at = NULL WHERE station_code = 'UST-04'")
    # Found dead on day 20, its last frame on day 9: days 9-28 are NA for two-week occasions' second half.
    await checks.record("UST-04", Visit(working=False), at=SINCE + timedelta(days=20))
    rows = read(
        await export(db, "detection-history", SINCE, UNTIL, exact=True, grid_km=10.0, occasion_days=14)
    )
    body = {r[0]: r for r in rows[1:]}
    assert rows[0][4:] == ["o1_2026-01-05", "o2_2026-01-19"]
    assert body["UST-04"][3:] == ["9.0", "1", "NA"]


async def test_rounded_history_hides_station_codes(db: Database) -> None:
    data = await export(db, "detection-history", SINCE, UNTIL, exact=False, grid_km=10.0)
    assert b"UST-04" not in data and b"KZS-01" not in data and b"43.21" not in data
    rows = read(data)
    assert len(rows) == 3 and all(r[0].startswith("loc-") for r in rows[1:])
