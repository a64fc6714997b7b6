"""Export DrivenData's MegadetectorLite (a 1-class YOLOX-tiny distilled from MegaDetector) to ONNX.

Run once by a maintainer in a throwaway venv; torch, zamba and pixeltable-yolox are never run-time
dependencies (zamba's own dependencies are heavy, so only its wheel's asset is used):

    python -m venv /tmp/mdl-venv && /tmp/mdl-venv/bin/pip install torch==2.13.0 onnx numpy
    /tmp/mdl-venv/bin/pip download zamba==2.7.2 --no-deps -d /tmp/zamba
    (cd /tmp/zamba && unzip -q zamba-2.7.2-py3-none-any.whl 'zamba/object_detection/*')
    /tmp/mdl-venv/bin/pip install --no-deps pixeltable-yolox==0.4.3 pillow opencv-python-headless \
        loguru psutil packaging pycocotools tqdm tabulate
    /tmp/mdl-venv/bin/python tools/export_megadetector.py \
        --weights /tmp/zamba/zamba/object_detection/yolox/assets/yolox_tiny_640_20220528.pth \
        --out bot/detection/models/megadetector_lite.onnx

The graph's output is the head's raw per-anchor rows (decode_in_inference=False): x, y, log w, log h
offsets, then sigmoid objectness and class. Grids and strides are applied in numpy
(bot/detection/animals.py), so the input may be any multiple of 32 high and wide (dynamic axes):
a 16:9 frame letterboxes into 640x384 instead of 640x640.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path

import torch

# yolox.utils imports torchvision for its NMS, which export does not use; torchvision's wheel must
# match torch's exactly, so a stub stands in rather than a second large download.
sys.modules.setdefault("torchvision", types.ModuleType("torchvision"))

from yolox.models import YoloPafpn, YoloxHead, YoloxModule  # noqa: E402

DEPTH, WIDTH = 0.33, 0.375  # yolox-tiny


def load(weights: Path) -> YoloxModule:
    kwargs = json.loads(weights.with_name(weights.stem + "_model_kwargs.json").read_text())
    assert kwargs == {"num_classes": 1, "backbone": "yolox-tiny", "image_size": 640}, kwargs
    model = YoloxModule(YoloPafpn(DEPTH, WIDTH, act="silu"), YoloxHead(1, WIDTH, act="silu"))
    ckpt = torch.load(weights, map_location="cpu", weights_only=False)
    state = ckpt.get("model", ckpt)
    model.load_state_dict(state, strict=True)  # every tensor matches, none left over
    model.eval()
    model.head.decode_in_inference = False
    return model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    model = load(args.weights)
    dummy = torch.zeros(1, 3, 640, 640)
    with torch.no_grad():
        rows = model(dummy)
    assert rows.shape == (1, 80 * 80 + 40 * 40 + 20 * 20, 6), rows.shape
    torch.onnx.export(
        model,
        (dummy,),
        str(args.out),
        input_names=["image"],
        output_names=["rows"],
        dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}, "rows": {0: "batch", 1: "anchors"}},
        opset_version=17,
        dynamo=False,
    )
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
