"""The camera's burned-in info strip is found wherever it is and whatever its height, and blanked;
the picture itself is left alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from bot.media.imprint import blank_imprint, strips

ROOT = Path(__file__).resolve().parents[2]
SCENE = ROOT / "bot" / "samples" / "leo_005_serengeti_night.jpg"  # no strip of its own
CAMERA_FILES = ROOT.parent / "shared" / "samples" / "camera-files"


RGB = tuple[int, int, int]


def with_strip(share: float, where: str, band: RGB, ink: RGB) -> Image.Image:
    scene = Image.open(SCENE).convert("RGB").resize((1600, 900))
    h = max(8, round(scene.height * share))
    draw = ImageDraw.Draw(scene)
    top = 0 if where == "top" else scene.height - h
    draw.rectangle((0, top, scene.width, top + h - 1), fill=band)
    font = ImageFont.load_default(size=max(8, round(h * 0.7)))
    text = "CAM-17 UST-04 N43.2100 E51.8700  2024-06-01 05:12  12C"
    draw.text((10, top + h * 0.1), text, fill=ink, font=font)
    return scene


@pytest.mark.parametrize("share", [0.03, 0.05, 0.08, 0.1])
@pytest.mark.parametrize("where", ["top", "bottom"])
@pytest.mark.parametrize(
    "band,ink", [((0, 0, 0), (255, 255, 255)), ((255, 255, 255), (0, 0, 0)), ((60, 60, 60), (250, 220, 0))]
)
def test_a_strip_of_any_height_colour_and_side_is_blanked(
    share: float, where: str, band: tuple[int, int, int], ink: tuple[int, int, int]
) -> None:
    image = with_strip(share, where, band, ink)
    h = max(8, round(image.height * share))
    rows = slice(0, h) if where == "top" else slice(image.height - h, image.height)
    before = np.asarray(image)
    after = np.asarray(blank_imprint(image))
    strip = after[rows].reshape(-1, 3).astype(int)
    # No text left: every pixel of the band is its background colour.
    assert np.abs(strip - np.array(band)).max() <= 3
    # The picture outside the band (a margin for the resampling of the detection copy) is untouched.
    margin = round(image.height * 0.02) + 2
    keep = slice(h + margin, image.height) if where == "top" else slice(0, image.height - h - margin)
    assert np.array_equal(before[keep], after[keep])


def test_real_camera_strips_are_found_top_and_bottom() -> None:
    image = Image.open(CAMERA_FILES / "reconyx_hc500_hyperfire.jpg")  # date/temperature on top, model below
    found = strips(image)
    assert len(found) == 2
    (t0, t1), (b0, b1) = found
    assert t0 == 0 and 0.01 < t1 / image.height < 0.04
    assert b1 == image.height and 0.01 < (b1 - b0) / image.height < 0.04
    image = Image.open(CAMERA_FILES / "truthcam35_PRMS0001.jpg")  # black strip with coloured logos
    assert [(b1 - b0) / image.height > 0.03 for _, b1 in [(0, 0)] for b0, b1 in strips(image)] == [True]


def test_a_sky_or_a_dark_night_is_not_taken_for_a_strip() -> None:
    scene = Image.open(SCENE).convert("RGB")  # a night photo: a black sky fading into the ground
    assert strips(scene) == []
    assert np.array_equal(np.asarray(blank_imprint(scene)), np.asarray(scene))
