"""Who reads, and what of a sighting they may see: the one gate for places, station names and free text.

Every output that carries a place or a name asks here: alerts and their edits, /sighting, /compare,
/station list, the weekly summary (text, map, contact sheet, CSV), /export and `leopard-watch export`.

The gate is an allowlist. A reader kind is in EXACT_READERS or it is not; nothing else decides. A
reader outside it never gets the fields that locate a leopard: its view (Shown, below) is built from
the fields it may have (area, grid cell, rounded distance, time, score, species, the event number), so
a field added to a sighting later stays hidden until someone adds it here on purpose.

Leopard locations attract poachers; docs/THREAT_MODEL.md says who may see what and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.geo import Point, round_point
from bot.people.access import Access, Role
from bot.people.groups import Group, Groups


class Reader(StrEnum):
    """The kinds of reader the bot writes for."""

    TRUSTED_GROUP = "trusted group"  # an admin ran /trusted on there
    GROUP = "group"  # a registered coordinator group, not trusted
    ADMIN = "admin"  # in a private chat (ids in LW_ADMIN_IDS)
    COORDINATOR = "coordinator"  # in a private chat
    RANGER = "ranger"  # in a private chat
    CLI_EXACT = "cli --exact"  # whoever runs the command can read the database anyway
    CLI = "cli"  # a file meant to be passed on


# Who may see exact coordinates, station codes with their names and places, and what people typed.
EXACT_READERS = frozenset({Reader.TRUSTED_GROUP, Reader.ADMIN, Reader.CLI_EXACT})

# The fields of a sighting (its row, joined with ranger, station and review) that every reader may have:
# what, when, how sure, who reported and who decided, the area, and the numbers that tie photos to events.
OPEN_FIELDS = frozenset({
    "id", "event_id", "label", "kind", "score", "status", "escalated_by", "frame_seconds", "photos",
    "taken_at", "time_source", "clock_issue", "received_at", "reviewed_at", "reviewed_by", "reviewer_name",
    "ranger_id", "ranger_name", "ranger_username", "photo_sha256", "boxes", "station_area",
})  # fmt: skip
# Given to exact readers as they are; to the others as the gate shapes them (Audience.sighting).
PLACE_FIELDS = frozenset({"lat", "lon", "station_code", "station_name", "caption"})


@dataclass(frozen=True)
class Audience:
    """A reader, with its language, time zone and the grid its places are snapped to."""

    reader: Reader
    lang: str
    zone: ZoneInfo
    grid_km: float

    @property
    def exact(self) -> bool:
        return self.reader in EXACT_READERS

    def point(self, point: Point | None) -> Point | None:
        """The place as this reader may see it: exact, or the centre of its grid cell."""
        if point is None or self.exact:
            return point
        return round_point(point, self.grid_km)

    def where(self, station: str | None, area: str | None) -> str | None:
        """A station code for exact readers; for everyone else the area (a code is a place to
        anyone holding the station list)."""
        return (station or area) if self.exact else area

    def sighting(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A sighting's fields as this reader may have them, picked from OPEN_FIELDS and PLACE_FIELDS:
        a column not named there never reaches a view. Non-exact readers get the grid cell for the
        place, no station code or name, and no caption (`caption_withheld` says one was there)."""
        keys = set(row.keys())
        shown: dict[str, Any] = {k: row[k] for k in OPEN_FIELDS & keys}
        point = Point(row["lat"], row["lon"]) if row["lat"] is not None else None
        place = self.point(point)
        shown["lat"], shown["lon"] = (place.lat, place.lon) if place else (None, None)
        station = self.station(row["station_code"], row["station_name"], row["station_area"])
        shown["station_code"] = station.code if station else None
        shown["station_name"] = station.name if station else None
        shown["caption"] = self.free_text(row["caption"])
        shown["caption_withheld"] = bool(row["caption"]) and shown["caption"] is None
        return shown

    def station(self, code: str | None, name: str | None, area: str | None) -> ShownStation | None:
        if code is None:
            return None
        if self.exact:
            return ShownStation(code=code, name=name or None, area=area)
        return ShownStation(code=None, name=None, area=area)

    def free_text(self, text: str | None) -> str | None:
        """What a person or camera wrote (a caption, an SD card's file name, a mail subject): exact
        readers get it as written, nobody else gets it at all. Filters that blank positions and station
        words only know the spellings someone thought of (a code with a soft hyphen inside, a name in
        Cyrillic look-alikes, a Russian case ending); a caption withheld costs a note, a miss a leopard."""
        if not text or not self.exact:
            return None
        return text


@dataclass(frozen=True)
class ShownStation:
    """What of a station a reader gets: code and name only for exact readers, the area for all."""

    code: str | None
    name: str | None
    area: str | None


def group_audience(group: Group | None, default_zone: ZoneInfo, grid_km: float, lang: str = "ru") -> Audience:
    """A coordinator group reads at its own trust, language and zone; an unknown chat at the least."""
    if group is None:
        return Audience(Reader.GROUP, lang, default_zone, grid_km)
    reader = Reader.TRUSTED_GROUP if group.trusted else Reader.GROUP
    return Audience(reader, group.language, group.zone, grid_km)


def cli_audience(exact: bool, zone: ZoneInfo, grid_km: float, lang: str = "en") -> Audience:
    return Audience(Reader.CLI_EXACT if exact else Reader.CLI, lang, zone, grid_km)


async def audience_for(
    *,
    groups: Groups,
    access: Access,
    chat_id: int,
    private: bool,
    user_id: int,
    lang: str,
    zone: ZoneInfo,
    grid_km: float,
) -> Audience:
    """The reader of one chat: a group at its trust (whoever asks in it), a private chat by the
    asker's role. `lang` is used in a private chat; a group has its own."""
    if not private:
        group = await groups.get(chat_id)
        return group_audience(group, zone, grid_km, lang)
    role = await access.role(user_id)
    if role >= Role.ADMIN:
        reader = Reader.ADMIN
    elif role >= Role.COORDINATOR:
        reader = Reader.COORDINATOR
    else:
        reader = Reader.RANGER
    return Audience(reader, lang, zone, grid_km)
