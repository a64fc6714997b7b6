"""The export tests' period and grid over the seeded week, and the stored rows exports are checked against."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from storage.db import Database
from tests.support.sightings_world import BASE

GRID = 10.0
MONTH = (BASE - timedelta(days=60), BASE + timedelta(days=7))


async def database_rows(db: Database) -> dict[int, dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT s.*, r.name AS ranger FROM sightings s JOIN rangers r ON r.user_id = s.ranger_id"
    )
    return {r["id"]: dict(r) for r in rows}
