"""What rangers type as a place, through the real bot and the emulator: station codes from Russian and
Kazakh keyboards, ambiguous codes, and coordinates with latitude and longitude swapped."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import ConfigError, Settings
from bot.geo import DEFAULT_REGION, Placement, Point, Region
from emulator import EmulatedUser
from tests.conftest import Team, eventually

SWAPPED_DATA, TYPED_DATA = "sw:43.21000:51.87000", "sw:51.87000:43.21000"


async def saved_place(team: Team) -> Any:
    return await team.services.db.fetchone(
        "SELECT lat, lon, source, station_code FROM ranger_locations WHERE user_id = ?", (team.ranger.id,)
    )


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


def current(team: Team, message: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in team.emu.sent(message["chat"]["id"]) if m["message_id"] == message["message_id"])


async def press(team: Team, who: EmulatedUser, message: dict[str, Any], data: str) -> dict[str, Any]:
    """Press a button (stale or forged too) and return the bot's answer to the press."""
    query = await team.emu.press_button(who, message, data, check=False)
    answer = await eventually(lambda: _answer(team, query["id"]))
    assert isinstance(answer, dict)
    return answer


async def _answer(team: Team, query_id: str) -> dict[str, Any] | None:
    answer = team.emu.callback_answer(query_id)  # {} for a silent answer: still an answer
    return None if answer is None else {"answered": True, **answer}


async def test_a_code_typed_on_a_russian_keyboard_names_the_station(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    reply = await team.say(team.ranger, "уст 4")
    assert "Location saved" in reply["text"], reply["text"]
    row = await saved_place(team)
    assert (row["station_code"], row["source"], row["lat"], row["lon"]) == ("UST-04", "station", 43.21, 51.87)


@pytest.mark.parametrize("typed", ["УСТ-04", "UST04", "UST–04", "ＵＳＴ－０４", "ҮСТ_04", "UСТ-04"])
async def test_other_spellings_of_a_code_name_the_station(team: Team, typed: str) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    reply = await team.say(team.ranger, typed)
    assert "Location saved" in reply["text"], reply["text"]
    assert (await saved_place(team))["station_code"] == "UST-04"


async def test_a_code_that_fits_two_stations_is_asked_about_and_nothing_saved(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    await team.say(team.admin, "/station add UST-004 43.50 52.10 Gorge area=UST")
    reply = await team.say(team.ranger, "UST-4")
    assert "UST-04" in reply["text"] and "UST-004" in reply["text"] and "more than one" in reply["text"]
    assert await saved_place(team) is None
    # Written in full, each is its own station.
    await team.say(team.ranger, "UST-004")
    assert (await saved_place(team))["station_code"] == "UST-004"


async def test_an_unregistered_code_is_named_as_unknown(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    reply = await team.say(team.ranger, "UST–99")
    assert "Unknown station UST-99" in reply["text"], reply["text"]
    assert await saved_place(team) is None


async def test_swapped_coordinates_are_asked_about_then_the_swap_is_saved(
    team: Team, leopard_jpeg: bytes
) -> None:
    question = await team.say(team.ranger, "51.87, 43.21")
    assert "51.87, 43.21" in question["text"] and "43.21, 51.87" in question["text"], question["text"]
    assert buttons(question) == [
        ("Use 43.21, 51.87 (swapped)", SWAPPED_DATA),
        ("Keep 51.87, 43.21 as typed", TYPED_DATA),
    ]
    assert await saved_place(team) is None  # nothing until the ranger answers
    before = len(team.emu.sent(team.ranger.id))
    answer = await press(team, team.ranger, question, SWAPPED_DATA)
    assert not answer.get("show_alert")
    reply = (await team.emu.wait_sent(team.ranger.id, before + 1))[-1]
    assert "Location saved" in reply["text"], reply["text"]
    row = await saved_place(team)
    assert (row["lat"], row["lon"], row["source"]) == (43.21, 51.87, "text")
    # The question is answered: its buttons are gone, and a second press changes nothing.
    await team.emu.wait_for(lambda: buttons(current(team, question)) == [])
    assert (await press(team, team.ranger, question, TYPED_DATA)).get("show_alert")
    assert (await saved_place(team))["lat"] == 43.21
    # And the next photo gets that place.
    receipt = await team.photo(team.ranger, leopard_jpeg)
    assert "#1" in receipt["text"]
    sighting = await team.services.db.fetchone("SELECT lat, lon FROM sightings WHERE id = 1")
    assert (sighting["lat"], sighting["lon"]) == (43.21, 51.87)


async def test_keep_as_typed_saves_the_point_as_typed(team: Team) -> None:
    question = await team.say(team.ranger, "51.87 43.21")
    before = len(team.emu.sent(team.ranger.id))
    await press(team, team.ranger, question, TYPED_DATA)
    await team.emu.wait_sent(team.ranger.id, before + 1)
    row = await saved_place(team)
    assert (row["lat"], row["lon"]) == (51.87, 43.21)


async def test_a_forged_or_foreign_answer_saves_nothing(team: Team) -> None:
    question = await team.say(team.ranger, "51.87, 43.21")
    stranger = team.emu.user(700_002, "Nurlan")
    await team.invite(stranger)
    # Another ranger pressing the button of this question (a forwarded message, a forged query).
    assert (await press(team, stranger, question, SWAPPED_DATA)).get("show_alert")
    # Data the bot never offered, even in the right format, or out of range.
    forgeries = ("sw:44.00000:52.00000", "sw:99.00000:51.87000", "sw:43.21:51.87", "sw:43.21000:51.87000:1")
    for forged in forgeries:
        assert (await press(team, team.ranger, question, forged)).get("show_alert"), forged
    assert await saved_place(team) is None
    stranger_row = await team.services.db.fetchone(
        "SELECT 1 FROM ranger_locations WHERE user_id = ?", (stranger.id,)
    )
    assert stranger_row is None


async def test_a_point_outside_the_region_is_saved_with_a_warning(team: Team) -> None:
    reply = await team.say(team.ranger, "40.12, 72.50")  # swapping would not help: 72.5 is no latitude here
    assert "Location saved" in reply["text"] and "outside the monitoring region" in reply["text"]
    assert len(reply["text"].splitlines()) == 2 and "reply_markup" not in reply
    row = await saved_place(team)
    assert (row["lat"], row["lon"]) == (40.12, 72.5)


async def test_only_typed_coordinates_outside_the_region_are_questioned(team: Team) -> None:
    reply = await team.say(team.ranger, "43.21, 51.87")
    assert "Location saved" in reply["text"] and "outside" not in reply["text"]
    # Phones never swap a pin's coordinates: a pin is taken as it is.
    reply = await team.location(team.ranger, 51.87, 43.21)
    assert "Location saved" in reply["text"] and "reply_markup" not in reply
    row = await saved_place(team)
    assert (row["lat"], row["lon"], row["source"]) == (51.87, 43.21, "pin")
    # The same point typed is asked about, and the pin stays the ranger's place meanwhile.
    question = await team.say(team.ranger, "51.87, 43.21")
    assert len(buttons(question)) == 2
    assert (await saved_place(team))["source"] == "pin"


def test_the_region_setting_is_read_and_checked() -> None:
    mangystau = Settings.load(env_file=None, environ={}).bounds
    assert mangystau == Region.parse(DEFAULT_REGION)
    assert mangystau.place(Point(43.21, 51.87)) is Placement.INSIDE
    assert mangystau.place(Point(51.87, 43.21)) is Placement.SWAPPED
    assert mangystau.place(Point(40.12, 72.5)) is Placement.OUTSIDE
    other = Settings.load(env_file=None, environ={"LW_REGION": "42.5, 69.0, 44.0, 71.5"}).bounds
    assert other.contains(Point(43.0, 70.0)) and not other.contains(Point(43.21, 51.87))
    for bad in ("41,49.5,46.5", "46.5,49.5,41,56.5", "41,56.5,46.5,49.5", "41,49.5,95,56.5", "a,b,c,d"):
        with pytest.raises(ConfigError, match="LW_REGION"):
            Settings.load(env_file=None, environ={"LW_REGION": bad})
