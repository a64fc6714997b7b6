"""`leopard-watch detect PATH...`: one JSON line per image, errors as lines too, exit code 0."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.support.paths import SAMPLES

LEOPARD = SAMPLES / "leo_005_serengeti_night.jpg"
JACKAL = SAMPLES / "neg_060_serengeti_jackal_1.jpg"
RESULT_KEYS = {
    "path", "leopard", "score", "label", "label_score", "snow_leopard_score", "boxes", "ms", "precision"
}


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The command reads ./.env and LW_* variables; keep the developer's settings out of the test."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("LW_"):
            monkeypatch.delenv(key)


def _run(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, list[dict]]:
    code = main(["detect", *map(str, paths)])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.strip()]


def test_detect_folder_prints_one_json_line_per_image(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(LEOPARD, folder / "a_leopard.jpg")
    shutil.copy(JACKAL, folder / "b_jackal.jpg")
    (folder / "c_corrupt.jpg").write_bytes(LEOPARD.read_bytes()[:500])
    code, records = _run(capsys, folder)
    assert code == 0
    assert [Path(r["path"]).name for r in records] == ["a_leopard.jpg", "b_jackal.jpg", "c_corrupt.jpg"]
    leopard, jackal, corrupt = records

    assert set(leopard) == RESULT_KEYS
    assert leopard["leopard"] is True and leopard["label"] == "leopard"
    assert 0.0 < leopard["score"] <= 1.0 and leopard["label_score"] == leopard["score"]
    assert len(leopard["boxes"]) == 1
    x0, y0, x1, y1, box_score = leopard["boxes"][0]
    assert 0 <= x0 < x1 <= 766 and 0 <= y0 < y1 <= 400 and box_score == leopard["score"]
    assert leopard["ms"] > 0

    assert set(jackal) == RESULT_KEYS
    assert jackal["leopard"] is False and jackal["label"] != "leopard" and jackal["boxes"] == []

    assert set(corrupt) == {"path", "error"}
    assert corrupt["path"] == str(folder / "c_corrupt.jpg") and corrupt["error"]


def test_detect_walks_folders_recursively(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = tmp_path / "traps"
    deep = root / "UST-04" / "2024-05"
    deep.mkdir(parents=True)
    shutil.copy(LEOPARD, deep / "IMG_0001.JPG")  # upper-case suffix, as cameras write it
    shutil.copy(JACKAL, root / "IMG_0002.jpg")
    (deep / "notes.txt").write_text("not an image")
    code, records = _run(capsys, root)
    assert code == 0
    by_name = {Path(r["path"]).name: r for r in records}
    assert set(by_name) == {"IMG_0001.JPG", "IMG_0002.jpg"}
    assert by_name["IMG_0001.JPG"]["leopard"] is True
    assert by_name["IMG_0001.JPG"]["path"] == str(deep / "IMG_0001.JPG")
    assert by_name["IMG_0002.jpg"]["leopard"] is False
    assert all(set(r) == RESULT_KEYS for r in records)
