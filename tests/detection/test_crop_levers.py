"""The speed levers of the animal-first pipeline (issue 24, point 7): mirrors only near the threshold,
a few crops per photo, no crop for a tiny box, a smaller detector input; each keeps the decision."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bot.detection.animals import RUN_SIZE, SIZE, AnimalDetector, letterbox
from bot.detection.model import MAX_CROPS, OnnxLeopardDetector, _per_crop
from bot.detection.prep import batch, mirror, windows
from bot.detection.types import LEOPARD
from tests.support.paths import SAMPLES

LEO_005 = SAMPLES / "leo_005_serengeti_night.jpg"


def _stub(threshold: float, margin: float | None, leopard: list[float]) -> OnnxLeopardDetector:
    """A detector whose network gives each crop the leopard probability asked for (its mirror 0.01
    more), to test which mirrors run without a model."""
    det = object.__new__(OnnxLeopardDetector)
    det.threshold, det.mirror_margin = threshold, margin
    calls: list[int] = []

    def classify(crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        calls.append(len(crops))
        mirrored = len(calls) > 1
        probs = np.zeros((len(crops), 1000))
        rows = [leopard[int(c[0, 0, 0])] for c in crops]  # crop i carries i in its first pixel
        probs[:, LEOPARD] = np.array(rows) + (0.01 if mirrored else 0.0)
        return probs, np.zeros((len(crops), 4, 2, 2)), 0.0

    det._classify = classify  # type: ignore[method-assign]
    det.calls = calls  # type: ignore[attr-defined]
    return det


def _crops(n: int) -> np.ndarray:
    crops = np.zeros((n, 3, 4, 4), dtype=np.float32)
    for i in range(n):
        crops[i, 0, 0, :] = i  # mirror() keeps a constant first row
    return crops


def test_mirror_runs_only_for_crops_near_the_threshold() -> None:
    det = _stub(0.08, 0.03, [0.90, 0.07, 0.001, 0.10])
    probs, _, _, views = det._classify_crops(_crops(4))
    # 0.07 and 0.10 are within 0.03 of 0.08; a sure leopard and a sure "no" get no second pass.
    assert det.calls == [4, 2] and views == [0, 1, 2, 3, 1, 3]  # type: ignore[attr-defined]
    per_crop = _per_crop(probs[:, LEOPARD], 4, views)
    assert per_crop == pytest.approx([0.90, 0.08, 0.001, 0.11])


def test_always_mirror_when_no_margin() -> None:
    det = _stub(0.08, None, [0.9, 0.001])
    _, _, _, views = det._classify_crops(_crops(2))
    assert det.calls == [2, 2] and views == [0, 1, 0, 1]  # type: ignore[attr-defined]


def test_mirror_is_bit_identical_to_the_batch_mirror() -> None:
    image = Image.open(LEO_005).convert("RGB")
    wins = windows(*image.size)
    both, plain = batch(image, wins), batch(image, wins, mirrors=False)
    assert np.array_equal(plain, both[: len(wins)])
    assert np.array_equal(mirror(plain), both[len(wins) :]) and mirror(plain).flags.c_contiguous


def test_run_size_is_a_multiple_of_32_and_sets_the_letterbox() -> None:
    assert RUN_SIZE % 32 == 0 and RUN_SIZE <= SIZE
    tensor, r = letterbox(Image.new("RGB", (1920, 1080)), RUN_SIZE)
    assert max(tensor.shape[2:]) == RUN_SIZE and r == pytest.approx(RUN_SIZE / 1920)


def test_shipped_levers_keep_the_decision_and_box_of_the_full_pipeline(
    detector: OnnxLeopardDetector,
) -> None:
    full = OnnxLeopardDetector(
        threads=2, precision=detector.precision, animal_size=SIZE, max_crops=4, mirror_margin=None
    )
    data = LEO_005.read_bytes()
    fast, slow = detector.detect(data), full.detect(data)
    assert fast.leopard and slow.leopard and fast.extra["on_animals"] == 1
    assert fast.extra["crops"] <= MAX_CROPS < slow.extra["crops"]  # no mirror for a sure leopard
    a, b = fast.boxes[0], slow.boxes[0]
    inter = max(0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0, min(a.y1, b.y1) - max(a.y0, b.y0))
    union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter
    assert inter / union >= 0.8


def test_tiny_boxes_get_no_crop_but_stay_listed(detector: OnnxLeopardDetector) -> None:
    image = Image.open(SAMPLES / "neg_060_serengeti_jackal_1.jpg").convert("RGB")
    found = AnimalDetector(threads=1, size=RUN_SIZE).find(image)
    assert found
    side = max(max(f.x1 - f.x0, f.y1 - f.y0) for f in found) + 1  # every box is "tiny"
    picky = OnnxLeopardDetector(threads=2, precision=detector.precision, min_crop_side=int(side))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    det = picky.detect(buf.getvalue())
    assert det.extra["on_animals"] == 0  # no crop: today's windows decide
    assert len(det.animals) == sum(f.score >= 0.1 for f in found)
