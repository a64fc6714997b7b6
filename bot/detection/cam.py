"""The classifier's own box, for frames where the animal detector found nothing: a class activation map.

EfficientNet ends in global average pooling + one linear layer, so the map of a window (Zhou et al.
2016) is exact from its last feature map and the final-layer rows for the leopard classes, kept beside
the model (tools/export_model.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from bot.detection.types import JAGUAR, LEOPARD, SNOW_LEOPARD, ModelError

CAM_ROWS = {LEOPARD: 0, SNOW_LEOPARD: 1, JAGUAR: 2}
CAM_LEVEL = 0.3
# Windows overlap by a third, so an animal that spans two of them scores about the same in both, and
# each window's map stops at its own edge. Taking only the best window made the box jump between
# halves of the animal on a near tie (the fp32 big-JPEG shift of issue 24: 0.639 vs 0.624); every
# window within this share of the best score adds its box instead.
NEAR_TIE = 0.9

Window = tuple[float, float, float, float]


def load_cam_weights(model_path: Path) -> np.ndarray:
    path = model_path.with_suffix(".cam.npy")
    try:
        weights = np.load(path)
    except (OSError, ValueError) as exc:
        raise ModelError(f"CAM weights missing or corrupt: {path}") from exc
    if weights.ndim != 2 or weights.shape[0] != len(CAM_ROWS):
        raise ModelError(f"CAM weights have shape {weights.shape}, expected ({len(CAM_ROWS)}, C)")
    return weights.astype(np.float32)


def near_tie(scores: np.ndarray, best: int) -> list[int]:
    """The crops whose score is within NEAR_TIE of the best one, the best first."""
    floor = NEAR_TIE * float(scores[best])
    return [best] + [i for i in range(len(scores)) if i != best and scores[i] >= floor]


def union(boxes: Sequence[Window]) -> Window:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def cam_box(
    cam_weights: np.ndarray,
    feats: np.ndarray,
    classes: Sequence[int],
    window: Window,
    mirrored: bool,
) -> Window:
    """The box, in the pixels of the windows' image, of the blob around the map's peak in one window."""
    weights = cam_weights[[CAM_ROWS[c] for c in classes]].sum(axis=0)
    cam = np.tensordot(weights, feats, axes=(0, 0))  # (h, w) over the feature grid
    if mirrored:
        cam = cam[:, ::-1]
    cam = cam - cam.min()
    if cam.max() <= 0:
        return window
    # Upsample the coarse grid (about 9x9) so the box edge is not a whole cell off, then keep the
    # blob around the peak above CAM_LEVEL of it (Zhou et al. 2016 use 20%; 30% keeps the box on
    # the animal rather than on the shadow it stands in).
    gh, gw = cam.shape
    coarse = Image.fromarray(cam.astype(np.float32))  # float32 2-D: mode "F"
    fine = np.asarray(coarse.resize((gw * 4, gh * 4), Image.Resampling.BILINEAR))
    ys, xs = peak_blob(fine >= CAM_LEVEL * fine.max(), argmax_2d(fine))
    x0, y0, x1, y1 = window
    cw, ch = (x1 - x0) / fine.shape[1], (y1 - y0) / fine.shape[0]
    return (x0 + xs.min() * cw, y0 + ys.min() * ch, x0 + (xs.max() + 1) * cw, y0 + (ys.max() + 1) * ch)


def argmax_2d(a: np.ndarray) -> tuple[int, int]:
    y, x = np.unravel_index(int(a.argmax()), a.shape)
    return int(y), int(x)


def peak_blob(mask: np.ndarray, peak: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of the 4-connected region of `mask` containing `peak`.

    Grown by whole-array dilation steps rather than a pixel-by-pixel flood fill: a few dozen numpy
    steps on the ~36x36 grid instead of thousands of Python-level pushes (a millisecond per leopard).
    """
    seen = np.zeros_like(mask, dtype=bool)
    seen[peak] = bool(mask[peak])
    while True:
        grown = seen.copy()
        grown[1:] |= seen[:-1]
        grown[:-1] |= seen[1:]
        grown[:, 1:] |= seen[:, :-1]
        grown[:, :-1] |= seen[:, 1:]
        grown &= mask
        if np.array_equal(grown, seen):
            break
        seen = grown
    ys, xs = np.nonzero(seen)
    return ys, xs
