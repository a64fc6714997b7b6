"""Loading the settings or a package's face does not load the model runtime or the video decoder.

bot/config.py once imported the detector for one constant, so every settings load (the CLI's export,
backup, doctor before its model check) paid for onnxruntime, numpy and the weights' directory scan.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("onnxruntime", "av")


@pytest.mark.parametrize(
    "module",
    ["bot.config", "bot.detection", "bot.detection.types", "bot.media", "bot.people", "bot.places",
     "bot.geo", "bot.text"],
)
def test_importing_does_not_load_the_model_runtime_or_video(module: str) -> None:
    code = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "", f"importing {module} loaded {out.strip()}"
