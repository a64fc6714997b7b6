"""Every kind of message a ranger can send in private gets a clear answer; nothing is stored for it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Team

_FILE = {"file_id": "AgADx", "file_unique_id": "AQADx"}
KINDS: list[tuple[dict[str, Any], str]] = [
    ({"voice": {**_FILE, "duration": 3, "mime_type": "audio/ogg"}}, "voice"),
    ({"audio": {**_FILE, "duration": 30, "title": "birds"}}, "voice"),
    ({"sticker": {**_FILE, "type": "regular", "width": 512, "height": 512, "is_animated": False,
                  "is_video": False, "emoji": "🐆"}}, "stickers"),
    ({"contact": {"phone_number": "+77010000000", "first_name": "Erlan"}}, "contacts"),
    ({"dice": {"emoji": "🎲", "value": 4}}, "this kind of message"),
]  # fmt: skip  (videos, video notes and animations are sightings: tests/test_videos.py)


@pytest.mark.parametrize(("content", "said"), KINDS, ids=[next(iter(c)) for c, _ in KINDS])
async def test_each_kind_gets_a_reply(team: Team, content: dict[str, Any], said: str) -> None:
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_content(team.ranger, content)
    reply = (await team.emu.wait_sent(team.ranger.id, before + 1))[-1]
    assert said in reply["text"].lower()
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == 0


async def test_russian_ranger_is_answered_in_russian(team: Team) -> None:
    await team.say(team.ranger, "/lang ru")
    reply_count = len(team.emu.sent(team.ranger.id))
    await team.emu.send_content(team.ranger, {"dice": {"emoji": "🎯", "value": 6}})
    reply = (await team.emu.wait_sent(team.ranger.id, reply_count + 1))[-1]
    assert "Такие сообщения" in reply["text"]


async def test_outsider_sending_a_sticker_is_told_who_the_bot_is_for(team: Team) -> None:
    stranger = team.emu.user(424_242, "Curious")
    sticker = KINDS[2][0]
    await team.emu.send_content(stranger, sticker)
    reply = (await team.emu.wait_sent(stranger.id, 1))[-1]
    assert "only for the rangers and coordinators" in reply["text"]
