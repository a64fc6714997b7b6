"""Which model precision runs: CPU feature detection, LW_DETECTOR_PRECISION, checksums, and who says so."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import bot.detection.model as detector_module
from bot.cli.main import main
from bot.config import ConfigError, Settings
from bot.detection import ModelError
from bot.detection.model import INT8_MODEL, MODEL_NAMES, OnnxLeopardDetector
from bot.detection.precision import choose, fast_int8_feature
from tests.support.paths import SAMPLES

XEON = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_vnni amx_tile\n"
ALDER_LAKE = "flags\t\t: fpu sse2 avx2 avx_vnni\n"
OLD_XEON = "flags\t\t: fpu sse2 avx2 avx512f avx512bw\n"
GRAVITON2 = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics asimddp\n"
RASPBERRY_PI_4 = "Features\t: fp asimd evtstrm crc32 cpuid\n"


@pytest.mark.parametrize(
    ("cpuinfo", "feature"),
    [(XEON, "avx512_vnni"), (ALDER_LAKE, "avx_vnni"), (GRAVITON2, "asimddp"), (OLD_XEON, None),
     (RASPBERRY_PI_4, None), ("", None)],
)  # fmt: skip
def test_fast_int8_feature_from_cpuinfo(cpuinfo: str, feature: str | None) -> None:
    assert fast_int8_feature(cpuinfo) == feature


def test_auto_picks_int8_only_with_fast_int8() -> None:
    assert choose("auto", XEON).precision == "int8" and "avx512_vnni" in choose("auto", XEON).reason
    assert choose("auto", OLD_XEON).precision == "fp32" and "no fast INT8" in choose("auto", OLD_XEON).reason
    # Forcing wins over the CPU either way.
    assert choose("fp32", XEON).precision == "fp32" and choose("int8", OLD_XEON).precision == "int8"
    with pytest.raises(ValueError, match="precision must be one of"):
        choose("fp16")


def test_setting_is_validated() -> None:
    assert Settings.load(None, {"LW_DETECTOR_PRECISION": "int8"}).detector_precision == "int8"
    assert Settings.load(None, {}).detector_precision == "auto"
    with pytest.raises(ConfigError, match="LW_DETECTOR_PRECISION"):
        Settings.load(None, {"LW_DETECTOR_PRECISION": "fast"})


def test_forced_precisions_load_their_model() -> None:
    fp32 = OnnxLeopardDetector(precision="fp32")
    int8 = OnnxLeopardDetector(precision="int8")
    assert fp32.model_path == detector_module.DEFAULT_MODEL and int8.model_path == INT8_MODEL
    data = (SAMPLES / "leo_005_serengeti_night.jpg").read_bytes()
    assert fp32.detect(data).model == MODEL_NAMES["fp32"] and int8.detect(data).model == MODEL_NAMES["int8"]
    # The INT8 file is a quarter of the fp32 one or so, not a copy of it.
    assert INT8_MODEL.stat().st_size < detector_module.DEFAULT_MODEL.stat().st_size / 2


def test_corrupt_int8_model_rejected_by_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "efficientnet_lite2_int8.onnx"
    broken.write_bytes(INT8_MODEL.read_bytes()[:-1] + b"\0")
    monkeypatch.setattr(detector_module, "INT8_MODEL", broken)
    with pytest.raises(ModelError, match=r"model file is corrupt \(sha256"):
        OnnxLeopardDetector(precision="int8")


@pytest.fixture
def no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("LW_"):
            monkeypatch.delenv(key)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
@pytest.mark.usefixtures("no_ambient_settings")
def test_detect_command_says_which_precision_runs(
    precision: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LW_DETECTOR_PRECISION", precision)
    shutil.copy(SAMPLES / "leo_005_serengeti_night.jpg", tmp_path / "a.jpg")
    assert main(["detect", str(tmp_path / "a.jpg")]) == 0
    out, err = capsys.readouterr()
    assert f"{precision} model (LW_DETECTOR_PRECISION={precision})" in err
    record = json.loads(out.splitlines()[0])
    assert record["precision"] == precision and record["leopard"] is True


@pytest.mark.parametrize("precision", ["fp32", "int8"])
async def test_doctor_says_which_precision_runs(tmp_path: Path, precision: str) -> None:
    from bot.cli.doctor import run_checks

    settings = Settings(
        database=tmp_path / "db.sqlite3", photo_dir=tmp_path / "photos", detector_precision=precision
    )
    model = next(c for c in await run_checks(settings) if c.name == "model")
    assert model.ok, model.detail
    assert model.detail.startswith(f"{precision.upper()} model (LW_DETECTOR_PRECISION={precision})")
