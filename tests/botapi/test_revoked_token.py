"""A revoked token (401 on every call) stops the senders: the alert and the notice stay pending, uncounted,
instead of being retried as a network error for hours and then given up."""

from __future__ import annotations

from emulator import BotApiEmulator
from storage.db import iso, utcnow
from tests.conftest import ADMIN, GROUP, Team, eventually

MANY = 1000  # every call of that kind answers 401 for the rest of the test


async def test_a_401_keeps_the_alert_pending_and_never_gives_it_up(
    team: Team, emu: BotApiEmulator, leopard_jpeg: bytes
) -> None:
    emu.fail_next("sendPhoto", 401, chat_id=GROUP, description="Unauthorized", times=MANY)
    await team.photo(team.ranger, leopard_jpeg)
    db = team.services.db
    row = await eventually(
        lambda: db.fetchone("SELECT * FROM outbox WHERE kind = 'alert' AND last_error IS NOT NULL")
    )
    assert row["status"] == "pending" and row["attempts"] == 0, dict(row)
    assert str(row["last_error"]).startswith("401"), dict(row)
    # However long it lasted before, a 401 is not an attempt: the alert is never given up for it.
    await db.execute(
        "UPDATE outbox SET attempts = 49, next_attempt_at = ? WHERE id = ?", (iso(utcnow()), row["id"])
    )
    told = len(emu.sent(ADMIN))
    assert await team.services.outbox.drain(team.app.bot) == 0
    assert await db.scalar("SELECT status FROM outbox WHERE id = ?", (row["id"],)) == "pending"
    assert not any("failed" in (m.get("text") or "") for m in emu.sent(ADMIN)[told:])


async def test_a_401_stops_the_drain_after_one_call(team: Team, emu: BotApiEmulator) -> None:
    from bot.people import queue_admin_notice

    db = team.services.db
    emu.fail_next("sendMessage", 401, chat_id=ADMIN, description="Unauthorized", times=MANY)
    await db.execute("UPDATE notices SET status = 'sent' WHERE status = 'pending'")
    for n in range(3):
        await queue_admin_notice(db, {ADMIN}, f"notice {n}")
    before = len(emu.calls_of("sendMessage"))
    assert await team.services.notices.drain(team.app.bot) == 0
    assert len(emu.calls_of("sendMessage")) == before + 1  # not one 401 per queued notice
    rows = await db.fetchall("SELECT status, attempts, last_error FROM notices WHERE text LIKE 'notice %'")
    assert all(r["status"] == "pending" and r["attempts"] == 0 for r in rows), [dict(r) for r in rows]
    await db.execute("UPDATE notices SET attempts = 29 WHERE text LIKE 'notice %'")
    await team.services.notices.drain(team.app.bot)
    assert await db.scalar("SELECT COUNT(*) FROM notices WHERE status = 'failed'") == 0
