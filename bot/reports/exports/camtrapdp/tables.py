"""The three Camtrap DP 1.0.2 tables (deployments, media, observations) built from export rows.

- deployments: one per camera station (deploymentID = locationID = station code, locationName = its
  name; in a rounded export both become a made-up alias, records.StationAliases, and the name is
  left out: with the station list either would give the exact place back). Photos of one event sent
  away from any station become one opportunistic pseudo-deployment "opportunistic-<event id>" at the
  first photo's place (tagged "opportunistic"); photos with no place at all cannot be in a deployment,
  which needs coordinates, and are left out (their number is stated in the package description).
  timestampIssues is true where a photo's time is not the camera's clock (records.time_issue).
- media: one per photo (mediaID = SHA-256, filePublic false: the photos are not published), and one
  per video a sighting's frame came from (fileMediatype video/...). filePath names the file on the
  bot's server (SERVER_PATH: a reference, not a path in the package, which GBIF's tools would look
  for); datapackage.py puts the files into the zip, and changes filePath to where they are in it,
  only with --with-media. The event's best photo (highest detector score) is the favorite.
- observations: one media-level observation per photo (the classification of taxa.classify), and
  one event-level observation per event (a burst of photos shares one event), spanning its photos'
  times. GBIF's conversion (camtrapdp::write_dwc) publishes only the event-level "animal" ones.
"""

from __future__ import annotations

import mimetypes
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.geo import Point, round_point
from bot.places import Deployment, DeploymentIndex, StationInfo
from bot.reports.exports.records import Precision, time_issue
from bot.reports.exports.taxa import Classification, classify
from storage.db import parse_iso

VIDEO_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
               ".avi": "video/x-msvideo", ".mkv": "video/x-matroska", ".3gp": "video/3gpp",
               ".webm": "video/webm", ".wmv": "video/x-ms-wmv", ".asf": "video/x-ms-asf",
               ".mpg": "video/mpeg", ".mpeg": "video/mpeg"}  # fmt: skip
# By FFmpeg demuxer (bot/media/video.py), when the stored name has no telling extension.
CONTAINER_TYPES = {"mov": "video/mp4", "avi": "video/x-msvideo", "matroska": "video/x-matroska",
                   "asf": "video/x-ms-asf", "mpeg": "video/mpeg"}  # fmt: skip
# Where a file stays when the package does not carry it: the bot's photo store (LW_PHOTO_DIR), named
# so that nobody mistakes it for a path inside the package (Camtrap DP's filePath allows a relative
# path or a URL; this is neither a file in the zip nor a public address).
SERVER_PATH = "leopard-watch-server:photos/"


def z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def classification_fields(c: Classification) -> dict[str, Any]:
    return {
        "observationType": c.observation_type,
        "scientificName": c.scientific_name or None,
        "classificationMethod": c.method,
        "classifiedBy": c.by or None,
        "classificationTimestamp": c.at or None,
        "classificationProbability": f"{c.probability:.4f}" if c.probability is not None else None,
        "observationComments": c.comments or None,
    }


def individual_fields(r: dict[str, Any]) -> dict[str, Any]:
    """Issue 25: the individual coordinators identified (bot.individuals), with its sex and life stage where
    recorded; Camtrap DP knows no "unknown" sex, so that is left empty."""
    sex = r.get("individual_sex")
    return {
        "individualID": r.get("individual_code") or None,
        "sex": sex if sex in ("female", "male") else None,
        "lifeStage": r.get("individual_life_stage") or None,
    }


@dataclass
class Tables:
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: list[dict[str, Any]] = field(default_factory=list)
    observations: list[dict[str, Any]] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    unplaced: int = 0


def video_mediatype(stored: tuple[str, str] | None) -> str:
    """The IANA type of a stored clip, from its file name, else its demuxer; video/mp4 when unknown (the
    commonest container of phones and trail cameras)."""
    path, container = stored or ("", "")
    suffix = ("." + path.rsplit(".", 1)[-1].lower()) if "." in path else ""
    guessed = mimetypes.guess_type(f"x{suffix}")[0] if suffix else None
    by_name = VIDEO_TYPES.get(suffix) or (guessed if guessed and guessed.startswith("video/") else None)
    return by_name or CONTAINER_TYPES.get(container, "video/mp4")


def build(
    rows: Iterable[dict[str, Any]],
    stations: dict[str, StationInfo],
    precision: Precision,
    station_id: Callable[[str | None], str],
    videos: dict[str, tuple[str, str]],
    deployments: Iterable[Deployment] = (),
    until: datetime | None = None,
    named: dict[int, int] | None = None,
) -> Tables:
    """`rows` come from records.export_rows; `videos` maps a clip's SHA-256 to (stored path, demuxer);
    `deployments` overlap the period (bot.places, issue 26), `named` maps a sighting to the deployment
    its card import named."""
    out = Tables()
    exact = precision.exact

    def place(p: Point) -> Point:
        return p if exact else round_point(p, precision.grid_km)

    index = DeploymentIndex(deployments)
    for d in index.by_id.values():  # a camera that watched and took nothing still gave effort
        real = deployment_record(d, stations.get(d.station or ""), precision, station_id, until)
        if real is not None:
            out.deployments[real["deploymentID"]] = real

    events: dict[str, list[tuple[dict[str, Any], str, datetime]]] = defaultdict(list)
    issues: dict[str, list[str | None]] = defaultdict(list)
    for r in rows:
        taken = parse_iso(r["taken_at"])
        assert taken is not None
        event = str(r["event_id"] or r["id"])
        station = stations.get(r["station_code"] or "")
        watched = index.match(r["station_code"], taken, r.get("source"), (named or {}).get(r["id"]))
        real_id = deployment_key(watched, station_id) if watched else None
        extra: dict[str, Any] = {}
        if real_id is not None and real_id in out.deployments:
            dep_id, where = real_id, out.deployments[real_id]["_point"]
        elif station is not None:
            dep_id, where = station_id(station.code), place(station.point)
            extra = {
                "locationID": dep_id,
                "locationName": (station.name or None) if exact else None,
                "_start": station.created_at,
                "deploymentComments": ESTIMATED_FROM_PHOTOS,
            }
        elif r["lat"] is not None and r["lon"] is not None:
            dep_id = f"opportunistic-{event}"
            where = place(Point(r["lat"], r["lon"]))
            extra = {"deploymentTags": f"opportunistic | locationSource:{r['location_source'] or 'unknown'}"}
        else:
            out.unplaced += 1
            continue
        dep = out.deployments.setdefault(dep_id, {
            "deploymentID": dep_id,
            "latitude": f"{where.lat:.6f}" if exact else f"{where.lat:.4f}",
            "longitude": f"{where.lon:.6f}" if exact else f"{where.lon:.4f}",
            "coordinateUncertainty": precision.uncertainty_m,
            "deploymentGroups": f"area:{r['area']}" if r["area"] else None,
            "_point": where, "_first": taken, "_last": taken, **extra,
        })  # fmt: skip
        if not dep.get("_real"):
            dep["_first"], dep["_last"] = min(dep["_first"], taken), max(dep["_last"], taken)
        issue = time_issue(r)
        issues[dep_id].append(issue)
        sha = r["photo_sha256"]
        out.media.append({
            "mediaID": sha, "deploymentID": dep_id, "timestamp": z(taken),
            "filePath": f"{SERVER_PATH}{sha[:2]}/{sha}.jpg", "filePublic": "false", "fileName": f"{sha}.jpg",
            "fileMediatype": "image/jpeg", "mediaComments": issue or None,
        })  # fmt: skip
        video = r.get("video_sha256")
        if video:
            seconds = r.get("frame_seconds")
            note = f"{sha} is the frame at {float(seconds):g} s" if seconds is not None else None
            # The clip's mediaID is its own SHA-256 (bot/intake/videos.py stores it like a photo).
            out.media.append({
                "mediaID": video, "deploymentID": dep_id, "timestamp": z(taken),
                "filePath": f"{SERVER_PATH}videos/{video[:2]}/{video}.video", "filePublic": "false",
                "fileName": video,
                "fileMediatype": video_mediatype(videos.get(video)), "mediaComments": note,
            })  # fmt: skip
        out.observations.append({
            "observationID": f"obs-{r['id']}", "deploymentID": dep_id, "mediaID": sha, "eventID": event,
            "eventStart": z(taken), "eventEnd": z(taken), "observationLevel": "media",
            **classification_fields(classify(r)), **individual_fields(r),
        })  # fmt: skip
        events[event].append((r, dep_id, taken))
    _dedupe_media(out)
    _event_observations(out, events)
    for dep_id, dep in out.deployments.items():
        first, last = dep.pop("_first"), dep.pop("_last")
        if not dep.pop("_real", False):  # no deployment recorded: the photos' span, as before issue 26
            start = min(first, dep.pop("_start", None) or datetime.max.replace(tzinfo=UTC))
            dep["deploymentStart"], dep["deploymentEnd"] = z(start), z(last)
        known = [i for i in issues[dep_id] if i is not None]
        if dep.get("timestampIssues") is None:
            dep["timestampIssues"] = ("true" if any(known) else "false") if known else None
        out.points.append(dep.pop("_point"))
    return out


ESTIMATED_FROM_PHOTOS = (
    "no deployment recorded: deploymentStart and deploymentEnd are the first and last photo (or the "
    "station's registration), not when the camera was set up and retrieved"
)


def deployment_key(d: Deployment, station_id: Callable[[str | None], str]) -> str:
    """A recorded deployment's id in the package: its station's id (an alias when rounded) and its own."""
    return f"{station_id(d.station) if d.station else 'point'}-dep{d.id}"


def deployment_record(
    d: Deployment,
    station: StationInfo | None,
    precision: Precision,
    station_id: Callable[[str | None], str],
    until: datetime | None,
) -> dict[str, Any] | None:
    """A recorded deployment as a Camtrap DP row, its real period (still out: to the export's end, or
    now). Rounded packages hold no camera id, no person and no free text: each leads to a place."""
    exact = precision.exact
    raw = station.point if station else d.point
    if raw is None:
        return None
    where = raw if exact else round_point(raw, precision.grid_km)
    now = datetime.now(UTC)
    end = d.end or min(until or now, now)
    notes = []
    if d.start_estimated:
        notes.append("deploymentStart estimated (the card's first frame)")
    if d.end_estimated:
        notes.append("deploymentEnd estimated (the card's last frame)")
    if d.end is None:
        notes.append("still deployed: deploymentEnd is the end of this export")
    if d.knocked_down_at:
        notes.append(f"camera knocked down by {d.knocked_down_at:%Y-%m-%d}")
    if d.card_full_at:
        notes.append(f"card full on {d.card_full_at:%Y-%m-%d}")
    if exact and d.comments:
        notes.append(d.comments)
    area = station.area if station else None
    return {
        "deploymentID": deployment_key(d, station_id),
        "locationID": station_id(station.code) if station else None,
        "locationName": (station.name or None) if exact and station else None,
        "latitude": f"{where.lat:.6f}" if exact else f"{where.lat:.4f}",
        "longitude": f"{where.lon:.6f}" if exact else f"{where.lon:.4f}",
        "coordinateUncertainty": precision.uncertainty_m,
        "deploymentStart": z(d.start), "deploymentEnd": z(max(end, d.start)),
        "setupBy": d.setup_by if exact else None, "cameraID": d.camera if exact else None,
        "cameraModel": d.camera_model, "cameraHeight": d.camera_height, "cameraTilt": d.camera_tilt,
        "baitUse": "false" if d.bait == "none" else "true",
        "timestampIssues": None if d.timestamp_issues is None else str(d.timestamp_issues).lower(),
        "deploymentGroups": f"area:{area}" if area else None,
        "deploymentComments": "; ".join(notes) or None,
        "_point": where, "_first": None, "_last": None, "_real": True,
    }  # fmt: skip


def _dedupe_media(out: Tables) -> None:
    # Several frames of one clip name the same video; mediaID is the table's primary key.
    seen: set[str] = set()
    unique = []
    for m in out.media:
        if m["mediaID"] not in seen:
            seen.add(m["mediaID"])
            unique.append(m)
    out.media = unique


def _event_observations(out: Tables, events: dict[str, list[tuple[dict[str, Any], str, datetime]]]) -> None:
    """One observation per event, classified as the event's own photo (the one reviewed) is, spanning the
    event's photos, in the event photo's deployment: GBIF's conversion links media to it by deploymentID
    and eventStart <= timestamp <= eventEnd."""
    favorites = set()
    for event, members in events.items():
        head_row, head_dep, _ = next((m for m in members if str(m[0]["id"]) == event), members[0])
        times = [t for _, dep, t in members if dep == head_dep]
        best = max(members, key=lambda m: (float(m[0]["score"]), -m[0]["id"]))[0]
        favorites.add(best["photo_sha256"])
        fields = classification_fields(classify(head_row))
        note = f"best media: {best['photo_sha256']}; {len(members)} photo(s)"
        fields["observationComments"] = "; ".join(x for x in (fields["observationComments"], note) if x)
        out.observations.append({
            "observationID": f"event-{event}", "deploymentID": head_dep, "mediaID": None, "eventID": event,
            "eventStart": z(min(times)), "eventEnd": z(max(times)), "observationLevel": "event", **fields,
            **individual_fields(head_row),
        })  # fmt: skip
    for m in out.media:
        if m["mediaID"] in favorites:
            m["favorite"] = "true"
