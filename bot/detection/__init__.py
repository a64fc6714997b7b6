"""The leopard detector: what a detection is (types, no model runtime), the model, its input preparation and
precision."""

from bot.detection.precision import PRECISIONS
from bot.detection.types import DEFAULT_THRESHOLD, Detection, Detector, ModelError

__all__ = ["DEFAULT_THRESHOLD", "PRECISIONS", "Detection", "Detector", "ModelError"]
