"""INT8 against the fp32 reference on the same photos: decisions, scores, boxes.

Used by tools/calibrate.py --parity (figures for docs/MODEL.md) and tests/test_int8_parity.py (CI),
so the bounds below are stated once. Re-run `tools/calibrate.py --parity` when the model, the
calibration or the threshold changes.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bot.detection.model import OnnxLeopardDetector
from bot.detection.types import DEFAULT_THRESHOLD, Box, Detection
from bot.media import UnreadableImage, open_image

SAMPLES = Path(__file__).resolve().parents[1] / "bot" / "samples"

# Bounds INT8 must keep against fp32 (docs/MODEL.md, "INT8"), with headroom over what was measured:
# the largest score difference on the 88 eval photos was 0.045 (mean 0.002), 0.057 on their 352
# perturbed copies.
SCORE_TOLERANCE = 0.06
# Every decision agrees at the shipped threshold, and the INT8 score also stays at least this far on
# fp32's side of it, so that no photo is one rounding away from flipping. Photos whose fp32 score is
# itself within this of the threshold (since issue 24: leo_008 0.088 and a civet 0.090 at 0.08) may
# flip; tests/detection/test_int8_parity.py still requires every verified leopard under both.
DECISION_MARGIN = 0.02
# Where both call it a leopard, their boxes overlap at least this much (intersection over union).
MIN_IOU = 0.5


@dataclass(frozen=True)
class Pair:
    name: str
    fp32: Detection
    int8: Detection

    @property
    def diff(self) -> float:
        return abs(self.int8.score - self.fp32.score)

    @property
    def iou(self) -> float | None:
        if not (self.fp32.boxes and self.int8.boxes):
            return None
        return iou(self.fp32.boxes[0], self.int8.boxes[0])


def iou(a: Box, b: Box) -> float:
    ix = max(0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0, min(a.y1, b.y1) - max(a.y0, b.y0))
    inter = ix * iy
    union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter
    return inter / union if union else 0.0


def margin(pair: Pair, threshold: float) -> float:
    """How far INT8's score is from the threshold on fp32's side (negative: on the other side)."""
    side = 1.0 if pair.fp32.score >= threshold else -1.0
    return side * (pair.int8.score - threshold)


def grey(pair: Pair, threshold: float) -> bool:
    """fp32 itself within DECISION_MARGIN of the threshold: the photo has no margin to keep (since issue
    24, leo_008 0.088, a civet 0.090 and a serval 0.061 at 0.08), so its decision may flip and no margin
    is asked of INT8; the test asks every verified leopard of both instead."""
    return abs(pair.fp32.score - threshold) < DECISION_MARGIN


def problems(pairs: Iterable[Pair], threshold: float) -> list[str]:
    """Every way INT8 breaks the stated bounds; empty when it keeps them all."""
    out = []
    for p in pairs:
        if p.int8.leopard != p.fp32.leopard or p.int8.alert_worthy != p.fp32.alert_worthy:
            if not grey(p, threshold):  # a grey photo's flip is reported by figures() instead
                out.append(f"{p.name}: decision differs (fp32 {p.fp32.score:.4f}, int8 {p.int8.score:.4f})")
        elif not grey(p, threshold) and margin(p, threshold) < DECISION_MARGIN:
            out.append(f"{p.name}: int8 {p.int8.score:.4f} within {DECISION_MARGIN} of {threshold}")
        if p.diff > SCORE_TOLERANCE:
            out.append(f"{p.name}: score differs by {p.diff:.4f} (> {SCORE_TOLERANCE})")
        if p.iou is not None and p.iou < MIN_IOU:
            out.append(f"{p.name}: boxes overlap {p.iou:.2f} (< {MIN_IOU})")
    return out


def figures(pairs: list[Pair], threshold: float) -> dict[str, float | int | str]:
    diffs = [p.diff for p in pairs]
    ious = [v for p in pairs if (v := p.iou) is not None]
    closest = min(pairs, key=lambda p: margin(p, threshold))
    return {
        "photos": len(pairs),
        "decisions_differ": sum(p.int8.leopard != p.fp32.leopard for p in pairs),
        "grey_zone_flips": ", ".join(
            f"{Path(p.name).name} (fp32 {p.fp32.score:.4f}, int8 {p.int8.score:.4f})"
            for p in pairs
            if p.int8.leopard != p.fp32.leopard and grey(p, threshold)
        )
        or "none",
        "score_diff_max": round(max(diffs), 4),
        "score_diff_mean": round(statistics.fmean(diffs), 4),
        "closest_to_threshold": (
            f"{closest.name} (fp32 {closest.fp32.score:.4f}, int8 {closest.int8.score:.4f})"
        ),
        "min_margin": round(margin(closest, threshold), 4),
        "boxes_compared": len(ious),
        "iou_min": round(min(ious), 3) if ious else float("nan"),
        "iou_median": round(statistics.median(ious), 3) if ious else float("nan"),
    }


def render(title: str, pairs: list[Pair], threshold: float) -> list[str]:
    """Markdown lines: the figures, then every problem (or that there is none)."""
    f = figures(pairs, threshold)
    lines = [
        f"### INT8 vs fp32: {title}",
        "",
        f"- {f['photos']} photos; decisions that differ at {threshold:.2f}: **{f['decisions_differ']}** "
        f"(within {DECISION_MARGIN} of it in fp32, allowed: {f['grey_zone_flips']}).",
        f"- Score difference: max {f['score_diff_max']:.4f}, mean {f['score_diff_mean']:.4f} "
        f"(bound {SCORE_TOLERANCE}).",
        f"- Closest INT8 score to the threshold, on fp32's side: {f['closest_to_threshold']}, "
        f"margin {f['min_margin']:.4f} (bound {DECISION_MARGIN}).",
        f"- Boxes (both leopard): {f['boxes_compared']}, IoU min {f['iou_min']}, median {f['iou_median']} "
        f"(bound {MIN_IOU}).",
    ]
    found = problems(pairs, threshold)
    lines.append("- Outside the bounds: " + ("; ".join(found) if found else "none") + ".")
    return lines


def pairs_for(
    fp32: OnnxLeopardDetector,
    int8: OnnxLeopardDetector,
    blobs: Iterable[tuple[str, bytes]],
) -> list[Pair]:
    out = []
    for name, data in blobs:
        try:
            out.append(Pair(name, fp32.detect(data), int8.detect(data)))
        except UnreadableImage as exc:
            print(f"parity: {name}: {exc}", file=sys.stderr)
    return out


def report(
    root: Path,
    files: list[str],
    threads: int = 2,
    perturbations: Mapping[str, Callable[[Image.Image], bytes]] | None = None,
) -> str:
    """Markdown: INT8 vs fp32 on the shipped samples, on `files` under `root` split into the photos
    tools/quantize.py calibrates on and the others, and on perturbed copies of all of them."""
    from tools.quantize import calibration_photos

    fp32 = OnnxLeopardDetector(threads=threads, precision="fp32")
    int8 = OnnxLeopardDetector(threads=threads, precision="int8")
    calibrated = {p.name for p in calibration_photos(root)}
    blobs = [(f, (root / f).read_bytes()) for f in files]
    held = [(f, d) for f, d in blobs if Path(f).name not in calibrated]
    seen = [(f, d) for f, d in blobs if Path(f).name in calibrated]
    samples = [(p.name, p.read_bytes()) for p in sorted(SAMPLES.glob("*.jpg"))]
    t = DEFAULT_THRESHOLD
    lines = render("shipped samples (bot/samples)", pairs_for(fp32, int8, samples), t)
    lines += ["", *render(f"{root}, not used for calibration", pairs_for(fp32, int8, held), t)]
    if seen:
        lines += ["", *render(f"{root}, calibration photos", pairs_for(fp32, int8, seen), t)]
    if perturbations:
        copies = []
        for f, data in blobs:
            image, _ = open_image(data)
            copies += [(f"{f} ({name})", change(image)) for name, change in perturbations.items()]
        lines += ["", *render(f"perturbed copies of {root}", pairs_for(fp32, int8, copies), t)]
    return "\n".join(lines)
