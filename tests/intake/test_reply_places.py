"""A place sent as a reply names its sighting (how Telegram users say which message they mean): a pin,
venue, station code or typed point replying to a photo or its receipt places that sighting only, and a
wrong place is corrected the same way, audited, with its alerts refreshed. Real PTB client, emulator."""

from __future__ import annotations

from typing import Any

from tests.conftest import Team
from tests.support.photo_variants import jackal_variants


async def photo_and_receipt(team: Team, data: bytes, caption: str | None = None) -> tuple[dict, dict]:
    before = len(team.emu.sent(team.ranger.id))
    sent = await team.emu.send_photo(team.ranger, data, caption)
    receipt = (await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30))[-1]
    return sent, receipt


async def reply_location(team: Team, to: dict[str, Any], lat: float, lon: float) -> dict[str, Any]:
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_location(team.ranger, lat, lon, reply_to_message_id=to["message_id"])
    return (await team.emu.wait_sent(team.ranger.id, before + 1))[-1]


async def reply_text(team: Team, to: dict[str, Any], text: str) -> dict[str, Any]:
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_text(team.ranger, text, reply_to_message_id=to["message_id"])
    return (await team.emu.wait_sent(team.ranger.id, before + 1))[-1]


async def place_of(team: Team, sid: int) -> tuple[Any, ...]:
    row = await team.services.db.fetchone(
        "SELECT lat, lon, location_source, station_code FROM sightings WHERE id = ?", (sid,)
    )
    assert row is not None
    return (row["lat"], row["lon"], row["location_source"], row["station_code"])


async def test_a_pin_replying_to_a_photo_places_that_sighting_only(team: Team) -> None:
    first, second = jackal_variants(2)
    await photo_and_receipt(team, first)
    photo2, _ = await photo_and_receipt(team, second)
    reply = await reply_location(team, photo2, 43.5, 51.5)
    assert "#2" in reply["text"] and "#1" not in reply["text"], reply["text"]
    assert await place_of(team, 2) == (43.5, 51.5, "pin", None)
    assert await place_of(team, 1) == (None, None, None, None)
    # Said of one photo, the place is not where the ranger is for the photos still to come.
    assert await team.services.db.scalar("SELECT COUNT(*) FROM ranger_locations") == 0


async def test_a_station_code_replying_to_a_receipt_places_its_sighting(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    first, second = jackal_variants(2)
    _, receipt1 = await photo_and_receipt(team, first)
    await photo_and_receipt(team, second)
    reply = await reply_text(team, receipt1, "UST-04")
    assert "#1" in reply["text"] and "#2" not in reply["text"], reply["text"]
    assert await place_of(team, 1) == (43.21, 51.87, "station", "UST-04")
    assert await place_of(team, 2) == (None, None, None, None)


async def test_a_wrong_station_is_corrected_by_a_reply_audited_and_the_alert_refreshed(
    team: Team, leopard_jpeg: bytes
) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    await team.say(team.admin, "/station add KZS-01 43.30 53.10 Canyon area=KZS")
    photo, _ = await photo_and_receipt(team, leopard_jpeg, "UST-04")
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    reply = await reply_text(team, photo, "KZS-01")
    assert "#1" in reply["text"] and "UST-04" in reply["text"] and "KZS-01" in reply["text"], reply["text"]
    assert await place_of(team, 1) == (43.30, 53.10, "station", "KZS-01")
    audit = await team.services.db.fetchone("SELECT * FROM place_changes WHERE sighting_id = 1")
    assert audit is not None
    changed = (audit["old_station"], audit["new_station"], audit["user_id"])
    assert changed == ("UST-04", "KZS-01", team.ranger.id)
    # The alert in the group is edited to the new place (the group is untrusted: the station's area).
    await team.emu.wait_for(lambda: "Area KZS" in (team.alerts()[0].get("caption") or ""), timeout=20)


async def test_a_venue_or_typed_point_replying_to_a_photo_places_it_only(team: Team) -> None:
    first, second, third = jackal_variants(3)
    photo1, _ = await photo_and_receipt(team, first)
    photo2, _ = await photo_and_receipt(team, second)
    await photo_and_receipt(team, third)
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_venue(
        team.ranger, 43.6, 51.2, "Spring", "Ustyurt", reply_to_message_id=photo1["message_id"]
    )
    await team.emu.wait_sent(team.ranger.id, before + 1)
    reply = await reply_text(team, photo2, "43.7, 51.3")
    assert "#2" in reply["text"], reply["text"]
    assert await place_of(team, 1) == (43.6, 51.2, "venue", None)
    assert await place_of(team, 2) == (43.7, 51.3, "text", None)
    assert await place_of(team, 3) == (None, None, None, None)


async def test_a_reply_to_an_albums_receipt_places_the_whole_album(team: Team) -> None:
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_album(team.ranger, jackal_variants(3))
    receipt = (await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30))[-1]
    await photo_and_receipt(team, jackal_variants(4)[3])  # sent after the album: not named
    reply = await reply_location(team, receipt, 43.5, 51.5)
    assert all(f"#{i}" in reply["text"] for i in (1, 2, 3)) and "#4" not in reply["text"], reply["text"]
    assert [await place_of(team, i) for i in (1, 2, 3, 4)] == [(43.5, 51.5, "pin", None)] * 3 + [
        (None, None, None, None)
    ]


async def test_a_reply_to_a_message_that_is_no_sighting_is_an_ordinary_place(team: Team) -> None:
    first, second = jackal_variants(2)
    await photo_and_receipt(team, first)
    await photo_and_receipt(team, second)
    help_answer = await team.say(team.ranger, "/help")
    reply = await reply_location(team, help_answer, 43.5, 51.5)
    assert "#1, #2" in reply["text"], reply["text"]
