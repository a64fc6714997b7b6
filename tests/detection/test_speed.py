"""`auto` precision by measurement (bot/detection/speed.py), not by the VNNI flag alone."""

from __future__ import annotations

import errno
import warnings
from pathlib import Path

import pytest

from bot.detection import speed


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(speed, "_memo", {})


def _models(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    a.write_bytes(b"fp32")
    b.write_bytes(b"int8")
    return a, b


def test_faster_int8_is_chosen_without_vnni(monkeypatch: pytest.MonkeyPatch) -> None:
    # The AMD EPYC of issue 24: AVX2, no VNNI, INT8 at 0.56x fp32's time.
    monkeypatch.setattr(speed, "fast_int8_feature", lambda: None)
    assert speed.decide(0.100, 0.056).precision == "int8"


def test_slower_or_equal_int8_keeps_fp32_even_with_vnni(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speed, "fast_int8_feature", lambda: "avx512_vnni")
    choice = speed.decide(0.100, 0.098)  # within noise: fp32, the reference
    assert choice.precision == "fp32" and "avx512_vnni" in choice.reason


def test_timed_once_then_cached_in_memory_and_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fp32, int8 = _models(tmp_path)
    calls: list[int] = []

    def timer() -> tuple[float, float]:
        calls.append(1)
        return 0.1, 0.05

    first = speed.auto_choice(fp32, int8, 2, timer)
    assert first.precision == "int8" and calls == [1]
    assert speed.auto_choice(fp32, int8, 2, timer) == first and calls == [1]
    monkeypatch.setattr(speed, "_memo", {})  # a new process: the file answers
    again = speed.auto_choice(fp32, int8, 2, timer)
    assert again.precision == "int8" and "timed earlier" in again.reason and calls == [1]
    int8.write_bytes(b"another model")  # a changed model file is timed again
    speed.auto_choice(fp32, int8, 2, timer)
    assert calls == [1, 1]


def test_unwritable_cache_still_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder would go")
    fp32, int8 = _models(tmp_path)
    assert speed.auto_choice(fp32, int8, 2, lambda: (0.1, 0.2)).precision == "fp32"


def _read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A home mounted read-only (systemd ProtectSystem=strict): every write fails with EROFS. Patched,
    because the tests may run as root, for whom a chmod-ed folder is still writable."""

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    monkeypatch.setattr(Path, "write_text", refuse)


def test_read_only_home_is_silent_and_keeps_the_answer_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fp32, int8 = _models(tmp_path)
    calls: list[int] = []

    def timer() -> tuple[float, float]:
        calls.append(1)
        return 0.1, 0.05

    _read_only(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = speed.auto_choice(fp32, int8, 2, timer)
        again = speed.auto_choice(fp32, int8, 2, timer)
    assert first.precision == "int8" and again == first and calls == [1]
    assert capsys.readouterr() == ("", "")
    assert not (tmp_path / "cache").exists()


def test_failed_rename_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fp32, int8 = _models(tmp_path)

    def refuse(self: Path, target: object) -> Path:
        raise OSError(errno.EROFS, "Read-only file system", str(target))

    monkeypatch.setattr(Path, "replace", refuse)
    assert speed.auto_choice(fp32, int8, 2, lambda: (0.1, 0.2)).precision == "fp32"
    folder = tmp_path / "cache" / "leopard-watch"
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_no_home_at_all_still_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fp32, int8 = _models(tmp_path)
    monkeypatch.delenv("XDG_CACHE_HOME")

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert speed.cache_file() is None
    assert speed.auto_choice(fp32, int8, 2, lambda: (0.1, 0.05)).precision == "int8"
