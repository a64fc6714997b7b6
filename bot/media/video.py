"""Reading untrusted video: a few frames per second (capped), downscaled, with their times in the clip,
and the container's creation time. PyAV decodes (its wheel bundles FFmpeg: no system ffmpeg needed).

Everything here is synchronous and CPU-bound: bot/intake/videos.py runs it on its own worker thread,
one video at a time, so a long clip never takes more than one core away from other rangers' photos.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

import av
import av.container
import av.stream
import av.video.stream

from bot.media.images import MAX_PIXELS
from bot.media.video_clean import packet_cleaner

SAMPLES_PER_SECOND = 2.0
MAX_FRAMES = 60  # a long clip gets this many frames spread over its length, not more work
# The detector sees 260 px windows of at most ~1040 px frames (bot/detection/model.py); 1280 keeps the stored
# best frame sharp enough for the alert at a quarter of a 1080p frame's pixels.
FRAME_SIDE = 1280
# Frames decoded in order before a clip with long keyframe gaps is read keyframe by keyframe: a
# 20 MB clip can hold an hour of tiny frames, and decoding all of them would be unbounded work.
DECODE_BUDGET = 1500
# A gap to the next sample longer than this is skipped by seeking rather than decoding through it.
SEEK_GAP = 4.0
JPEG_QUALITY = 90
# Demuxers by the file's magic bytes. Letting FFmpeg guess would also allow playlist formats (HLS,
# concat) whose files make it open other files or URLs named inside them.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"RIFF", "avi"),  # checked further below: "AVI " at offset 8
    (4, b"ftyp", "mov"),
    (4, b"moov", "mov"),
    (4, b"mdat", "mov"),
    (4, b"wide", "mov"),
    (4, b"free", "mov"),
    (4, b"skip", "mov"),
    (0, b"\x1a\x45\xdf\xa3", "matroska"),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "asf"),
    (0, b"\x00\x00\x01\xba", "mpeg"),
)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # cameras with an unset clock write 1904 or 1970


class UnreadableVideo(ValueError):
    """Not a video we can decode: reason is "not_video", "corrupt", "too_large" or "empty"."""

    def __init__(self, message: str, reason: str = "corrupt") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Frame:
    seconds: float  # from the start of the clip
    jpeg: bytes
    width: int
    height: int


@dataclass(frozen=True)
class VideoInfo:
    container: str  # demuxer: "mov" (MP4, MOV, 3GP), "avi", "matroska", ...
    codec: str  # "h264", "mjpeg", "mpeg4", ...
    width: int
    height: int
    duration: float  # seconds; 0.0 when the container does not say
    created: datetime | None  # the container's creation_time; naive when the file gives no zone

    @property
    def mp4(self) -> bool:
        """Telegram plays MP4/MOV with H.264 inline; anything else is better sent as a file."""
        return self.container == "mov" and self.codec == "h264"


def demuxer_for(head: bytes) -> str | None:
    for offset, magic, name in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            if name == "avi" and head[8:12] not in (b"AVI ", b"AVIX"):
                return None
            return name
    if len(head) > 188 and head[0] == head[188] == 0x47:
        return "mpegts"
    if len(head) > 196 and head[4] == head[196] == 0x47:  # .m2ts / .mts: 192-byte packets
        return "mpegts"
    return None


def parse_creation_time(value: str | None) -> datetime | None:
    """FFmpeg's creation_time: ISO-8601 with Z (MP4/MOV: UTC by the spec) or naive (AVI IDIT)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace(" ", "T"))
    except ValueError:
        return None
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when if aware >= EARLIEST else None


def sample_times(
    duration: float, per_second: float = SAMPLES_PER_SECOND, cap: int = MAX_FRAMES
) -> list[float]:
    """Times to look at: every 1/per_second seconds, spread wider so that at most `cap` fit.
    Unknown length: the first `cap` at the normal rate."""
    if duration <= 0:
        return [i / per_second for i in range(cap)]
    step = max(1.0 / per_second, duration / cap)
    return [i * step for i in range(min(cap, max(1, math.ceil(duration / step))))]


class FrameSampler:
    """Open a clip, then take its sampled frames in batches (`next_batch`) until an empty one.

    Use as a context manager; one thread at a time (PyAV's objects are not shared between threads,
    but may move from one to another between calls).
    """

    def __init__(
        self,
        source: bytes | Path,
        *,
        per_second: float = SAMPLES_PER_SECOND,
        max_frames: int = MAX_FRAMES,
        side: int = FRAME_SIDE,
    ) -> None:
        self._file: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
        try:
            self._container, self._stream = self._open()
            self.info = self._info()
        except BaseException:
            self._file.close()
            raise
        self.side = side
        self.targets = sample_times(self.info.duration, per_second, max_frames)
        self.decoded = 0  # frames decoded, sampled or not (bench/video.py reports it)
        self.seeks = 0
        self._frames = self._sampled()

    def _open(self) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
        head = self._file.read(256)
        self._file.seek(0)
        if not head:
            raise UnreadableVideo("empty file", "empty")
        demuxer = demuxer_for(head)
        if demuxer is None:
            raise UnreadableVideo("not a video container we read (MP4, MOV, AVI, MKV, ...)", "not_video")
        try:
            container = av.open(self._file, format=demuxer, mode="r")
        except (av.FFmpegError, ValueError, OSError) as exc:
            raise UnreadableVideo(f"cannot open video: {exc}", "corrupt") from exc
        if not container.streams.video:
            container.close()
            raise UnreadableVideo("no video stream", "not_video")
        stream = container.streams.video[0]
        if stream.width * stream.height > MAX_PIXELS or min(stream.width, stream.height) <= 0:
            container.close()
            raise UnreadableVideo(f"frame size {stream.width}x{stream.height}", "too_large")
        # One decoding thread: the detector's inference needs the other cores more.
        stream.thread_count = 1
        return container, stream

    def _info(self) -> VideoInfo:
        c, s = self._container, self._stream
        if s.duration is not None and s.time_base is not None:
            duration = float(s.duration * s.time_base)
        else:
            duration = c.duration / av.time_base if c.duration else 0.0
        created = c.metadata.get("creation_time") or s.metadata.get("creation_time")
        return VideoInfo(
            c.format.name,
            s.codec_context.name,
            s.width,
            s.height,
            max(0.0, duration),
            parse_creation_time(created),
        )

    def next_batch(self, size: int) -> list[Frame]:
        """Up to `size` more sampled frames; [] at the end. A clip damaged halfway ends there."""
        out: list[Frame] = []
        try:
            for frame in self._frames:
                out.append(frame)
                if len(out) >= size:
                    break
        except (av.FFmpegError, ValueError, OSError, MemoryError) as exc:
            self._frames = iter(())
            if not out and self.decoded == 0:
                raise UnreadableVideo(f"cannot decode video: {exc}", "corrupt") from exc
        return out

    def _sampled(self) -> Iterator[Frame]:
        stream = self._stream
        base = float(stream.start_time * stream.time_base) if stream.start_time and stream.time_base else 0.0
        intra = bool(stream.codec_context.codec.intra_only)  # MJPEG: every frame stands alone
        half = 0.5 / float(stream.average_rate) if stream.average_rate else 0.02
        targets = iter(self.targets)
        target = next(targets, None)
        last = 0.0  # time of the last frame decoded
        may_seek, sought = not intra, False
        while target is not None:
            sought_now = False
            for packet in self._container.demux(stream):
                if intra and packet.pts is not None and packet.time_base is not None:
                    # Frames nobody samples are not even decoded: a 1080p MJPEG frame is a JPEG.
                    if float(packet.pts * packet.time_base) - base < target - half:
                        continue
                for frame in packet.decode():
                    self.decoded += 1
                    if self.decoded == DECODE_BUDGET and not intra:
                        stream.codec_context.skip_frame = "NONKEY"
                    seconds = (frame.time or 0.0) - base
                    if sought:
                        sought = False
                        if seconds <= last + half:  # no keyframe between here and the target:
                            may_seek = False  # seeking only decodes the same frames again
                    last = max(last, seconds)
                    if seconds < target - half:
                        continue
                    yield self._frame(frame, seconds)
                    while target is not None and target <= seconds + half:
                        target = next(targets, None)
                    if target is None:
                        return
                if may_seek and target - last > SEEK_GAP and self.seeks < len(self.targets):
                    sought_now = True
                    break
            if not sought_now:
                return  # the end of the stream
            offset = round((target + base) / stream.time_base) if stream.time_base else 0
            self._container.seek(offset, stream=stream, backward=True, any_frame=False)
            sought, self.seeks = True, self.seeks + 1

    def _frame(self, frame: av.VideoFrame, seconds: float) -> Frame:
        scale = min(1.0, self.side / max(frame.width, frame.height))
        width, height = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
        image = frame.to_image(width=width, height=height)
        # Phones record portrait clips sideways with a rotation tag; show the animal upright.
        if frame.rotation:
            image = image.rotate(frame.rotation, expand=True)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=JPEG_QUALITY)
        return Frame(round(max(0.0, seconds), 2), out.getvalue(), image.width, image.height)

    def close(self) -> None:
        try:
            self._container.close()
        finally:
            self._file.close()

    def __enter__(self) -> FrameSampler:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def probe(source: bytes | Path) -> VideoInfo:
    with FrameSampler(source) as sampler:
        return sampler.info


# Muxer and file extension for a clean copy of a clip, by the demuxer it was read with.
_REMUX = {"mov": ("mov", ".mov"), "avi": ("avi", ".avi")}
# A cover or thumbnail stored as a video stream: a still image (with its own EXIF), not the clip.
_NOT_THE_CLIP = av.stream.Disposition.attached_pic | av.stream.Disposition.timed_thumbnails


def clean_copy(path: Path, info: VideoInfo) -> tuple[bytes, str]:
    """The clip's video and audio in a new container, without the original's metadata (a phone writes
    its GPS fix into an MP4, a trail camera its position into every MJPEG frame's EXIF): what /sighting
    sends, since the reader may see only rounded places. No container, stream or chapter tags, no data,
    subtitle or attachment streams, no packet side data; MJPEG frames lose their EXIF, comment and maker
    segments (bot/media/video_clean.py). Returns (bytes, file extension); raises UnreadableVideo rather than
    send what it cannot clean."""
    muxer, ext = ("mp4", ".mp4") if info.mp4 else _REMUX.get(info.container, ("matroska", ".mkv"))
    out_buf = io.BytesIO()
    with path.open("rb") as fh:
        demuxer = demuxer_for(fh.read(256))
        fh.seek(0)
        if demuxer is None:
            raise UnreadableVideo("not a video container we read", "not_video")
        try:
            with av.open(fh, format=demuxer, mode="r") as inp, av.open(out_buf, "w", format=muxer) as out:
                _copy_streams(inp, out)
        except (av.FFmpegError, ValueError, OSError) as exc:  # NotCleanable is a ValueError
            raise UnreadableVideo(f"cannot copy video: {exc}", "corrupt") from exc
    return out_buf.getvalue(), ext


def _copy_streams(inp: av.container.InputContainer, out: av.container.OutputContainer) -> None:
    kept = [
        s
        for s in inp.streams
        if (s.type == "video" and not s.disposition & _NOT_THE_CLIP) or s.type == "audio"
    ]
    streams, cleaners = {}, {}
    for s in kept:
        name = s.codec_context.name
        width, height = (s.width, s.height) if isinstance(s, av.video.stream.VideoStream) else (0, 0)
        cleaners[s.index] = packet_cleaner(s.type, name, width, height)
        streams[s.index] = target = out.add_stream_from_template(s)
        if name == "mjpeg":  # bytes after an AVI's bitmap header: no JPEG frame needs them
            target.codec_context.extradata = None
    for packet in inp.demux(kept):
        if not packet.size:  # the demuxer's end-of-stream marker (Matroska's first packet has no dts)
            continue
        clean = cleaners[packet.stream.index]
        data = bytes(packet)
        # A new packet rather than the demuxer's: only the payload and its timing cross over, not the
        # side data a demuxer attached (Matroska block additions, strings metadata).
        copy = av.Packet(clean(data) if clean else data)
        copy.pts, copy.dts, copy.duration = packet.pts, packet.dts, packet.duration
        copy.time_base, copy.is_keyframe = packet.time_base, packet.is_keyframe
        copy.stream = streams[packet.stream.index]
        out.mux(copy)
