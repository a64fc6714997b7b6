"""Scoring the eval folder with a detector: per-image scores, perturbed copies, worst case over runs."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bot.detection import Detector
from bot.media import UnreadableImage, open_image
from tools.eval_set import Item


@dataclass(frozen=True)
class Scored:
    item: Item
    score: float
    snow: float
    label: str
    label_score: float
    # The leopard box (original pixels) when the photo was called a leopard, for the box-quality report.
    box: tuple[int, int, int, int] | None = None


def _reencode(image: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _crop(image: Image.Image, left_top: bool) -> Image.Image:
    w, h = image.size
    dx, dy = round(w * 0.05), round(h * 0.05)
    return image.crop((dx, dy, w, h) if left_top else (0, 0, w - dx, h - dy))


# Benign changes a photo can go through between the camera and the bot (messenger recompression,
# resizing, slightly different framing). Used by --perturb to see how much margin a threshold has.
PERTURBATIONS: dict[str, Callable[[Image.Image], bytes]] = {
    "jpeg q60": lambda im: _reencode(im, 60),
    "scale 0.75": lambda im: _reencode(im.resize((round(im.width * 0.75), round(im.height * 0.75)))),
    "crop 5% top-left": lambda im: _reencode(_crop(im, True)),
    "crop 5% bottom-right": lambda im: _reencode(_crop(im, False)),
}


def score_all(
    detector: Detector,
    root: Path,
    items: list[Item],
    transform: Callable[[Image.Image], bytes] | None = None,
) -> list[Scored]:
    out: list[Scored] = []
    for item in items:
        try:
            data = (root / item.file).read_bytes()
            if transform is not None:
                image, _ = open_image(data)
                data = transform(image)
            det = detector.detect(data)
        except (OSError, UnreadableImage) as exc:
            print(f"warning: {item.file}: {exc}", file=sys.stderr)
            continue
        box = (det.boxes[0].x0, det.boxes[0].y0, det.boxes[0].x1, det.boxes[0].y1) if det.boxes else None
        out.append(Scored(item, det.score, det.snow_leopard_score, det.label, det.label_score, box))
    return out


def worst_case(runs: list[list[Scored]]) -> list[Scored]:
    """Per image, the least favourable score over all runs: min for leopards, max for negatives."""
    by_file: dict[str, list[Scored]] = {}
    for run in runs:
        for s in run:
            by_file.setdefault(s.item.file, []).append(s)
    pick = {True: min, False: max}
    return [pick[ss[0].item.leopard](ss, key=lambda s: s.score) for ss in by_file.values()]
