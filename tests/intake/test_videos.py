"""Videos as sightings: through the emulator with the real PTB client, and through `leopard-watch import`.

Clips are made from the sample photos (tests/clips.py: MJPEG AVI and H.264 MP4, as camera traps write
them); real camera-trap clips come from tests/data/videos/ and, when present, ../shared/samples/videos/.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from bot.cli import sd_import as import_cli
from bot.config import Settings
from bot.geo import Point
from bot.places import Stations
from emulator import BotApiEmulator
from storage.db import Database, iso, utcnow
from tests.conftest import GROUP, Team
from tests.support.clips import JACKAL, LEOPARD, jackal_clip, leopard_clip, make_clip
from tests.support.paths import DATA, SHARED
from tests.support.photo_files import value

DATA = DATA / "videos"
SHARED_VIDEOS = SHARED / "samples" / "videos"


@functools.cache
def clip(kind: str = "leopard", codec: str = "h264", **kwargs: Any) -> bytes:
    """Made once per test run: encoding is the slow part of these tests."""
    return (leopard_clip if kind == "leopard" else jackal_clip)(codec, **kwargs)


async def sighting(team: Team, sid: int = 1) -> dict:
    row = await team.services.db.fetchone("SELECT * FROM sightings WHERE id = ?", (sid,))
    assert row is not None, f"sighting #{sid} missing"
    return dict(row)


async def send(team: Team, data: bytes, kind: str = "video", **kwargs: Any) -> dict:
    """Send a clip and return the bot's reply to the ranger."""
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_video(team.ranger, data, kind, **kwargs)
    return (await team.emu.wait_sent(team.ranger.id, before + 1, timeout=60))[-1]


async def test_leopard_video_gets_a_receipt_and_an_alert_with_its_best_frame(team: Team) -> None:
    data = clip("leopard", "h264")
    reply = await send(team, data, caption="UST cliff trail")
    text = reply["text"]
    assert "Sighting #1" in text and "leopard detected" in text and "Video: leopard at" in text, text
    row = await sighting(team)
    # Jackal for the first 1.5 s, then the leopard: the best frame is in the second half.
    assert row["media"] == "video" and row["is_leopard"] == 1 and row["frame_seconds"] >= 1.5
    assert f"at {row['frame_seconds']:.1f} s" in text
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    alert = team.alerts()[0]
    assert f"From a video, frame at {row['frame_seconds']:.1f} s" in alert["caption"]
    # The alert's photo is the best frame with the box drawn in: a frame of the clip, not a thumbnail.
    shown = team.emu.file_bytes(alert["photo"][-1]["file_id"])
    assert Image.open(io.BytesIO(shown)).size == (640, 336)
    # The clip itself is kept by SHA-256, byte for byte; the best frame is the sighting's photo.
    video = await team.services.db.fetchone("SELECT * FROM videos WHERE sha256 = ?", (row["video_sha256"],))
    assert video is not None and (video["container"], video["codec"]) == ("mov", "h264")
    assert video["frames"] == 6 and video["duration"] == pytest.approx(3.0)
    assert team.services.videos.store.read(row["video_sha256"]) == data
    frame = Image.open(io.BytesIO(team.services.photos.read(row["photo_sha256"])))
    assert frame.size == (640, 336)
    # No creation time in the clip and not forwarded: the time is the receipt's, and says so.
    assert row["time_source"] == "telegram_receipt" and row["taken_at"] == row["received_at"]


async def test_video_time_is_its_creation_time_plus_the_frame(team: Team) -> None:
    data = clip("leopard", "h264", creation_time="2026-03-14T05:30:00Z")
    await send(team, data)
    row = await sighting(team)
    assert row["time_source"] == "video_metadata" and row["clock_issue"] is None
    start = datetime(2026, 3, 14, 5, 30, tzinfo=UTC)
    assert row["taken_at"] == iso(start + timedelta(seconds=row["frame_seconds"]))


async def test_jackal_video_file_gets_a_receipt_and_no_alert(team: Team) -> None:
    # A camera trap's MJPEG AVI, sent as a file (a document): the kind an SD card holds.
    data = clip("jackal", "mjpeg")
    before = len(team.emu.sent(team.ranger.id))
    message = await team.emu.send_document(team.ranger, data, "PICT0001.AVI", "video/x-msvideo")
    reply = (await team.emu.wait_sent(team.ranger.id, before + 1, timeout=60))[-1]
    assert "Sighting #1 recorded: another animal (leopard score" in reply["text"], reply["text"]
    assert "6 frames checked" in reply["text"]
    row = await sighting(team)
    assert row["media"] == "video_file" and row["is_leopard"] == 0 and row["event_id"] is None
    assert await team.services.db.scalar("SELECT codec FROM videos") == "mjpeg"
    # Its caption edited later gives it a place, as with a photo.
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.edit_caption(team.ranger, message, "43.21, 51.87")
    edited = (await team.emu.wait_sent(team.ranger.id, before + 1))[-1]
    assert "Place added to sighting #1" in edited["text"]
    await team.say(team.admin, "/help")  # the outbox had its chance to (wrongly) alert
    assert team.alerts() == [] and await team.outbox_status(GROUP) is None


@pytest.mark.parametrize("kind", ["video_note", "animation"])
async def test_video_notes_and_animations_are_sightings(team: Team, kind: str) -> None:
    reply = await send(team, clip("leopard", "h264"), kind)
    assert "Video: leopard at" in reply["text"], reply["text"]
    assert (await sighting(team))["media"] == kind
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)


async def test_an_album_of_photos_and_a_video_gets_one_receipt(
    team: Team, leopard_jpeg: bytes, jackal_jpeg: bytes
) -> None:
    before = len(team.emu.sent(team.ranger.id))
    group_id = "13900000000000001"
    await team.emu.send_photo(team.ranger, jackal_jpeg, "UST-04 spring", media_group_id=group_id)
    await team.emu.send_video(team.ranger, clip("jackal", "h264"), media_group_id=group_id)
    await team.emu.send_photo(team.ranger, leopard_jpeg, media_group_id=group_id)
    replies = await team.emu.wait_sent(team.ranger.id, before + 1, timeout=60)
    receipt = replies[-1]["text"]
    assert "Album of 3 recorded (1 of them videos)" in receipt, receipt
    assert all(f"#{i}" in receipt for i in (1, 2, 3)) and "frames checked" in receipt
    await asyncio.sleep(2.5)  # longer than the album's quiet period: no second receipt follows
    assert len(team.emu.sent(team.ranger.id)) == before + 1
    rows = await team.services.db.fetchall("SELECT media, media_group_id FROM sightings ORDER BY id")
    assert sorted(r["media"] for r in rows) == ["photo", "photo", "video"]
    assert len({r["media_group_id"] for r in rows}) == 1


async def test_a_video_over_20_mb_is_sent_to_the_card_import_without_a_download(team: Team) -> None:
    calls = len(team.emu.calls_of("getFile"))
    reply = await send(team, clip("leopard", "h264"), file_size=25 * 1024 * 1024)
    assert "25 MB" in reply["text"] and "20 MB" in reply["text"] and "leopard-watch import" in reply["text"]
    assert len(team.emu.calls_of("getFile")) == calls
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == 0


async def test_a_damaged_video_gets_a_clear_reply(team: Team) -> None:
    data = clip("leopard", "h264")
    reply = await send(team, data[: len(data) // 3])  # the moov atom is at the end: cut off
    assert "could not read this video" in reply["text"]
    reply = await send(team, b"#EXTM3U\n#EXT-X-VERSION:3\nfile:///etc/passwd\n")  # a playlist, not a clip
    assert "could not read this video" in reply["text"]
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == 0


async def test_the_same_video_twice_is_one_sighting(team: Team) -> None:
    data = clip("jackal", "h264")
    await send(team, data)
    reply = await send(team, data)
    assert "This video is already recorded as sighting #1" in reply["text"]
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == 1


async def test_sighting_command_sends_the_clip_without_its_metadata(team: Team) -> None:
    tagged = _with_location(clip("leopard", "h264", creation_time="2026-03-14T05:30:00Z"))
    await send(team, tagged)
    before = len(team.emu.sent(team.admin.id))
    await team.emu.send_text(team.admin, "/sighting 1")
    sent = (await team.emu.wait_sent(team.admin.id, before + 2, timeout=30))[before:]
    assert [m["method"] for m in sent] == ["sendPhoto", "sendVideo"]
    assert "From a video" in sent[0]["caption"] and "the clip" in sent[1]["caption"]
    video = sent[1]["video"]
    assert (video["width"], video["height"], video["duration"]) == (640, 336, 3)
    copy = team.emu.file_bytes(video["file_id"])
    with av.open(io.BytesIO(copy)) as container:  # the same frames, none of the file's own tags
        assert container.streams.video[0].frames == 12
        assert "location" not in container.metadata and "creation_time" not in container.metadata
    with av.open(io.BytesIO(tagged)) as original:  # what a phone's clip says, and the copy does not
        assert original.metadata["location"] == "+43.2100+051.8700/"
    assert b"loci" in tagged and b"loci" not in copy and b"\xa9xyz" not in copy


async def test_a_photo_is_not_kept_waiting_by_another_rangers_long_video(
    team: Team, jackal_jpeg: bytes
) -> None:
    other = team.emu.user(700_002, "Aliya")
    await team.invite(other)
    # 30 s at 2 frames a second: 60 frames for the detector, the most any clip gets.
    long_clip = make_clip([(JACKAL, 30.0)], codec="mjpeg", fps=2, size=(640, 336))
    before_video = len(team.emu.sent(team.ranger.id))
    await team.emu.send_video(team.ranger, long_clip, "video")
    videos = team.services.settings.photo_dir / "videos"
    await team.emu.wait_for(lambda: videos.is_dir() and any(videos.rglob("*.video")), timeout=30)
    before_photo = len(team.emu.sent(other.id))
    await team.emu.send_photo(other, jackal_jpeg)
    await team.emu.wait_sent(other.id, before_photo + 1, timeout=60)
    assert len(team.emu.sent(team.ranger.id)) == before_video, "the video's receipt came first"
    receipt = (await team.emu.wait_sent(team.ranger.id, before_video + 1, timeout=120))[-1]
    assert "60 frames checked" in receipt["text"], receipt["text"]


@pytest.fixture
async def card(tmp_path: Path, settings: Settings) -> Path:
    async with Database(settings.database) as db:
        await Stations(db).add("UST-04", Point(43.21, 51.87), "Spring", "UST")
        await db.execute(
            "INSERT INTO groups (chat_id, title, language, created_at) VALUES (?, 'C', 'en', ?)",
            (GROUP, iso(utcnow())),
        )
    folder = tmp_path / "DCIM" / "100MEDIA"
    folder.mkdir(parents=True)
    (folder / "PICT0001.AVI").write_bytes(make_clip([(JACKAL, 1.0), (LEOPARD, 2.0)], codec="mjpeg"))
    for path in sorted(DATA.glob("*.AVI")) + sorted(DATA.glob("*.MP4")):
        (folder / path.name).write_bytes(path.read_bytes())
    if SHARED_VIDEOS.is_dir():  # every real clip there (skipped where ../shared is absent)
        for path in sorted(SHARED_VIDEOS.iterdir()):
            if not (folder / path.name).exists():
                (folder / path.name).write_bytes(path.read_bytes())
    (folder / "PICT0002.MOV").write_bytes(b"\x00\x00\x00\x14ftypqt  broken card sector")
    return tmp_path / "DCIM"


async def test_import_takes_videos_from_the_card(
    card: Path, settings: Settings, emu: BotApiEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.group(GROUP, "Coordinators")
    clips = len(await asyncio.to_thread(lambda: list(card.rglob("*.*")))) - 1  # all but the broken one
    args = argparse.Namespace(folder=card, station="UST-04", ranger=None, env_file="none")
    assert await import_cli._run(args, settings) == 0
    out = capsys.readouterr().out
    assert value(out, "new sightings") == clips and value(out, "  of them from videos") == clips
    assert value(out, "unreadable") == 1 and "PICT0002.MOV" in out
    assert value(out, "leopard sightings") == 1 and value(out, "alerts delivered") == 1
    async with Database(settings.database) as db:
        rows = await db.fetchall("SELECT * FROM sightings ORDER BY id")
        codecs = {r["codec"] for r in await db.fetchall("SELECT codec FROM videos")}
    assert {r["media"] for r in rows} == {"video_file"} and {r["source"] for r in rows} == {"import"}
    leopards = [r for r in rows if r["is_leopard"]]
    assert [r["caption"] for r in leopards] == ["PICT0001.AVI"] and leopards[0]["frame_seconds"] >= 1.0
    # No clip here carries a creation time: each is dated by its file, as a clockless photo is.
    assert {r["time_source"] for r in rows} == {"import_file_time"}
    assert {"mjpeg", "mpeg4", "h264"} <= codecs
    alerts = [m for m in emu.sent(GROUP) if m["method"] == "sendPhoto"]
    assert len(alerts) == 1 and "From a video" in alerts[0]["caption"]
    # A second run finds every clip imported already.
    assert await import_cli._run(args, settings) == 0
    again = capsys.readouterr().out
    assert value(again, "already imported (skipped)") == clips and value(again, "new sightings") == 0


def _with_location(data: bytes) -> bytes:
    """The clip remuxed with a phone's GPS tag (ISO 6709, as iPhones write it) in its metadata."""
    out_buf = io.BytesIO()
    with av.open(io.BytesIO(data)) as inp, av.open(out_buf, "w", format="mp4") as out:
        out.metadata.update(location="+43.2100+051.8700/", creation_time="2026-03-14T05:30:00Z")
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    return out_buf.getvalue()
