"""Video clips made from the sample photos with PyAV, for the tests and bench/video.py.

A camera trap writes MJPEG AVIs (every frame a JPEG) or H.264 MP4s; both are made here. Each scene is
shown for `seconds`, slowly panned so that consecutive frames differ (an encoder then does real work,
as with a real animal moving).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import Image

from tests.support.paths import SAMPLES

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


# A trail camera's own tags in every MJPEG frame: the station's position in EXIF GPS (degrees, minutes,
# seconds: 43° 29' 12.34" N, 51° 48' 6.5" E), its name in a comment and in a maker APPn segment.
CAMERA_GPS = {1: "N", 2: (43.0, 29.0, 12.34), 3: "E", 4: (51.0, 48.0, 6.5)}
CAMERA_COMMENT = b"UST-04 43.5,51.8"
_MAKER = b"TRAILCAM\x00" + CAMERA_COMMENT
CAMERA_MAKER_SEGMENT = b"\xff\xe4" + (2 + len(_MAKER)).to_bytes(2, "big") + _MAKER  # APP4


def tagged_jpeg(image: Image.Image, quality: int = 85) -> bytes:
    """A JPEG as such a camera writes it: JFIF, then EXIF (with GPS), the maker's APP4 and a comment."""
    exif = Image.Exif()
    exif[0x010F] = "UST trail cam"  # Make
    exif[0x8825] = CAMERA_GPS  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, exif=exif, comment=CAMERA_COMMENT)
    data = out.getvalue()
    return data[:2] + CAMERA_MAKER_SEGMENT + data[2:]  # right after SOI


def mjpeg_avi(frames: Sequence[bytes], size: tuple[int, int], fps: int = 4) -> bytes:
    """An AVI of ready JPEG frames muxed byte for byte, as a camera's own encoder writes them."""
    out_buf = io.BytesIO()
    with av.open(out_buf, "w", format="avi") as out:
        stream = out.add_stream("mjpeg", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuvj420p"
        for i, jpeg in enumerate(frames):
            packet = av.Packet(jpeg)
            packet.stream = stream
            packet.pts = packet.dts = i
            packet.duration = 1
            packet.time_base = Fraction(1, fps)
            out.mux(packet)
    return out_buf.getvalue()


def camera_mjpeg_clip(seconds: float = 1.0, fps: int = 4, size: tuple[int, int] = (640, 336)) -> bytes:
    """A trail camera's MJPEG AVI of the leopard whose every frame carries tagged_jpeg's tags."""
    image = _image(LEOPARD)
    count = max(1, round(seconds * fps))
    frames = [
        tagged_jpeg(image.crop((i * 3, 0, image.width - 12 + i * 3, image.height)).resize(size))
        for i in range(count)
    ]
    return mjpeg_avi(frames, size, fps)
