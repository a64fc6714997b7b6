"""`leopard-watch demo` runs the whole product offline and shows the alert in the coordinator group."""

from __future__ import annotations

from bot.demo import run_demo


async def test_demo_shows_alerts_movement_and_summary() -> None:
    lines: list[str] = []
    assert await run_demo(out=lines.append) == 0
    text = "\n".join(lines)
    group = text.split("=== What the coordinator group received ===")[1]
    alerts = [line for line in group.splitlines() if line.startswith("- [PHOTO + caption] 🐆 Leopard 0.")]
    assert len(alerts) == 2, alerts
    assert "Confirmed leopard: Aigerim" in group
    assert "one animal could do this" in group
    assert "Leopard Watch" in group  # the /week summary: the last leopard came seconds before it
    assert "Leopard sightings: 1 (±0 vs previous period)" in group
    assert "[PHOTO + caption] 🐆 Leopard photos" in group  # the week's contact sheet
    assert "- [FILE leopard-watch_2" in group and "CSV of the photos taken" in group
    assert "buttons: [✅ Confirm leopard] [❌ Not a leopard] [🔁 Other species]" in group
    assert "- [message] ↔ #1 (UST-04) → #3 (—): 49 km in 12.0 days" in group  # /compare 1 3
    ranger = text.split("=== What the ranger (Serik) received ===")[1].split("===")[0]
    assert "Sighting #2 recorded: no leopard" in ranger
    assert "buttons: [🐆 It is a leopard: send to coordinators]" in ranger
