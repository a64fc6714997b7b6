"""bot/media/video.py on its own: which frames a clip gives, how much it decodes for them, what it
refuses."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import av
import pytest
from PIL import Image

import bot.media.video
from bot.media.video import FrameSampler, UnreadableVideo, clean_copy, demuxer_for, probe, sample_times
from tests.support.clips import JACKAL, LEOPARD, make_clip
from tests.support.paths import DATA

DATA = DATA / "videos"


def frames_of(source: bytes | Path) -> tuple[list[bot.media.video.Frame], FrameSampler]:
    with FrameSampler(source) as sampler:
        frames = []
        while batch := sampler.next_batch(4):
            frames += batch
    return frames, sampler


def long_clip(seconds: int, fps: int, keyframe_every: int) -> bytes:
    """A long, tiny H.264 clip with a keyframe every `keyframe_every` frames (x264's -g)."""
    out_buf = io.BytesIO()
    with av.open(out_buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(keyframe_every), "keyint_min": str(keyframe_every)}
        base = Image.open(LEOPARD).convert("RGB").resize((180, 96))
        for i in range(seconds * fps):
            image = base.crop((i % 20, 0, i % 20 + 160, 96))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return out_buf.getvalue()


def test_sample_times_are_two_a_second_and_at_most_sixty() -> None:
    assert sample_times(3.0) == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    spread = sample_times(600.0)
    assert len(spread) == 60 and spread[1] == 10.0 and spread[-1] == 590.0
    assert len(sample_times(0.0)) == 60  # length unknown: the first 30 s


def test_mjpeg_frames_nobody_samples_are_not_decoded() -> None:
    clip = make_clip([(JACKAL, 10.0)], codec="mjpeg", fps=15, size=(320, 176))
    frames, sampler = frames_of(clip)
    # At 15 fps no frame is at 0.5 s: the one within half a frame of it is taken (7/15 s).
    assert [f.seconds for f in frames[:3]] == [0.0, 0.47, 1.0] and len(frames) == 20
    assert sampler.info.codec == "mjpeg" and sampler.decoded == len(frames)  # not 150


def test_a_long_clip_is_sought_through_not_decoded_through() -> None:
    frames, sampler = frames_of(long_clip(seconds=600, fps=2, keyframe_every=4))
    assert len(frames) == 60 and frames[-1].seconds == pytest.approx(590.0, abs=0.5)
    assert sampler.seeks > 50 and sampler.decoded < 3 * 60  # of 1 200 frames


def test_rare_keyframes_fall_back_to_keyframes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.media.video, "DECODE_BUDGET", 40)
    frames, sampler = frames_of(long_clip(seconds=100, fps=5, keyframe_every=100))
    # No keyframe near enough to seek to; after 40 frames in order, keyframes only (one per 20 s).
    assert sampler.decoded < 60 and 2 <= len(frames) < 60
    assert frames[-1].seconds >= 80


def test_real_camera_trap_clips() -> None:
    clips = {"grumeti_09190048_hyena.AVI": ("mpeg4", 80), "grumeti_09100029_eland.MP4": ("h264", 106)}
    for name, (codec, width) in clips.items():
        frames, sampler = frames_of(DATA / name)
        assert (sampler.info.codec, sampler.info.width, sampler.info.height) == (codec, width, 60)
        assert len(frames) == round(sampler.info.duration)  # one frame a second: each one is sampled


def test_a_portrait_phone_clip_comes_out_upright() -> None:
    data = bytearray(make_clip([(LEOPARD, 1.0)], codec="h264"))
    at = data.index(b"tkhd") + 4 + 4 + 20 + 8 + 8  # version 0: the display matrix
    data[at : at + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)  # 90° (iPhone)
    frames, _ = frames_of(bytes(data))
    assert (frames[0].width, frames[0].height) == (336, 640)


def test_a_truncated_avi_gives_the_frames_before_the_damage() -> None:
    clip = make_clip([(LEOPARD, 3.0)], codec="mjpeg", size=(320, 176))
    frames, _ = frames_of(clip[: len(clip) * 2 // 3])
    assert 2 <= len(frames) < 6


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x00" * 64, "not_video"),
        (b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n", "not_video"),
        (b"ffconcat version 1.0\nfile /etc/passwd\n", "not_video"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40, "corrupt"),
        (b"RIFF\x00\x00\x00\x00AVI LIST" + b"\x00" * 40, "corrupt"),
    ],
    ids=["empty", "zeros", "hls playlist", "concat list", "mp4 header only", "avi header only"],
)
def test_what_is_no_readable_video_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableVideo) as refused:
        probe(data)
    assert refused.value.reason == reason


def test_demuxers_come_from_the_bytes() -> None:
    assert demuxer_for(make_clip([(JACKAL, 0.5)], codec="mjpeg")) == "avi"
    assert demuxer_for(make_clip([(JACKAL, 0.5)], codec="h264")) == "mov"
    assert demuxer_for(b"\x1a\x45\xdf\xa3" + b"\x00" * 60) == "matroska"
    assert demuxer_for(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None


def test_clean_copy_keeps_the_frames_and_drops_the_metadata(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    path.write_bytes(make_clip([(LEOPARD, 1.0)], codec="mjpeg", creation_time="2026-03-14T05:30:00Z"))
    info = probe(path)
    data, ext = clean_copy(path, info)
    assert ext == ".avi" and not info.mp4
    with av.open(io.BytesIO(data)) as copy:
        assert copy.streams.video[0].codec_context.name == "mjpeg" and copy.streams.video[0].frames == 4
