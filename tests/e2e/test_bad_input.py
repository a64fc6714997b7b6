"""Bad input corpus: each case gets a clear reply (or is rightly ignored), nothing else is affected,
and the bot keeps answering. Every case goes through the emulator and the real PTB client."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.conftest import SAMPLES, Team

LEOPARD = (SAMPLES / "leo_005_serengeti_night.jpg").read_bytes()
JACKAL = (SAMPLES / "neg_060_serengeti_jackal_1.jpg").read_bytes()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size (a decompression bomb's header) without the pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def encode(image: Image.Image, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kw)
    return buf.getvalue()


def leopard_as(mode: str, fmt: str) -> bytes:
    image = Image.open(io.BytesIO(LEOPARD))
    image = _sixteen_bit(image) if mode == "I;16" else image.convert(mode)
    return encode(image, fmt)


def _sixteen_bit(image: Image.Image) -> Image.Image:
    grey = np.asarray(image.convert("L"), dtype=np.uint16)
    return Image.fromarray(grey * 257)  # uint16 array: a real 16-bit ("I;16") image


def bad_gps_jpeg() -> bytes:
    image = Image.open(io.BytesIO(JACKAL))
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (0.0, 0.0, 0.0), 4: (200.0, 0.0, 0.0)})  # no lon ref, lon 200
    return encode(image, "JPEG", exif=exif)


Action = Callable[[Team], Awaitable[Any]]


def doc(data: bytes, name: str, mime: str, caption: str | None = None) -> Action:
    return lambda t: t.emu.send_document(t.ranger, data, name, mime, caption=caption)


def photo(data: bytes, caption: str | None = None) -> Action:
    return lambda t: t.emu.send_photo(t.ranger, data, caption)


def text(value: str) -> Action:
    return lambda t: t.emu.send_text(t.ranger, value)


async def edited(t: Team) -> None:
    before = len(t.emu.sent(t.ranger.id))
    msg = await t.emu.send_text(t.ranger, "hello")
    await t.emu.wait_sent(t.ranger.id, before + 1)
    await t.emu.edit_text(t.ranger, msg, "43.2, 51.8")  # an edit must not act as a new message


async def channel(t: Team) -> None:
    await t.emu.channel_post(t.emu.channel(-100_4242, "Patrol log"), "/register")


async def stale_button(t: Team) -> None:
    reply = await t.say(t.ranger, "/help")
    fake = {
        **reply,
        "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "rv:abc:confirmed"}]]},
    }
    await t.emu.press_button(t.admin, {**fake, "chat": t.group}, "rv:abc:confirmed", check=False)


async def unknown_event_button(t: Team) -> None:
    reply = await t.say(t.ranger, "/help")
    await t.emu.press_button(t.admin, {**reply, "chat": t.group}, "rv:999:confirmed", check=False)


OVER_20MB = b"\xff\xd8\xff\xe0" + b"\0" * (20 * 1024 * 1024 + 16)

# (name, action, reply fragment or None for "no reply", sightings added)
CASES: list[tuple[str, Action, str | None, int]] = [
    ("truncated jpeg", doc(LEOPARD[: len(LEOPARD) // 3], "cut.jpg", "image/jpeg"), "damaged", 0),
    (
        "corrupt jpeg",
        doc(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8, "bad.jpg", "image/jpeg"),
        "not a photo",
        0,
    ),
    (
        "decompression bomb",
        doc(png_header_only(30_000, 30_000), "bomb.png", "image/png"),
        "too many pixels",
        0,
    ),
    ("20000x20000", doc(png_header_only(20_000, 20_000), "huge.png", "image/png"), "too many pixels", 0),
    ("zero bytes", doc(b"", "empty.jpg", "image/jpeg"), "empty", 0),
    (
        "pdf",
        doc(b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "r.pdf", "application/pdf"),
        "not a photo",
        0,
    ),
    ("zip", doc(b"PK\x05\x06" + b"\0" * 18, "sd.zip", "application/zip"), "not a photo", 0),
    ("svg", doc(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "a.svg", "image/svg+xml"), "not a photo", 0),
    ("text as image", doc(b"hello, I am text", "a.jpg", "image/jpeg"), "not a photo", 0),
    ("video", doc(b"\0\0\0\x18ftypisom" + b"\0" * 32, "v.mov", "video/quicktime"), "read this video", 0),
    ("over 20 MB", doc(OVER_20MB, "raw.jpg", "image/jpeg"), "over 20 MB", 0),
    ("1x1 png", doc(encode(Image.new("RGB", (1, 1)), "PNG"), "px.png", "image/png"), "Sighting #1", 1),
    ("cmyk jpeg", doc(leopard_as("CMYK", "JPEG"), "cmyk.jpg", "image/jpeg"), "Sighting #1", 1),
    ("16-bit png", doc(leopard_as("I;16", "PNG"), "deep.png", "image/png"), "Sighting #1", 1),
    ("grey ir frame", doc(leopard_as("L", "JPEG"), "ir.jpg", "image/jpeg"), "leopard detected", 1),
    (
        "gif",
        doc(encode(Image.open(io.BytesIO(JACKAL)).convert("P"), "GIF"), "a.gif", "image/gif"),
        "Sighting #1",
        1,
    ),
    ("wrong exif gps", doc(bad_gps_jpeg(), "gps.jpg", "image/jpeg"), "Please send a location", 1),
    ("lat 200 in caption", photo(JACKAL, "200.0, 51.0"), "impossible", 1),
    ("html caption", photo(JACKAL, "<b>bold</b> & <i>x"), "Sighting #1", 1),
    ("markdown caption", photo(JACKAL, "*bold* _it_ [l](http://x) `c`"), "Sighting #1", 1),
    ("very long caption", photo(JACKAL, "слово " * 170), "Sighting #1", 1),
    ("emoji caption", photo(JACKAL, "🐆🐆🐆"), "Sighting #1", 1),
    ("lat 200 text", text("lat 200 lon 51"), "impossible", 0),
    ("coordinates with letters", text("43.2x, 51.8y"), "Send me a photo", 0),
    ("very long text", text("а" * 4096), "Send me a photo", 0),
    ("zero-width and rtl", text("\u200b\u202e43\u200b"), "Send me a photo", 0),
    ("unknown command", text("/frobnicate now"), "Unknown command", 0),
    ("bad station add", text("/station add UST-05 95 51"), "Only coordinators", 0),
    ("bad lang", text("/lang xx"), "Usage: /lang", 0),
    ("garbage invite", text("/start %%%garbage%%%"), "invalid, already used or expired", 0),
    ("location out of range", lambda t: t.emu.send_location(t.ranger, 91.0, 51.0), "impossible", 0),
    ("venue out of range", lambda t: t.emu.send_venue(t.ranger, 43.0, 181.0, "x", "y"), "impossible", 0),
    ("edited message", edited, None, 0),
    ("channel post", channel, None, 0),
    ("garbage button data", stale_button, None, 0),
    ("button for unknown sighting", unknown_event_button, None, 0),
]


@pytest.mark.parametrize(("name", "action", "expected", "added"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input(team: Team, name: str, action: Action, expected: str | None, added: int) -> None:
    before = len(team.emu.sent(team.ranger.id))
    await action(team)
    if expected is not None:
        replies = await team.emu.wait_sent(team.ranger.id, before + 1, timeout=30)
        assert expected in replies[-1]["text"], replies[-1]["text"]
    # Still alive, and nothing else changed.
    assert "/lang" in (await team.say(team.ranger, "/help"))["text"]
    assert await team.services.db.scalar("SELECT COUNT(*) FROM sightings") == added
    assert await team.services.db.scalar("SELECT COUNT(*) FROM reviews") == 0
    assert await team.services.db.scalar("SELECT COUNT(*) FROM groups") == 1


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
