"""Places: the camera stations and the areas they make up (which area a point is in)."""

from bot.places.areas import AreaFinder, StationInfo, area_names, area_of, load_stations
from bot.places.stations import MAX_NAME, Station, Stations, codes_in, normalize_code

__all__ = [
    "MAX_NAME",
    "AreaFinder",
    "Station",
    "StationInfo",
    "Stations",
    "area_names",
    "area_of",
    "codes_in",
    "load_stations",
    "normalize_code",
]
