"""Coordinator alerts through the emulator: delivery rules, bursts, review buttons, routing, movement."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

import bot.botapi.outbox as outbox_module
from bot.config import Settings
from bot.detection.model import OnnxLeopardDetector
from emulator import BotApiEmulator
from tests.conftest import GROUP, Team, eventually, leopard_variants, start_team


async def _alert_status(team: Team) -> str | None:
    return await team.outbox_status(GROUP)


async def test_429_then_success(team: Team, leopard_jpeg: bytes) -> None:
    team.emu.fail_next("sendPhoto", 429, chat_id=GROUP, retry_after=1)
    await team.photo(team.ranger, leopard_jpeg)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    await eventually(lambda: _sent(team))
    row = await team.services.db.fetchone(
        "SELECT attempts, last_error FROM outbox WHERE chat_id = ?", (GROUP,)
    )
    assert row["attempts"] == 2 and "429" in row["last_error"]
    assert len(team.emu.calls_of("sendPhoto")) == 2  # one refused, one delivered: no duplicate


async def test_late_answer_does_not_duplicate_the_alert(team: Team, leopard_jpeg: bytes) -> None:
    # Telegram posts the alert but its answer comes after PTB's default 5 s read timeout (a slow
    # uplink from a field server). Giving up at 5 s would look like a network error and post it again.
    team.emu.slow_next("sendPhoto", 6.0)
    await team.photo(team.ranger, leopard_jpeg)
    await eventually(lambda: _sent(team), timeout=20)
    assert len(team.alerts()) == 1
    assert len(team.emu.calls_of("sendPhoto")) == 1
    assert await team.services.db.scalar("SELECT attempts FROM outbox WHERE chat_id = ?", (GROUP,)) == 1


async def _sent(team: Team) -> bool:
    return await _alert_status(team) == "sent"


async def test_restart_delivers_pending_outbox_once(
    tmp_path: Path,
    emu: BotApiEmulator,
    settings: Settings,
    detector: OnnxLeopardDetector,
    leopard_jpeg: bytes,
) -> None:
    emu.fail_next("sendPhoto", 502, chat_id=GROUP)
    async for team in start_team(emu, settings, detector):
        await team.photo(team.ranger, leopard_jpeg)
        db = team.services.db
        await eventually(lambda: db.scalar("SELECT last_error FROM outbox"))  # noqa: B023
        assert team.alerts() == []
    # The bot stopped with the alert still pending (backing off after a 502); a new run sends it.
    async for again in start_team(emu, settings, detector):
        await emu.wait_for(lambda: len([m for m in emu.sent(GROUP) if m["method"] == "sendPhoto"]) == 1, 20)
        await eventually(lambda: _sent(again))  # noqa: B023 - awaited inside the loop body
    assert len([m for m in emu.sent(GROUP) if m["method"] == "sendPhoto"]) == 1


async def test_burst_of_ten_photos_gives_one_alert(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    before = len(team.emu.sent(team.ranger.id))
    for data in leopard_variants(10):
        await team.emu.send_photo(team.ranger, data, caption="UST-04")
    await team.emu.wait_sent(team.ranger.id, before + 10, timeout=60)
    await eventually(lambda: team.services.db.scalar("SELECT COUNT(*) FROM sightings WHERE event_id = 1"))
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == 10
    assert await team.services.db.scalar("SELECT COUNT(DISTINCT event_id) FROM sightings") == 1
    await team.emu.wait_for(
        lambda: "+9" in (team.alerts()[0].get("caption") or "") if team.alerts() else False, 20
    )
    assert len(team.alerts()) == 1


async def test_confirm_button_edits_alert_audits_and_tells_ranger(team: Team, leopard_jpeg: bytes) -> None:
    await team.photo(team.ranger, leopard_jpeg)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    await eventually(lambda: _sent(team))
    alert = team.alerts()[0]
    buttons = [b["callback_data"] for row in alert["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["rv:1:confirmed", "rv:1:rejected", "rv:1:other"]
    coordinator = team.emu.user(555, "Dana")
    await team.invite(coordinator, "coordinator")  # only coordinators decide (test_who_decides.py)
    ranger_msgs = len(team.emu.sent(team.ranger.id))
    await team.emu.press_button(coordinator, alert, "rv:1:confirmed", check=True)
    await team.emu.wait_for(lambda: "Confirmed leopard: Dana" in (team.alerts()[0].get("caption") or ""), 10)
    review = await team.services.db.fetchone("SELECT * FROM reviews")
    assert (review["sighting_id"], review["user_id"], review["decision"]) == (1, 555, "confirmed")
    assert await team.services.db.scalar("SELECT status FROM sightings WHERE id = 1") == "confirmed"
    told = await team.emu.wait_sent(team.ranger.id, ranger_msgs + 1)
    assert "confirmed sighting #1" in told[-1]["text"]


async def test_buttons_in_unregistered_group_do_nothing(team: Team, leopard_jpeg: bytes) -> None:
    await team.photo(team.ranger, leopard_jpeg)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    stranger_group = team.emu.group(-100_999, "Somewhere else")
    fake = {**team.alerts()[0], "chat": stranger_group}
    await team.emu.press_button(team.emu.user(556, "Eve"), fake, "rv:1:rejected", check=False)
    await team.say(team.admin, "/help")  # let the update be processed
    assert await team.services.db.scalar("SELECT COUNT(*) FROM reviews") == 0
    assert await team.services.db.scalar("SELECT status FROM sightings WHERE id = 1") == "unreviewed"


async def test_html_in_caption_is_shown_not_interpreted(team: Team, leopard_jpeg: bytes) -> None:
    await team.say(team.admin, "/trusted on", team.group)  # only trusted readers get the caption at all
    await team.photo(team.ranger, leopard_jpeg, caption="<b>UST</b> & <script>x</script>")
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    alert = team.alerts()[0]
    assert "<b>UST</b> & <script>x</script>" in alert["caption"]
    bold = [e for e in alert.get("caption_entities", []) if e["type"] == "bold"]
    assert len(bold) == 1  # only the bot's own title is bold


async def test_routing_by_area_and_precision_by_trust(
    team: Team, leopard_jpeg: bytes, leopard2_jpeg: bytes
) -> None:
    kzs = team.emu.group(-100_888, "Kyzylsai")
    await team.say(team.admin, "/register en", kzs)
    await team.say(team.admin, "/areas UST", team.group)
    await team.say(team.admin, "/areas KZS", kzs)
    await team.say(team.admin, "/trusted on", kzs)
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    await team.say(team.admin, "/station add KZS-01 43.30 53.10 Canyon area=KZS")
    await team.photo(team.ranger, leopard_jpeg, caption="UST-04")
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    # No station, a point 5 km from KZS-01: Kyzylsai's area.
    await team.location(team.ranger, 43.3312, 53.1412)
    await team.photo(team.ranger, leopard2_jpeg)
    await team.emu.wait_for(lambda: len(team.alerts(kzs["id"])) == 1, timeout=20)
    assert len(team.alerts()) == 1  # Ustyurt group did not get the Kyzylsai leopard
    ust_caption = team.alerts()[0]["caption"]
    assert "43.21000" not in ust_caption and "rounded to 10 km" in ust_caption
    assert "43.33120, 53.14120" in team.alerts(kzs["id"])[0]["caption"]  # trusted: exact


async def test_movement_between_confirmed_sightings(
    team: Team, leopard_jpeg: bytes, leopard2_jpeg: bytes
) -> None:
    day = 86_400
    now = int(time.time())
    await team.say(team.admin, "/trusted on", team.group)  # exact moves; untrusted: test_untrusted_readers
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    await team.say(team.admin, "/station add KZS-01 43.40 54.45 Canyon area=KZS")  # ~210 km east
    await team.emu.send_photo(team.ranger, leopard_jpeg, caption="UST-04", date=now - 25 * day)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    await eventually(lambda: _sent(team))
    await team.emu.press_button(team.admin, team.alerts()[0], "rv:1:confirmed")
    await eventually(lambda: _confirmed(team))
    await team.emu.send_photo(team.ranger, leopard2_jpeg, caption="KZS-01", date=now)
    await team.emu.wait_for(lambda: len(team.alerts()) == 2, timeout=20)
    caption = team.alerts()[1]["caption"]
    assert "from #1 (UST-04) in 25.0 days" in caption and "one animal could do this" in caption
    km = int(caption.split("↔ ")[1].split(" km")[0])
    assert 205 <= km <= 215


async def _confirmed(team: Team) -> bool:
    return await team.services.db.scalar("SELECT status FROM sightings WHERE id = 1") == "confirmed"


async def test_a_group_cannot_decide_on_an_event_it_was_not_shown(team: Team, leopard_jpeg: bytes) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    other = team.emu.group(-100_777, "Kyzylsai coordinators")
    await team.emu.add_bot_to_group(team.admin, other)
    await team.say(team.admin, "/register en", other)
    await team.say(team.admin, "/areas KZS", other)
    await team.photo(team.ranger, leopard_jpeg, caption="UST-04")
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    assert team.alerts(other["id"]) == []  # routed to the UST group only
    # A member of the other group forges the button (a custom client can send any callback data).
    forged = {**team.alerts()[0], "chat": other}
    query = await team.emu.press_button(team.emu.user(556, "Eve"), forged, "rv:1:rejected", check=False)
    await team.emu.wait_for(lambda: team.emu.callback_answer(query["id"]) is not None)
    assert team.emu.callback_answer(query["id"])["text"] == "This button is no longer valid."
    assert await team.services.db.scalar("SELECT COUNT(*) FROM reviews") == 0
    assert await team.services.db.scalar("SELECT status FROM sightings WHERE id = 1") == "unreviewed"


async def test_untrusted_group_does_not_see_coordinates_typed_in_the_caption(
    team: Team, leopard_jpeg: bytes
) -> None:
    # The place is rounded for an untrusted group; the ranger's caption must not undo that: an
    # untrusted reader gets no free text at all, only a note that there was some.
    caption = "43.21234, 51.87654 near the spring https://maps.google.com/?q=43.21234,51.87654"
    await team.photo(team.ranger, leopard_jpeg, caption=caption)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    shown = team.alerts()[0]["caption"]
    assert "rounded to 10 km" in shown and "note is shown to trusted groups only" in shown
    assert "21234" not in shown and "87654" not in shown and "maps.google" not in shown
    assert "spring" not in shown
    # A trusted group sees the caption as the ranger wrote it.
    await team.say(team.admin, "/trusted on", team.group)
    assert "43.21234, 51.87654" in (await team.say(team.admin, "/sighting 1", team.group))["caption"]


async def test_photos_joining_while_the_alert_is_in_flight_still_update_it(team: Team) -> None:
    # The alert is rendered, then posted; photos of the same burst that arrive during the upload
    # (a slow link makes that window wide) must still end up in its "+N photos" line.
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    first, *rest = leopard_variants(4)
    team.emu.slow_next("sendPhoto", 2.0)
    await team.emu.send_photo(team.ranger, first, caption="UST-04")
    await eventually(lambda: team.services.db.scalar("SELECT status = 'sending' FROM outbox WHERE id = 1"))
    for data in rest:
        await team.emu.send_photo(team.ranger, data, caption="UST-04")
    await eventually(lambda: team.services.db.scalar("SELECT COUNT(*) = 4 FROM sightings WHERE event_id = 1"))
    await team.emu.wait_for(
        lambda: bool(team.alerts()) and "+3" in (team.alerts()[0].get("caption") or ""), 20
    )
    assert len(team.alerts()) == 1


async def test_a_change_during_an_edit_in_flight_gets_its_own_edit(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    first, second, third = leopard_variants(3)
    await team.emu.send_photo(team.ranger, first, caption="UST-04")
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    await eventually(lambda: _sent(team))
    team.emu.slow_next("editMessageCaption", 2.0)
    await team.emu.send_photo(team.ranger, second, caption="UST-04")  # "+1 photo", edited slowly
    db = team.services.db
    await eventually(
        lambda: db.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'refresh' AND status = 'sending'")
    )
    await team.emu.send_photo(team.ranger, third, caption="UST-04")  # arrives during that edit
    await team.emu.wait_for(lambda: "+2" in (team.alerts()[0].get("caption") or ""), 20)


async def test_a_change_while_an_edit_is_being_rendered_gets_its_own_edit(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    first, second, third = leopard_variants(3)
    await team.emu.send_photo(team.ranger, first, caption="UST-04")
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    await eventually(lambda: _sent(team))
    rendering = asyncio.Event()
    real = outbox_module.build_alert

    async def slow_render(*args: object) -> object:  # the caption is read, then a busy machine stalls
        view = await real(*args)  # type: ignore[arg-type]
        rendering.set()
        await asyncio.sleep(1.0)
        return view

    monkeypatch.setattr(outbox_module, "build_alert", slow_render)
    await team.emu.send_photo(team.ranger, second, caption="UST-04")
    await asyncio.wait_for(rendering.wait(), 20)  # the "+1" edit is rendered, not yet sent ...
    await team.emu.send_photo(team.ranger, third, caption="UST-04")  # ... when the third photo joins
    await team.emu.wait_for(lambda: "+2" in (team.alerts()[0].get("caption") or ""), 20)
