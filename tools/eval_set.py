"""The labelled eval folder that tools/calibrate.py scores: which photos, their labels, their species.

The folder holds `leopard/*.jpg` and `negative/*.jpg`, optionally with a `SOURCES.tsv` (columns `file`,
`label`, `visually_verified`, `note`). Without SOURCES.tsv the sub-folder name is the label and every
image counts as verified.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Item:
    file: str  # path relative to the eval folder
    leopard: bool  # ground-truth label
    verified: bool  # label visually confirmed
    species: str  # short description from SOURCES.tsv (negatives: the animal / scene)


_SCENE_WORDS = {
    "ir",
    "day",
    "night",
    "dark",
    "group",
    "partial",
    "snow",
    "fog",
    "rear",
    "rock",
    "tree",
    "grass",
}


def _species(note: str, file: str) -> str:
    """First clause of the SOURCES.tsv note without parentheses, else the file-name animal."""
    head = re.split(r"[;,]", note, maxsplit=1)[0]
    head = re.sub(r"\s*\([^)]*\)", "", head).strip()
    head = re.sub(r"(?<=[a-z])\d+$", "", head)  # "empty1" -> "empty"
    stem = Path(file).stem.lower()
    if head and " " not in head:  # the note may keep only the first word: "brown" for neg_038_carp_brown_bear
        longer = re.search(rf"_{re.escape(head.lower())}_([a-z]+)", stem)
        if longer and longer.group(1) not in _SCENE_WORDS:
            return f"{head} {longer.group(1)}"
    if head:
        return head
    return re.sub(r"^(leo|neg)_\d+_", "", stem).replace("_", " ")


def load_items(root: Path) -> list[Item]:
    tsv = root / "SOURCES.tsv"
    items: list[Item] = []
    if tsv.is_file():
        with tsv.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                if not (root / row["file"]).is_file():
                    continue
                label = row.get("label", "").strip().lower()
                if label not in ("leopard", "negative"):
                    continue
                verified = row.get("visually_verified", "").strip().lower().startswith("yes")
                items.append(
                    Item(
                        row["file"], label == "leopard", verified, _species(row.get("note", ""), row["file"])
                    )
                )
        return items
    for sub, is_leo in (("leopard", True), ("negative", False)):
        for path in sorted((root / sub).glob("*.jpg")):
            rel = f"{sub}/{path.name}"
            items.append(Item(rel, is_leo, True, _species("", rel)))
    return items
