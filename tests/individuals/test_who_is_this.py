""" "Who is this?" in the chat (issue 25, point 3): a confirmed leopard alert asks the group, with the top
candidate's side-by-side picture, the matcher's cautious verdict and, apart from it, the movement from
that individual's last sighting; only coordinators answer, and a changed answer keeps its history."""

from __future__ import annotations

from typing import Any

from bot.individuals import compute_crop
from emulator.markup import callback_data_of
from storage.db import iso, utcnow
from tests.conftest import GROUP, Team, eventually


async def _seed_individual(team: Team, photo: bytes, code: str = "PL-M1") -> int:
    """A catalogue of one animal whose reference crop is this photo (whole frame, no station)."""
    svc = team.services
    cat = svc.identifications.catalogue
    stored = svc.photos.put(photo)
    async with svc.db.transaction() as conn:
        await conn.execute(
            "INSERT OR IGNORE INTO photos (sha256, path, size, created_at) VALUES (?, ?, ?, ?)",
            (stored.sha256, str(stored.path), stored.size, iso(utcnow())),
        )
        ind = await cat.create(conn, code=code, by=None, by_name="test", sex="male")
        await cat.add_reference(
            conn, ind, photo_sha256=stored.sha256, box=None, flank="unknown",
            features=compute_crop(photo, None, "unknown"), source="test", by=None,
        )  # fmt: skip
    return ind.id


def _question(team: Team) -> dict[str, Any] | None:
    for m in team.emu.sent(GROUP):
        if any(d.startswith("wi:") for d in callback_data_of(m.get("reply_markup"))):
            return m
    return None


async def _answer(team: Team, query: dict[str, Any]) -> dict[str, Any]:
    await team.emu.wait_for(lambda: team.emu.callback_answer(query["id"]) is not None)
    found = team.emu.callback_answer(query["id"])
    assert found is not None
    return found


async def test_confirmed_alert_asks_who_and_only_coordinators_answer(team: Team, leopard_jpeg: bytes) -> None:
    pl_m1 = await _seed_individual(team, leopard_jpeg)
    await team.photo(team.ranger, leopard_jpeg)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    await eventually(lambda: team.outbox_status(GROUP))
    alert = team.alerts()[0]
    event = int(await team.services.db.scalar("SELECT event_id FROM sightings ORDER BY id LIMIT 1"))
    assert _question(team) is None  # nothing is asked before a coordinator confirms the leopard

    await team.emu.press_button(team.admin, alert, f"rv:{event}:confirmed")
    await team.emu.wait_for(lambda: _question(team) is not None, timeout=20)
    question = _question(team)
    assert question is not None
    data = callback_data_of(question["reply_markup"])
    assert {f"wi:{event}:s:{pl_m1}", f"wi:{event}:n", f"wi:{event}:c", f"wi:{event}:f:l"} <= set(data)
    # The same photo at no known station: the matcher may say "likely"; the move is a line of its own.
    assert "PL-M1" in question["text"] and "Who is this?" in question["text"]
    # The candidate's picture went out before the question (one candidate: a photo, not an album).
    assert [
        m for m in team.emu.sent(GROUP) if m["method"] == "sendPhoto" and "PL-M1" in (m.get("caption") or "")
    ]

    # A ranger in the group cannot decide; nothing is recorded.
    refused = await _answer(team, await team.emu.press_button(team.ranger, question, f"wi:{event}:s:{pl_m1}"))
    assert refused.get("show_alert") is True
    assert await team.services.db.scalar("SELECT COUNT(*) FROM identifications") == 0

    # The coordinator says "same as PL-M1": recorded with who, and the crop joins PL-M1's references.
    said = await _answer(team, await team.emu.press_button(team.admin, question, f"wi:{event}:s:{pl_m1}"))
    assert "PL-M1" in said.get("text", "")
    row = await team.services.db.fetchone("SELECT * FROM current_identities WHERE event_id = ?", (event,))
    assert row is not None and (row["decision"], row["individual_id"]) == ("same", pl_m1)
    refs = "SELECT COUNT(*) FROM individual_references WHERE individual_id = ? AND sighting_id = ?"
    assert await team.services.db.scalar(refs, (pl_m1, event)) == 1

    # Changed to "new individual": a new animal, the crop moves to it, and the history keeps both answers.
    await _answer(team, await team.emu.press_button(team.admin, question, f"wi:{event}:n"))
    history = await team.services.identifications.history(event)
    assert [(h["decision"], h["code"]) for h in history] == [("same", "PL-M1"), ("new", "PL-U1")]
    assert await team.services.db.scalar(refs, (pl_m1, event)) == 0
    audit = await team.services.identifications.catalogue.history(pl_m1)
    assert [a["what"] for a in audit] == [
        "created",
        "reference added",
        "reference added",
        "reference removed",
    ]
    # A second press of "New individual" makes no second animal.
    await _answer(team, await team.emu.press_button(team.admin, question, f"wi:{event}:n"))
    assert await team.services.db.scalar("SELECT COUNT(*) FROM individuals") == 2


async def test_a_forged_answer_where_nobody_asked_is_refused(team: Team, leopard_jpeg: bytes) -> None:
    await team.photo(team.ranger, leopard_jpeg)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=20)
    alert = team.alerts()[0]
    event = int(await team.services.db.scalar("SELECT event_id FROM sightings ORDER BY id LIMIT 1"))
    query = await team.emu.press_button(team.admin, alert, f"wi:{event}:n", check=False)
    answer = await _answer(team, query)
    assert answer.get("show_alert") is True
    assert await team.services.db.scalar("SELECT COUNT(*) FROM individuals") == 0
