"""A seeded week of sightings (stations, rangers, reviews) that the summary, export and reader tests share."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.detection import Detection
from storage.db import Database, iso
from tests.conftest import ADMIN, Team
from tests.support.paths import SAMPLES

AQTAU = ZoneInfo("Asia/Aqtau")
BASE = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday: the seeded "current" week is [BASE, BASE + 7 days)
SERIK, AIGERIM = 700_001, 700_002
STATIONS = {  # code: (lat, lon, area, created days after BASE)
    "UST-01": (43.20, 51.80, "UST", -60),
    "UST-02": (43.30, 52.00, "UST", -60),
    "KZS-01": (44.10, 51.30, "KZS", -60),
    "KZS-02": (44.30, 51.50, "KZS", -65),
    "UST-03": (43.40, 51.60, "UST", 2),
}
# id, station, lat, lon, label, is_leopard, status, taken (days after BASE), received, ranger, event
SIGHTINGS = [
    (1, "UST-01", None, None, "leopard", 1, "confirmed", 1.4, 1.5, SERIK, 1),
    (2, "UST-01", None, None, "leopard", 1, "confirmed", 1.41, 1.5, SERIK, 1),  # same burst
    (3, "KZS-01", None, None, "leopard", 1, "confirmed", 3.4, 3.5, SERIK, 3),
    (4, None, 43.25, 51.85, "leopard", 1, "confirmed", 4.4, 4.5, AIGERIM, 4),  # near UST-01: area UST
    (5, "KZS-01", None, None, "snow leopard", 0, "rejected", 5.0, 5.1, SERIK, 5),
    (6, "UST-01", None, None, "jackal", 0, "unreviewed", 2.0, 2.1, SERIK, None),
    (7, None, None, None, "leopard", 1, "unreviewed", 5.2, 5.3, AIGERIM, 7),  # no place: area unknown
    (8, "UST-01", None, None, "leopard", 1, "unreviewed", -11.0, 2.2, SERIK, 8),  # late arrival
    (9, "UST-01", None, None, "leopard", 1, "confirmed", -6.0, -6.0, SERIK, 9),  # previous week
    (10, "UST-01", None, None, "jackal", 0, "unreviewed", -5.0, -5.0, SERIK, None),
    (11, "UST-02", None, None, "jackal", 0, "unreviewed", -30.0, -30.0, SERIK, None),
]


def sha_for(sid: int) -> str:
    return hashlib.sha256(f"photo-{sid}".encode()).hexdigest()


async def seed(db: Database, base: datetime = BASE, photos: dict[int, str] | None = None) -> None:
    """Stations, rangers and the SIGHTINGS above, with times relative to `base`."""
    photos = photos or {}

    def at(days: float) -> str:
        return iso(base + timedelta(days=days)) or ""

    async with db.transaction() as conn:
        for area in ("UST", "KZS"):
            await conn.execute(
                "INSERT OR IGNORE INTO areas (code, name) VALUES (?, ?)", (area, f"{area} tract")
            )
        for code, (s_lat, s_lon, area, created) in STATIONS.items():
            await conn.execute(
                "INSERT INTO stations (code, name, lat, lon, area, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (code, f"Spring {code}", s_lat, s_lon, area, at(created)),
            )
        for uid, name in ((SERIK, "Serik"), (AIGERIM, "Aigerim <b>")):
            await conn.execute(
                "INSERT OR REPLACE INTO rangers (user_id, name, created_at) VALUES (?, ?, ?)",
                (uid, name, at(-90)),
            )
        for sid, st, lat, lon, label, leo, status, taken, received, ranger, event in SIGHTINGS:
            sha = photos.get(sid, sha_for(sid))
            await conn.execute(
                "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, ?, ?, ?)",
                (sha, f"{sha}.jpg", 1, at(received)),
            )
            if st:
                lat, lon = STATIONS[st][0], STATIONS[st][1]
            reviewed = status in ("confirmed", "rejected", "other")
            await conn.execute(
                """INSERT INTO sightings (id, photo_sha256, ranger_id, taken_at, received_at, lat, lon,
                       location_source, station_code, label, score, is_leopard, event_id, status, model,
                       reviewed_by, reviewed_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    sid, sha, ranger, at(taken), at(received), lat, lon,
                    "station" if st else ("pin" if lat is not None else None), st, label,
                    0.91 if leo else 0.12, leo, event, status, "efficientnet-lite2-imagenet",
                    ADMIN if reviewed else None, at(received + 0.1) if reviewed else None,
                ),
            )  # fmt: skip
            if reviewed and event == sid:
                await conn.execute(
                    "INSERT INTO reviews (sighting_id, user_id, user_name, decision, at) VALUES (?,?,?,?,?)",
                    (sid, ADMIN, "Aigerim K.", status, at(received + 0.1)),
                )


async def seed_recent(team: Team) -> None:
    """The seeded week ending now, with two real photos stored so the contact sheet has images."""
    store = team.services.photos
    shas = {1: store.put((SAMPLES / "leo_005_serengeti_night.jpg").read_bytes()).sha256,
            4: store.put((SAMPLES / "leo_009_chimpsee_ir_forest.jpg").read_bytes()).sha256}  # fmt: skip
    await seed(team.services.db, datetime.now(UTC) - timedelta(days=7), shas)


class NoDetector:
    """Summaries and exports never run the model: a stub keeps these tests off ONNX Runtime."""

    threshold = 0.5

    def detect(self, data: bytes) -> Detection:
        raise AssertionError("these tests send no photos to the bot")
