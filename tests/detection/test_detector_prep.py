"""The detector's input path: decoded once at the size the windows need, crops written straight into
the batch, mirrors as views, and the box's blob search."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bot.detection.cam import peak_blob as _peak_blob
from bot.detection.model import OnnxLeopardDetector
from bot.detection.prep import DECODE_SIDE, INPUT_SIZE, batch, decode, windows
from tests.support.paths import SAMPLES


@pytest.fixture(scope="module")
def leopard() -> Image.Image:
    return Image.open(SAMPLES / "leo_005_serengeti_night.jpg").convert("RGB")


def _jpeg(image: Image.Image, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, **kwargs)
    return buf.getvalue()


@pytest.mark.parametrize("progressive", [False, True])
def test_big_jpeg_is_decoded_small_once(leopard: Image.Image, progressive: bool) -> None:
    big = leopard.resize((leopard.width * 6, leopard.height * 6))  # 4596x2400
    image, full = decode(_jpeg(big, progressive=progressive))
    assert full == big.size and image.mode == "RGB"
    # DCT scaling: the short side at least what a window needs, and less than twice that.
    assert DECODE_SIDE <= min(image.size) < 2 * DECODE_SIDE


def test_progressive_and_baseline_give_the_same_answer(
    detector: OnnxLeopardDetector, leopard: Image.Image
) -> None:
    big = leopard.resize((leopard.width * 4, leopard.height * 4))
    base, prog = (detector.detect(_jpeg(big, progressive=p)) for p in (False, True))
    assert base.leopard and prog.leopard and abs(base.score - prog.score) < 0.05
    assert prog.extra["model_ms"] > 0 and prog.ms >= prog.extra["model_ms"] + prog.extra["decode_ms"]


def test_batch_holds_each_window_then_its_mirror(leopard: Image.Image) -> None:
    wins = windows(*leopard.size)
    out = batch(leopard, wins)
    n = len(wins)
    assert out.shape == (2 * n, 3, INPUT_SIZE, INPUT_SIZE) and out.dtype == np.float32
    assert np.array_equal(out[n:], out[:n, :, :, ::-1])
    # (x - 127) / 128 of the window scaled by Pillow, exactly.
    x0, y0, x1, y1 = wins[1]
    crop = leopard.crop((x0, y0, x1, y1)).resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR)
    want = (np.asarray(crop, dtype=np.float32).transpose(2, 0, 1) - 127) / 128
    assert np.abs(out[1] - want).mean() < 2 / 128  # resize(box=) may differ from crop+resize at edges
    assert out.min() >= -127 / 128 and out.max() <= 1.0


def _flood(mask: np.ndarray, peak: tuple[int, int]) -> set[tuple[int, int]]:
    seen: set[tuple[int, int]] = set()
    stack = [peak]
    while stack:
        y, x = stack.pop()
        if 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1] and mask[y, x] and (y, x) not in seen:
            seen.add((y, x))
            stack += [(y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)]
    return seen


@pytest.mark.parametrize("seed", range(20))
def test_peak_blob_is_the_connected_region_of_the_peak(seed: int) -> None:
    rng = np.random.default_rng(seed)
    mask = rng.random((36, 36)) < 0.55
    peak = (int(rng.integers(36)), int(rng.integers(36)))
    mask[peak] = True
    ys, xs = _peak_blob(mask, peak)
    assert set(zip(ys.tolist(), xs.tolist(), strict=True)) == _flood(mask, peak)
