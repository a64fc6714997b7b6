"""Video clips made from the sample photos with PyAV, for the tests and bench/video.py.

A camera trap writes MJPEG AVIs (every frame a JPEG) or H.264 MP4s; both are made here. Each scene is
shown for `seconds`, slowly panned so that consecutive frames differ (an encoder then does real work,
as with a real animal moving).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av
from PIL import Image

SAMPLES = Path(__file__).resolve().parent.parent / "bot" / "samples"
LEOPARD = SAMPLES / "leo_005_serengeti_night.jpg"
JACKAL = SAMPLES / "neg_060_serengeti_jackal_1.jpg"

# codec name -> (PyAV encoder, pixel format, container)
FORMATS = {
    "mjpeg": ("mjpeg", "yuvj420p", "avi"),
    "h264": ("libx264", "yuv420p", "mp4"),
    "h264-mov": ("libx264", "yuv420p", "mov"),
}


def make_clip(
    scenes: Sequence[tuple[Path | bytes | Image.Image, float]],
    *,
    codec: str = "mjpeg",
    fps: int = 4,
    size: tuple[int, int] = (640, 336),
    creation_time: str | None = None,
    pan: int = 12,
) -> bytes:
    """A clip of (image, seconds) scenes; size must be even for H.264 (4:2:0)."""
    encoder, pix_fmt, container = FORMATS[codec]
    out_buf = io.BytesIO()
    out = av.open(out_buf, "w", format=container)
    if creation_time:
        out.metadata["creation_time"] = creation_time
    stream = out.add_stream(encoder, rate=fps)
    stream.width, stream.height = size
    stream.pix_fmt = pix_fmt
    if encoder == "libx264":
        stream.options = {"preset": "veryfast", "crf": "23"}
    for source, seconds in scenes:
        image = _image(source)
        count = max(1, round(seconds * fps))
        for i in range(count):
            # A slow pan across the photo: a few pixels per frame.
            shift = round(pan * i / max(1, count - 1))
            crop = image.crop((shift, 0, image.width - pan + shift, image.height)).resize(size)
            for packet in stream.encode(av.VideoFrame.from_image(crop)):
                out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
    out.close()
    return out_buf.getvalue()


def _image(source: Path | bytes | Image.Image) -> Image.Image:
    if isinstance(source, Image.Image):
        return source.convert("RGB")
    data = source.read_bytes() if isinstance(source, Path) else source
    return Image.open(io.BytesIO(data)).convert("RGB")


def leopard_clip(codec: str = "mjpeg", **kwargs: Any) -> bytes:
    """1.5 s of jackal, then 1.5 s of leopard: the best frame is in the second half."""
    return make_clip([(JACKAL, 1.5), (LEOPARD, 1.5)], codec=codec, **kwargs)


def jackal_clip(codec: str = "mjpeg", **kwargs: Any) -> bytes:
    return make_clip([(JACKAL, 3.0)], codec=codec, **kwargs)
