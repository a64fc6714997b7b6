"""The markdown tools/calibrate.py prints (ready to paste into docs/MODEL.md): per-image scores, threshold
sweeps, negatives by class, the decision, and the robustness run over perturbed copies."""

from __future__ import annotations

from pathlib import Path

from tools.calibration_metrics import choose_threshold, false_alarms, metrics, wilson
from tools.calibration_scoring import Scored, worst_case


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
