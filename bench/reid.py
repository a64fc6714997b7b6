"""Coat-matcher benchmark (issue 25, point 8): one query against 50 individuals x 10 reference crops, features
computed once and cached; prints JSON.

    .venv/bin/python bench/reid.py                 # crops made from ../shared/reid-dev
    .venv/bin/python bench/reid.py --queries 5

The 500 reference crops are made by augmentation (turned, rescaled, re-lit, re-framed) from the first 50
animals of ../shared/reid-dev (or from drawn coats when that folder is absent), then passed through
to_bytes/from_bytes as the bot's store and the CLI's cache do. Reported: the seconds of the first
query (which builds the gallery's kd-tree), of each later query against the same gallery (the tree
kept, as the bot and the CLI keep it), the stored bytes per crop, and the memory per crop while ranking
(the float32 descriptors in the tree plus the cached features). The 1-minute load average is reported:
the machine is shared, so quote it beside the times. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw, ImageEnhance

from bot.individuals import Reference, extract, from_bytes, rank, to_bytes

DEV_SET = Path(__file__).resolve().parent.parent.parent / "shared" / "reid-dev"
INDIVIDUALS, PER_INDIVIDUAL = 50, 10


def sources(n: int) -> list[Image.Image]:
    if DEV_SET.is_dir():
        files = sorted(DEV_SET.glob("*/*.png"))[:n]
        return [Image.open(f).convert("RGB") for f in files]
    out = []
    for seed in range(n):
        rng = random.Random(seed)
        image = Image.new("RGB", (480, 320), (205, 170, 110))
        draw = ImageDraw.Draw(image)
        for _ in range(140):
            x, y, r = rng.uniform(0, 480), rng.uniform(0, 320), rng.uniform(4, 14)
            draw.ellipse([x - r, y - r * 0.8, x + r, y + r * 0.8], outline=(40, 30, 20), width=3)
        out.append(image)
    return out


def augment(image: Image.Image, rng: random.Random) -> Image.Image:
    w, h = image.size
    dx, dy = int(w * rng.uniform(0, 0.12)), int(h * rng.uniform(0, 0.12))
    framed = image.crop((dx, dy, w - int(w * rng.uniform(0, 0.12)), h - int(h * rng.uniform(0, 0.12))))
    turned = framed.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BICUBIC, expand=True)
    scale = rng.uniform(0.7, 1.4)
    sized = turned.resize((max(8, round(turned.width * scale)), max(8, round(turned.height * scale))))
    return ImageEnhance.Brightness(sized).enhance(rng.uniform(0.7, 1.2))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(8)
    bases = sources(INDIVIDUALS + args.queries)
    started = time.perf_counter()
    stored: list[tuple[str, bytes]] = []
    for n, base in enumerate(bases[:INDIVIDUALS]):
        for _ in range(PER_INDIVIDUAL):
            stored.append((f"ID{n:02d}", to_bytes(extract(augment(base, rng), None))))
    extract_s = (time.perf_counter() - started) / len(stored)
    gallery = [
        Reference(name, f"{name}-{i}", None, from_bytes(data)) for i, (name, data) in enumerate(stored)
    ]
    queries = [extract(augment(b, rng), None) for b in bases[: args.queries]]  # animals in the gallery
    load_before = os.getloadavg()[0]
    timings = []
    for query in queries:
        t = time.perf_counter()
        candidates = rank(query, gallery)
        timings.append(time.perf_counter() - t)
    hits = sum(c[0].individual == f"ID{i:02d}" for i, c in enumerate([rank(q, gallery) for q in queries]))
    keypoints = sum(len(r.features.descriptors) for r in gallery)
    bytes_stored = statistics.mean(len(data) for _, data in stored)
    in_tree = keypoints * 128 * 4 / len(gallery)  # float32 copy of every descriptor in the kd-tree
    cached = statistics.mean(r.features.descriptors.nbytes + r.features.keypoints.nbytes for r in gallery)
    report = {
        "source": "reid-dev" if DEV_SET.is_dir() else "drawn coats",
        "individuals": INDIVIDUALS,
        "crops": len(gallery),
        "keypoints_per_crop": round(keypoints / len(gallery), 1),
        "extract_s_per_crop": round(extract_s, 3),
        "first_query_s_with_index_build": round(timings[0], 3),
        "later_query_s": [round(t, 3) for t in timings[1:]],
        "later_query_s_median": round(statistics.median(timings[1:]), 3) if len(timings) > 1 else None,
        "top1_of_queries": f"{hits}/{len(queries)}",
        "stored_bytes_per_crop": round(bytes_stored),
        "memory_bytes_per_crop_while_ranking": round(in_tree + cached),
        "candidates": len(candidates),
        "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cores": os.cpu_count(),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
