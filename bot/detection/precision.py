"""Which model precision runs: INT8 where the CPU has fast 8-bit dot products, else fp32.

onnxruntime's INT8 convolutions only beat fp32 on CPUs with dot-product instructions (x86 VNNI, ARM
SDOT); elsewhere they emulate them and can be slower than fp32, so "auto" asks the CPU first. Read
from /proc/cpuinfo (Linux): the flags are the kernel's own word, and it needs no extra dependency
(py-cpuinfo would add a package for one line of parsing).
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from pathlib import Path

PRECISIONS = ("auto", "int8", "fp32")
# x86: AVX-512 VNNI (Cascade Lake and later Xeons, Ice Lake+, Zen 4+) and AVX-VNNI (Alder Lake+);
# ARM: the dot-product extension (Cortex-A55/A76 and later, Graviton 2+, Ampere, Apple M).
FAST_INT8_FLAGS = ("avx512_vnni", "avx_vnni", "asimddp")
CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True)
class Choice:
    precision: str  # "int8" or "fp32": what runs
    reason: str  # why, in words for `doctor` and `leopard-watch detect`


def fast_int8_feature(cpuinfo: str | None = None) -> str | None:
    """The CPU feature that makes INT8 fast (e.g. "avx512_vnni"), or None."""
    if cpuinfo is None:
        if sys.platform == "darwin" and platform.machine() == "arm64":
            return "asimddp"  # every Apple Silicon core has the dot-product extension
        try:
            cpuinfo = CPUINFO.read_text(encoding="ascii", errors="replace")
        except OSError:
            return None
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):  # x86 "flags", ARM "Features"
            flags.update(value.split())
    return next((f for f in FAST_INT8_FLAGS if f in flags), None)


def choose(setting: str = "auto", cpuinfo: str | None = None) -> Choice:
    """Resolve LW_DETECTOR_PRECISION: "int8" and "fp32" force, "auto" asks the CPU."""
    if setting not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {setting!r}")
    if setting != "auto":
        return Choice(setting, f"LW_DETECTOR_PRECISION={setting}")
    feature = fast_int8_feature(cpuinfo)
    if feature:
        return Choice("int8", f"auto: the CPU has {feature} (fast INT8)")
    return Choice("fp32", "auto: no fast INT8 on this CPU (no VNNI / dot-product instructions)")
