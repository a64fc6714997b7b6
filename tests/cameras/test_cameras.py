"""The camera registry: /camera commands, the cameras file, which camera a message is from, what a
camera writes in its mail body, and silent cameras in the weekly summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cameras.mail.match import allowed, match_camera
from bot.cameras.mail.parse import ARCHIVE, IMAGE, VIDEO, media_kind, parse_mail
from bot.cameras.mail.sample import camera_email
from bot.cameras.registry import NAME, SENDER, CameraError, Cameras, Rule, parse_rule
from bot.config import Settings
from bot.geo import Point
from bot.people import Group
from bot.places import Stations
from bot.reports.summary import build_summary
from bot.reports.summary_view import render_summary
from storage.db import Database, iso
from tests.conftest import GROUP, Team

JPEG = b"\xff\xd8\xff\xe0" + bytes(64)


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = await Database(tmp_path / "lw.sqlite3").open()
    await Stations(database).add("UST-04", Point(43.21, 51.87), "Spring", "UST")
    await Stations(database).add("KZS-01", Point(43.50, 52.20), "Canyon", "KZS")
    yield database  # type: ignore[misc]
    await database.close()


async def test_camera_commands_for_coordinators(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    usage = await team.say(team.admin, "/camera")
    assert "/camera add" in usage["text"] and "/camera assign" in usage["text"]
    added = await team.say(team.admin, "/camera add cam-17 UST-04 match=Cam17@Mail.example,file:UST04_")
    assert (
        "CAM-17" in added["text"] and "cam17@mail.example" in added["text"] and "file:ust04_" in added["text"]
    )
    assert "UST-04" in (await team.say(team.admin, "/camera add CAM-18 ust-04"))["text"]
    unknown = await team.say(team.admin, "/camera add CAM-19 XXX-99")
    assert "XXX-99" in unknown["text"] and "/station add" in unknown["text"]
    taken = await team.say(team.admin, "/camera add CAM-19 UST-04 match=cam17@mail.example")
    assert "cam17@mail.example" in taken["text"] and "CAM-19" not in (await _list(team))
    listing = await _list(team)
    assert "CAM-17 · UST-04" in listing and "CAM-18 · UST-04" in listing
    # Rangers may not touch the registry.
    refused = await team.say(team.ranger, "/camera list")
    assert "CAM-17" not in refused["text"]


async def _list(team: Team) -> str:
    return str((await team.say(team.admin, "/camera list"))["text"])


def test_rules_are_read_strictly() -> None:
    assert parse_rule("Cam@X.kz") == Rule(SENDER, "cam@x.kz")
    assert parse_rule("file:IMG17_") == Rule("file", "img17_")
    assert parse_rule("name:Kaskyr-2") == Rule(NAME, "KASKYR-2") == parse_rule("kaskyr-2")
    for bad in ("a@b", "file:x", "file:../x", "name:has space", "@"):
        with pytest.raises(CameraError):
            parse_rule(bad)


async def test_which_camera_sent_it(db: Database) -> None:
    cameras = Cameras(db)
    await cameras.add("CAM-17", "UST-04", [parse_rule("shared@cams.example")])
    await cameras.add("CAM-1", "KZS-01", [parse_rule("file:kzs01_")])
    known = await cameras.all()

    def who(raw: bytes, allow: tuple[str, ...] = ()) -> tuple[str | None, str | None, bool]:
        m = match_camera(known, parse_mail(raw, max_part_bytes=10**7), allow)
        return (m.camera.code if m.camera else None, m.via, m.trusted)

    # One sending account for many cameras: the name in the subject tells them apart; "CAM-1" is not in
    # "CAM-17".
    assert who(camera_email([("A.JPG", JPEG)], camera="CAM-17", sender="shared@cams.example")) == (
        "CAM-17",
        "subject",
        True,
    )
    assert who(camera_email([("KZS01_0003.JPG", JPEG)], camera="X", sender="shared@cams.example")) == (
        "CAM-1",
        "file",
        True,
    )
    assert who(camera_email([("A.JPG", JPEG)], camera="Trail", sender="shared@cams.example")) == (
        "CAM-17",
        "sender",
        True,
    )
    assert who(camera_email([("A.JPG", JPEG)], camera="CAM-17", sender="forged@x.example")) == (
        "CAM-17",
        "subject",
        False,
    )
    assert who(camera_email([("A.JPG", JPEG)], camera="Trail", sender="n@x.example")) == (None, None, False)
    assert who(camera_email([("A.JPG", JPEG)], camera="Trail", sender="n@x.example"), ("@x.example",))[2]
    assert allowed("a@x.kz", ["a@x.kz"]) and allowed("b@x.kz", ["x.kz"]) and not allowed("a@y.kz", ["@x.kz"])
    assert not allowed("a@evilx.kz", ["@x.kz"]) and not allowed(None, ["@x.kz"])


def test_what_the_camera_writes_about_itself() -> None:
    mail = parse_mail(camera_email([("A.JPG", JPEG)], battery=35, signal="-87dBm"), max_part_bytes=10**7)
    assert (mail.battery, mail.signal, mail.sender) == ("35%", "-87dBm", "cam17@cameras.example")
    assert mail.subject.startswith("CAM-17 ") and [a.filename for a in mail.images] == ["A.JPG"]
    assert parse_mail(b"Subject: CAM-2 BATT:100% CSQ:23\r\n\r\n", max_part_bytes=10).battery == "100%"
    assert media_kind(JPEG, "application/octet-stream") == IMAGE
    assert media_kind(b"\x00\x00\x00\x18ftypheic" + bytes(8)) == IMAGE
    assert media_kind(b"\x00\x00\x00\x18ftypmp42" + bytes(8)) == VIDEO
    assert media_kind(b"PK\x03\x04" + bytes(8), "image/jpeg", "x.jpg") == ARCHIVE  # the bytes decide
    too_big = parse_mail(camera_email([("A.JPG", JPEG + bytes(2000))]), max_part_bytes=1000)
    assert too_big.images == [] and too_big.attachments[0].skipped == "too_large"


async def test_cameras_file(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "cameras.toml"
    path.write_text(
        '[[camera]]\ncode = "CAM-17"\nstation = "UST-04"\nmatch = ["cam17@cams.example", "file:ust04_"]\n\n'
        '[[camera]]\ncode = "CAM-18"\nstation = "KZS-01"\nmatch = "cam18@cams.example"\n',
        encoding="utf-8",
    )
    cameras = Cameras(db)
    assert await cameras.load_file(path) == 2
    assert await cameras.load_file(path) == 2  # read again at every start: same result
    found = {c.code: c for c in await cameras.all()}
    assert found["CAM-17"].station == "UST-04" and found["CAM-18"].from_file
    assert [str(r) for r in found["CAM-17"].rules] == ["cam17@cams.example", "file:ust04_"]
    path.write_text('[[camera]]\ncode = "CAM-19"\nstation = "NOPE-1"\n', encoding="utf-8")
    with pytest.raises(CameraError, match=r"CAM-19.*unknown station"):
        await cameras.load_file(path)
    path.write_text("[[camera]\n", encoding="utf-8")
    with pytest.raises(CameraError):
        await cameras.load_file(path)


async def test_silent_cameras_in_the_weekly_summary(db: Database) -> None:
    end = datetime(2026, 3, 16, 4, 0, tzinfo=UTC)
    cameras = Cameras(db)
    await cameras.add("CAM-17", "UST-04", [])
    await cameras.add("CAM-18", "KZS-01", [])
    await cameras.add("CAM-20", "UST-04", [])
    await db.execute(
        "UPDATE cameras SET created_at = ?, last_message_at = ?, last_photo_at = ?, battery = '5%' "
        "WHERE code = 'CAM-17'",
        (iso(end - timedelta(days=60)), iso(end - timedelta(days=10)), iso(end - timedelta(days=11))),
    )
    await db.execute(
        "UPDATE cameras SET created_at = ? WHERE code = 'CAM-18'", (iso(end - timedelta(days=30)),)
    )
    await db.execute(  # wrote yesterday: not silent
        "UPDATE cameras SET created_at = ?, last_message_at = ? WHERE code = 'CAM-20'",
        (iso(end - timedelta(days=30)), iso(end - timedelta(days=1))),
    )
    settings = Settings(camera_silent_days=3)
    zone = settings.zone
    trusted = Group(GROUP, "C", "en", "Asia/Aqtau", True, True, (), True)
    summary = await build_summary(db, trusted, end - timedelta(days=7), end, settings=settings)
    text = render_summary(summary, "en", zone)
    assert "Cameras silent for 3+ days" in text
    assert "CAM-17 (UST-04): last e-mail 2026-03-06, last photo 2026-03-05 · 🔋 5%" in text
    assert "CAM-18 (KZS-01): last e-mail —" in text and "CAM-20" not in text
    # An untrusted group: how many, in which area; no camera codes (they lead to the station).
    untrusted = Group(GROUP, "C", "en", "Asia/Aqtau", False, True, (), True)
    text = render_summary(
        await build_summary(db, untrusted, end - timedelta(days=7), end, settings=settings), "en", zone
    )
    assert "UST: 1 camera(s)" in text and "KZS: 1 camera(s)" in text and "CAM-17" not in text
    # A group that follows KZS only hears of KZS cameras.
    kzs = Group(GROUP, "C", "en", "Asia/Aqtau", True, False, ("KZS",), True)
    text = render_summary(
        await build_summary(db, kzs, end - timedelta(days=7), end, settings=settings), "en", zone
    )
    assert "CAM-18" in text and "CAM-17" not in text


async def test_an_unknown_camera_without_an_address_can_be_assigned(db: Database) -> None:
    cameras = Cameras(db)
    async with db.transaction() as conn:
        unknown = await cameras.unknown(conn, None)  # mail with no usable From
    done = await cameras.assign(str(unknown.id), "UST-04")
    assert done.camera.code == f"CAM-{unknown.id}" and done.camera.station == "UST-04"
    assert [c.code for c in await cameras.all()] == [f"CAM-{unknown.id}"]  # taken over, not duplicated
    with pytest.raises(CameraError):
        await cameras.assign(str(unknown.id), "UST-04")  # no longer unknown
