"""Box quality: the detector's leopard box against hand boxes (tests/data/leopard_boxes.csv), as IoU.

Issue 24 asks that the alert's box hold the whole visible animal: IoU >= 0.5 on 90 % of hand-boxed
leopards. A leopard the detector missed (no box) counts as IoU 0.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tools.calibration_scoring import Scored

HAND_BOXES = Path(__file__).resolve().parents[1] / "tests" / "data" / "leopard_boxes.csv"
GOOD_IOU = 0.5

Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class HandBox:
    file: str
    box: Rect
    verified: bool
    note: str


def load_hand_boxes(path: Path = HAND_BOXES) -> dict[str, HandBox]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {
            r["file"]: HandBox(
                r["file"],
                (float(r["x0"]), float(r["y0"]), float(r["x1"]), float(r["y1"])),
                r["verified"].strip().lower() == "yes",
                r["note"],
            )
            for r in rows
        }


def iou(a: Rect, b: Rect) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_ious(scored: list[Scored], hand: dict[str, HandBox]) -> list[tuple[str, float]]:
    """(file, IoU) for every verified hand-boxed leopard that was scored."""
    out = []
    for s in scored:
        h = hand.get(s.item.file)
        if h is None or not h.verified:
            continue
        out.append((s.item.file, iou(s.box, h.box) if s.box else 0.0))
    return out


def render_boxes(scored: list[Scored], hand: dict[str, HandBox]) -> str:
    ious = box_ious(scored, hand)
    if not ious:
        return "No hand-boxed leopards in this folder."
    good = sum(v >= GOOD_IOU for _, v in ious)
    mean = sum(v for _, v in ious) / len(ious)
    lines = [
        f"Box quality against {len(ious)} hand boxes ({HAND_BOXES.name}): mean IoU {mean:.2f}, "
        f"IoU >= {GOOD_IOU} on {good}/{len(ious)} = {good / len(ious):.0%}",
        "",
        "| image | IoU |",
        "| --- | ---: |",
    ]
    lines += [f"| {Path(f).name} | {v:.2f} |" for f, v in ious]
    return "\n".join(lines)
