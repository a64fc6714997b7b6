"""Reading untrusted video: a few frames per second (capped), downscaled, with their times in the clip,
and the container's creation time. PyAV decodes (its wheel bundles FFmpeg: no system ffmpeg needed).

The clip's length and frame rate are measured from its packets (bot/media/video_time.py), never taken
from its header: a clip that declares 10 hours or 100 000 fps is sampled like its honest twin.

Everything here is synchronous and CPU-bound: bot/intake/videos.py runs it on its own worker thread,
one video at a time, so a long clip never takes more than one core away from other rangers' photos.
"""

from __future__ import annotations

import io
import math
from bisect import bisect_right
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
from bot.media.video_time import MAX_SECONDS, Timeline, measure

SAMPLES_PER_SECOND = 2.0
MAX_FRAMES = 60  # a long clip gets this many frames spread over its length, not more work
# The detector sees 260 px windows of at most ~1040 px frames (bot/detection/model.py); 1280 keeps the stored
# best frame sharp enough for the alert at a quarter of a 1080p frame's pixels.
FRAME_SIDE = 1280
# Work per clip, counted rather than timed: frames decoded in order before a clip with long keyframe
# gaps is read keyframe by keyframe (a 20 MB clip can hold an hour of tiny frames, and decoding all of
# them would be unbounded work), and the same for pixels (1500 frames of 4K; bigger frames reach it
# sooner). Past either, only a keyframe at or after the next sample is decoded: one per sample at most.
DECODE_BUDGET = 1500
PIXEL_BUDGET = DECODE_BUDGET * 3840 * 2160
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
    duration: float  # seconds, measured from the packets (not the header's word); 0.0 without frames
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
            self.timeline = self._measure()
            self._container, self._stream = self._open()
            self.info = self._info()
        except BaseException:
            self._file.close()
            raise
        self.side, self.per_second = side, per_second
        line = self.timeline
        # Untrusted times: frames are counted instead, each one a sample interval (every frame of a short
        # clip, max_frames spread evenly over a long one).
        length = line.seconds if line.trusted else line.frames / per_second
        self.targets = sample_times(length, per_second, max_frames)
        self.decoded = 0  # frames decoded, sampled or not (bench/video.py reports it)
        self.pixels = 0  # their pixels
        self.seeks = 0
        self._frames = self._sampled() if line.trusted else self._counted()

    def _open(self) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
        head = self._file.read(256)
        self._file.seek(0)
        if not head:
            raise UnreadableVideo("empty file", "empty")
        demuxer = demuxer_for(head)
        if demuxer is None:
            raise UnreadableVideo("not a video container we read (MP4, MOV, AVI, MKV, ...)", "not_video")
        # An MP4's edit list is header too: one made to fit a lying timescale would hide most frames.
        options = {"ignore_editlist": "1"} if demuxer == "mov" else {}
        try:
            container = av.open(self._file, format=demuxer, mode="r", options=options)
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

    def _measure(self) -> Timeline:
        """A first pass over the packets (read, not decoded), in a container of its own."""
        container, stream = self._open()
        try:
            return measure(container.demux(stream), stream.time_base, stream.guessed_rate)
        finally:
            container.close()
            self._file.seek(0)

    def _info(self) -> VideoInfo:
        c, s = self._container, self._stream
        created = c.metadata.get("creation_time") or s.metadata.get("creation_time")
        return VideoInfo(
            c.format.name,
            s.codec_context.name,
            s.width,
            s.height,
            max(0.0, self.timeline.seconds),
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
        """By the frames' own (trusted) times: the first frame at or after each target; a long gap to the
        next target is sought across unless seeking lands where decoding already is."""
        stream, line = self._stream, self.timeline
        tick = float(stream.time_base) if stream.time_base else 0.0
        intra = bool(stream.codec_context.codec.intra_only)  # MJPEG: every frame stands alone
        half = line.spacing / 2 if line.spacing else 0.02
        targets = iter(self.targets)
        target = next(targets, None)
        last = 0.0  # time of the last frame decoded
        may_seek, sought = not intra, False
        while target is not None:
            sought_now = False
            for packet in self._container.demux(stream):
                # Frames nobody samples are not even decoded: a 1080p MJPEG frame is a JPEG; past the
                # budget, only what lies at or after the target.
                if packet.size and packet.pts is not None and (intra or self._spent()):
                    if (packet.pts - line.start) * tick < target - half:
                        continue
                for frame in packet.decode():
                    self._count(frame, intra)
                    pts = frame.pts
                    seconds = (pts - line.start) * tick if pts is not None else last + line.spacing
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
            offset = line.start + round(target / tick) if tick else 0
            self._container.seek(offset, stream=stream, backward=True, any_frame=False)
            sought, self.seeks = True, self.seeks + 1

    def _counted(self) -> Iterator[Frame]:
        """By the frames' ranks (their times cannot be trusted): target i holds the ranks from starts[i]
        on and takes the first frame that falls in it, in whatever order frames come out. No seeking:
        a seek goes by time."""
        stream, line = self._stream, self.timeline
        intra = bool(stream.codec_context.codec.intra_only)
        starts = sorted({round(target * self.per_second) for target in self.targets})
        taken: set[int] = set()
        fed = out = rank_fed = 0  # packets read, frames decoded, rank of the last packet read
        for packet in self._container.demux(stream):
            skipping = intra or self._spent()
            if packet.size:
                rank_fed, fed = line.rank(packet.pts, fed), fed + 1
                if skipping and bisect_right(starts, rank_fed) - 1 in taken:
                    continue
            for frame in packet.decode():
                self._count(frame, intra)
                out += 1
                # Without a pts to place it: the frame decoded in order, or the packet just read.
                rank = line.rank(frame.pts, rank_fed if skipping else out - 1)
                target = bisect_right(starts, rank) - 1
                if target in taken:
                    continue
                taken.add(target)
                yield self._frame(frame, rank * line.spacing)
                if len(taken) == len(starts):
                    return

    def _count(self, frame: av.VideoFrame, intra: bool) -> None:
        self.decoded += 1
        self.pixels += frame.width * frame.height
        if not intra and self._spent():
            self._stream.codec_context.skip_frame = "NONKEY"

    def _spent(self) -> bool:
        return self.decoded >= DECODE_BUDGET or self.pixels >= PIXEL_BUDGET

    def _frame(self, frame: av.VideoFrame, seconds: float) -> Frame:
        scale = min(1.0, self.side / max(frame.width, frame.height))
        width, height = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
        image = frame.to_image(width=width, height=height)
        # Phones record portrait clips sideways with a rotation tag; show the animal upright.
        if frame.rotation:
            image = image.rotate(frame.rotation, expand=True)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=JPEG_QUALITY)
        return Frame(round(min(max(0.0, seconds), MAX_SECONDS), 2), out.getvalue(), image.width, image.height)

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
