"""Telegram as it really behaves, through the emulator: UTF-16 limits, live locations, edited captions."""

from __future__ import annotations

import re
import time

from emulator.textfmt import utf16_len
from tests.conftest import GROUP, Team, eventually

LEOPARD = "🐆"  # outside the BMP: one Python character, two UTF-16 units


async def _refresh_status(team: Team) -> str | None:
    status = await team.services.db.scalar(
        "SELECT status FROM outbox WHERE chat_id = ? AND kind = 'refresh' ORDER BY id DESC LIMIT 1", (GROUP,)
    )
    return status if status in ("sent", "failed") else None


async def test_emoji_heavy_alert_still_takes_the_verdict(team: Team, leopard_jpeg: bytes) -> None:
    # Everything people typed is emoji: the ranger's caption and name, the station's name, the
    # coordinator's name. Counted in Python characters of the HTML source all of this "fits".
    await team.say(team.admin, "/trusted on", team.group)  # untrusted groups get no station line
    await team.say(team.admin, f"/station add UST-04 43.21 51.87 {LEOPARD * 90} area=UST")
    ranger = team.emu.user(700_002, LEOPARD * 64, last_name=LEOPARD * 64)
    await team.invite(ranger)
    await team.photo(ranger, leopard_jpeg, caption=f"UST-04 {LEOPARD * 600}")
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    first = team.alerts()[0]["caption"]
    assert "sighting #1" in first and "Station UST-04" in first
    coordinator = team.emu.user(555, "Dana" + LEOPARD * 60, last_name=LEOPARD * 64)
    await team.invite(coordinator, "coordinator")  # only coordinators decide (test_who_decides.py)
    await team.emu.press_button(coordinator, team.alerts()[0], "rv:1:confirmed", check=True)
    assert await eventually(lambda: _refresh_status(team), timeout=20) == "sent"
    caption = team.alerts()[0]["caption"]  # the parsed text, as Telegram stores it
    assert "✅ Confirmed leopard: Dana" in caption
    assert "sighting #1" in caption and utf16_len(caption) <= 1024


async def _place_of(team: Team, sid: int) -> tuple[float | None, float | None, str | None]:
    row = await team.services.db.fetchone(
        "SELECT lat, lon, location_source FROM sightings WHERE id = ?", (sid,)
    )
    assert row is not None, f"no sighting #{sid}"
    return row["lat"], row["lon"], row["location_source"]


async def test_live_location_keeps_its_latest_point(
    team: Team, jackal_jpeg: bytes, leopard_jpeg: bytes
) -> None:
    now = int(time.time())
    # A photo waiting for a place when the live location starts takes its first point, and keeps it.
    await team.emu.send_photo(team.ranger, jackal_jpeg, date=now - 16 * 60)
    await team.emu.wait_sent(team.ranger.id, 2, timeout=30)
    before = len(team.emu.sent(team.ranger.id))
    live = await team.emu.send_location(team.ranger, 43.60, 51.20, live_period=3600, date=now - 15 * 60)
    await team.emu.wait_sent(team.ranger.id, before + 1)
    assert "#1" in team.emu.sent(team.ranger.id)[-1]["text"]
    # 15 minutes on (longer than the 10-minute pairing window) the ranger has walked ~5 km north.
    quiet = len(team.emu.sent(team.ranger.id))
    await team.emu.edit_live_location(team.ranger, live, 43.62, 51.21, date=now - 5 * 60)
    await team.emu.edit_live_location(team.ranger, live, 43.645, 51.20, date=now)
    await team.say(team.admin, "/help")  # the updates have been handled by the time this is answered
    assert len(team.emu.sent(team.ranger.id)) == quiet  # no reply per update
    receipt = await team.photo(team.ranger, leopard_jpeg)
    assert "43.64500, 51.20000" in receipt["text"]
    assert await _place_of(team, 2) == (43.645, 51.20, "live")
    assert await _place_of(team, 1) == (43.60, 51.20, "live")


async def test_live_location_updates_after_its_period_are_ignored(team: Team, jackal_jpeg: bytes) -> None:
    now = int(time.time())
    live = await team.emu.send_location(team.ranger, 43.60, 51.20, live_period=600, date=now - 5 * 60)
    await team.emu.wait_sent(team.ranger.id, 2)
    await team.emu.edit_live_location(team.ranger, live, 43.645, 51.20, date=now + 6 * 60)  # ended at +5
    await team.say(team.admin, "/help")
    here = await team.services.db.fetchone("SELECT lat, lon, source FROM ranger_locations")
    assert (here["lat"], here["lon"], here["source"]) == (43.60, 51.20, "live")
    # Shared "until I stop it" (live_period 0x7FFFFFFF) never ends by itself.
    forever = await team.emu.send_location(team.ranger, 43.70, 51.30, live_period=0x7FFFFFFF, date=now - 3600)
    await team.emu.wait_sent(team.ranger.id, 3)
    await team.emu.edit_live_location(team.ranger, forever, 43.75, 51.30, date=now)
    await team.photo(team.ranger, jackal_jpeg)
    assert await _place_of(team, 1) == (43.75, 51.30, "live")


async def _edit(team: Team, message: dict, caption: str | None) -> dict:
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.edit_caption(team.ranger, message, caption)
    return (await team.emu.wait_sent(team.ranger.id, before + 1))[-1]


async def test_edited_caption_adds_a_place_to_a_sighting_without_one(
    team: Team, leopard_jpeg: bytes, jackal_jpeg: bytes
) -> None:
    await team.say(team.admin, "/trusted on", team.group)  # untrusted groups get no station line
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    before = len(team.emu.sent(team.ranger.id))
    photo = await team.emu.send_photo(team.ranger, leopard_jpeg, caption="big male")
    await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    assert "waiting for the ranger's location" in team.alerts()[0]["caption"]
    reply = await _edit(team, photo, "big male UST-04")
    assert "Place added to sighting #1: UST-04" in reply["text"]
    row = await team.services.db.fetchone("SELECT * FROM sightings WHERE id = 1")
    assert (row["station_code"], row["location_source"], row["lat"]) == ("UST-04", "station", 43.21)
    assert row["caption"] == "big male UST-04"
    await team.emu.wait_for(lambda: "Station UST-04 Spring · UST" in team.alerts()[0]["caption"], 20)
    assert len(team.alerts()) == 1  # the alert was edited, not sent again
    # A place once given stays: a later edit naming another one changes nothing.
    reply = await _edit(team, photo, "43.5, 52.0")
    assert "already has a place" in reply["text"]
    row = await team.services.db.fetchone("SELECT lat, caption FROM sightings WHERE id = 1")
    assert (row["lat"], row["caption"]) == (43.21, "big male UST-04")
    # An edit that names no place says so; an unknown station code is named as unknown.
    before = len(team.emu.sent(team.ranger.id))
    other = await team.emu.send_photo(team.ranger, jackal_jpeg)
    await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30)
    assert "unchanged" in (await _edit(team, other, "a jackal at the spring"))["text"]
    assert "Unknown station UST-99" in (await _edit(team, other, "UST-99"))["text"]
    assert await team.services.db.scalar("SELECT lat FROM sightings WHERE id = 2") is None
    # A message that is not a sighting (a video) stays one that is not: no sighting, no reply.
    before = len(team.emu.sent(team.ranger.id))
    video = await team.emu.send_document(team.ranger, b"\x00" * 64, "clip.mp4", "video/mp4")
    await team.emu.wait_sent(team.ranger.id, before + 1)
    quiet = len(team.emu.sent(team.ranger.id))
    await team.emu.edit_caption(team.ranger, video, "UST-04")
    await team.say(team.admin, "/help")
    assert len(team.emu.sent(team.ranger.id)) == quiet
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == 2


async def test_a_long_list_comes_in_messages_telegram_accepts(team: Team) -> None:
    for i in range(16):  # names as long as Telegram allows, in emoji: ~4 600 units in all
        await team.invite(team.emu.user(710_000 + i, LEOPARD * 64, last_name=LEOPARD * 64))
    before = len(team.emu.sent(team.admin.id))
    await team.emu.send_text(team.admin, "/rangers")

    def listed() -> list[str]:
        return [m["text"] for m in team.emu.sent(team.admin.id)[before:]]

    await team.emu.wait_for(lambda: sum(len(re.findall(r"^71\d{4} ·", p, re.M)) for p in listed()) == 16)
    parts = listed()
    assert len(parts) == 2 and all(utf16_len(p) <= 4096 for p in parts)
    assert parts[0].startswith("People:") and not parts[1].startswith("People:")
