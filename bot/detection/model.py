"""Leopard detection on the CPU: animal boxes first (MegadetectorLite), then EfficientNet-Lite2 (ImageNet)
on each animal, via onnxruntime.

Why this design (see docs/MODEL.md for figures): the ImageNet classifier knows leopards but not where
they are, and on whole frames it mistakes spotted small cats for them. The camera-trap detector
(bot/detection/animals.py) boxes every animal; the classifier then scores a square crop around each
(and its mirror), so the decision and the box are about the animal. Where the detector finds nothing,
the classifier runs on the whole frame plus square windows sliding along the long axis, as before, and
the box comes from its class activation map (bot/detection/cam.py).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from bot.detection.animals import ANIMAL_CONFIDENCE, RUN_SIZE, AnimalDetector, Found, open_session
from bot.detection.animals import SIZE as ANIMAL_SIZE
from bot.detection.cam import Window as Corners
from bot.detection.cam import cam_box, load_cam_weights, near_tie, union
from bot.detection.precision import Choice, choose
from bot.detection.prep import INPUT_SIZE, batch, decode, mirror, square_around, to_rgb, windows
from bot.detection.speed import auto_choice, measure
from bot.detection.types import (
    DEFAULT_THRESHOLD,
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

# The crop around an animal box: 15 % of its longer side added on every side (docs/MODEL.md).
CROP_MARGIN = 0.15
# Crops per photo, the most confident animals first: a herd is not 20 crops. 2 kept every leopard of
# the calibration set and its perturbed copies that 4 kept; 1 lost one (docs/MODEL.md, "Speed levers").
MAX_CROPS = 2
# A crop's mirror runs only where the crop alone is within this of the threshold, above or below: there
# it can change the decision or the label (leo_008's crop 0.082, its mirror 0.107); elsewhere it only
# cost a second network pass per animal.
MIRROR_MARGIN: float | None = 0.04
# Boxes shorter than this on their long side, in the pixels of the decoded frame, get no crop of their
# own (they stay listed as animals). 0: skipping boxes under 32-64 px sent more photos to the windows,
# which cost more than the crop saved, and changed no decision.
MIN_CROP_SIDE = 0
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


def resolve_precision(setting: str, threads: int) -> Choice:
    """LW_DETECTOR_PRECISION: "int8" and "fp32" force; "auto" runs whichever bundled classifier is faster on
    this machine, timed once (bot/detection/speed.py)."""
    if setting != "auto":
        return choose(setting)

    def timer() -> tuple[float, float]:
        fp32 = OnnxLeopardDetector._open(DEFAULT_MODEL, threads, True)
        int8 = OnnxLeopardDetector._open(INT8_MODEL, threads, True)
        return measure(fp32, int8, INPUT_SIZE, RUN_BATCH["int8"])

    return auto_choice(DEFAULT_MODEL, INT8_MODEL, threads, timer)


class OnnxLeopardDetector:
    def __init__(
        self,
        model_path: Path | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        threads: int = 2,
        verify_checksum: bool = True,
        precision: str = "auto",
        animals: bool = True,
        animal_size: int = RUN_SIZE,
        max_crops: int = MAX_CROPS,
        mirror_margin: float | None = MIRROR_MARGIN,
        min_crop_side: int = MIN_CROP_SIDE,
    ) -> None:
        """animals=False runs the classifier on windows only (the pipeline before issue 24, kept for
        bench/detector.py and the calibration comparison). animal_size, max_crops, mirror_margin (None:
        always mirror) and min_crop_side are the speed levers of docs/MODEL.md, open to
        tools/calibrate.py and bench/detector.py so that each can be measured alone.

        precision ("auto", "int8", "fp32"; see bot/detection/precision.py) picks the bundled model when no
        model_path is given. An explicit model_path runs as given; precision then only names it
        ("auto": int8 for the bundled INT8 file, else fp32)."""
        self.threshold = threshold
        self.labels = load_labels()
        if model_path is None:
            chosen = resolve_precision(precision, threads)
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
        self.cam_weights = load_cam_weights(self.model_path if own.exists() else DEFAULT_MODEL)
        self.animals = (
            AnimalDetector(threads=threads, verify_checksum=verify_checksum, size=animal_size)
            if animals
            else None
        )
        self.max_crops, self.mirror_margin, self.min_crop_side = max_crops, mirror_margin, min_crop_side

    @staticmethod
    def _open(path: Path, threads: int, verify_checksum: bool) -> ort.InferenceSession:
        # One way to open a bundled model (checksum, no busy-waiting threads): animals.open_session.
        session = open_session(path, expected_sha256(path) if verify_checksum else None, threads)
        outputs = [o.name for o in session.get_outputs()]
        if outputs[:2] != ["logits", "features"]:
            raise ModelError(f"unexpected model outputs {outputs} in {path}")
        return session

    def detect(self, data: bytes) -> Detection:
        started = time.perf_counter()
        image, size = decode(data, ANIMAL_SIZE if self.animals else 0)
        decoded = time.perf_counter()
        det = self.detect_image(image, size)
        done = time.perf_counter()
        extra = det.extra | {"decode_ms": round((decoded - started) * 1000, 2)}
        return replace(det, ms=round((done - started) * 1000, 1), extra=extra)

    def detect_image(self, image: Image.Image, original_size: tuple[int, int] | None = None) -> Detection:
        image = to_rgb(image)
        orig_w, orig_h = original_size or image.size
        sx, sy = orig_w / image.size[0], orig_h / image.size[1]
        found: list[Found] = []
        animal_s = 0.0
        if self.animals is not None:
            t0 = time.perf_counter()
            found = self.animals.find(image)
            animal_s = time.perf_counter() - t0
        # The decision runs on the animal: a crop around each box (its mirror only near the threshold).
        # Where the detector finds nothing, today's windows keep the recall (a leopard in deep shadow, a
        # tail at the edge), each with its mirror as before.
        side = self.min_crop_side
        chosen = [f for f in found if max(f.x1 - f.x0, f.y1 - f.y0) >= side][: self.max_crops]
        on_animals = bool(chosen)
        if on_animals:
            wins = [square_around(_corners(f), image.size, CROP_MARGIN) for f in chosen]
            probs, features, model_s, views = self._classify_crops(batch(image, wins, mirrors=False))
        else:
            wins = windows(*image.size)
            probs, features, model_s = self._classify(batch(image, wins))
            views = list(range(len(wins))) * 2
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
            col = leo if is_leopard else probs[:, SNOW_LEOPARD]
            pick = int(col.argmax())
            if on_animals:  # the whole animal the decision came from
                # Of the animals whose crop reaches the threshold, the one the detector is surest of:
                # a box on part of the leopard (its head, its rear) can out-score the whole animal by
                # a little, and the alert should draw the whole animal (boxes are best first).
                per_crop = _per_crop(col, len(wins), views)
                passing = [i for i in range(len(wins)) if per_crop[i] >= self.threshold]
                first = passing[0] if passing else int(per_crop.argmax())
                # Overlapping boxes that are leopard too are parts of it (NMS keeps a box on the
                # head inside one on the body): together they are the animal, listed once.
                parts = [chosen[first]] + [
                    chosen[i]
                    for i in passing
                    if i != first and _overlap(_corners(chosen[first]), _corners(chosen[i]))
                ]
                box: Corners = union([_corners(f) for f in parts])
                whole = Found(*box, max(f.score for f in parts))
                found = [whole] + [f for f in found if all(f is not p for p in parts)]
            else:
                box = union(
                    [
                        cam_box(self.cam_weights, features[i], cls, wins[i % len(wins)], i >= len(wins))
                        for i in near_tie(col, pick)
                    ]
                )
            boxes = (_scaled(box, sx, sy, label_score),)
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
            extra={
                "model_ms": round((model_s + animal_s) * 1000, 2),
                "classifier_ms": round(model_s * 1000, 2),
                "animal_ms": round(animal_s * 1000, 2),
                "crops": float(len(probs)),
                "on_animals": float(on_animals),
            },
            animals=tuple(
                _scaled(_corners(f), sx, sy, f.score)
                for f in found
                if f.score >= ANIMAL_CONFIDENCE or (boxes and on_animals and f is found[0])
            ),
            animal_detector=self.animals is not None,
        )

    def _classify_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, list[int]]:
        """The animal crops, then the mirrors of those whose leopard or snow-leopard score is within
        mirror_margin of the threshold: (probs, features, seconds, views), one row per network pass,
        views[row] the crop the row looked at (the n crops first, then the mirrors that ran)."""
        n = len(crops)
        probs, features, model_s = self._classify(crops)
        if self.mirror_margin is None:
            again = list(range(n))
        else:
            near = np.abs(probs[:, LEOPARD_CLASSES].sum(axis=1) - self.threshold) < self.mirror_margin
            near |= np.abs(probs[:, SNOW_LEOPARD] - self.threshold) < self.mirror_margin
            again = [i for i in range(n) if near[i]]
        if again:
            p2, f2, s2 = self._classify(mirror(crops[again]))
            probs, features = np.concatenate((probs, p2)), np.concatenate((features, f2))
            model_s += s2
        return probs, features, model_s, list(range(n)) + again

    def _classify(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Softmax probabilities and feature maps of every crop, and the seconds spent in the network.

        A few crops per run (RUN_BATCH): as fast per crop as one big batch on 2 cores, and the
        activation memory of a 10-window batch (~150 MB more peak RSS in fp32) never exists at once.
        """
        model_s = 0.0
        logits, features = [], []
        for i in range(0, len(crops), self.run_batch):
            t0 = time.perf_counter()
            out = self.session.run(None, {"image": crops[i : i + self.run_batch]})
            model_s += time.perf_counter() - t0
            logits.append(out[0])
            features.append(out[1])
        probs = _softmax(np.concatenate(logits).astype(np.float64))
        return probs, np.concatenate(features), model_s


def _per_crop(col: np.ndarray, n: int, views: list[int]) -> np.ndarray:
    """Per crop, the best of its rows (the crop, and its mirror where one ran)."""
    out = np.zeros(n)
    for row, crop in enumerate(views):
        out[crop] = max(out[crop], col[row])
    return out


def _corners(f: Found) -> Corners:
    return (f.x0, f.y0, f.x1, f.y1)


def _overlap(a: Corners, b: Corners) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def _scaled(box: Corners, sx: float, sy: float, score: float) -> Box:
    return Box(round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy), score)


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
