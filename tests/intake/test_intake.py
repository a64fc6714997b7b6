"""Field intake as rangers really send it, through the emulator with the real PTB client."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from bot.alerts import photo_with_boxes
from storage.photos import PhotoStore
from tests.conftest import Team
from tests.support.photo_files import exif_jpeg, send_doc


async def sighting(team: Team, sid: int = 1) -> dict:
    row = await team.services.db.fetchone("SELECT * FROM sightings WHERE id = ?", (sid,))
    assert row is not None, f"sighting #{sid} missing"
    return dict(row)


async def test_document_keeps_exif_time_and_gps(team: Team, leopard_jpeg: bytes) -> None:
    data = exif_jpeg(leopard_jpeg, taken="2026:03:14 05:30:00", gps=(43.2345, 51.8765))
    reply = await send_doc(team, data, "IMG_0042.JPG", "image/jpeg")
    assert "Sighting #1" in reply["text"] and "photo GPS" in reply["text"]
    row = await sighting(team)
    # 05:30 camera time in Asia/Aqtau (UTC+5) is 00:30 UTC.
    assert row["taken_at"] == "2026-03-14T00:30:00+00:00"
    assert row["received_at"] != row["taken_at"]
    assert row["location_source"] == "exif"
    assert row["lat"] == pytest.approx(43.2345, abs=1e-4) and row["lon"] == pytest.approx(51.8765, abs=1e-4)


async def test_compressed_photo_has_no_exif_so_time_is_received(team: Team, leopard_jpeg: bytes) -> None:
    data = exif_jpeg(leopard_jpeg, taken="2020:01:01 00:00:00", gps=(43.0, 51.0))
    await team.photo(team.ranger, data)
    row = await sighting(team)
    assert row["taken_at"] == row["received_at"] and row["lat"] is None


async def test_png_and_heic_documents(team: Team, leopard_jpeg: bytes) -> None:
    image = Image.open(io.BytesIO(leopard_jpeg)).convert("RGBA")
    png = io.BytesIO()
    image.save(png, format="PNG")
    reply = await send_doc(team, png.getvalue(), "trap.png", "image/png")
    assert "Sighting #1" in reply["text"]
    pillow_heif = pytest.importorskip("pillow_heif")
    heic = io.BytesIO()
    pillow_heif.from_pillow(image.convert("RGB")).save(heic, quality=90)
    reply = await send_doc(team, heic.getvalue(), "IMG_1001.HEIC", "image/heic")
    assert "Sighting #2" in reply["text"] and "leopard detected" in reply["text"]


@pytest.mark.parametrize(
    ("name", "mime", "data", "expected"),
    [
        ("report.pdf", "application/pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n", "not a photo"),
        ("cards.zip", "application/zip", b"PK\x03\x04" + b"\0" * 26, "not a photo"),
        ("clip.mp4", "video/mp4", b"\0\0\0\x18ftypmp42" + b"\0" * 20, "could not read this video"),
        ("fake.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 this is not really a jpeg", "damaged"),
    ],
)
async def test_documents_that_are_not_photos_get_clear_replies(
    team: Team, name: str, mime: str, data: bytes, expected: str
) -> None:
    reply = await send_doc(team, data, name, mime)
    assert expected in reply["text"]
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == 0


async def test_album_with_a_slow_part_still_gets_one_receipt(
    team: Team, leopard_jpeg: bytes, jackal_jpeg: bytes
) -> None:
    # One part's getFile answers 3 s late (longer than the album's quiet period): the receipt must
    # wait for it rather than answer twice.
    team.emu.slow_next("getFile", 3.0)
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_album(team.ranger, [leopard_jpeg, jackal_jpeg, exif_jpeg(jackal_jpeg)])
    replies = await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30)
    assert "Album of 3 photos" in replies[-1]["text"]
    await asyncio.sleep(2.5)  # longer than the album's quiet period: no second receipt follows
    assert len(team.emu.sent(team.ranger.id)) == before + 1


async def test_album_is_one_submission_with_one_location(
    team: Team, leopard_jpeg: bytes, jackal_jpeg: bytes
) -> None:
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_album(team.ranger, [leopard_jpeg, jackal_jpeg, exif_jpeg(jackal_jpeg)])
    replies = await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30)
    await team.say(team.admin, "/help")  # give the album job time to prove it sends only once
    receipt = replies[-1]["text"]
    assert len(team.emu.sent(team.ranger.id)) == before + 1
    assert "Album of 3 photos" in receipt and "#1" in receipt and "#2" in receipt and "#3" in receipt
    assert receipt.count("Please send a location") == 1
    reply = await team.location(team.ranger, 43.21, 51.87)
    assert "#1, #2, #3" in reply["text"]
    rows = await team.services.db.fetchall("SELECT lat, media_group_id FROM sightings")
    assert {r["lat"] for r in rows} == {43.21} and len({r["media_group_id"] for r in rows}) == 1


async def test_venue_and_live_location(team: Team, leopard_jpeg: bytes, jackal_jpeg: bytes) -> None:
    await team.photo(team.ranger, jackal_jpeg)
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_venue(team.ranger, 43.6, 51.2, "Kaskyrbulak spring", "Ustyurt")
    await team.emu.wait_sent(team.ranger.id, before + 1)
    assert (await sighting(team))["location_source"] == "venue"
    await team.photo(team.ranger, leopard_jpeg)
    live = await team.emu.send_location(team.ranger, 43.7, 51.3, live_period=900)
    await team.emu.wait_sent(team.ranger.id, before + 3)
    moved = len(team.emu.sent(team.ranger.id))
    await team.emu.edit_live_location(team.ranger, live, 43.9, 51.5)
    await team.emu.edit_live_location(team.ranger, live, 44.0, 51.6)
    await team.say(team.admin, "/help")
    assert len(team.emu.sent(team.ranger.id)) == moved  # updates are silent
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == 2
    # The photo sent right after the venue took the venue, and the live location does not move it;
    # the live location's latest point is what the next photos will get.
    assert (await sighting(team, 2))["location_source"] == "venue"
    here = await team.services.db.fetchone("SELECT lat, lon, source FROM ranger_locations")
    assert (here["lat"], here["lon"], here["source"]) == (44.0, 51.6, "live")


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [
        ("43.21, 51.87", 43.21, 51.87),
        ("43°12'36\"N 51°52'12\"E", 43.21, 51.87),
        ("43°12'36\" с.ш. 51°52'12\" в.д.", 43.21, 51.87),
        ("мен мұндамын 43.5 с.е. 52.25 ш.б.", 43.5, 52.25),
    ],
)
async def test_typed_coordinates(team: Team, jackal_jpeg: bytes, text: str, lat: float, lon: float) -> None:
    await team.photo(team.ranger, jackal_jpeg)
    reply = await team.say(team.ranger, text)
    assert "#1" in reply["text"]
    row = await sighting(team)
    assert row["lat"] == pytest.approx(lat, abs=1e-4) and row["lon"] == pytest.approx(lon, abs=1e-4)
    assert row["location_source"] == "text"


async def test_impossible_coordinates_get_a_helpful_reply(team: Team, jackal_jpeg: bytes) -> None:
    await team.photo(team.ranger, jackal_jpeg)
    reply = await team.say(team.ranger, "200.5, 51.87")
    assert "impossible" in reply["text"] and "-90" in reply["text"]
    receipt = await team.photo(team.ranger, exif_jpeg(jackal_jpeg), caption="N 95.0 E 51.0")
    assert "impossible" in receipt["text"]
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings WHERE lat IS NOT NULL") == 0


async def test_exif_beats_pin_and_both_are_kept(team: Team, leopard_jpeg: bytes) -> None:
    await team.location(team.ranger, 43.9, 52.9)
    await send_doc(team, exif_jpeg(leopard_jpeg, gps=(43.25, 51.5)), "DSC1.JPG", "image/jpeg")
    row = await sighting(team)
    assert row["location_source"] == "exif" and row["lat"] == pytest.approx(43.25, abs=1e-4)
    assert row["exif_lat"] == pytest.approx(43.25, abs=1e-4)


async def test_station_code_in_caption_and_unknown_station(
    team: Team, leopard_jpeg: bytes, jackal_jpeg: bytes
) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Spring area=UST")
    receipt = await team.photo(team.ranger, jackal_jpeg, caption="ust-04 card 3")
    assert "Station UST-04" in receipt["text"]
    row = await sighting(team)
    assert (row["station_code"], row["location_source"], row["lat"]) == ("UST-04", "station", 43.21)
    receipt = await team.photo(team.ranger, leopard_jpeg, caption="UST-99")
    assert "Unknown station UST-99" in receipt["text"]
    # A station code typed as a message is a place too.
    reply = await team.say(team.ranger, "UST-04")
    assert "#2" in reply["text"]


async def test_pairing_window_asks_once_and_never_loses_the_photo(
    team: Team, leopard_jpeg: bytes, jackal_jpeg: bytes
) -> None:
    old = int(time.time()) - 30 * 60  # sent 30 minutes ago, pairing window is 10
    await team.emu.send_photo(team.ranger, jackal_jpeg, date=old)
    first = (await team.emu.wait_sent(team.ranger.id, 2, timeout=30))[-1]
    assert "Please send a location" in first["text"]
    reply = await team.location(team.ranger, 43.2, 51.8)
    assert "Location saved" in reply["text"]  # too late for the old photo
    assert (await sighting(team))["lat"] is None  # kept, without a place
    await team.say(team.admin, "/help")
    second = await team.photo(team.ranger, leopard_jpeg)
    assert "Place: 43.20000, 51.80000" in second["text"]


async def test_asks_for_a_place_only_once(team: Team, leopard_jpeg: bytes, jackal_jpeg: bytes) -> None:
    first = await team.photo(team.ranger, jackal_jpeg)
    second = await team.photo(team.ranger, leopard_jpeg)
    assert "Please send a location" in first["text"]
    assert "Please send a location" not in second["text"] and "No place yet" in second["text"]


async def test_same_file_twice_is_one_sighting(team: Team, leopard_jpeg: bytes) -> None:
    data = exif_jpeg(leopard_jpeg, taken="2026:01:02 03:04:05")
    await send_doc(team, data, "a.jpg", "image/jpeg")
    reply = await send_doc(team, data, "copy of a.jpg", "image/jpeg")
    assert "already recorded as sighting #1" in reply["text"]
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == 1


async def test_same_file_twice_at_once_is_still_one_sighting(team: Team, leopard_jpeg: bytes) -> None:
    data = exif_jpeg(leopard_jpeg, taken="2026:01:02 03:04:06")
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_document(team.ranger, data, "a.jpg", "image/jpeg")
    await team.emu.send_document(team.ranger, data, "a (1).jpg", "image/jpeg")
    replies = await team.emu.wait_sent(team.ranger.id, before + 2, timeout=30)
    texts = sorted(m["text"] for m in replies[-2:])
    assert any("already recorded as sighting #1" in x for x in texts), texts
    assert any("Sighting #1" in x for x in texts), texts
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == 1


async def test_forwarded_photo_keeps_original_date(team: Team, jackal_jpeg: bytes) -> None:
    original = int(datetime(2026, 2, 1, 6, 0, tzinfo=UTC).timestamp())
    before = len(team.emu.sent(team.ranger.id))
    await team.emu.send_photo(team.ranger, jackal_jpeg, forward_date=original)
    await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30)
    assert (await sighting(team))["taken_at"] == "2026-02-01T06:00:00+00:00"


def test_alert_photo_carries_no_exif_gps(tmp_path: Path, leopard_jpeg: bytes) -> None:
    # An untrusted group sees a rounded place; the original's GPS tags must not ride along in the
    # photo the bot uploads (Telegram strips EXIF from photos too, but the bot must not rely on it).
    store = PhotoStore(tmp_path)
    original = exif_jpeg(leopard_jpeg, gps=(43.2345, 51.8765))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the file does carry GPS
    sha = store.put(original).sha256
    uploaded = Image.open(io.BytesIO(photo_with_boxes(store, sha, "[[10, 10, 50, 50, 0.9]]")))
    assert not uploaded.getexif().get_ifd(0x8825) and not uploaded.getexif()
