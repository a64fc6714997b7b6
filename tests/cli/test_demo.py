"""`leopard-watch demo` runs the whole product offline and shows the alert in the coordinator group."""

from __future__ import annotations

from typing import Any

import pytest

from bot.cli import demo
from bot.cli.demo import run_demo
from emulator import BotApiEmulator


async def test_demo_shows_alerts_movement_and_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    emulators: list[BotApiEmulator] = []

    class Recorded(BotApiEmulator):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            emulators.append(self)

    monkeypatch.setattr(demo, "BotApiEmulator", Recorded)
    lines: list[str] = []
    assert await run_demo(out=lines.append) == 0
    # The demo's own emulator is not the `emu` fixture; it must speak the Bot API all the same.
    assert [e.spec_violations for e in emulators] == [[]]
    text = "\n".join(lines)
    group = text.split("=== What the coordinator group received ===")[1]
    alerts = [line for line in group.splitlines() if line.startswith("- [PHOTO + caption] 🐆 Leopard 0.")]
    assert len(alerts) == 3, alerts  # two from the ranger, one from the cellular camera's e-mail
    assert "Confirmed leopard: Aigerim" in group
    assert "one animal could do this" in group
    assert "Leopard Watch" in group  # the /week summary: the last leopard came seconds before it
    assert "Leopard sightings: 1 (±0 vs previous period)" in group
    assert "[PHOTO + caption] 🐆 Leopard photos" in group  # the week's contact sheet
    assert "- [FILE leopard-watch_2" in group and "📦 CSV of the photos" in group
    assert "by the time received (when taken is not known): 2." in group
    assert "buttons: [✅ Confirm leopard] [❌ Not a leopard] [🔁 Other species]" in group
    assert "- [message] ↔ #1 (UST-04) → #3 (—): 49 km in 12.0 days" in group  # /compare 1 3
    camera_alert = group.split("sighting #4")[1].split("\n- [")[0]
    assert "📍 Station UST-04" in camera_alert and "📡 camera e-mail" in camera_alert
    assert "=== A cellular camera's e-mail ===\n- CAM-17 -> sighting #4" in text
    ranger = text.split("=== What the ranger (Serik) received ===")[1].split("===")[0]
    assert "Sighting #2 recorded: " in ranger and "(leopard score" in ranger  # a kind, never a label
    assert "buttons: [🐆 It is a leopard: send to coordinators]" in ranger
