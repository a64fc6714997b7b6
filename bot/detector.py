"""Leopard detection on the CPU: EfficientNet-Lite2 (ImageNet) via onnxruntime, multi-crop, CAM box.

Why this design (see docs/MODEL.md for figures): camera-trap frames are wide and the animal is often
small or at the edge, so one squashed 260 px view loses it. We classify the whole frame plus square
windows sliding along the long axis, each also mirrored, in one batch, and take the best window's
leopard probability. The box comes from the class activation map of the best window (the network
ends in global average pooling + one linear layer, so the map is exact, no second model needed).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

from bot.images import UnreadableImage, open_image

MODEL_DIR = Path(__file__).parent / "models"
DEFAULT_MODEL = MODEL_DIR / "efficientnet_lite2.onnx"
LABELS_FILE = MODEL_DIR / "imagenet_labels.txt"
MODEL_SHA256 = "6a94da8ce0097b65a58d65845da3a08060cd1337c84e994299dab4d771a8a56e"

LEOPARD, SNOW_LEOPARD, JAGUAR = 288, 289, 290
# Jaguars do not occur in Central Asia; on rosetted cats ImageNet models split the mass between
# leopard and jaguar, so both count towards the leopard score.
LEOPARD_CLASSES = (LEOPARD, JAGUAR)
# Rows of the final linear layer kept beside the model (tools/export_model.py) for the CAM box.
CAM_ROWS = {LEOPARD: 0, SNOW_LEOPARD: 1, JAGUAR: 2}
# Recall first (a missed leopard is the worst outcome): see docs/MODEL.md, 'Threshold'.
DEFAULT_THRESHOLD = 0.10
CAM_LEVEL = 0.3
RUN_BATCH = 2
INPUT_SIZE = 260


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

    @property
    def alert_worthy(self) -> bool:
        return self.leopard or self.label == "snow leopard"


class Detector(Protocol):
    """What the bot needs from any detector. Synchronous and CPU-bound: call it from an executor."""

    threshold: float

    def detect(self, data: bytes) -> Detection: ...


def load_labels() -> list[str]:
    return LABELS_FILE.read_text(encoding="utf-8").splitlines()


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def windows(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The whole frame plus square windows sliding along the long side with ~1/3 overlap."""
    side = min(width, height)
    out = [(0, 0, width, height)]
    if max(width, height) < side * 1.2:  # (nearly) square: the whole frame is the only window
        return out
    n = math.ceil(max(width, height) / side * 1.5)
    for i in range(n):
        off = round(i * (max(width, height) - side) / (n - 1))
        out.append((off, 0, off + side, side) if width >= height else (0, off, side, off + side))
    return out


class OnnxLeopardDetector:
    def __init__(
        self,
        model_path: Path = DEFAULT_MODEL,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        threads: int = 2,
        verify_checksum: bool = True,
    ) -> None:
        self.threshold = threshold
        self.labels = load_labels()
        self.session = self._open(Path(model_path), threads, verify_checksum)
        self.cam_weights = _load_cam_weights(Path(model_path))

    @staticmethod
    def _open(path: Path, threads: int, verify_checksum: bool) -> ort.InferenceSession:
        if not path.is_file():
            raise ModelError(f"model file not found: {path} (reinstall leopard-watch)")
        if verify_checksum and path == DEFAULT_MODEL:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != MODEL_SHA256:
                raise ModelError(f"model file is corrupt (sha256 {digest[:12]}…): {path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        # No busy-waiting between batches: on a 2-core server the bot's other threads (downloads,
        # EXIF, alert images, SQLite) need those cycles more than the next inference needs a head start.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises several private exception types
            raise ModelError(f"cannot load model {path}: {exc}") from exc
        outputs = [o.name for o in session.get_outputs()]
        if outputs[:2] != ["logits", "features"]:
            raise ModelError(f"unexpected model outputs {outputs} in {path}")
        return session

    def detect(self, data: bytes) -> Detection:
        started = time.perf_counter()
        image, (width, height) = open_image(data, max_side=INPUT_SIZE * 4)
        det = self.detect_image(image, (width, height))
        return _with_ms(det, (time.perf_counter() - started) * 1000)

    def detect_image(self, image: Image.Image, original_size: tuple[int, int] | None = None) -> Detection:
        image = _to_rgb(image)
        orig_w, orig_h = original_size or image.size
        wins = windows(*image.size)
        crops = [image.crop(w) if w != (0, 0, *image.size) else image for w in wins]
        batch = np.stack([_tensor(c) for c in crops] + [_tensor(c, mirror=True) for c in crops])
        # Two images per run: as fast as one big batch on 2 cores, and the activation memory of a
        # 10-window batch (~150 MB more peak RSS, bench/detector.py) never has to exist at once.
        runs = [
            self.session.run(None, {"image": batch[i : i + RUN_BATCH]})
            for i in range(0, len(batch), RUN_BATCH)
        ]
        logits = np.concatenate([r[0] for r in runs])
        features = np.concatenate([r[1] for r in runs])
        probs = _softmax(logits.astype(np.float64))
        leo = probs[:, LEOPARD_CLASSES].sum(axis=1)
        best = int(leo.argmax())
        score = float(leo[best])
        snow = float(probs[:, SNOW_LEOPARD].max())
        mean = probs.mean(axis=0)
        is_leopard = score >= self.threshold
        # A leopard score above the threshold is a leopard even when the snow-leopard class is
        # higher: pale, long-furred Persian leopards in winter can lean that way, and snow leopards
        # do not live in Mangystau. The snow-leopard probability is always reported beside it, and a
        # photo that only reaches the threshold as snow leopard is labelled so (and still alerted).
        if is_leopard:
            label, label_score = "leopard", score
        elif snow >= self.threshold:
            label, label_score = "snow leopard", snow
        else:
            other = mean.copy()
            other[list(LEOPARD_CLASSES)] = 0.0
            top = int(other.argmax())
            label, label_score = self.labels[top], float(other[top])
        boxes: tuple[Box, ...] = ()
        if is_leopard or label == "snow leopard":
            cls = LEOPARD_CLASSES if is_leopard else (SNOW_LEOPARD,)
            pick = best if is_leopard else int(probs[:, SNOW_LEOPARD].argmax())
            box = self._cam_box(features[pick], cls, wins[pick % len(wins)], pick >= len(wins))
            sx, sy = orig_w / image.size[0], orig_h / image.size[1]
            boxes = (
                Box(
                    round(box[0] * sx),
                    round(box[1] * sy),
                    round(box[2] * sx),
                    round(box[3] * sy),
                    label_score,
                ),
            )
        return Detection(
            leopard=is_leopard,
            score=round(score, 4),
            label=label,
            label_score=round(label_score, 4),
            boxes=boxes,
            snow_leopard_score=round(snow, 4),
            width=orig_w,
            height=orig_h,
        )

    def _cam_box(
        self,
        feats: np.ndarray,
        classes: Sequence[int],
        window: tuple[int, int, int, int],
        mirrored: bool,
    ) -> tuple[float, float, float, float]:
        weights = self.cam_weights[[CAM_ROWS[c] for c in classes]].sum(axis=0)
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
        ys, xs = _peak_blob(fine >= CAM_LEVEL * fine.max(), _argmax_2d(fine))
        x0, y0, x1, y1 = window
        cw, ch = (x1 - x0) / fine.shape[1], (y1 - y0) / fine.shape[0]
        return (x0 + xs.min() * cw, y0 + ys.min() * ch, x0 + (xs.max() + 1) * cw, y0 + (ys.max() + 1) * ch)


def _argmax_2d(a: np.ndarray) -> tuple[int, int]:
    y, x = np.unravel_index(int(a.argmax()), a.shape)
    return int(y), int(x)


def _peak_blob(mask: np.ndarray, peak: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of the 4-connected region of `mask` containing `peak` (a small grid: plain flood fill)."""
    seen = np.zeros_like(mask)
    stack = [peak]
    h, w = mask.shape
    while stack:
        y, x = stack.pop()
        if 0 <= y < h and 0 <= x < w and mask[y, x] and not seen[y, x]:
            seen[y, x] = True
            stack.extend(((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)))
    ys, xs = np.nonzero(seen)
    return ys, xs


def _load_cam_weights(model_path: Path) -> np.ndarray:
    path = model_path.with_suffix(".cam.npy")
    try:
        weights = np.load(path)
    except (OSError, ValueError) as exc:
        raise ModelError(f"CAM weights missing or corrupt: {path}") from exc
    if weights.ndim != 2 or weights.shape[0] != len(CAM_ROWS):
        raise ModelError(f"CAM weights have shape {weights.shape}, expected ({len(CAM_ROWS)}, C)")
    return weights.astype(np.float32)


def _with_ms(det: Detection, ms: float) -> Detection:
    from dataclasses import replace

    return replace(det, ms=round(ms, 1))


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels become mid-grey, which the (x-127)/128 normalisation maps to zero.
        rgba = image.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (127, 127, 127, 255))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image, dtype=np.float64)
        hi = arr.max() or 1.0
        return Image.fromarray((arr / hi * 255).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def _tensor(image: Image.Image, mirror: bool = False) -> np.ndarray:
    im = image.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR)
    if mirror:
        im = ImageOps.mirror(im)
    arr = (np.asarray(im, dtype=np.float32) - 127.0) / 128.0
    return arr.transpose(2, 0, 1)


__all__ = [
    "DEFAULT_THRESHOLD",
    "Box",
    "Detection",
    "Detector",
    "ModelError",
    "OnnxLeopardDetector",
    "UnreadableImage",
]
