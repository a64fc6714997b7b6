from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from bot.media.exif import DEFAULT_ZONE, PhotoMeta, UnreadableImage, _gps, read_meta, taken_utc

B, G = ExifTags.Base, ExifTags.GPS


def R(num: int, den: int = 1) -> IFDRational:
    return IFDRational(num, den)


# 43°12'36"N 51°52'12"E as a camera writes it: three rationals per axis.
GOOD_LAT = (R(43), R(12), R(36))
GOOD_LON = (R(51), R(52), R(12))


def make_image(
    fmt: str = "JPEG",
    *,
    base: dict[int, Any] | None = None,
    exif_ifd: dict[int, Any] | None = None,
    gps: dict[int, Any] | None = None,
    size: tuple[int, int] = (64, 48),
) -> bytes:
    """A real image file whose EXIF is written by Pillow, with tags in their proper IFDs."""
    exif = Image.Exif()
    for k, v in (base or {}).items():
        exif[k] = v
    if exif_ifd:
        sub = exif.get_ifd(ExifTags.IFD.Exif)  # 0x8769
        sub.update(exif_ifd)
    if gps:
        sub = exif.get_ifd(ExifTags.IFD.GPSInfo)  # 0x8825
        sub.update(gps)
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(buf, format=fmt, exif=exif)
    return buf.getvalue()


def camera_trap_jpeg(**overrides: Any) -> bytes:
    kwargs: dict[str, Any] = {
        "base": {B.Make: "Browning", B.Model: "BTC-8E", B.DateTime: "2024:05:13 09:00:00"},
        "exif_ifd": {B.DateTimeOriginal: "2024:05:12 23:41:07", B.DateTimeDigitized: "2024:05:12 23:41:08"},
        "gps": {
            G.GPSLatitudeRef: "N",
            G.GPSLatitude: GOOD_LAT,
            G.GPSLongitudeRef: "E",
            G.GPSLongitude: GOOD_LON,
        },
    }
    kwargs.update(overrides)
    return make_image(**kwargs)


def test_jpeg_full_metadata() -> None:
    meta = read_meta(camera_trap_jpeg())
    assert meta.taken_local == datetime(2024, 5, 12, 23, 41, 7)
    assert meta.taken_local.tzinfo is None
    assert meta.offset is None
    assert meta.gps is not None
    assert (meta.gps.lat, meta.gps.lon) == pytest.approx((43.21, 51.87), abs=1e-9)
    assert (meta.width, meta.height) == (64, 48)
    assert (meta.make, meta.model) == ("Browning", "BTC-8E")


def test_offset_time_original_is_read() -> None:
    data = camera_trap_jpeg(
        exif_ifd={B.DateTimeOriginal: "2024:05:12 23:41:07", B.OffsetTimeOriginal: "+05:00"}
    )
    meta = read_meta(data)
    assert meta.offset == timedelta(hours=5)


def test_negative_and_half_hour_offsets() -> None:
    meta = read_meta(
        make_image(exif_ifd={B.DateTimeOriginal: "2024:01:01 00:00:00", B.OffsetTimeOriginal: "-03:30"})
    )
    assert meta.offset == -timedelta(hours=3, minutes=30)


@pytest.mark.parametrize("offset", ["", "   :  ", "+5:00", "+25:00", "+05:75", "UTC+5", "05:00"])
def test_malformed_offsets_are_ignored(offset: str) -> None:
    meta = read_meta(
        make_image(exif_ifd={B.DateTimeOriginal: "2024:05:12 23:41:07", B.OffsetTimeOriginal: offset})
    )
    assert meta.taken_local == datetime(2024, 5, 12, 23, 41, 7)
    assert meta.offset is None


def test_subseconds_are_ignored() -> None:
    meta = read_meta(
        make_image(exif_ifd={B.DateTimeOriginal: "2024:05:12 23:41:07", B.SubsecTimeOriginal: "730"})
    )
    assert meta.taken_local == datetime(2024, 5, 12, 23, 41, 7)


def test_date_preference_falls_back_in_order() -> None:
    digitized = make_image(
        base={B.DateTime: "2024:05:13 09:00:00"},
        exif_ifd={B.DateTimeOriginal: "0000:00:00 00:00:00", B.DateTimeDigitized: "2024:05:12 23:41:08"},
    )
    assert read_meta(digitized).taken_local == datetime(2024, 5, 12, 23, 41, 8)
    assert read_meta(digitized).taken_from == "exif_digitized"
    # DateTime is the file's last change (an editor, a re-save), never the shot time.
    only_datetime = make_image(base={B.DateTime: "2024:05:13 09:00:00"})
    assert read_meta(only_datetime).taken_local is None
    assert read_meta(only_datetime).taken_from is None


def test_offset_belongs_to_the_timestamp_it_describes() -> None:
    # DateTimeOriginal is unusable, so the Digitized time is used, with its own offset.
    data = make_image(
        exif_ifd={
            B.DateTimeOriginal: "    :  :     :  :  ",
            B.OffsetTimeOriginal: "+05:00",
            B.DateTimeDigitized: "2024:05:12 23:41:08",
            B.OffsetTimeDigitized: "+06:00",
        }
    )
    meta = read_meta(data)
    assert meta.taken_local == datetime(2024, 5, 12, 23, 41, 8)
    assert meta.offset == timedelta(hours=6)


@pytest.mark.parametrize(
    "value",
    [
        "0000:00:00 00:00:00",
        "    :  :     :  :  ",
        "",
        "garbage",
        "2024:13:40 25:61:00",
        "2024:02:30 10:00:00",
    ],
)
def test_malformed_dates_are_none(value: str) -> None:
    meta = read_meta(make_image(exif_ifd={B.DateTimeOriginal: value}))
    assert meta.taken_local is None
    assert taken_utc(meta, DEFAULT_ZONE) is None


def test_lenient_date_separators_and_trailing_junk() -> None:
    meta = read_meta(make_image(exif_ifd={B.DateTimeOriginal: "2024-05-12 23:41:07\x00"}))
    assert meta.taken_local == datetime(2024, 5, 12, 23, 41, 7)


def test_make_and_model_are_cleaned() -> None:
    meta = read_meta(make_image(base={B.Make: "  Bushnell\x00 ", B.Model: "   "}))
    assert meta.make == "Bushnell"
    assert meta.model is None


def test_southern_western_gps() -> None:
    gps = {G.GPSLatitudeRef: "S", G.GPSLatitude: GOOD_LAT, G.GPSLongitudeRef: "W", G.GPSLongitude: GOOD_LON}
    meta = read_meta(make_image(gps=gps))
    assert meta.gps is not None
    assert meta.gps.lat == pytest.approx(-43.21)
    assert meta.gps.lon == pytest.approx(-51.87)


def test_gps_with_decimal_minutes_and_fractional_rationals() -> None:
    # Phones often write degrees and decimal minutes with large denominators: 43°12.6' 51°52.2'.
    gps = {
        G.GPSLatitudeRef: "N",
        G.GPSLatitude: (R(43), R(126000, 10000), R(0)),
        G.GPSLongitudeRef: "E",
        G.GPSLongitude: (R(51), R(522, 10), R(0)),
    }
    meta = read_meta(make_image(gps=gps))
    assert meta.gps is not None
    assert meta.gps.lat == pytest.approx(43.21)
    assert meta.gps.lon == pytest.approx(51.87)


BAD_GPS = {
    "zero_over_zero_placeholder": {
        G.GPSLatitudeRef: "N",
        G.GPSLatitude: (R(0, 0), R(0, 0), R(0, 0)),
        G.GPSLongitudeRef: "E",
        G.GPSLongitude: (R(0, 0), R(0, 0), R(0, 0)),
    },
    "zero_denominator_seconds": {
        G.GPSLatitudeRef: "N",
        G.GPSLatitude: (R(43), R(12), R(36, 0)),
        G.GPSLongitudeRef: "E",
        G.GPSLongitude: GOOD_LON,
    },
    "null_island": {
        G.GPSLatitudeRef: "N",
        G.GPSLatitude: (R(0), R(0), R(0)),
        G.GPSLongitudeRef: "E",
        G.GPSLongitude: (R(0), R(0), R(0)),
    },
    "missing_refs": {G.GPSLatitude: GOOD_LAT, G.GPSLongitude: GOOD_LON},
    "missing_lon_ref": {G.GPSLatitudeRef: "N", G.GPSLatitude: GOOD_LAT, G.GPSLongitude: GOOD_LON},
    "bogus_ref": {
        G.GPSLatitudeRef: "X",
        G.GPSLatitude: GOOD_LAT,
        G.GPSLongitudeRef: "E",
        G.GPSLongitude: GOOD_LON,
    },
    "latitude_out_of_range": {
        G.GPSLatitudeRef: "N",
        G.GPSLatitude: (R(95), R(0), R(0)),
        G.GPSLongitudeRef: "E",
        G.GPSLongitude: GOOD_LON,
    },
    "longitude_out_of_range": {
        G.GPSLatitudeRef: "N",
        G.GPSLatitude: GOOD_LAT,
        G.GPSLongitudeRef: "E",
        G.GPSLongitude: (R(181), R(0), R(0)),
    },
    "minutes_over_60": {
        G.GPSLatitudeRef: "N",
        G.GPSLatitude: (R(43), R(75), R(0)),
        G.GPSLongitudeRef: "E",
        G.GPSLongitude: GOOD_LON,
    },
    "missing_longitude": {G.GPSLatitudeRef: "N", G.GPSLatitude: GOOD_LAT, G.GPSLongitudeRef: "E"},
    "void_status": {
        G.GPSStatus: "V",
        G.GPSLatitudeRef: "N",
        G.GPSLatitude: GOOD_LAT,
        G.GPSLongitudeRef: "E",
        G.GPSLongitude: GOOD_LON,
    },
}


@pytest.mark.parametrize("gps", BAD_GPS.values(), ids=BAD_GPS.keys())
def test_bad_gps_is_none_never_an_exception(gps: dict[int, Any]) -> None:
    meta = read_meta(make_image(gps=gps, exif_ifd={B.DateTimeOriginal: "2024:05:12 23:41:07"}))
    assert meta.gps is None
    assert meta.taken_local == datetime(2024, 5, 12, 23, 41, 7)  # the rest of the metadata survives


@pytest.mark.parametrize(
    "gps",
    [
        {},
        {
            G.GPSLatitudeRef: "N",
            G.GPSLatitude: "43 12 36",
            G.GPSLongitudeRef: "E",
            G.GPSLongitude: "51 52 12",
        },
        {G.GPSLatitudeRef: b"N\x00", G.GPSLatitude: None, G.GPSLongitudeRef: b"E", G.GPSLongitude: GOOD_LON},
        {G.GPSLatitudeRef: 78, G.GPSLatitude: GOOD_LAT, G.GPSLongitudeRef: "E", G.GPSLongitude: GOOD_LON},
        {
            G.GPSLatitudeRef: "N",
            G.GPSLatitude: (43, 12, -36),
            G.GPSLongitudeRef: "E",
            G.GPSLongitude: GOOD_LON,
        },
        {
            G.GPSLatitudeRef: "N",
            G.GPSLatitude: (1, 2, 3, 4),
            G.GPSLongitudeRef: "E",
            G.GPSLongitude: GOOD_LON,
        },
        {
            G.GPSLatitudeRef: "N",
            G.GPSLatitude: (float("nan"),),
            G.GPSLongitudeRef: "E",
            G.GPSLongitude: GOOD_LON,
        },
        {
            G.GPSLatitudeRef: "N",
            G.GPSLatitude: ((43, 0), (12, 1)),
            G.GPSLongitudeRef: "E",
            G.GPSLongitude: GOOD_LON,
        },
    ],
)
def test_gps_decoder_tolerates_values_pillow_would_not_write(gps: dict[int, Any]) -> None:
    # Other writers (and other Pillow versions) hand back strings, bytes, plain numbers or tuples.
    assert _gps(gps) is None


def test_gps_decoder_accepts_old_style_tuples_and_plain_numbers() -> None:
    gps = {
        G.GPSLatitudeRef: b"N\x00",
        G.GPSLatitude: ((43, 1), (126, 10), (0, 1)),
        G.GPSLongitudeRef: "e",
        G.GPSLongitude: (51.87,),
    }
    point = _gps(gps)
    assert point is not None
    assert (point.lat, point.lon) == pytest.approx((43.21, 51.87))


def test_png_with_exif() -> None:
    meta = read_meta(camera_trap_jpeg(fmt="PNG"))
    assert meta.taken_local == datetime(2024, 5, 12, 23, 41, 7)
    assert meta.gps is not None and meta.gps.lat == pytest.approx(43.21)
    assert (meta.make, meta.width, meta.height) == ("Browning", 64, 48)


def test_heic_with_exif() -> None:
    try:
        data = camera_trap_jpeg(fmt="HEIF")
    except (KeyError, OSError, ValueError, RuntimeError) as exc:  # no HEVC encoder in this build
        pytest.skip(f"pillow-heif cannot encode HEIF here: {exc}")
    assert Image.open(io.BytesIO(data)).format == "HEIF"
    meta = read_meta(data)
    assert meta.taken_local == datetime(2024, 5, 12, 23, 41, 7)
    assert meta.gps is not None and meta.gps.lon == pytest.approx(51.87)
    assert (meta.model, meta.width, meta.height) == ("BTC-8E", 64, 48)


def test_image_without_exif() -> None:
    buf = io.BytesIO()
    Image.new("L", (10, 7)).save(buf, format="PNG")
    assert read_meta(buf.getvalue()) == PhotoMeta(None, None, None, 10, 7, None, None)


def test_rotated_photo_reports_displayed_size() -> None:
    meta = read_meta(make_image(base={B.Orientation: 6}, size=(64, 48)))
    assert (meta.width, meta.height) == (48, 64)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_corrupt_exif_block_keeps_the_image() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12)).save(buf, format="JPEG", exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f garbage")
    meta = read_meta(buf.getvalue())
    assert (meta.width, meta.height) == (16, 12)
    assert meta.gps is None and meta.taken_local is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"definitely not an image", "not_image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not_image"),
    ],
)
def test_unreadable_data_raises(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableImage) as info:
        read_meta(data)
    assert isinstance(info.value, ValueError)
    assert info.value.reason == reason


def test_truncated_jpeg_still_yields_metadata() -> None:
    # Telegram uploads cut off mid-transfer still carry their header; that is enough for EXIF.
    noise = Image.effect_noise((256, 256), 64).convert("RGB")
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[B.DateTimeOriginal] = "2024:05:12 23:41:07"
    buf = io.BytesIO()
    noise.save(buf, format="JPEG", exif=exif)
    meta = read_meta(buf.getvalue()[: buf.tell() // 2])
    assert meta.taken_local == datetime(2024, 5, 12, 23, 41, 7)


# --- taken_utc --------------------------------------------------------------------------------------


def meta_at(local: datetime | None, offset: timedelta | None = None) -> PhotoMeta:
    return PhotoMeta(local, offset, None, 1, 1, None, None)


def test_taken_utc_uses_zone_when_no_offset() -> None:
    result = taken_utc(meta_at(datetime(2024, 5, 12, 23, 41, 7)), ZoneInfo("Asia/Aqtau"))
    assert result == datetime(2024, 5, 12, 18, 41, 7, tzinfo=UTC)
    assert result is not None and result.utcoffset() == timedelta(0)


def test_taken_utc_default_zone_is_aqtau() -> None:
    assert taken_utc(meta_at(datetime(2024, 1, 1, 3, 0))) == datetime(2023, 12, 31, 22, 0, tzinfo=UTC)


def test_taken_utc_prefers_exif_offset_over_zone() -> None:
    meta = meta_at(datetime(2024, 5, 12, 23, 41, 7), timedelta(hours=3))
    assert taken_utc(meta, ZoneInfo("Asia/Aqtau")) == datetime(2024, 5, 12, 20, 41, 7, tzinfo=UTC)


def test_taken_utc_with_dst_zone() -> None:
    summer = taken_utc(meta_at(datetime(2024, 7, 1, 12, 0)), ZoneInfo("Europe/Berlin"))
    winter = taken_utc(meta_at(datetime(2024, 1, 1, 12, 0)), ZoneInfo("Europe/Berlin"))
    assert summer == datetime(2024, 7, 1, 10, 0, tzinfo=UTC)
    assert winter == datetime(2024, 1, 1, 11, 0, tzinfo=UTC)


def test_end_to_end_jpeg_to_utc() -> None:
    data = camera_trap_jpeg(
        exif_ifd={B.DateTimeOriginal: "2024:05:12 23:41:07", B.OffsetTimeOriginal: "+05:00"}
    )
    assert taken_utc(read_meta(data), ZoneInfo("UTC")) == datetime(2024, 5, 12, 18, 41, 7, tzinfo=UTC)
