"""What a detection is, without the model runtime: results, the Detector seam, the threshold.

Kept apart from model.py so that settings, intake and reports can name these without loading
onnxruntime, numpy and the weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

LEOPARD, SNOW_LEOPARD, JAGUAR = 288, 289, 290
# Jaguars do not occur in Central Asia; on rosetted cats ImageNet models split the mass between
# leopard and jaguar, so both count towards the leopard score.
LEOPARD_CLASSES = (LEOPARD, JAGUAR)
# Recall first (a missed leopard is the worst outcome): see docs/MODEL.md, 'Threshold'.
DEFAULT_THRESHOLD = 0.08


# What people are told a photo holds. "no_leopard" only where the animal detector did not run (so
# neither "another animal" nor "no animal found" can honestly be said).
Kind = Literal["leopard", "snow_leopard", "animal", "empty", "no_leopard"]
KINDS: tuple[Kind, ...] = ("leopard", "snow_leopard", "animal", "empty", "no_leopard")


class ModelError(RuntimeError):
    """The model file is missing, corrupt, or not the network this code expects."""


@dataclass(frozen=True)
class Box:
    x0: int
    y0: int
    x1: int
    y1: int
    score: float

    def as_list(self) -> list[float]:
        return [self.x0, self.y0, self.x1, self.y1, round(self.score, 4)]


@dataclass(frozen=True)
class Detection:
    leopard: bool
    score: float  # leopard probability in [0, 1] (best window)
    label: str  # "leopard", "snow leopard", or the best other ImageNet label
    label_score: float
    boxes: tuple[Box, ...] = ()
    snow_leopard_score: float = 0.0
    width: int = 0
    height: int = 0
    ms: float = 0.0
    model: str = "efficientnet-lite2-imagenet"
    extra: dict[str, float] = field(default_factory=dict)
    # Every animal the camera-trap detector found, in original pixels, its confidence as the score.
    # `animal_detector` says whether that detector ran at all: without it, "no animal" cannot be said.
    animals: tuple[Box, ...] = ()
    animal_detector: bool = False

    @property
    def alert_worthy(self) -> bool:
        return self.leopard or self.label == "snow leopard"

    @property
    def kind(self) -> Kind:
        """The one word people see (issue 24): never an ImageNet class name."""
        if self.leopard:
            return "leopard"
        if self.label == "snow leopard":
            return "snow_leopard"
        if self.animals:
            return "animal"
        return "empty" if self.animal_detector else "no_leopard"


class Detector(Protocol):
    """What the bot needs from any detector. Synchronous and CPU-bound: call it from an executor."""

    threshold: float

    def detect(self, data: bytes) -> Detection: ...
