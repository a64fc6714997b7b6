"""How long a clip really is and how far apart its frames are, read from its own packets, never its header.

A header can declare 10 hours or 100 000 frames a second, or say nothing; the packets cannot hide how
many frames there are and what times they carry. `measure` reads them (demuxing, no decoding) and
bot/media/video.py plans its samples on the result:

- trusted times (present on every frame, distinct, at most MAX_FPS, without leaps, within a day):
  frames are timed by them, and sampled so many a second;
- anything else (100 000 fps, every frame at 0, no times at all, a jump of 10 hours and back): frames
  are counted instead, each one a sample slot, and reported at their rank times the median spacing.
"""

from __future__ import annotations

import statistics
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise

import av

# Work for the measuring pass, in packets read (not decoded): 200 000 frames are nearly two hours at
# 30 fps. A longer clip is measured, and so sampled, over its first MAX_PACKETS frames.
MAX_PACKETS = 200_000
# The fastest rate taken at its word: 120 fps slow motion, with millisecond timestamps' rounding. An
# honest clip above it only costs more samples (never more than MAX_FRAMES); a lying one is counted.
MAX_FPS = 130.0
# A step between two frames longer than this many median steps is no pause in a recording but a leap.
MAX_GAP = 30
# No camera records a day in one clip. Longer times are a lie, and a frame's second in the clip is added
# to the clip's creation time: it must not carry a sighting years away (or past datetime's range).
MAX_SECONDS = 86_400.0


@dataclass(frozen=True)
class Timeline:
    """What a clip's packets say: how many frames, where their times start, how far apart they are."""

    frames: int  # video packets with data, up to MAX_PACKETS: the frames the clip holds
    start: int  # the earliest pts, in the stream's ticks (0 without any)
    span: float  # seconds from the earliest pts to the latest
    spacing: float  # the median step between frames in seconds, else the stream's own rate; 0.0 unknown
    trusted: bool  # the times are the clock to sample by (see the module's docstring)
    # Every pts, sorted, when each frame has its own (a frame's rank is then its index here).
    times: array[int] = field(default_factory=lambda: array("q"), repr=False)

    @property
    def seconds(self) -> float:
        """The content's length: by its times when trusted, else its frames at their spacing."""
        if self.trusted:
            length = self.span + self.spacing if self.frames > 1 else 0.0
        else:
            length = self.frames * self.spacing
        return min(length, MAX_SECONDS)

    def rank(self, pts: int | None, default: int) -> int:
        """Where a frame with this pts stands among all frames, first to last; `default` when the pts
        says nothing (missing, shared by several frames, or unseen when measuring)."""
        if pts is None or not self.times:
            return default
        at = bisect_left(self.times, pts)
        return at if at < len(self.times) and self.times[at] == pts else default


def measure(packets: Iterable[av.Packet], time_base: Fraction | None, rate: Fraction | None) -> Timeline:
    """The timeline of one stream's packets (a demuxer's iterator); damage ends the count where it is.
    `rate` (the stream's declared frame rate) is used only to report times of frames without any."""
    pts: list[int] = []
    frames = missing = 0
    try:
        for packet in packets:
            if not packet.size or packet.is_discard:
                continue
            frames += 1
            if packet.pts is None:
                missing += 1
            else:
                pts.append(packet.pts)
            if frames >= MAX_PACKETS:
                break
    except (av.FFmpegError, ValueError, OSError, MemoryError):
        pass
    distinct = sorted(set(pts))
    tick = float(time_base) if time_base else 0.0
    steps = [later - earlier for earlier, later in pairwise(distinct)]
    step = statistics.median(steps) if steps else 0
    if step and tick:
        spacing = step * tick
    else:
        spacing = 1 / float(rate) if rate and 0 < rate <= MAX_FPS else 0.0
    unique = not missing and len(distinct) == frames
    span = (distinct[-1] - distinct[0]) * tick if distinct else 0.0
    trusted = frames <= 1 or (
        unique
        and step * tick >= 1 / MAX_FPS
        and max(steps, default=0) <= MAX_GAP * step
        and span <= MAX_SECONDS
    )
    return Timeline(
        frames=frames,
        start=distinct[0] if distinct else 0,
        span=span,
        spacing=spacing,
        trusted=trusted,
        times=array("q", distinct if unique else ()),
    )
