"""A camera e-mail's own times date photos and clips whose camera wrote no shot time: the receiving
server's Received stamp, else the camera's Date header, else the fetch time
(bot.media.capture_time.from_mail).
Mail goes through MailIntake.handle, as the poller hands it over, with the real services and detector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from bot.alerts import build_alert, build_view
from bot.cameras import parse_rule
from bot.cameras.mail import MailIntake, MessageRef
from bot.cameras.mail.parse import parse_mail
from bot.cameras.mail.sample import camera_email, camera_jpeg
from bot.config import Settings
from bot.detection.model import OnnxLeopardDetector
from bot.geo import Point
from bot.media.capture_time import MailTimes, TimeSource, capture_time, from_mail
from bot.people.audience import Audience, Reader
from bot.reports.exports import export
from bot.services import Services
from storage.db import iso, parse_iso, utcnow
from tests.conftest import GROUP, leopard_variants

SENDER = "cam17@cameras.example"
ZONE = "Asia/Aqtau"
_uids = count(1)


def admin_reader(svc: Any, lang: str) -> Audience:
    """An admin in a private chat: the reader who sees everything."""
    return Audience(Reader.ADMIN, lang, svc.settings.zone, svc.settings.untrusted_grid_km)


@pytest.fixture
async def world(tmp_path: Path, detector: OnnxLeopardDetector) -> AsyncIterator[tuple[Services, MailIntake]]:
    """Station UST-04, camera CAM-17 at it (its address trusted), an English coordinator group."""
    settings = Settings(
        database=tmp_path / "lw.sqlite3", photo_dir=tmp_path / "photos", admin_ids=frozenset({1})
    )
    svc = await Services.create(settings, detector)
    intake = svc.mail
    await svc.stations.add("UST-04", Point(43.21, 51.87), "Spring", "UST")
    await intake.cameras.add("CAM-17", "UST-04", [parse_rule(SENDER)])
    await svc.db.execute(
        "INSERT INTO groups (chat_id, title, language, created_at) VALUES (?, 'C', 'en', ?)",
        (GROUP, iso(utcnow())),
    )
    yield svc, intake
    await svc.close()


def with_received(raw: bytes, at: datetime) -> bytes:
    """The message as our mail server delivered it: its Received stamp on top, in its own zone."""
    stamp = format_datetime(at.astimezone(datetime.now().astimezone().tzinfo))
    return f"Received: from cam.example by mx.example.org with ESMTPS id 4f2a; {stamp}\r\n".encode() + raw


async def mail_in(intake: MailIntake, raw: bytes) -> dict[str, Any]:
    outcome = await intake.handle(raw, MessageRef("INBOX", 1, next(_uids)))
    assert outcome.status == "done" and len(outcome.sightings) == 1, outcome
    row = await intake.db.fetchone("SELECT * FROM sightings WHERE id = ?", (outcome.sightings[0],))
    return dict(row)


def minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


async def test_a_backlog_is_dated_by_the_mail_servers_stamp_not_by_the_fetch(
    world: tuple[Services, MailIntake],
) -> None:
    svc, intake = world
    # The mailbox was out of reach for two days: the photo waited there, and is fetched only now.
    reached = minute(utcnow() - timedelta(days=2))
    raw = camera_email([("IMG_1.JPG", leopard_variants(1)[0])], sent=reached - timedelta(minutes=1))
    s = await mail_in(intake, with_received(raw, reached))
    assert s["taken_at"] == iso(reached) and s["time_source"] == TimeSource.MAIL_RECEIVED == "mail_received"
    assert s["clock_issue"] is None
    assert parse_iso(s["received_at"]) > reached + timedelta(days=1)  # the fetch, kept apart
    # The alert says what the time is, in the group's zone; so does /sighting (the same view).
    assert s["event_id"] == s["id"]
    local = reached.astimezone(svc.settings.zone).strftime("%Y-%m-%d %H:%M")
    alert = await build_alert(svc.db, svc.settings, s["id"], GROUP)
    assert alert is not None
    assert f"🕒 E-mailed by the camera {local} ({ZONE}), capture time unknown" in alert.caption
    for lang, words in (("ru", "Камера отправила письмо"), ("kk", "Камера хатты")):
        view = await build_view(svc.db, svc.settings, s["id"], admin_reader(svc, lang))
        assert view is not None and f"{words} {local}" in view.caption
    # The camera's record says when its latest photo was, not when the bot got round to it.
    camera = await svc.db.fetchone("SELECT last_photo_at FROM cameras WHERE code = 'CAM-17'")
    assert camera["last_photo_at"] == iso(reached)
    # Exports say that this is no camera-clock time.
    since, until = reached - timedelta(days=1), utcnow() + timedelta(days=1)
    csv = (await export(svc.db, "csv", since, until, exact=True, grid_km=10)).decode("utf-8-sig")
    assert "time from mail_received, not the camera clock" in csv


async def test_without_a_received_stamp_the_cameras_date_header_is_used(
    world: tuple[Services, MailIntake],
) -> None:
    svc, intake = world
    sent = minute(utcnow() - timedelta(days=2))
    s = await mail_in(intake, camera_email([("IMG_1.JPG", leopard_variants(1)[0])], sent=sent))
    assert (s["taken_at"], s["time_source"], s["clock_issue"]) == (iso(sent), "mail_date", None)
    view = await build_view(svc.db, svc.settings, s["id"], admin_reader(svc, "en"))
    assert view is not None and "by the camera's own clock), capture time unknown" in view.caption


@pytest.mark.parametrize("years", [3, -30])
async def test_a_date_header_from_a_wrong_clock_never_wins(
    world: tuple[Services, MailIntake], years: int
) -> None:
    _, intake = world
    # A clock years ahead, or reset to 1996: the fetch time is the better (and a true) bound.
    sent = utcnow() + timedelta(days=365 * years)
    before = utcnow()
    s = await mail_in(intake, camera_email([("IMG_1.JPG", leopard_variants(1)[0])], sent=sent))
    assert s["time_source"] == TimeSource.TELEGRAM_RECEIPT and s["taken_at"] == s["received_at"]
    assert before - timedelta(seconds=1) <= parse_iso(s["taken_at"]) <= utcnow()


async def test_a_received_stamp_after_the_fetch_gives_way_to_the_date(
    world: tuple[Services, MailIntake],
) -> None:
    _, intake = world
    sent = minute(utcnow() - timedelta(hours=3))
    raw = camera_email([("IMG_1.JPG", leopard_variants(1)[0])], sent=sent)
    s = await mail_in(intake, with_received(raw, utcnow() + timedelta(days=40)))  # a server clock gone wild
    assert (s["taken_at"], s["time_source"]) == (iso(sent), "mail_date")


async def test_the_cameras_exif_time_still_wins(
    world: tuple[Services, MailIntake], leopard_jpeg: bytes
) -> None:
    _, intake = world
    shot = datetime(2026, 3, 14, 5, 30)  # camera-local (UTC+5)
    photo = camera_jpeg(leopard_jpeg, taken=shot)
    reached = minute(utcnow() - timedelta(days=2))
    s = await mail_in(intake, with_received(camera_email([("IMG_1.JPG", photo)], sent=reached), reached))
    assert (s["taken_at"], s["time_source"]) == ("2026-03-14T00:30:00+00:00", "exif_original")


async def test_a_clip_without_a_creation_time_takes_the_mail_time(world: tuple[Services, MailIntake]) -> None:
    clips = pytest.importorskip("tests.support.clips")  # PyAV
    _, intake = world
    reached = minute(utcnow() - timedelta(days=2))
    raw = camera_email([("PICT0007.AVI", clips.leopard_clip())], sent=reached, octet_stream=True)
    s = await mail_in(intake, with_received(raw, reached))
    assert s["video_sha256"] and (s["taken_at"], s["time_source"]) == (iso(reached), "mail_received")


def test_mail_times_are_read_from_the_headers() -> None:
    raw = (
        b"Received: from relay.example by mx.example.org; Tue, 10 Mar 2026 05:31:02 +0500 (+05)\r\n"
        b"Received: from camera by relay.example; Mon, 01 Jan 2001 00:00:00 +0000\r\n"  # the sender's own
        b"From: cam17@cameras.example\r\nDate: Tue, 10 Mar 2026 05:30:40 +0500\r\n"
        b"Subject: CAM-17\r\n\r\nhi\r\n"
    )
    times = parse_mail(raw, max_part_bytes=1000).times
    assert times == MailTimes(
        datetime(2026, 3, 10, 0, 31, 2, tzinfo=UTC), datetime(2026, 3, 10, 0, 30, 40, tzinfo=UTC)
    )
    # Missing, empty, hostile: no time, and no exception.
    for head in (
        b"Received: from x by y\r\nDate: yesterday\r\n",  # no stamp after a semicolon; no date
        b"Received: from x by y; Tue, 10 Mar 0000 05:31:02 +9999\r\nDate: \r\n",
        b"Received: =?x-unknown?B?////?=; \xff\xfe\r\nDate: Tue, 99 Foo 2026 99:99:99 +0500\r\n",
        b"Subject: nothing\r\n",
    ):
        got = parse_mail(head + b"From: a@b.example\r\n\r\nx\r\n", max_part_bytes=1000)
        assert got.error is None and got.times == MailTimes(), head
    # "-0000": UTC, the sender's zone unknown (RFC 5322).
    utc = parse_mail(b"Date: Tue, 10 Mar 2026 05:30:40 -0000\r\n\r\n", max_part_bytes=10).times.sent
    assert utc == datetime(2026, 3, 10, 5, 30, 40, tzinfo=UTC)


def test_mail_times_are_travel_times_after_a_shot_time() -> None:
    now = datetime(2026, 3, 12, 6, 0, tzinfo=UTC)
    server, sent = now - timedelta(days=2), now - timedelta(days=2, minutes=1)
    got = from_mail(MailTimes(server, sent), now)
    assert got is not None and (got.taken_at, got.source) == (server, TimeSource.MAIL_RECEIVED)
    assert not got.is_capture and got.for_movement  # used for speeds only with the receipt caveat
    assert from_mail(MailTimes(None, sent), now) == from_mail(MailTimes(now + timedelta(days=2), sent), now)
    assert from_mail(MailTimes(None, datetime(2000, 1, 1, tzinfo=UTC)), now) is None
    assert from_mail(MailTimes(datetime(1999, 12, 31, tzinfo=UTC), None), now) is None  # a server unset
    fallback = capture_time(None, received_at=now, zone=UTC, mailed=MailTimes())
    assert (fallback.taken_at, fallback.source) == (now, TimeSource.TELEGRAM_RECEIPT)
