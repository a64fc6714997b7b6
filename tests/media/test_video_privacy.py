"""The clip /sighting sends (bot/media/video.py clean_copy) tells no one where the camera stands.

Leopard locations attract poachers, and the copy goes to groups whose readers may only see rounded
places. A trail camera's MJPEG AVI stores each frame as a whole JPEG, and many cameras write EXIF (with
GPS), a comment or a maker segment into every one of them; a remux copies those bytes as they are.
Frames are checked here with Pillow (its own JPEG parser, not the one under test) and the whole output
file is searched for the camera's bytes.
"""

from __future__ import annotations

import io
import struct
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageStat, PngImagePlugin

from bot.media.video import UnreadableVideo, clean_copy, probe
from tests.conftest import Team
from tests.support.clips import (
    CAMERA_COMMENT,
    LEOPARD,
    _image,
    camera_mjpeg_clip,
    make_clip,
    mjpeg_avi,
    tagged_jpeg,
)
from tests.support.paths import DATA, SHARED

DATA = DATA / "videos"
SHARED_VIDEOS = SHARED / "samples" / "videos"
SIZE = (640, 336)
# GPSLatitude and GPSLongitude as EXIF writes them (big-endian rationals): degrees and minutes.
GPS_BYTES = (struct.pack(">4L", 43, 1, 29, 1), struct.pack(">4L", 51, 1, 48, 1))
CAMERA_BYTES = (b"Exif", b"UST trail cam", CAMERA_COMMENT, b"UST-04", b"TRAILCAM", *GPS_BYTES)


def video_packets(data: bytes) -> list[bytes]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


def copy_of(tmp_path: Path, data: bytes, name: str = "clip.avi") -> bytes:
    path = tmp_path / name
    path.write_bytes(data)
    out, _ = clean_copy(path, probe(path))
    return out


def frames_and_size(data: bytes) -> tuple[int, tuple[int, int]]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return count, (stream.width, stream.height)


def assert_no_camera_tags(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    # Pillow lists every APPn segment (and COM) it met before the scan.
    assert [name for name, _ in image.applist] in ([], ["APP0"]), image.applist
    assert "comment" not in image.info and "exif" not in image.info and not image.getexif()
    return image


def test_mjpeg_frames_lose_their_exif_gps_comment_and_maker_segment(tmp_path: Path) -> None:
    original = camera_mjpeg_clip(seconds=1.0, fps=4, size=SIZE)
    for needle in CAMERA_BYTES:  # what the camera wrote, so that the searches below mean something
        assert needle in original, needle
    tags = Image.open(io.BytesIO(video_packets(original)[0]))
    assert tags.getexif().get_ifd(0x8825)[2] == (43.0, 29.0, 12.34) and tags.info["comment"] == CAMERA_COMMENT

    copy = copy_of(tmp_path, original)
    for needle in CAMERA_BYTES:
        assert needle not in copy, needle
    assert frames_and_size(copy) == frames_and_size(original) == (4, SIZE)
    before, after = video_packets(original), video_packets(copy)
    assert len(after) == len(before) == 4
    for old, new in zip(before, after, strict=True):
        image = assert_no_camera_tags(new)
        assert image.size == SIZE
        # Stripping segments is lossless: the very same pixels.
        assert image.tobytes() == Image.open(io.BytesIO(old)).tobytes()


async def test_sighting_command_sends_a_trail_cameras_avi_without_its_frames_tags(team: Team) -> None:
    """Through the bot: an SD card's AVI sent as a file, then /sighting in the admin's chat."""
    original = camera_mjpeg_clip(seconds=3.0, fps=2, size=SIZE)
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_document(team.ranger, original, "PICT0001.AVI", "video/x-msvideo")
    await team.emu.wait_sent(team.ranger.id, before + 1, timeout=60)
    before = len(team.emu.sent(team.admin.id))
    await team.emu.send_text(team.admin, "/sighting 1")
    sent = (await team.emu.wait_sent(team.admin.id, before + 2, timeout=30))[before:]
    assert [m["method"] for m in sent] == ["sendPhoto", "sendDocument"], sent
    copy = team.emu.file_bytes(sent[1]["document"]["file_id"])
    for needle in CAMERA_BYTES:
        assert needle in original and needle not in copy, needle
    assert frames_and_size(copy) == frames_and_size(original) == (6, SIZE)


def _with_comment_length(jpeg: bytes, delta: int) -> bytes:
    at = jpeg.index(b"\xff\xfe")
    (length,) = struct.unpack(">H", jpeg[at + 2 : at + 4])
    return jpeg[: at + 2] + struct.pack(">H", length + delta) + jpeg[at + 4 :]


def test_a_frame_with_a_broken_segment_length_is_not_passed_through(tmp_path: Path) -> None:
    image = _image(LEOPARD).resize(SIZE)
    good = tagged_jpeg(image)
    # The comment's length 4 bytes short: a strict reader lands inside its text; FFmpeg resyncs.
    broken = _with_comment_length(good, -4)
    original = mjpeg_avi([good, broken, good], SIZE)
    assert video_packets(original)[1] == broken

    copy = copy_of(tmp_path, original)
    after = video_packets(copy)
    assert len(after) == 3 and after[1] != broken
    for needle in CAMERA_BYTES:
        assert needle not in copy, needle
    frame = assert_no_camera_tags(after[1]).convert("RGB")
    assert frame.size == SIZE
    # Decoded and encoded again: the same picture, not a grey one.
    difference = ImageStat.Stat(ImageChops.difference(frame, image)).mean
    assert max(difference) < 8, difference
    assert frames_and_size(copy) == (3, SIZE)


def test_a_frame_that_neither_parses_nor_decodes_stops_the_copy(tmp_path: Path) -> None:
    good = tagged_jpeg(_image(LEOPARD).resize(SIZE))
    junk = b"\xff\xd8\xff\xfe\xff\xff" + CAMERA_COMMENT + b"\x00" * 64  # a comment longer than the frame
    path = tmp_path / "clip.avi"
    path.write_bytes(mjpeg_avi([good, junk, good], SIZE))
    with pytest.raises(UnreadableVideo):  # handlers/sightings.py: "the clip could not be sent"
        clean_copy(path, probe(path))


def test_mjpeg_codec_extradata_is_not_copied(tmp_path: Path) -> None:
    """An AVI's stream header may carry bytes after the bitmap header; MJPEG frames do not need them."""
    out_buf = io.BytesIO()
    with av.open(out_buf, "w", format="avi") as out:
        stream = out.add_stream("mjpeg", rate=4)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
        stream.codec_context.extradata = b"UST-04 43.5,51.8 station data"
        frame = tagged_jpeg(_image(LEOPARD).resize((64, 48)))
        for i in range(2):
            packet = av.Packet(frame)
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, i, i, Fraction(1, 4)
            out.mux(packet)
    original = out_buf.getvalue()
    assert b"station data" in original
    copy = copy_of(tmp_path, original)
    assert b"UST-04" not in copy and frames_and_size(copy) == (2, (64, 48))


def _mp4_with_location_and_telemetry() -> bytes:
    """An H.264 MP4 as a phone or action camera writes it: ISO 6709 location tags, a titled chapter, and a
    GoPro-style telemetry track (a data stream with GPS in its packets)."""
    source = make_clip([(LEOPARD, 1.0)], codec="h264")
    out_buf = io.BytesIO()
    with av.open(io.BytesIO(source)) as inp, av.open(out_buf, "w", format="mp4") as out:
        out.metadata.update(location="+43.4867+051.8018/", title="UST-04 cliff")
        video = out.add_stream_from_template(inp.streams.video[0])
        video.metadata.update(
            {
                "title": "UST-04 video",
                "location": "+43.4867+051.8018/",
                "location-eng": "+43.4867+051.8018/",
                "com.apple.quicktime.location.ISO6709": "+43.4867+051.8018/",
                "handler_name": "UST-04 handler",
            }
        )
        telemetry = out.add_data_stream("bin_data")  # the mp4 muxer writes it as a "gpmd" track
        chapter = {
            "id": 1,
            "start": 0,
            "end": 1000,
            "time_base": Fraction(1, 1000),
            "metadata": {"title": "UST-04"},
        }
        out.set_chapters([chapter])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = video
            out.mux(packet)
            gps = av.Packet(b"GPS5 +43.4867+051.8018")
            gps.stream, gps.pts, gps.dts, gps.time_base = telemetry, packet.pts, packet.dts, packet.time_base
            out.mux(gps)
    return out_buf.getvalue()


def test_mp4_location_tags_chapters_and_telemetry_track_are_not_copied(tmp_path: Path) -> None:
    original = _mp4_with_location_and_telemetry()
    with av.open(io.BytesIO(original)) as container:
        assert container.metadata["location"] == "+43.4867+051.8018/" and container.chapters()
        assert [s.type for s in container.streams][:2] == ["video", "data"]
    copy = copy_of(tmp_path, original, "clip.mp4")
    with av.open(io.BytesIO(copy)) as container:
        assert [s.type for s in container.streams] == ["video"]
        assert not container.chapters()
        assert not {"location", "location-eng", "title"} & set(container.metadata)
        assert not {"title", "location", "name"} & set(container.streams.video[0].metadata)
    for needle in (b"UST-04", b"+43.4867", b"GPS5", b"gpmd", b"loci", b"chpl"):
        assert needle in original, needle
        assert needle not in copy, needle
    assert frames_and_size(copy) == frames_and_size(original)


def _mkv_with_cover(cover: bytes) -> bytes:
    """An H.264 Matroska clip with a JPEG attached as its cover: FFmpeg shows it as a second video stream
    (an attached picture) whose one packet is the JPEG, EXIF and all."""
    source = make_clip([(LEOPARD, 1.0)], codec="h264")
    out_buf = io.BytesIO()
    with av.open(io.BytesIO(source)) as inp, av.open(out_buf, "w", format="matroska") as out:
        video = out.add_stream_from_template(inp.streams.video[0])
        out.add_attachment("cover.jpg", "image/jpeg", cover)
        for packet in inp.demux(inp.streams.video[0]):
            if packet.size:
                packet.stream = video
                out.mux(packet)
    return out_buf.getvalue()


def test_an_attached_cover_picture_is_not_copied(tmp_path: Path) -> None:
    original = _mkv_with_cover(tagged_jpeg(_image(LEOPARD).resize((64, 48))))
    with av.open(io.BytesIO(original)) as container:
        assert [s.codec_context.name for s in container.streams.video] == ["h264", "mjpeg"]
    copy = copy_of(tmp_path, original, "clip.mkv")
    with av.open(io.BytesIO(copy)) as container:
        assert [s.codec_context.name for s in container.streams] == ["h264"]
    for needle in CAMERA_BYTES:
        assert needle not in copy, needle


def test_a_matroska_copy_keeps_its_first_frame(tmp_path: Path) -> None:
    """Matroska gives no decoding time for the first packet of a clip with B-frames: it is still a frame."""
    original = _mkv_with_cover(tagged_jpeg(_image(LEOPARD).resize((64, 48))))
    copy = copy_of(tmp_path, original, "clip.mkv")
    assert frames_and_size(copy) == frames_and_size(original) == (4, SIZE)


def test_frames_in_a_codec_it_cannot_clean_are_not_sent(tmp_path: Path) -> None:
    """PNG frames carry text chunks this copy does not strip: no copy rather than the camera's text."""
    size = (64, 48)
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", CAMERA_COMMENT.decode())
    out_buf = io.BytesIO()
    with av.open(out_buf, "w", format="mov") as out:
        stream = out.add_stream("png", rate=4)
        stream.width, stream.height, stream.pix_fmt = *size, "rgb24"
        for i in range(2):
            frame = io.BytesIO()
            _image(LEOPARD).resize(size).save(frame, format="PNG", pnginfo=text)
            packet = av.Packet(frame.getvalue())
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, i, i, Fraction(1, 4)
            packet.is_keyframe = True
            out.mux(packet)
    path = tmp_path / "clip.mov"
    path.write_bytes(out_buf.getvalue())
    assert CAMERA_COMMENT in path.read_bytes() and probe(path).codec == "png"
    with pytest.raises(UnreadableVideo):
        clean_copy(path, probe(path))


@pytest.mark.parametrize("folder", [DATA, SHARED_VIDEOS], ids=["tests-data", "shared-samples"])
def test_real_camera_trap_clips_copy_whole(folder: Path, tmp_path: Path) -> None:
    """Real clips (MPEG-4 Part 2 AVI, H.264 MP4) keep every frame; their frames carry no JPEG tags."""
    if not folder.is_dir():
        pytest.skip(f"{folder} not available (shared samples)")
    clips = [p for p in sorted(folder.iterdir()) if p.suffix.lower() in (".avi", ".mp4", ".mov")]
    assert clips
    for path in clips:
        out, _ = clean_copy(path, probe(path))
        original = path.read_bytes()
        assert frames_and_size(out) == frames_and_size(original), path.name
        with av.open(io.BytesIO(out)) as container:
            assert [s.type for s in container.streams] == ["video"], path.name
            assert set(container.metadata) <= {"major_brand", "minor_version", "compatible_brands", "encoder",
                                               "software"}, path.name  # fmt: skip
