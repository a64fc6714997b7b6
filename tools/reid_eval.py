"""Measure the coat-pattern matcher on a labelled folder (one sub-folder per animal), balanced per animal.

    .venv/bin/python tools/reid_eval.py                       # ../shared/reid-dev
    .venv/bin/python tools/reid_eval.py DIR --max-gallery 4 --pairs --json

Protocol (issue 25): every photo of an animal with two or more photos is a query; the gallery is every
other photo, at most --max-gallery per animal (the query's own animal keeps its others first, so it is
always present). Figures are averaged per animal first ("balanced"), so one well-photographed animal
cannot carry them. Beside them: chance (k / individuals) and a random ranking (the mean and the 99th
percentile of per-animal averaged top-k over 2000 shuffles). Animals with one photo are also ranked as
queries whose animal is absent: any "likely_same" for them is a wrong one. Ties in score are counted
at their expected rank. --pairs also checks every pair spatially (inliers for same and different
animals, the evidence for LIKELY_SAME_INLIERS).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from bot.individuals import LIKELY_SAME_INLIERS, Features, Reference, extract, rank, verdict
from bot.individuals.spatial import verify

SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}
DEFAULT_SET = Path(__file__).resolve().parent.parent.parent / "shared" / "reid-dev"


def load(folder: Path) -> list[tuple[str, str, Features]]:
    """(animal, path, features) for every image; whole images (the set's photos are crops already)."""
    out = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(p for p in sub.iterdir() if p.suffix.lower() in SUFFIXES):
            with Image.open(path) as image:
                out.append((sub.name, str(path), extract(image, None)))
    return out


def expected_rank(candidates: list[tuple[str, float]], truth: str) -> float:
    """1-based rank of the true animal, ties counted at their mean position."""
    score = dict(candidates)[truth]
    better = sum(1 for _, s in candidates if s > score)
    tied = sum(1 for _, s in candidates if s == score)
    return better + (tied + 1) / 2


def hit(rank_: float, k: int) -> float:
    """Probability the truth is within the top k given an expected rank from a tie (linear)."""
    return 1.0 if rank_ <= k else 0.0


def balanced(per_animal: dict[str, list[float]]) -> float:
    return sum(sum(v) / len(v) for v in per_animal.values()) / len(per_animal)


def random_baseline(queries: list[tuple[str, int]], k: int, rounds: int = 2000) -> tuple[float, float]:
    """Per-animal averaged top-k of uniformly random rankings: mean and 99th percentile."""
    rng = random.Random(25)
    results = []
    for _ in range(rounds):
        per: dict[str, list[float]] = defaultdict(list)
        for animal, n in queries:
            per[animal].append(1.0 if rng.randrange(n) < k else 0.0)
        results.append(balanced(per))
    results.sort()
    return sum(results) / rounds, results[int(0.99 * rounds) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, nargs="?", default=DEFAULT_SET)
    parser.add_argument("--max-gallery", type=int, default=4, help="gallery photos per animal (default 4)")
    parser.add_argument("--pairs", action="store_true", help="also check every pair spatially")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = parser.parse_args()
    if not args.folder.is_dir():
        print(f"reid_eval: no folder {args.folder}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    items = load(args.folder)
    photos: dict[str, list[int]] = defaultdict(list)
    for i, (animal, _, _) in enumerate(items):
        photos[animal].append(i)
    top1: dict[str, list[float]] = defaultdict(list)
    top5: dict[str, list[float]] = defaultdict(list)
    sizes: list[tuple[str, int]] = []
    false_same = right_same = absent_queries = 0
    verdicts: list[tuple[str, str, list[tuple[str, int]]]] = []
    for q, (animal, path, features) in enumerate(items):
        gallery = []
        for other, idx in photos.items():
            chosen = [i for i in idx if i != q][: args.max_gallery]
            gallery += [Reference(other, items[i][1], None, items[i][2]) for i in chosen]
        candidates = rank(features, gallery)
        said, who = verdict(candidates, query_station=None)
        verdicts.append((animal, path, [(c.individual, c.inliers) for c in candidates if c.inliers]))
        present = any(c.individual == animal for c in candidates)
        if said == "likely_same":
            if who == animal:
                right_same += 1
            else:
                false_same += 1
        if not present:
            absent_queries += 1
            continue
        r = expected_rank([(c.individual, c.score) for c in candidates], animal)
        top1[animal].append(hit(r, 1))
        top5[animal].append(hit(r, 5))
        sizes.append((animal, len(candidates)))
    n_individuals = sum(n for _, n in sizes) / len(sizes)
    rand1, rand1_99 = random_baseline(sizes, 1)
    rand5, rand5_99 = random_baseline(sizes, 5)
    report: dict[str, object] = {
        "set": str(args.folder),
        "photos": len(items),
        "animals_queried": len(top1),
        "queries": len(sizes),
        "absent_queries": absent_queries,
        "gallery_individuals": round(n_individuals, 1),
        "top1_balanced": round(balanced(top1), 3),
        "top5_balanced": round(balanced(top5), 3),
        "chance_top1": round(1 / n_individuals, 3),
        "chance_top5": round(min(1.0, 5 / n_individuals), 3),
        "random_top1_mean_p99": [round(rand1, 3), round(rand1_99, 3)],
        "random_top5_mean_p99": [round(rand5, 3), round(rand5_99, 3)],
        "likely_same_threshold": LIKELY_SAME_INLIERS,
        "likely_same_right": right_same,
        "likely_same_wrong": false_same,
    }
    # What each threshold would have said: (right, wrong) "likely_same" verdicts; whom the wrong ones named.
    sweep = {}
    for t in range(6, 41, 2):
        right = wrong = 0
        for animal, _, found in verdicts:
            strong = {who for who, n in found if n >= t}
            if len(strong) == 1:
                right, wrong = (right + 1, wrong) if animal in strong else (right, wrong + 1)
        sweep[t] = (right, wrong)
    report["threshold_right_wrong"] = sweep
    report["wrong_at_threshold"] = [
        (Path(path).name, [(who, n) for who, n in found if n >= LIKELY_SAME_INLIERS and who != animal])
        for animal, path, found in verdicts
        if any(n >= LIKELY_SAME_INLIERS and who != animal for who, n in found)
    ]
    if args.pairs:
        same: list[int] = []
        different: list[int] = []
        for a in range(len(items)):
            for b in range(a + 1, len(items)):
                inliers = verify(items[a][2], items[b][2]).inliers
                (same if items[a][0] == items[b][0] else different).append(inliers)
        report["pairs_same"] = len(same)
        report["pairs_different"] = len(different)
        report["pairs_same_inliers"] = sorted(same, reverse=True)
        report["pairs_different_max_inliers"] = max(different, default=0)
        report["pairs_different_at_or_above_threshold"] = sum(
            1 for v in different if v >= LIKELY_SAME_INLIERS
        )
        report["pairs_same_at_or_above_threshold"] = sum(1 for v in same if v >= LIKELY_SAME_INLIERS)
        report["pairs_different_top"] = sorted(different, reverse=True)[:10]
    report["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:40} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
