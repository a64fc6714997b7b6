"""Places: the camera stations and the areas they make up (which area a point is in)."""

from bot.places.areas import AreaFinder, StationInfo, area_names, area_of, load_stations
from bot.places.checks import (
    BATTERY_STEPS,
    FINDINGS,
    Check,
    CheckError,
    FieldChecks,
    Overdue,
    Visit,
    outages,
    overdue_checks,
    parse_visit,
)
from bot.places.deployments import (
    CardDeployment,
    Deployment,
    DeploymentError,
    DeploymentIndex,
    Deployments,
    load_deployments,
    parse_when,
)
from bot.places.stations import MAX_NAME, Station, Stations, codes_in, normalize_code

__all__ = [
    "BATTERY_STEPS",
    "FINDINGS",
    "MAX_NAME",
    "AreaFinder",
    "CardDeployment",
    "Check",
    "CheckError",
    "Deployment",
    "DeploymentError",
    "DeploymentIndex",
    "Deployments",
    "FieldChecks",
    "Overdue",
    "Station",
    "StationInfo",
    "Stations",
    "Visit",
    "area_names",
    "area_of",
    "codes_in",
    "load_deployments",
    "load_stations",
    "normalize_code",
    "outages",
    "overdue_checks",
    "parse_visit",
    "parse_when",
]
