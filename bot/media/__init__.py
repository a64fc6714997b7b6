"""What a photo or clip says about itself, before any database: pixels, EXIF, maker notes, frames, capture
time, the camera's imprint strip."""

from bot.media.capture_time import (
    CAMERA_SOURCES,
    RECEIPT_SOURCES,
    CaptureTime,
    MailTimes,
    Row,
    TimeSource,
    capture_time,
    from_camera,
    of_row,
    sql_list,
)
from bot.media.exif import DEFAULT_ZONE, PhotoMeta, read_meta
from bot.media.folders import HIDDEN, VIDEO_SUFFIXES, FolderScan, Skipped, iter_images, scan
from bot.media.images import UnreadableImage, open_image
from bot.media.imprint import blank_imprint
from bot.media.time_text import by_receipt_note, clock_warning, local_time, time_line

__all__ = [
    "CAMERA_SOURCES",
    "DEFAULT_ZONE",
    "HIDDEN",
    "RECEIPT_SOURCES",
    "VIDEO_SUFFIXES",
    "CaptureTime",
    "FolderScan",
    "MailTimes",
    "PhotoMeta",
    "Row",
    "Skipped",
    "TimeSource",
    "UnreadableImage",
    "blank_imprint",
    "by_receipt_note",
    "capture_time",
    "clock_warning",
    "from_camera",
    "iter_images",
    "local_time",
    "of_row",
    "open_image",
    "read_meta",
    "scan",
    "sql_list",
    "time_line",
]
