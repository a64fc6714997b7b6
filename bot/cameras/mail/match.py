"""Which camera sent a message, and whether its photos may alert.

A file-name prefix names the camera of each photo most precisely, then a camera name in the subject,
then one in the body, then the From address: several cameras often share one sending account, and
then only their names tell them apart. Two cameras named at the same step is no answer at that step.

Trust is a separate question, answered by the address alone: a message may alert only when its From
is a registered camera's address or matches LW_MAIL_ALLOW. A name in the subject is no credential
(anyone can write "CAM-17"), and neither, strictly, is From; but spam that forges the address of one
of the project's cameras is targeted, and a coordinator can still reject what it causes. The address is
From's addr-spec, never its display name (bot/cameras/mail/sender.py); and where the provider's
Authentication-Results are read (LW_MAIL_AUTH_SERVER), the address must also have passed them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.cameras.mail.parse import ParsedMail
from bot.cameras.mail.sender import vouched
from bot.cameras.registry import FILE, SENDER, Camera


@dataclass(frozen=True)
class CameraMatch:
    camera: Camera | None
    via: str | None  # "file", "subject", "body", "sender"; None: no registered camera
    trusted: bool
    unvouched: bool = False  # the address would do, but the provider's Authentication-Results did not pass


def allowed(sender: str | None, allow: Iterable[str]) -> bool:
    """LW_MAIL_ALLOW entries: a whole address, or "@domain" / "domain" for every address there."""
    if not sender or "@" not in sender:
        return False
    domain = sender.rsplit("@", 1)[1]
    for entry in allow:
        item = entry.strip().lower()
        if not item:
            continue
        if "@" in item and not item.startswith("@"):
            if item == sender:
                return True
        elif domain == item.lstrip("@"):
            return True
    return False


def _named(text: str, name: str) -> bool:
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(name)}(?![0-9A-Za-z])", text, re.IGNORECASE) is not None


def _only(found: list[Camera]) -> Camera | None:
    unique = {c.id: c for c in found}
    return next(iter(unique.values())) if len(unique) == 1 else None


def match_camera(
    cameras: list[Camera], mail: ParsedMail, allow: Iterable[str], auth_server: str = ""
) -> CameraMatch:
    registered = [c for c in cameras if c.code is not None]
    senders = {r.value for c in registered for r in c.rules if r.kind == SENDER}
    known = bool(mail.sender) and (mail.sender in senders or allowed(mail.sender, allow))
    unvouched = known and bool(auth_server) and not vouched(mail.auth_results, auth_server, mail.sender)
    trusted = known and not unvouched
    names = [a.filename.lower() for a in mail.images if a.filename]

    def has(c: Camera, kind: str, test: Callable[[str], bool]) -> bool:
        return any(r.kind == kind and test(r.value) for r in c.rules)

    steps: list[tuple[str, list[Camera]]] = [
        ("file", [c for c in registered if has(c, FILE, lambda v: any(n.startswith(v) for n in names))]),
        ("subject", [c for c in registered if any(_named(mail.subject, n) for n in c.names())]),
        ("body", [c for c in registered if any(_named(mail.text, n) for n in c.names())]),
        ("sender", [c for c in registered if has(c, SENDER, lambda v: v == mail.sender)]),
    ]
    for via, found in steps:
        camera = _only(found)
        if camera is not None:
            return CameraMatch(camera, via, trusted, unvouched)
    return CameraMatch(None, None, trusted, unvouched)
