"""A ranger hands a photo the model passed over to the coordinators: "it is a leopard"."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from bot.reports.exports import export
from bot.reports.summary import build_summary
from emulator import BotApiEmulator
from tests.conftest import GROUP, RANGER, Team, eventually
from tests.support.validators import validate_camtrapdp


def _escalate_button(receipt: dict) -> str:
    [[button]] = receipt["reply_markup"]["inline_keyboard"]
    return button["callback_data"]


def _current(emu: BotApiEmulator, message: dict) -> dict:
    chat = message["chat"]["id"]
    return next(m for m in emu.sent(chat) if m["message_id"] == message["message_id"])


async def _answer(emu: BotApiEmulator, query: dict) -> str:
    await emu.wait_for(lambda: emu.callback_answer(query["id"]) is not None)
    return emu.callback_answer(query["id"])["text"]


async def test_ranger_sends_a_missed_leopard_to_the_coordinators(team: Team, jackal_jpeg: bytes) -> None:
    emu, db = team.emu, team.services.db
    receipt = await team.photo(team.ranger, jackal_jpeg, caption="43.21, 51.87")
    assert "another animal (leopard score" in receipt["text"] and team.alerts() == []
    data = _escalate_button(receipt)
    assert (
        data == "esc:1" and "send to coordinators" in receipt["reply_markup"]["inline_keyboard"][0][0]["text"]
    )

    query = await emu.press_button(team.ranger, receipt, data)
    assert "went to the coordinators" in await _answer(emu, query)
    await emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    alert = team.alerts()[0]
    assert "Possible leopard" in alert["caption"] and "The ranger says it is a leopard" in alert["caption"]
    assert "rv:1:confirmed" in str(alert["reply_markup"])  # the coordinators decide, as for a detection
    row = await db.fetchone("SELECT event_id, escalated_by, status FROM sightings WHERE id = 1")
    assert (row["event_id"], row["escalated_by"], row["status"]) == (1, RANGER, "unreviewed")
    # The button is gone from the receipt; pressing a stale copy sends nothing twice.
    await emu.wait_for(lambda: not _current(emu, receipt).get("reply_markup"))
    again = await emu.press_button(team.ranger, receipt, data, check=False)
    assert "already with the coordinators" in await _answer(emu, again)

    # Coordinators confirm: it is a confirmed leopard like any other, and the ranger is told.
    before = len(emu.sent(RANGER))
    await emu.press_button(team.admin, alert, "rv:1:confirmed")
    await emu.wait_sent(RANGER, before + 1, timeout=20)
    assert "confirmed sighting #1 as a leopard" in emu.sent(RANGER)[-1]["text"]
    group = await team.services.groups.get(GROUP)
    assert group is not None
    now = datetime.now(UTC)
    summary = await build_summary(
        db, group, now - timedelta(days=7), now + timedelta(seconds=1), settings=team.services.settings
    )
    assert (summary.current.leopards, summary.current.confirmed) == (1, 1)
    assert await eventually(lambda: db.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'alert'")) == 1


async def test_only_the_sender_can_hand_a_photo_over(team: Team, jackal_jpeg: bytes) -> None:
    emu = team.emu
    receipt = await team.photo(team.ranger, jackal_jpeg)
    other = emu.user(700_009, "Other ranger")
    await team.invite(other)
    query = await emu.press_button(other, receipt, _escalate_button(receipt), check=False)
    assert "no longer valid" in await _answer(emu, query)
    outsider = emu.user(123_456, "Stranger")
    query = await emu.press_button(outsider, receipt, _escalate_button(receipt), check=False)
    assert "only for the rangers and coordinators" in await _answer(emu, query)
    assert await team.services.db.scalar("SELECT event_id FROM sightings WHERE id = 1") is None
    assert team.alerts() == []


async def test_detected_leopards_get_no_such_button(team: Team, leopard_jpeg: bytes) -> None:
    receipt = await team.photo(team.ranger, leopard_jpeg)
    assert "leopard detected" in receipt["text"] and "reply_markup" not in receipt


async def test_album_receipt_offers_a_button_per_photo_the_model_passed_over(
    team: Team, jackal_jpeg: bytes, leopard_jpeg: bytes
) -> None:
    jackal = Image.open(io.BytesIO(jackal_jpeg))
    shifted = io.BytesIO()
    jackal.crop((5, 0, jackal.width, jackal.height)).save(shifted, format="JPEG", quality=90)
    before = len(team.emu.sent(RANGER))
    await team.emu.send_album(team.ranger, [jackal_jpeg, leopard_jpeg, shifted.getvalue()], caption="UST")
    receipt = (await team.emu.wait_sent(RANGER, before + 1, timeout=30))[-1]
    buttons = [row[0] for row in receipt["reply_markup"]["inline_keyboard"]]
    rows = await team.services.db.fetchall("SELECT id, is_leopard FROM sightings ORDER BY id")
    passed = [r["id"] for r in rows if not r["is_leopard"]]
    assert len(rows) == 3 and len(passed) == 2  # album parts are recorded in parallel: any order
    assert [b["callback_data"] for b in buttons] == [f"esc:{i}" for i in passed]
    assert buttons[0]["text"] == f"🐆 #{passed[0]} is a leopard"
    # Pressing one leaves the other.
    query = await team.emu.press_button(team.ranger, receipt, f"esc:{passed[1]}")
    assert f"#{passed[1]} went to the coordinators" in await _answer(team.emu, query)

    def left() -> list[str]:
        return [r[0]["callback_data"] for r in _current(team.emu, receipt)["reply_markup"]["inline_keyboard"]]

    await team.emu.wait_for(lambda: left() == [f"esc:{passed[0]}"])


async def test_exports_tell_a_rangers_report_from_a_detection(
    team: Team, jackal_jpeg: bytes, tmp_path: Path
) -> None:
    receipt = await team.photo(team.ranger, jackal_jpeg, caption="43.21, 51.87")
    query = await team.emu.press_button(team.ranger, receipt, _escalate_button(receipt))
    await _answer(team.emu, query)
    db = team.services.db
    kw = {"exact": True, "grid_km": 10.0}
    [row] = list(csv.DictReader(io.StringIO((await export(db, "csv", None, None, **kw)).decode("utf-8-sig"))))
    assert (row["label"], row["is_leopard"], row["reported_by_ranger"]) == ("another animal", "0", "1")
    package = await export(db, "camtrapdp", None, None, **kw)
    validate_camtrapdp(package, tmp_path)  # still a valid Camtrap DP 1.0.2 package
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("observations.csv").decode("utf-8"))))
    [obs] = [o for o in rows if o["observationLevel"] == "media"]  # and its event's observation next to it
    assert (obs["scientificName"], obs["classificationMethod"], obs["classifiedBy"]) == (
        "Panthera pardus",
        "human",
        "Serik",
    )
    assert "model: another animal (leopard score" in obs["observationComments"]
