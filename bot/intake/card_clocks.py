"""The SD-card import's account of camera clocks: which stations' photos have a clock that looks wrong
or no camera time at all. Either is a maintenance task for the station (set the clock, change the
battery, switch the date stamp back on), so the import summary counts them per station and says so.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from bot.media import DEFAULT_ZONE, CaptureTime

# A few clockless photos can be files a ranger copied in by hand; this share of a card is the camera.
CLOCKLESS_WARN_SHARE = 0.10


@dataclass
class ClockTally:
    zone: tzinfo = DEFAULT_ZONE
    photos: Counter[str] = field(default_factory=Counter)  # new photos per station
    wrong: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    clockless: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, station: str, path: Path, time: CaptureTime | None) -> None:
        self.photos[station] += 1
        if time is None:
            return
        shown = f"{path}: {time.taken_at.astimezone(self.zone):%Y-%m-%d %H:%M}"
        if time.clock_issue is not None:
            self.wrong[station].append(f"{shown} ({time.clock_issue.value})")
        elif not time.is_capture:
            self.clockless[station].append(shown)

    def rows(self) -> list[tuple[str, int]]:
        return [
            ("camera clock looks wrong", sum(len(v) for v in self.wrong.values())),
            ("no camera time (file time used)", sum(len(v) for v in self.clockless.values())),
        ]

    def warnings(self) -> list[str]:
        out = []
        for station, items in sorted(self.wrong.items()):
            out.append(
                f"⚠️ {station}: the camera clock looks wrong on {len(items)} of {self.photos[station]} new "
                f"photos (first: {items[0].rsplit(': ', 1)[-1]}). Their times are kept as recorded but not "
                "used for movement; set the camera's date and time at the next visit."
            )
        for station, items in sorted(self.clockless.items()):
            if len(items) >= CLOCKLESS_WARN_SHARE * self.photos[station]:
                out.append(
                    f"⚠️ {station}: {len(items)} of {self.photos[station]} new photos carry no camera time; "
                    "they are dated by their file times, which are not capture times. Check the camera's "
                    "clock and its EXIF or date-stamp settings."
                )
        return out

    def lists(self) -> list[tuple[str, list[str]]]:
        wrong = [f"{station}  {item}" for station, items in sorted(self.wrong.items()) for item in items]
        bare = [f"{station}  {item}" for station, items in sorted(self.clockless.items()) for item in items]
        return [("photos whose camera clock looks wrong", wrong), ("photos without a camera time", bare)]
