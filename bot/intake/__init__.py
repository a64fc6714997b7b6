"""How things become sightings: recording a photo with its place and time, videos, SD cards, and the ranger's
receipt."""

from bot.intake.placing import Edit, Place, give_place
from bot.intake.receipt_view import receipt_text
from bot.intake.replies import Replaced
from bot.intake.sightings import OwnSighting, Sightings
from bot.intake.types import PhotoIntake, Ranger, Receipt, SightingError

__all__ = [
    "Edit",
    "OwnSighting",
    "PhotoIntake",
    "Place",
    "Ranger",
    "Receipt",
    "Replaced",
    "SightingError",
    "Sightings",
    "give_place",
    "receipt_text",
]
