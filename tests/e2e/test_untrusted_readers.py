"""Untrusted readers (an untrusted group; in private, anyone but an admin) get no station codes or names,
no exact positions and no exact distances, in alerts, summaries, maps, exports, /station list, /compare
and /sighting. Trusted readers keep seeing all of it."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import bot.reports.parts as summary_parts
from bot.geo import Point, distance_km, round_point
from emulator import EmulatedUser
from storage.db import iso
from tests.conftest import GROUP, SAMPLES, Team, eventually, leopard_variants
from tests.support.sightings_world import seed
from tests.support.validators import table, validate_camtrapdp

GRID = 10.0
# Each seeded station gets a name that is a place on its own (what a station list would tell a poacher).
NAMES = {
    "UST-01": "Kazakh spring",
    "UST-02": "Saryqum well",
    "KZS-01": "Kaskyrbulak canyon",
    "KZS-02": "Tuzbair gorge",
    "UST-03": "Shakpak spring",
}
# A code, or a name or its first word ("Kazakh", not "Kazakhstan", which every Camtrap DP package says).
LEAK = re.compile(r"(?:UST|KZS)-\d|\b(?:kazakh|saryqum|kaskyrbulak|tuzbair|shakpak)\b", re.IGNORECASE)
TRUSTED = -100_888
NODE = round_point(Point(43.21, 51.87), GRID)  # a grid node, so points near it share one cell


def on_grid(lat: float, lon: float) -> bool:
    """Is this position a grid node (as printed, to 4 decimals), i.e. nothing finer than the grid?"""
    node = round_point(Point(lat, lon), GRID)
    return abs(node.lat - lat) < 2e-4 and abs(node.lon - lon) < 2e-4


async def trusted_group(team: Team) -> dict[str, Any]:
    group = team.emu.group(TRUSTED, "Trusted coordinators")
    await team.say(team.admin, "/register en", group)
    await team.say(team.admin, "/trusted on", group)
    return group


async def coordinator(team: Team, user_id: int = 700_050, name: str = "Dana") -> EmulatedUser:
    user = team.emu.user(user_id, name)
    await team.invite(user, "coordinator")
    return user


async def name_stations(team: Team) -> None:
    for code, name in NAMES.items():
        await team.services.db.execute("UPDATE stations SET name = ? WHERE code = ?", (name, code))


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


# --- alerts -----------------------------------------------------------------------------------------------


async def test_untrusted_alert_names_the_area_and_rounds_the_move(
    team: Team, leopard_jpeg: bytes, leopard2_jpeg: bytes
) -> None:
    await trusted_group(team)
    station = Point(NODE.lat + 0.01, NODE.lon - 0.02)  # ~2 km from the node: one 10 km cell
    later = Point(NODE.lat - 0.01, NODE.lon + 0.03)
    exact_km = f"{distance_km(station, later):.0f}"
    assert exact_km == "5" and round_point(station, GRID) == round_point(later, GRID)
    add = f"/station add UST-04 {station.lat:.5f} {station.lon:.5f} Kazakh spring area=UST"
    await team.say(team.admin, add)
    now, day = int(time.time()), 86_400
    await team.emu.send_photo(team.ranger, leopard_jpeg, caption="UST-04, Kazakh spring", date=now - 2 * day)
    await team.emu.wait_for(lambda: len(team.alerts()) == 1 and len(team.alerts(TRUSTED)) == 1, timeout=30)
    untrusted_alert, trusted_alert = team.alerts()[0]["caption"], team.alerts(TRUSTED)[0]["caption"]
    assert not LEAK.search(untrusted_alert), untrusted_alert
    assert "📍 Area UST" in untrusted_alert
    assert "💬 The ranger's note is shown to trusted groups only." in untrusted_alert
    assert "Kazakh spring" in trusted_alert  # the trusted group reads the ranger's caption as written
    assert "Station UST-04 Kazakh spring · UST" in trusted_alert
    assert "💬 UST-04, Kazakh spring" in trusted_alert

    await team.emu.press_button(team.admin, team.alerts(TRUSTED)[0], "rv:1:confirmed")
    db = team.services.db
    await eventually(lambda: db.scalar("SELECT status = 'confirmed' FROM sightings WHERE id = 1"))
    await team.location(team.ranger, later.lat, later.lon)
    await team.emu.send_photo(team.ranger, leopard2_jpeg, date=now)
    await team.emu.wait_for(lambda: len(team.alerts()) == 2 and len(team.alerts(TRUSTED)) == 2, timeout=30)
    untrusted_move, trusted_move = team.alerts()[1]["caption"], team.alerts(TRUSTED)[1]["caption"]
    assert f"↔ {exact_km} km from #1 (UST-04) in 2.0 days" in trusted_move
    assert "grid cells" not in trusted_move
    # From the two cells alone: the same cell, so ≈0 km, and the rounding is said.
    assert "↔ ≈0 km from #1 (UST) in 2.0 days: ≈0.0 km/day" in untrusted_move
    assert "between the ~10 km grid cells" in untrusted_move
    assert not re.search(rf"(?<![\d.]){exact_km} km", untrusted_move) and not LEAK.search(untrusted_move)


async def test_untrusted_alert_hides_station_codes_and_names_typed_in_full_width(
    team: Team, leopard_jpeg: bytes
) -> None:
    await team.say(team.admin, "/station add UST-04 43.21 51.87 Kazakh spring area=UST")
    await team.photo(team.ranger, leopard_jpeg, caption="ＵＳＴ－０４ ｕｓｔ ４ near Ｋａｚａｋｈ spring")
    await team.emu.wait_for(lambda: len(team.alerts()) == 1, timeout=30)
    caption = team.alerts()[0]["caption"]
    said = next(line for line in caption.splitlines() if line.startswith("💬"))
    assert not LEAK.search(unicodedata.normalize("NFKC", said)), said
    assert said == "💬 The ranger's note is shown to trusted groups only."


# --- /week: text, map, contact sheet, CSV ----------------------------------------------------------------


async def test_untrusted_week_has_no_station_codes_names_or_exact_points(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = team.services.photos
    shas = {1: store.put((SAMPLES / "leo_005_serengeti_night.jpg").read_bytes()).sha256,
            4: store.put((SAMPLES / "leo_009_chimpsee_ir_forest.jpg").read_bytes()).sha256}  # fmt: skip
    await seed(team.services.db, datetime.now(UTC) - timedelta(days=7), shas)
    await name_stations(team)
    maps: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    sheets: list[list[str]] = []
    real_map, real_sheet = summary_parts.render_map, summary_parts.contact_sheet

    def record_map(*args: Any, **kwargs: Any) -> bytes:
        maps.append((args, kwargs))
        return real_map(*args, **kwargs)

    blanked: list[bool] = []

    def record_sheet(
        images: list[bytes], captions: list[str], *, blank: bool = False, **kw: Any
    ) -> bytes | None:
        sheets.append(captions)
        blanked.append(blank)
        return real_sheet(images, captions, blank=blank, **kw)

    monkeypatch.setattr(summary_parts, "render_map", record_map)
    monkeypatch.setattr(summary_parts, "contact_sheet", record_sheet)

    async def week() -> list[dict[str, Any]]:
        before = len(team.emu.sent(GROUP))
        await team.emu.send_text(team.ranger, "/week", team.group)
        sent = (await team.emu.wait_sent(GROUP, before + 4, timeout=30))[before:]
        assert [m["method"] for m in sent] == ["sendPhoto", "sendMessage", "sendPhoto", "sendDocument"]
        return sent

    sent = await week()
    assert not LEAK.search(texts(sent)), texts(sent)
    assert "By station" not in sent[1]["text"] and "KZS: 1 station(s)" in sent[1]["text"]
    # The map got no stations at all (exact points, with codes), only sightings at grid nodes and areas.
    (points, stations, *_), kwargs = maps[-1]
    assert stations == [] and kwargs["grid_km"] == GRID
    assert points and all(on_grid(p.point.lat, p.point.lon) for p in points)
    assert {a.name for a in kwargs["labels"]} == {"UST tract", "KZS tract"}
    # The moves between leopard events are drawn between grid cells too.
    assert kwargs["moves"] and all(on_grid(p.lat, p.lon) for m in kwargs["moves"] for p in (m.a, m.b))
    assert all(on_grid(a.point.lat, a.point.lon) for a in kwargs["labels"])
    assert sheets[-1] and not any(LEAK.search(c) for c in sheets[-1]) and "UST" in sheets[-1][0]
    assert blanked[-1] is True  # the cameras' burned-in strips are blanked on the untrusted sheet
    data = team.emu.file_bytes(sent[3]["document"]["file_id"]).decode("utf-8-sig")
    assert not LEAK.search(data)
    rows = list(csv.DictReader(io.StringIO(data)))
    assert {r["locationID"][:4] for r in rows if r["locationID"]} == {"loc-"}
    placed = [r for r in rows if r["decimalLatitude"]]
    assert all(on_grid(float(r["decimalLatitude"]), float(r["decimalLongitude"])) for r in placed)
    # The rounding is said in the file itself, in Darwin Core's words.
    said = {(r["coordinateUncertaintyInMeters"], r["coordinatePrecision"]) for r in placed}
    assert said == {("7072", "0.09")}
    assert all("rounded to a ~10 km grid" in r["dataGeneralizations"] for r in placed)

    # A trusted group keeps what it had: station codes, names on the map, exact station points.
    await team.say(team.admin, "/trusted on", team.group)
    sent = await week()
    assert "UST-01" in sent[1]["text"] and "By station" in sent[1]["text"]
    (points, stations, *_), kwargs = maps[-1]
    assert kwargs["grid_km"] is None
    assert ("UST-01", Point(43.20, 51.80)) in {(s.code, s.point) for s in stations}
    assert Point(43.20, 51.80) in {m.a for m in kwargs["moves"]}  # exact for a trusted group
    assert any("UST-01" in c for c in sheets[-1])
    assert "UST-01" in team.emu.file_bytes(sent[3]["document"]["file_id"]).decode("utf-8-sig")


# --- /export ---------------------------------------------------------------------------------------------


def positions(fmt: str, data: bytes, folder: Path) -> tuple[str, list[tuple[float, float]]]:
    """All the text of an export and every (lat, lon) in it."""
    if fmt == "csv":
        text = data.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        lat, lon = "decimalLatitude", "decimalLongitude"
        return text, [(float(r[lat]), float(r[lon])) for r in rows if r[lat]]
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data))
        cells = [[c.value for c in row] for sheet in book for row in sheet.iter_rows()]
        header, *records = [list(r) for r in book["occurrences"].iter_rows(values_only=True)]
        lat, lon = header.index("decimalLatitude"), header.index("decimalLongitude")
        places = [(float(r[lat]), float(r[lon])) for r in records if r[lat] is not None]
        return "\n".join(str(v) for row in cells for v in row if v is not None), places
    if fmt == "geojson":
        features = json.loads(data)["features"]
        return data.decode(), [tuple(f["geometry"]["coordinates"][::-1]) for f in features if f["geometry"]]
    if fmt == "kml":
        ns = {"k": "http://www.opengis.net/kml/2.2"}
        marks = ET.fromstring(data).findall("k:Document/k:Placemark", ns)
        found = [m.findtext("k:Point/k:coordinates", namespaces=ns) or "" for m in marks]
        return data.decode(), [(float(c.split(",")[1]), float(c.split(",")[0])) for c in found]
    validate_camtrapdp(data, folder)  # still a valid Camtrap DP 1.0.2 package
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        text = "\n".join(zf.read(n).decode() for n in zf.namelist())
    deployments = table(folder, "deployments")
    return text, [(float(d["latitude"]), float(d["longitude"])) for d in deployments]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson", "kml", "camtrapdp"])
async def test_exports_for_untrusted_readers_hide_stations(team: Team, fmt: str, tmp_path: Path) -> None:
    await seed(team.services.db)  # the week of 3 March 2025
    await name_stations(team)
    dana = await coordinator(team)
    ask = f"/export {fmt} since 2025-03-01 until 2025-03-09"
    for n, (who, chat) in enumerate([(dana, None), (team.admin, team.group)]):  # private; untrusted group
        reply = await team.say(who, ask, chat)
        text, places = positions(fmt, team.emu.file_bytes(reply["document"]["file_id"]), tmp_path / str(n))
        assert not LEAK.search(text), LEAK.search(text)
        assert places and all(on_grid(lat, lon) for lat, lon in places), places
        assert "rounded to ~10 km" in reply["caption"]
    # The same export for a trusted group names the stations, as before.
    trusted = await trusted_group(team)
    reply = await team.say(team.admin, ask, trusted)
    text, places = positions(fmt, team.emu.file_bytes(reply["document"]["file_id"]), tmp_path / "trusted")
    assert "UST-01" in text and (43.25, 51.85) in places  # #4's exact place
    if fmt == "camtrapdp":
        assert "Kazakh spring" in text


# --- /station list, /compare, /sighting ------------------------------------------------------------------


async def test_station_list_shows_places_to_admins_only(team: Team) -> None:
    await team.say(team.admin, "/station add UST-04 43.21234 51.87654 Kazakh spring area=UST")
    dana = await coordinator(team)
    listed = (await team.say(dana, "/station list"))["text"]
    assert "UST-04 · UST" in listed and "43.21" not in listed and "51.87" not in listed
    assert "Kazakh" not in listed and "admins only" in listed
    full = (await team.say(team.admin, "/station list"))["text"]
    assert "UST-04 · 43.21234, 51.87654 · Kazakh spring · UST" in full


async def _sighting(team: Team, sid: int, where: Point, taken: datetime, station: str | None = None) -> None:
    """A confirmed leopard event written straight to the database: never alerted to any group."""
    sha = team.services.photos.put(leopard_variants(sid)[-1]).sha256  # a photo of its own
    await team.services.db.execute(
        "INSERT OR IGNORE INTO photos (sha256, path, size, created_at) VALUES (?, ?, 1, ?)",
        (sha, f"{sha}.jpg", iso(taken)),
    )
    await team.services.db.execute(
        """INSERT INTO sightings (id, photo_sha256, ranger_id, taken_at, received_at, lat, lon, station_code,
                                  label, score, is_leopard, event_id, status)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'leopard', 0.9, 1, ?, 'confirmed')""",
        (sid, sha, team.ranger.id, iso(taken), iso(taken), where.lat, where.lon, station, sid),
    )


async def _half_a_km_apart(team: Team) -> None:
    """#1 at station UST-04 and #2 a day later ~0.5 km east of it, both in one 10 km grid cell."""
    a, b = Point(NODE.lat, NODE.lon - 0.003), Point(NODE.lat, NODE.lon + 0.003)
    assert 0.45 < distance_km(a, b) < 0.55 and round_point(a, GRID) == round_point(b, GRID)
    await team.say(team.admin, f"/station add UST-04 {a.lat:.6f} {a.lon:.6f} Kazakh spring area=UST")
    t0 = datetime(2025, 6, 1, 3, tzinfo=UTC)
    await _sighting(team, 1, a, t0, "UST-04")
    await _sighting(team, 2, b, t0 + timedelta(days=1))


async def test_compare_in_a_group_is_for_coordinators(team: Team) -> None:
    await _half_a_km_apart(team)
    # Rangers know where their own photos were taken: exact distances locate everyone else's leopards.
    refused = await team.say(team.ranger, "/compare 1 2", team.group)
    assert refused["text"] == "Only coordinators can do this."
    member = team.emu.user(700_077, "Someone")
    refused = await team.say(member, "/compare 1 2", team.group)
    assert "only for the rangers and coordinators" in refused["text"]


async def test_compare_is_rounded_for_untrusted_readers(team: Team) -> None:
    await _half_a_km_apart(team)
    dana = await coordinator(team)
    for chat in (team.group, None):  # an untrusted group; a coordinator's private chat
        reply = (await team.say(dana, "/compare 1 2", chat))["text"]
        assert reply.startswith("↔ #1 (UST) → #2 (—): ≈0 km in 1.0 days, ≈0.0 km/day"), reply
        assert "one animal could do this" in reply and "between the ~10 km grid cells" in reply
        assert not re.search(r"(?<![\d.])(?:0\.5|1) km", reply) and not LEAK.search(reply)
    trusted = await trusted_group(team)
    for who, chat in ((dana, trusted), (team.admin, None)):
        reply = (await team.say(who, "/compare 1 2", chat))["text"]
        assert reply.startswith("↔ #1 (UST-04) → #2 (—): 0 km in 1.0 days, 0.5 km/day"), reply
        assert "grid cells" not in reply


async def test_sighting_in_a_group_only_for_what_was_alerted_there(team: Team, leopard_jpeg: bytes) -> None:
    await team.say(team.admin, "/station add UST-04 43.21234 51.87654 Kazakh spring area=UST")
    await _sighting(team, 1, Point(43.21234, 51.87654), datetime.now(UTC) - timedelta(days=1), "UST-04")
    member = team.emu.user(700_077, "Someone")
    refused = "Sighting #1 was not sent to this group, so it is not shown here. A coordinator can open it."
    for who in (member, team.ranger):
        assert (await team.say(who, "/sighting 1", team.group)).get("text") == refused
    # A number that does not exist gets the same answer: nothing to probe.
    unknown = await team.say(member, "/sighting 99", team.group)
    assert "#99 was not sent to this group" in unknown["text"]
    dana = await coordinator(team)
    shown = await team.say(dana, "/sighting 1", team.group)  # a coordinator may, at the group's precision
    assert shown["method"] == "sendPhoto" and "Area UST" in shown["caption"]
    assert not LEAK.search(shown["caption"]) and "43.21234" not in shown["caption"]
    assert "reply_markup" not in shown  # not alerted here: no buttons
    assert not LEAK.search((await team.say(dana, "/sighting 1"))["caption"])  # private: rounded too
    # What was alerted to the group anyone there may open again.
    await team.photo(team.ranger, leopard_jpeg, caption="UST-04")
    # The group's photos: #1 as Dana opened it above, then #2's alert (waiting for one photo raced it).
    await team.emu.wait_for(lambda: len(team.alerts()) == 2, timeout=30)
    again = await team.say(member, "/sighting 2", team.group)
    assert again["method"] == "sendPhoto" and "sighting #2" in again["caption"]
    assert not LEAK.search(again["caption"])
