"""bot/media/video_clean.py's JPEG segment walker on its own: lossless on every kind of JPEG a camera or an
encoder writes, strict about the rest (a frame it cannot parse raises, never comes back unchanged)."""

from __future__ import annotations

import io
import struct

import av
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.media.video_clean import AS_IS, MjpegFrames, NotCleanable, packet_cleaner, strip_jpeg
from tests.support.clips import CAMERA_COMMENT, LEOPARD, _image, tagged_jpeg

SMALL = _image(LEOPARD).resize((64, 48))
TAGGED = tagged_jpeg(SMALL)


def jpeg(image: Image.Image = SMALL, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", **options)
    return out.getvalue()


def pixels(data: bytes) -> bytes:
    return Image.open(io.BytesIO(data)).tobytes()


def segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, 2 + len(body)) + body


def after_soi(data: bytes, *segments: bytes) -> bytes:
    return data[:2] + b"".join(segments) + data[2:]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"progressive": True},  # ten scans, with tables between them
        {"restart_marker_blocks": 1},  # RST0-7 inside the entropy-coded data
        {"subsampling": 0, "quality": 95},
        {"icc_profile": b"\x00" * 200},  # APP2
        {"xmp": b"<x:xmpmeta>UST-04</x:xmpmeta>"},  # APP1
        {"comment": CAMERA_COMMENT},
    ],
    ids=["baseline", "progressive", "restarts", "444", "icc", "xmp", "comment"],
)
def test_stripping_keeps_the_pixels(options: dict[str, object]) -> None:
    data = jpeg(**options)
    stripped = strip_jpeg(data)
    assert pixels(stripped) == pixels(data)
    assert [name for name, _ in Image.open(io.BytesIO(stripped)).applist] == ["APP0"]
    assert strip_jpeg(stripped) == stripped


def test_a_cameras_tags_are_dropped_and_the_frame_decodes_the_same() -> None:
    stripped = strip_jpeg(TAGGED)
    for needle in (b"Exif", b"UST", b"TRAILCAM", CAMERA_COMMENT):
        assert needle in TAGGED and needle not in stripped
    assert pixels(stripped) == pixels(TAGGED)


def test_cmyk_keeps_its_adobe_colour_transform() -> None:
    data = jpeg(SMALL.convert("CMYK"))
    assert b"Adobe" in data
    stripped = strip_jpeg(data)
    assert b"\xff\xee\x00\x0eAdobe" in stripped and pixels(stripped) == pixels(data)


def test_jfif_thumbnail_and_extension_are_dropped() -> None:
    thumb = b"\x02\x01" + b"\x7f" * 6  # a 2x1 RGB thumbnail in the JFIF header
    data = jpeg()
    assert data[2:4] == b"\xff\xe0"
    (length,) = struct.unpack(">H", data[4:6])
    jfif = data[6 : 4 + length - 2] + thumb  # the header without its empty thumbnail size, then one
    with_thumb = data[:2] + segment(0xE0, jfif) + segment(0xE0, b"JFXX\x00\x10" + b"\x55" * 20)
    with_thumb += data[4 + length :]
    stripped = strip_jpeg(with_thumb)
    assert b"JFXX" not in stripped and b"\x7f" * 6 not in stripped
    assert stripped.startswith(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00") and pixels(stripped) == pixels(data)


def test_only_ffmpegs_colour_range_comment_is_written_again() -> None:
    itu = after_soi(jpeg(), segment(0xFE, b"CS=ITU601\x00"), segment(0xFE, b"CS=ITU601 UST-04\x00"))
    stripped = strip_jpeg(itu)
    assert stripped.count(b"\xff\xfe") == 1 and b"\xff\xfe\x00\x0cCS=ITU601\x00" in stripped
    assert b"UST-04" not in stripped


def test_an_interlaced_frame_keeps_both_fields_and_loses_its_padding() -> None:
    field = jpeg(SMALL.resize((64, 24)))
    first = after_soi(field, segment(0xE0, b"AVI1\x01\x00" + b"\x11" * 8))
    second = after_soi(field, segment(0xE0, b"AVI1\x02\x00" + b"\x22" * 8))
    packet = first + b"\x00" * 3 + second + b"\x00" * 100  # fields and padding, as cameras write them
    stripped = strip_jpeg(packet)
    assert stripped.count(b"\xff\xd8") == 2 and stripped.endswith(b"\xff\xd9")
    assert b"\x11" * 8 not in stripped and b"AVI1\x02" in stripped  # polarity kept, field sizes zeroed

    def decoded(data: bytes) -> bytes:
        decoder = av.CodecContext.create("mjpeg", "r")
        decoder.width, decoder.height = 64, 48
        (frame,) = decoder.decode(av.Packet(data))
        assert (frame.width, frame.height) == (64, 48)
        return frame.to_ndarray().tobytes()

    assert decoded(stripped) == decoded(packet)


def test_fill_bytes_before_markers_are_allowed() -> None:
    data = jpeg()
    filled = data[:2] + b"\xff\xff" + data[2:]  # 0xFF fill before the APP0 marker
    at = filled.index(b"\xff\xd9")
    filled = filled[:at] + b"\xff\xff" + filled[at:]  # and before EOI
    assert pixels(strip_jpeg(filled)) == pixels(data)


@pytest.mark.parametrize(
    "broken",
    [
        b"",
        b"\xff\xd8",
        TAGGED[:-2],  # no EOI: its last bytes could be anything
        TAGGED[: len(TAGGED) // 2],
        TAGGED[:2] + b"\x00" + TAGGED[2:],  # junk between segments
        TAGGED[:4] + b"\x00\x01" + TAGGED[6:],  # a length shorter than the length field
        TAGGED[:4] + b"\xff\xff" + TAGGED[6:],  # a length past the end
        after_soi(jpeg(), segment(0xDB, b"\x00" + b"\x01" * 70)),  # DQT with bytes beyond its table
        after_soi(jpeg(), segment(0xF7, b"\x08" * 9)),  # JPEG-LS: another entropy coding
        jpeg() + b"UST-04" + jpeg(),  # an image after unparsed bytes
        b"\xff\xd8" + segment(0xFE, CAMERA_COMMENT) + b"\xff\xd9",  # no picture at all
    ],
    ids=[
        "empty",
        "soi",
        "no-eoi",
        "half",
        "junk",
        "short-length",
        "long-length",
        "dqt-rider",
        "jpeg-ls",
        "hidden-image",
        "no-scan",
    ],
)
def test_what_does_not_parse_raises(broken: bytes) -> None:
    with pytest.raises(NotCleanable):
        strip_jpeg(broken)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_frames_raise_or_come_out_without_tags(data: st.DataObject) -> None:
    """Bytes changed, cut or inserted anywhere: either NotCleanable, or a frame without the camera's tags
    whose stripping is final; never another exception (the caller catches ValueError only)."""
    frame = bytearray(TAGGED)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(frame) - 1))
        action = data.draw(st.sampled_from(["set", "cut", "insert"]))
        if action == "set":
            frame[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del frame[at : at + data.draw(st.integers(1, 64))]
        else:
            frame[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    try:
        stripped = strip_jpeg(bytes(frame))
    except NotCleanable:
        return
    assert b"TRAILCAM" not in stripped and b"Exif\x00\x00" not in stripped and b"UST trail" not in stripped
    assert strip_jpeg(stripped) == stripped


def test_a_frame_that_does_not_parse_is_encoded_again() -> None:
    broken = TAGGED[:2] + b"\x00" + TAGGED[2:]  # FFmpeg skips the stray byte; the walker does not
    frames = MjpegFrames(64, 48)
    clean = frames(broken)
    assert frames.reencoded == 1 and clean != broken and strip_jpeg(clean) == clean
    assert b"UST" not in clean and b"Lavc" not in clean  # nor the encoder's own comment
    assert Image.open(io.BytesIO(clean)).size == (64, 48)
    assert frames(TAGGED) == strip_jpeg(TAGGED) and frames.reencoded == 1


def test_codecs_are_copied_cleaned_or_refused() -> None:
    assert packet_cleaner("audio", "pcm_s16le", 0, 0) is None
    assert {"h264", "hevc", "mpeg4"} <= AS_IS and packet_cleaner("video", "h264", 640, 336) is None
    assert isinstance(packet_cleaner("video", "mjpeg", 640, 336), MjpegFrames)
    for codec in ("mjpegb", "jpeg2000", "png", "jpegls", "rawvideo"):
        with pytest.raises(NotCleanable):
            packet_cleaner("video", codec, 640, 336)
