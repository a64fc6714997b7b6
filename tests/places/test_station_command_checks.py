"""/station add asks about coordinates that look swapped or lie outside the region, as rangers are asked;
the word force keeps them as typed."""

from __future__ import annotations

from tests.conftest import Team


async def test_swapped_and_far_away_stations_are_asked_about_not_stored(team: Team) -> None:
    said = await team.say(team.admin, "/station add UST-09 51.87 43.21 Spring area=UST")
    assert "look swapped" in said["text"] and "43.21, 51.87" in said["text"]
    said = await team.say(team.admin, "/station add UST-10 10.0 10.0 Nowhere")
    assert "outside the region" in said["text"]
    assert await team.services.stations.get("UST-09") is None
    assert await team.services.stations.get("UST-10") is None
    # As typed, on purpose; "force" is not taken for a word of the name.
    said = await team.say(team.admin, "/station add UST-10 10.0 10.0 Nowhere force")
    station = await team.services.stations.get("UST-10")
    assert station is not None and station.name == "Nowhere" and "UST-10" in said["text"]
    # A station inside the region is stored at once, as before.
    await team.say(team.admin, "/station add UST-11 43.30 51.90 Ridge")
    assert await team.services.stations.get("UST-11") is not None
