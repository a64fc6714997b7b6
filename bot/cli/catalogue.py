"""`leopard-watch individuals import FOLDER | list`: start the catalogue of individuals from a research team's
folder (one sub-folder per animal, its name the animal's code) and print it.

Each photo is stored like a sighting's (by SHA-256), its coat features computed once and kept. The crop
is the animal: the box from `--boxes FILE` (the CSV of `individuals rank`: `file,x0,y0,x1,y1`, original
pixels, the file by its path below FOLDER or its base name when that is unique), else the animal
detector's most confident box (the detector loaded on first need), else the whole photo (no animal
found, or no detector). A flank comes from `--flanks FILE` (`file,flank`), else from a word in the
photo's name or a folder under the animal's (left, right, front, rear); anything else is "unknown".
Importing again adds only what is new, so a folder can be re-imported after photos were added. Exit
codes: 0 done, 1 refused or failed, 2 a malformed argument.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# The rank command's readers of --boxes and --flanks, so that both commands take the same files.
from bot.cli.individuals import Box, BoxFinder, Problem, _lookup, _parse_box, _parse_flank, _read_table
from bot.config import Settings
from bot.individuals import Catalogue, CatalogueError, compute_crop
from bot.media import iter_images
from storage.db import Database, iso, utcnow
from storage.photos import PhotoStore

USAGE, REFUSED = 2, 1
_FLANK_WORD = re.compile(r"(?:^|[^a-z])(left|right|front|rear)(?:[^a-z]|$)")
CLI_USER = "leopard-watch individuals import"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("individuals", help="the catalogue of individual leopards: import a folder, list it")
    actions = p.add_subparsers(dest="action", required=True)
    p_import = actions.add_parser(
        "import", help="one sub-folder per animal, named by its code; photos inside"
    )
    p_import.add_argument("folder", type=Path)
    p_import.add_argument(
        "--sex",
        choices=("male", "female", "unknown"),
        default="unknown",
        help="for animals new to the catalogue",
    )
    p_import.add_argument(
        "--boxes", type=Path, help="CSV file,x0,y0,x1,y1 (original pixels); default: the detector's box"
    )
    p_import.add_argument("--flanks", type=Path, help="CSV file,flank; default: a word in the path")
    p_list = actions.add_parser(
        "list", help="the catalogue: code, name, sex, references, first and last seen"
    )
    p_list.add_argument("--json", action="store_true", help="one JSON object per individual")


def run(args: argparse.Namespace) -> int:
    settings = Settings.load(args.env_file)
    if args.action == "import":
        if not args.folder.is_dir():
            print(f"leopard-watch individuals: {args.folder} is not a folder", file=sys.stderr)
            return USAGE
        try:
            boxes = _read_table(args.boxes, 5, _parse_box) if args.boxes else {}
            flanks = _read_table(args.flanks, 2, _parse_flank) if args.flanks else {}
        except Problem as exc:
            print(f"leopard-watch individuals: {exc}", file=sys.stderr)
            return USAGE
        return asyncio.run(_import(settings, args.folder, args.sex, boxes=boxes, flanks=flanks))
    return asyncio.run(_list(settings, as_json=args.json))


def flank_of(path: Path, animal_folder: Path) -> str:
    """left/right/front/rear when a word of the photo's path below the animal's folder says so."""
    words = str(path.relative_to(animal_folder)).lower()
    found = _FLANK_WORD.search(words)
    return found.group(1) if found else "unknown"


def _keys(path: Path, folder: Path, names: Counter[str]) -> tuple[str, ...]:
    """How --boxes and --flanks may name a photo: its path below FOLDER, or its base name when unique."""
    relative = path.relative_to(folder).as_posix()
    return (relative, path.name) if names[path.name] == 1 else (relative,)


async def _import(
    settings: Settings,
    folder: Path,
    sex: str,
    *,
    boxes: dict[str, Box] | None = None,
    flanks: dict[str, str] | None = None,
    finder: BoxFinder | None = None,
) -> int:
    store = PhotoStore(settings.photo_dir)
    boxes, flanks = boxes or {}, flanks or {}
    finder = finder or BoxFinder(settings)
    added = animals = skipped = 0
    async with Database(settings.database) as db:
        catalogue = Catalogue(db)
        animals_found = await asyncio.to_thread(_animal_folders, folder)
        by_animal = {animal: list(iter_images([animal])) for animal in animals_found}
        names = Counter(p.name for photos in by_animal.values() for p in photos)
        for animal, photos in by_animal.items():
            if not photos:
                continue
            try:
                ind = await catalogue.get(animal.name)
                if ind is None:
                    async with db.transaction() as conn:
                        ind = await catalogue.create(
                            conn, code=animal.name, by=None, by_name=CLI_USER, sex=sex
                        )
                    animals += 1
            except CatalogueError as exc:
                print(f"leopard-watch individuals: {animal.name}: {exc}", file=sys.stderr)
                skipped += len(photos)
                continue
            for path in photos:
                data = path.read_bytes()
                keys = _keys(path, folder, names)
                flank = _lookup(flanks, keys) or flank_of(path, animal)
                given: Box | None = _lookup(boxes, keys)
                # The detector's box when none is given: a research team's photo shows the place too,
                # and background floods the matcher (docs/INDIVIDUALS.md).
                box = given if given is not None else await asyncio.to_thread(finder.box, data)
                try:
                    features = await asyncio.to_thread(compute_crop, data, box, flank)
                except ValueError as exc:  # unreadable image, or nothing inside
                    print(f"leopard-watch individuals: {path}: {exc}", file=sys.stderr)
                    skipped += 1
                    continue
                stored = store.put(data)  # the file before its row, as every photo
                async with db.transaction() as conn:
                    await conn.execute(
                        "INSERT OR IGNORE INTO photos (sha256, path, size, created_at) VALUES (?, ?, ?, ?)",
                        (stored.sha256, str(stored.path), stored.size, iso(utcnow())),
                    )
                    added += await catalogue.add_reference(
                        conn, ind, photo_sha256=stored.sha256, box=box, flank=flank, features=features,
                        source=f"folder:{path.relative_to(folder)}", by=None, by_name=CLI_USER,
                    )  # fmt: skip
    print(f"{animals} new individuals, {added} reference photos added, {skipped} skipped")
    return 0 if not skipped else REFUSED


def _animal_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


async def _list(settings: Settings, *, as_json: bool) -> int:
    async with Database(settings.database) as db:
        listing = await Catalogue(db).listing()
    for item in listing:
        ind = item.individual
        first = item.first.taken if item.first else None
        last = item.last.taken if item.last else None
        row = {
            "code": ind.code, "name": ind.name, "sex": ind.sex, "life_stage": ind.life_stage,
            "references": ind.references, "events": item.events,
            "first_seen": iso(first) if first else None, "last_seen": iso(last) if last else None,
        }  # fmt: skip
        if as_json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            seen = f"{row['first_seen'] or '—'} .. {row['last_seen'] or '—'}"
            counts = f"{ind.references} refs\t{item.events} events"
            print(f"{ind.code}\t{ind.name or ''}\t{ind.sex}\t{counts}\t{seen}")
    return 0
