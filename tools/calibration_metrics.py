"""Threshold maths for tools/calibrate.py: recall / false-alarm counts, Wilson intervals, the decision rule.

Decision rule (documented in docs/MODEL.md): on a grid of 0.01 steps, take the LARGEST threshold at
which recall on the visually verified leopards is 1.0 (`choose_threshold`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tools.calibration_scoring import Scored

GRID = [round(0.01 * i, 2) for i in range(1, 100)]


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
