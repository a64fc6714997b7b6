"""Individual leopards: the catalogue of known animals, coat-pattern matching, and the coordinators'
decisions."""

from bot.individuals.catalogue import SEXES, Catalogue, CatalogueError, Individual, Listed, Seen
from bot.individuals.features import FLANKS, Features, extract, from_bytes, to_bytes
from bot.individuals.identification import Decision, Identifications, compute_crop
from bot.individuals.matching import LIKELY_SAME_INLIERS, Candidate, Reference, rank, verdict
from bot.individuals.pictures import side_by_side
from bot.individuals.who_is_this import Question, build_question
from bot.individuals.who_is_this_view import FLANK_CODES, question_text
from bot.individuals.who_is_this_view import PREFIX as WHO_PREFIX
from bot.individuals.who_is_this_view import buttons as who_buttons
from bot.individuals.who_is_this_view import caption as who_caption

__all__ = [
    "FLANKS",
    "FLANK_CODES",
    "LIKELY_SAME_INLIERS",
    "SEXES",
    "WHO_PREFIX",
    "Candidate",
    "Catalogue",
    "CatalogueError",
    "Decision",
    "Features",
    "Identifications",
    "Individual",
    "Listed",
    "Question",
    "Reference",
    "Seen",
    "build_question",
    "compute_crop",
    "extract",
    "from_bytes",
    "question_text",
    "rank",
    "side_by_side",
    "to_bytes",
    "verdict",
    "who_buttons",
    "who_caption",
]
