"""`leopard-watch doctor` does not call a bot "connected" that cannot hear: a webhook set for the token,
or another process polling it, fails the bot api check in words that say what to do. The poll that
finds another process is `doctor --full` (a few seconds); the plain doctor stays quick."""

from __future__ import annotations

from bot.cli.doctor import run_checks
from bot.config import Settings
from emulator import BotApiEmulator
from storage.lock import RunLock


async def bot_api(settings: Settings, *, full: bool = True) -> str:
    check = {c.name: c for c in await run_checks(settings, full=full)}["bot api"]
    return check.line()


async def test_a_webhook_on_the_token_fails_the_check_and_names_only_its_host(
    settings: Settings, emu: BotApiEmulator
) -> None:
    await emu.set_webhook("https://old-server.example/hook/s3cret")
    line = await bot_api(settings)
    assert line.startswith("[FAIL] bot api: connected as @leopard_watch_bot, but a webhook is set"), line
    assert "old-server.example" in line and "s3cret" not in line


async def test_another_process_polling_the_token_fails_the_check(
    settings: Settings, emu: BotApiEmulator
) -> None:
    async with emu.other_instance():
        line = await bot_api(settings)
    assert line.startswith("[FAIL] bot api: connected, but another process polls this token"), line
    assert "terminated by other getUpdates request" in line


async def test_the_bot_running_here_is_not_polled_against(settings: Settings, emu: BotApiEmulator) -> None:
    with RunLock(settings.database):
        line = await bot_api(settings)
    assert line.startswith(
        "[OK  ] bot api: connected as @leopard_watch_bot, no webhook; polled by the bot"
    ), line
    assert emu.calls_of("getUpdates") == []


async def test_without_full_the_token_is_not_polled_and_that_is_said(
    settings: Settings, emu: BotApiEmulator
) -> None:
    async with emu.other_instance():
        line = await bot_api(settings, full=False)
    assert line.startswith("[OK  ] bot api: connected as @leopard_watch_bot, no webhook;"), line
    assert "`doctor --full` also polls" in line
    assert emu.calls_of("getUpdates") == []  # the other poller goes on undisturbed
