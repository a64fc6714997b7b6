"""`leopard-watch camera add|list|remove`: cellular cameras from the terminal, with /camera's arguments."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from bot.cli.main import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in os.environ if k.startswith("LW_")]:
        monkeypatch.delenv(key)
    path = tmp_path / ".env"
    path.write_text(f"LW_DATA_DIR={tmp_path / 'data'}\nLW_ADMIN_IDS=1\n")
    return path


def cli(env: Path, *argv: str) -> int:
    return main(["--env-file", str(env), *argv])


def test_add_list_remove_as_in_telegram(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(env, "camera", "list") == 1  # nothing to list, and nothing created to list it
    assert "no database" in capsys.readouterr().err and not (env.parent / "data").exists()
    assert cli(env, "camera", "add", "CAM-17", "UST-04", "match=cam17@mail.kz,file:ust04_") == 1
    err = capsys.readouterr().err
    assert "unknown station UST-04" in err and "leopard-watch station add UST-04" in err
    assert not (env.parent / "data").exists()
    assert cli(env, "station", "add", "UST-04", "43.21", "51.87") == 0
    capsys.readouterr()
    assert cli(env, "camera", "add", "cam-17", "уст-04", "match=cam17@mail.kz,file:ust04_") == 0
    assert "CAM-17 at UST-04: cam17@mail.kz, file:ust04_" in capsys.readouterr().out
    assert cli(env, "camera", "list") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["code"], r["station"], r["match"]) for r in rows] == [
        ("CAM-17", "UST-04", "cam17@mail.kz, file:ust04_")
    ]
    assert cli(env, "camera", "remove", "CAM-17") == 0
    assert "CAM-17 removed" in capsys.readouterr().out
    assert cli(env, "camera", "remove", "CAM-17") == 1
    assert "no camera CAM-17" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["add", "CAM 1!", "UST-04"], "bad camera code"),
        (["add", "CAM-1", "UST-04", "cam@mail.kz"], "match="),
        (["add", "CAM-1", "UST-04", "match=not an address@"], "bad"),
    ],
)
def test_malformed_arguments_are_usage_errors(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    assert cli(env, "station", "add", "UST-04", "43.21", "51.87") == 0
    capsys.readouterr()
    assert cli(env, "camera", *argv) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_a_sender_another_camera_has_is_refused(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(env, "station", "add", "UST-04", "43.21", "51.87") == 0
    assert cli(env, "camera", "add", "CAM-1", "UST-04", "match=a@mail.kz") == 0
    capsys.readouterr()
    assert cli(env, "camera", "add", "CAM-2", "UST-04", "match=a@mail.kz") == 1
    assert "already names camera CAM-1" in capsys.readouterr().err
