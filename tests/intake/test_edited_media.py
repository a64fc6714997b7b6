"""Edited media (issue 22, point 6): a sender swaps the photo of a message already sent (edited_message,
same message_id, a new file_unique_id). The new file is downloaded, detected and recorded as a sighting
replacing the old one; the old one is kept, marked replaced, and its alert edited to say so without
review buttons. A caption-only edit keeps today's behaviour. Real PTB client against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Team
from tests.support.photo_variants import jackal_variants


async def sent_with_receipt(team: Team, data: bytes, caption: str | None = None) -> dict[str, Any]:
    before = len(team.emu.sent(team.ranger.id))
    message = await team.emu.send_photo(team.ranger, data, caption)
    await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30)
    return message


async def swapped(team: Team, message: dict[str, Any], data: bytes, **kw: Any) -> dict[str, Any]:
    """The ranger swaps the photo; returns the bot's answer."""
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.swap_photo(team.ranger, message, data, **kw)
    return (await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30))[-1]


async def rows(team: Team) -> list[Any]:
    return list(
        await team.services.db.fetchall(
            "SELECT id, replaces_id, replaced_by, message_id, event_id, lat, location_source, station_code "
            "FROM sightings ORDER BY id"
        )
    )


async def test_a_leopard_swapped_in_is_detected_recorded_and_alerted(team: Team, leopard_jpeg: bytes) -> None:
    message = await sent_with_receipt(team, jackal_variants(1)[0])
    assert team.alerts() == []
    answer = await swapped(team, message, leopard_jpeg)
    assert "#2" in answer["text"] and "replaces sighting #1" in answer["text"], answer["text"]
    old, new = await rows(team)
    assert (old["replaced_by"], new["replaces_id"]) == (2, 1)
    assert old["message_id"] == new["message_id"] == message["message_id"]  # the same message, kept both
    assert new["event_id"] == 2
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)


async def test_an_alerted_photo_swapped_out_has_its_alert_corrected(team: Team, leopard_jpeg: bytes) -> None:
    message = await sent_with_receipt(team, leopard_jpeg)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    assert team.alerts()[0].get("reply_markup"), "the alert starts with its review buttons"
    await swapped(team, message, jackal_variants(1)[0])
    old, new = await rows(team)
    assert old["replaced_by"] == new["id"] == 2 and new["event_id"] is None
    await team.emu.wait_for(
        lambda: "Replaced by the sender with sighting #2" in (team.alerts()[0].get("caption") or ""),
        timeout=20,
    )
    assert not team.alerts()[0].get("reply_markup"), "review buttons dropped: nothing left to review"
    assert len(team.alerts()) == 1  # nothing new alerted for a jackal


async def test_a_caption_only_edit_records_nothing_new(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    message = await sent_with_receipt(team, jackal_variants(1)[0])
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.edit_caption(team.ranger, message, "UST-04")
    reply = (await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30))[-1]
    assert "#1" in reply["text"], reply["text"]
    [only] = await rows(team)
    assert (only["replaced_by"], only["station_code"]) == (None, "UST-04")


async def test_the_swapped_in_photo_keeps_the_place_given_for_the_message(team: Team) -> None:
    first, second = jackal_variants(2)
    message = await sent_with_receipt(team, first)
    await team.location(team.ranger, 43.5, 51.5)  # the pin placed the waiting photo
    await swapped(team, message, second)
    old, new = await rows(team)
    assert (old["lat"], new["lat"], new["location_source"]) == (43.5, 43.5, "pin")


async def test_a_caption_edit_after_a_swap_places_the_new_photo(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    first, second = jackal_variants(2)
    message = await sent_with_receipt(team, first)
    await swapped(team, message, second)
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.edit_caption(team.ranger, message, "UST-04")
    await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30)
    old, new = await rows(team)
    assert (old["station_code"], new["station_code"]) == (None, "UST-04")


async def test_the_emulator_refuses_to_swap_a_forward(team: Team, leopard_jpeg: bytes) -> None:
    message = await team.emu.forward_photo(team.ranger, leopard_jpeg, team.emu.channel(), 1_700_000_000)
    with pytest.raises(ValueError, match="forwarded"):
        await team.emu.swap_photo(team.ranger, message, jackal_variants(1)[0])


async def test_a_stale_review_button_of_a_swapped_out_photo_decides_nothing(
    team: Team, leopard_jpeg: bytes
) -> None:
    message = await sent_with_receipt(team, leopard_jpeg)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    alert = team.alerts()[0]  # as an app that has not yet shown the edit still has it, buttons included
    await swapped(team, message, jackal_variants(1)[0])
    await team.emu.wait_for(lambda: not team.alerts()[0].get("reply_markup"), timeout=20)
    query = await team.emu.press_button(team.admin, alert, "rv:1:confirmed", check=False)
    await team.emu.wait_for(lambda: team.emu.callback_answer(query["id"]) is not None)
    assert team.emu.callback_answer(query["id"])["text"] == "This button is no longer valid."
    assert await team.services.db.scalar("SELECT status FROM sightings WHERE id = 1") == "unreviewed"
