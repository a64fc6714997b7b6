"""Review buttons survive what Telegram does to them: late answers, failed sends, restarts, double
presses and forged callback data. The ranger's verdict is a durable notice queued with the decision."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.detection.model import OnnxLeopardDetector
from emulator import BotApiEmulator, EmulatedUser
from tests.conftest import GROUP, RANGER, Team, eventually, start_team

TOLD_RU = "Координаторы подтвердили: наблюдение #1"
TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


async def _alert(team: Team, photo: bytes) -> dict[str, Any]:
    await team.invite(_coordinator(team), "coordinator")  # only coordinators decide (test_who_decides.py)
    await team.photo(team.ranger, photo)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    await eventually(lambda: _alert_sent(team))
    return team.alerts()[0]


async def _alert_sent(team: Team) -> bool:
    return await team.outbox_status(GROUP) == "sent"


def _verdicts(emu: BotApiEmulator) -> list[str]:
    """Verdict messages the ranger received (the receipts and replies to commands are not counted)."""
    return [
        m["text"]
        for m in emu.sent(RANGER)
        if "sighting #1" in m.get("text", "") and "Coordinators" in m["text"]
    ]


async def _answer(emu: BotApiEmulator, query: dict[str, Any]) -> str:
    await emu.wait_for(lambda: emu.callback_answer(query["id"]) is not None)
    answer = emu.callback_answer(query["id"])
    assert answer is not None
    return str(answer.get("text", ""))


async def _reviews(team: Team) -> int:
    return int(await team.services.db.scalar("SELECT COUNT(*) FROM reviews"))


def _coordinator(team: Team) -> EmulatedUser:
    return team.emu.user(555, "Dana")


async def test_a_late_answer_still_records_and_tells_the_ranger(team: Team, leopard_jpeg: bytes) -> None:
    alert = await _alert(team, leopard_jpeg)
    # The bot was slow (a busy machine, a backlog after a restart): Telegram refuses the answer.
    team.emu.fail_next("answerCallbackQuery", 400, description=TOO_OLD)
    await team.emu.press_button(_coordinator(team), alert, "rv:1:confirmed")
    await team.emu.wait_for(lambda: "Confirmed leopard: Dana" in (team.alerts()[0].get("caption") or ""), 10)
    await team.emu.wait_for(lambda: len(_verdicts(team.emu)) == 1, 10)
    assert "confirmed sighting #1" in _verdicts(team.emu)[0]
    assert await _reviews(team) == 1
    assert await team.services.db.scalar("SELECT status FROM sightings WHERE id = 1") == "confirmed"
    # Pressing again (the coordinator saw no toast) is answered and changes nothing.
    again = await team.emu.press_button(_coordinator(team), alert, "rv:1:confirmed")
    assert await _answer(team.emu, again) == "Already recorded: confirmed leopard."
    assert await _reviews(team) == 1 and len(_verdicts(team.emu)) == 1


async def test_the_verdict_survives_a_failed_send(team: Team, leopard_jpeg: bytes) -> None:
    await team.say(team.ranger, "/lang ru")  # the verdict speaks the ranger's language, not the presser's
    alert = await _alert(team, leopard_jpeg)
    team.emu.fail_next("sendMessage", 502, chat_id=RANGER)
    query = await team.emu.press_button(_coordinator(team), alert, "rv:1:confirmed")
    assert await _answer(team.emu, query) == "Recorded: confirmed leopard."

    def verdicts() -> list[dict[str, Any]]:
        return [
            c for c in team.emu.calls_of("sendMessage") if c["chat_id"] == RANGER and TOLD_RU in c["text"]
        ]

    await team.emu.wait_for(lambda: any(TOLD_RU in m.get("text", "") for m in team.emu.sent(RANGER)), 15)
    # Telegram has the message before the bot has written down that it was sent: wait for the row.
    sent = "SELECT status = 'sent' FROM notices WHERE kind = 'verdict'"
    await eventually(lambda: team.services.db.scalar(sent))
    row = await team.services.db.fetchone("SELECT status, attempts FROM notices WHERE kind = 'verdict'")
    assert (row["status"], row["attempts"]) == ("sent", 2), dict(row)
    assert len(verdicts()) == 2  # one refused with 502, one delivered
    assert len([m for m in team.emu.sent(RANGER) if TOLD_RU in m.get("text", "")]) == 1


async def test_the_verdict_survives_a_restart(
    emu: BotApiEmulator, settings: Settings, detector: OnnxLeopardDetector, leopard_jpeg: bytes
) -> None:
    async for team in start_team(emu, settings, detector):
        alert = await _alert(team, leopard_jpeg)
        emu.fail_next("sendMessage", 502, chat_id=RANGER)
        await emu.press_button(_coordinator(team), alert, "rv:1:confirmed")
        db = team.services.db
        # The decision is saved and its notice failed once; the bot stops before the retry is due.
        await eventually(lambda: db.scalar("SELECT last_error FROM notices WHERE kind = 'verdict'"))  # noqa: B023
        assert await _reviews(team) == 1
    assert _verdicts(emu) == []
    async for again in start_team(emu, settings, detector):
        await emu.wait_for(lambda: len(_verdicts(emu)) == 1, 20)
        db = again.services.db
        await eventually(lambda: db.scalar("SELECT status = 'sent' FROM notices WHERE kind = 'verdict'"))  # noqa: B023
        assert await _reviews(again) == 1
    assert len(_verdicts(emu)) == 1


async def test_a_double_press_records_one_decision(team: Team, leopard_jpeg: bytes) -> None:
    alert = await _alert(team, leopard_jpeg)
    dana, aigerim = _coordinator(team), team.admin
    # Two presses at once (updates are handled concurrently), by two coordinators.
    first = await team.emu.press_button(dana, alert, "rv:1:confirmed")
    second = await team.emu.press_button(aigerim, alert, "rv:1:confirmed")
    await _answer(team.emu, first)
    await _answer(team.emu, second)
    await team.emu.wait_for(lambda: len(_verdicts(team.emu)) == 1, 10)
    await eventually(lambda: team.services.db.scalar("SELECT status = 'sent' FROM notices"))
    assert await _reviews(team) == 1
    assert await team.services.db.scalar("SELECT COUNT(*) FROM notices WHERE kind = 'verdict'") == 1
    # A later press of the same button says so and writes nothing, not even an alert edit.
    edits = len(team.emu.calls_of("editMessageCaption"))
    late = await team.emu.press_button(dana, alert, "rv:1:confirmed")
    assert await _answer(team.emu, late) == "Already recorded: confirmed leopard."
    assert await _reviews(team) == 1
    assert await team.services.db.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'") == 0
    assert len(team.emu.calls_of("editMessageCaption")) == edits
    # A changed mind is a new decision: recorded, and the ranger told again. The decided alert keeps one
    # "Decided: ..." button (bot/botapi/keyboards.py); /sighting 1 offers the three buttons again.
    shown = await team.say(dana, "/sighting 1", team.group)
    changed = await team.emu.press_button(dana, shown, "rv:1:rejected")
    assert await _answer(team.emu, changed) == "Recorded: not a leopard."
    await team.emu.wait_for(lambda: len(_verdicts(team.emu)) == 2, 10)
    assert "not a leopard" in _verdicts(team.emu)[1]
    assert await _reviews(team) == 2


async def test_forged_callback_data_gets_a_polite_answer(team: Team, leopard_jpeg: bytes) -> None:
    alert = await _alert(team, leopard_jpeg)
    forged = [
        "rv:¹:confirmed",  # "¹".isdigit() is True, int("¹") raises
        "rv:٣:confirmed",  # an Arabic-Indic digit: int() accepts it, the bot's buttons never carry it
        "rv:99999999999999999999:confirmed",  # does not fit SQLite's INTEGER
        "rv:9223372036854775808:confirmed",  # 2**63: one past it
        "rv:0:confirmed",
        "rv:-1:confirmed",
        "rv:1:maybe",
        "rv:1",
        "rv:",
        "rv:1:confirmed:extra",
        "rv:1:confirmed\n",
    ]
    for data in forged:
        query = await team.emu.press_button(_coordinator(team), alert, data, check=False)
        assert await _answer(team.emu, query) == "This button is no longer valid.", data
    assert await _reviews(team) == 0
    assert await team.services.db.scalar("SELECT status FROM sightings WHERE id = 1") == "unreviewed"
    # The bot keeps working: the real button still decides.
    query = await team.emu.press_button(_coordinator(team), alert, "rv:1:confirmed")
    assert await _answer(team.emu, query) == "Recorded: confirmed leopard."
    await team.emu.wait_for(lambda: len(_verdicts(team.emu)) == 1, 10)
    assert await _reviews(team) == 1
