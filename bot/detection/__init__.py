"""The leopard detector: what a detection is (types, no model runtime), the model, its input preparation and
precision."""

from bot.detection.precision import PRECISIONS
from bot.detection.types import DEFAULT_THRESHOLD, KINDS, Box, Detection, Detector, Kind, ModelError

__all__ = ["DEFAULT_THRESHOLD", "KINDS", "PRECISIONS", "Box", "Detection", "Detector", "Kind", "ModelError"]
