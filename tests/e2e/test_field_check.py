"""Field checks from the chat (issue 26), through the emulator and the real PTB client: a ranger deploys a
camera, checks it with buttons, a set-up photo (never a sighting) and a pin, reports it dead by typing,
cancels a check; the weekly summary gives effort and the cameras overdue for a check, with station names
for a trusted group only."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import Settings
from bot.detection.model import OnnxLeopardDetector
from bot.geo import Point
from emulator import BotApiEmulator
from handlers import field_checks as deployments
from storage.db import iso
from tests.conftest import GROUP, Team, eventually, start_team

STATION = Point(43.21, 51.87)
TRUSTED = -100_777
LEAK = re.compile(r"UST-\d|CAM-\d|Kazakh spring", re.IGNORECASE)


@pytest.fixture
async def team(emu: BotApiEmulator, settings: Settings, detector: OnnxLeopardDetector) -> AsyncIterator[Team]:
    # A camera deployed days ago and never visited is overdue after one day.
    async for t in start_team(emu, settings.with_(check_due_days=1), detector):
        await t.services.stations.add("UST-04", STATION, "Kazakh spring", "UST")
        yield t


async def deploy(team: Team, days_ago: int) -> None:
    day = (datetime.now(UTC) - timedelta(days=days_ago)).astimezone(team.services.settings.zone)
    said = await team.say(team.ranger, f"/deploy UST-04 CAM-17 {day:%Y-%m-%d}")
    assert "CAM-17 deployed at UST-04" in said["text"], said["text"]


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """callback_data by label, of the message's inline keyboard as the bot sent it."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def press(team: Team, message: dict[str, Any], label: str) -> dict[str, Any]:
    """Press a button by its label; the bot's next message in the ranger's chat."""
    chat = team.ranger.id
    before = len(team.emu.sent(chat))
    query = await team.emu.press_button(team.ranger, message, buttons(message)[label])
    await eventually(lambda: _answered(team, query["id"]))
    return (await team.emu.wait_sent(chat, before + 1))[-1]


async def _answered(team: Team, query_id: str) -> bool:
    return team.emu.callback_answer(query_id) is not None


async def test_a_check_with_buttons_a_setup_photo_and_a_pin(team: Team, leopard_jpeg: bytes) -> None:
    await deploy(team, days_ago=20)
    db = team.services.db
    asked = await team.say(team.ranger, "/check")
    assert "Which station" in asked["text"] and "UST-04" in buttons(asked)  # the ranger's own camera
    found = await press(team, asked, "UST-04")
    assert "UST-04: how did you find the camera?" in found["text"]
    # The answered question keeps its answer and loses its buttons.
    answered = next(m for m in team.emu.sent(team.ranger.id) if m["message_id"] == asked["message_id"])
    assert answered["text"].endswith("→ UST-04") and not buttons(answered)
    battery = await press(team, found, "✅ Working")
    card = await press(team, battery, "75%")
    media = await press(team, card, "Yes")
    assert "photo of the set-up and your location pin" in media["text"] and "Skip" in buttons(media)

    # The set-up photo: kept in the photo store, no sighting, no alert, no receipt.
    before = len(team.emu.sent(team.ranger.id))
    photo = await team.emu.send_photo(team.ranger, leopard_jpeg)
    kept, pin_asked = (await team.emu.wait_sent(team.ranger.id, before + 2, timeout=30))[before:]
    assert "Set-up photo kept" in kept["text"] and "location pin, or tap Finish" in pin_asked["text"]
    # A pin outside the region is refused, and the question stands.
    refused = await team.location(team.ranger, -33.9, 18.4)
    assert "outside the project's region" in refused["text"]
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_location(team.ranger, 43.2105, 51.8712)
    pin_kept, done = (await team.emu.wait_sent(team.ranger.id, before + 2))[before:]
    assert "Pin kept" in pin_kept["text"]
    assert "Check at UST-04 recorded: battery 75%, card swapped: ✓, camera: working" in done["text"]
    assert "Set-up photo: ✓ · pin: ✓" in done["text"]

    row = await db.fetchone("SELECT * FROM field_checks")
    assert (row["battery"], row["card_swapped"], row["working"], row["by_user"]) == (75, 1, 1, team.ranger.id)
    assert (row["lat"], row["lon"]) == (43.2105, 51.8712) and row["deployment_id"] is not None
    sent_bytes = team.emu.file_bytes(photo["photo"][-1]["file_id"])  # Telegram's largest size
    assert team.services.photos.read(row["photo_sha256"]) == sent_bytes
    assert await db.scalar("SELECT COUNT(*) FROM sightings") == 0
    assert team.alerts(GROUP) == []
    # The pin was the camera's, not the ranger's place for the next photos.
    assert await db.scalar("SELECT COUNT(*) FROM ranger_locations") == 0


async def test_a_dead_camera_typed_stops_at_its_last_frame_and_a_check_can_be_cancelled(team: Team) -> None:
    await deploy(team, days_ago=20)
    db = team.services.db
    last_frame = datetime.now(UTC).replace(microsecond=0) - timedelta(days=6)
    dep_id = await db.scalar("SELECT id FROM deployments")
    async with db.transaction() as conn:  # a frame from the card, the camera's last before it died
        await conn.execute(
            "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, ?, 1, ?)",
            ("a" * 64, "a" * 64, iso(last_frame)),
        )
        await conn.execute(
            """INSERT INTO sightings (photo_sha256, source, taken_at, received_at, station_code, label,
                   score, is_leopard, status, time_source, deployment_id)
               VALUES (?, 'import', ?, ?, 'UST-04', 'empty', 0, 0, 'unreviewed', 'exif', ?)""",
            ("a" * 64, iso(last_frame), iso(last_frame), dep_id),
        )
    said = await team.say(team.ranger, "/check UST-04 10% card dead")
    local = last_frame.astimezone(team.services.settings.zone)
    assert "camera: dead" in said["text"], said["text"]
    assert f"stopped about {local:%Y-%m-%d %H:%M} (its last frame)" in said["text"]
    row = await db.fetchone("SELECT working, stopped_at, stopped_source, battery FROM field_checks")
    assert (row["working"], row["stopped_at"], row["stopped_source"], row["battery"]) == (
        0, iso(last_frame), "last frame", 10,
    )  # fmt: skip

    # Typed words in Russian work too; a check started by code asks the rest, and /cancel drops it.
    asked = await team.say(team.ranger, "/check UST-04")
    assert "how did you find the camera?" in asked["text"] and "↘️ Knocked over" in buttons(asked)
    cancelled = await team.say(team.ranger, "/cancel")
    assert "Check cancelled" in cancelled["text"]
    query = await team.emu.press_button(team.ranger, asked, buttons(asked)["✅ Working"])
    await eventually(lambda: _answered(team, query["id"]))
    assert "This check is over" in (team.emu.callback_answer(query["id"]) or {}).get("text", "")
    assert await db.scalar("SELECT COUNT(*) FROM field_checks") == 1
    # Forged button data is refused like a typed code; the station can be typed instead of pressed.
    asked = await team.say(team.ranger, "/check")
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.press_button(team.ranger, asked, "ck:st:../../²" + "x" * 50, check=False)
    refused = (await team.emu.wait_sent(team.ranger.id, before + 1))[-1]
    assert "Unknown station" in refused["text"] and len(refused["text"]) < 200
    found = await team.say(team.ranger, "ust-04")
    assert "UST-04: how did you find the camera?" in found["text"]
    battery = await press(team, found, "❌ Not working")
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.press_button(team.ranger, battery, "ck:b:²", check=False)
    card = (await team.emu.wait_sent(team.ranger.id, before + 1))[-1]
    assert "swap the memory card" in card["text"]
    await team.say(team.ranger, "/cancel")
    said = await team.say(team.ranger, "/check UST-04 90% карта работает")
    assert "camera: working" in said["text"]
    # Outside a check, a pin is the ranger's place again (the conversation let go of it).
    await team.location(team.ranger, 43.2105, 51.8712)
    assert await db.scalar("SELECT COUNT(*) FROM ranger_locations") == 1


async def week(team: Team, group: dict[str, Any]) -> str:
    before = len(team.emu.sent(group["id"]))
    await team.emu.send_text(team.ranger, "/week", group)

    async def summary_text() -> str:
        sent = team.emu.sent(group["id"])[before:]
        return next((m["text"] for m in sent if "Effort by area" in (m.get("text") or "")), "")

    return str(await eventually(summary_text, timeout=30))


async def test_the_week_gives_effort_and_overdue_cameras_by_precision(team: Team) -> None:
    await deploy(team, days_ago=10)
    trusted = team.emu.group(TRUSTED, "Trusted coordinators")
    await team.say(team.admin, "/register en", trusted)
    await team.say(team.admin, "/trusted on", trusted)

    text = await week(team, trusted)
    assert re.search(r"UST: 7\.0 trap-nights, 1 camera\(s\), 0 event\(s\)", text), text
    assert "Cameras not checked for 1+ days" in text
    assert re.search(r"CAM-17 at UST-04: last visit \d{4}-\d\d-\d\d \(10 days\)", text), text

    text = await week(team, team.group)  # not trusted: areas and counts, no station or camera
    assert "Effort by area" in text and "UST: 7.0 trap-nights" in text
    assert "Cameras not checked for 1+ days" in text and "UST: 1 camera(s)" in text
    assert not LEAK.search(text), text


async def test_a_check_left_unfinished_is_recorded_as_far_as_it_went(
    emu: BotApiEmulator, settings: Settings, detector: OnnxLeopardDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deployments, "TIMEOUT", timedelta(seconds=0.5))  # read when the handlers register
    async for team in start_team(emu, settings, detector):
        await team.services.stations.add("UST-04", STATION, "Kazakh spring", "UST")
        await deploy(team, days_ago=3)
        asked = await team.say(team.ranger, "/check UST-04")
        before = len(emu.sent(team.ranger.id))
        await press(team, asked, "❓ Not found")  # the battery question, then the signal is gone
        said = await emu.wait_sent(team.ranger.id, before + 2)
        assert "The check at UST-04 timed out; what you had answered is recorded." in said[-1]["text"]
        assert "camera: not found" in said[-1]["text"]
        row = await team.services.db.fetchone("SELECT working, battery FROM field_checks")
        assert (row["working"], row["battery"]) == (0, None)
        assert "not found" in await team.services.db.scalar("SELECT comments FROM deployments")
        # Timed out before the camera's state: nothing is recorded.
        before = len(emu.sent(team.ranger.id))
        await emu.send_text(team.ranger, "/check UST-04")
        said = await emu.wait_sent(team.ranger.id, before + 2)
        assert "nothing recorded" in said[-1]["text"]
        assert await team.services.db.scalar("SELECT COUNT(*) FROM field_checks") == 1
