"""Where a sighting's time came from, end to end: Reconyx maker-note times through the SD-card import and
as Telegram documents, compressed photos timed by their receipt, camera clocks that look wrong."""

from __future__ import annotations

import argparse
import os
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.alerts.movement import latest_unconfirmed_move, previous_moves
from bot.cli import sd_import as import_cli
from bot.config import Settings
from bot.geo import Point
from bot.places import Stations
from emulator import BotApiEmulator
from storage.db import Database, iso, migrations, utcnow
from tests.conftest import GROUP, Team, leopard_variants
from tests.support.photo_files import HC500, HC600, SHARED_FILES, hyperfire_note, send_doc, value, with_exif

AQTAU_OFFSET = timedelta(hours=5)  # Asia/Aqtau, no summer time
UST, KZS = Point(43.21, 51.87), Point(43.40, 54.45)  # ~210 km apart


def local(dt: datetime) -> str:
    return (dt + AQTAU_OFFSET).strftime("%Y-%m-%d %H:%M")


def utc_iso(camera_local: datetime) -> str:
    return iso((camera_local - AQTAU_OFFSET).replace(tzinfo=UTC)) or ""


# --- SD-card import ---------------------------------------------------------------------------------


@pytest.fixture
async def registered(settings: Settings) -> Settings:
    async with Database(settings.database) as db:
        await Stations(db).add("UST-04", UST, "Spring", "UST")
        await db.execute(
            "INSERT INTO groups (chat_id, title, language, created_at) VALUES (?, 'C', 'en', ?)",
            (GROUP, iso(utcnow())),
        )
    return settings


def args(folder: Path) -> argparse.Namespace:
    return argparse.Namespace(folder=folder, station="UST-04", ranger=None, env_file="none")


async def test_import_reads_reconyx_maker_notes_and_counts_bad_clocks(
    tmp_path: Path,
    registered: Settings,
    emu: BotApiEmulator,
    jackal_jpeg: bytes,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu.group(GROUP, "Coordinators")
    night1 = datetime(2026, 10, 1, 2, 10)  # two leopard nights two weeks apart, camera clock time
    night2 = night1 + timedelta(days=14, hours=1)
    leo1, leo2, leo3 = leopard_variants(3)
    card = tmp_path / "DCIM"
    card.mkdir()
    for path in (HC500, HC600):
        (card / path.name).write_bytes(path.read_bytes())
    (card / "RCNX0001.JPG").write_bytes(with_exif(leo1, note=hyperfire_note(night1)))
    (card / "RCNX0002.JPG").write_bytes(with_exif(leo2, note=hyperfire_note(night2)))
    (card / "RESET001.JPG").write_bytes(with_exif(leo3, DateTimeOriginal="2000:01:01 00:03:00"))
    edited = card / "EDITED.JPG"  # a re-saved file: only its last-edit DateTime is left
    edited.write_bytes(with_exif(jackal_jpeg, DateTime="2026:11:30 08:00:00"))
    mtime = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)
    os.utime(edited, (mtime.timestamp(), mtime.timestamp()))

    assert await import_cli._run(args(card), registered) == 0
    out = capsys.readouterr().out
    assert value(out, "new sightings") == 6
    async with Database(registered.database) as db:
        rows = {r["caption"]: dict(r) for r in await db.fetchall("SELECT * FROM sightings")}
    # The real cameras' maker-note times (exiftool: 2020:03:16 10:00:00, 2014:07:04 18:40:53), at UTC+5.
    assert rows[HC500.name]["taken_at"] == "2020-03-16T05:00:00+00:00"
    assert rows[HC600.name]["taken_at"] == "2014-07-04T13:40:53+00:00"
    assert {rows[n]["time_source"] for n in (HC500.name, HC600.name)} == {"maker_note"}
    # Two nights two weeks apart stay two events, each with its own alert.
    first, second = rows["RCNX0001.JPG"], rows["RCNX0002.JPG"]
    assert (first["taken_at"], second["taken_at"]) == (utc_iso(night1), utc_iso(night2))
    assert first["event_id"] and second["event_id"] and first["event_id"] != second["event_id"]
    # A reset clock is flagged and kept as recorded; DateTime is not a shot time: the file's time is used.
    reset = rows["RESET001.JPG"]
    # (Mangystau was UTC+4 in 2000: the zone's history is applied to the camera's time as it stands.)
    assert (reset["clock_issue"], reset["taken_at"]) == ("reset", "1999-12-31T20:03:00+00:00")
    assert rows["EDITED.JPG"]["time_source"] == "import_file_time"
    assert rows["EDITED.JPG"]["taken_at"] == iso(mtime)
    # The summary counts both per station, with a warning for the station's maintenance.
    assert value(out, "camera clock looks wrong") == 1 and value(out, "no camera time (file time used)") == 1
    assert "⚠️ UST-04: the camera clock looks wrong on 1 of 6 new photos (first: 2000-01-01 00:03" in out
    assert "⚠️ UST-04: 1 of 6 new photos carry no camera time" in out
    alerts = {m["caption"].split("#")[1].split()[0]: m["caption"] for m in emu.sent(GROUP) if "caption" in m}
    assert len(alerts) == 3
    assert f"Taken {local(night1 - AQTAU_OFFSET)}" in alerts[str(first["id"])]
    assert "camera clock" in alerts[str(first["id"])]
    assert "Camera clock looks wrong: 2000-01-01 00:03" in alerts[str(reset["id"])]


# --- movement ---------------------------------------------------------------------------------------


async def _confirmed(
    db: Database, sid: int, where: Point, taken: datetime, source: str, issue: str | None
) -> None:
    sha = f"{sid:064x}"
    await db.execute(
        "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, ?, 1, ?)",
        (sha, f"{sha}.jpg", iso(taken)),
    )
    await db.execute(
        """INSERT INTO sightings (id, photo_sha256, taken_at, received_at, lat, lon, label, score, is_leopard,
                                  event_id, status, time_source, clock_issue)
           VALUES (?, ?, ?, ?, ?, ?, 'leopard', 0.5, 1, ?, 'confirmed', ?, ?)""",
        (sid, sha, iso(taken), iso(taken), where.lat, where.lon, sid, source, issue),
    )


async def test_movement_skips_wrong_clocks_and_marks_receipt_times(tmp_path: Path) -> None:
    t0 = datetime(2026, 6, 1, 3, tzinfo=UTC)
    async with Database(tmp_path / "lw.sqlite3") as db:
        await _confirmed(db, 1, UST, t0, "exif_original", None)
        await _confirmed(db, 2, UST, t0 + timedelta(days=1), "exif_original", "future")  # kept, never used
        await _confirmed(db, 3, UST, t0 + timedelta(days=2), "telegram_receipt", None)
        moves = await previous_moves(db, 9, KZS, t0 + timedelta(days=21), days=60, max_km_per_day=30)
        assert [(m.other_id, m.other_by_receipt) for m in moves] == [(3, True), (1, False)]
        await db.execute("UPDATE sightings SET status = 'unreviewed' WHERE id = 2")
        hint = await latest_unconfirmed_move(db, 9, KZS, t0 + timedelta(days=21), days=60, max_km_per_day=30)
        assert hint is None  # the unreviewed one has a wrong clock: not even a hint


# --- Telegram ---------------------------------------------------------------------------------------


async def test_reconyx_documents_get_their_maker_note_times_and_stay_apart(
    team: Team, leopard_jpeg: bytes, leopard2_jpeg: bytes
) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    night1 = datetime(2026, 11, 2, 2, 10)
    night2 = night1 + timedelta(days=14)
    await send_doc(team, HC500.read_bytes(), HC500.name, "image/jpeg", caption="UST-04")
    for name, base, night in (("R1.JPG", leopard_jpeg, night1), ("R2.JPG", leopard2_jpeg, night2)):
        await send_doc(team, with_exif(base, note=hyperfire_note(night)), name, "image/jpeg", "UST-04")
    rows = await team.services.db.fetchall("SELECT * FROM sightings ORDER BY id")
    assert rows[1]["event_id"] == 2 and rows[2]["event_id"] == 3  # sent seconds apart, taken two weeks apart
    assert [r["taken_at"] for r in rows] == ["2020-03-16T05:00:00+00:00", utc_iso(night1), utc_iso(night2)]
    assert [r["time_source"] for r in rows] == ["maker_note"] * 3
    await team.emu.wait_for(lambda: len(team.alerts()) == 2, timeout=30)
    caption = team.alerts()[0]["caption"]
    assert f"Taken {night1:%Y-%m-%d %H:%M} (Asia/Aqtau), camera clock" in caption


async def test_compressed_photo_says_received_and_is_no_capture_time_for_movement(
    team: Team, leopard_jpeg: bytes, leopard2_jpeg: bytes
) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    await team.say(team.admin, "/station add KZS-01 43.40 54.45 Canyon area=KZS")
    shot = datetime.now(UTC).replace(microsecond=0) - timedelta(days=21)
    camera = (shot + AQTAU_OFFSET).strftime("%Y:%m:%d %H:%M:%S")
    original = with_exif(leopard_jpeg, DateTimeOriginal=camera)
    await send_doc(team, original, "IMG_1.JPG", "image/jpeg", "KZS-01")
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    await team.emu.press_button(team.admin, team.alerts()[0], "rv:1:confirmed")
    # Hours after the shot, with signal again: a compressed photo, which Telegram strips of EXIF.
    sent = int(time.time())
    await team.emu.send_photo(team.ranger, leopard2_jpeg, caption="UST-04", date=sent)
    await team.emu.wait_for(lambda: len(team.alerts()) == 2, timeout=30)
    caption = team.alerts()[1]["caption"]
    received = datetime.fromtimestamp(sent, UTC)
    assert f"Received {local(received.replace(tzinfo=None))} (Asia/Aqtau), capture time unknown" in caption
    assert "Taken" not in caption
    # The move is still shown, but says its time is a receipt time.
    assert "from #1" in caption
    assert "For #2 the time is when the photo was received, not when it was taken" in caption
    row = await team.services.db.fetchone("SELECT * FROM sightings WHERE id = 2")
    assert row["time_source"] == "telegram_receipt" and row["taken_at"] == row["received_at"]
    # /compare says the same.
    reply = (await team.say(team.admin, "/compare 1 2"))["text"]
    assert "For #2 the time is when the photo was received" in reply
    # More compressed photos from the ranger join that event, and the alert says how they were grouped.
    more = leopard_variants(1)[0]
    await team.emu.send_photo(team.ranger, more, caption="UST-04", date=sent + 20)
    await team.emu.wait_for(lambda: "+1" in (team.alerts()[1].get("caption") or ""), 20)
    assert "grouped by when they were received" in team.alerts()[1]["caption"]


async def test_a_reset_camera_clock_is_shown_and_kept_out_of_movement(
    team: Team, leopard_jpeg: bytes, leopard2_jpeg: bytes
) -> None:
    await team.say(team.admin, "/trusted on", team.group)
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    await send_doc(team, leopard_jpeg, "first.png", "image/jpeg", caption="UST-04")  # #1, a receipt time
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.press_button(team.admin, team.alerts()[0], "rv:1:confirmed")
    await team.emu.wait_sent(team.ranger.id, before + 1)  # the ranger hears the verdict first
    data = with_exif(leopard2_jpeg, DateTimeOriginal="2000:01:01 00:03:00")
    reply = await send_doc(team, data, "IMG_0001.JPG", "image/jpeg", caption="UST-04")
    assert "camera clock looks wrong (2000-01-01 00:03)" in reply["text"]  # the ranger is told to set it
    await team.emu.wait_for(lambda: len(team.alerts()) == 2, timeout=30)
    caption = team.alerts()[1]["caption"]
    assert "Camera clock looks wrong: 2000-01-01 00:03" in caption and "from #1" not in caption
    row = await team.services.db.fetchone("SELECT taken_at, clock_issue FROM sightings WHERE id = 2")
    assert (row["taken_at"], row["clock_issue"]) == ("1999-12-31T20:03:00+00:00", "reset")
    reply = (await team.say(team.admin, "/compare 1 2", team.group))["text"]
    assert "Sighting #2 has a camera clock that looks wrong (2000-01-01 00:03)" in reply
    # /sighting shows coordinators the same line as the alert.
    shown = await team.say(team.admin, "/sighting 2", team.group)
    assert "Camera clock looks wrong: 2000-01-01 00:03" in shown["caption"]


async def test_a_200_megapixel_phone_original_is_recorded_not_refused(team: Team) -> None:
    path = SHARED_FILES / "samsung_s24ultra_200MP.heic"
    if not path.exists():
        pytest.skip(f"{path} not available (shared samples)")
    reply = await send_doc(team, path.read_bytes(), "20250119_145327.heic", "image/heic")
    assert "Sighting #1" in reply["text"] and "too large" not in reply["text"]
    row = await team.services.db.fetchone(
        "SELECT s.taken_at, s.time_source, p.width, p.height FROM sightings s "
        "JOIN photos p ON p.sha256 = s.photo_sha256 WHERE s.id = 1"
    )
    assert (row["taken_at"], row["time_source"]) == ("2025-01-19T11:53:27+00:00", "exif_original")
    assert (row["width"], row["height"]) == (12240, 16320)


async def test_migration_0008_tells_old_rows_what_it_can(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for number, sql in migrations():
        if number < 8:  # the database as the previous version left it
            conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version={number};\nCOMMIT;")
    rows = [  # id, source, taken_at, received_at
        (1, "telegram", "2026-05-01T07:42:00+00:00", "2026-05-01T07:42:00+00:00"),  # compressed photo
        (2, "import", "2026-05-01T09:00:00+00:00", "2026-05-01T09:00:00+00:00"),  # import without EXIF
        (3, "telegram", "2026-04-30T22:10:00+00:00", "2026-05-01T07:42:00+00:00"),  # EXIF or forward
        (4, "import", "1999-12-31T20:03:00+00:00", "2026-05-01T09:00:00+00:00"),  # reset clock
        (5, "telegram", "2027-01-01T00:00:00+00:00", "2026-05-01T07:42:00+00:00"),  # clock in the future
    ]
    for sid, source, taken, received in rows:
        sha = f"{sid:064x}"
        conn.execute(
            "INSERT INTO photos (sha256, path, size, created_at) VALUES (?, 'p', 1, ?)", (sha, taken)
        )
        conn.execute(
            "INSERT INTO sightings (id, photo_sha256, source, taken_at, received_at, label, score, "
            "is_leopard) VALUES (?, ?, ?, ?, ?, 'leopard', 0.5, 1)",
            (sid, sha, source, taken, received),
        )
    conn.commit()
    conn.close()
    async with Database(path) as db:
        got = await db.fetchall("SELECT time_source, clock_issue FROM sightings ORDER BY id")
    got = [tuple(r) for r in got]
    assert got == [
        ("telegram_receipt", None),
        ("import_file_time", None),
        ("unknown", None),
        ("unknown", "before_2005"),
        ("unknown", "future"),
    ]
