"""Benchmark: summaries and exports on three years of data (100k photos, 40 stations, 5 areas).

    .venv/bin/python bench/summaries.py [--sightings 100000] [--repeat 3]

Prints JSON: seconds per operation (best of --repeat), output sizes, and the effect of the
reviews index that migration 0003 adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings
from bot.people import Group
from bot.reports.exports import export
from bot.reports.summary import build_summary
from bot.reports.summary_view import render_summary
from storage.db import Database, iso

END = datetime(2026, 1, 1, tzinfo=UTC)
START = END - timedelta(days=3 * 365)
AREAS = {
    "UST": (43.3, 51.9),
    "KZS": (44.1, 51.3),
    "BKT": (43.6, 52.6),
    "KRT": (42.9, 53.4),
    "SHR": (44.5, 50.9),
}


def seed(path: Path, n: int, rng: random.Random) -> dict[str, int]:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    created = iso(START - timedelta(days=30))
    stations = []
    for area, (lat, lon) in AREAS.items():
        conn.execute("INSERT INTO areas (code, name) VALUES (?, ?)", (area, area.title()))
        for i in range(8):
            code = f"{area}-{i + 1:02d}"
            p = (lat + rng.uniform(-0.4, 0.4), lon + rng.uniform(-0.5, 0.5))
            when = created if i < 6 else iso(START + timedelta(days=rng.uniform(0, 1000)))
            conn.execute(
                "INSERT INTO stations (code, name, lat, lon, area, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (code, f"Station {code}", *p, area, when),
            )
            stations.append((code, *p))
    rangers = [(700_000 + i, f"Ranger {i}") for i in range(25)]
    conn.executemany(
        "INSERT INTO rangers (user_id, name, created_at) VALUES (?, ?, ?)", [(*r, created) for r in rangers]
    )
    span = (END - START).total_seconds()
    photos, sightings, reviews = [], [], []
    for sid in range(1, n + 1):
        taken = START + timedelta(seconds=rng.uniform(0, span))
        received = taken + timedelta(hours=rng.expovariate(1 / 30))
        code, lat, lon = rng.choice(stations)
        roll = rng.random()
        station, source = (code, "station") if roll < 0.85 else (None, "pin")
        if roll >= 0.85:
            lat, lon = lat + rng.uniform(-0.1, 0.1), lon + rng.uniform(-0.1, 0.1)
        if roll >= 0.95:
            lat = lon = source = None
        leopard = rng.random() < 0.08
        label = (
            ("snow leopard" if rng.random() < 0.2 else "leopard")
            if leopard
            else rng.choice(["jackal", "red fox", "ibex", "valley", "wild boar"])
        )
        status = (
            rng.choices(["confirmed", "unreviewed", "rejected", "other"], [60, 25, 10, 5])[0]
            if leopard
            else "unreviewed"
        )
        sha = f"{sid:064x}"
        photos.append((sha, f"{sha}.jpg", 250_000, iso(received)))
        reviewed = status != "unreviewed"
        sightings.append((
            sid, sha, rng.choice(rangers)[0], iso(taken), iso(received), lat, lon, source, station, label,
            rng.uniform(0.6, 0.99) if leopard else rng.uniform(0.0, 0.3), int(label == "leopard"),
            sid if leopard else None, status, 700_000 if reviewed else None,
            iso(received + timedelta(hours=2)) if reviewed else None,
        ))  # fmt: skip
        if reviewed:
            reviews.append((sid, 700_000, "Coordinator", status, iso(received + timedelta(hours=2))))
    conn.executemany("INSERT INTO photos (sha256, path, size, created_at) VALUES (?, ?, ?, ?)", photos)
    conn.executemany(
        """INSERT INTO sightings (id, photo_sha256, ranger_id, taken_at, received_at, lat, lon,
               location_source, station_code, label, score, is_leopard, event_id, status, reviewed_by,
               reviewed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        sightings,
    )
    conn.executemany(
        "INSERT INTO reviews (sighting_id, user_id, user_name, decision, at) VALUES (?, ?, ?, ?, ?)", reviews
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return {"sightings": n, "stations": len(stations), "reviews": len(reviews)}


async def best(repeat: int, op: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = await op()
        times.append(time.perf_counter() - t0)
    return round(min(times), 4), result


async def run(n: int, repeat: int) -> dict[str, Any]:
    rng = random.Random(20260101)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        async with Database(path):  # creates the schema with every migration, 0003 included
            pass
        t0 = time.perf_counter()
        counts = seed(path, n, rng)
        out: dict[str, Any] = {"data": counts, "seed_s": round(time.perf_counter() - t0, 2), "seconds": {}}
        settings = Settings()
        group = Group(-100, "Bench", "en", "Asia/Aqtau", False, True, (), True)
        zone = group.zone
        week = (END - timedelta(days=7), END)
        month = (END - timedelta(days=30), END)
        year = (END - timedelta(days=365), END)
        async with Database(path) as db:
            for name, period in (("summary_week", week), ("summary_month", month)):
                secs, summary = await best(
                    repeat, lambda p=period: build_summary(db, group, *p, settings=settings)
                )
                out["seconds"][name] = secs
                out[f"{name}_leopards"] = summary.current.leopards
                out[f"{name}_chars"] = len(render_summary(summary, "en", zone))
            for fmt in ("csv", "geojson", "camtrapdp"):
                secs, data = await best(
                    repeat,
                    lambda f=fmt: export(db, f, *year, exact=False, grid_km=settings.untrusted_grid_km),
                )
                out["seconds"][f"export_{fmt}_year"] = secs
                out[f"export_{fmt}_year_bytes"] = len(data)
            await db.execute("DROP INDEX reviews_sighting")  # what migration 0003 saves
            secs, _ = await best(1, lambda: export(db, "csv", *year, exact=False, grid_km=10.0))
            out["seconds"]["export_csv_year_without_0003_index"] = secs
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sightings", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.sightings, args.repeat)), indent=2))


if __name__ == "__main__":
    main()
