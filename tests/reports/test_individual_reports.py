"""Reports per animal (issue 25, points 4 and 6): the catalogue and a track at the reader's precision,
and the weekly summary's count of individuals seen, new, and known alive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.individuals import Catalogue
from bot.people import Audience, Reader
from bot.reports.individuals import catalogue_text, individual_report, individuals_in_period, period_line
from storage.db import Database, iso
from tests.support.sightings_world import seed

BASE = datetime(2025, 3, 3, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Aqtau")
TRUSTED = Audience(Reader.TRUSTED_GROUP, "en", ZONE, 10.0)
UNTRUSTED = Audience(Reader.GROUP, "en", ZONE, 10.0)


async def _world(db: Database) -> Catalogue:
    """PL-M1 seen at UST-01 (event 9, the week before), KZS-01 (3) and near UST-01 (4); PL-F1 at 1."""
    await seed(db, BASE)
    cat = Catalogue(db)
    async with db.transaction() as conn:
        m1 = await cat.create(conn, code="PL-M1", by=1, sex="male", notes="torn left ear at UST-01")
        f1 = await cat.create(conn, code="PL-F1", by=1, sex="female")
        for event, ind in ((9, m1), (3, m1), (4, m1), (1, f1)):
            await conn.execute(
                "INSERT INTO identifications (event_id, decision, individual_id, decided_by, at) "
                "VALUES (?, 'same', ?, 1, ?)",
                (event, ind.id, iso(BASE)),
            )
    return cat


async def test_catalogue_and_track_follow_the_reader(tmp_path: Path) -> None:
    async with Database(tmp_path / "db.sqlite3") as db:
        cat = await _world(db)
        listing = await cat.listing()
        exact, grid = catalogue_text(listing, TRUSTED), catalogue_text(listing, UNTRUSTED)
        assert "UST-01" in exact or "KZS-01" in exact
        for text in (grid,):
            assert "UST-0" not in text and "KZS-0" not in text and "Spring" not in text
        trusted = await individual_report(cat, "pl-m1", TRUSTED, max_km_per_day=40)
        untrusted = await individual_report(cat, "PL-M1", UNTRUSTED, max_km_per_day=40)
        assert trusted is not None and untrusted is not None
        assert "KZS-01" in trusted.text and "torn left ear" in trusted.text
        assert "KZS-01" not in untrusted.text and "UST-01" not in untrusted.text
        assert "torn left ear" not in untrusted.text  # notes are free text: exact readers only
        assert "≈" in untrusted.text
        assert trusted.map_png and untrusted.map_png and untrusted.map_png[:4] == b"\x89PNG"
        assert await individual_report(cat, "PL-X9", TRUSTED, max_km_per_day=40) is None


async def test_period_counts_seen_new_and_minimum_alive(tmp_path: Path) -> None:
    async with Database(tmp_path / "db.sqlite3") as db:
        await _world(db)
        week = await individuals_in_period(db, BASE, BASE + timedelta(days=7))
        assert week.seen == ["PL-F1", "PL-M1"]
        assert week.new == ["PL-F1"]  # PL-M1 was first seen the week before
        assert week.minimum_alive == 2
        # A day between PL-M1's sightings (event 9 before, 3 after) and nobody seen in it: still alive.
        gap = await individuals_in_period(db, BASE - timedelta(days=3), BASE - timedelta(days=2))
        assert (gap.seen, gap.minimum_alive) == ([], 1)
        line = period_line("en", week)
        assert line is not None and "PL-M1" in line and "2" in line


async def test_exports_carry_the_individuals_and_still_validate(tmp_path: Path) -> None:
    import csv
    import io

    from bot.reports.exports import ExportOptions, export
    from tests.support.exports import GRID, MONTH
    from tests.support.validators import table, validate_camtrapdp

    async with Database(tmp_path / "db.sqlite3") as db:
        await _world(db)
        options = ExportOptions(contact_name="A", contact_email="a@example.org")
        data = await export(db, "camtrapdp", *MONTH, exact=False, grid_km=GRID, options=options)
        descriptor = validate_camtrapdp(data, tmp_path / "pkg")
        assert descriptor["project"]["individualAnimals"] is True
        rows = table(tmp_path / "pkg", "observations")
        by_event = {r["eventID"]: r for r in rows if r["observationLevel"] == "event"}
        assert (by_event["3"]["individualID"], by_event["3"]["sex"]) == ("PL-M1", "male")
        assert (by_event["1"]["individualID"], by_event["1"]["sex"]) == ("PL-F1", "female")
        assert by_event["5"]["individualID"] == ""  # a rejected event nobody identified
        dwc = await export(db, "csv", *MONTH, exact=False, grid_km=GRID, options=options)
        records = list(csv.DictReader(io.StringIO(dwc.decode("utf-8-sig"))))
        assert {r["organismID"] for r in records if r["eventID"] in ("3", "4")} == {"PL-M1"}
