"""Camera mail without Telegram: crash safety, bad mail, limits, where handled mail goes. A real IMAP
server (pymap, tests/mailserver.py) and the bot's real services and detector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.cameras.mail import MailIntake, MailPoller
from bot.cameras.mail.client import Mailbox
from bot.cameras.mail.sample import camera_email, camera_jpeg
from bot.config import Settings
from bot.detection.model import OnnxLeopardDetector
from bot.geo import Point
from bot.intake import Sightings
from bot.services import Services
from storage.db import iso, utcnow
from tests.conftest import GROUP, leopard_variants
from tests.support.mailserver import ImapServer, imap_fixture  # noqa: F401 - the fixture

SENDER = "cam17@cameras.example"


class Crash(BaseException):
    """Stands for the process dying (kill -9, power cut): nothing after it runs, no except clause sees it."""


def mail_settings(tmp_path: Path, server: ImapServer, **changes: Any) -> Settings:
    base = Settings(database=tmp_path / "lw.sqlite3", photo_dir=tmp_path / "photos", admin_ids=frozenset({1}))
    return server.settings(base, **changes)


async def start(settings: Settings, detector: OnnxLeopardDetector) -> tuple[Services, MailPoller]:
    svc = await Services.create(settings, detector)
    return svc, MailPoller(svc.settings, svc.mail)


@pytest.fixture
async def camera_world(
    tmp_path: Path,
    imap: ImapServer,
    detector: OnnxLeopardDetector,
) -> AsyncIterator[tuple[Services, MailPoller]]:
    """A station, camera CAM-17 at it, and one registered coordinator group (so alerts are queued)."""
    svc, poller = await start(mail_settings(tmp_path, imap), detector)
    await furnish(svc, poller)
    yield svc, poller
    await svc.close()


async def furnish(svc: Services, poller: MailPoller) -> None:
    await svc.stations.add("UST-04", Point(43.21, 51.87), "Spring", "UST")
    await poller.intake.cameras.add("CAM-17", "UST-04", [_sender_rule()])
    await svc.db.execute(
        "INSERT INTO groups (chat_id, title, language, created_at) VALUES (?, 'C', 'en', ?)",
        (GROUP, iso(utcnow())),
    )


def _sender_rule() -> Any:
    from bot.cameras.registry import parse_rule

    return parse_rule(SENDER)


async def counts(svc: Services) -> tuple[int, int]:
    sightings = await svc.db.scalar("SELECT COUNT(*) FROM sightings")
    alerts = await svc.db.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'alert'")
    return int(sightings), int(alerts)


async def test_crash_mid_message_replays_it_without_duplicates(
    camera_world: tuple[Services, MailPoller],
    imap: ImapServer,
    detector: OnnxLeopardDetector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    svc, poller = camera_world
    photos = [(f"IMG_{i}.JPG", data) for i, data in enumerate(leopard_variants(3))]
    uid = await imap.append(camera_email(photos))
    original = Sightings.record_photo
    calls = 0

    async def dies_after_the_second(self: Sightings, intake: Any) -> Any:
        nonlocal calls
        calls += 1
        receipt = await original(self, intake)
        if calls == 2:
            raise Crash  # the second sighting is committed, the third never made
        return receipt

    monkeypatch.setattr(Sightings, "record_photo", dies_after_the_second)
    with pytest.raises(Crash):
        await poller.poll_once()
    assert await counts(svc) == (2, 1)  # two photos of one burst: one alert so far
    assert not await imap.seen(uid)  # not flagged: its sightings are not all committed
    assert await svc.db.scalar("SELECT status FROM mail_messages WHERE uid = ?", (uid,)) == "processing"
    await svc.close()

    monkeypatch.setattr(Sightings, "record_photo", original)
    svc2, again = await start(svc.settings, detector)  # the restart
    try:
        report = await again.poll_once()
        assert report.handled == 1 and report.photos == 1
        assert await counts(svc2) == (3, 1)  # the third photo added, nothing twice
        assert await imap.seen(uid)
        row = await svc2.db.fetchone("SELECT * FROM mail_messages WHERE uid = ?", (uid,))
        assert row["status"] == "done" and row["attempts"] == 2
        own = await svc2.db.fetchall("SELECT own, sighting_id FROM mail_photos ORDER BY sighting_id")
        assert [(r["own"], r["sighting_id"]) for r in own] == [(1, 1), (1, 2), (1, 3)]
        # Nothing left to do: a third poll fetches nothing.
        assert (await again.poll_once()).handled == 0
    finally:
        await svc2.close()


async def test_crash_after_commit_before_flagging_only_flags(
    camera_world: tuple[Services, MailPoller],
    imap: ImapServer,
    detector: OnnxLeopardDetector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    svc, poller = camera_world
    uid = await imap.append(camera_email([("IMG_1.JPG", leopard_variants(1)[0])]))

    async def dies(self: Mailbox, uids: Any) -> None:
        raise Crash

    original = Mailbox.mark_handled
    monkeypatch.setattr(Mailbox, "mark_handled", dies)
    with pytest.raises(Crash):
        await poller.poll_once()
    assert await counts(svc) == (1, 1) and not await imap.seen(uid)
    monkeypatch.setattr(Mailbox, "mark_handled", original)

    async def must_not_run(self: Any, raw: bytes, ref: Any) -> Any:
        raise AssertionError("a finished message was handled again")

    monkeypatch.setattr(MailIntake, "handle", must_not_run)
    await poller.poll_once()
    assert await imap.seen(uid) and await counts(svc) == (1, 1)


async def test_bad_mail_is_handled_without_a_crash(
    camera_world: tuple[Services, MailPoller],
    imap: ImapServer,
    leopard_jpeg: bytes,
) -> None:
    svc, poller = camera_world
    bad = {name: await imap.append(raw) for name, raw in bad_messages(leopard_jpeg).items()}
    good = await imap.append(camera_email([("IMG_OK.JPG", leopard_variants(1)[0])]))
    report = await poller.poll_once()
    assert report.errors == [] and report.handled == len(bad) + 1
    flags = await imap.flags()
    assert all(b"\\Seen" in flags[uid] for uid in [*bad.values(), good])  # none is left to come back
    rows = {r["uid"]: r for r in await svc.db.fetchall("SELECT * FROM mail_messages")}
    assert all(rows[uid]["status"] == "done" for uid in [*bad.values(), good])
    assert rows[bad["text only"]]["reason"] == "no_media"
    assert rows[bad["html only"]]["reason"] == "no_media"
    for name in ("zip", "video", "fake jpeg", "broken base64"):
        assert rows[bad[name]]["reason"] == "no_photo" and rows[bad[name]]["skipped"] >= 1, name
    # The photo inside the zip was not taken out: archives are never opened.
    assert rows[good]["photos"] == 1 and await counts(svc) == (1, 1)


async def test_too_large_message_is_not_downloaded(
    tmp_path: Path,
    imap: ImapServer,
    detector: OnnxLeopardDetector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    svc, poller = await start(mail_settings(tmp_path, imap, mail_max_mb=0.5), detector)
    try:
        big = camera_email([("IMG_BIG.JPG", b"\xff\xd8\xff" + bytes(800_000))], sender="other@x.example")
        uid = await imap.append(big)
        fetched: list[int] = []
        original = Mailbox.fetch

        async def spy(self: Mailbox, uid: int) -> bytes | None:
            fetched.append(uid)
            return await original(self, uid)

        monkeypatch.setattr(Mailbox, "fetch", spy)
        report = await poller.poll_once()
        assert fetched == [] and report.rejected == 1 and await imap.seen(uid)
        row = await svc.db.fetchone("SELECT * FROM mail_messages WHERE uid = ?", (uid,))
        assert row["status"] == "rejected" and row["reason"].startswith("too_large")
        assert row["sender"] == "other@x.example"
        # Not a camera of ours: no admin notice (a registered camera's would be one).
        assert await svc.db.scalar("SELECT COUNT(*) FROM notices") == 0
    finally:
        await svc.close()


async def test_the_same_message_twice_makes_one_sighting(
    camera_world: tuple[Services, MailPoller],
    imap: ImapServer,
) -> None:
    svc, poller = camera_world
    raw = camera_email([("IMG_1.JPG", leopard_variants(1)[0])], message_id="<cam17-0001@cameras.example>")
    first, second = await imap.append(raw), await imap.append(raw)
    await poller.poll_once()
    # Both copies are handled at once (two detector workers): one sighting between them, counted once.
    # (Which one takes it is a race; the one left with nothing says why, or shares the sighting.)
    rows = await svc.db.fetchall("SELECT * FROM mail_messages ORDER BY id")
    assert {r["uid"] for r in rows} == {first, second}
    assert sorted(r["photos"] for r in rows) == [0, 1]
    empty = next(r for r in rows if r["photos"] == 0)
    assert empty["reason"] in (
        f"same Message-ID as message row {rows[0]['id']}",
        "copies of photos already recorded",
        None,  # it claimed the photo, the other copy's insert came first: both list the one sighting
    )
    assert await counts(svc) == (1, 1) and await imap.seen(first) and await imap.seen(second)


async def test_a_reused_message_id_never_hides_a_new_photo(
    camera_world: tuple[Services, MailPoller],
    imap: ImapServer,
) -> None:
    """Cheap firmware numbers its Message-IDs from 1 after every reboot: the ID says nothing."""
    svc, poller = camera_world
    for i, photo in enumerate(leopard_variants(3)):
        await imap.append(camera_email([(f"IMG_{i}.JPG", photo)], message_id="<1@trailcam>"))
        await poller.poll_once()
    assert await svc.db.scalar("SELECT COUNT(*) FROM sightings") == 3
    rows = await svc.db.fetchall("SELECT status, photos FROM mail_messages ORDER BY id")
    assert [(r["status"], r["photos"]) for r in rows] == [("done", 1)] * 3


async def test_mail_read_by_a_person_is_still_taken_and_done_mail_can_be_moved(
    tmp_path: Path,
    imap: ImapServer,
    detector: OnnxLeopardDetector,
) -> None:
    svc, poller = await start(mail_settings(tmp_path, imap, mail_done_folder="Processed"), detector)
    try:
        await svc.stations.add("UST-04", Point(43.21, 51.87), "Spring", "UST")
        await poller.intake.cameras.add("CAM-17", "UST-04", [_sender_rule()])
        photos = leopard_variants(2)
        await imap.append(camera_email([("IMG_1.JPG", photos[0])]))
        await poller.poll_once()
        # Someone opens the mailbox in a mail app before the bot's next poll: the message is read.
        await imap.append(camera_email([("IMG_2.JPG", photos[1])]), flags=[b"\\Seen"])
        await poller.poll_once()
        assert await svc.db.scalar("SELECT COUNT(*) FROM sightings") == 2
        assert await imap.flags("INBOX") == {}  # both moved out of the inbox
        assert len(await imap.flags("Processed")) == 2
    finally:
        await svc.close()


async def test_camera_photo_with_gps_but_no_station_place_keeps_exif(
    camera_world: tuple[Services, MailPoller],
    imap: ImapServer,
    leopard_jpeg: bytes,
) -> None:
    svc, poller = camera_world
    photo = camera_jpeg(leopard_jpeg, gps=Point(43.2105, 51.8705))
    await imap.append(camera_email([("IMG_1.JPG", photo)], octet_stream=True))  # cameras often say so
    await poller.poll_once()
    s = await svc.db.fetchone("SELECT * FROM sightings")
    assert (s["station_code"], s["location_source"], s["exif_lat"]) == (
        "UST-04",
        "exif",
        pytest.approx(43.2105),
    )


async def test_a_video_attachment_becomes_a_sighting(
    camera_world: tuple[Services, MailPoller],
    imap: ImapServer,
) -> None:
    clips = pytest.importorskip("tests.support.clips")  # the video intake's own clip maker (PyAV)
    svc, poller = camera_world
    raw = camera_email([("PICT0007.AVI", clips.leopard_clip())], octet_stream=True)
    uid = await imap.append(raw)
    await poller.poll_once()
    s = await svc.db.fetchone("SELECT * FROM sightings")
    assert s is not None and s["video_sha256"] and s["station_code"] == "UST-04"
    assert s["source"] == "camera:CAM-17" and s["event_id"] == s["id"]  # a leopard frame: alerted
    assert await imap.seen(uid) and await counts(svc) == (1, 1)
    # The same clip again (the camera re-sent it): nothing new.
    await imap.append(camera_email([("PICT0007.AVI", clips.leopard_clip())]))
    await poller.poll_once()
    assert await counts(svc) == (1, 1)


def bad_messages(jpeg: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    m = EmailMessage()
    m["From"], m["Subject"] = SENDER, "CAM-17 test"
    m.set_content("Battery: 40%\nno photo this time")
    out["text only"] = m.as_bytes()
    m = EmailMessage()
    m["From"], m["Subject"] = "promo@shop.example", "Big sale!!!"
    m.set_content(
        '<html><body><p>Buy <a href="http://x.example">now</a></p><img src="cid:x"></body></html>',
        subtype="html",
    )
    out["html only"] = m.as_bytes()
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("IMG_0001.JPG", jpeg)
    m = EmailMessage()
    m["From"], m["Subject"] = SENDER, "CAM-17 photos"
    m.set_content("see attached")
    m.add_attachment(buf.getvalue(), maintype="application", subtype="zip", filename="photos.zip")
    out["zip"] = m.as_bytes()
    m = EmailMessage()
    m["From"], m["Subject"] = SENDER, "CAM-17 video"
    m.set_content("video")
    m.add_attachment(
        b"\x00\x00\x00\x18ftypmp42" + bytes(200), maintype="video", subtype="mp4", filename="V.MP4"
    )
    out["video"] = m.as_bytes()
    m = EmailMessage()
    m["From"], m["Subject"] = SENDER, "CAM-17"
    m.set_content("x")
    m.add_attachment(b"this is not a picture at all", maintype="image", subtype="jpeg", filename="IMG.JPG")
    out["fake jpeg"] = m.as_bytes()
    out["broken base64"] = (
        b"From: " + SENDER.encode() + b"\r\nSubject: CAM-17\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
        b'--b1\r\nContent-Type: image/jpeg; name="IMG.JPG"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        b"/9j/4AAQ###not base64 at all!!!\r\n"  # and no closing boundary
    )
    out["garbage headers"] = (
        b"From: =?x-unknown?B?////?= <\xff\xfe@>\r\nSubject: =?utf-8?Q?=E2=28?=\r\n"
        b"Content-Type: multipart/mixed; boundary=\r\n\r\n\x00\x01 binary junk \xff\r\n"
    )
    out["not mail"] = bytes(range(256)) * 4
    return out


async def test_photos_of_different_cameras_are_never_one_burst(
    tmp_path: Path,
    imap: ImapServer,
    detector: OnnxLeopardDetector,
) -> None:
    """All camera mail shares one pseudo-ranger: "same ranger, no place" must not join two cameras."""
    from datetime import datetime

    svc, poller = await start(mail_settings(tmp_path, imap, mail_allow="@cameras.example"), detector)
    try:
        await furnish(svc, poller)  # as camera_world, with LW_MAIL_ALLOW set
        photos = leopard_variants(4)
        # CAM-17 at its station, then two cameras nobody registered (allow-listed, no GPS), minutes apart.
        senders = [SENDER, "new1@cameras.example", "new2@cameras.example", "new2@cameras.example"]
        for i, (photo, sender) in enumerate(zip(photos, senders, strict=True)):
            jpeg = camera_jpeg(photo, taken=datetime(2026, 3, 14, 5, 30 + 2 * i))
            await imap.append(camera_email([(f"IMG_{i}.JPG", jpeg)], camera=f"X{i}", sender=sender))
            await poller.poll_once()
        rows = await svc.db.fetchall("SELECT id, event_id, source FROM sightings ORDER BY id")
        assert [r["source"] for r in rows] == ["camera:CAM-17", "camera:?", "camera:?", "camera:?"]
        # Each its own event: two unknown cameras cannot be told apart, so none joins another.
        assert [r["event_id"] for r in rows] == [r["id"] for r in rows]
    finally:
        await svc.close()
