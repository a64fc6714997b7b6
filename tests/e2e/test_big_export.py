"""/export of more than a bot may upload (50 MB, sendDocument's limit; Telegram answers 413): refused
with the sizes and a smaller period or format that fits, in a group and in private. Real PTB client;
the emulator's limit is lowered (emu.limit_uploads) so the test need not build 50 MB."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Team
from tests.support.sightings_world import seed

PERIOD = "2025-03-01 2025-03-09"


async def document_size(team: Team, command: str, chat: dict | None) -> int:
    reply = await team.say(team.admin, command, chat)
    assert "document" in reply, reply.get("text")
    return int(reply["document"]["file_size"])


@pytest.mark.parametrize("where", ["group", "private"])
async def test_an_export_over_the_upload_limit_is_refused_with_one_that_fits(
    team: Team, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    chat = team.group if where == "group" else None
    await seed(team.services.db)
    size = await document_size(team, f"/export xlsx {PERIOD}", chat)
    limit = size * 3 // 4  # xlsx bytes vary a little from run to run (its zip), so well under
    team.emu.limit_uploads(limit)
    monkeypatch.setattr("handlers.summaries.UPLOAD_LIMIT", limit, raising=False)
    reply = await team.say(team.admin, f"/export xlsx {PERIOD}", chat)
    text = reply.get("text") or ""
    assert "too big" in text.lower() and "Something went wrong" not in text, text
    suggested = re.search(r"/export [^\n]+", text)
    assert suggested, text
    fits = await document_size(team, suggested.group(0), chat)
    assert fits <= limit
    assert team.emu.calls_of("sendDocument")[-1]  # and the suggestion was sent as a document


async def test_sizes_are_named(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    await seed(team.services.db)
    team.emu.limit_uploads(100)
    monkeypatch.setattr("handlers.summaries.UPLOAD_LIMIT", 100, raising=False)
    reply = await team.say(team.admin, f"/export csv {PERIOD}")
    text = reply.get("text") or ""
    assert re.search(r"\d+(\.\d)? KB", text) and "100 B" in text, text


async def test_a_413_from_telegram_is_answered_not_silent(team: Team) -> None:
    # Telegram counts the upload, not the file: an export just under the bot's own limit may still get
    # 413 (PTB: NetworkError "Request Entity Too Large"). The group hears why, not nothing.
    await seed(team.services.db)
    team.emu.limit_uploads(100)
    reply = await team.say(team.admin, f"/export xlsx {PERIOD}", team.group)
    assert "too big" in (reply.get("text") or ""), reply
