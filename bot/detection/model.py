"""Leopard detection on the CPU: EfficientNet-Lite2 (ImageNet) via onnxruntime, multi-crop, CAM box.

Why this design (see docs/MODEL.md for figures): camera-trap frames are wide and the animal is often
small or at the edge, so one squashed 260 px view loses it. We classify the whole frame plus square
windows sliding along the long axis, each also mirrored, in one batch, and take the best window's
leopard probability. The box comes from the class activation map of the best window (the network
ends in global average pooling + one linear layer, so the map is exact, no second model needed).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from bot.detection.precision import choose
from bot.detection.prep import INPUT_SIZE, batch, decode, to_rgb, windows
from bot.detection.types import (
    DEFAULT_THRESHOLD,
    JAGUAR,
    LEOPARD,
    LEOPARD_CLASSES,
    SNOW_LEOPARD,
    Box,
    Detection,
    Detector,
    ModelError,
)
from bot.media import UnreadableImage

MODEL_DIR = Path(__file__).parent / "models"
DEFAULT_MODEL = MODEL_DIR / "efficientnet_lite2.onnx"
LABELS_FILE = MODEL_DIR / "imagenet_labels.txt"
MODEL_SHA256 = "6a94da8ce0097b65a58d65845da3a08060cd1337c84e994299dab4d771a8a56e"
# Made from DEFAULT_MODEL by tools/quantize.py (docs/MODEL.md, "INT8"); fp32 stays the reference.
INT8_MODEL = MODEL_DIR / "efficientnet_lite2_int8.onnx"
INT8_SHA256 = "c000cafb73869bd5f51c8ca3097f9141784e34c771b9614683f537f0f3e40991"
MODEL_NAMES = {"fp32": "efficientnet-lite2-imagenet", "int8": "efficientnet-lite2-imagenet-int8"}

# Rows of the final linear layer kept beside the model (tools/export_model.py) for the CAM box.
CAM_ROWS = {LEOPARD: 0, SNOW_LEOPARD: 1, JAGUAR: 2}
CAM_LEVEL = 0.3
# Crops per session.run, by precision (bench/detector.py "seconds_per_crop_ms_by_batch", 2 cores):
# fp32 is within 3 % from 2 to 8 crops, so 2, which keeps its float activation memory down; INT8 runs
# ~8 % faster per crop at 4 than at 2 (no better at 8), and its 8-bit activations are a quarter the size.
RUN_BATCH = {"fp32": 2, "int8": 4}


def load_labels() -> list[str]:
    return LABELS_FILE.read_text(encoding="utf-8").splitlines()


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def expected_sha256(path: Path) -> str | None:
    """The digest a bundled model must have (None for a model file of the caller's own)."""
    return {DEFAULT_MODEL: MODEL_SHA256, INT8_MODEL: INT8_SHA256}.get(path)


class OnnxLeopardDetector:
    def __init__(
        self,
        model_path: Path | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        threads: int = 2,
        verify_checksum: bool = True,
        precision: str = "auto",
    ) -> None:
        """precision ("auto", "int8", "fp32"; see bot/detection/precision.py) picks the bundled model when no
        model_path is given. An explicit model_path runs as given; precision then only names it
        ("auto": int8 for the bundled INT8 file, else fp32)."""
        self.threshold = threshold
        self.labels = load_labels()
        if model_path is None:
            chosen = choose(precision)
            self.precision, self.precision_reason = chosen.precision, chosen.reason
            model_path = INT8_MODEL if self.precision == "int8" else DEFAULT_MODEL
        else:
            named = precision
            if named == "auto":
                named = "int8" if Path(model_path) == INT8_MODEL else "fp32"
            self.precision, self.precision_reason = named, f"model file {model_path}"
        self.model_path = Path(model_path)
        self.model_name = MODEL_NAMES[self.precision]
        self.run_batch = RUN_BATCH[self.precision]
        self.session = self._open(self.model_path, threads, verify_checksum)
        # A quantized model has no CAM rows of its own: they are the fp32 final layer, which
        # tools/quantize.py leaves in fp32 anyway.
        own = self.model_path.with_suffix(".cam.npy")
        self.cam_weights = _load_cam_weights(self.model_path if own.exists() else DEFAULT_MODEL)

    @staticmethod
    def _open(path: Path, threads: int, verify_checksum: bool) -> ort.InferenceSession:
        if not path.is_file():
            raise ModelError(f"model file not found: {path} (reinstall leopard-watch)")
        expected = expected_sha256(path) if verify_checksum else None
        if expected is not None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != expected:
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
        image, size = decode(data)
        decoded = time.perf_counter()
        det = self.detect_image(image, size)
        done = time.perf_counter()
        extra = det.extra | {"decode_ms": round((decoded - started) * 1000, 2)}
        return replace(det, ms=round((done - started) * 1000, 1), extra=extra)

    def detect_image(self, image: Image.Image, original_size: tuple[int, int] | None = None) -> Detection:
        image = to_rgb(image)
        orig_w, orig_h = original_size or image.size
        wins = windows(*image.size)
        crops = batch(image, wins)
        # A few crops per run (RUN_BATCH): as fast per crop as one big batch on 2 cores, and the
        # activation memory of a 10-window batch (~150 MB more peak RSS in fp32) never exists at once.
        model_s = 0.0
        logits, features = [], []
        for i in range(0, len(crops), self.run_batch):
            t0 = time.perf_counter()
            out = self.session.run(None, {"image": crops[i : i + self.run_batch]})
            model_s += time.perf_counter() - t0
            logits.append(out[0])
            features.append(out[1])
        probs = _softmax(np.concatenate(logits).astype(np.float64))
        leo = probs[:, LEOPARD_CLASSES].sum(axis=1)
        best = int(leo.argmax())
        score = float(leo[best])
        snow = float(probs[:, SNOW_LEOPARD].max())
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
            other = probs.mean(axis=0)
            other[list(LEOPARD_CLASSES)] = 0.0
            top = int(other.argmax())
            label, label_score = self.labels[top], float(other[top])
        boxes: tuple[Box, ...] = ()
        if is_leopard or label == "snow leopard":
            cls = LEOPARD_CLASSES if is_leopard else (SNOW_LEOPARD,)
            pick = best if is_leopard else int(probs[:, SNOW_LEOPARD].argmax())
            feats = features[pick // self.run_batch][pick % self.run_batch]
            box = self._cam_box(feats, cls, wins[pick % len(wins)], pick >= len(wins))
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
            model=self.model_name,
            extra={"model_ms": round(model_s * 1000, 2), "crops": float(len(crops))},
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


def _load_cam_weights(model_path: Path) -> np.ndarray:
    path = model_path.with_suffix(".cam.npy")
    try:
        weights = np.load(path)
    except (OSError, ValueError) as exc:
        raise ModelError(f"CAM weights missing or corrupt: {path}") from exc
    if weights.ndim != 2 or weights.shape[0] != len(CAM_ROWS):
        raise ModelError(f"CAM weights have shape {weights.shape}, expected ({len(CAM_ROWS)}, C)")
    return weights.astype(np.float32)


__all__ = [
    "DEFAULT_THRESHOLD",
    "INPUT_SIZE",
    "Box",
    "Detection",
    "Detector",
    "ModelError",
    "OnnxLeopardDetector",
    "UnreadableImage",
    "windows",
]
