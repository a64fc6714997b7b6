"""An album's caption (Telegram puts it on the first item only) places every item of the album, through
the real PTB client and the emulator: photos and clips, parts recorded before or after the captioned one."""

from __future__ import annotations

import functools

from tests.conftest import Team
from tests.support.clips import leopard_clip
from tests.support.photo_variants import jackal_variants


@functools.cache
def leopard_mp4() -> bytes:
    return leopard_clip("h264")


async def album_receipt(team: Team, before: int) -> str:
    replies = await team.emu.wait_sent(team.ranger.id, before + 1, timeout=60)
    return str(replies[-1]["text"])


async def places(team: Team) -> list[tuple[str | None, str | None]]:
    rows = await team.services.db.fetchall("SELECT station_code, location_source FROM sightings ORDER BY id")
    return [(r["station_code"], r["location_source"]) for r in rows]


async def test_the_first_items_caption_places_every_photo_of_the_album(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_album(team.ranger, jackal_variants(4), caption="UST-04")
    receipt = await album_receipt(team, before)
    assert await places(team) == [("UST-04", "station")] * 4
    assert "Please send a location" not in receipt, receipt
    assert receipt.count("Station UST-04") == 4, receipt


async def test_the_leopard_clip_of_a_captioned_album_is_alerted_with_its_place(team: Team) -> None:
    # Alerts are routed by area when they are queued: a clip queued with no place would go to every
    # group, the Kyzylsai one included.
    kzs = team.emu.group(-100_888, "Kyzylsai")
    await team.say(team.admin, "/register en", kzs)
    await team.say(team.admin, "/areas UST", team.group)
    await team.say(team.admin, "/areas KZS", kzs)
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    before = len(team.emu.sent(team.ranger.id))
    parts = [("photo", jackal_variants(1)[0]), ("video", leopard_mp4())]
    await team.emu.send_media_group(team.ranger, parts, caption="UST-04")
    receipt = await album_receipt(team, before)
    assert "Please send a location" not in receipt, receipt
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    # The alert went out with the place (the group is not trusted: the station's area, rounded), not
    # sent without one and edited later.
    caption = team.alerts()[0]["caption"]
    assert "Area UST" in caption and "43.21, 51.85" in caption, caption
    assert await places(team) == [("UST-04", "station")] * 2
    await team.say(team.admin, "/help")  # the outbox has had its turn
    assert team.alerts(kzs["id"]) == []


async def test_parts_recorded_before_the_captioned_one_are_placed_too(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    # The captioned first part downloads slowly: the others are recorded before its caption is read.
    team.emu.slow_next("getFile", 1.5)
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_album(team.ranger, jackal_variants(3), caption="UST-04")
    receipt = await album_receipt(team, before)
    assert await places(team) == [("UST-04", "station")] * 3
    assert "Please send a location" not in receipt, receipt
    assert receipt.count("Station UST-04") == 3, receipt


async def test_a_caption_naming_no_place_still_asks_once(team: Team) -> None:
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_album(team.ranger, jackal_variants(3), caption="near the spring")
    receipt = await album_receipt(team, before)
    assert receipt.count("Please send a location") == 1, receipt
    assert await places(team) == [(None, None)] * 3
