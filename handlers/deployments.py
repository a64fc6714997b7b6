"""/deploy and /retrieve: a ranger at the camera opens or closes its deployment. Thin: parse, call
bot.places through the services, reply. (/check, the visit, is handlers/field_checks.py.)"""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import ContextTypes

from bot.places import DeploymentError, parse_when
from bot.services import services
from bot.text import shorten, t
from handlers.common import language_of

ECHO = 64  # typed words quoted back at most


def local_time(when: datetime | None, context: ContextTypes.DEFAULT_TYPE) -> str:
    zone = services(context).settings.zone
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M") if when else "—"


def refusal(lang: str, exc: DeploymentError) -> str:
    fields = {k: shorten(str(v), ECHO) for k, v in exc.fields.items()}
    return t(lang, exc.key, **fields)


async def deploy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/deploy STATION CAMERA [date or time]: the camera set up now (or then)."""
    msg, user = update.effective_message, update.effective_user
    assert msg is not None and user is not None
    lang, args = language_of(update, context), context.args or []
    if len(args) not in (2, 3):
        await msg.reply_text(t(lang, "deploy.usage"))
        return
    svc = services(context)
    try:
        start = parse_when(args[2], svc.settings.zone) if len(args) == 3 else msg.date
        dep = await svc.deployments.add(args[0], args[1], start, source="telegram", by=user.id,
                                        setup_by=user.full_name)  # fmt: skip
    except DeploymentError as exc:
        await msg.reply_text(refusal(lang, exc))
        return
    await msg.reply_text(t(lang, "deploy.done", camera=(dep.camera or "?"),
                           station=(dep.station or ""), start=local_time(dep.start, context)))  # fmt: skip


async def retrieve(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/retrieve STATION [CAMERA] [date or time]: the camera taken down now (or then)."""
    msg = update.effective_message
    assert msg is not None
    lang, args = language_of(update, context), context.args or []
    if not 1 <= len(args) <= 3:
        await msg.reply_text(t(lang, "deploy.usage"))
        return
    svc = services(context)
    camera = when = None
    for word in args[1:]:
        if word[:1].isdigit() and "-" in word[:5]:
            when = word
        else:
            camera = word
    try:
        end = parse_when(when, svc.settings.zone, end_of_day=True) if when else msg.date
        dep = await svc.deployments.end(args[0], camera, end, source="telegram")
    except DeploymentError as exc:
        await msg.reply_text(refusal(lang, exc))
        return
    await msg.reply_text(t(lang, "deploy.retrieved", camera=(dep.camera or "?"),
                           station=(dep.station or ""), start=local_time(dep.start, context),
                           end=local_time(dep.end, context)))  # fmt: skip
