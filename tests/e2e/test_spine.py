"""The spine, end to end: the real PTB Application against the Bot API emulator."""

from __future__ import annotations

from tests.conftest import GROUP, Team, eventually


async def test_photo_then_location_records_sighting_and_alerts_group(team: Team, leopard_jpeg: bytes) -> None:
    receipt = await team.photo(team.ranger, leopard_jpeg)
    assert "Sighting #1" in receipt["text"] and "leopard detected" in receipt["text"]
    assert "location pin" in receipt["text"]  # asks for a place
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    alert = team.alerts()[0]
    assert "Leopard" in alert["caption"] and "#1" in alert["caption"]
    assert "waiting for the ranger" in alert["caption"]
    reply = await team.location(team.ranger, 43.21, 51.87)
    assert "#1" in reply["text"]
    row = await team.services.db.fetchone("SELECT * FROM sightings WHERE id = 1")
    assert row["is_leopard"] == 1 and row["lat"] == 43.21 and row["lon"] == 51.87
    assert row["location_source"] == "pin" and row["ranger_id"] == team.ranger.id
    assert row["score"] >= team.services.settings.threshold
    # The alert is edited in place with the place (the group is not trusted: rounded).
    await team.emu.wait_for(lambda: "43.2" in (team.alerts()[0].get("caption") or ""), timeout=10)
    assert len(team.alerts()) == 1
    assert "rounded" in team.alerts()[0]["caption"]


async def test_location_first_then_photo(team: Team, leopard_jpeg: bytes) -> None:
    await team.location(team.ranger, 43.5, 52.3)
    receipt = await team.photo(team.ranger, leopard_jpeg)
    assert "Place: 43.50000, 52.30000" in receipt["text"]
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    row = await team.services.db.fetchone("SELECT lat, lon, location_source FROM sightings")
    assert (row["lat"], row["lon"], row["location_source"]) == (43.5, 52.3, "pin")
    # The alert photo is the stored photo with the box drawn in, as a real upload.
    photo = team.alerts()[0]["photo"][-1]
    assert len(team.emu.file_bytes(photo["file_id"])) > 1000


async def test_non_leopard_gets_receipt_but_no_alert(team: Team, jackal_jpeg: bytes) -> None:
    receipt = await team.photo(team.ranger, jackal_jpeg)
    assert "another animal (leopard score" in receipt["text"]  # the kind, never the model's label
    row = await team.services.db.fetchone("SELECT is_leopard, label FROM sightings")
    assert row["is_leopard"] == 0 and row["label"] != "leopard"
    assert await team.services.db.scalar("SELECT COUNT(*) FROM outbox") == 0
    assert team.alerts() == []


async def test_blocked_group_does_not_stop_other_groups(team: Team, leopard_jpeg: bytes) -> None:
    second = team.emu.group(-100_777, "Kyzylsai coordinators")
    await team.say(team.admin, "/register ru", second)
    team.emu.block_chat(GROUP)
    told_before = len(team.emu.sent(team.admin.id))
    await team.photo(team.ranger, leopard_jpeg)
    await team.emu.wait_for(lambda: len(team.alerts(second["id"])) == 1, timeout=20)
    await eventually(lambda: _is_sent(team, second["id"]))
    rows = await team.services.db.fetchall("SELECT chat_id, status, last_error FROM outbox ORDER BY chat_id")
    by_chat = {r["chat_id"]: r for r in rows}
    assert by_chat[GROUP]["status"] == "failed" and "403" in by_chat[GROUP]["last_error"]
    assert by_chat[second["id"]]["status"] == "sent"
    # The admins are told, in plain words, which group did not get which alert.
    # The admin already has the invite reply: wait for one message more (the notice is queued, then sent).
    notice = (await team.emu.wait_sent(team.admin.id, told_before + 1))[-1]["text"]
    assert f"sighting #1 to chat {GROUP} failed: 403" in notice
    # The Russian-speaking group got its alert in Russian.
    assert "Леопард" in team.alerts(second["id"])[0]["caption"]


async def _is_sent(team: Team, chat_id: int) -> bool:
    return await team.outbox_status(chat_id) == "sent"
