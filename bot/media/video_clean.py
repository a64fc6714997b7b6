"""What a clip's frames may carry into the copy /sighting sends (bot/media/video.py clean_copy).

Leopard locations attract poachers. A trail camera's MJPEG AVI stores every frame as a whole JPEG, and
many cameras write EXIF (with GPS), a comment or a maker segment into each one; a remux copies those
bytes as they are. So an MJPEG frame keeps only the segments a decoder needs, and other codecs are
copied only when their frames have no such places a camera fills (see AS_IS).

Why a marker walker and not Pillow: Pillow cannot write a JPEG without decoding and encoding it
again, which loses quality on every frame (DCT rounding, chroma subsampled again) and takes 17 ms for a
1080p frame; dropping segments is lossless, leaves the entropy-coded data untouched and takes 0.15 ms.
FFmpeg's bitstream filters for MJPEG (mjpeg2jpeg, mjpegadump) add headers and drop none. The tests read
the result with Pillow, a parser independent of this one.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from fractions import Fraction

import av

# Video codecs copied packet for packet. Their bitstreams have a user-data field (H.264/HEVC SEI, MPEG-4
# user_data) that encoders fill with their own name and settings, and that no camera in
# ../shared/samples uses for a position; everything else, still-image codecs above all (PNG text
# chunks, JPEG 2000 comments, Apple's MJPEG-B), is refused rather than copied unread.
AS_IS = frozenset(
    {"h264", "hevc", "mpeg4", "msmpeg4v2", "msmpeg4v3", "h263", "mpeg1video", "mpeg2video", "vp8", "vp9",
     "av1", "wmv1", "wmv2", "wmv3", "vc1"}
)  # fmt: skip
# What the fallback encoder takes as it is; any other decoded format is converted to the first.
_ENCODER_FORMATS = ("yuvj420p", "yuvj422p", "yuvj444p")

_SOI, _EOI, _SOS, _APP0, _APP14, _COM = 0xD8, 0xD9, 0xDA, 0xE0, 0xEE, 0xFE
# Segments copied as they are once their length matches what they define: frame headers (SOF0-15
# except DHT, JPG and DAC), DHT, DAC, DQT, DNL, DRI, DHP, EXP. APPn and COM are metadata.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_TABLES = frozenset({0xC4, 0xCC, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF})
# Where entropy-coded data ends: 0xFF (and any fill 0xFFs) before a byte that is neither a stuffed zero
# nor a restart marker RST0-7, which belong to the data. Spelt with a literal first byte, which lets the
# regex engine jump from one 0xFF to the next (17 times as fast on a 400 KB frame as "\xff+...").
_DATA_END = re.compile(rb"\xff\xff*[^\x00\xd0-\xd7\xff]")
# After an EOI a camera may pad its frames to a fixed size; the padding is not part of a frame, but the
# 0xFF of the next image's SOI (an interlaced frame's second field) is.
_PADDING = re.compile(rb"(?:\x00|\xff(?!\xd8))*")
# FFmpeg reads this one comment as "the samples are in the 16-235 range" (its own MJPEG encoder
# writes it); it is a fixed string, so it is written again from here rather than copied.
_ITU601 = b"CS=ITU601"


class NotCleanable(ValueError):
    """A frame (or a stream's codec) whose bytes the copy cannot vouch for."""


def strip_jpeg(data: bytes) -> bytes:
    """The frame with only what decoding needs: SOI, DQT, SOF, DHT, DRI, SOS and its entropy-coded data,
    EOI; JFIF, AVI1 and Adobe headers written again with only the fields decoders read. Every other APPn
    (EXIF, XMP, ICC, makers' segments), COM and bytes after the last EOI are dropped. An interlaced frame (two
    field images in one packet) keeps both. Raises NotCleanable where the bytes do not parse."""
    out: list[bytes] = []
    pos = 0
    while True:
        pos = _image(data, pos, out)
        padding = _PADDING.match(data, pos)
        pos = padding.end() if padding else pos
        if not data.startswith(b"\xff\xd8", pos):
            break
    if b"\xff\xd8" in data[pos:]:  # another image after something unparsed: not ours to drop or keep
        raise NotCleanable("unparsed bytes between the images of a frame")
    return b"".join(out)


def _image(data: bytes, pos: int, out: list[bytes]) -> int:
    """Append one SOI..EOI image's kept segments to out; return where it ends."""
    if not data.startswith(b"\xff\xd8", pos):
        raise NotCleanable("no SOI")
    out.append(b"\xff\xd8")
    pos += 2
    frame = scanned = False
    while True:
        if pos >= len(data) or data[pos] != 0xFF:
            raise NotCleanable(f"no marker at byte {pos}")
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes may precede any marker
            pos += 1
        if pos >= len(data):
            raise NotCleanable("truncated marker")
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            if not scanned:
                raise NotCleanable("an image without a scan")
            out.append(b"\xff\xd9")
            return pos
        if pos + 2 > len(data):
            raise NotCleanable("truncated segment length")
        (length,) = struct.unpack_from(">H", data, pos)
        end = pos + length
        if length < 2 or end > len(data):
            raise NotCleanable(f"segment {marker:#04x} of length {length} overruns the frame")
        body = data[pos + 2 : end]
        if marker == _SOS:
            if not frame or length != 6 + 2 * (body[0] if body else 0):
                raise NotCleanable("bad scan header")
            found = _DATA_END.search(data, end)
            if found is None:
                raise NotCleanable("entropy-coded data without an end")
            out.append(data[pos - 2 : end] + data[end : found.start()])
            scanned, pos = True, found.start()
            continue
        if marker in _SOF:
            if len(body) < 6 or length != 8 + 3 * body[5]:
                raise NotCleanable("bad frame header")
            frame = True
            out.append(data[pos - 2 : end])
        elif marker in _TABLES:
            if not _tables_fit(marker, body):
                raise NotCleanable(f"segment {marker:#04x} holds more than its tables")
            out.append(data[pos - 2 : end])
        elif marker == _APP0 or marker == _APP14 or marker == _COM:
            out.append(_rewritten(marker, body))
        elif not 0xE1 <= marker <= 0xEF:  # RSTn, TEM, JPG extensions (JPEG-LS), reserved: not ours
            raise NotCleanable(f"unexpected marker {marker:#04x}")
        pos = end


def _tables_fit(marker: int, body: bytes) -> bool:
    """Whether the segment's body is exactly its tables, so that nothing else rides along in it."""
    if marker in (0xDC, 0xDD):  # DNL, DRI: one 16-bit number
        return len(body) == 2
    if marker == 0xDF:  # EXP: one byte of flags
        return len(body) == 1
    if marker == 0xCC:  # DAC: 2 bytes per table
        return len(body) % 2 == 0 and bool(body)
    if marker == 0xDE:  # DHP: a frame header without its own marker
        return len(body) >= 6 and len(body) == 6 + 3 * body[5]
    at = 0
    while at < len(body):
        if marker == 0xDB:  # DQT: a precision/id byte, then 64 one- or two-byte values
            at += 1 + 64 * (2 if body[at] >> 4 else 1)
        else:  # DHT: a class/id byte, 16 code-length counts, then that many symbols
            if at + 17 > len(body):
                return False
            at += 17 + sum(body[at + 1 : at + 17])
    return at == len(body) and bool(body)


def _rewritten(marker: int, body: bytes) -> bytes:
    """APP0, APP14 or COM written again with only the fields decoders read (nothing if none)."""
    if marker == _APP0 and body[:5] == b"JFIF\x00" and len(body) >= 14:
        # Version, density unit and density (FFmpeg's sample aspect ratio); no thumbnail.
        fields = body[5:12] + b"\x00\x00"
        return struct.pack(">BBH", 0xFF, _APP0, 2 + 5 + len(fields)) + b"JFIF\x00" + fields
    if marker == _APP0 and body[:4] == b"AVI1" and len(body) >= 5:
        # The field polarity of an interlaced frame; field sizes are zeroed (FFmpeg does not read them).
        return b"\xff\xe0\x00\x10AVI1" + body[4:5] + b"\x00" * 9
    if marker == _APP14 and body[:5] == b"Adobe" and len(body) >= 12:
        # The colour transform (YCbCr, YCCK or none): without it a decoder may get the colours wrong.
        return b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00" + body[11:12]
    if marker == _COM and body.rstrip(b"\x00\n") == _ITU601:
        return b"\xff\xfe\x00\x0c" + _ITU601 + b"\x00"
    return b""


class MjpegFrames:
    """Cleans one MJPEG stream's packets: its segments stripped, or, for a frame that does not parse,
    the frame decoded (FFmpeg resyncs past a bad segment) and encoded again, then stripped too. A frame
    that does not even decode raises NotCleanable: no copy rather than one with the camera's bytes."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.reencoded = 0
        self._decoder: av.VideoCodecContext | None = None
        self._encoder: av.VideoCodecContext | None = None

    def __call__(self, data: bytes) -> bytes:
        try:
            return strip_jpeg(data)
        except NotCleanable:
            pass
        self.reencoded += 1
        return strip_jpeg(self._reencode(data))

    def _reencode(self, data: bytes) -> bytes:
        if self._decoder is None:
            self._decoder = av.CodecContext.create("mjpeg", "r")
            self._decoder.thread_count = 1  # one frame in, one out: no frame threading delay
        try:
            frames = self._decoder.decode(av.Packet(data))
        except (av.FFmpegError, ValueError) as exc:
            raise NotCleanable(f"an MJPEG frame neither parses nor decodes: {exc}") from exc
        if len(frames) != 1:
            raise NotCleanable("an MJPEG frame neither parses nor decodes")
        frame = frames[0]
        fmt = frame.format.name if frame.format.name in _ENCODER_FORMATS else _ENCODER_FORMATS[0]
        # The stream's size, so that a frame whose own header was the broken part still fits the clip.
        frame = frame.reformat(width=self.width, height=self.height, format=fmt)
        encoder = self._encoder
        if encoder is None or encoder.pix_fmt != fmt:
            encoder = self._encoder = av.CodecContext.create("mjpeg", "w")
            encoder.width, encoder.height, encoder.pix_fmt = self.width, self.height, fmt
            encoder.time_base = Fraction(1, 25)  # required, not used: every frame stands alone
            encoder.qscale = True  # a fixed quality (2: near the camera's own), not a bitrate
            encoder.global_quality = 2 * 118  # FF_QP2LAMBDA
        frame.pts = None
        packets = encoder.encode(frame)
        if len(packets) != 1:
            raise NotCleanable("the frame could not be encoded again")
        return bytes(packets[0])


def packet_cleaner(kind: str, codec: str, width: int, height: int) -> Callable[[bytes], bytes] | None:
    """How a stream's packets reach the copy: through the returned function, or as they are (None).
    Raises NotCleanable for a video codec whose frames may carry metadata it does not strip."""
    if kind == "audio":  # audio frames have no metadata fields; tags live in the container
        return None
    if codec == "mjpeg":
        return MjpegFrames(width, height)
    if codec in AS_IS:
        return None
    raise NotCleanable(f"{codec} frames may carry metadata that the copy cannot strip")
