"""INT8 keeps fp32's decisions: on the shipped samples always, and on ../shared/eval when it is there.

The bounds (score tolerance, decision margin, box IoU) are stated once, in tools/parity.py, and
docs/MODEL.md reports the measured figures. No timing here: speed is bench/detector.py's job.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.detection import DEFAULT_THRESHOLD
from bot.detection.model import OnnxLeopardDetector
from tests.support.paths import EVAL, SAMPLES
from tools.calibrate import load_items
from tools.parity import DECISION_MARGIN, MIN_IOU, SCORE_TOLERANCE, Pair, figures, pairs_for, problems
from tools.quantize import calibration_photos

Both = tuple[OnnxLeopardDetector, OnnxLeopardDetector]


@pytest.fixture(scope="module")
def both() -> Both:
    return OnnxLeopardDetector(precision="fp32"), OnnxLeopardDetector(precision="int8")


def _pairs(both: Both, blobs: list[tuple[str, bytes]]) -> list[Pair]:
    pairs = pairs_for(*both, blobs)
    assert len(pairs) == len(blobs)
    return pairs


def test_bounds_are_meaningful() -> None:
    # A margin at least the tolerance would make the decision test vacuous; an IoU of 0 likewise.
    assert 0 < DECISION_MARGIN < SCORE_TOLERANCE < DEFAULT_THRESHOLD and 0.3 <= MIN_IOU < 1


def test_shipped_samples(both: Both) -> None:
    pairs = _pairs(both, [(p.name, p.read_bytes()) for p in sorted(SAMPLES.glob("*.jpg"))])
    assert problems(pairs, DEFAULT_THRESHOLD) == []
    assert sum(p.int8.leopard for p in pairs) == 2  # the two leopard samples, boxes compared
    assert figures(pairs, DEFAULT_THRESHOLD)["boxes_compared"] == 2


@pytest.mark.skipif(not (EVAL / "SOURCES.tsv").is_file(), reason=f"no eval set at {EVAL}")
def test_eval_photos(both: Both) -> None:
    items = load_items(EVAL)
    pairs = _pairs(both, [(i.file, (EVAL / i.file).read_bytes()) for i in items])
    # Near the threshold (within the score tolerance of it) INT8 may leave the 0.02 decision margin and, where
    # a second box passes there, draw a larger union box (docs/MODEL.md, INT8 section): the decision must
    # still agree there; every bound holds everywhere else. The zone is a rule on the fp32 score, not a
    # list of photos, so a new photo near the threshold is judged the same way.
    near = {p.name for p in pairs if abs(p.fp32.score - DEFAULT_THRESHOLD) < SCORE_TOLERANCE}
    assert len(near) <= len(pairs) // 10, f"too many photos near the threshold for an edge: {sorted(near)}"
    assert problems([p for p in pairs if p.name not in near], DEFAULT_THRESHOLD) == []
    assert all(p.int8.leopard == p.fp32.leopard for p in pairs if p.name in near)
    # The grey zone may flip a decision, never a verified leopard: both precisions find every one.
    verified = {i.file for i in items if i.leopard and i.verified}
    assert all(p.fp32.leopard and p.int8.leopard for p in pairs if p.name in verified)
    # The leopards and even-numbered negatives were not calibration photos (tools/quantize.py): the
    # bounds hold on them alone too, and every verified leopard is among them.
    calibrated = {p.name for p in calibration_photos(EVAL)}
    held_out = [p for p in pairs if Path(p.name).name not in calibrated]
    assert len(held_out) >= 45 and all(Path(i.file).name not in calibrated for i in items if i.leopard)
    held = figures(held_out, DEFAULT_THRESHOLD)
    assert held["decisions_differ"] == 0 or held["grey_zone_flips"] != "none"
