"""Where the animals are: MegadetectorLite (DrivenData's 1-class YOLOX-tiny, distilled from MegaDetector).

The ImageNet classifier says *what* a leopard looks like but localises it coarsely; this camera-trap
detector says *where* every animal is, so the leopard decision can run on the animal (see
bot/detection/model.py and docs/MODEL.md, "Animal boxes"). Pre- and post-processing are numpy:
letterbox to 640 px on the long side (padded only up to the next multiple of 32, so a 16:9 frame runs
at 640x384, not 640x640), pixel values 0-255 in BGR order (YOLOX's training pipeline reads frames with
cv2; docs/MODEL.md gives the measurement), decode x, y, w, h, objectness and class with the YOLOX
grids and strides, then NMS. Boxes come back in the pixels of the image given.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from bot.detection.types import ModelError

MODEL_DIR = Path(__file__).parent / "models"
ANIMAL_MODEL = MODEL_DIR / "megadetector_lite.onnx"
ANIMAL_SHA256 = "67a612b8ce3315e48b21c1a9cba5f83b18f800fbbd205c419c943df203a1080f"
ANIMAL_MODEL_NAME = "megadetector-lite-yolox-tiny"

SIZE = 640  # the long side the model was trained at
# The long side it runs at in the bot (a multiple of 32): its time grows with the pixels, and at this size
# it boxed every leopard of the calibration set and its perturbed copies (docs/MODEL.md, "Speed").
RUN_SIZE = 480
STRIDES = (8, 16, 32)
PAD_VALUE = 114  # YOLOX's letterbox grey
# An animal is a box with objectness x class confidence at least this (docs/MODEL.md, "Animal boxes").
ANIMAL_CONFIDENCE = 0.1
# Boxes the leopard classifier looks at go lower: a leopard half out of frame or rescaled can drop to
# 0.09 (leo_006 at 0.75x), and its crop is what finds it. Such a box is reported only if it is the leopard.
CANDIDATE_CONFIDENCE = 0.05
NMS_IOU = 0.45
MAX_ANIMALS = 20


@dataclass(frozen=True)
class Found:
    """One animal, in the pixels of the image that was searched."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float


def open_session(path: Path, expected_sha256: str | None, threads: int) -> ort.InferenceSession:
    """An onnxruntime session for a bundled model, its file checked against the digest first."""
    if not path.is_file():
        raise ModelError(f"model file not found: {path} (reinstall leopard-watch)")
    if expected_sha256 is not None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != expected_sha256:
            raise ModelError(f"model file is corrupt (sha256 {digest[:12]}…): {path}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    # No busy-waiting between batches: on a 2-core server the bot's other threads (downloads, EXIF,
    # alert images, SQLite) need those cycles more than the next inference needs a head start.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several private exception types
        raise ModelError(f"cannot load model {path}: {exc}") from exc


def letterbox(image: Image.Image, size: int = SIZE, *, bgr: bool = True) -> tuple[np.ndarray, float]:
    """(1, 3, H, W) float32 0-255, the image scaled to `size` on its long side at the top-left of a grey
    canvas whose sides are multiples of 32; and the scale (model pixels per image pixel)."""
    w, h = image.size
    r = size / max(w, h)
    nw, nh = max(1, round(w * r)), max(1, round(h * r))
    ch, cw = -(-nh // 32) * 32, -(-nw // 32) * 32
    out = np.full((1, 3, ch, cw), PAD_VALUE, dtype=np.float32)
    arr = np.asarray(image.resize((nw, nh), Image.Resampling.BILINEAR))
    out[0, :, :nh, :nw] = arr.transpose(2, 0, 1)[::-1] if bgr else arr.transpose(2, 0, 1)
    return out, r


def decode(rows: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw head rows (A, 6) -> boxes (A, 4) x0, y0, x1, y1 in model pixels and scores (A,)."""
    grids, strides = [], []
    for s in STRIDES:
        gh, gw = height // s, width // s
        ys, xs = np.mgrid[0:gh, 0:gw]
        grids.append(np.stack((xs.ravel(), ys.ravel()), axis=1))
        strides.append(np.full((gh * gw, 1), s))
    grid = np.concatenate(grids).astype(np.float32)
    stride = np.concatenate(strides).astype(np.float32)
    if len(grid) != len(rows):
        raise ModelError(f"animal model gave {len(rows)} rows for {width}x{height}, expected {len(grid)}")
    centre = (rows[:, 0:2] + grid) * stride
    half = np.exp(np.minimum(rows[:, 2:4], 10.0)) * stride / 2  # clipped: exp of a wild value is inf
    boxes = np.concatenate((centre - half, centre + half), axis=1)
    return boxes, rows[:, 4] * rows[:, 5]


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = NMS_IOU) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best first."""
    order = np.argsort(-scores, kind="stable")
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        lo = np.maximum(boxes[i, :2], boxes[rest, :2])
        hi = np.minimum(boxes[i, 2:], boxes[rest, 2:])
        inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
        order = rest[inter / (area[i] + area[rest] - inter + 1e-9) <= iou]
    return keep


class AnimalDetector:
    """Every animal in a frame, best first, as boxes in the pixels of the image given."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        threads: int = 2,
        verify_checksum: bool = True,
        confidence: float = CANDIDATE_CONFIDENCE,
        size: int = RUN_SIZE,
        bgr: bool = True,
    ) -> None:
        self.model_path = Path(model_path or ANIMAL_MODEL)
        expected = ANIMAL_SHA256 if verify_checksum and self.model_path == ANIMAL_MODEL else None
        self.session = open_session(self.model_path, expected, threads)
        if [o.name for o in self.session.get_outputs()] != ["rows"]:
            raise ModelError(f"unexpected outputs in animal model {self.model_path}")
        self.confidence, self.size, self.bgr = confidence, size, bgr

    def find(self, image: Image.Image) -> list[Found]:
        tensor, r = letterbox(image, self.size, bgr=self.bgr)
        rows = self.session.run(None, {"image": tensor})[0][0]
        return self.boxes(rows, tensor.shape[2], tensor.shape[3], r, image.size)

    def boxes(
        self, rows: np.ndarray, height: int, width: int, r: float, size: tuple[int, int]
    ) -> list[Found]:
        boxes, scores = decode(rows, height, width)
        mask = scores >= self.confidence
        boxes, scores = boxes[mask] / r, scores[mask]
        w, h = size
        np.clip(boxes, 0, [w, h, w, h], out=boxes)
        found = [
            Found(
                float(boxes[i, 0]),
                float(boxes[i, 1]),
                float(boxes[i, 2]),
                float(boxes[i, 3]),
                float(scores[i]),
            )
            for i in nms(boxes, scores)[:MAX_ANIMALS]
            if boxes[i, 2] - boxes[i, 0] >= 2 and boxes[i, 3] - boxes[i, 1] >= 2
        ]
        return found
