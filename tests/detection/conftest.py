"""The detector tests run under the precision CI asks for (LW_DETECTOR_PRECISION: fp32 and int8 are both
run in CI, so that a CPU with or without VNNI runs the same tests)."""

from __future__ import annotations

import os

import pytest

from bot.detection.model import OnnxLeopardDetector


@pytest.fixture(scope="session")
def detector() -> OnnxLeopardDetector:
    return OnnxLeopardDetector(threads=2, precision=os.environ.get("LW_DETECTOR_PRECISION", "auto"))
