"""Coordinates: validation, formatting, distances, movement checks and coarsening (WGS84).

Parsing what rangers type lives in bot/geo/coordinates.py."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from datetime import datetime

from geopy.distance import geodesic


class CoordinateError(ValueError):
    """Unusable coordinates. ``reason`` is a stable code for translation: not_a_number, not_finite,
    lat_range, lon_range, minutes_range (DMS minutes/seconds >= 60), hemisphere (contradictory letters) or
    link (a short map link or place page, which only its service can resolve)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Point:
    """A WGS84 position in decimal degrees."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        for value in (self.lat, self.lon):
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                raise CoordinateError(f"Coordinates must be numbers, got {value!r}", "not_a_number")
        lat, lon = float(self.lat), float(self.lon)
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise CoordinateError("Coordinates must be finite numbers", "not_finite")
        if not -90.0 <= lat <= 90.0:
            raise CoordinateError(f"Latitude {lat:g} is outside -90..90", "lat_range")
        if not -180.0 <= lon <= 180.0:
            raise CoordinateError(f"Longitude {lon:g} is outside -180..180", "lon_range")
        # Storing plain floats keeps equality and hashing independent of the caller's numeric type.
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "lon", lon)


def format_speed(km_per_day: float | None) -> str:
    """'4.1', '1 250' or '∞' (same moment, different places): what the movement lines print."""
    if km_per_day is None:
        return "∞"
    return f"{km_per_day:.1f}" if km_per_day < 100 else f"{km_per_day:,.0f}".replace(",", " ")


def format_point(p: Point, digits: int = 5) -> str:
    """'43.21000, 51.87000': five decimals is about a metre, finer than any phone GPS fix."""
    return f"{p.lat:.{digits}f}, {p.lon:.{digits}f}"


def format_dms(p: Point, second_digits: int = 1) -> str:
    """43°12'36.0"N 51°52'12.0"E, the notation of paper maps and handheld GPS units."""

    def part(value: float, letters: str) -> str:
        # Rounding the total first carries 59.96" into the next minute instead of printing 60.0".
        minutes, seconds = divmod(round(abs(value) * 3600, second_digits), 60)
        degrees, minutes = divmod(int(minutes), 60)
        width = 3 + second_digits if second_digits > 0 else 2
        return f"{degrees}°{minutes:02d}'{seconds:0{width}.{max(second_digits, 0)}f}\"{letters[value < 0]}"

    return f"{part(p.lat, 'NS')} {part(p.lon, 'EW')}"


def osm_url(p: Point, zoom: int = 13) -> str:
    lat, lon = f"{p.lat:.5f}", f"{p.lon:.5f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map={zoom}/{lat}/{lon}"


def google_maps_url(p: Point) -> str:
    return f"https://maps.google.com/?q={p.lat:.5f},{p.lon:.5f}"


def distance_km(a: Point, b: Point) -> float:
    """Geodesic distance on the WGS84 ellipsoid (Karney's algorithm via geopy)."""
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon), ellipsoid="WGS-84").km)


# Upper bound for sustained straight-line travel between two sightings of the same leopard, used to flag
# likely misidentifications or wrong coordinates. It is a judgement call, not a measured limit:
# - Hubel et al. 2018 (Proc. R. Soc. B 285), GPS/IMU collars on four males in the Okavango
#   Delta: mean daily travel 11 km, maximum 29 km in a day.
# - Odden & Wegge 2005 (Wildlife Biology 11:145-152), radio-collared males in Bardia, Nepal: about
#   5 km moved per night in 24-hour tracking sessions.
# - Fattebert et al. 2013 (S. Afr. J. Wildl. Res. 43:61-67): a dispersing subadult male covered at least
#   353 km (195 km straight line), the longest dispersal reported for the species.
# Those are path lengths in African and Nepalese habitat; straight-line displacement is shorter. We know of
# no comparable collar data for Persian leopards in Mangystau, where sparse prey probably means larger
# ranges and longer moves, so 30 km/day straight-line is a generous bound for sightings days apart, not
# a biological limit. It is configurable: callers pass the station's or group's own value.
DEFAULT_MAX_KM_PER_DAY = 30.0
# Two phones at the same camera trap routinely disagree by hundreds of metres.
_GPS_NOISE_KM = 1.0


@dataclass(frozen=True)
class Movement:
    distance_km: float
    hours: float
    km_per_day: float | None  # None: moved with no time elapsed, i.e. infinitely fast
    plausible: bool


def movement(
    a: Point, t_a: datetime, b: Point, t_b: datetime, max_km_per_day: float = DEFAULT_MAX_KM_PER_DAY
) -> Movement:
    """Could one animal have been at ``a`` at ``t_a`` and at ``b`` at ``t_b``? Order does not matter."""
    if t_a.utcoffset() is None or t_b.utcoffset() is None:
        raise ValueError("movement() needs timezone-aware datetimes")
    if not max_km_per_day > 0:
        raise ValueError("max_km_per_day must be positive")
    dist = distance_km(a, b)
    hours = abs((t_b - t_a).total_seconds()) / 3600
    speed = dist / (hours / 24) if hours > 0 else (0.0 if dist == 0 else None)
    plausible = dist < _GPS_NOISE_KM or (speed is not None and speed <= max_km_per_day)
    return Movement(distance_km=dist, hours=hours, km_per_day=speed, plausible=plausible)


def rounding_slack_km(grid_km: float) -> float:
    """How far apart two points can truly be beyond the distance of their grid nodes: each lies within
    half a cell (grid_km / 2 north-south and east-west, see round_point) of its node."""
    return math.sqrt(2) * grid_km


def rounded_movement(
    a: Point,
    t_a: datetime,
    b: Point,
    t_b: datetime,
    grid_km: float,
    max_km_per_day: float = DEFAULT_MAX_KM_PER_DAY,
) -> Movement:
    """movement() as a reader who may only see grid cells is shown it: the distance and speed between the
    snapped points, with the verdict made on the exact points.

    One verdict per move: every reader of the same two sightings reads "one animal" or "two" alike, so a
    trusted and an untrusted group never contradict each other. The verdict is one bit about the exact
    distance (over or under the limit times the days); the distance itself, which locates a sighting
    from a known place, stays the cells'.
    """
    exact = movement(a, t_a, b, t_b, max_km_per_day)
    dist = distance_km(round_point(a, grid_km), round_point(b, grid_km))
    speed = dist / (exact.hours / 24) if exact.hours > 0 else (0.0 if dist == 0 else None)
    return Movement(distance_km=dist, hours=exact.hours, km_per_day=speed, plausible=exact.plausible)


_KM_PER_DEGREE = 111.32


def round_point(p: Point, grid_km: float) -> Point:
    """Snap to a grid of roughly ``grid_km`` so a shared sighting cannot guide poachers to the spot.

    The result depends only on the grid cell, never on where inside it the animal was.
    """
    if math.isnan(grid_km) or math.isinf(grid_km):
        raise ValueError("grid_km must be finite")
    if grid_km < 1e-9:  # below a micrometre there is nothing left to hide, and steps would underflow
        return p
    lat_step = grid_km / _KM_PER_DEGREE
    lat = max(-90.0, min(90.0, round(p.lat / lat_step) * lat_step))
    # Sizing the longitude step at the band's edge nearest the equator keeps the east-west error within
    # half a cell for every point of the band; using the snapped latitude (not p.lat) avoids leaking it.
    edge = max(0.0, abs(lat) - lat_step / 2)
    lon_step = grid_km / (_KM_PER_DEGREE * math.cos(math.radians(edge)))
    lon = 0.0 if lon_step >= 360 else max(-180.0, min(180.0, round(p.lon / lon_step) * lon_step))
    return Point(lat, lon)
