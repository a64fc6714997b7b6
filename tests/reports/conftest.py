"""The report tests' bot: the real application on the emulator, with no model, and a registered team."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import build_application, running
from bot.config import Settings
from emulator import BotApiEmulator
from tests.conftest import ADMIN, GROUP, RANGER, Team
from tests.support.sightings_world import NoDetector


@pytest.fixture
async def bot_team(emu: BotApiEmulator, settings: Settings) -> AsyncIterator[tuple[object, Team]]:
    app = build_application(settings, NoDetector())
    async with running(app):
        team = Team(emu, app.bot_data["services"], emu.user(ADMIN, "Aigerim"), emu.user(RANGER, "Serik"),
                    emu.group(GROUP, "Coordinators"))  # fmt: skip
        await team.say(team.admin, "/register en", team.group)
        await team.invite(team.ranger)
        yield app, team
