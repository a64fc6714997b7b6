"""Deployments (issue 26): times read in the station's zone, one camera never in two places at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.places import DeploymentError, Deployments, parse_when
from storage.db import Database
from tests.reports.test_effort import add_station

AQTAU = ZoneInfo("Asia/Aqtau")


def test_dates_are_read_in_the_station_zone() -> None:
    assert parse_when("2026-01-05", AQTAU) == datetime(2026, 1, 4, 19, tzinfo=UTC)
    assert parse_when("2026-04-05", AQTAU, end_of_day=True) == datetime(2026, 4, 5, 18, 59, 59, tzinfo=UTC)
    assert parse_when("2026-01-05T09:30", AQTAU) == datetime(2026, 1, 5, 4, 30, tzinfo=UTC)
    with pytest.raises(DeploymentError, match="2026-01-05T09:30"):
        parse_when("5.1.2026", AQTAU)


async def test_one_camera_is_never_deployed_twice_at_once(tmp_path: Path) -> None:
    async with Database(tmp_path / "d.sqlite3") as db:
        await add_station(db, "UST-04", 43.21, 51.87, "UST")
        await add_station(db, "UST-05", 43.31, 51.97, "UST")
        deps = Deployments(db)
        await deps.add("UST-04", "cam-17", parse_when("2026-01-05", AQTAU))
        with pytest.raises(DeploymentError, match="already deployed at UST-04") as refused:
            await deps.add("UST-05", "CAM-17", parse_when("2026-02-01", AQTAU))
        assert refused.value.key == "deploy.overlap"
        ended = await deps.end("UST-04", "CAM-17", parse_when("2026-01-31", AQTAU, end_of_day=True))
        moved = await deps.add("UST-05", "CAM-17", parse_when("2026-02-01", AQTAU))
        assert ended.end is not None and moved.start > ended.end and moved.camera == "CAM-17"
        with pytest.raises(DeploymentError, match="no open deployment"):
            await deps.end("UST-04", None, parse_when("2026-03-01", AQTAU))
