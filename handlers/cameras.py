"""/camera add | list | assign | remove: cellular cameras and the stations they stand at (coordinators,
private)."""

from __future__ import annotations

import html
from datetime import datetime

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.cameras import Assigned, Camera, CameraError, Cameras, camera_status, parse_rule
from bot.media import local_time
from bot.people import Role
from bot.services import services
from bot.text import looks_numeric, parse_id, shorten, split, t
from handlers.common import language_of, require

ECHO = 64  # what typed words are quoted back at most: a 4000-character "code" must not fill the answer


def _reference(text: str) -> str:
    """A camera code, or the number /camera list shows in ASCII ("#3", "3"); "²", "٣" or a number past
    any id is the usage, not a lookup (the registry's int() refuses what isdigit() accepts)."""
    if not looks_numeric(text):
        return text
    number = parse_id(text)
    if number is None:
        raise CameraError("not a camera number", "usage")
    return str(number)


@require(Role.COORDINATOR)
async def camera(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/camera add CODE STATION [match=…]… · /camera list · /camera assign N STATION [CODE] ·
    /camera remove CODE|N"""
    msg, user = update.effective_message, update.effective_user
    assert msg is not None and user is not None
    lang = language_of(update, context)
    cameras = services(context).cameras
    args = context.args or []
    verb = args[0].lower() if args else ""
    try:
        if verb == "list" and len(args) == 1:
            await _list(update, context, cameras, lang)
            return
        if verb == "remove" and len(args) == 2:
            gone = await cameras.remove(_reference(args[1]), by=user.id)
            await msg.reply_text(_removed(lang, gone), parse_mode=ParseMode.HTML)
            return
        if verb == "add" and len(args) >= 3:
            matches = [a.split("=", 1)[1] for a in args[3:] if a.lower().startswith("match=")]
            if len(matches) != len(args) - 3:
                raise CameraError("unexpected words", "usage")
            rules = [parse_rule(v) for m in matches for v in m.split(",") if v.strip()]
            done = await cameras.add(args[1], args[2], rules, by=user.id)
        elif verb == "assign" and len(args) in (3, 4):
            number = parse_id(args[1])
            if number is None:  # an unknown camera has no code yet: only its number from /camera list
                raise CameraError("not a camera number", "usage")
            done = await cameras.assign(str(number), args[2], args[3] if len(args) == 4 else None, by=user.id)
        else:
            raise CameraError("usage", "usage")
    except CameraError as exc:
        key = exc.reason if exc.reason != "bad_file" else "usage"
        await msg.reply_text(
            t(lang, f"camera.error.{key}", value=html.escape(shorten(exc.value, ECHO))),
            parse_mode=ParseMode.HTML,
        )
        return
    await msg.reply_text(_added(lang, done), parse_mode=ParseMode.HTML)


def _added(lang: str, done: Assigned) -> str:
    c = done.camera
    rules = ", ".join(html.escape(shorten(str(r), ECHO)) for r in c.rules) or "—"
    lines = [
        t(lang, "camera.added", code=html.escape(c.label), station=html.escape(c.station or "—"), rules=rules)
    ]
    if done.placed:
        lines.append(t(lang, "camera.placed", count=done.placed))
    if done.leopards:
        lines.append(t(lang, "camera.held", ids=" ".join(f"/sighting {i}" for i in done.leopards)))
    return "\n".join(lines)


def _removed(lang: str, c: Camera) -> str:
    if c.code is None:
        return t(lang, "camera.removed_unknown", number=c.id, sender=html.escape(c.sender or "?"))
    rules = ", ".join(html.escape(str(r)) for r in c.rules) or "—"
    text = t(lang, "camera.removed", code=html.escape(c.code), rules=rules)
    # The file is read at every start; it does not bring the camera back, but it still says otherwise.
    return text + ("\n" + t(lang, "camera.removed_file") if c.from_file else "")


def _when(at: datetime | None, context: ContextTypes.DEFAULT_TYPE) -> str:
    return local_time(at, services(context).settings.zone) if at else "—"


async def _list(update: Update, context: ContextTypes.DEFAULT_TYPE, cameras: Cameras, lang: str) -> None:
    msg = update.effective_message
    assert msg is not None
    found = await cameras.all()
    known = [c for c in found if c.code]
    unknown = [c for c in found if not c.code]
    if not found:
        await msg.reply_text(t(lang, "camera.list_none"))
        return
    lines = [t(lang, "camera.list")] + [_line(lang, c, context) for c in known]
    if unknown:
        lines += ["", t(lang, "camera.list_unknown")]
        lines += [
            t(
                lang,
                "camera.unknown_line",
                number=c.id,
                sender=html.escape(c.sender or "?"),
                last=_when(c.last_message_at, context),
            )
            for c in unknown
        ]
    for chunk in split(lines):
        await msg.reply_text(chunk, parse_mode=ParseMode.HTML)


def _line(lang: str, c: Camera, context: ContextTypes.DEFAULT_TYPE) -> str:
    status = camera_status(c.battery, c.signal)
    return t(
        lang,
        "camera.line",
        code=html.escape(c.label),
        station=html.escape(c.station or "—"),
        mail=_when(c.last_message_at, context),
        photo=_when(c.last_photo_at, context),
        status=html.escape(status) or "—",
        rules=", ".join(html.escape(str(r)) for r in c.rules) or "—",
    ) + (" · " + t(lang, "camera.moved") if c.moved else "")
