"""Swapped videos (issue 22, point 6): a sender replaces the media of a message already sent with a clip
(a video for a video, a video file for a video file, a video for a photo). As for photos
(tests/intake/test_edited_media.py), the new clip is downloaded, detected and recorded as a sighting
replacing the old one, which is kept and marked replaced; a caption-only edit of a clip stays a caption
edit. Real PTB client against the emulator."""

from __future__ import annotations

import functools
from typing import Any

from tests.conftest import Team
from tests.support.clips import jackal_clip, leopard_clip
from tests.support.photo_variants import jackal_variants


@functools.cache
def clip(kind: str) -> bytes:
    """Made once per run: encoding is the slow part."""
    return (leopard_clip if kind == "leopard" else jackal_clip)("h264")


async def answered(team: Team, send: Any) -> dict[str, Any]:
    """Run `send` (the ranger sends or swaps something) and return the bot's answer to it."""
    before = len(team.emu.sent(team.ranger.id))
    await send
    return (await team.emu.wait_sent(team.ranger.id, before + 1, timeout=60))[-1]


async def sent(team: Team, send: Any) -> dict[str, Any]:
    """Run `send` (the ranger sends a photo or clip), wait for its receipt, return the message sent."""
    before = len(team.emu.sent(team.ranger.id))
    message: dict[str, Any] = await send
    await team.emu.wait_sent(team.ranger.id, before + 1, timeout=60)
    return message


async def rows(team: Team) -> list[Any]:
    return list(
        await team.services.db.fetchall(
            "SELECT id, replaces_id, replaced_by, message_id, event_id, media, station_code, received_at "
            "FROM sightings ORDER BY id"
        )
    )


async def test_a_video_swapped_for_another_is_a_sighting_replacing_it(team: Team) -> None:
    message = await sent(team, team.emu.send_video(team.ranger, clip("jackal"), "video"))
    assert team.alerts() == []
    answer = await answered(team, team.emu.swap_video(team.ranger, message, clip("leopard")))
    assert "#2" in answer["text"] and "replaces sighting #1" in answer["text"], answer["text"]
    old, new = await rows(team)
    assert (old["replaced_by"], new["replaces_id"]) == (2, 1)
    assert old["message_id"] == new["message_id"] == message["message_id"]
    assert (old["media"], new["media"], new["event_id"]) == ("video", "video", 2)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    assert "From a video" in team.alerts()[0]["caption"]


async def test_a_photo_swapped_for_a_video_is_replaced_by_it(team: Team) -> None:
    message = await sent(team, team.emu.send_photo(team.ranger, jackal_variants(1)[0]))
    answer = await answered(team, team.emu.swap_video(team.ranger, message, clip("leopard")))
    assert "replaces sighting #1" in answer["text"], answer["text"]
    old, new = await rows(team)
    assert (old["media"], old["replaced_by"]) == ("photo", 2)
    assert (new["media"], new["replaces_id"], new["event_id"]) == ("video", 1, 2)
    # The new clip came with the edit: its edit_date, in whole seconds (it may equal the send).
    assert new["received_at"] >= old["received_at"]
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)


async def test_a_video_file_swapped_for_another_file_is_replaced(team: Team) -> None:
    leopard, jackal = clip("leopard"), clip("jackal")
    message = await sent(team, team.emu.send_document(team.ranger, leopard, "cam1.mp4", "video/mp4"))
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    answer = await answered(
        team, team.emu.swap_document(team.ranger, message, jackal, "cam2.mp4", "video/mp4")
    )
    assert "replaces sighting #1" in answer["text"], answer["text"]
    old, new = await rows(team)
    assert (old["media"], new["media"], old["replaced_by"], new["event_id"]) == (
        "video_file",
        "video_file",
        2,
        None,
    )
    # The leopard clip's alert is corrected: replaced, nothing left to review.
    await team.emu.wait_for(
        lambda: "Replaced by the sender with sighting #2" in (team.alerts()[0].get("caption") or ""),
        timeout=20,
    )
    assert not team.alerts()[0].get("reply_markup")


async def test_a_caption_edit_of_a_video_records_nothing_new(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    message = await sent(team, team.emu.send_video(team.ranger, clip("jackal"), "video"))
    reply = await answered(team, team.emu.edit_caption(team.ranger, message, "UST-04"))
    assert "#1" in reply["text"], reply["text"]
    [only] = await rows(team)
    assert (only["replaced_by"], only["station_code"]) == (None, "UST-04")
