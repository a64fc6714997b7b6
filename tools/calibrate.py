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
   negatives are false alarms there (species from SOURCES.tsv).

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

To calibrate another model, pass any `bot.detector.Detector` to `score_all()`.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # allow `python tools/calibrate.py` without installing
    sys.path.insert(0, str(REPO))

from PIL import Image  # noqa: E402

from bot.detector import DEFAULT_THRESHOLD, Detector, OnnxLeopardDetector  # noqa: E402
from bot.images import UnreadableImage, open_image  # noqa: E402

DEFAULT_EVAL = REPO.parent / "shared" / "eval"
GRID = [round(0.01 * i, 2) for i in range(1, 100)]
SHOWN = [0.02, 0.05, 0.08, 0.10, 0.12, 0.15, 0.18, 0.20, 0.25, 0.30, 0.40, 0.50]


@dataclass(frozen=True)
class Item:
    file: str  # path relative to the eval folder
    leopard: bool  # ground-truth label
    verified: bool  # label visually confirmed
    species: str  # short description from SOURCES.tsv (negatives: the animal / scene)


@dataclass(frozen=True)
class Scored:
    item: Item
    score: float
    snow: float
    label: str
    label_score: float


@dataclass(frozen=True)
class Metrics:
    threshold: float
    tp_verified: int
    n_verified: int
    tp_all: int
    n_all: int
    fp: int
    n_neg: int

    @property
    def recall_verified(self) -> float:
        return self.tp_verified / self.n_verified if self.n_verified else float("nan")

    @property
    def recall_all(self) -> float:
        return self.tp_all / self.n_all if self.n_all else float("nan")

    @property
    def far(self) -> float:
        return self.fp / self.n_neg if self.n_neg else float("nan")


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k/n (95 % by default)."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


_SCENE_WORDS = {
    "ir",
    "day",
    "night",
    "dark",
    "group",
    "partial",
    "snow",
    "fog",
    "rear",
    "rock",
    "tree",
    "grass",
}


def _species(note: str, file: str) -> str:
    """First clause of the SOURCES.tsv note without parentheses, else the file-name animal."""
    head = re.split(r"[;,]", note, maxsplit=1)[0]
    head = re.sub(r"\s*\([^)]*\)", "", head).strip()
    head = re.sub(r"(?<=[a-z])\d+$", "", head)  # "empty1" -> "empty"
    stem = Path(file).stem.lower()
    if head and " " not in head:  # the note may keep only the first word: "brown" for neg_038_carp_brown_bear
        longer = re.search(rf"_{re.escape(head.lower())}_([a-z]+)", stem)
        if longer and longer.group(1) not in _SCENE_WORDS:
            return f"{head} {longer.group(1)}"
    if head:
        return head
    return re.sub(r"^(leo|neg)_\d+_", "", stem).replace("_", " ")


def load_items(root: Path) -> list[Item]:
    tsv = root / "SOURCES.tsv"
    items: list[Item] = []
    if tsv.is_file():
        with tsv.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                if not (root / row["file"]).is_file():
                    continue
                label = row.get("label", "").strip().lower()
                if label not in ("leopard", "negative"):
                    continue
                verified = row.get("visually_verified", "").strip().lower().startswith("yes")
                items.append(
                    Item(
                        row["file"], label == "leopard", verified, _species(row.get("note", ""), row["file"])
                    )
                )
        return items
    for sub, is_leo in (("leopard", True), ("negative", False)):
        for path in sorted((root / sub).glob("*.jpg")):
            rel = f"{sub}/{path.name}"
            items.append(Item(rel, is_leo, True, _species("", rel)))
    return items


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
        out.append(Scored(item, det.score, det.snow_leopard_score, det.label, det.label_score))
    return out


def worst_case(runs: list[list[Scored]]) -> list[Scored]:
    """Per image, the least favourable score over all runs: min for leopards, max for negatives."""
    by_file: dict[str, list[Scored]] = {}
    for run in runs:
        for s in run:
            by_file.setdefault(s.item.file, []).append(s)
    pick = {True: min, False: max}
    return [pick[ss[0].item.leopard](ss, key=lambda s: s.score) for ss in by_file.values()]


def metrics(scored: list[Scored], threshold: float) -> Metrics:
    leo = [s for s in scored if s.item.leopard]
    ver = [s for s in leo if s.item.verified]
    neg = [s for s in scored if not s.item.leopard]
    return Metrics(
        threshold=threshold,
        tp_verified=sum(s.score >= threshold for s in ver),
        n_verified=len(ver),
        tp_all=sum(s.score >= threshold for s in leo),
        n_all=len(leo),
        fp=sum(s.score >= threshold for s in neg),
        n_neg=len(neg),
    )


def choose_threshold(scored: list[Scored], grid: list[float] = GRID) -> float | None:
    """The rule: the largest grid threshold with recall 1.0 on the visually verified leopards."""
    ok = [t for t in grid if metrics(scored, t).recall_verified == 1.0]
    return max(ok) if ok else None


def false_alarms(scored: list[Scored], threshold: float) -> list[Scored]:
    return sorted((s for s in scored if not s.item.leopard and s.score >= threshold), key=lambda s: -s.score)


def _pct(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k}/{n} = {k / n:.1%} [{lo:.1%}, {hi:.1%}]" if n else "n/a"


def _name(s: Scored) -> str:
    return Path(s.item.file).name


def sweep_table(scored: list[Scored], rows: list[float], default: float, chosen: float | None) -> list[str]:
    lines = [
        "| threshold | recall, verified leopards | recall, all labelled leopards "
        "| false alarms (FP / negatives) |",
        "| ---: | --- | --- | --- |",
    ]
    for t in rows:
        m = metrics(scored, t)
        mark = [name for name, hit in (("shipped", t == default), ("rule", t == chosen)) if hit]
        tag = f" ({', '.join(mark)})" if mark else ""
        lines.append(
            f"| {t:.2f}{tag} | {_pct(m.tp_verified, m.n_verified)} | {_pct(m.tp_all, m.n_all)} "
            f"| {_pct(m.fp, m.n_neg)} |"
        )
    return lines


def by_class_table(scored: list[Scored], default: float) -> list[str]:
    groups: dict[str, list[Scored]] = {}
    for s in scored:
        if not s.item.leopard:
            groups.setdefault(s.item.species, []).append(s)
    shown = {k: v for k, v in groups.items() if max(s.score for s in v) >= default / 4}
    lines = [
        f"| class | negatives | highest score | false alarms at {default:.2f} |",
        "| --- | ---: | ---: | ---: |",
    ]
    for species, ss in sorted(shown.items(), key=lambda kv: -max(s.score for s in kv[1])):
        fp = sum(s.score >= default for s in ss)
        lines.append(f"| {species} | {len(ss)} | {max(s.score for s in ss):.3f} | {fp} |")
    rest = [s for k, v in groups.items() if k not in shown for s in v]
    if rest:
        top = max(s.score for s in rest)
        lines.append(f"| all other classes ({len(groups) - len(shown)}) | {len(rest)} | {top:.3f} | 0 |")
    return lines


def render(scored: list[Scored], shown: list[float], default: float) -> str:
    lines: list[str] = []
    chosen = choose_threshold(scored)
    verified = [s for s in scored if s.item.leopard and s.item.verified]
    lines += ["### Per-image scores", ""]
    lines += [
        "| file | truth | verified | leopard score | snow leopard | top label (p) | flagged at default |",
        "| --- | --- | --- | ---: | ---: | --- | --- |",
    ]
    for s in sorted(scored, key=lambda s: (not s.item.leopard, -s.score)):
        flagged = "**yes**" if s.score >= default else "no"
        lines.append(
            f"| {_name(s)} | {'leopard' if s.item.leopard else s.item.species} "
            f"| {'yes' if s.item.verified else 'no'} | {s.score:.4f} | {s.snow:.3f} "
            f"| {s.label} ({s.label_score:.2f}) | {flagged} |"
        )
    rows = sorted({*shown, default, *([chosen] if chosen is not None else [])})
    lines += ["", "### Threshold sweep (Wilson 95 % intervals in brackets)", ""]
    lines += sweep_table(scored, rows, default, chosen)
    lines += ["", f"### Negatives by class (classes with a score of {default / 4:.3f} or more)", ""]
    lines += by_class_table(scored, default)
    lines += ["", "### Decision", ""]
    if verified:
        weakest = min(verified, key=lambda s: s.score)
        lines.append(
            f"- Weakest verified leopard: {_name(weakest)} at {weakest.score:.4f} "
            "(verified recall stays 1.0 for any threshold up to this score)."
        )
    if chosen is None:
        lines.append("- Rule: no grid threshold keeps recall 1.0 on the verified leopards.")
    else:
        m = metrics(scored, chosen)
        lines.append(
            f"- Rule (largest 0.01-grid threshold with verified recall 1.0): **{chosen:.2f}**, "
            f"false alarms {_pct(m.fp, m.n_neg)}."
        )
    m = metrics(scored, default)
    lines.append(
        f"- Shipped DEFAULT_THRESHOLD = {default:.2f}: verified recall {_pct(m.tp_verified, m.n_verified)}, "
        f"all-label recall {_pct(m.tp_all, m.n_all)}, false alarms {_pct(m.fp, m.n_neg)}."
    )
    fas = false_alarms(scored, default)
    if fas:
        described = ", ".join(f"{s.item.species} ({_name(s)}, {s.score:.3f})" for s in fas)
        lines.append(f"- False alarms at {default:.2f}: {described}.")
    else:
        lines.append(f"- No false alarms at {default:.2f}.")
    missed = [s for s in scored if s.item.leopard and s.score < default]
    if missed:
        described = ", ".join(
            f"{_name(s)} ({'verified' if s.item.verified else 'unverified'}, {s.score:.4f})" for s in missed
        )
        lines.append(f"- Leopard labels missed at {default:.2f}: {described}.")
    near = sorted(
        (s for s in scored if not s.item.leopard and default / 2 <= s.score < default), key=lambda s: -s.score
    )
    if near:
        described = ", ".join(f"{s.item.species} ({_name(s)}, {s.score:.3f})" for s in near)
        lines.append(
            f"- Negatives within a factor 2 below {default:.2f} (would alarm if it were lowered): "
            f"{described}."
        )
    return "\n".join(lines)


def render_robustness(runs: dict[str, list[Scored]], shown: list[float], default: float) -> str:
    worst = worst_case(list(runs.values()))
    chosen = choose_threshold(worst)
    lines = [
        f"### Robustness: worst case over the original and {len(runs) - 1} perturbed copies",
        "",
        "Perturbations: " + ", ".join(k for k in runs if k != "original") + ". Each leopard counts with its",
        "lowest score over all copies, each negative with its highest (one entry per image, so the",
        "Wilson intervals still apply).",
        "",
    ]
    rows = sorted({*shown, default, *([chosen] if chosen is not None else [])})
    lines += sweep_table(worst, rows, default, chosen)
    verified = sorted((s for s in worst if s.item.leopard and s.item.verified), key=lambda s: s.score)
    lines += ["", "| verified leopard | " + " | ".join(runs) + " |", "| --- |" + " ---: |" * len(runs)]
    for w in verified:
        cells = []
        for run in runs.values():
            hit = next((s for s in run if s.item.file == w.item.file), None)
            cells.append(f"{hit.score:.3f}" if hit else "-")
        lines.append(f"| {_name(w)} | " + " | ".join(cells) + " |")
    lines.append("")
    risky = sorted(
        (s for s in worst if not s.item.leopard and s.score >= default / 2), key=lambda s: -s.score
    )
    if risky:
        described = ", ".join(f"{s.item.species} ({_name(s)}, {s.score:.3f})" for s in risky)
        lines.append(f"- Worst-case negatives at or above {default / 2:.3f}: {described}.")
    if chosen is not None:
        m = metrics(worst, chosen)
        lines.append(
            f"- Rule on the worst case: **{chosen:.2f}**, worst-case false alarms {_pct(m.fp, m.n_neg)}."
        )
    else:
        lines.append("- Rule on the worst case: no grid threshold keeps verified recall 1.0.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--eval", type=Path, default=DEFAULT_EVAL, help=f"labelled folder (default {DEFAULT_EVAL})"
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", choices=("fp32", "int8"), default="fp32", help="model to calibrate")
    ap.add_argument("--parity", action="store_true", help="also compare INT8 with fp32 (tools/parity.py)")
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
    detector = OnnxLeopardDetector(threads=args.threads, precision=args.precision)
    scored = score_all(detector, root, items)
    n_leo = sum(s.item.leopard for s in scored)
    n_ver = sum(s.item.leopard and s.item.verified for s in scored)
    print(
        f"## Calibration on {root}, {detector.precision} model ({n_leo} leopard labels, {n_ver} visually "
        f"verified; {len(scored) - n_leo} negatives)\n"
    )
    print(render(scored, shown, DEFAULT_THRESHOLD))
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


if __name__ == "__main__":
    sys.exit(main())
