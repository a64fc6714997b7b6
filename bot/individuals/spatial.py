"""The spatial check of one query crop against one reference crop: one-to-one matches that agree on a
single geometric transform (RANSAC), counted so that no keypoint counts twice.

Why one-to-one: rosettes repeat, so without it one query keypoint can match many similar rosettes and
every one becomes an "inlier" (the issue measured 50 false "same" pairs of 774 without it, 0 of 656 with
it). Matches are mutual best neighbours (each keypoint on either side used at most once), SIFT's twin
keypoints at one spot (same place, another orientation) are merged, and the transform is a similarity
(rotation, scale, shift: 4 degrees of freedom), which random matches fit far less often than a homography.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from bot.individuals.features import Features, unit_descriptors

RATIO = 0.8  # Lowe ratio: 0.9 let twice as many chance matches through on reid-dev (docs/INDIVIDUALS.md)
RANSAC_PX = 5.0  # reprojection tolerance in normalised-crop pixels (long side 400); 8 let chance matches in
MIN_SCALE, MAX_SCALE = 1 / 3, 3.0  # the same animal at another distance, not a rosette blown up to a flank
_SPOT_PX = 3.0  # keypoints closer than this on one side are one spot


@dataclass(frozen=True)
class Verified:
    inliers: int
    matches: tuple[tuple[tuple[float, float], tuple[float, float]], ...]


def one_to_one(query: Features, reference: Features) -> list[tuple[int, int]]:
    """Mutual nearest neighbours passing the ratio test, each spot on either side used once."""
    if len(query.descriptors) < 2 or len(reference.descriptors) < 2:
        return []
    q, r = unit_descriptors(query), unit_descriptors(reference)
    d2 = np.maximum(
        (q * q).sum(1)[:, None] + (r * r).sum(1)[None, :] - 2.0 * q @ r.T, 0.0
    )  # squared distances, query x reference
    best_r = d2.argmin(axis=1)
    best_q = d2.argmin(axis=0)
    two = np.partition(d2, 1, axis=1)[:, :2]
    rows = np.arange(len(q))
    good = (best_q[best_r] == rows) & (two[:, 0] <= (RATIO**2) * two[:, 1])
    chosen = rows[good]
    chosen = chosen[np.argsort(d2[chosen, best_r[chosen]], kind="stable")]
    spot_q, spot_r = _spots(query.keypoints), _spots(reference.keypoints)
    seen_q: set[int] = set()
    seen_r: set[int] = set()
    kept: list[tuple[int, int]] = []
    for i, j in zip(chosen.tolist(), best_r[chosen].tolist(), strict=True):
        # closest first; a later match on an already used spot is a twin
        if spot_q[i] in seen_q or spot_r[j] in seen_r:
            continue
        seen_q.add(spot_q[i])
        seen_r.add(spot_r[j])
        kept.append((i, j))
    return kept


def verify(query: Features, reference: Features) -> Verified:
    """Inliers of the best similarity transform from the query crop to the reference crop."""
    pairs = one_to_one(query, reference)
    if len(pairs) < 3:
        return Verified(0, ())
    src = np.array([query.keypoints[i] for i, _ in pairs], dtype=np.float32)
    dst = np.array([reference.keypoints[j] for _, j in pairs], dtype=np.float32)
    transform, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX, maxIters=2000, confidence=0.995
    )
    if transform is None or mask is None:
        return Verified(0, ())
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    if not MIN_SCALE <= scale <= MAX_SCALE:
        return Verified(0, ())
    keep = mask.ravel().astype(bool)
    matches = tuple(
        ((float(a[0]), float(a[1])), (float(b[0]), float(b[1])))
        for a, b in zip(src[keep], dst[keep], strict=True)
    )
    # A similarity needs 2 points; fewer than 3 agreeing ones is no evidence at all.
    if len(matches) < 3:
        return Verified(0, ())
    return Verified(len(matches), matches)


def _spots(points: np.ndarray) -> list[int]:
    """A spot number per keypoint: SIFT's twins (one place, another orientation or a neighbouring scale)
    fall in one _SPOT_PX cell and share a number."""
    if len(points) == 0:
        return []
    cells = np.floor(points / _SPOT_PX).astype(np.int64)
    _, inverse = np.unique(cells, axis=0, return_inverse=True)
    return [int(v) for v in inverse.ravel()]
