"""The coat-pattern matcher (issue 25, point 2): features and their bytes, the flank and same-station rules,
one-to-one counting, and, when ../shared/reid-dev is present, its figures on real leopard crops."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from bot.individuals import (
    LIKELY_SAME_INLIERS,
    Candidate,
    Features,
    Reference,
    extract,
    from_bytes,
    rank,
    side_by_side,
    to_bytes,
    verdict,
)
from bot.individuals.spatial import one_to_one, verify

DEV_SET = Path(__file__).resolve().parents[3] / "shared" / "reid-dev"


def coat(seed: int, size: tuple[int, int] = (480, 320)) -> Image.Image:
    """A made-up rosette coat: dark broken rings and spots on tan, different for every seed."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (205, 170, 110))
    draw = ImageDraw.Draw(image)
    for _ in range(140):
        x, y = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        rx, ry = rng.uniform(5, 16), rng.uniform(4, 12)
        if rng.random() < 0.5:
            draw.ellipse([x - rx, y - ry, x + rx, y + ry], outline=(40, 30, 20), width=rng.randint(2, 4))
        else:
            draw.ellipse([x - rx / 2, y - ry / 2, x + rx / 2, y + ry / 2], fill=(30, 25, 15))
    return image


def seen_again(image: Image.Image, angle: float = 8.0, scale: float = 0.85) -> Image.Image:
    """The same coat photographed again: turned, further away, a little darker."""
    turned = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=(205, 170, 110))
    w, h = turned.size
    smaller = turned.resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC)
    return Image.eval(smaller, lambda v: int(v * 0.9))


@pytest.fixture(scope="module")
def coats() -> dict[str, Features]:
    return {f"A{i}": extract(coat(i), None) for i in range(4)}


def test_features_survive_bytes_and_refuse_what_is_not_theirs(coats: dict[str, Features]) -> None:
    f = extract(coat(1), (10, 10, 400, 300), "left")
    data = to_bytes(f)
    back = from_bytes(data)
    assert back.flank == "left" and back.crop_size == f.crop_size
    assert np.array_equal(back.keypoints, f.keypoints) and np.array_equal(back.descriptors, f.descriptors)
    assert back.descriptors.dtype == np.uint8 and back.keypoints.dtype == np.float32
    assert len(data) < 60_000  # compact: about 136 bytes per keypoint
    assert max(f.crop_size) == 400  # a fixed long side, whatever the box
    with pytest.raises(ValueError):
        from_bytes(b"XYZ" + data[3:])
    with pytest.raises(ValueError):
        from_bytes(data[:3] + bytes([99]) + data[4:])  # a future version is not misread
    with pytest.raises(ValueError):
        from_bytes(data[:-5])


def test_the_same_coat_ranks_first_and_is_likely_the_same(coats: dict[str, Features]) -> None:
    gallery = [Reference(name, f"{name}.jpg", "UST-01", f) for name, f in coats.items()]
    query = extract(seen_again(coat(2)), None)
    candidates = rank(query, gallery, query_station="UST-02")
    assert candidates[0].individual == "A2"
    assert len({c.individual for c in candidates}) == len(candidates) == 4  # one per individual
    assert candidates[0].inliers >= LIKELY_SAME_INLIERS
    assert all(c.inliers < LIKELY_SAME_INLIERS for c in candidates[1:])
    assert verdict(candidates, query_station="UST-02") == ("likely_same", "A2")


def test_a_same_station_reference_may_rank_but_never_decide(coats: dict[str, Features]) -> None:
    gallery = [Reference(name, f"{name}.jpg", "UST-01", f) for name, f in coats.items()]
    query = extract(seen_again(coat(2)), None)
    candidates = rank(query, gallery, query_station="UST-01")
    assert candidates[0].individual == "A2" and candidates[0].inliers >= LIKELY_SAME_INLIERS
    assert verdict(candidates, query_station="UST-01") == ("cant_tell", None)
    # Another station's picture of the same animal decides, and is the one shown.
    other = Reference("A2", "A2-elsewhere.jpg", "UST-07", extract(seen_again(coat(2), -5, 0.9), None))
    candidates = rank(query, [*gallery, other], query_station="UST-01")
    assert candidates[0].image == "A2-elsewhere.jpg" and candidates[0].station == "UST-07"
    assert verdict(candidates, query_station="UST-01") == ("likely_same", "A2")


def test_opposite_flanks_are_never_compared() -> None:
    photo = coat(3)
    right = Reference("R", "r.jpg", None, extract(photo, None, "right"))
    left = Reference("L", "l.jpg", None, extract(coat(4), None, "left"))
    query_left = extract(seen_again(photo), None, "left")
    assert [c.individual for c in rank(query_left, [right, left])] == ["L"]
    rear = Reference("B", "b.jpg", None, extract(photo, None, "rear"))
    assert rank(extract(photo, None, "front"), [rear]) == []
    # An unknown flank, on either side, compares with all.
    assert {c.individual for c in rank(extract(photo, None), [right, left])} == {"R", "L"}
    unknown_ref = Reference("U", "u.jpg", None, extract(photo, None))
    assert [c.individual for c in rank(query_left, [unknown_ref])] == ["U"]


def test_a_repeated_texture_does_not_inflate_the_inliers() -> None:
    """One tile of coat against a reference that is the tile repeated 3 x 3: each query point and each
    reference spot counts once, so the inliers cannot pass the tile's own keypoints; and SIFT twins (one
    place, another orientation) stored twice count once."""
    tile = coat(5, (160, 110))
    tiled = Image.new("RGB", (480, 330))
    for i in range(3):
        for j in range(3):
            tiled.paste(tile, (i * 160, j * 110))
    query, reference = extract(tile, None), extract(tiled, None)
    pairs = one_to_one(query, reference)
    assert len({i for i, _ in pairs}) == len(pairs) == len({j for _, j in pairs})
    found = verify(query, reference)
    assert len({q for q, _ in found.matches}) == found.inliers == len({r for _, r in found.matches})
    # Every keypoint stored twice (as twins are): the count stays what it was.
    twice = Features(
        np.repeat(reference.keypoints, 2, axis=0), np.repeat(reference.descriptors, 2, axis=0),
        reference.crop_size, reference.flank,
    )  # fmt: skip
    again = extract(seen_again(tile, 4, 0.95), None)
    assert verify(again, twice).inliers <= verify(again, reference).inliers


def test_two_strong_individuals_make_cant_tell() -> None:
    strong = [Candidate("A", 9.0, "a.jpg", 40, ()), Candidate("B", 8.0, "b.jpg", LIKELY_SAME_INLIERS, ())]
    assert verdict(strong, query_station=None) == ("cant_tell", None)
    assert verdict(strong[:1], query_station=None) == ("likely_same", "A")
    weak = [Candidate("A", 9.0, "a.jpg", LIKELY_SAME_INLIERS - 1, ())]
    assert verdict(weak, query_station=None) == ("cant_tell", None)


def test_the_side_by_side_picture_is_a_plain_jpeg(coats: dict[str, Features]) -> None:
    photo = coat(2)
    photo.info["exif"] = b"Exif\x00\x00secret"
    query = seen_again(photo)
    found = verify(extract(query, None), extract(photo, (0, 0, 480, 320)))
    data = side_by_side(query, None, photo, (0, 0, 480, 320), found.matches)
    import io

    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG" and picture.width >= 600
    assert not picture.getexif() and "exif" not in picture.info and "icc_profile" not in picture.info


# ---- the development set: real forehead crops of Sri Lankan leopards (not in the repository) ----


@pytest.fixture(scope="module")
def dev_set() -> list[tuple[str, str, Features]]:
    if not DEV_SET.is_dir():
        pytest.skip("../shared/reid-dev is not here")
    animals = sorted(p for p in DEV_SET.iterdir() if p.is_dir())
    paired = [a for a in animals if len(list(a.glob("*.png"))) >= 2]
    # Every paired animal and 20 distractors: the machinery at a size a test can afford.
    chosen = paired + [a for a in animals if a not in paired][:20]
    out = []
    for folder in chosen:
        for path in sorted(folder.glob("*.png")):
            with Image.open(path) as image:
                out.append((folder.name, path.name, extract(image, None)))
    return out


def test_dev_set_ranks_far_above_chance_and_never_names_the_wrong_animal(
    dev_set: list[tuple[str, str, Features]],
) -> None:
    top5: dict[str, list[bool]] = defaultdict(list)
    wrong: list[tuple[str, str | None]] = []
    for q, (animal, name, features) in enumerate(dev_set):
        gallery = [Reference(a, n, None, f) for i, (a, n, f) in enumerate(dev_set) if i != q]
        candidates = rank(features, gallery)
        said, who = verdict(candidates, query_station=None)
        if said == "likely_same" and who != animal:
            wrong.append((name, who))
        if any(r.individual == animal for r in gallery):
            top5[animal].append(animal in [c.individual for c in candidates[:5]])
    balanced = sum(sum(v) / len(v) for v in top5.values()) / len(top5)
    individuals = len({a for a, _, _ in dev_set})
    assert balanced >= 3 * 5 / individuals  # chance is 5 / individuals (about 15 % here)
    assert wrong == []
