"""Make the INT8 model (bot/detection/models/efficientnet_lite2_int8.onnx) from the committed fp32 one.

    .venv/bin/pip install -e ".[quantize]"               # onnx + sympy, quantization-time only
    .venv/bin/python tools/quantize.py                   # writes the model, prints its SHA-256
    .venv/bin/python tools/quantize.py --method percentile --out /tmp/p.onnx   # try another calibration

Method (docs/MODEL.md, "INT8"): onnxruntime static quantization, QDQ format, U8 activations with S8
per-channel weights (the fast path on VNNI / dot-product CPUs; S8 activations gave no speed-up),
activation ranges by MinMax over the calibration crops. The final classifier layer (Gemm, 1280 x 1000)
stays fp32 (its logits decide the leopard score, and it is 0.2 % of the network's work), and so do the
stem and blocks 0-3 (see KEEP_FP32).

Calibration crops are made by the detector's own code (bot/detection/prep.py: decode at the size the
windows need, the windows, each also mirrored), from photos that are not the ones the INT8 parity is
judged on: the odd-numbered negatives of ../shared/eval (never a leopard, never a bundled sample) and
the camera-trap and phone stills in ../shared/samples/camera-files. Both lists are printed.

Calibration choice must be tested, not assumed (entropy calibration with 2048 bins lost every leopard
in the issue author's trial): run tools/calibrate.py --precision int8 and --parity on the result.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # allow `python tools/quantize.py` without installing
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bot.detection.model import DEFAULT_MODEL, INT8_MODEL  # noqa: E402
from bot.detection.prep import batch, decode, windows  # noqa: E402
from bot.media.images import UnreadableImage  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"
CAMERA_FILES = REPO.parent / "shared" / "samples" / "camera-files"
# Left in fp32 (node names): the classifier, and the stem with blocks 0-3, the high-resolution layers
# where 8-bit activations lost the most detail. Chosen over all-INT8, stem-only and stem+blocks 0-2 by
# the INT8/fp32 score difference over the eval photos and their perturbed copies (docs/MODEL.md).
PARTS = ("_expand_conv", "_depthwise_conv", "_project_conv")  # block 0 has no expand conv
KEEP_FP32 = [
    "/_fc/Gemm",
    "/_conv_stem/Conv",
    *(f"/_blocks.{i}/{part}/Conv" for i in range(4) for part in PARTS),
]
STILLS = (".jpg", ".jpeg", ".heic", ".hif")
HISTOGRAM_CROPS = 48


def calibration_photos(eval_dir: Path = EVAL, extra: Path = CAMERA_FILES) -> list[Path]:
    """Odd-numbered eval negatives (neg_035, neg_037, ...) and the camera-file stills, sorted."""
    odd = [
        p
        for p in sorted((eval_dir / "negative").glob("neg_*.jpg"))
        if (m := re.match(r"neg_(\d+)_", p.name)) and int(m.group(1)) % 2 == 1
    ]
    stills = sorted(p for p in extra.glob("*") if p.suffix.lower() in STILLS) if extra.is_dir() else []
    return odd + stills


def crops(photos: list[Path]) -> Iterator[np.ndarray]:
    """Every crop the detector would run for each photo, one (1, 3, 260, 260) array at a time."""
    for path in photos:
        try:
            image, _ = decode(path.read_bytes())
        except (OSError, UnreadableImage) as exc:
            print(f"quantize: skipping {path.name}: {exc}", file=sys.stderr)
            continue
        for crop in batch(image, windows(*image.size)):
            yield crop[None]


def quantize(photos: list[Path], out: Path, method: str, keep_fp32: list[str]) -> int:
    """Writes the INT8 model to `out`; returns the number of calibration crops."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    seen = [0]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = reader_source

        def get_next(self) -> dict[str, np.ndarray] | None:
            crop = next(self.it, None)
            if crop is None:
                return None
            seen[0] += 1
            return {"image": crop}

    methods: dict[str, tuple[object, dict[str, float]]] = {
        "minmax": (CalibrationMethod.MinMax, {}),
        "percentile": (CalibrationMethod.Percentile, {"CalibPercentile": 99.999}),
        "entropy": (CalibrationMethod.Entropy, {"CalibNumBins": 2048}),
    }
    calib, calib_options = methods[method]
    reader_source = crops(photos)
    if method != "minmax":
        # onnxruntime's histogram calibrators keep every crop's activations: all 336 crops took over
        # 20 GB and were killed, so they see the first HISTOGRAM_CROPS only (a weaker calibration).
        reader_source = itertools.islice(reader_source, HISTOGRAM_CROPS)
    with tempfile.TemporaryDirectory() as tmp:
        # Shape inference and constant folding first (onnxruntime's advice): the export's runtime
        # padding arithmetic becomes constants, so only real convolutions get Q/DQ pairs.
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(DEFAULT_MODEL), str(pre))
        quantize_static(
            str(pre),
            str(out),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=calib,
            nodes_to_exclude=keep_fp32,
            # Ranges are merged every 64 crops: the activations of all crops at once would need GBs.
            extra_options={"CalibMaxIntermediateOutputs": 64, **calib_options},
        )
    return seen[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=INT8_MODEL)
    ap.add_argument("--method", choices=("minmax", "percentile", "entropy"), default="minmax")
    ap.add_argument("--eval", type=Path, default=EVAL, help="folder whose odd negatives calibrate")
    ap.add_argument("--extra", type=Path, default=CAMERA_FILES, help="more calibration stills")
    ap.add_argument(
        "--quantize-all", action="store_true", help="also quantize the final classifier layer (test only)"
    )
    args = ap.parse_args(argv)
    photos = calibration_photos(args.eval, args.extra)
    if not photos:
        print(f"quantize: no calibration photos under {args.eval} or {args.extra}", file=sys.stderr)
        return 2
    n = quantize(photos, args.out, args.method, [] if args.quantize_all else KEEP_FP32)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"calibration: {len(photos)} photos, {n} crops, method {args.method}")
    print("photos: " + ", ".join(p.name for p in photos))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    print(f"sha256 {digest}  (INT8_SHA256 in bot/detection/model.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
