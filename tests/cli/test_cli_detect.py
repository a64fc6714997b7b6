"""`leopard-watch detect PATH...`: one JSON line per image, errors as lines too, a one-line summary on
stderr, and exit code 1 when nothing at all could be read (a script must not take that for "no leopard")."""

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
    "path",
    "leopard",
    "kind",
    "score",
    "raw_label",
    "raw_label_score",
    "snow_leopard_score",
    "boxes",
    "animals",
    "ms",
    "precision",
}


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The command reads ./.env and LW_* variables; keep the developer's settings out of the test."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("LW_"):
            monkeypatch.delenv(key)


def _run(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, list[dict]]:
    code, records, _ = _run_all(capsys, *paths)
    return code, records


def _run_all(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, list[dict], str]:
    code = main(["detect", *map(str, paths)])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


def test_detect_folder_prints_one_json_line_per_image(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(LEOPARD, folder / "a_leopard.jpg")
    shutil.copy(JACKAL, folder / "b_jackal.jpg")
    (folder / "c_corrupt.jpg").write_bytes(LEOPARD.read_bytes()[:500])
    code, records, err = _run_all(capsys, folder)
    assert code == 0
    assert err.splitlines()[-1] == "leopard-watch detect: 2 read, 1 leopard, 1 unreadable"
    assert [Path(r["path"]).name for r in records] == ["a_leopard.jpg", "b_jackal.jpg", "c_corrupt.jpg"]
    leopard, jackal, corrupt = records

    assert set(leopard) == RESULT_KEYS
    assert leopard["leopard"] is True and leopard["kind"] == "leopard" and leopard["raw_label"] == "leopard"
    assert 0.0 < leopard["score"] <= 1.0 and leopard["raw_label_score"] == leopard["score"]
    assert [a["kind"] for a in leopard["animals"]].count("leopard") == 1
    assert leopard["boxes"][0][:4] in [a["box"] for a in leopard["animals"]]
    assert len(leopard["boxes"]) == 1
    x0, y0, x1, y1, box_score = leopard["boxes"][0]
    assert 0 <= x0 < x1 <= 766 and 0 <= y0 < y1 <= 400 and box_score == leopard["score"]
    assert leopard["ms"] > 0

    assert set(jackal) == RESULT_KEYS
    assert jackal["leopard"] is False and jackal["kind"] == "animal" and jackal["boxes"] == []
    assert jackal["animals"] and all(a["kind"] == "animal" for a in jackal["animals"])

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


def test_nothing_readable_exits_1_and_says_why(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty_card"
    empty.mkdir()
    (empty / "notes.txt").write_text("no photos here")
    missing = tmp_path / "no_such_folder" / "IMG_0001.JPG"
    code, records, err = _run_all(capsys, empty, missing)
    assert code == 1
    assert records == [{"path": str(missing), "error": f"no such file: {missing}"}]
    lines = err.splitlines()
    assert f"leopard-watch detect: no images in {empty}" in lines[1]
    assert lines[-1] == "leopard-watch detect: 0 read, 0 leopards, 1 unreadable"
    assert "Traceback" not in err

    code, records, err = _run_all(capsys, empty)  # only an empty folder: said, and still a failure
    assert code == 1 and records == []
    assert err.splitlines()[-1] == "leopard-watch detect: 0 read, 0 leopards, 0 unreadable"


def test_one_readable_photo_among_missing_ones_is_a_success(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, records, err = _run_all(capsys, tmp_path / "gone.jpg", LEOPARD)
    assert code == 0 and [set(r) == RESULT_KEYS for r in records] == [False, True]
    assert err.splitlines()[-1] == "leopard-watch detect: 1 read, 1 leopard, 1 unreadable"
