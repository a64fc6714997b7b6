"""Cellular cameras: an e-mail in a real IMAP mailbox becomes a sighting and an alert, through the bot
running against the Bot API emulator (the JobQueue polls the mailbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from bot.cameras.mail.sample import camera_email, camera_jpeg
from bot.config import Settings
from bot.geo import Point
from tests.conftest import ADMIN, Team, eventually, leopard_variants
from tests.support.mailserver import ImapServer, imap_fixture  # noqa: F401 - the fixture

STATION = Point(43.2100, 51.8700)


@pytest.fixture
def settings(settings: Settings, imap: ImapServer) -> Settings:
    """The team's bot with the camera mailbox configured, polled twice a second."""
    return imap.settings(settings, mail_poll_seconds=0.5)


async def register(team: Team, rule: str = "match=cam17@cameras.example") -> dict[str, Any]:
    await team.say(team.admin, "/station add UST-04 43.2100 51.8700 Kaskyrbulak area=UST")
    return await team.say(team.admin, f"/camera add CAM-17 UST-04 {rule}".strip())


async def row(team: Team, sql: str, *args: object) -> Any:
    return await team.services.db.fetchone(sql, args)


async def test_camera_email_becomes_an_alert(team: Team, imap: ImapServer, leopard_jpeg: bytes) -> None:
    reply = await register(team)
    assert "CAM-17" in reply["text"] and "cam17@cameras.example" in reply["text"]
    # The camera's own fix, 150 m from the surveyed station point: its GPS wins, the station stays.
    photo = camera_jpeg(leopard_jpeg, taken=datetime(2026, 3, 14, 5, 30), gps=Point(43.2112, 51.8712))
    before = len(team.alerts())
    uid = await imap.append(camera_email([("IMG_0042.JPG", photo)]))
    await team.emu.wait_for(lambda: len(team.alerts()) == before + 1, timeout=30)
    alert = team.alerts()[-1]
    # An untrusted group: the station's area, never its code (docs/THREAT_MODEL.md).
    assert "Leopard" in alert["caption"] and "Area UST" in alert["caption"]
    assert "camera e-mail" in alert["caption"]
    s = await row(team, "SELECT * FROM sightings ORDER BY id DESC LIMIT 1")
    assert s["source"] == "camera:CAM-17" and s["station_code"] == "UST-04"
    assert s["location_source"] == "exif" and s["lat"] == pytest.approx(43.2112, abs=1e-4)
    assert s["taken_at"] == "2026-03-14T00:30:00+00:00"  # 05:30 camera time at UTC+5
    assert s["ranger_id"] == -1 and s["event_id"] == s["id"]
    # Marked read on the server only once the sighting was committed, and written down as done.
    assert await eventually(lambda: imap.seen(uid))
    m = await row(team, "SELECT * FROM mail_messages WHERE uid = ?", uid)
    assert m["status"] == "done" and m["photos"] == 1 and m["trusted"] == 1 and m["flagged_at"]
    camera = await row(team, "SELECT * FROM cameras WHERE code = 'CAM-17'")
    assert camera["battery"] == "80%" and camera["signal"] == "4/5"
    assert camera["last_photo_at"] == "2026-03-14T00:30:00+00:00"
    # The camera's pseudo-ranger owns the sighting but is no person to list, suspend or promote.
    people = (await team.say(team.admin, "/rangers"))["text"]
    assert "camera e-mail" not in people and "-1" not in people


async def test_unknown_sender_is_stored_and_detected_never_alerted_and_asked_about_once(
    team: Team,
    imap: ImapServer,
    leopard_jpeg: bytes,
    leopard2_jpeg: bytes,
) -> None:
    await register(team)
    for data in (leopard_jpeg, leopard2_jpeg):
        await imap.append(camera_email([("PICT0001.JPG", data)], camera="TRAIL-9", sender="x9@spam.example"))
    db = team.services.db
    await eventually(lambda: _count(db, "SELECT COUNT(*) FROM mail_messages WHERE status = 'done'", 2), 30)
    rows = await db.fetchall("SELECT * FROM sightings ORDER BY id")
    assert len(rows) == 2 and all(r["is_leopard"] == 1 for r in rows)  # stored and detected
    assert all(r["event_id"] is None for r in rows) and all(r["source"] == "camera:?" for r in rows)
    assert await db.scalar("SELECT COUNT(*) FROM outbox") == 0  # never alerted
    notices = await db.fetchall("SELECT chat_id, text FROM notices WHERE dedup_key LIKE 'camera-unknown:%'")
    assert [n["chat_id"] for n in notices] == [ADMIN]  # asked once, not once per message
    assert "x9@spam.example" in notices[0]["text"] and "/camera assign" in notices[0]["text"]
    assert "LW_MAIL_ALLOW" in notices[0]["text"]  # says why nothing was alerted
    # The coordinator assigns it: its photos get the station, the held-back leopards are listed.
    number = await db.scalar("SELECT id FROM cameras WHERE code IS NULL")
    reply = await team.say(team.admin, f"/camera assign {number} UST-04 TRAIL-9")
    assert "TRAIL-9" in reply["text"] and "/sighting 1" in reply["text"] and "/sighting 2" in reply["text"]
    assert {r["station_code"] for r in await db.fetchall("SELECT station_code FROM sightings")} == {"UST-04"}
    assert await db.scalar("SELECT COUNT(*) FROM cameras WHERE code IS NULL") == 0
    # From now on its mail alerts.
    before = len(team.alerts())
    await imap.append(
        camera_email([("PICT0002.JPG", leopard_variants(1)[0])], camera="TRAIL-9", sender="x9@spam.example")
    )
    await team.emu.wait_for(lambda: len(team.alerts()) == before + 1, timeout=30)


async def test_allow_listed_sender_alerts_without_a_registered_camera(
    emu: Any,
    settings: Settings,
    detector: Any,
    imap: ImapServer,
    leopard_jpeg: bytes,
) -> None:
    from tests.conftest import start_team

    async for team in start_team(emu, settings.with_(mail_allow="@cameras.example"), detector):
        before = len(team.alerts())
        photo = camera_jpeg(leopard_jpeg, gps=Point(43.30, 52.10))
        await imap.append(camera_email([("IMG_1.JPG", photo)], camera="NEW-1", sender="new1@cameras.example"))
        await team.emu.wait_for(lambda: len(team.alerts()) == before + 1, timeout=30)  # noqa: B023
        s = await team.services.db.fetchone("SELECT * FROM sightings")
        assert s["location_source"] == "exif" and s["station_code"] is None
        notice = await team.services.db.scalar(
            "SELECT text FROM notices WHERE dedup_key LIKE 'camera-unknown:%'"
        )
        assert "/camera assign" in notice and "LW_MAIL_ALLOW" not in notice


async def test_camera_moved_from_its_station_is_reported_once(
    team: Team,
    imap: ImapServer,
    leopard_jpeg: bytes,
) -> None:
    await register(team)
    away = Point(43.2280, 51.8700)  # 2 km north of the station
    for i, data in enumerate(leopard_variants(2)):
        photo = camera_jpeg(data, gps=away)
        await imap.append(camera_email([(f"IMG_{i}.JPG", photo)]))
    db = team.services.db
    await eventually(lambda: _count(db, "SELECT COUNT(*) FROM mail_messages WHERE status = 'done'", 2), 30)
    rows = await db.fetchall("SELECT * FROM sightings ORDER BY id")
    # Not at the station any more: the camera's own position, no station.
    assert [(r["station_code"], r["location_source"]) for r in rows] == [(None, "exif"), (None, "exif")]
    notices = await db.fetchall("SELECT text FROM notices WHERE dedup_key LIKE 'camera-moved:%'")
    assert len(notices) == 1 and " 2.0 " in notices[0]["text"] and "UST-04" in notices[0]["text"]
    assert "43.2" not in notices[0]["text"]  # a coordinator in private sees no exact place


async def test_registered_name_from_an_unregistered_address_is_held_back(
    team: Team,
    imap: ImapServer,
    leopard_jpeg: bytes,
) -> None:
    await register(team, rule="")  # only the camera's name in the subject identifies it
    await imap.append(camera_email([("IMG_9.JPG", leopard_jpeg)], sender="other@forged.example"))
    db = team.services.db
    await eventually(lambda: _count(db, "SELECT COUNT(*) FROM mail_messages WHERE status = 'done'", 1), 30)
    s = await db.fetchone("SELECT * FROM sightings")
    assert s["station_code"] == "UST-04" and s["event_id"] is None
    assert await db.scalar("SELECT COUNT(*) FROM outbox") == 0
    text = await db.scalar("SELECT text FROM notices WHERE dedup_key LIKE 'camera-sender:%'")
    assert "/camera add CAM-17 UST-04 match=other@forged.example" in text


async def test_no_mail_job_without_mail_settings(
    emu: Any,
    settings: Settings,
    detector: Any,
    imap: ImapServer,
) -> None:
    from bot.app import build_application

    with_mail = build_application(settings, detector)
    without = build_application(settings.with_(mail_host=""), detector)
    assert with_mail.job_queue is not None and without.job_queue is not None
    # The first poll is a one-off that runs however late the start is (tests/cameras/test_mail_schedule.py).
    assert sorted(j.name for j in with_mail.job_queue.jobs() if j.name.startswith("mail")) == [
        "mail-first:main",
        "mail:main",
    ]
    assert [j.name for j in without.job_queue.jobs() if j.name.startswith("mail")] == []


async def _count(db: Any, sql: str, n: int) -> bool:
    return int(await db.scalar(sql)) >= n


async def test_a_kick_while_the_bot_stops_starts_no_stray_task(
    emu: Any, settings: Settings, detector: Any, recwarn: pytest.WarningsRecorder
) -> None:
    """A camera mail finished during shutdown: its alert waits in the outbox for the next start, rather
    than in a delivery task nobody awaits (PTB warns about, and may drop, such tasks)."""
    from bot.app import build_application
    from handlers.mailboxes import _Kick

    app = build_application(settings, detector)
    kick = _Kick(app, object())  # type: ignore[arg-type]
    kick()
    assert not kick.running
    assert not [w for w in recwarn if "not running" in str(w.message)]
