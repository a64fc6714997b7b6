"""SD-card import: a camera-trap folder becomes sightings of one station, resumably.

Resumable for free: photos are keyed by SHA-256, so a second run finds every finished file already
recorded and skips it before running the detector.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.folders import iter_images
from bot.services import Services
from bot.sightings import PhotoIntake, Ranger, SightingError
from storage.db import utcnow

IMPORT_RANGER = Ranger(0, "SD-card import")


@dataclass
class ImportReport:
    files: int = 0
    new: int = 0
    skipped: int = 0
    unreadable: list[str] = field(default_factory=list)
    labels: Counter[str] = field(default_factory=Counter)
    leopards: list[int] = field(default_factory=list)
    alerts_sent: int = 0

    def table(self) -> str:
        rows = [
            ("files found", self.files),
            ("new sightings", self.new),
            ("already imported (skipped)", self.skipped),
            ("unreadable", len(self.unreadable)),
            ("leopard sightings", len(self.leopards)),
            ("alerts delivered", self.alerts_sent),
        ]
        rows += [(f"  label: {label}", n) for label, n in self.labels.most_common(8)]
        width = max(len(name) for name, _ in rows)
        lines = [f"{name.ljust(width)}  {value:>7}" for name, value in rows]
        if self.leopards:
            lines.append("leopard sighting numbers: " + ", ".join(f"#{i}" for i in self.leopards))
        lines += [f"unreadable: {p}" for p in self.unreadable[:20]]
        return "\n".join(lines)


async def import_folder(
    services: Services,
    folder: Path,
    station: str,
    *,
    ranger: Ranger = IMPORT_RANGER,
    on_file: Callable[[Path], None] | None = None,
) -> ImportReport:
    if await services.stations.get(station) is None:
        raise SightingError(
            f"unknown station {station}: register it first with /station add", "unknown_station"
        )
    report = ImportReport()
    paths: Iterable[Path] = iter_images([folder])
    for path in paths:
        report.files += 1
        try:
            data = await asyncio.to_thread(path.read_bytes)
            # record_photo recognises a finished file by its SHA-256 before running the detector.
            receipt = await services.sightings.record_photo(
                PhotoIntake(
                    data=data,
                    ranger=ranger,
                    received_at=utcnow(),
                    caption=path.name,
                    is_document=True,
                    source="import",
                    station_code=station,
                )
            )
            if receipt.duplicate:
                report.skipped += 1
            else:
                report.new += 1
                det = receipt.detection
                if det is not None:
                    report.labels[det.label] += 1
                    if det.alert_worthy:
                        report.leopards.append(receipt.sighting_id)
        except (OSError, SightingError) as exc:
            report.unreadable.append(f"{path}: {exc}")
        if on_file:
            on_file(path)
    return report
