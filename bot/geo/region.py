"""The deployment's region: a latitude/longitude box (LW_REGION) that typed coordinates are checked against.

Rangers type coordinates by hand and sometimes swap latitude and longitude; in Mangystau the swapped
point lands some 900 km away (in Russia), inside the map but outside anything monitored. The box
does not need to follow the oblast's border: it only has to tell the two readings apart.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.geo.points import CoordinateError, Point

# south,west,north,east: Mangystau oblast with a margin (41.2-45.6 N, 50.2-56.0 E).
DEFAULT_REGION = "41.0,49.5,46.5,56.5"


class Placement(enum.Enum):
    INSIDE = "inside"
    SWAPPED = "swapped"  # outside as typed, inside with latitude and longitude exchanged: ask
    OUTSIDE = "outside"  # outside either way: keep it, but say so


@dataclass(frozen=True)
class Region:
    south: float
    west: float
    north: float
    east: float

    @classmethod
    def parse(cls, text: str) -> Region:
        """Read "south,west,north,east" in decimal degrees; a ValueError says what is wrong."""
        parts = [p.strip() for p in text.replace(";", ",").split(",")]
        if len(parts) != 4:
            raise ValueError(f"expected south,west,north,east (4 numbers), got {text!r}")
        try:
            south, west, north, east = (float(p) for p in parts)
            corners = Point(south, west), Point(north, east)
        except (ValueError, CoordinateError) as exc:
            raise ValueError(f"{text!r} is not south,west,north,east in degrees: {exc}") from exc
        if not (south < north and west < east):
            # A box across the antimeridian is not supported: no deployment needs it.
            raise ValueError(f"{text!r}: south must be below north and west below east")
        return cls(corners[0].lat, corners[0].lon, corners[1].lat, corners[1].lon)

    def contains(self, point: Point) -> bool:
        return self.south <= point.lat <= self.north and self.west <= point.lon <= self.east

    def place(self, point: Point) -> Placement:
        if self.contains(point):
            return Placement.INSIDE
        swapped = swap(point)
        return Placement.SWAPPED if swapped is not None and self.contains(swapped) else Placement.OUTSIDE

    def describe(self) -> str:
        """'41.0…46.5, 49.5…56.5': latitudes, then longitudes, the order rangers type them in."""
        return f"{self.south:g}…{self.north:g}, {self.west:g}…{self.east:g}"


def swap(point: Point) -> Point | None:
    """Latitude and longitude exchanged; None when the longitude is no possible latitude."""
    try:
        return Point(point.lon, point.lat)
    except CoordinateError:
        return None
