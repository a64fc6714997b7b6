"""`leopard-watch individuals rank GALLERY QUERY...`: the coat-pattern matcher on anyone's own catalogue.

GALLERY holds one sub-folder per individual with its photos; each QUERY is an image or a folder of them.
`--boxes FILE` (CSV `file,x0,y0,x1,y1`, original pixels; the file named by its path relative to GALLERY
or to the QUERY folder, or by its base name when that is unique) gives the animal's box; without a
row, the animal detector's best box is used (loaded only when some box is missing), else the whole
image. `--flanks FILE` (CSV `file,flank`) gives flanks; without a row a crop's flank is unknown and
compares with every flank. One JSON line per query image on stdout:
`{"query", "candidates": [{"individual", "score", "image"}, ...], "verdict", "individual"}`, candidates
one per individual best first (the top 10, or all when fewer). A progress bar goes to stderr. Features
are cached by file hash (with the box and flank) under LW_DATA_DIR/individual-features or --cache.
Exit codes: 0 done, 1 some image unreadable (reported in its line), 2 bad arguments or files.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bot.config import Settings
from bot.detection import Detection
from bot.individuals import FLANKS, Features, Reference, extract, from_bytes, rank, to_bytes, verdict
from bot.media import UnreadableImage, iter_images, open_image

TOP = 10
USAGE, UNREADABLE = 2, 1
Box = tuple[int, int, int, int]


class Problem(ValueError):
    """A malformed argument or file (exit code 2)."""


def add_parser(sub: Any) -> None:
    """The `rank` action of `individuals`: joins the command if the catalogue's actions made it already."""
    p = sub.choices.get("individuals") or sub.add_parser("individuals", help="individual leopards")
    actions = next((a for a in p._actions if isinstance(a, argparse._SubParsersAction)), None)
    if actions is None:
        actions = p.add_subparsers(dest="action", required=True)
    p_rank = actions.add_parser(
        "rank", help="rank GALLERY (one sub-folder per individual) against each QUERY image; JSON lines out"
    )
    p_rank.add_argument("gallery", type=Path, help="folder with one sub-folder of photos per individual")
    p_rank.add_argument("queries", type=Path, nargs="+", help="image files or folders of them")
    p_rank.add_argument("--boxes", type=Path, help="CSV file,x0,y0,x1,y1 (original pixels)")
    p_rank.add_argument("--flanks", type=Path, help=f"CSV file,flank ({', '.join(FLANKS)})")
    p_rank.add_argument(
        "--cache", type=Path, help="feature cache folder (default LW_DATA_DIR/individual-features)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action != "rank":
        return USAGE
    try:
        return rank_command(args, settings)
    except Problem as exc:
        print(f"leopard-watch individuals: {exc}", file=sys.stderr)
        return USAGE


@dataclass(frozen=True)
class Item:
    path: Path
    keys: tuple[str, ...]  # how --boxes and --flanks may name it: relative paths, then the base name


def rank_command(args: argparse.Namespace, settings: Settings) -> int:
    gallery_dir: Path = args.gallery
    if not gallery_dir.is_dir():
        raise Problem(f"no gallery folder {gallery_dir}")
    for q in args.queries:
        if not q.exists():
            raise Problem(f"no query file or folder {q}")
    boxes = _read_table(args.boxes, 5, _parse_box) if args.boxes else {}
    flanks = _read_table(args.flanks, 2, _parse_flank) if args.flanks else {}
    gallery_files = [
        (sub.name, p)
        for sub in sorted(d for d in gallery_dir.iterdir() if d.is_dir() and not d.name.startswith("."))
        for p in iter_images([sub])
    ]
    if not gallery_files:
        raise Problem(f"{gallery_dir} holds no sub-folder with photos (one sub-folder per individual)")
    query_files = [(q, p) for q in args.queries for p in iter_images([q])]
    # A base name names a file only when no other gallery or query file has it.
    seen = Counter(p.name for _, p in [*gallery_files, *query_files])

    def named(path: Path, relative: str) -> Item:
        return Item(path, (relative, path.name) if seen[path.name] == 1 else (relative,))

    gallery_items = [(name, named(p, p.relative_to(gallery_dir).as_posix())) for name, p in gallery_files]
    query_items = [
        named(p, p.relative_to(q).as_posix() if q.is_dir() else q.as_posix()) for q, p in query_files
    ]
    cache = Cache(args.cache or settings.data_dir / "individual-features")
    finder = BoxFinder(settings)
    code = 0
    with tqdm(
        total=len(gallery_items) + len(query_items), desc="features", unit="photo", file=sys.stderr
    ) as bar:
        gallery: list[Reference] = []
        for name, item in gallery_items:
            features = _features(item, boxes, flanks, cache, finder)
            bar.update()
            if features is None:
                print(f"leopard-watch individuals: cannot read {item.path}; left out", file=sys.stderr)
                continue
            gallery.append(Reference(name, str(item.path), None, features))
        bar.set_description("queries")
        for item in query_items:
            features = _features(item, boxes, flanks, cache, finder)
            bar.update()
            if features is None:
                code = UNREADABLE
                print(json.dumps({"query": str(item.path), "error": "unreadable image"}), flush=True)
                continue
            print(json.dumps(_line(item, features, gallery), ensure_ascii=False), flush=True)
    return code


def _line(item: Item, features: Features, gallery: Sequence[Reference]) -> dict[str, object]:
    candidates = rank(features, gallery)
    said, who = verdict(candidates, query_station=None)
    return {
        "query": str(item.path),
        "candidates": [
            {"individual": c.individual, "score": c.score, "image": c.image} for c in candidates[:TOP]
        ],
        "verdict": said,
        "individual": who,
    }


def _features(
    item: Item, boxes: dict[str, Box], flanks: dict[str, str], cache: Cache, finder: BoxFinder
) -> Features | None:
    try:
        data = item.path.read_bytes()
    except OSError:
        return None
    given = _lookup(boxes, item.keys)
    flank = _lookup(flanks, item.keys) or "unknown"
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest}-{flank}-" + ("-".join(map(str, given)) if given else "auto")
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        image, full = open_image(data)
    except UnreadableImage:
        return None
    box = given if given is not None else finder.box(data)
    if box is not None and image.size != full:  # a huge image is decoded reduced; boxes are in full pixels
        sx, sy = image.size[0] / full[0], image.size[1] / full[1]
        box = (round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy))
    try:
        features = extract(image, box, flank)
    except ValueError as exc:  # a box outside the picture
        raise Problem(f"{item.path}: {exc}") from None
    cache.put(key, features)
    return features


class Cache:
    """Features by file hash: one small file each (features.to_bytes), written whole or not at all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: str) -> Features | None:
        try:
            return from_bytes((self.folder / f"{key}.lwf").read_bytes())
        except (OSError, ValueError):  # absent, or written by another version: compute again
            return None

    def put(self, key: str, features: Features) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{key}.tmp"
            tmp.write_bytes(to_bytes(features))
            tmp.replace(self.folder / f"{key}.lwf")
        except OSError as exc:  # a cache that cannot be written only costs time
            print(
                f"leopard-watch individuals: cannot cache features in {self.folder}: {exc}", file=sys.stderr
            )


class BoxFinder:
    """The animal detector's best box, the detector loaded on first need (it costs seconds and memory)."""

    def __init__(self, settings: Settings, load: Callable[[Settings], Any] | None = None) -> None:
        self.settings = settings
        self._load = load or _load_detector
        self._detector: Any = None
        self._failed = False

    def box(self, data: bytes) -> Box | None:
        if self._failed:
            return None
        if self._detector is None:
            try:
                self._detector = self._load(self.settings)
            except Exception as exc:
                self._failed = True
                print(f"leopard-watch individuals: no animal detector ({exc}); whole images are compared",
                      file=sys.stderr)  # fmt: skip
                return None
        try:
            detection: Detection = self._detector.detect(data)
        except (UnreadableImage, ValueError, OSError):
            return None
        if not detection.animals:
            return None
        best = max(detection.animals, key=lambda b: b.score)
        return best.x0, best.y0, best.x1, best.y1


def _load_detector(settings: Settings) -> Any:
    from bot.detection.model import OnnxLeopardDetector

    return OnnxLeopardDetector(
        threshold=settings.threshold, threads=settings.threads, precision=settings.detector_precision
    )


def _lookup(table: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in table:
            return table[key]
    return None


def _parse_box(row: list[str]) -> Box:
    try:
        x0, y0, x1, y1 = (round(float(v)) for v in row[1:5])
    except ValueError:
        raise Problem(f"box of {row[0]} is not four numbers: {row[1:5]}") from None
    if x1 <= x0 or y1 <= y0:
        raise Problem(f"box of {row[0]} is empty: x1 must exceed x0 and y1 exceed y0")
    return x0, y0, x1, y1


def _parse_flank(row: list[str]) -> str:
    flank = row[1].strip().lower()
    if flank not in FLANKS:
        raise Problem(f"flank of {row[0]} is {row[1]!r}; one of {', '.join(FLANKS)}")
    return flank


def _read_table(path: Path, columns: int, parse: Callable[[list[str]], Any]) -> dict[str, Any]:
    """file -> value; a base name is also a key when no other row has the same base name."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise Problem(f"cannot read {path}: {exc}") from None
    table: dict[str, Any] = {}
    names: dict[str, list[Any]] = {}
    for n, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not row[0].strip() or row[0].startswith("#"):
            continue
        if len(row) < columns:
            raise Problem(f"{path} line {n}: expected {columns} columns")
        if n == 1 and row[0].strip().lower() == "file":  # a header
            continue
        value = parse([c.strip() for c in row])
        name = row[0].strip().replace("\\", "/")
        table[name] = value
        names.setdefault(Path(name).name, []).append(value)
    for base, values in names.items():
        if len(values) == 1:
            table.setdefault(base, values[0])
    return table
