"""The emulator's token and poller behaviours, through the real PTB client: a revoked token (401 on every
call, a waiting poll included), a webhook set from elsewhere (409, and a waiting poll ended by it), and a
second process polling the same token (each newer poll ends the other with 409)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import Conflict, InvalidToken

from emulator import BotApiEmulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as client:
        yield client


async def test_a_revoked_token_answers_401_to_every_call_and_ends_a_waiting_poll(
    bot: Bot, emu: BotApiEmulator
) -> None:
    old = emu.token
    waiting = asyncio.create_task(bot.get_updates(timeout=30))
    await emu.wait_for(lambda: len(emu.calls_of("getUpdates")) == 1)
    new = await emu.revoke_token()
    assert new != old and emu.token == new
    with pytest.raises(InvalidToken):
        await asyncio.wait_for(waiting, 5)  # at once, not after its 30 s
    with pytest.raises(InvalidToken):
        await bot.send_message(1, "anyone?")
    async with Bot(new, base_url=emu.base_url) as renewed:
        assert (await renewed.get_me()).username == "leopard_watch_bot"


async def test_a_webhook_set_elsewhere_ends_the_waiting_poll_and_refuses_the_next(
    bot: Bot, emu: BotApiEmulator
) -> None:
    waiting = asyncio.create_task(bot.get_updates(timeout=30))
    await emu.wait_for(lambda: len(emu.calls_of("getUpdates")) == 1)
    await emu.set_webhook("https://elsewhere.example/hook")
    with pytest.raises(Conflict, match=r"^Conflict: terminated by setWebhook request$"):
        await asyncio.wait_for(waiting, 5)
    with pytest.raises(Conflict, match=r"can't use getUpdates method while webhook is active"):
        await bot.get_updates(timeout=0)
    assert (await bot.get_webhook_info()).url == "https://elsewhere.example/hook"
    assert await bot.delete_webhook()  # what PTB's start_polling does first
    assert await bot.get_updates(timeout=0) == ()


async def test_another_instance_ends_the_bots_polls_and_takes_updates(bot: Bot, emu: BotApiEmulator) -> None:
    ranger = emu.user(700_001, "Serik")
    async with emu.other_instance(poll_timeout=0.5) as taken:
        with pytest.raises(Conflict, match=r"terminated by other getUpdates request"):
            await asyncio.wait_for(bot.get_updates(timeout=30), 5)
        await emu.send_text(ranger, "to whichever asks")
        await emu.wait_for(lambda: len(taken) == 1)
    assert taken[0]["message"]["text"] == "to whichever asks"
    assert emu.updates_pending() == 0  # confirmed by the other process: this bot never sees it
    assert await bot.get_updates(timeout=0) == ()
