"""What an untrusted reader is sent of a camera's own pixels: the photo with the camera's burned-in strip
blanked, and no clip (its frames carry the same strip). Trusted readers get the photo as it was taken."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tests.conftest import GROUP, SAMPLES, Team
from tests.support.clips import leopard_clip

TRUSTED = -100_777
STRIP = 0.06  # of the height, as a Reconyx writes its model and a Bushnell its name and GPS


def with_strip() -> bytes:
    """The sample leopard with a camera's strip at the bottom: white text on black."""
    image = Image.open(SAMPLES / "leo_005_serengeti_night.jpg").convert("RGB")
    h = round(image.height * STRIP)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, image.height - h, image.width, image.height), fill=(0, 0, 0))
    font = ImageFont.load_default(size=round(h * 0.7))
    draw.text((8, image.height - h + 2), "CAM-17 UST-04 N43.2100 E51.8700", fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92)
    return out.getvalue()


def bottom_band(team: Team, message: dict[str, Any]) -> np.ndarray:
    sizes = message["photo"]
    data = team.emu.file_bytes(max(sizes, key=lambda p: p["width"])["file_id"])
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.int16)
    return pixels[-max(2, round(pixels.shape[0] * STRIP * 0.8)) :]


async def test_the_camera_strip_is_blanked_for_untrusted_groups_only(team: Team) -> None:
    trusted = team.emu.group(TRUSTED, "Trusted coordinators")
    await team.say(team.admin, "/register en", trusted)
    await team.say(team.admin, "/trusted on", trusted)
    await team.photo(team.ranger, with_strip())
    await team.emu.wait_for(lambda: len(team.alerts()) == 1 and len(team.alerts(TRUSTED)) == 1, timeout=30)
    untrusted_band = bottom_band(team, team.alerts(GROUP)[0])
    trusted_band = bottom_band(team, team.alerts(TRUSTED)[0])
    # The untrusted copy's strip is one flat colour (JPEG noise aside): the text is gone.
    assert untrusted_band.max() - untrusted_band.min() < 40
    # The trusted copy keeps the camera's writing: white text on the black strip.
    assert trusted_band.max() > 200 and trusted_band.min() < 40
    # /sighting in the untrusted group sends the same blanked photo.
    shown = await team.say(team.admin, "/sighting 1", team.group)
    band = bottom_band(team, shown)
    assert band.max() - band.min() < 40


async def test_a_clip_goes_only_to_readers_who_may_see_the_place(team: Team) -> None:
    await team.emu.send_video(team.ranger, leopard_clip(), caption=None)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=60)
    before = len(team.emu.sent(GROUP))
    await team.emu.send_text(team.admin, "/sighting 1", team.group)
    sent = (await team.emu.wait_sent(GROUP, before + 2, timeout=30))[before:]
    assert [m["method"] for m in sent] == ["sendPhoto", "sendMessage"]
    assert "only to trusted groups" in sent[1]["text"]
    # Trusted, the same command sends the clip itself after the frame.
    await team.say(team.admin, "/trusted on", team.group)
    before = len(team.emu.sent(GROUP))
    await team.emu.send_text(team.admin, "/sighting 1", team.group)
    sent = (await team.emu.wait_sent(GROUP, before + 2, timeout=30))[before:]
    assert sent[0]["method"] == "sendPhoto" and sent[1]["method"] in ("sendVideo", "sendDocument")
