"""Shared fixtures: the Bot API emulator, the real bot running against it, and a registered team."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application, running
from bot.config import Settings
from bot.detection.model import OnnxLeopardDetector
from bot.services import Services
from emulator import BotApiEmulator, EmulatedUser
from tests.support.paths import SAMPLES
from tests.support.photo_variants import shifted

ADMIN, RANGER, GROUP = 900_001, 700_001, -100_555_0001


def leopard_variants(n: int) -> list[bytes]:
    """Distinct leopard photos: the sample shifted by a few pixels each time (another SHA-256)."""
    return shifted((SAMPLES / "leo_005_serengeti_night.jpg").read_bytes(), n)


@pytest.fixture(scope="session")
def detector() -> OnnxLeopardDetector:
    return OnnxLeopardDetector(threads=2)


@pytest.fixture
def leopard_jpeg() -> bytes:
    return (SAMPLES / "leo_005_serengeti_night.jpg").read_bytes()


@pytest.fixture
def leopard2_jpeg() -> bytes:
    return (SAMPLES / "leo_009_chimpsee_ir_forest.jpg").read_bytes()


@pytest.fixture
def jackal_jpeg() -> bytes:
    return (SAMPLES / "neg_060_serengeti_jackal_1.jpg").read_bytes()


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator() as emulator:
        yield emulator
    # Every test is a conformance test: calls, results and errors must match the Bot API spec.
    violations = emulator.spec_violations
    assert not violations, f"{len(violations)} Bot API spec violation(s), first 10:\n" + "\n".join(
        violations[:10]
    )


@pytest.fixture
def settings(tmp_path: Path, emu: BotApiEmulator) -> Settings:
    return Settings(
        token=emu.token,
        database=tmp_path / "lw.sqlite3",
        photo_dir=tmp_path / "photos",
        admin_ids=frozenset({ADMIN}),
        base_url=emu.base_url,
        base_file_url=emu.base_file_url,
    )


async def eventually(check: Callable[[], Awaitable[object]], timeout: float = 10.0) -> object:  # noqa: ASYNC109
    """Poll an async check until it returns something truthy (DB state trails the messages a bit)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: last result {result!r}")
        await asyncio.sleep(0.02)


@dataclass
class Team:
    emu: BotApiEmulator
    services: Services
    admin: EmulatedUser
    ranger: EmulatedUser
    group: dict[str, Any]
    app: Any = None  # the running PTB Application (its job queue, bot_data)

    async def say(self, who: EmulatedUser, text: str, chat: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send text and return the bot's next message in that chat."""
        target = chat["id"] if chat else who.id
        before = len(self.emu.sent(target))
        await self.emu.send_text(who, text, chat)
        return (await self.emu.wait_sent(target, before + 1))[-1]

    async def photo(self, who: EmulatedUser, data: bytes, caption: str | None = None) -> dict[str, Any]:
        before = len(self.emu.sent(who.id))
        await self.emu.send_photo(who, data, caption)
        return (await self.emu.wait_sent(who.id, before + 1, timeout=30))[-1]

    async def location(self, who: EmulatedUser, lat: float, lon: float) -> dict[str, Any]:
        before = len(self.emu.sent(who.id))
        await self.emu.send_location(who, lat, lon)
        return (await self.emu.wait_sent(who.id, before + 1))[-1]

    async def outbox_status(self, chat_id: int) -> str | None:
        return await self.services.db.scalar(
            "SELECT status FROM outbox WHERE chat_id = ? AND kind = 'alert' ORDER BY id DESC LIMIT 1",
            (chat_id,),
        )

    def alerts(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        return [m for m in self.emu.sent(chat_id or self.group["id"]) if m["method"] == "sendPhoto"]

    async def invite(self, user: EmulatedUser, role: str = "") -> None:
        reply = await self.say(self.admin, f"/invite {role}".strip())
        code = re.search(r"start=([\w-]+)", reply["text"])
        assert code, reply["text"]
        await self.say(user, f"/start {code.group(1)}")


async def start_team(
    emu: BotApiEmulator, settings: Settings, detector: OnnxLeopardDetector
) -> AsyncIterator[Team]:
    app = build_application(settings, detector)
    async with running(app):
        team = Team(
            emu,
            app.bot_data["services"],
            emu.user(ADMIN, "Aigerim"),
            emu.user(RANGER, "Serik"),
            emu.group(GROUP, "Coordinators"),
            app,
        )
        await team.say(team.admin, "/register en", team.group)
        await team.invite(team.ranger)
        yield team


@pytest.fixture
async def team(emu: BotApiEmulator, settings: Settings, detector: OnnxLeopardDetector) -> AsyncIterator[Team]:
    async for t in start_team(emu, settings, detector):
        yield t
