"""Hostile camera mail for the tests (issue 21): messages shaped to hurt the MIME parser, forged From
headers, odd charsets; and the world they are sent into: station UST-04, camera CAM-17 at it (its address
trusted), an English coordinator group, admin 1 and coordinator 2 (both English in private)."""

from __future__ import annotations

import base64
import unicodedata
from collections.abc import AsyncIterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from bot.cameras import parse_rule
from bot.cameras.mail import MailIntake, MessageRef
from bot.config import Settings
from bot.detection.model import OnnxLeopardDetector
from bot.geo import Point
from bot.services import Services
from storage.db import iso, utcnow
from tests.conftest import GROUP

SENDER = "cam17@cameras.example"
STATION = Point(43.21, 51.87)
ADMIN_ID, COORDINATOR_ID = 1, 2
MB = 2**20
_uids = count(1)


def nested(depth: int, size: int) -> bytes:
    """multipart inside multipart `depth` times, the innermost text padded with short lines to `size`
    bytes: every line the parser reads is checked against every open boundary."""
    parts = [b"From: x@y.example\r\nSubject: nested\r\nMIME-Version: 1.0\r\n"]
    for i in range(depth):
        parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
    parts.append(b"Content-Type: text/plain\r\n\r\n")
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    pad = max(0, size - sum(map(len, parts)) - len(closing))
    parts.append(b"x\r\n" * (pad // 3))
    return b"".join(parts) + closing


def wide(parts: int) -> bytes:
    head = (
        b"From: x@y.example\r\nSubject: wide\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="w"\r\n\r\n'
    )
    body = b"".join(b"--w\r\nContent-Type: text/plain\r\n\r\n%d\r\n" % i for i in range(parts))
    return head + body + b"--w--\r\n"


def with_from(raw: bytes, header: str) -> bytes:
    """camera_email's message with its From line replaced by `header` (as a stranger would write it)."""
    head, sep, rest = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
    lines = [ln for ln in head.splitlines() if not ln.lower().startswith(b"from:")]
    return b"\r\n".join([f"From: {header}".encode(), *lines]) + sep + rest


def text_and_photo(charset: str, photo: bytes, subject: str = "CAM-17 PIR") -> bytes:
    """A camera-like message whose text part declares `charset`, then a base64 JPEG."""
    b64 = base64.encodebytes(photo).replace(b"\n", b"\r\n")
    return (
        (
            f"From: CAM-17 <{SENDER}>\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
            f'--b1\r\nContent-Type: text/plain; charset="{charset}"\r\n'
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
            "Battery: 55%\r\n"
            '--b1\r\nContent-Type: image/jpeg; name="IMG_0001.JPG"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode()
        + b64
        + b"--b1--\r\n"
    )


def visible_junk(text: str) -> list[str]:
    """Control, format (bidi, zero-width) and other invisible characters; a newline is layout."""
    return [
        f"U+{ord(c):04X}"
        for c in text
        if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn")
    ]


@pytest.fixture(name="world")
async def world_fixture(
    tmp_path: Path, detector: OnnxLeopardDetector
) -> AsyncIterator[tuple[Services, MailIntake]]:
    """Station UST-04, camera CAM-17 at it (its address trusted), an English coordinator group, admin 1
    and coordinator 2 (both English)."""
    svc = await Services.create(world_settings(tmp_path), detector)
    await furnish(svc)
    yield svc, svc.mail
    await svc.close()


def world_settings(tmp_path: Path, **changes: Any) -> Settings:
    base = Settings(
        database=tmp_path / "lw.sqlite3", photo_dir=tmp_path / "photos", admin_ids=frozenset({ADMIN_ID})
    )
    return base.with_(**changes)


async def furnish(svc: Services) -> None:
    await svc.stations.add("UST-04", STATION, "Spring", "UST")
    await svc.mail.cameras.add("CAM-17", "UST-04", [parse_rule(SENDER)])
    now = iso(utcnow())
    await svc.db.execute(
        "INSERT INTO groups (chat_id, title, language, created_at) VALUES (?, 'C', 'en', ?)", (GROUP, now)
    )
    for user, role in ((ADMIN_ID, "ranger"), (COORDINATOR_ID, "coordinator")):
        await svc.db.execute(
            "INSERT INTO rangers (user_id, name, language, role, created_at) VALUES (?, ?, 'en', ?, ?)",
            (user, f"P{user}", role, now),
        )


async def mail_in(intake: MailIntake, raw: bytes) -> Any:
    return await intake.handle(raw, MessageRef("INBOX", 1, next(_uids)))


async def notices(svc: Services, like: str) -> dict[int, list[str]]:
    rows = await svc.db.fetchall(
        "SELECT chat_id, text FROM notices WHERE dedup_key LIKE ? ORDER BY id", (like,)
    )
    found: dict[int, list[str]] = {}
    for r in rows:
        found.setdefault(int(r["chat_id"]), []).append(r["text"])
    return found


async def alerts(svc: Services) -> int:
    return int(await svc.db.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'alert'"))
