"""Shot times from maker notes (real Reconyx files), what counts as a shot time, camera clocks that look
wrong, and oversized phone photos decoded at a reduced size."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.detection.model import OnnxLeopardDetector
from bot.media import UnreadableImage, open_image, read_meta
from bot.media.capture_time import ClockIssue, TimeSource, capture_time, from_camera
from bot.media.makernotes import maker_note_time
from tests.support.photo_files import HC500, HC600, SHARED_FILES, hyperfire_note, with_exif

AQTAU = ZoneInfo("Asia/Aqtau")
NOW = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)


# --- maker notes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [(HC500, datetime(2020, 3, 16, 10, 0, 0)), (HC600, datetime(2014, 7, 4, 18, 40, 53))],
    ids=["HC500", "HC600"],
)
def test_real_reconyx_files_give_their_maker_note_time(path: Path, expected: datetime) -> None:
    # exiftool reads these times (SOURCES.tsv); neither file has any EXIF date tag.
    meta = read_meta(path.read_bytes())
    assert (meta.taken_local, meta.taken_from, meta.offset) == (expected, "maker_note", None)
    when = capture_time(meta, received_at=NOW, zone=AQTAU, imported=True)
    assert when.source is TimeSource.MAKER_NOTE and when.is_capture and when.clock_issue is None
    assert when.taken_at == expected.replace(tzinfo=AQTAU).astimezone(UTC)


def _note(magic: bytes, offset: int, payload: bytes, size: int = 200) -> bytes:
    note = bytearray(size)
    note[: len(magic)] = magic
    note[offset : offset + len(payload)] = payload
    return bytes(note)


SHOT = datetime(2025, 11, 3, 4, 5, 6)
S = SHOT


@pytest.mark.parametrize(
    "note",
    [
        pytest.param(_note(b"RECONYXUF\0", 0x3B, struct.pack("<5BH", S.second, S.minute, S.hour, S.day,
                                                              S.month, S.year)), id="UltraFire"),
        pytest.param(_note(b"RECONYXH2\0", 0x3E, struct.pack("<6H", S.second, S.minute, S.hour, S.day,
                                                             S.month, S.year)), id="HyperFire2"),
        pytest.param(_note(b"RECONYXMF\0", 0x4E, struct.pack("<6H", S.second, S.minute, S.hour, S.month,
                                                             S.day, S.year)), id="MicroFire"),
        pytest.param(_note(b"RECONYXHF4K\0", 0x2F, struct.pack("<5BH", S.second, S.minute, S.hour, S.day,
                                                               S.month, S.year)), id="HyperFire4K"),
        pytest.param(_note(b"\x01\xf1\x03\x00", 22, struct.pack(">6H", S.second, S.minute, S.hour, S.month,
                                                                S.day, S.year)), id="HyperFire-big-endian"),
    ],
)  # fmt: skip
def test_other_reconyx_layouts(note: bytes) -> None:
    assert maker_note_time(note) == SHOT


@pytest.mark.parametrize(
    ("note", "make"),
    [
        (b"", None),
        (b"Nikon\0\x02\x10\0\0", "NIKON"),  # some other maker's note
        (hyperfire_note(SHOT)[:30], None),  # cut off inside the date
        (b"\x01\xf1\x09\x00" + hyperfire_note(SHOT)[4:], None),  # the magic alone, firmware not 2 or 3
        (hyperfire_note(datetime(2020, 1, 1))[:22] + b"\0" * 12 + hyperfire_note(SHOT)[34:], None),  # zeros
    ],
)
def test_unknown_or_broken_notes_give_no_time(note: bytes, make: str | None) -> None:
    assert maker_note_time(note, make) is None


def test_a_reconyx_make_vouches_for_the_bare_magic() -> None:
    note = b"\x01\xf1\x09\x00" + hyperfire_note(SHOT)[4:]
    assert maker_note_time(note, "RECONYX") == SHOT


def test_exif_original_beats_the_maker_note(leopard_jpeg: bytes) -> None:
    data = with_exif(leopard_jpeg, note=hyperfire_note(SHOT), DateTimeOriginal="2025:11:03 04:05:09")
    meta = read_meta(data)
    assert (meta.taken_local, meta.taken_from) == (SHOT + timedelta(seconds=3), "exif_original")


# --- which times are shot times ---------------------------------------------------------------------


def test_last_edit_datetime_is_not_a_shot_time(leopard_jpeg: bytes) -> None:
    meta = read_meta(with_exif(leopard_jpeg, DateTime="2024:05:13 09:00:00"))
    sent = datetime(2026, 1, 5, 7, 42, tzinfo=UTC)
    when = capture_time(meta, received_at=sent, zone=AQTAU)
    assert (when.taken_at, when.source, when.is_capture) == (sent, TimeSource.TELEGRAM_RECEIPT, False)


def test_forward_and_file_times_are_not_shot_times() -> None:
    sent, first = NOW, NOW - timedelta(days=2)
    forwarded = capture_time(None, received_at=sent, zone=AQTAU, forwarded_at=first)
    assert (forwarded.taken_at, forwarded.source) == (first, TimeSource.FORWARD_DATE)
    assert not forwarded.is_capture
    filed = capture_time(None, received_at=sent, zone=AQTAU, file_time=first, imported=True)
    assert (filed.taken_at, filed.source, filed.is_capture) == (first, TimeSource.IMPORT_FILE_TIME, False)
    assert capture_time(None, received_at=sent, zone=AQTAU, imported=True).taken_at == sent


@pytest.mark.parametrize(
    ("local", "issue"),
    [
        (datetime(2000, 1, 1, 0, 3), ClockIssue.RESET),
        (datetime(1970, 1, 1, 5, 0), ClockIssue.RESET),
        (datetime(2003, 6, 9, 22, 0), ClockIssue.BEFORE_2005),
        (datetime(2026, 10, 22, 12, 0), ClockIssue.FUTURE),  # two days after it reached us
        (datetime(2026, 10, 21, 0, 0), None),  # hours fast: a zone set wrong, not a broken clock
        (datetime(2005, 1, 1, 0, 0), None),
    ],
)
def test_camera_clocks_that_look_wrong_are_flagged_and_kept(
    local: datetime, issue: ClockIssue | None
) -> None:
    when = from_camera(local, None, AQTAU, TimeSource.EXIF_ORIGINAL, NOW)
    assert when.clock_issue == issue
    assert when.taken_at == local.replace(tzinfo=AQTAU).astimezone(UTC)  # kept as recorded
    assert when.for_movement is (issue is None)


def test_a_clockless_cameras_fat_file_time_is_flagged_too() -> None:
    fat_epoch = datetime(1980, 1, 1, 0, 0, 4, tzinfo=UTC)
    when = capture_time(None, received_at=NOW, zone=AQTAU, file_time=fat_epoch, imported=True)
    assert when.clock_issue is ClockIssue.RESET and not when.for_movement


def test_video_metadata_times_are_camera_times() -> None:
    container = datetime(2026, 9, 1, 21, 30, tzinfo=UTC)  # MP4 creation_time is UTC
    when = from_camera(container, None, AQTAU, TimeSource.VIDEO_METADATA, NOW)
    assert (when.taken_at, when.is_capture, when.clock_issue) == (container, True, None)


# --- oversized photos -------------------------------------------------------------------------------


def test_200_megapixel_phone_heic_is_decoded_small_and_detected(detector: OnnxLeopardDetector) -> None:
    path = SHARED_FILES / "samsung_s24ultra_200MP.heic"
    if not path.exists():
        pytest.skip(f"{path} not available (shared samples)")
    data = path.read_bytes()
    image, full = open_image(data, max_side=1040)
    assert full == (12240, 16320) and image.size[0] * image.size[1] < 1_000_000  # its 384x512 thumbnail
    detection = detector.detect(data)  # an office desk: no leopard, and no "too large"
    assert not detection.leopard and detection.label
    meta = read_meta(data)
    when = capture_time(meta, received_at=NOW, zone=AQTAU)
    assert when.taken_at == datetime(2025, 1, 19, 11, 53, 27, tzinfo=UTC)  # 14:53:27 +03:00


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(100_000, 100_000), (10_000, 10_000)], ids=["10 gigapixels", "100 MP"])
def test_tiny_files_claiming_huge_images_are_still_refused(size: tuple[int, int]) -> None:
    # 100 MP is below the claimed-pixel ceiling: the pixels-per-byte guard refuses it.
    with pytest.raises(UnreadableImage) as info:
        open_image(_png_claiming(*size), max_side=1040)
    assert info.value.reason == "too_large"
