"""What a photo shows, as every export says it: a coordinator's decision, the ranger's report or the model.

One classification per photo, shared by the Darwin Core table (CSV, XLSX, GeoJSON, KML) and Camtrap DP,
so the same photo never reads as a leopard in one file and as unknown in another:
- a coordinator's decision wins over the model: confirmed -> Panthera pardus, rejected ("not a leopard")
  -> blank, other species -> an animal not identified further (kingdom Animalia);
- a photo the ranger handed to the coordinators as a leopard (bot.alerts.escalations), not reviewed
  yet, is the ranger's human classification, Panthera pardus;
- otherwise the model's, by the photo's kind (bot/intake/kinds.py): leopard -> Panthera pardus, snow
  leopard -> Panthera uncia, another animal -> Animalia, no animal found -> blank, no leopard found (no
  animal detector ran) -> unclassified; the comments say the kind and its leopard score, never the
  model's ImageNet label.

Taxon ids are GBIF Backbone Taxonomy keys (https://doi.org/10.15468/39omei), the reference GBIF
matches names against; a key as a URL resolves for people and machines alike. The snow leopard's key,
2435238, is the Backbone's accepted snow leopard, filed there under its older name Uncia uncia (api.gbif.org
/v1/species/2435238, "vernacularName": "snow leopard"); the name exported stays Panthera uncia, the one
IUCN and current mammal checklists use. The key 5787213 used before came from no checkable source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.intake import kind_of_row, kind_scored
from storage.db import parse_iso


@dataclass(frozen=True)
class Taxon:
    scientific_name: str
    rank: str
    taxon_id: str
    vernacular: dict[str, str]  # ISO 639-2/3 language code -> name, as Camtrap DP's taxonomic wants


TAXA = {
    t.scientific_name: t
    for t in (
        Taxon("Panthera pardus", "species", "https://www.gbif.org/species/5219436",
              {"eng": "leopard", "rus": "леопард", "kaz": "қабылан"}),
        Taxon("Panthera uncia", "species", "https://www.gbif.org/species/2435238",
              {"eng": "snow leopard", "rus": "ирбис", "kaz": "ілбіс"}),
        # "Another species" from a coordinator: an animal, identified no further than its kingdom.
        Taxon("Animalia", "kingdom", "https://www.gbif.org/species/1",
              {"eng": "animal", "rus": "животное", "kaz": "жануар"}),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Classification:
    observation_type: str  # Camtrap DP vocabulary: animal, blank, unknown
    method: str  # human / machine
    by: str
    at: str  # ISO-8601 UTC with Z, or ""
    probability: float | None
    comments: str
    taxon: Taxon | None

    @property
    def scientific_name(self) -> str:
        return self.taxon.scientific_name if self.taxon else ""

    def remarks(self) -> str:
        """identificationRemarks in the words GBIF's camera-trap conversion uses ("classified by a ...")."""
        text = f"classified by a {self.method}"
        if self.probability is not None:
            text += f" with {self.probability * 100:.0f}% certainty"
        return f"{text}; {self.comments}" if self.comments else text


def stamp(value: str | None) -> str:
    when = parse_iso(value)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else ""


def classify(r: dict[str, Any]) -> Classification:
    """`r` is a row of bot.reports.exports.records.export_rows."""
    status = r["status"]
    if status in ("confirmed", "rejected", "other"):  # the review button's word, whatever the model said
        reviewer = r["reviewer"] or (str(r["reviewed_by"]) if r.get("reviewed_by") else "")
        kind, taxon = {
            "confirmed": ("animal", TAXA["Panthera pardus"]),
            "rejected": ("blank", None),
            "other": ("animal", TAXA["Animalia"]),
        }[status]
        return Classification(kind, "human", reviewer, stamp(r["reviewed_at"]), None, "", taxon)
    if r.get("escalated_by") is not None:
        return Classification(
            "animal", "human", r["ranger"], stamp(r.get("escalated_at")), None,
            f"reported by the ranger as a leopard; model: {said(r)}", TAXA["Panthera pardus"],
        )  # fmt: skip
    by = r["model"] or "leopard-watch detector"
    probability = max(0.0, min(1.0, float(r["score"])))
    kind = kind_of_row(r)  # the kind's words, never the model's ImageNet label (issue 24)
    if kind == "snow_leopard":
        return Classification("animal", "machine", by, "", probability, "", TAXA["Panthera uncia"])
    if kind == "leopard":
        return Classification("animal", "machine", by, "", probability, "", TAXA["Panthera pardus"])
    # The leopard score is no probability of what these are: it goes in the comments, not beside them.
    if kind == "animal":  # the animal detector's box, not named further
        return Classification("animal", "machine", by, "", None, said(r), TAXA["Animalia"])
    if kind == "empty":
        return Classification("blank", "machine", by, "", None, said(r), None)
    # No animal detector ran: neither animal nor blank is known.
    return Classification("unclassified", "machine", by, "", None, said(r), None)


def said(r: dict[str, Any]) -> str:
    """What the bot told people about the photo, in English: its kind and the leopard score."""
    return kind_scored("en", kind_of_row(r), float(r["score"]))
