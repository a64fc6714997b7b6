"""Movement analysis counts what coordinators confirmed, whatever label the model gave."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.alerts.movement import previous_moves
from bot.geo import Point
from storage.db import Database, iso
from tests.conftest import Team, eventually

T0 = datetime(2025, 6, 1, 3, tzinfo=UTC)
UST, KZS = Point(43.21, 51.87), Point(43.40, 54.45)  # ~210 km apart


async def _sighting(db: Database, sid: int, label: str, status: str, where: Point, taken: datetime) -> None:
    sha = f"{sid:064x}"
    await db.execute(
        "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, ?, 1, ?)",
        (sha, f"{sha}.jpg", iso(taken)),
    )
    await db.execute(
        """INSERT INTO sightings (id, photo_sha256, taken_at, received_at, lat, lon, label, score,
                                  is_leopard, event_id, status)
           VALUES (?, ?, ?, ?, ?, ?, ?, 0.5, ?, ?, ?)""",
        (sid, sha, iso(taken), iso(taken), where.lat, where.lon, label, int(label == "leopard"), sid, status),
    )


async def test_confirmed_events_count_whatever_the_model_called_them(tmp_path: Path) -> None:
    async with Database(tmp_path / "lw.sqlite3") as db:
        # A pale leopard the model called "snow leopard"; coordinators pressed "Yes, leopard".
        await _sighting(db, 1, "snow leopard", "confirmed", UST, T0)
        await _sighting(db, 2, "leopard", "unreviewed", UST, T0 + timedelta(days=1))  # not yet reviewed
        await _sighting(db, 3, "leopard", "rejected", UST, T0 + timedelta(days=2))
        later = T0 + timedelta(days=21)
        moves = await previous_moves(db, 4, KZS, later, days=60, max_km_per_day=30)
        assert [m.other_id for m in moves] == [1]
        assert 205 <= moves[0].move.distance_km <= 215 and moves[0].move.plausible  # ~10 km/day
        assert await previous_moves(db, 4, KZS, later, days=7, max_km_per_day=30) == []  # outside the window


async def test_compare_answers_the_one_or_two_leopards_question(
    team: Team, leopard_jpeg: bytes, leopard2_jpeg: bytes, jackal_jpeg: bytes
) -> None:
    now, day = int(time.time()), 86_400
    await team.say(team.admin, "/trusted on", team.group)  # exact answers; untrusted: test_untrusted_readers
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    await team.say(team.admin, "/station add KZS-01 43.40 54.45 Canyon area=KZS")  # ~210 km east
    await team.emu.send_photo(team.ranger, leopard_jpeg, caption="UST-04", date=now - 21 * day)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    await team.emu.send_photo(team.ranger, leopard2_jpeg, caption="KZS-01", date=now)
    await team.emu.wait_for(lambda: len(team.alerts()) == 2, timeout=30)
    await team.emu.press_button(team.admin, team.alerts()[0], "rv:1:confirmed")

    reply = (await team.say(team.admin, "/compare 2 #1", team.group))["text"]
    assert reply.startswith("↔ #1 (UST-04) → #2 (KZS-01): 21") and "in 21.0 days" in reply
    assert "one animal could do this" in reply
    assert "Not confirmed by coordinators yet: #2" in reply and "#1" not in reply.split("yet:")[1]
    # The same two places two days apart: too far for one animal.
    await team.emu.send_photo(team.ranger, jackal_jpeg, caption="UST-04", date=now - 2 * day)
    await eventually(lambda: team.services.db.scalar("SELECT COUNT(*) = 3 FROM sightings"), timeout=30)
    reply = (await team.say(team.admin, "/compare 3 2"))["text"]  # privately, as a coordinator
    assert "in 2.0 days" in reply and "suggests two individuals" in reply


async def test_compare_explains_what_it_cannot_do(
    team: Team, jackal_jpeg: bytes, leopard_jpeg: bytes
) -> None:
    await team.photo(team.ranger, jackal_jpeg)  # #1: no place yet
    await team.photo(team.ranger, leopard_jpeg, caption="43.21, 51.87")  # #2
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)  # the group's next message
    say = team.say
    assert "Usage: /compare 12 15" in (await say(team.admin, "/compare 1", team.group))["text"]
    assert "Usage" in (await say(team.admin, "/compare 2 2"))["text"]
    assert "Usage" in (await say(team.admin, "/compare 1 2x"))["text"]
    assert (await say(team.admin, "/compare 2 99"))["text"] == "There is no sighting #99."
    assert (await say(team.admin, "/compare 2 1"))["text"].startswith("Sighting #1 has no place")
    assert (await say(team.ranger, "/compare 1 2"))["text"] == "Only coordinators can do this."


async def test_unreviewed_neighbour_is_a_hint_until_confirmed_then_counts(
    team: Team, leopard_jpeg: bytes, leopard2_jpeg: bytes
) -> None:
    now, day = int(time.time()), 86_400
    await team.say(team.admin, "/trusted on", team.group)  # exact moves; untrusted: test_untrusted_readers
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    await team.emu.send_photo(team.ranger, leopard_jpeg, caption="UST-04", date=now - 12 * day)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    await team.emu.send_photo(team.ranger, leopard2_jpeg, caption="43.52, 52.30", date=now)
    await team.emu.wait_for(lambda: len(team.alerts()) == 2, timeout=30)
    second = team.alerts()[1]["caption"]
    assert "❔ 49 km from #1 (UST-04) in 12.0 days" in second and "#1 is not reviewed yet" in second
    assert "one animal could do this" not in second  # a hint only: #1 may still be a false alarm
    # Confirming #1 edits #2's alert too: the move now counts.
    await team.emu.press_button(team.admin, team.alerts()[0], "rv:1:confirmed")

    def second_now() -> str:
        return team.alerts()[1].get("caption") or ""

    await team.emu.wait_for(lambda: "one animal could do this" in second_now(), timeout=20)
    assert "↔ 49 km from #1 (UST-04)" in second_now() and "❔" not in second_now()
