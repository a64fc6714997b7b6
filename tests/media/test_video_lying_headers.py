"""Clips whose container header lies about their length or frame rate are sampled as well as honest twins.

A camera's firmware, a broken remux or someone who means harm can write an AVI that declares 10 hours,
or 100 000 frames a second, an MP4 whose timescale is wrong, a Matroska file with no duration or with
timestamps that jump, an MPEG-TS without a single timestamp. Each case below is the same leopard clip
(tests/clips.py: 1.5 s of jackal, then 1.5 s of leopard, 12 frames) with its header patched in the
bytes; the sampler must look at the clip's real content (a floor of frames per second of it, measured
from the packets, not the header) and the detector must find the leopard where the honest twin does.
"""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import pytest
from PIL import Image

import bot.media.video
from bot.detection.model import OnnxLeopardDetector
from bot.media.video import Frame, FrameSampler
from tests.conftest import Team
from tests.support.clips import JACKAL, LEOPARD, leopard_clip, make_clip

REAL_SECONDS = 3.0  # leopard_clip: 12 frames at 4 fps
HOURS_10 = 36_000


@functools.cache
def honest(codec: str) -> bytes:
    return leopard_clip(codec)


@functools.cache
def long_honest() -> bytes:
    """40 s at 2 fps, the leopard only in the last 6 s: beyond the first 30 s that 60 frames cover."""
    return make_clip([(JACKAL, 34.0), (LEOPARD, 6.0)], codec="mjpeg", fps=2)


def sampled(source: bytes | Path) -> tuple[list[Frame], FrameSampler]:
    with FrameSampler(source) as sampler:
        frames: list[Frame] = []
        while batch := sampler.next_batch(4):
            frames += batch
    return frames, sampler


def leopard_seen(detector: OnnxLeopardDetector, frames: list[Frame]) -> bool:
    return any(detector.detect(frame.jpeg).alert_worthy for frame in frames)


# --- AVI: the main header (avih) and the stream header (strh) -----------------------------------


def _riff_chunks(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    at = start
    while at + 8 <= end:
        fourcc, size = data[at : at + 4], struct.unpack_from("<I", data, at + 4)[0]
        yield fourcc, at + 8, size
        if fourcc in (b"RIFF", b"LIST") and data[at + 8 : at + 12] != b"movi":
            yield from _riff_chunks(data, at + 12, at + 8 + size)
        at += 8 + size + (size & 1)


def avi_lie(data: bytes, *, frames: int | None = None, fps: int | None = None, scale: int = 1) -> bytes:
    """The AVI with dwTotalFrames and dwLength set to `frames`, and dwMicroSecPerFrame and dwRate/dwScale
    to `fps` frames every `scale` seconds: every field a demuxer may take the length or the rate from
    says the same lie."""
    out = bytearray(data)
    for fourcc, body, _ in _riff_chunks(data, 0, len(data)):
        if fourcc == b"avih":
            if fps:
                per_frame = min(0xFFFF_FFFF, max(1, round(1_000_000 * scale / fps)))
                struct.pack_into("<I", out, body, per_frame)  # dwMicroSecPerFrame
            if frames:
                struct.pack_into("<I", out, body + 16, frames)  # dwTotalFrames
        elif fourcc == b"strh":
            if fps:
                struct.pack_into("<II", out, body + 20, scale, fps)  # dwScale, dwRate
            if frames:
                struct.pack_into("<I", out, body + 32, frames)  # dwLength
        elif fourcc == b"dmlh" and frames:  # OpenDML's own total
            struct.pack_into("<I", out, body, frames)
    return bytes(out)


# --- MP4: mvhd, tkhd, elst, mdhd -------------------------------------------------------------------

_MP4_PARENTS = (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts")


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int]]:
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I", data, at)[0], data[at + 4 : at + 8]
        if size < 8:
            return
        yield kind, at + 8
        if kind in _MP4_PARENTS:
            yield from _boxes(data, at + 8, at + size)
        at += size


def mp4_lie(data: bytes, *, seconds: float | None = None, timescale: float | None = None) -> bytes:
    """The MP4 declaring `seconds` (movie, track, edit and media durations) or with its media timescale
    multiplied by `timescale` (the same ticks, read as another frame rate; nothing else changed)."""
    out = bytearray(data)
    movie_scale = 1
    for kind, body in _boxes(data, 0, len(data)):
        assert kind not in (b"mvhd", b"tkhd", b"mdhd", b"elst") or data[body] == 0, "version 0 boxes only"
        if kind == b"mvhd":
            movie_scale = struct.unpack_from(">I", data, body + 12)[0]
            if seconds:
                struct.pack_into(">I", out, body + 16, round(seconds * movie_scale))
        elif kind == b"tkhd" and seconds:
            struct.pack_into(">I", out, body + 20, round(seconds * movie_scale))
        elif kind == b"elst" and seconds:
            struct.pack_into(">I", out, body + 8, round(seconds * movie_scale))  # the first edit
        elif kind == b"mdhd":
            scale = struct.unpack_from(">I", data, body + 12)[0]
            if seconds:
                struct.pack_into(">I", out, body + 16, round(seconds * scale))
            if timescale:
                struct.pack_into(">I", out, body + 12, round(scale * timescale))
    return bytes(out)


# --- Matroska: EBML elements ---------------------------------------------------------------------

SEGMENT, CLUSTER, TIMECODE, SIMPLE_BLOCK, INFO, TIMECODE_SCALE = (
    0x18538067,
    0x1F43B675,
    0xE7,
    0xA3,
    0x1549A966,
    0x2AD7B1,
)


def _vint(data: bytes, at: int, *, marker: bool) -> tuple[int, int, bool]:
    """(value, end, all ones): an EBML variable-length integer, its length marker kept for IDs."""
    length = 9 - data[at].bit_length()
    value = data[at] if marker else data[at] & (0xFF >> length)
    for byte in data[at + 1 : at + length]:
        value = value << 8 | byte
    return value, at + length, value == (1 << (7 * length)) - 1


def _elements(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(id, body start, body end) of every element, depth first, into segments, clusters and info."""
    at = start
    while at < end:
        element, at, _ = _vint(data, at, marker=True)
        size, at, unknown = _vint(data, at, marker=False)
        body_end = end if unknown else at + size
        yield element, at, body_end
        if element in (SEGMENT, CLUSTER, INFO):
            yield from _elements(data, at, body_end)
        at = body_end


def remux(data: bytes, muxer: str, shift: float = 0.0, **options: str) -> bytes:
    """The clip's video packets in another container, their times moved `shift` seconds on."""
    out = io.BytesIO()
    with av.open(io.BytesIO(data), mode="r") as inp, av.open(out, "w", format=muxer, options=options) as dest:
        source = inp.streams.video[0]
        stream = dest.add_stream_from_template(source)
        ticks = round(shift / source.time_base) if source.time_base else 0
        for packet in inp.demux(source):
            if packet.dts is not None and packet.pts is not None:
                packet.pts, packet.dts = packet.pts + ticks, packet.dts + ticks
                packet.stream = stream
                dest.mux(packet)
    return out.getvalue()


def mkv_timecode_scale(data: bytes, nanoseconds: int) -> bytes:
    """Every timestamp in the file read in units of `nanoseconds` instead of the 1 ms written."""
    out = bytearray(data)
    for element, body, end in _elements(data, 0, len(data)):
        if element == TIMECODE_SCALE:
            out[body:end] = nanoseconds.to_bytes(end - body, "big")
    return bytes(out)


def mkv_leap(data: bytes, frames: range, seconds: int) -> bytes:
    """A Matroska copy of an MJPEG clip whose times start `seconds` late, except `frames`, which are
    where they were: the times leap back, then forth again (non-monotonic)."""
    late = remux(data, "matroska", shift=seconds, cluster_time_limit="1")  # one cluster a frame
    out = bytearray(late)
    clusters = [body for element, body, _ in _elements(late, 0, len(late)) if element == CLUSTER]
    for index in frames:
        for element, body, end in _elements(late, clusters[index], len(late)):
            if element == TIMECODE:
                value = int.from_bytes(late[body:end], "big") - seconds * 1000
                out[body:end] = value.to_bytes(end - body, "big")
                break
    return bytes(out)


def mkv_same_time(data: bytes) -> bytes:
    """Every block at the same time as its cluster, and every cluster at 0: all frames share one pts."""
    out = bytearray(data)
    for element, body, end in _elements(data, 0, len(data)):
        if element == TIMECODE:
            out[body:end] = bytes(end - body)
        elif element == SIMPLE_BLOCK:
            _, after_track, _ = _vint(data, body, marker=False)
            out[after_track : after_track + 2] = b"\x00\x00"  # the block's int16 offset
    return bytes(out)


# --- MPEG-TS: PES headers ------------------------------------------------------------------------


def ts_without_pts(data: bytes) -> bytes:
    """Every video PES header with its PTS and DTS flags cleared and their bytes turned to stuffing."""
    out = bytearray(data)
    stripped = 0
    for at in range(0, len(data) - 187, 188):
        assert data[at] == 0x47, "not a 188-byte transport stream"
        starts, adaptation = data[at + 1] & 0x40, data[at + 3] >> 4 & 3
        payload = at + 4 + (1 + data[at + 4] if adaptation & 2 else 0)
        if not starts or not adaptation & 1 or data[payload : payload + 3] != b"\x00\x00\x01":
            continue
        if 0xE0 <= data[payload + 3] <= 0xEF and data[payload + 7] & 0xC0:
            header_length = data[payload + 8]
            out[payload + 7] &= 0x3F
            out[payload + 9 : payload + 9 + header_length] = b"\xff" * header_length
            stripped += 1
    assert stripped, "no PES header found"
    return bytes(out)


# --- the cases -----------------------------------------------------------------------------------

LIES: dict[str, Callable[[], bytes]] = {
    "avi declaring 10 hours": lambda: avi_lie(honest("mjpeg"), frames=HOURS_10 * 4),
    "avi declaring 100 000 fps": lambda: avi_lie(honest("mjpeg"), fps=100_000),
    "avi declaring 10 hours at 100 000 fps": lambda: avi_lie(
        honest("mjpeg"), frames=HOURS_10 * 100_000, fps=100_000
    ),
    "avi declaring 1000 fps": lambda: avi_lie(honest("mjpeg"), fps=1000),
    "avi declaring 1 fps": lambda: avi_lie(honest("mjpeg"), fps=1),
    "avi declaring a frame every 13 hours": lambda: avi_lie(honest("mjpeg"), fps=1, scale=13 * 3600),
    "mp4 declaring 10 hours": lambda: mp4_lie(honest("h264"), seconds=HOURS_10),
    "mp4 declaring 100 000 fps": lambda: mp4_lie(honest("h264"), timescale=25_000),
    "mp4 declaring 1 fps": lambda: mp4_lie(honest("h264"), timescale=0.25),
    "mp4 with a timescale of 1": lambda: mp4_lie(honest("h264"), timescale=1 / 16384),
    "mpeg-ts starting at 10 hours": lambda: remux(honest("h264"), "mpegts", shift=HOURS_10),
    "mkv with 1 ns timestamps": lambda: mkv_timecode_scale(remux(honest("mjpeg"), "matroska"), 1),
    "mkv h264 with 1 us timestamps": lambda: mkv_timecode_scale(remux(honest("h264"), "matroska"), 1000),
    "mkv starting at 10 hours": lambda: remux(honest("h264"), "matroska", shift=HOURS_10),
    "mkv whose times leap 10 hours and back": lambda: mkv_leap(honest("mjpeg"), range(4, 8), HOURS_10),
    "mkv with every frame at 0": lambda: mkv_same_time(remux(honest("mjpeg"), "matroska")),
    "mpeg-ts without any pts": lambda: ts_without_pts(remux(honest("h264"), "mpegts")),
}


@pytest.mark.parametrize("codec", ["mjpeg", "h264"])
def test_the_honest_twins_find_the_leopard(detector: OnnxLeopardDetector, codec: str) -> None:
    frames, _ = sampled(honest(codec))
    assert [f.seconds for f in frames] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert leopard_seen(detector, frames)


@pytest.mark.parametrize("lie", list(LIES))
def test_a_lying_header_gets_the_frames_of_its_real_content(detector: OnnxLeopardDetector, lie: str) -> None:
    data = LIES[lie]()
    frames, sampler = sampled(data)
    # The floor: two frames a second of the 3 s really there, whatever the header says.
    assert len(frames) >= 2 * REAL_SECONDS, [f.seconds for f in frames]
    assert sampler.decoded <= 12 + 2  # a lie buys no more decoding than the clip holds
    assert leopard_seen(detector, frames), [f.seconds for f in frames]


@pytest.mark.parametrize("lie", ["avi declaring 10 hours", "mp4 declaring 10 hours"])
def test_a_declared_length_that_the_packets_deny_changes_nothing(lie: str) -> None:
    frames, sampler = sampled(LIES[lie]())
    assert [f.seconds for f in frames] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert sampler.info.duration == pytest.approx(REAL_SECONDS)  # measured, not declared


def test_times_beyond_a_day_are_not_believed() -> None:
    """A frame's second is added to the clip's creation time: a lie must not date a sighting years on."""
    frames, sampler = sampled(LIES["avi declaring a frame every 13 hours"]())
    assert len(frames) == 12 and max(f.seconds for f in frames) <= 86_400
    assert sampler.info.duration <= 86_400


def test_a_clip_with_no_duration_is_sampled_to_its_end(detector: OnnxLeopardDetector) -> None:
    data = remux(long_honest(), "matroska", live="1")  # no Duration element, no cues
    with av.open(io.BytesIO(data), mode="r") as container:
        assert container.duration is None and container.streams.video[0].duration is None
    frames, sampler = sampled(data)
    assert sampler.info.duration == pytest.approx(40.0)
    assert len(frames) == 60 and frames[-1].seconds >= 38.0  # spread over all 40 s, not the first 30
    assert leopard_seen(detector, [f for f in frames if f.seconds >= 34.0])


def test_a_long_clip_declaring_100_000_fps_is_spread_over_its_frames(detector: OnnxLeopardDetector) -> None:
    data = avi_lie(long_honest(), fps=100_000)  # 80 frames, the leopard in the last 12
    frames, sampler = sampled(data)
    assert len(frames) == 60 and sampler.decoded == 60  # MJPEG: frames nobody samples are not decoded
    assert leopard_seen(detector, frames[-6:])


def test_a_lie_does_not_lift_the_cap_on_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long H.264 clip with rare keyframes whose times cannot be trusted: decoding stops in order at the
    budget, then goes from keyframe to keyframe, as for an honest clip."""
    monkeypatch.setattr(bot.media.video, "DECODE_BUDGET", 40)
    out = io.BytesIO()
    with av.open(out, "w", format="mpegts") as dest:
        stream = dest.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": "100", "keyint_min": "100"}
        frame = av.VideoFrame.from_image(Image.open(LEOPARD).convert("RGB").resize((160, 96)))
        for _ in range(500):
            for packet in stream.encode(frame):
                dest.mux(packet)
        for packet in stream.encode(None):
            dest.mux(packet)
    frames, sampler = sampled(ts_without_pts(out.getvalue()))
    assert sampler.decoded < 40 + 10 and len(frames) >= 5  # 40 in order, then one per keyframe


async def test_a_camera_file_declaring_100_000_fps_raises_the_alert_its_twin_would(team: Team) -> None:
    """Through the bot: the card's AVI sent as a file, as in tests/test_videos.py."""
    before = len(team.emu.sent(team.ranger.id))
    data = LIES["avi declaring 100 000 fps"]()
    await team.emu.send_document(team.ranger, data, "PICT0001.AVI", "video/x-msvideo")
    reply = (await team.emu.wait_sent(team.ranger.id, before + 1, timeout=60))[-1]
    assert "leopard detected" in reply["text"], reply["text"]
    assert await team.services.db.scalar("SELECT frames FROM videos") == 12  # every frame, not one
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
