"""/camera remove: a camera out of service matches no mail, is listed nowhere, keeps all it sent, and
can be added again. Through the Bot API emulator, with a real IMAP mailbox the bot polls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cameras import CameraError, Cameras, parse_rule, silent_cameras
from bot.cameras.mail.sample import camera_email
from bot.config import Settings
from bot.geo import Point
from bot.places import Stations
from handlers.cameras import _removed
from storage.db import Database, iso
from tests.conftest import ADMIN, Team, eventually, leopard_variants
from tests.support.mailserver import ImapServer, imap_fixture  # noqa: F401 - the fixture

ADDRESS = "cam17@cameras.example"


@pytest.fixture
def settings(settings: Settings, imap: ImapServer) -> Settings:
    """The team's bot with the camera mailbox configured, polled twice a second."""
    return imap.settings(settings, mail_poll_seconds=0.5)


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    database = await Database(tmp_path / "lw.sqlite3").open()
    await Stations(database).add("UST-04", Point(43.21, 51.87), "Spring", "UST")
    yield database
    await database.close()


async def _done(team: Team, n: int) -> bool:
    return int(await team.services.db.scalar("SELECT COUNT(*) FROM mail_messages WHERE status = 'done'")) >= n


async def _list(team: Team) -> str:
    return str((await team.say(team.admin, "/camera list"))["text"])


async def test_only_coordinators_remove_and_what_is_not_there_is_said(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    await team.say(team.admin, f"/camera add CAM-17 UST-04 match={ADDRESS}")
    refused = await team.say(team.ranger, "/camera remove CAM-17")
    assert "removed" not in refused["text"] and "CAM-17 · UST-04" in await _list(team)
    nothing = await team.say(team.admin, "/camera remove CAM-99")
    assert "There is no camera CAM-99 in service" in nothing["text"] and "/camera list" in nothing["text"]
    usage = await team.say(team.admin, "/camera remove")
    assert "/camera remove CAM-17" in usage["text"] and "/camera add" in usage["text"]
    helped = await team.say(team.admin, "/help")
    assert "/camera remove CODE" in helped["text"]
    assert await team.services.db.scalar("SELECT removed_at FROM cameras WHERE code = 'CAM-17'") is None
    # Russian and Kazakh coordinators get it in their language.
    await team.say(team.admin, "/lang ru")
    assert "Нет действующей камеры CAM-99" in (await team.say(team.admin, "/camera remove CAM-99"))["text"]
    await team.say(team.admin, "/lang kk")
    assert "жұмыстағы камера жоқ" in (await team.say(team.admin, "/camera remove CAM-99"))["text"]


async def test_a_removed_cameras_mail_is_an_unknown_senders_and_it_can_come_back(
    team: Team, imap: ImapServer
) -> None:
    db = team.services.db
    photos = leopard_variants(3)
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    await team.say(team.admin, f"/camera add CAM-17 UST-04 match={ADDRESS}")
    before = len(team.alerts())
    await imap.append(camera_email([("IMG_1.JPG", photos[0])], sender=ADDRESS))
    await team.emu.wait_for(lambda: len(team.alerts()) == before + 1, timeout=30)
    first = await db.fetchone("SELECT * FROM sightings")

    reply = await team.say(team.admin, "/camera remove cam-17")
    assert "Camera CAM-17 is removed" in reply["text"]
    assert ADDRESS in reply["text"] and "/camera add CAM-17" in reply["text"]
    assert "CAM-17 · " not in await _list(team)
    # Nothing it sent is lost: the sighting, its photo, its mail in the ledger, and the camera's row.
    kept = await db.fetchone("SELECT * FROM sightings WHERE id = ?", (first["id"],))
    assert dict(kept) == dict(first)
    assert team.services.photos.path_for(first["photo_sha256"]).exists()
    camera = await db.fetchone("SELECT * FROM cameras WHERE code = 'CAM-17'")
    assert camera["removed_at"] and camera["removed_by"] == ADMIN and camera["station_code"] == "UST-04"
    ledger = await db.fetchone("SELECT camera_id, photos FROM mail_messages")
    assert (ledger["camera_id"], ledger["photos"]) == (camera["id"], 1)
    assert await db.scalar("SELECT COUNT(*) FROM camera_matches") == 0  # its address is free
    removal = await db.fetchone("SELECT * FROM camera_removals")
    assert (removal["rules"], removal["removed_by"], removal["readded_at"]) == (ADDRESS, ADMIN, None)

    # Its address (and its name in the subject) now mean nothing: stored, detected, never alerted, and
    # the coordinators are asked about an unknown sender.
    alerts = int(await db.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'alert'"))
    await imap.append(camera_email([("IMG_2.JPG", photos[1])], sender=ADDRESS))
    assert await eventually(lambda: _done(team, 2), 30)
    late = await db.fetchone("SELECT * FROM sightings ORDER BY id DESC LIMIT 1")
    assert late["id"] != first["id"] and late["is_leopard"] == 1 and late["event_id"] is None
    assert (late["source"], late["station_code"]) == ("camera:?", None)
    assert await db.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'alert'") == alerts
    notice = await db.scalar("SELECT text FROM notices WHERE dedup_key LIKE 'camera-unknown:%'")
    assert ADDRESS in notice and "/camera assign" in notice and "LW_MAIL_ALLOW" in notice
    await team.emu.wait_for(lambda: any(ADDRESS in m.get("text", "") for m in team.emu.sent(ADMIN)), 30)

    # Put back into service: the same row, the removal closed, the photo from the gap taken over.
    back = await team.say(team.admin, f"/camera add CAM-17 UST-04 match={ADDRESS}")
    assert "CAM-17" in back["text"] and f"/sighting {late['id']}" in back["text"]
    assert await db.scalar("SELECT id FROM cameras WHERE code = 'CAM-17'") == camera["id"]
    assert await db.scalar("SELECT COUNT(*) FROM cameras WHERE code IS NULL") == 0
    closed = await db.fetchone("SELECT * FROM camera_removals")
    assert closed["readded_at"] and closed["readded_by"] == ADMIN
    assert "CAM-17 · UST-04" in await _list(team)
    # Its mail alerts again (minutes after its first photo at the same station: the same event).
    await imap.append(camera_email([("IMG_3.JPG", photos[2])], sender=ADDRESS))
    assert await eventually(lambda: _done(team, 3), 30)
    third = await db.fetchone("SELECT * FROM sightings ORDER BY id DESC LIMIT 1")
    assert (third["source"], third["event_id"]) == ("camera:CAM-17", first["id"])


async def test_removed_rules_go_to_another_camera_and_a_removed_one_is_never_silent(db: Database) -> None:
    cameras = Cameras(db)
    await cameras.add("CAM-17", "UST-04", [parse_rule(ADDRESS), parse_rule("file:ust04_")])
    with pytest.raises(CameraError, match="already names camera CAM-17"):
        await cameras.add("CAM-18", "UST-04", [parse_rule(ADDRESS)])
    now = datetime(2026, 3, 16, 4, 0, tzinfo=UTC)
    month_ago = iso(now - timedelta(days=30))
    await db.execute("UPDATE cameras SET created_at = ?, last_message_at = ?", (month_ago, month_ago))
    assert [c.code for c in await silent_cameras(db, now, 3)] == ["CAM-17"]
    gone = await cameras.remove("CAM-17", by=5)
    assert gone.code == "CAM-17" and [str(r) for r in gone.rules] == [ADDRESS, "file:ust04_"]
    assert await silent_cameras(db, now, 3) == [] and await cameras.get("CAM-17") is None
    await cameras.add("CAM-18", "UST-04", [parse_rule(ADDRESS)])  # the address is free now
    assert [c.code for c in await cameras.all()] == ["CAM-18"]
    # Back in service: as long to write as a new camera, then silent again.
    await cameras.add("CAM-17", "UST-04", [])
    await db.execute("UPDATE camera_removals SET readded_at = ?", (iso(now - timedelta(days=1)),))
    assert await silent_cameras(db, now, 3) == []
    await db.execute("UPDATE camera_removals SET readded_at = ?", (iso(now - timedelta(days=4)),))
    assert [c.code for c in await silent_cameras(db, now, 3)] == ["CAM-17"]


async def test_a_dismissed_unknown_camera_that_writes_again_is_a_new_one(db: Database) -> None:
    cameras = Cameras(db)
    async with db.transaction() as conn:
        unknown = await cameras.unknown(conn, "x9@spam.example")
    gone = await cameras.remove(f"#{unknown.id}")
    assert gone.id == unknown.id and await cameras.all() == []
    async with db.transaction() as conn:
        again = await cameras.unknown(conn, "x9@spam.example")
    assert again.id != unknown.id and [c.id for c in await cameras.all()] == [again.id]
    # Registering the address takes over the one in service; the dismissed one stays as it was left.
    await cameras.add("TRAIL-9", "UST-04", [parse_rule("x9@spam.example")])
    assert await db.scalar("SELECT removed_at FROM cameras WHERE id = ?", (unknown.id,)) is not None
    assert await db.scalar("SELECT COUNT(*) FROM cameras WHERE id = ?", (again.id,)) == 0


async def test_the_cameras_file_does_not_bring_a_removed_camera_back(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "cameras.toml"
    path.write_text(
        f'[[camera]]\ncode = "CAM-17"\nstation = "UST-04"\nmatch = "{ADDRESS}"\n', encoding="utf-8"
    )
    cameras = Cameras(db)
    assert await cameras.load_file(path) == 1
    gone = await cameras.remove("CAM-17")
    assert "LW_CAMERAS_FILE" in _removed("en", gone)  # the reply says the file still lists it
    assert await cameras.load_file(path) == 0  # the next start: still out of service
    assert await cameras.all() == [] and await db.scalar("SELECT COUNT(*) FROM camera_matches") == 0
