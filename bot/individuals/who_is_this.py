"""The "Who is this?" question for one confirmed leopard event: its crop ranked against the catalogue, the
top candidates as side-by-side pictures, and, apart from the score, the movement from each candidate's
last sighting.

Two pieces of evidence, never multiplied into one: the coat (score, matched points, the matcher's
cautious verdict) and the move (distance, days, plausible or not). "Likely same" comes only from
bot.individuals.matching.verdict; a low score never says "different". Places follow the reader
(bot.people.Audience): an untrusted group gets areas and grid distances, never stations.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from PIL import Image

from bot.alerts import Placed, load_placed
from bot.geo import Movement, movement, rounded_movement
from bot.individuals.catalogue import Catalogue, Seen
from bot.individuals.features import from_bytes
from bot.individuals.identification import EventCrop, Identifications
from bot.individuals.matching import Candidate, verdict
from bot.individuals.pictures import side_by_side
from bot.media import open_image
from bot.people import Audience
from storage.photos import PhotoStore

TOP = 3  # candidates shown: more pictures than a phone screen shows get scrolled past


@dataclass(frozen=True)
class LastMove:
    """From the candidate's last placed sighting before this event to this one, as this reader may see it."""

    other_id: int
    where: str | None  # station code (exact readers) or area
    move: Movement
    exact: bool


@dataclass(frozen=True)
class Shown:
    individual_id: int
    code: str
    score: float
    inliers: int
    picture: bytes | None  # None: the reference photo is gone from the store
    last_move: LastMove | None


@dataclass(frozen=True)
class Question:
    event_id: int
    flank: str
    verdict: str  # likely_same | cant_tell
    likely: str | None  # the individual's code, only with likely_same
    candidates: list[Shown]
    current: tuple[str, str | None] | None  # (decision, code) already recorded


async def build_question(
    identifications: Identifications,
    photos: PhotoStore,
    event_id: int,
    audience: Audience,
    *,
    max_km_per_day: float,
    top: int = TOP,
) -> Question | None:
    """None: not a leopard event (or its photo is gone)."""
    catalogue = identifications.catalogue
    crop = await identifications.event_crop(event_id)
    if crop is None:
        return None
    # The gallery and its kd-tree stay loaded in the catalogue between questions; the ranking runs on
    # its worker thread (CPU work, never on the event loop).
    ranked = await catalogue.rank(from_bytes(crop.features), query_station=crop.station)
    said, likely = verdict(ranked, query_station=crop.station)
    here = await load_placed(identifications.db, event_id)
    shown = []
    query_image = await asyncio.to_thread(_open, photos, crop.photo_sha256)
    for cand in ranked[:top]:
        ind = await catalogue.get(cand.individual)
        if ind is None:  # removed since the gallery was loaded
            continue
        picture = await _picture(catalogue, photos, crop, query_image, cand)
        last = await _last_move(catalogue, identifications, ind.id, here, audience, max_km_per_day)
        shown.append(Shown(ind.id, cand.individual, cand.score, cand.inliers, picture, last))
    current = await identifications.current(event_id)
    now = (current[0], current[1].code if current[1] else None) if current else None
    return Question(event_id, crop.flank, said, likely, shown, now)


def _open(photos: PhotoStore, sha: str) -> Image.Image | None:
    try:
        image, _ = open_image(photos.read(sha))
    except (OSError, ValueError):
        return None
    return image


async def _picture(
    catalogue: Catalogue, photos: PhotoStore, crop: EventCrop, query: Image.Image | None, cand: Candidate
) -> bytes | None:
    ref = await catalogue.reference_photo(int(cand.image))
    if ref is None or query is None:
        return None
    sha, box = ref
    reference = await asyncio.to_thread(_open, photos, sha)
    if reference is None:
        return None
    ref_box = (box[0], box[1], box[2], box[3]) if box else None
    return await asyncio.to_thread(side_by_side, query, crop.box, reference, ref_box, cand.matches)


async def _last_move(
    catalogue: Catalogue,
    identifications: Identifications,
    individual_id: int,
    here: Placed | None,
    audience: Audience,
    max_km_per_day: float,
) -> LastMove | None:
    """The move from the individual's last placed sighting before this one; None when either has no
    place or time (a wrong camera clock counts as no time: its hour is not when the animal was there)."""
    if here is None or here.point is None or here.taken is None or _clock_wrong(here):
        return None
    before: list[Seen] = [
        s for s in await catalogue.seen(individual_id)
        if s.event_id != here.id and s.point is not None and s.taken is not None and s.taken <= here.taken
    ]  # fmt: skip
    for seen in reversed(before):
        other = await load_placed(identifications.db, seen.event_id)
        if other is None or other.point is None or other.taken is None or _clock_wrong(other):
            continue
        if audience.exact:
            mv = movement(other.point, other.taken, here.point, here.taken, max_km_per_day)
        else:
            mv = rounded_movement(
                other.point, other.taken, here.point, here.taken, audience.grid_km, max_km_per_day
            )
        return LastMove(other.id, audience.where(other.station, other.area), mv, audience.exact)
    return None


def _clock_wrong(p: Placed) -> bool:
    return p.time is not None and p.time.clock_issue is not None
