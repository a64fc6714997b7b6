"""Camtrap DP 1.0.2: the export validates with frictionless against the official profile and table schemas
(foreign keys included), the official example package validates through the same code (a control), and
the package converts to Darwin Core the way GBIF's camera-trap guide does it (camtrapdp::write_dwc)."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.geo import Point, round_point
from bot.reports.exports import ExportOptions, export
from bot.reports.exports.camtrapdp.datapackage import TABLES
from storage.db import Database
from tests.support.exports import GRID, MONTH
from tests.support.sightings_world import BASE, STATIONS, seed, sha_for
from tests.support.validators import (
    EXAMPLE,
    frictionless_report,
    table,
    validate_camtrapdp,
    validate_package_dir,
)

OPTIONS = ExportOptions(contact_name="Aigerim K.", contact_email="aigerim@example.org")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "c.sqlite3") as database:
        await seed(database)
        yield database


def no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError("validation tried to reach the network")


# --- the validator itself ----------------------------------------------------------------------------------


def test_official_example_package_validates_with_the_same_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket.socket, "connect", no_network)
    descriptor = validate_package_dir(EXAMPLE)
    assert descriptor["profile"].endswith("/1.0.2/camtrap-dp-profile.json")
    # The validator finds what is wrong: a media row pointing at a deployment that does not exist...
    broken = tmp_path / "broken"
    shutil.copytree(EXAMPLE, broken)
    media = (broken / "media.csv").read_text(encoding="utf-8").splitlines()
    media[1] = media[1].replace("00a2c20d", "no-such-deployment", 1)
    (broken / "media.csv").write_text("\n".join(media) + "\n", encoding="utf-8")
    report, _ = frictionless_report(broken / "datapackage.json")
    assert not report.valid and "foreign-key" in {e.type for task in report.tasks for e in task.errors}
    # ... and a descriptor without what the profile requires.
    (broken / "media.csv").write_text((EXAMPLE / "media.csv").read_text(encoding="utf-8"), encoding="utf-8")
    meta = json.loads((broken / "datapackage.json").read_text(encoding="utf-8"))
    del meta["taxonomic"]
    (broken / "datapackage.json").write_text(json.dumps(meta), encoding="utf-8")
    report, _ = frictionless_report(broken / "datapackage.json")
    assert not report.valid and "taxonomic" in json.dumps(report.to_descriptor())


def test_a_package_declaring_1_0_cannot_be_validated(tmp_path: Path) -> None:
    """Why the export declares 1.0.2: the 1.0 profile's "#$defs/version" breaks frictionless-py."""
    folder = tmp_path / "v10"
    shutil.copytree(EXAMPLE, folder)
    meta = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    meta["profile"] = meta["profile"].replace("/1.0.2/", "/1.0/")
    (folder / "datapackage.json").write_text(json.dumps(meta), encoding="utf-8")
    report, _ = frictionless_report(folder / "datapackage.json")
    assert not report.valid


# --- the export -------------------------------------------------------------------------------------------


async def test_camtrapdp_1_0_2_validates_offline(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = await export(db, "camtrapdp", *MONTH, exact=False, grid_km=GRID, options=OPTIONS)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    descriptor = validate_camtrapdp(data, tmp_path)
    assert (
        descriptor["profile"]
        == "https://raw.githubusercontent.com/tdwg/camtrap-dp/1.0.2/camtrap-dp-profile.json"
    )
    assert [r["name"] for r in descriptor["resources"]] == list(TABLES)
    assert all("/1.0.2/" in r["schema"] for r in descriptor["resources"])
    assert descriptor["taxonomic"] == [{
        "scientificName": "Panthera pardus", "taxonID": "https://www.gbif.org/species/5219436",
        "taxonRank": "species", "kingdom": "Animalia",
        "vernacularNames": {"eng": "leopard", "rus": "леопард", "kaz": "қабылан"},
    }]  # fmt: skip
    assert descriptor["licenses"] == [
        {"name": "CC-BY-4.0", "scope": "data", "path": "https://creativecommons.org/licenses/by/4.0/"},
        {"name": "CC-BY-4.0", "scope": "media", "path": "https://creativecommons.org/licenses/by/4.0/"},
    ]
    assert descriptor["contributors"][0] == {
        "title": "Aigerim K.",
        "role": "contact",
        "email": "aigerim@example.org",
    }
    assert descriptor["project"]["observationLevel"] == ["media", "event"]
    assert (
        descriptor["coordinatePrecision"] == 0.09
        and "1 photo(s) without any location" in descriptor["description"]
    )
    deployments = {d["deploymentID"]: d for d in table(tmp_path, "deployments")}
    media = {m["mediaID"]: m for m in table(tmp_path, "media")}
    # Rounded: stations appear under aliases made up for this file (tests/test_untrusted_readers.py).
    ust01 = deployments[media[sha_for(1)]["deploymentID"]]
    assert len(deployments) == 4 and "opportunistic-4" in deployments
    assert ust01["deploymentID"].startswith("loc-") and ust01["locationID"] == ust01["deploymentID"]
    ust = round_point(Point(*STATIONS["UST-01"][:2]), GRID)
    assert (float(ust01["latitude"]), float(ust01["longitude"])) == (round(ust.lat, 4), round(ust.lon, 4))
    assert ust01["coordinateUncertainty"] == "7072" and ust01["locationName"] == ""
    assert ust01["deploymentGroups"] == "area:UST"
    assert len(media) == 10 and media[sha_for(1)]["filePublic"] == "false"
    # Not in the zip: a reference to the server, not a path a reader would look for in the package.
    assert media[sha_for(1)]["filePath"] == f"leopard-watch-server:photos/{sha_for(1)[:2]}/{sha_for(1)}.jpg"
    obs = {o["observationID"]: o for o in table(tmp_path, "observations")}
    assert (obs["obs-1"]["observationType"], obs["obs-1"]["scientificName"]) == ("animal", "Panthera pardus")
    assert (obs["obs-1"]["classificationMethod"], obs["obs-1"]["classifiedBy"]) == ("human", "Aigerim K.")
    assert (
        obs["obs-2"]["classifiedBy"] == "Aigerim K." and obs["obs-2"]["eventID"] == "1"
    )  # the burst's review
    assert (obs["obs-5"]["observationType"], obs["obs-5"]["classificationMethod"]) == ("blank", "human")
    assert (obs["obs-8"]["classificationMethod"], obs["obs-8"]["classificationProbability"]) == (
        "machine",
        "0.9100",
    )
    # Judged before the animal detector (issue 24): unclassified, in words, never the model's label.
    assert (obs["obs-6"]["observationType"], obs["obs-6"]["observationComments"]) == (
        "unclassified",
        "no leopard found (leopard score 0.12)",
    )
    # One event-level observation per event, next to the media-level ones: the burst of #1 and #2 is one.
    events = {o["eventID"]: o for o in obs.values() if o["observationLevel"] == "event"}
    assert set(events) == {"1", "3", "4", "5", "6", "8", "9", "10", "11"}  # #7 has no place: no deployment
    burst = events["1"]
    assert (burst["observationID"], burst["mediaID"], burst["scientificName"]) == (
        "event-1",
        "",
        "Panthera pardus",
    )
    assert (burst["eventStart"], burst["eventEnd"]) == ("2025-03-04T09:36:00Z", "2025-03-04T09:50:24Z")
    assert (
        burst["deploymentID"] == ust01["deploymentID"]
        and f"best media: {sha_for(1)}" in burst["observationComments"]
    )
    assert media[sha_for(1)]["favorite"] == "true" and media[sha_for(2)]["favorite"] == ""


def write_dwc_occurrences(folder: Path) -> list[dict[str, Any]]:
    """The Occurrence core as camtrapdp::write_dwc (inbo/camtrapdp, R/write_dwc.R) derives it, field by field:
    it keeps observations with observationLevel "event" and observationType "animal"; joins deployments on
    deploymentID (latitude, longitude, coordinateUncertainty, locationID, locationName); takes eventID,
    eventStart/eventEnd (-> eventDate), classifiedBy, classificationTimestamp, classificationMethod and
    -Probability from the observation; taxonID from the package's `taxonomic` by scientificName; license
    from `licenses` (scope "data"); dataGeneralizations from `coordinatePrecision`. Media are linked to an
    event by deploymentID and eventStart <= timestamp <= eventEnd (read_camtrapdp)."""
    meta = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    deployments = {d["deploymentID"]: d for d in table(folder, "deployments")}
    taxa = {t["scientificName"]: t for t in meta["taxonomic"]}
    license = next(x["name"] for x in meta["licenses"] if x.get("scope") == "data")
    media = table(folder, "media")
    out = []
    for o in table(folder, "observations"):
        if (o["observationLevel"], o["observationType"]) != ("event", "animal"):
            continue
        dep = deployments[o["deploymentID"]]
        linked = [
            m["mediaID"]
            for m in media
            if m["deploymentID"] == o["deploymentID"] and o["eventStart"] <= m["timestamp"] <= o["eventEnd"]
        ]
        precision = meta.get("coordinatePrecision")
        start, end = o["eventStart"], o["eventEnd"]
        out.append({
            "occurrenceID": o["observationID"], "eventID": o["eventID"], "parentEventID": o["deploymentID"],
            "eventDate": start if start == end else f"{start}/{end}",
            "samplingEffort": f"{dep['deploymentStart']}/{dep['deploymentEnd']}",  # the deployment's period
            "scientificName": o["scientificName"],
            "taxonID": taxa.get(o["scientificName"], {}).get("taxonID"),
            "decimalLatitude": float(dep["latitude"]), "decimalLongitude": float(dep["longitude"]),
            "coordinateUncertaintyInMeters": dep["coordinateUncertainty"], "license": license,
            "dataGeneralizations": f"coordinates rounded to {precision} degree" if precision else None,
            "identifiedBy": o["classifiedBy"], "media": linked,
        })  # fmt: skip
    return out


async def test_gbif_conversion_yields_one_occurrence_per_animal_event(db: Database, tmp_path: Path) -> None:
    validate_camtrapdp(
        await export(db, "camtrapdp", *MONTH, exact=False, grid_km=GRID, options=OPTIONS), tmp_path
    )
    occ = {o["eventID"]: o for o in write_dwc_occurrences(tmp_path)}
    # Animal events: the confirmed #1 (two photos), #3, #4 and #9, and #8 that the model calls a leopard;
    # #5 was rejected (blank), #6/#10/#11 are jackals the model did not name (unknown).
    assert set(occ) == {"1", "3", "4", "8", "9"}
    one = occ["1"]
    assert one["eventDate"] == "2025-03-04T09:36:00Z/2025-03-04T09:50:24Z" and len(one["media"]) == 2
    assert one["taxonID"] == "https://www.gbif.org/species/5219436" and one["license"] == "CC-BY-4.0"
    assert one["coordinateUncertaintyInMeters"] == "7072"
    assert one["dataGeneralizations"] == "coordinates rounded to 0.09 degree"
    assert all(o["taxonID"] and o["media"] for o in occ.values())


async def test_camtrapdp_exact_and_snow_leopard(db: Database, tmp_path: Path) -> None:
    await db.execute("UPDATE sightings SET status = 'unreviewed' WHERE id = 5")  # the model's word stands
    await db.execute("UPDATE sightings SET status = 'other' WHERE id = 9")  # "another species"
    descriptor = validate_camtrapdp(await export(db, "camtrapdp", *MONTH, exact=True, grid_km=GRID), tmp_path)
    assert "coordinatePrecision" not in descriptor
    assert {t["scientificName"]: t["taxonID"] for t in descriptor["taxonomic"]} == {
        "Animalia": "https://www.gbif.org/species/1",
        "Panthera pardus": "https://www.gbif.org/species/5219436",
        "Panthera uncia": "https://www.gbif.org/species/2435238",  # Backbone: Uncia uncia
    }
    deployments = {d["deploymentID"]: d for d in table(tmp_path, "deployments")}
    four = deployments["opportunistic-4"]
    assert (four["latitude"], four["coordinateUncertainty"]) == ("43.250000", "")
    assert deployments["UST-01"]["locationName"] == "Spring UST-01"
    assert {o["eventID"] for o in write_dwc_occurrences(tmp_path)} == {"1", "3", "4", "5", "8", "9"}


async def test_camtrapdp_of_an_empty_period_still_validates(tmp_path: Path) -> None:
    async with Database(tmp_path / "empty.sqlite3") as empty:
        data = await export(empty, "camtrapdp", BASE, BASE + timedelta(days=1), exact=False, grid_km=GRID)
    descriptor = validate_camtrapdp(data, tmp_path / "out")
    assert descriptor["temporal"] == {"start": "2025-03-03", "end": "2025-03-04"}


async def test_timestamp_issues_and_videos(db: Database, tmp_path: Path) -> None:
    # Migration 0008: where times come from; 0009: a sighting whose photo is a clip's best frame.
    await db.execute("UPDATE sightings SET time_source = 'exif_original'")
    await db.execute("UPDATE sightings SET time_source = 'telegram_receipt' WHERE id = 3")
    clip = "c" * 64
    await db.execute(
        "INSERT INTO videos (sha256, path, size, container, codec, width, height, duration, frames,"
        " created_at) VALUES (?, ?, 1, 'mov', 'h264', 1920, 1080, 12.0, 24, '2025-03-01')",
        (clip, f"{clip[:2]}/{clip}.mov"),
    )
    await db.execute("UPDATE sightings SET video_sha256 = ?, frame_seconds = 3.5 WHERE id = 2", (clip,))
    validate_camtrapdp(await export(db, "camtrapdp", *MONTH, exact=True, grid_km=GRID), tmp_path)
    deployments = {d["deploymentID"]: d for d in table(tmp_path, "deployments")}
    assert deployments["KZS-01"]["timestampIssues"] == "true"
    assert deployments["UST-01"]["timestampIssues"] == "false"
    media = {m["mediaID"]: m for m in table(tmp_path, "media")}
    assert "not the camera clock" in media[sha_for(3)]["mediaComments"]
    video = media[clip]
    assert (video["fileMediatype"], video["deploymentID"]) == ("video/quicktime", "UST-01")
    assert f"{sha_for(2)} is the frame at 3.5 s" in video["mediaComments"]
    # GBIF links the clip to the burst's event (same deployment, inside its start and end).
    assert [o["occurrenceID"] for o in write_dwc_occurrences(tmp_path) if clip in o["media"]] == ["event-1"]


def test_licences_and_contact_come_from_settings() -> None:
    settings = Settings.load(None, {"LW_DATA_LICENSE": "CC0-1.0", "LW_CONTACT_EMAIL": "a@b.kz",
                                    "LW_CONTACT_NAME": "Dana"})  # fmt: skip
    opts = ExportOptions.from_settings(settings)
    assert (opts.data_license, opts.media_license, opts.contact_name, opts.contact_email) == (
        "CC0-1.0", "CC-BY-4.0", "Dana", "a@b.kz",
    )  # fmt: skip
