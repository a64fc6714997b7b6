"""The words for what a photo holds (issue 24): leopard, a pale leopard or a snow leopard, another animal,
no animal found, no leopard found. People never read an ImageNet class name ("coyote", "television"),
and the one figure shown beside these words is the leopard score.

The kind is decided by the detector (bot.detection.types.Detection.kind) and stored at intake
(sightings.kind, migration 0016); the raw model label stays in sightings.label for the model's
students, and nothing shown reads it. bot/alerts/view.py, a floor below, says the same words from the
same catalog keys ("kind.<kind>").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, cast

from bot.detection import KINDS, Kind
from bot.text import t

# Frames the animal detector found nothing in: kept, never alerted, out of the coordinators' way.
EMPTY: Kind = "empty"
LEOPARD_KINDS: tuple[Kind, ...] = ("leopard", "snow_leopard")


class Row(Protocol):
    """A database row or a dict of one (sqlite3.Row is no Mapping to the type checker)."""

    def keys(self) -> Iterable[str]: ...
    def __getitem__(self, key: str, /) -> Any: ...


def kind_of_row(row: Row) -> Kind:
    """A stored sighting's kind; a row written before the kind was stored is judged as migration 0016
    judges it (the leopard classifier alone: leopard, snow leopard, or no leopard found)."""
    keys = set(row.keys())
    stored = row["kind"] if "kind" in keys else None
    if stored in KINDS:
        return cast(Kind, stored)
    if row["is_leopard"] if "is_leopard" in keys else False:
        return "leopard"
    return "snow_leopard" if ("label" in keys and row["label"] == "snow leopard") else "no_leopard"


def kind_word(lang: str, kind: Kind) -> str:
    """The kind in the reader's language, lower case as it reads inside a sentence."""
    return t(lang, f"kind.{kind}")


def kind_title(lang: str, kind: Kind) -> str:
    """The kind at the head of a line: its first letter capitalised."""
    word = kind_word(lang, kind)
    return word[:1].upper() + word[1:]


def kind_scored(lang: str, kind: Kind, score: float) -> str:
    """The kind with its one figure, the leopard score: "another animal (leopard score 0.04)"."""
    return t(lang, "kind.scored", kind=kind_word(lang, kind), score=f"{score:.2f}")
