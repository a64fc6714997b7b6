"""Calibrate the leopard threshold on a labelled folder of real camera-trap photos.

    .venv/bin/python tools/calibrate.py                 # default folder: ../shared/eval
    .venv/bin/python tools/calibrate.py --eval DIR --threads 2 --thresholds 0.05,0.1,0.15

The folder holds `leopard/*.jpg` and `negative/*.jpg`, optionally with a `SOURCES.tsv`
(columns `file`, `label`, `visually_verified`, `note`). Without SOURCES.tsv the sub-folder name is the
label and every image counts as verified.

Output (markdown, ready to paste into docs/MODEL.md):

1. per-image scores (leopard score = max over windows of P(leopard) + P(jaguar));
2. a threshold sweep: recall on the visually verified leopards, recall on all labelled leopards,
   false alarms (FP / negatives), each with its Wilson 95 % interval;
3. the threshold chosen by the rule below, the figures at the shipped DEFAULT_THRESHOLD, and which
   negatives are false alarms there (species from SOURCES.tsv);
4. box quality: IoU of each leopard box against the hand boxes in tests/data/leopard_boxes.csv
   (tools/calibration_boxes.py), and the share at IoU >= 0.5.

--windows-only runs the classifier on windows without the animal detector (the pipeline before issue
24), for the comparison in docs/MODEL.md.

The speed levers of the animal-first pipeline can be set one at a time, to see what each costs in
recall, false alarms and margin before bench/detector.py times it: --animal-size (the detector's long
side), --max-crops, --mirror-margin (a crop's mirror runs only within this of the threshold; "always"
mirrors every crop) and --min-crop-side. Their defaults are the shipped settings.

Decision rule (documented in docs/MODEL.md): on a grid of 0.01 steps, take the LARGEST threshold at
which recall on the visually verified leopards is 1.0, and report the false-alarm rate there.
Unverified leopard labels (e.g. a blurred partial body whose species cannot be confirmed by eye) are
reported but do not drive the rule. This is an upper bound fitted to a tiny set: the shipped
threshold should sit below it with margin (a missed leopard is the worst outcome), and it is never
changed by this tool.

--perturb also scores recompressed (JPEG q60), downscaled (0.75x) and re-framed (5 % crops) copies
and reports the worst case per image: how much margin a threshold really has.

--precision int8 calibrates the INT8 model instead of the fp32 reference; --parity compares the two on
the folder (and on the perturbed copies with --perturb) against the bounds in tools/parity.py, split
into the photos tools/quantize.py calibrated on and the rest. Re-run both when the model or the
threshold changes.

To calibrate another model, pass any `bot.detection.model.Detector` to `score_all()`.

The work is split by responsibility: tools/eval_set.py reads the labelled folder, tools/calibration_scoring.py
runs the detector (and the perturbations), tools/calibration_metrics.py holds the threshold maths and the
decision rule, tools/calibration_report.py renders the markdown; this module is the command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # allow `python tools/calibrate.py` without installing
    sys.path.insert(0, str(REPO))

from bot.detection.animals import RUN_SIZE  # noqa: E402
from bot.detection.model import MAX_CROPS, MIN_CROP_SIDE, MIRROR_MARGIN, OnnxLeopardDetector  # noqa: E402
from bot.detection.types import DEFAULT_THRESHOLD  # noqa: E402
from tools.calibration_boxes import load_hand_boxes, render_boxes  # noqa: E402
from tools.calibration_metrics import (  # noqa: E402
    GRID,
    Metrics,
    choose_threshold,
    false_alarms,
    metrics,
    wilson,
)
from tools.calibration_report import by_class_table, render, render_robustness, sweep_table  # noqa: E402
from tools.calibration_scoring import PERTURBATIONS, Scored, score_all, worst_case  # noqa: E402
from tools.eval_set import Item, load_items  # noqa: E402

# The names callers imported from this module before the split (tests/test_int8_parity.py: load_items;
# docs/MODEL.md: score_all takes any Detector) stay importable from here.
__all__ = [
    "DEFAULT_EVAL",
    "GRID",
    "PERTURBATIONS",
    "SHOWN",
    "Item",
    "Metrics",
    "Scored",
    "by_class_table",
    "choose_threshold",
    "false_alarms",
    "load_items",
    "main",
    "metrics",
    "render",
    "render_robustness",
    "score_all",
    "sweep_table",
    "wilson",
    "worst_case",
]

DEFAULT_EVAL = REPO.parent / "shared" / "eval"
SHOWN = [0.02, 0.05, 0.08, 0.10, 0.12, 0.15, 0.18, 0.20, 0.25, 0.30, 0.40, 0.50]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--eval", type=Path, default=DEFAULT_EVAL, help=f"labelled folder (default {DEFAULT_EVAL})"
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", choices=("fp32", "int8"), default="fp32", help="model to calibrate")
    ap.add_argument("--parity", action="store_true", help="also compare INT8 with fp32 (tools/parity.py)")
    ap.add_argument(
        "--windows-only",
        action="store_true",
        help="the classifier on windows without animal boxes (the pipeline before issue 24), to compare",
    )
    ap.add_argument("--animal-size", type=int, default=RUN_SIZE, help="animal detector's long side (x32)")
    ap.add_argument("--max-crops", type=int, default=MAX_CROPS, help="animal crops per photo")
    ap.add_argument(
        "--mirror-margin",
        type=_margin,
        default=MIRROR_MARGIN,
        help='mirror a crop only within this of the threshold ("always": every crop)',
    )
    ap.add_argument("--min-crop-side", type=int, default=MIN_CROP_SIDE, help="no crop for smaller boxes")
    ap.add_argument(
        "--thresholds",
        default=",".join(f"{t:g}" for t in SHOWN),
        help="comma-separated thresholds shown in the sweep table (the rule always uses a 0.01 grid)",
    )
    ap.add_argument(
        "--perturb",
        action="store_true",
        help="also score recompressed / rescaled / re-framed copies and report the worst case (~5x slower)",
    )
    args = ap.parse_args(argv)
    root: Path = args.eval
    if not root.is_dir():
        print(f"calibrate: no labelled folder at {root}", file=sys.stderr)
        return 2
    items = load_items(root)
    if not items:
        print(f"calibrate: no labelled images in {root}", file=sys.stderr)
        return 2
    shown = [float(t) for t in args.thresholds.split(",") if t.strip()]
    detector = OnnxLeopardDetector(
        threads=args.threads,
        precision=args.precision,
        animals=not args.windows_only,
        animal_size=args.animal_size,
        max_crops=args.max_crops,
        mirror_margin=args.mirror_margin,
        min_crop_side=args.min_crop_side,
    )
    scored = score_all(detector, root, items)
    n_leo = sum(s.item.leopard for s in scored)
    n_ver = sum(s.item.leopard and s.item.verified for s in scored)
    print(
        f"## Calibration on {root}, {detector.precision} model ({n_leo} leopard labels, {n_ver} visually "
        f"verified; {len(scored) - n_leo} negatives)\n"
    )
    if not args.windows_only:
        print(
            f"Animal detector at {args.animal_size} px, up to {args.max_crops} crops of boxes >= "
            f"{args.min_crop_side} px, mirrors {_margin_text(args.mirror_margin)}.\n"
        )
    print(render(scored, shown, DEFAULT_THRESHOLD))
    print()
    print(render_boxes(scored, load_hand_boxes()))
    if args.perturb:
        runs = {"original": scored}
        for name, transform in PERTURBATIONS.items():
            runs[name] = score_all(detector, root, items, transform)
        print()
        print(render_robustness(runs, shown, DEFAULT_THRESHOLD))
    if args.parity:
        from tools.parity import report

        print()
        print(report(root, [i.file for i in items], args.threads, PERTURBATIONS if args.perturb else {}))
    return 0


def _margin(text: str) -> float | None:
    return None if text == "always" else float(text)


def _margin_text(margin: float | None) -> str:
    return "on every crop" if margin is None else f"within {margin:g} of the threshold"


if __name__ == "__main__":
    sys.exit(main())
