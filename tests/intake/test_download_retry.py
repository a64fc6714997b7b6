"""A download Telegram cannot serve for now (getFile's 400 "file is temporarily unavailable", the
file_id still valid) is retried from the inbox with backoff; the ranger hears of it only if it keeps
failing. Real PTB client, emulator."""

from __future__ import annotations

import pytest

from tests.conftest import Team, eventually

DOWNLOAD_TROUBLE = "could not download"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("handlers.storage_trouble.RETRY_TICK", 0.2)
    monkeypatch.setattr("handlers.runtime.RETRY_FIRST", 0.5)


def texts(team: Team) -> list[str]:
    return [m.get("text") or "" for m in team.emu.sent(team.ranger.id)]


async def test_a_temporarily_unavailable_file_is_fetched_again_without_the_ranger(
    team: Team, jackal_jpeg: bytes
) -> None:
    team.emu.file_temporarily_unavailable(times=2)
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_photo(team.ranger, jackal_jpeg)
    replies = await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30)
    assert "Sighting #1" in replies[-1]["text"], replies[-1]["text"]
    assert not any(DOWNLOAD_TROUBLE in t for t in texts(team))
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == 1
    undone = "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL"
    await eventually(lambda: _zero(team, undone))


async def test_a_file_that_stays_unavailable_is_told_to_the_ranger_once(
    team: Team, jackal_jpeg: bytes
) -> None:
    team.emu.file_temporarily_unavailable(times=100)
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_photo(team.ranger, jackal_jpeg)
    replies = await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30)
    assert DOWNLOAD_TROUBLE in replies[-1]["text"], replies[-1]["text"]
    tries = len(team.emu.calls_of("getFile"))
    assert tries > 1  # it was tried again before the ranger was told
    await team.say(team.admin, "/help")
    assert sum(DOWNLOAD_TROUBLE in t for t in texts(team)) == 1


async def _zero(team: Team, sql: str) -> bool:
    return await team.services.db.scalar(sql) == 0
