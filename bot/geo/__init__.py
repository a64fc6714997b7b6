"""Pure geography: points and movements on the WGS84 sphere, coordinates as people write them, and blanking
positions out of text."""

from bot.geo.coordinates import parse_coordinates
from bot.geo.points import (
    DEFAULT_MAX_KM_PER_DAY,
    CoordinateError,
    Movement,
    Point,
    distance_km,
    format_point,
    format_speed,
    google_maps_url,
    movement,
    osm_url,
    round_point,
    rounded_movement,
    rounding_slack_km,
)
from bot.geo.redaction import redact_coordinates
from bot.geo.region import DEFAULT_REGION, Placement, Region, swap

__all__ = [
    "DEFAULT_MAX_KM_PER_DAY",
    "DEFAULT_REGION",
    "CoordinateError",
    "Movement",
    "Placement",
    "Point",
    "Region",
    "distance_km",
    "format_point",
    "format_speed",
    "google_maps_url",
    "movement",
    "osm_url",
    "parse_coordinates",
    "redact_coordinates",
    "round_point",
    "rounded_movement",
    "rounding_slack_km",
    "swap",
]
