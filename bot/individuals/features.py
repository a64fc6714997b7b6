"""A crop's coat-pattern features: the animal cut out of its photo, normalised, and its RootSIFT keypoints.

Computed once per crop and stored (`to_bytes`), so that ranking a catalogue never re-reads its photos.
Why these steps (issue 25's measured lessons): background floods matches, so only the animal's box is
used; camera traps vary in exposure and IR, so the grey crop is contrast-normalised (CLAHE) before
SIFT; crops are brought to one long side so that rosettes are about the same size in pixels whatever
the camera's distance; RootSIFT (Arandjelovic and Zisserman 2012) compares histograms better than
SIFT's raw Euclidean distance. No learned weights: OpenCV's SIFT needs none.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

FLANKS = ("left", "right", "front", "rear", "unknown")
# Long side of the normalised crop, in pixels: rosettes stay several pixels across on a whole flank,
# and a 400 px crop keeps SIFT at a few tens of milliseconds.
LONG_SIDE = 400
# Strongest keypoints kept per crop: enough for the spatial check, few enough that a 500-crop gallery
# fits one nearest-neighbour index in memory (bench/reid.py states the bytes per crop).
MAX_KEYPOINTS = 300
# RootSIFT components are stored as uint8: values lie in [0, 1] and rarely pass 0.5, so x512 keeps
# their resolution (HotSpotter stores its descriptors the same way).
DESCRIPTOR_SCALE = 512.0
DESCRIPTOR_DIM = 128

_MAGIC = b"LWF"
_VERSION = 1
# magic, version, flank index, crop width, crop height, keypoint count, descriptor length
_HEADER = struct.Struct("<3sBBHHIH")


@dataclass(frozen=True)
class Features:
    """Keypoints (N x 2 float32, pixels of the normalised crop) and their RootSIFT descriptors (N x 128
    uint8, scaled by DESCRIPTOR_SCALE); `crop_size` is the normalised crop's (width, height)."""

    keypoints: np.ndarray
    descriptors: np.ndarray
    crop_size: tuple[int, int]
    flank: str

    def __post_init__(self) -> None:
        if self.flank not in FLANKS:
            raise ValueError(f"unknown flank {self.flank!r}; one of {', '.join(FLANKS)}")
        if len(self.keypoints) != len(self.descriptors):
            raise ValueError("keypoints and descriptors differ in number")


def crop(image: Image.Image, box: tuple[int, int, int, int] | None, mode: str = "RGB") -> Image.Image:
    """The animal's box (original pixels; None: the whole image) at LONG_SIDE: the pixels keypoints are in."""
    picture = image.convert(mode)
    if box is not None:
        picture = picture.crop(_clamp(box, picture.size))
    w, h = picture.size
    scale = LONG_SIDE / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC
    return picture.resize(size, resample)


def normalised_crop(image: Image.Image, box: tuple[int, int, int, int] | None) -> np.ndarray:
    """The grey, contrast-normalised animal crop at LONG_SIDE, as a uint8 array."""
    pixels = np.asarray(crop(image, box, "L"), dtype=np.uint8)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    return np.asarray(clahe.apply(pixels), dtype=np.uint8)


def extract(image: Image.Image, box: tuple[int, int, int, int] | None, flank: str = "unknown") -> Features:
    """Features of the animal in `box` (original pixels; None: the whole image) seen from `flank`."""
    crop = normalised_crop(image, box)
    sift = cv2.SIFT.create(nfeatures=MAX_KEYPOINTS)
    keypoints, descriptors = sift.detectAndCompute(crop, None)
    height, width = crop.shape
    if descriptors is None or not keypoints:
        return Features(
            np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_DIM), np.uint8), (width, height), flank
        )
    # nfeatures keeps the strongest, but ties can let a few more through.
    order = np.argsort([-k.response for k in keypoints])[:MAX_KEYPOINTS]
    points = np.array([keypoints[i].pt for i in order], dtype=np.float32).reshape(-1, 2)
    return Features(points, _root_sift(descriptors[order]), (width, height), flank)


def _root_sift(descriptors: np.ndarray) -> np.ndarray:
    d = descriptors.astype(np.float32)
    d /= np.maximum(d.sum(axis=1, keepdims=True), 1e-7)
    return np.clip(np.sqrt(d) * DESCRIPTOR_SCALE, 0, 255).astype(np.uint8)


def unit_descriptors(features: Features) -> np.ndarray:
    """Descriptors back as float32 unit vectors (what distances are measured on)."""
    return features.descriptors.astype(np.float32) / DESCRIPTOR_SCALE


def to_bytes(f: Features) -> bytes:
    """Compact and versioned: a 15-byte header, float32 keypoints, uint8 descriptors (about 136 bytes per
    keypoint, so at most about 41 kB per crop)."""
    n, dim = f.descriptors.shape if f.descriptors.ndim == 2 else (0, DESCRIPTOR_DIM)
    header = _HEADER.pack(_MAGIC, _VERSION, FLANKS.index(f.flank), f.crop_size[0], f.crop_size[1], n, dim)
    points = np.ascontiguousarray(f.keypoints, dtype="<f4").tobytes()
    return header + points + np.ascontiguousarray(f.descriptors, dtype=np.uint8).tobytes()


def from_bytes(b: bytes) -> Features:
    if len(b) < _HEADER.size:
        raise ValueError("not coat features: too short")
    magic, version, flank, width, height, n, dim = _HEADER.unpack_from(b)
    if magic != _MAGIC:
        raise ValueError("not coat features: wrong magic")
    if version != _VERSION:
        raise ValueError(f"coat features of version {version}; this code reads version {_VERSION}")
    if flank >= len(FLANKS) or len(b) != _HEADER.size + n * 8 + n * dim:
        raise ValueError("coat features are damaged")
    start = _HEADER.size
    points = np.frombuffer(b, dtype="<f4", count=n * 2, offset=start).astype(np.float32).reshape(n, 2)
    descriptors = np.frombuffer(b, dtype=np.uint8, count=n * dim, offset=start + n * 8).reshape(n, dim).copy()
    return Features(points, descriptors, (width, height), FLANKS[flank])


def _clamp(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(v) for v in box)
    x0, x1 = sorted((max(0, min(x0, size[0])), max(0, min(x1, size[0]))))
    y0, y1 = sorted((max(0, min(y0, size[1])), max(0, min(y1, size[1]))))
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError(f"box {box} leaves no picture inside a {size[0]} x {size[1]} image")
    return x0, y0, x1, y1
