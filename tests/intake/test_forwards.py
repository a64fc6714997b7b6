"""Forwarded photos (issue 22, point 5): the origin is recorded and shown (its name only to readers the
audience gate lets read free text), the forwarder's location is never paired with it, a forward from a
registered ranger is that ranger's sighting, and one from outside is a "reported" sighting kept out of
movement lines until a coordinator confirms it. Real PTB client against the emulator."""

from __future__ import annotations

import time
from typing import Any

from emulator.forwards import hidden_user
from tests.conftest import Team, leopard_variants
from tests.support.photo_variants import jackal_variants

MONTH = 30 * 24 * 3600


async def forwarded(team: Team, data: bytes, source: Any, posted: int, caption: str | None = None) -> dict:
    """The ranger forwards a photo; returns the bot's receipt."""
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.forward_photo(team.ranger, data, source, posted, caption)
    return (await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30))[-1]


async def row(team: Team, sid: int) -> Any:
    found = await team.services.db.fetchone("SELECT * FROM sightings WHERE id = ?", (sid,))
    assert found is not None
    return found


async def test_a_channel_forward_is_reported_unplaced_and_dated_by_its_origin(
    team: Team, leopard_jpeg: bytes
) -> None:
    channel = team.emu.channel(title="Wild Mangystau news")
    posted = int(time.time()) - MONTH
    await team.location(team.ranger, 43.5, 51.5)  # a fresh pin: it must not become the forward's place
    receipt = await forwarded(team, leopard_jpeg, channel, posted)
    s = await row(team, 1)
    origin = (s["forward_kind"], s["forward_name"], s["forward_from_id"])
    assert origin == ("channel", "Wild Mangystau news", channel["id"])
    assert s["reported"] == 1 and s["ranger_id"] == team.ranger.id and s["forwarded_by"] is None
    assert s["lat"] is None and s["location_source"] is None
    assert s["time_source"] == "forward_date"
    assert s["taken_at"] == s["forward_date"] and s["taken_at"] < s["received_at"]
    # The ranger (not an exact reader) is told the kind and the date, not the channel's title.
    text = receipt["text"]
    assert "Forwarded from a channel" in text and "Wild Mangystau" not in text, text
    assert "outside the team" in text and "not placed by your location" in text, text
    # The untrusted group's alert says the same: reported, from a channel, no title.
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    caption = team.alerts()[0]["caption"]
    assert "Forwarded from a channel" in caption and "Reported from outside" in caption, caption
    assert "Wild Mangystau" not in caption, caption


async def test_a_trusted_group_reads_the_origin_title(team: Team, leopard_jpeg: bytes) -> None:
    await team.say(team.admin, "/trusted on", team.group)
    channel = team.emu.channel(title="Wild Mangystau news")
    await forwarded(team, leopard_jpeg, channel, int(time.time()) - MONTH)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    caption = team.alerts()[0]["caption"]
    assert "Forwarded from channel “Wild Mangystau news”" in caption, caption


async def test_every_outside_origin_is_reported(team: Team) -> None:
    stranger = team.emu.user(777_001, "Stranger")  # never invited: not a registered ranger
    sources = [hidden_user("Anon Hunter"), team.emu.group(title="Village chat"), stranger]
    posted = int(time.time()) - 3600
    for data, source in zip(jackal_variants(3), sources, strict=True):
        await forwarded(team, data, source, posted)
    rows = await team.services.db.fetchall(
        "SELECT forward_kind, forward_name, reported, ranger_id FROM sightings ORDER BY id"
    )
    assert [(r["forward_kind"], r["forward_name"], r["reported"]) for r in rows] == [
        ("hidden_user", "Anon Hunter", 1),
        ("chat", "Village chat", 1),
        ("user", "Stranger", 1),
    ]
    assert {r["ranger_id"] for r in rows} == {team.ranger.id}


async def test_a_forward_from_a_registered_ranger_is_their_sighting(team: Team, leopard_jpeg: bytes) -> None:
    """A coordinator forwarding a ranger's photo does not become its observer."""
    before = len(team.emu.sent(team.admin.id))
    await team.emu.forward_photo(team.admin, leopard_jpeg, team.ranger, int(time.time()) - 600)
    receipt = (await team.emu.wait_sent(team.admin.id, before + 1, timeout=30))[-1]
    s = await row(team, 1)
    assert (s["ranger_id"], s["forwarded_by"], s["reported"]) == (team.ranger.id, team.admin.id, 0)
    assert "team member" in receipt["text"], receipt["text"]
    # The admin reads free text: the origin's name is in the receipt.
    assert "Forwarded from user “Serik”" in receipt["text"], receipt["text"]
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    caption = team.alerts()[0]["caption"]
    assert "Serik" in caption and "Forwarded by Aigerim" in caption and "Reported" not in caption, caption


async def test_a_later_pin_never_places_a_forward(team: Team) -> None:
    await forwarded(team, jackal_variants(1)[0], hidden_user("Anon"), int(time.time()) - 60)
    await team.location(team.ranger, 43.5, 51.5)
    assert (await row(team, 1))["lat"] is None


async def test_a_reported_forward_joins_movement_lines_only_once_confirmed(team: Team) -> None:
    await team.say(team.admin, "/trusted on", team.group)  # exact moves
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    await team.say(team.admin, "/station add KZS-01 43.30 53.10 Canyon area=KZS")
    first, second = leopard_variants(2)
    # Explicit place from the forward's caption: allowed, and the place source says so.
    await forwarded(team, first, hidden_user("Anon"), int(time.time()) - 2 * 24 * 3600, "UST-04")
    assert (await row(team, 1))["location_source"] == "station"
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    await team.photo(team.ranger, second, "KZS-01")
    await team.emu.wait_for(lambda: len(team.alerts()) == 2, timeout=30)
    own = team.alerts()[1]["caption"]
    assert "#1" not in own, own  # neither a confirmed move nor the "not yet reviewed" hint
    # The coordinators accept the report: the later alert now shows the move from it.
    await team.emu.press_button(team.admin, team.alerts()[0], "rv:1:confirmed")
    await team.emu.wait_for(lambda: "#1" in (team.alerts()[1].get("caption") or ""), timeout=20)
    assert "accepted by the coordinators" in team.alerts()[0]["caption"]


async def test_a_forwarded_document_keeps_its_origin(team: Team, leopard_jpeg: bytes) -> None:
    channel = team.emu.channel(title="Rangers' board")
    posted = int(time.time()) - 7200
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.forward_document(team.ranger, leopard_jpeg, "leo.jpg", "image/jpeg", channel, posted)
    await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30)
    s = await row(team, 1)
    assert s["forward_kind"] == "channel" and s["reported"] == 1
