"""`auto` precision by measurement: time the fp32 and INT8 classifiers once on this machine, run the faster.

The VNNI flag alone was the wrong test (issue 24): on an AMD EPYC with AVX2 and no VNNI, INT8 ran at
0.56x fp32's latency, yet `auto` picked fp32. Which is faster depends on the CPU, onnxruntime's kernels
and the model, so it is measured: a few batches of each (about a second, once), the result kept in
memory and in a small JSON file keyed by both model files' digests and the CPU's name, so that later
starts, and every worker of an import pool, take the same answer without timing again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from bot.detection.precision import CPUINFO, Choice, fast_int8_feature

# INT8 must win by this share to be chosen: fp32 is the reference, a tie is noise.
MIN_GAIN = 0.05
RUNS = 3
_memo: dict[str, Choice] = {}


def cpu_name(cpuinfo: str | None = None) -> str:
    if cpuinfo is None:
        try:
            cpuinfo = CPUINFO.read_text(encoding="ascii", errors="replace")
        except OSError:
            cpuinfo = ""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("model name", "cpu model", "hardware"):
            return value.strip()
    return platform.processor() or platform.machine()


def cache_file() -> Path | None:
    """Where the timing is kept, or None when there is no home to keep it in (a service user without
    one: Path.home() raises RuntimeError)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            return None
    return Path(base) / "leopard-watch" / "precision.json"


def _key(fp32: Path, int8: Path, threads: int) -> str:
    digest = hashlib.sha256()
    for path in (fp32, int8):
        stat = path.stat()
        digest.update(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return f"{cpu_name()}|threads={threads}|{digest.hexdigest()[:16]}"


def _seconds(session: object, batch: np.ndarray) -> float:
    run = session.run  # type: ignore[attr-defined]
    run(None, {"image": batch})  # warm-up: first run allocates
    best = float("inf")
    for _ in range(RUNS):
        t0 = time.perf_counter()
        run(None, {"image": batch})
        best = min(best, time.perf_counter() - t0)
    return best


def measure(fp32_session: object, int8_session: object, side: int, batch: int = 4) -> tuple[float, float]:
    """Best-of-RUNS seconds per crop for each session, on the same random batch."""
    data = np.random.default_rng(0).uniform(-1, 1, (batch, 3, side, side)).astype(np.float32)
    return _seconds(fp32_session, data) / batch, _seconds(int8_session, data) / batch


def decide(fp32_s: float, int8_s: float) -> Choice:
    ratio = int8_s / fp32_s if fp32_s > 0 else 1.0
    if ratio <= 1 - MIN_GAIN:
        return Choice("int8", f"auto: INT8 measured faster here ({ratio:.2f}x fp32's time per crop)")
    feature = fast_int8_feature()
    note = f", CPU has {feature}" if feature else ""
    return Choice("fp32", f"auto: INT8 not faster here ({ratio:.2f}x fp32's time per crop{note})")


def auto_choice(fp32: Path, int8: Path, threads: int, timer: object) -> Choice:
    """The measured choice for these model files on this CPU; `timer()` returns (fp32 s, int8 s) and is
    called only when neither the memory nor the file cache knows the answer."""
    key = _key(fp32, int8, threads)
    if key in _memo:
        return _memo[key]
    path = cache_file()
    try:
        cached = json.loads(path.read_text(encoding="utf-8")).get(key) if path else None
    except (OSError, ValueError, AttributeError):
        cached = None
    if isinstance(cached, dict) and cached.get("precision") in ("fp32", "int8"):
        choice = Choice(str(cached["precision"]), str(cached["reason"]) + " (timed earlier)")
    else:
        fp32_s, int8_s = timer()  # type: ignore[operator]
        choice = decide(fp32_s, int8_s)
        _store(path, key, choice, fp32_s, int8_s)
    _memo[key] = choice
    return choice


def _store(path: Path | None, key: str, choice: Choice, fp32_s: float, int8_s: float) -> None:
    """Best effort and silent: a read-only home (systemd's ProtectSystem=strict / ProtectHome=read-only)
    only means the answer lives in memory and is timed again at the next start."""
    if path is None:
        return
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            table = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            table = {}
        table[key] = {
            "precision": choice.precision,
            "reason": choice.reason,
            "fp32_ms_per_crop": round(fp32_s * 1000, 2),
            "int8_ms_per_crop": round(int8_s * 1000, 2),
        }
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(table, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        if tmp is not None:  # a half-written temp file where the rename failed
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
