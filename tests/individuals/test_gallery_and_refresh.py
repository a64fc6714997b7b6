"""The catalogue's loose ends (issue 25): the gallery stays loaded between questions and follows every
committed write (also another process's), the ranking runs off the event loop, an identity refreshes
the alerts whose movement lines read it, the summary's individuals follow the group's areas, and the
catalogue's refusals speak the reader's language."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest

import bot.individuals.catalogue as catalogue_module
from bot.config import Settings
from bot.individuals import Catalogue, CatalogueError, Identifications, compute_crop, from_bytes
from bot.individuals.identification import EventCrop
from bot.people import Group
from bot.reports.summary import build_summary
from bot.reports.summary_view import render_summary
from bot.text.i18n import keys
from storage.db import Database, iso
from storage.photos import PhotoStore
from tests.conftest import GROUP
from tests.support.sightings_world import BASE, seed, sha_for

CYRILLIC = re.compile(r"[а-яёәіңғүұқөһ]", re.IGNORECASE)


@pytest.fixture
def features(leopard_jpeg: bytes) -> bytes:
    return compute_crop(leopard_jpeg, None, "unknown")


async def _add(cat: Catalogue, db: Database, code: str, features: bytes, photo: str = "a" * 64) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT OR IGNORE INTO photos (sha256, path, size, created_at) VALUES (?, 'x', 1, ?)",
            (photo, iso(BASE)),
        )
        ind = await cat.create(conn, code=code, by=None, by_name="test")
        await cat.add_reference(
            conn,
            ind,
            photo_sha256=photo,
            box=None,
            flank="unknown",
            features=features,
            source="test",
            by=None,
        )


async def test_the_gallery_follows_writes_from_another_process(tmp_path: Path, features: bytes) -> None:
    path = tmp_path / "db.sqlite3"
    async with Database(path) as bot_db, Database(path) as cli_db:
        service, cli = Catalogue(bot_db), Catalogue(cli_db)
        try:
            assert await service.gallery() == []
            await _add(cli, cli_db, "PL-M1", features)  # `individuals import` while the bot runs
            loaded = await service.gallery()
            assert [r.individual for r in loaded] == ["PL-M1"]
            assert await service.gallery() is loaded  # unchanged: kept, with the matcher's tree keyed on it
            await _add(service, bot_db, "PL-M2", features)
            assert [r.individual for r in await service.gallery()] == ["PL-M1", "PL-M2"]
        finally:
            service.close()
            cli.close()


async def test_a_rolled_back_write_keeps_the_loaded_gallery(tmp_path: Path, features: bytes) -> None:
    async with Database(tmp_path / "db.sqlite3") as db:
        cat = Catalogue(db)
        try:
            await _add(cat, db, "PL-M1", features)
            loaded = await cat.gallery()
            with pytest.raises(CatalogueError):
                async with db.transaction() as conn:
                    await cat.create(conn, code="PL-M9", by=None)
                    await cat.create(conn, code="PL-M9", by=None)  # refused: the whole write goes
            assert await cat.gallery() is loaded
        finally:
            cat.close()


async def test_ranking_runs_on_the_catalogue_worker_not_the_event_loop(
    tmp_path: Path, features: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = catalogue_module.rank

    def spy(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(catalogue_module, "rank", spy)
    async with Database(tmp_path / "db.sqlite3") as db:
        cat = Catalogue(db)
        try:
            await _add(cat, db, "PL-M1", features)
            ranked = await cat.rank(from_bytes(features), query_station=None)
            assert [c.individual for c in ranked] == ["PL-M1"]
        finally:
            cat.close()
    assert len(threads) == 1 and threads[0].startswith("individuals")
    assert threads[0] != threading.main_thread().name


async def test_an_identity_refreshes_the_alerts_that_show_its_moves(tmp_path: Path, features: bytes) -> None:
    async with Database(tmp_path / "db.sqlite3") as db:
        await seed(db, BASE)
        now = iso(BASE)
        for event in (1, 3, 4):  # posted alerts: events 1 (day 1.4), 3 (day 3.4), 4 (day 4.4)
            await db.execute(
                "INSERT INTO outbox (event_id, chat_id, kind, status, next_attempt_at, created_at) "
                "VALUES (?, ?, 'alert', 'sent', ?, ?)",
                (event, GROUP, now, now),
            )
        ids = Identifications(db, PhotoStore(tmp_path / "photos"), Catalogue(db), movement_days=60)
        try:
            crop = EventCrop(3, sha_for(3), None, "unknown", features, "KZS-01")
            done = await ids.identify(crop, "new", by=1, by_name="A", chat_id=GROUP)
            assert done.changed
            refreshes = (
                "SELECT event_id FROM outbox WHERE kind = 'refresh' AND status = 'pending' ORDER BY event_id"
            )
            assert [r["event_id"] for r in await db.fetchall(refreshes)] == [
                3,
                4,
            ]  # its own, and the later one
            # The same answer again writes nothing and queues nothing more.
            await db.execute("UPDATE outbox SET status = 'sent' WHERE kind = 'refresh'")
            again = await ids.identify(crop, "new", by=1, by_name="A", chat_id=GROUP)
            assert not again.changed and await db.fetchall(refreshes) == []
        finally:
            ids.close()


def _group(areas: tuple[str, ...], trusted: bool = True) -> Group:
    return Group(GROUP, "Coordinators", "en", "Asia/Aqtau", trusted, not areas, areas, True)


async def test_the_summary_counts_individuals_in_the_groups_areas(tmp_path: Path) -> None:
    async with Database(tmp_path / "db.sqlite3") as db:
        await seed(db, BASE)
        cat = Catalogue(db)
        async with db.transaction() as conn:
            m1 = await cat.create(conn, code="PL-M1", by=1, sex="male")  # UST: event 9 (week before), 4
            f1 = await cat.create(conn, code="PL-F1", by=1, sex="female")  # UST: event 1
            f2 = await cat.create(conn, code="PL-F2", by=1, sex="female")  # KZS: event 3
            for event, ind in ((9, m1), (4, m1), (1, f1), (3, f2)):
                await conn.execute(
                    "INSERT INTO identifications (event_id, decision, individual_id, decided_by, at) "
                    "VALUES (?, 'same', ?, 1, ?)",
                    (event, ind.id, iso(BASE)),
                )
        end = BASE + timedelta(days=7)
        kzs = await build_summary(db, _group(("KZS",)), BASE, end, settings=Settings())
        ust = await build_summary(db, _group(("UST",)), BASE, end, settings=Settings())
        everyone = await build_summary(db, _group(()), BASE, end, settings=Settings())
        assert (
            kzs.individuals is not None and ust.individuals is not None and everyone.individuals is not None
        )
        assert (kzs.individuals.seen, kzs.individuals.new, kzs.individuals.minimum_alive) == (
            ["PL-F2"],
            ["PL-F2"],
            1,
        )
        assert (ust.individuals.seen, ust.individuals.new) == (["PL-F1", "PL-M1"], ["PL-F1"])
        assert everyone.individuals.seen == ["PL-F1", "PL-F2", "PL-M1"]
        # An untrusted group's summary names the animals, never where they were.
        untrusted = await build_summary(db, _group((), trusted=False), BASE, end, settings=Settings())
        text = render_summary(untrusted, "en", untrusted.group.zone)
        line = next((x for x in text.split("\n") if "PL-F2" in x), "")
        assert line and not re.search(r"UST-0|KZS-0|Spring|\d+\.\d{3}", line)


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_catalogues_refusals_speak_the_readers_language(lang: str) -> None:
    errors = [
        CatalogueError("code", code="!"),
        CatalogueError("sex", choices="male, female, unknown"),
        CatalogueError("life_stage", choices="adult"),
        CatalogueError("exists", code="PL-M1"),
        CatalogueError("fields", fields="code"),
        CatalogueError("missing", code="PL-X9"),
        CatalogueError("flank", choices="left, right"),
        CatalogueError("decision", decision="maybe"),
    ]
    catalog = keys(lang)
    for exc in errors:
        assert exc.key in catalog, exc.key
        said = exc.text(lang)
        assert said != exc.key and "{" not in said
        assert bool(CYRILLIC.search(said)) == (lang != "en"), said
    assert "PL-X9" in CatalogueError("missing", code="PL-X9").text("kk")
    assert (
        str(CatalogueError("exists", code="PL-M1")) == "PL-M1 is already in the catalogue."
    )  # the CLI's English
