"""Effort (issue 26): a camera that ran 90 days and took two photos is a 90-day deployment in the Camtrap DP
package, in GBIF's samplingEffort (camtrapdp::write_dwc) and in trap-nights; outages after a dead check
are taken off; stations without deployments keep the photos' span, flagged."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.places import Deployments, FieldChecks, Visit
from bot.reports.effort import AreaEffort, area_effort, effort
from bot.reports.exports import export
from storage.db import Database, iso
from tests.reports.test_camtrapdp import write_dwc_occurrences
from tests.support.validators import table, validate_camtrapdp

START = datetime(2026, 1, 5, tzinfo=UTC)
END = START + timedelta(days=90)
PERIOD = (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))


async def add_station(db: Database, code: str, lat: float, lon: float, area: str) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT OR IGNORE INTO areas (code, name) VALUES (?, ?)", (area, area))
        await conn.execute(
            "INSERT INTO stations (code, name, lat, lon, area, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (code, f"Spring {code}", lat, lon, area, "2025-06-01T00:00:00+00:00"),
        )


async def add_photo(db: Database, sid: int, station: str, taken: datetime, *, leopard: bool = True) -> None:
    sha = hashlib.sha256(f"effort-{sid}".encode()).hexdigest()
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, ?, 1, ?)", (sha, sha, iso(taken))
        )
        await conn.execute(
            """INSERT INTO sightings (id, photo_sha256, source, taken_at, received_at, station_code, label,
                   score, is_leopard, event_id, status, time_source)
               VALUES (?, ?, 'import', ?, ?, ?, ?, 0.9, ?, ?, ?, 'exif')""",
            (sid, sha, iso(taken), iso(taken + timedelta(days=1)), station,
             "leopard" if leopard else "jackal", int(leopard), sid if leopard else None,
             "confirmed" if leopard else "unreviewed"),
        )  # fmt: skip


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "effort.sqlite3") as database:
        await add_station(database, "UST-04", 43.21, 51.87, "UST")
        await add_station(database, "KZS-01", 44.10, 51.30, "KZS")
        await Deployments(database).add("UST-04", "CAM-17", START, END, camera_model="Bushnell Core",
                                        camera_height=0.8, setup_by="Serik")  # fmt: skip
        await add_photo(database, 1, "UST-04", START + timedelta(days=20))
        await add_photo(database, 2, "UST-04", START + timedelta(days=61), leopard=False)
        yield database


async def test_a_90_day_deployment_with_two_photos_is_90_trap_nights_in_the_package(
    db: Database, tmp_path: Path
) -> None:
    meta = validate_camtrapdp(await export(db, "camtrapdp", *PERIOD, exact=True, grid_km=10.0), tmp_path)
    (dep,) = table(tmp_path, "deployments")
    assert (dep["deploymentID"], dep["locationID"], dep["cameraID"]) == ("UST-04-dep1", "UST-04", "CAM-17")
    assert (dep["deploymentStart"], dep["deploymentEnd"]) == ("2026-01-05T00:00:00Z", "2026-04-05T00:00:00Z")
    assert (dep["cameraModel"], dep["cameraHeight"], dep["baitUse"], dep["setupBy"]) == (
        "Bushnell Core", "0.8", "false", "Serik",
    )  # fmt: skip
    assert {m["deploymentID"] for m in table(tmp_path, "media")} == {"UST-04-dep1"}
    # The package's temporal coverage is the deployment's, not the photos'.
    assert meta["temporal"] == {"start": "2026-01-05", "end": "2026-04-05"}
    (occ,) = write_dwc_occurrences(tmp_path)  # GBIF's conversion: effort from the real period
    assert occ["samplingEffort"] == "2026-01-05T00:00:00Z/2026-04-05T00:00:00Z"
    found = await effort(db, *PERIOD)
    assert found.by_deployment == {1: 90.0} and found.by_area == {"UST": 90.0}
    (ust,) = area_effort(found, {"UST": 1})
    assert ust == AreaEffort("UST", 1, 90.0, 1) and ust.per_100 == pytest.approx(100 / 90)


async def test_rounded_package_hides_the_camera_and_the_person(db: Database, tmp_path: Path) -> None:
    validate_camtrapdp(await export(db, "camtrapdp", *PERIOD, exact=False, grid_km=10.0), tmp_path)
    (dep,) = table(tmp_path, "deployments")
    assert dep["deploymentID"].startswith("loc-") and "UST" not in dep["deploymentID"]
    assert (dep["cameraID"], dep["setupBy"], dep["locationName"]) == ("", "", "")
    assert dep["latitude"] != "43.210000" and dep["coordinateUncertainty"] == "7072"


async def test_effort_is_clipped_to_the_period_and_loses_the_outage(db: Database) -> None:
    # A ranger finds the camera dead on day 70: it stopped at its last frame (day 61), and a check on day
    # 80 finds it working again, so days 61-80 are not effort.
    checks = FieldChecks(db)
    deps = Deployments(db)
    dep = (await deps.all())[0]
    # Re-open it to record checks against an open deployment, as in the field.
    await db.execute("UPDATE deployments SET end_at = NULL WHERE id = ?", (dep.id,))
    dead = await checks.record("UST-04", Visit(battery=0, working=False), at=START + timedelta(days=70))
    assert dead.stopped_at == START + timedelta(days=61) and dead.stopped_source == "last frame"
    await checks.record("UST-04", Visit(battery=100, working=True), at=START + timedelta(days=80))
    await deps.end("UST-04", "CAM-17", END)
    found = await effort(db, *PERIOD)
    assert found.by_deployment[dep.id] == pytest.approx(90 - 19)
    # Clipped to January: Jan 5 to Feb 1 is 27 nights.
    january = await effort(db, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    assert january.by_deployment[dep.id] == pytest.approx(27)


async def test_open_deployment_counts_up_to_now(db: Database) -> None:
    await Deployments(db).add("KZS-01", "CAM-20", START)
    found = await effort(db, *PERIOD, as_of=START + timedelta(days=10, hours=12))
    assert found.by_station["KZS-01"] == pytest.approx(10.5)


async def test_a_station_without_deployment_keeps_the_photo_estimate_flagged(
    db: Database, tmp_path: Path
) -> None:
    await add_photo(db, 3, "KZS-01", START + timedelta(days=3))
    await add_photo(db, 4, "KZS-01", START + timedelta(days=5), leopard=False)
    validate_camtrapdp(await export(db, "camtrapdp", *PERIOD, exact=True, grid_km=10.0), tmp_path)
    deps = {d["deploymentID"]: d for d in table(tmp_path, "deployments")}
    assert set(deps) == {"UST-04-dep1", "KZS-01"}
    assert "no deployment recorded" in deps["KZS-01"]["deploymentComments"]
    assert deps["UST-04-dep1"]["deploymentComments"] == ""


async def test_a_card_with_no_deployment_opens_and_closes_an_estimated_one(
    db: Database, tmp_path: Path
) -> None:
    await add_photo(db, 3, "KZS-01", START + timedelta(days=3))
    await add_photo(db, 4, "KZS-01", START + timedelta(days=5), leopard=False)
    card = await Deployments(db).for_card("KZS-01", [3, 4])
    assert card is not None and card.made and not card.closed
    d = card.deployment
    assert (d.start, d.end, d.start_estimated, d.end_estimated) == (
        START + timedelta(days=3), START + timedelta(days=5), True, True,
    )  # fmt: skip
    validate_camtrapdp(await export(db, "camtrapdp", *PERIOD, exact=True, grid_km=10.0), tmp_path)
    deps = {d["deploymentID"]: d for d in table(tmp_path, "deployments")}
    assert "deploymentStart estimated" in deps[f"KZS-01-dep{d.id}"]["deploymentComments"]
    # A second card from the same deployment period names it rather than making another.
    again = await Deployments(db).for_card("KZS-01", [3])
    assert again is not None and again.deployment.id == d.id and not again.made
