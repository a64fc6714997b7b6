"""Camera mail from someone hostile (issue 21), through MailIntake.handle with the real services and
detector, and through a real IMAP server (pymap) where the mailbox itself matters: a message over a cap
quarantined (kept, reported once, never blocking the mailbox), a forged display name raising no alert, a
bad charset losing no photo, notices free of control characters and giving exact places only to readers
who may see them, and a camera's GPS fix checked before it replaces its station."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.cameras.mail import MailIntake, MailPoller, MessageRef
from bot.cameras.mail.sample import camera_email, camera_jpeg
from bot.detection.model import OnnxLeopardDetector
from bot.geo import Point
from bot.services import Services
from tests.conftest import leopard_variants
from tests.support.hostile_mail import (  # noqa: F401 - world: the fixture
    ADMIN_ID,
    COORDINATOR_ID,
    MB,
    STATION,
    alerts,
    furnish,
    mail_in,
    nested,
    notices,
    text_and_photo,
    visible_junk,
    with_from,
    world_fixture,
    world_settings,
)
from tests.support.mailserver import ImapServer, imap_fixture  # noqa: F401 - the fixture


async def test_a_nested_bomb_is_quarantined_reported_once_and_never_retried(
    world: tuple[Services, MailIntake],
) -> None:
    svc, intake = world
    ref = MessageRef("INBOX", 1, 4242)
    raw = nested(900, MB).replace(b"Subject: nested", b"Subject: bomb \x1b[2J\xe2\x80\xae")
    outcome = await intake.handle(raw, ref)
    assert outcome.status == "quarantined"
    row = await svc.db.fetchone("SELECT * FROM mail_messages WHERE uid = 4242")
    assert row["status"] == "quarantined" and "depth" in row["reason"] and row["sender"] == "x@y.example"
    told = await notices(svc, "mail-quarantined:%")
    assert list(told) == [ADMIN_ID] and len(told[ADMIN_ID]) == 1
    assert "UID 4242" in told[ADMIN_ID][0] and "depth" in told[ADMIN_ID][0]
    assert not visible_junk(told[ADMIN_ID][0])
    again = await intake.handle(raw, ref)
    assert again.already and again.status == "quarantined"
    assert len((await notices(svc, "mail-quarantined:%"))[ADMIN_ID]) == 1
    assert await svc.db.scalar("SELECT COUNT(*) FROM sightings") == 0
    # The next message is read as ever.
    good = await mail_in(intake, camera_email([("IMG_1.JPG", leopard_variants(1)[0])]))
    assert good.status == "done" and good.new == 1


async def test_a_quarantined_message_stays_in_the_mailbox_and_blocks_nothing(
    tmp_path: Path,
    imap: ImapServer,
    detector: OnnxLeopardDetector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    svc = await Services.create(imap.settings(world_settings(tmp_path)), detector)
    try:
        await furnish(svc)
        poller = MailPoller(svc.settings, svc.mail)
        bomb = await imap.append(nested(40, 20_000))  # small enough for the test server to store
        good = await imap.append(camera_email([("IMG_1.JPG", leopard_variants(1)[0])]))
        report = await poller.poll_once()
        assert report.errors == [] and report.photos == 1 and report.quarantined == 1
        assert await imap.seen(good) and not await imap.seen(bomb)  # left unread for a person
        statuses = {r["uid"]: r["status"] for r in await svc.db.fetchall("SELECT * FROM mail_messages")}
        assert statuses == {bomb: "quarantined", good: "done"}
        handled: list[int] = []
        original = MailIntake.handle

        async def spy(self: MailIntake, raw: bytes, ref: MessageRef) -> Any:
            handled.append(ref.uid)
            return await original(self, raw, ref)

        monkeypatch.setattr(MailIntake, "handle", spy)
        await poller.poll_once()
        assert handled == []  # not fetched again: no loop
        assert len((await notices(svc, "mail-quarantined:%"))[ADMIN_ID]) == 1
    finally:
        await svc.close()


async def test_a_forged_display_name_raises_no_alert(world: tuple[Services, MailIntake]) -> None:
    svc, intake = world
    raw = with_from(
        camera_email([("IMG_1.JPG", leopard_variants(1)[0])]), "cam17@cameras.example <mallory@evil.example>"
    )
    outcome = await mail_in(intake, raw)
    assert outcome.status == "done" and outcome.new == 1
    assert not outcome.trusted and outcome.alerts == 0 and await alerts(svc) == 0
    row = await svc.db.fetchone("SELECT sender, trusted FROM mail_messages")
    assert (row["sender"], row["trusted"]) == ("mallory@evil.example", 0)
    told = await notices(svc, "camera-sender:%")
    assert told and all("mallory@evil.example" in text for texts in told.values() for text in texts)


async def test_an_unknown_charset_loses_only_its_text_not_the_photo(
    world: tuple[Services, MailIntake],
) -> None:
    svc, intake = world
    outcome = await mail_in(intake, text_and_photo("idna", leopard_variants(1)[0]))
    assert outcome.status == "done" and outcome.new == 1 and outcome.alerts == 1
    assert await alerts(svc) == 1


async def test_control_and_bidi_characters_never_reach_a_notice(world: tuple[Services, MailIntake]) -> None:
    svc, intake = world
    hostile = "TRAIL-9\x00\x07\x1b]0;owned\x07 \u202egnp.exe\u200b"
    raw = camera_email(
        [("IMG\u202e9.JPG", leopard_variants(1)[0])], camera="TRAIL-9", sender="x9@spam.example"
    )
    raw = raw.replace(b"Subject: TRAIL-9", b"Subject: " + hostile.encode())
    outcome = await mail_in(intake, raw)
    assert outcome.status == "done" and outcome.new == 1
    told = await notices(svc, "%")
    assert told, "nobody was asked about the unknown camera"
    for texts in told.values():
        for text in texts:
            assert not visible_junk(text), text
    assert "TRAIL-9" in told[ADMIN_ID][0] and "gnp.exe" in told[ADMIN_ID][0]


async def test_a_new_cameras_fix_in_its_subject_reaches_only_exact_readers(
    world: tuple[Services, MailIntake],
) -> None:
    svc, intake = world
    raw = camera_email([("PICT0001.JPG", leopard_variants(1)[0])], camera="TRAIL-9", sender="x9@spam.example")
    raw = raw.replace(b"Subject: TRAIL-9", b"Subject: TRAIL-9 GPS:N43.23456 E51.84321")
    await mail_in(intake, raw)
    told = await notices(svc, "camera-unknown:%")
    assert set(told) == {ADMIN_ID, COORDINATOR_ID}
    assert "43.23456" in told[ADMIN_ID][0]  # an admin in private sees exact places
    coordinator = told[COORDINATOR_ID][0]
    assert "/camera assign" in coordinator and "x9@spam.example" in coordinator
    for leak in ("43.23", "51.84", "N43", "E51"):
        assert leak not in coordinator, coordinator


# ---- a camera's own GPS fix -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fix",
    [
        Point(0.5, -30.0),  # the Atlantic: a fix not yet acquired, read as zeros and junk
        Point(-43.21, 51.87),  # the wrong hemisphere
        Point(22.54, 113.95),  # a stale factory fix in Shenzhen
        Point(44.90, 55.90),  # inside the region, but 370 km from the station
    ],
    ids=["atlantic", "hemisphere", "factory", "far"],
)
async def test_an_impossible_fix_is_kept_as_evidence_and_the_station_stands(
    world: tuple[Services, MailIntake], fix: Point
) -> None:
    svc, intake = world
    for i, photo in enumerate(leopard_variants(2)):
        outcome = await mail_in(intake, camera_email([(f"IMG_{i}.JPG", camera_jpeg(photo, gps=fix))]))
        assert outcome.status == "done" and outcome.new == 1
    rows = await svc.db.fetchall("SELECT * FROM sightings ORDER BY id")
    for r in rows:
        assert (r["station_code"], r["location_source"]) == ("UST-04", "station")
        assert (r["lat"], r["lon"]) == (pytest.approx(STATION.lat), pytest.approx(STATION.lon))
        assert (r["exif_lat"], r["exif_lon"]) == (
            pytest.approx(fix.lat, abs=1e-4),
            pytest.approx(fix.lon, abs=1e-4),
        )
    assert await alerts(svc) == 1  # one burst at the station
    camera = await svc.db.fetchone("SELECT * FROM cameras WHERE code = 'CAM-17'")
    assert camera["station_code"] == "UST-04" and camera["moved_lat"] is None
    assert await notices(svc, "camera-moved:%") == {}
    told = await notices(svc, "camera-gps:%")
    assert {k: len(v) for k, v in told.items()} == {ADMIN_ID: 1, COORDINATOR_ID: 1}  # asked once
    assert f"{fix.lat:.5f}" in told[ADMIN_ID][0] and "CAM-17" in told[ADMIN_ID][0]
    assert f"{fix.lat:.5f}" not in told[COORDINATOR_ID][0] and f"{fix.lon:.5f}" not in told[COORDINATOR_ID][0]
    assert "CAM-17" in told[COORDINATOR_ID][0]


async def test_a_plausible_move_still_wins_over_the_station(world: tuple[Services, MailIntake]) -> None:
    svc, intake = world
    away = Point(43.2280, 51.8700)  # 2 km north: moved, not impossible
    await mail_in(intake, camera_email([("IMG_1.JPG", camera_jpeg(leopard_variants(1)[0], gps=away))]))
    r = await svc.db.fetchone("SELECT * FROM sightings")
    assert (r["station_code"], r["location_source"], r["lat"]) == (None, "exif", pytest.approx(away.lat))
    assert await notices(svc, "camera-gps:%") == {}
    assert len(await notices(svc, "camera-moved:%")) == 2


async def test_an_unknown_cameras_fix_outside_the_region_places_nothing(
    world: tuple[Services, MailIntake],
) -> None:
    svc, intake = world
    photo = camera_jpeg(leopard_variants(1)[0], gps=Point(0.5, -30.0))
    await mail_in(intake, camera_email([("P.JPG", photo)], camera="TRAIL-9", sender="x9@spam.example"))
    r = await svc.db.fetchone("SELECT * FROM sightings")
    assert r["lat"] is None and r["location_source"] is None
    assert (r["exif_lat"], r["exif_lon"]) == (pytest.approx(0.5), pytest.approx(-30.0))
    assert set(await notices(svc, "camera-gps:%")) == {ADMIN_ID, COORDINATOR_ID}


# ---- Authentication-Results, where the provider writes them -----------------------------------------


async def test_with_an_auth_server_only_vouched_mail_alerts(
    tmp_path: Path, detector: OnnxLeopardDetector
) -> None:
    svc = await Services.create(world_settings(tmp_path, mail_auth_server="mx.google.com"), detector)
    try:
        await furnish(svc)
        photos = leopard_variants(2)
        # The camera's own address, but the provider says the domain's DMARC failed: a forgery.
        failed = b"Authentication-Results: mx.google.com; dmarc=fail header.from=cameras.example\r\n"
        outcome = await mail_in(svc.mail, failed + camera_email([("IMG_1.JPG", photos[0])]))
        assert outcome.new == 1 and not outcome.trusted and await alerts(svc) == 0
        told = await notices(svc, "camera-sender:%")
        assert told and all("LW_MAIL_AUTH_SERVER" in text for texts in told.values() for text in texts)
        passed = b"Authentication-Results: mx.google.com; dmarc=pass header.from=cameras.example\r\n"
        outcome = await mail_in(svc.mail, passed + camera_email([("IMG_2.JPG", photos[1])]))
        assert outcome.trusted and outcome.alerts == 1
    finally:
        await svc.close()


async def test_a_forged_display_name_is_named_in_the_notice(world: tuple[Services, MailIntake]) -> None:
    svc, intake = world
    raw = with_from(
        camera_email([("IMG_1.JPG", leopard_variants(1)[0])]), "cam17@cameras.example <m@evil.example>"
    )
    await mail_in(intake, raw)
    text = (await notices(svc, "camera-sender:%"))[ADMIN_ID][0]
    assert "m@evil.example" in text and "cam17@cameras.example" in text and "forged" in text


# ---- migration 0013 ---------------------------------------------------------------------------------


async def test_migration_0013_keeps_every_ledger_row_and_its_photos(tmp_path: Path) -> None:
    """mail_messages is rebuilt for its new status: rows, ids, the photos that point at them and the
    AUTOINCREMENT counter all survive, and the foreign keys hold."""
    import sqlite3

    from storage.db import Database, migrations

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("PRAGMA foreign_keys=ON")
    for number, sql in migrations():
        if number <= 12:
            old.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version={number};\nCOMMIT;")
    now = "2026-03-14T00:00:00+00:00"
    for uid, status in ((1, "done"), (2, "failed"), (3, "done")):
        old.execute(
            "INSERT INTO mail_messages (mailbox, uidvalidity, uid, sender, subject, status, received_at) "
            "VALUES ('box', 1, ?, 'a@b.example', 's', ?, ?)",
            (uid, status, now),
        )
    old.execute("DELETE FROM mail_messages WHERE uid = 3")  # the counter stays at 3
    old.execute("INSERT INTO mail_photos (message_row, sha256, own) VALUES (1, 'ab', 1)")
    old.close()

    async with Database(path) as db:
        rows = await db.fetchall("SELECT id, uid, status FROM mail_messages ORDER BY id")
        assert [tuple(r) for r in rows] == [(1, 1, "done"), (2, 2, "failed")]
        assert await db.scalar("SELECT message_row FROM mail_photos") == 1
        assert await db.fetchall("PRAGMA foreign_key_check") == []
        cur = await db.execute(
            "INSERT INTO mail_messages (mailbox, uidvalidity, uid, status, received_at) "
            "VALUES ('box', 1, 4, 'quarantined', ?)",
            (now,),
        )
        assert cur.lastrowid == 4  # not 3: an id once handed out is never handed out again
        with pytest.raises(sqlite3.IntegrityError):
            await db.execute("INSERT INTO mail_photos (message_row, sha256, own) VALUES (99, 'cd', 1)")
