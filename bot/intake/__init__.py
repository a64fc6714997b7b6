"""How things become sightings: recording a photo with its place and time, videos, SD cards, and the ranger's
receipt."""

from bot.intake.forwards import origin as forward_origin
from bot.intake.kinds import EMPTY, LEOPARD_KINDS, kind_of_row, kind_scored, kind_word
from bot.intake.placing import Edit, Place, give_place
from bot.intake.receipt_view import receipt_text
from bot.intake.replies import Replaced
from bot.intake.sightings import OwnSighting, Sightings
from bot.intake.types import ForwardOrigin, PhotoIntake, Ranger, Receipt, SightingError

__all__ = [
    "EMPTY",
    "LEOPARD_KINDS",
    "Edit",
    "ForwardOrigin",
    "OwnSighting",
    "PhotoIntake",
    "Place",
    "Ranger",
    "Receipt",
    "Replaced",
    "SightingError",
    "Sightings",
    "forward_origin",
    "give_place",
    "kind_of_row",
    "kind_scored",
    "kind_word",
    "receipt_text",
]
