"""`leopard-watch individuals rank GALLERY QUERY...` (issue 25, point 7): one JSON line per query image,
boxes and flanks from CSV files, the detector loaded only when a box is missing, features cached."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

import bot.cli.individuals as rank_cli
from bot.cli import main
from bot.detection import Box, Detection


def coat(seed: int) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", (480, 320), (205, 170, 110))
    draw = ImageDraw.Draw(image)
    for _ in range(140):
        x, y, rx, ry = rng.uniform(0, 480), rng.uniform(0, 320), rng.uniform(5, 16), rng.uniform(4, 12)
        draw.ellipse([x - rx, y - ry, x + rx, y + ry], outline=(40, 30, 20), width=rng.randint(2, 4))
    return image


def framed(seed: int, at: tuple[int, int]) -> Image.Image:
    """The coat inside a bigger, plain photo: the box is what makes it comparable."""
    photo = Image.new("RGB", (900, 600), (90, 110, 70))
    photo.paste(coat(seed).rotate(6, fillcolor=(205, 170, 110)), at)
    return photo


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    gallery = tmp_path / "gallery"
    for n in range(3):
        (gallery / f"PL-M{n}").mkdir(parents=True)
        coat(n).save(gallery / f"PL-M{n}" / "ref.jpg")
    queries = tmp_path / "queries"
    queries.mkdir()
    framed(1, (100, 50)).save(queries / "cam1.jpg")
    framed(7, (300, 200)).save(queries / "cam2.jpg")
    boxes = tmp_path / "boxes.csv"
    boxes.write_text("file,x0,y0,x1,y1\ncam1.jpg,100,50,580,370\ncam2.jpg,300,200,780,520\n")
    for n in range(3):
        with boxes.open("a") as f:
            f.write(f"PL-M{n}/ref.jpg,0,0,480,320\n")
    return {"gallery": gallery, "queries": queries, "boxes": boxes, "cache": tmp_path / "cache"}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["individuals", "rank", *argv, "--env-file", "/dev/null"])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def _no_detector(settings: object) -> object:
    raise AssertionError("the detector must not load when every box is given")


def test_one_line_per_query_with_every_individual_and_a_cautious_verdict(
    world: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rank_cli, "_load_detector", _no_detector)
    argv = [
        str(world["gallery"]),
        str(world["queries"]),
        "--boxes",
        str(world["boxes"]),
        "--cache",
        str(world["cache"]),
    ]
    code, lines, err = run(argv, capsys)
    assert code == 0
    assert [Path(line["query"]).name for line in lines] == ["cam1.jpg", "cam2.jpg"]
    first, second = lines
    assert set(first) == {"query", "candidates", "verdict", "individual"}
    assert [set(c) for c in first["candidates"]] == [
        {"individual", "score", "image"}
    ] * 3  # all, fewer than 10
    assert sorted(c["individual"] for c in first["candidates"]) == ["PL-M0", "PL-M1", "PL-M2"]
    assert first["candidates"][0]["individual"] == "PL-M1"
    assert first["candidates"][0]["image"].endswith("PL-M1/ref.jpg")
    assert (first["verdict"], first["individual"]) == ("likely_same", "PL-M1")
    assert (second["verdict"], second["individual"]) == ("cant_tell", None)  # an animal not in the gallery
    scores = [c["score"] for c in first["candidates"]]
    assert scores == sorted(scores, reverse=True)
    assert "features" in err or "queries" in err  # the progress bar is on stderr
    # Cached by file hash: a second run reads the features back and says the same.
    cached = sorted(p.name for p in world["cache"].iterdir())
    assert len(cached) == 5
    again_code, again, _ = run(argv, capsys)
    assert again_code == 0 and again == lines
    assert sorted(p.name for p in world["cache"].iterdir()) == cached


def test_without_a_box_the_detectors_animal_is_used_and_flanks_are_read(
    world: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[object] = []

    class Detector:
        def detect(self, data: bytes) -> Detection:
            return Detection(False, 0.0, "x", 0.0, animals=(Box(100, 50, 580, 370, 0.9),))

    def load(settings: object) -> Detector:
        loads.append(settings)
        return Detector()

    monkeypatch.setattr(rank_cli, "_load_detector", load)
    boxes = world["boxes"].parent / "gallery-boxes.csv"
    boxes.write_text("".join(f"PL-M{n}/ref.jpg,0,0,480,320\n" for n in range(3)))
    flanks = world["boxes"].parent / "flanks.csv"
    flanks.write_text("file,flank\nPL-M1/ref.jpg,right\ncam1.jpg,left\n")
    query = world["queries"] / "cam1.jpg"
    argv = [str(world["gallery"]), str(query), "--boxes", str(boxes), "--flanks", str(flanks),
            "--cache", str(world["cache"])]  # fmt: skip
    code, lines, _ = run(argv, capsys)
    assert code == 0 and len(loads) == 1
    # PL-M1's only photo shows the right flank: never compared with a left flank.
    assert sorted(c["individual"] for c in lines[0]["candidates"]) == ["PL-M0", "PL-M2"]
    assert lines[0]["verdict"] == "cant_tell"


def test_bad_files_are_refused_in_words(
    world: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    flanks = tmp_path / "bad.csv"
    flanks.write_text("cam1.jpg,sideways\n")
    code = main(["individuals", "rank", str(world["gallery"]), str(world["queries"]), "--flanks", str(flanks),
                 "--env-file", "/dev/null"])  # fmt: skip
    assert code == 2
    assert "sideways" in capsys.readouterr().err
    assert (
        main(
            ["individuals", "rank", str(tmp_path / "none"), str(world["queries"]), "--env-file", "/dev/null"]
        )
        == 2
    )
