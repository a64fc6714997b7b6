"""The animal detector (MegadetectorLite) and the decision on the animal: pre/post-processing in numpy,
every animal boxed in original pixels, the leopard's box being the whole animal."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bot.detection import ModelError
from bot.detection.animals import (
    ANIMAL_MODEL,
    PAD_VALUE,
    STRIDES,
    AnimalDetector,
    decode,
    letterbox,
    nms,
)
from bot.detection.model import OnnxLeopardDetector
from bot.detection.prep import square_around
from tests.support.paths import SAMPLES

# leo_005 (766x400): the leopard walks through the right half; hand box in tests/data/leopard_boxes.csv.
LEO_005_HAND = (243, 117, 662, 290)


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.fixture(scope="module")
def animals() -> AnimalDetector:
    return AnimalDetector(threads=2)


def test_letterbox_keeps_aspect_pads_to_32_and_swaps_to_bgr() -> None:
    image = Image.new("RGB", (1600, 900), (200, 100, 10))
    tensor, r = letterbox(image)
    assert tensor.shape == (1, 3, 384, 640) and r == pytest.approx(0.4)
    assert tensor[0, :, 0, 0].tolist() == [10, 100, 200]  # BGR, 0-255, no normalisation
    assert (tensor[0, :, 360:, :] == PAD_VALUE).all()  # the grey pad below the 360 rows of picture
    rgb, _ = letterbox(image, bgr=False)
    assert rgb[0, :, 0, 0].tolist() == [200, 100, 10]


def test_decode_applies_grids_and_strides() -> None:
    h, w = 64, 96
    n = sum((h // s) * (w // s) for s in STRIDES)
    rows = np.zeros((n, 6), dtype=np.float32)
    # Anchor 9 on the stride-8 grid (12 columns): column 9, row 0. Offsets 0.5, log-size log(4).
    rows[9] = [0.5, 0.5, np.log(4), np.log(2), 0.9, 0.5]
    boxes, scores = decode(rows, h, w)
    cx, cy = (9 + 0.5) * 8, 0.5 * 8
    assert boxes[9].tolist() == pytest.approx([cx - 16, cy - 8, cx + 16, cy + 8])
    assert scores[9] == pytest.approx(0.45) and scores[:9].max() == 0
    with pytest.raises(ModelError):
        decode(rows[:-1], h, w)


def test_nms_drops_overlaps_keeps_separate_animals() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], dtype=np.float32)
    assert nms(boxes, np.array([0.9, 0.8, 0.7])) == [0, 2]


@pytest.mark.parametrize(
    ("box", "size", "want"),
    [
        ((40, 40, 60, 50), (200, 100), (37, 32, 63, 58)),  # 20 px + 15 % each side = 26 px square
        ((0, 0, 20, 10), (200, 100), (0, 0, 26, 26)),  # moved inside the frame, not cut
        ((10, 10, 190, 60), (200, 100), (0, 0, 200, 100)),  # longer than the short side: all of it
    ],
)
def test_square_around(box: tuple[int, int, int, int], size: tuple[int, int], want: tuple[int, ...]) -> None:
    assert square_around(box, size, 0.15) == want


def test_corrupt_animal_model_is_refused(tmp_path: object) -> None:
    from pathlib import Path

    bad = Path(str(tmp_path)) / "megadetector_lite.onnx"
    bad.write_bytes(ANIMAL_MODEL.read_bytes()[:1000])
    with pytest.raises(ModelError, match="cannot load model"):
        AnimalDetector(bad)


def test_finds_the_leopard_in_the_sample(animals: AnimalDetector) -> None:
    image = Image.open(SAMPLES / "leo_005_serengeti_night.jpg").convert("RGB")
    found = animals.find(image)
    assert found and _iou((found[0].x0, found[0].y0, found[0].x1, found[0].y1), LEO_005_HAND) >= 0.5


def test_detection_boxes_every_animal_and_the_leopard_whole(detector: OnnxLeopardDetector) -> None:
    det = detector.detect((SAMPLES / "leo_005_serengeti_night.jpg").read_bytes())
    assert det.animal_detector and det.animals and det.leopard and det.kind == "leopard"
    box = det.boxes[0]
    # The leopard's box is one of the animal boxes (the one the decision came from), in original pixels.
    assert (box.x0, box.y0, box.x1, box.y1) in [(a.x0, a.y0, a.x1, a.y1) for a in det.animals]
    assert _iou((box.x0, box.y0, box.x1, box.y1), LEO_005_HAND) >= 0.5
    assert det.extra["on_animals"] == 1 and det.extra["animal_ms"] > 0


def test_large_jpeg_animal_boxes_are_in_original_pixels(detector: OnnxLeopardDetector) -> None:
    small = Image.open(SAMPLES / "leo_005_serengeti_night.jpg").convert("RGB")
    k = 6
    big = small.resize((small.width * k, small.height * k), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=85)
    det = detector.detect(buf.getvalue())
    assert (det.width, det.height) == big.size and det.animals
    a = det.animals[0]
    assert _iou((a.x0, a.y0, a.x1, a.y1), tuple(v * k for v in LEO_005_HAND)) >= 0.5


def test_jackal_is_an_animal_not_a_leopard(detector: OnnxLeopardDetector) -> None:
    det = detector.detect((SAMPLES / "neg_060_serengeti_jackal_1.jpg").read_bytes())
    assert not det.leopard and det.kind == "animal" and det.boxes == ()
    assert all(0 <= a.x0 < a.x1 <= det.width and 0 <= a.y0 < a.y1 <= det.height for a in det.animals)


def test_empty_frame_falls_back_to_windows(detector: OnnxLeopardDetector) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 90, 90)).save(buf, "PNG")
    det = detector.detect(buf.getvalue())
    assert det.animals == () and det.kind == "empty"
    assert det.extra["on_animals"] == 0 and det.extra["crops"] == 2 * 3  # whole frame + 2 windows, mirrored
