"""How the detector names what it saw: leopard, snow leopard (reported, never merged), or another label."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bot.detection.model import OnnxLeopardDetector
from bot.detection.types import JAGUAR, LEOPARD, SNOW_LEOPARD, Detection


class FakeSession:
    """Stands in for onnxruntime with chosen class probabilities (the labelling logic is under test)."""

    def __init__(self, probs: dict[int, float]) -> None:
        rest = (1.0 - sum(probs.values())) / (1000 - len(probs))
        p = np.full(1000, rest)
        for cls, value in probs.items():
            p[cls] = value
        self.logits = np.log(p)

    def run(self, _names: object, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        n = len(feed["image"])
        features = np.zeros((n, 1280, 9, 9), dtype=np.float32)
        features[:, :, 4, 4] = 1.0  # a peak in the middle of every window
        return [np.tile(self.logits, (n, 1)), features]


def detect_with(detector: OnnxLeopardDetector, probs: dict[int, float]) -> Detection:
    fake = object.__new__(OnnxLeopardDetector)
    fake.__dict__.update(detector.__dict__)
    fake.session = FakeSession(probs)  # type: ignore[assignment]
    return fake.detect_image(Image.new("RGB", (640, 480), (120, 110, 90)))


def test_snow_leopard_is_its_own_label(detector: OnnxLeopardDetector) -> None:
    det = detect_with(detector, {SNOW_LEOPARD: 0.6, LEOPARD: 0.02})
    assert det.label == "snow leopard" and not det.leopard and det.alert_worthy
    assert det.snow_leopard_score == pytest.approx(0.6, abs=1e-3) and len(det.boxes) == 1


def test_leopard_above_threshold_stays_leopard_even_if_snow_is_higher(detector: OnnxLeopardDetector) -> None:
    det = detect_with(detector, {SNOW_LEOPARD: 0.5, LEOPARD: 0.2, JAGUAR: 0.1})
    assert det.leopard and det.label == "leopard"
    assert det.score == pytest.approx(0.3, abs=1e-3)  # leopard + jaguar
    assert det.snow_leopard_score == pytest.approx(0.5, abs=1e-3)  # reported beside it


def test_other_animal_gets_its_own_label(detector: OnnxLeopardDetector) -> None:
    det = detect_with(detector, {277: 0.8, LEOPARD: 0.01})  # red fox
    assert not det.leopard and det.label == "red fox" and det.boxes == ()
