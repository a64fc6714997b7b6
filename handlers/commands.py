"""Private-chat commands: /start (invite), /help, /lang, /invite, /rangers, /suspend, /remove, /station."""

from __future__ import annotations

import html

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.geo import CoordinateError, Placement, Point, format_point, swap
from bot.intake import OwnSighting, kind_scored
from bot.media import local_time
from bot.people import Role, invite_needs, reopen_refused_notices
from bot.places import MAX_NAME
from bot.services import services
from bot.text import LANGUAGES, parse_code, parse_id, split, t
from handlers.common import kick_outbox, language_of, reader, require


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, user = update.effective_message, update.effective_user
    assert msg is not None and user is not None
    svc = services(context)
    lang = language_of(update, context)
    # Pressing Start opens the chat: notices Telegram refused before (403) can be delivered now.
    if await reopen_refused_notices(svc.db, user.id):
        kick_outbox(context)
    if context.args:
        role = await svc.access.redeem(
            context.args[0], user.id, user.full_name, user.username, user.language_code
        )
        if role is None:
            await msg.reply_text(t(lang, "start.bad_invite"))
            return
        await msg.reply_text(t(lang, f"start.welcome_{role}"))
        return
    current = await svc.access.role(user.id)
    if current <= Role.SUSPENDED:
        await msg.reply_text(t(lang, "access.outsider" if current == Role.OUTSIDER else "access.suspended"))
        return
    await msg.reply_text(t(lang, "start.hello"))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, user = update.effective_message, update.effective_user
    assert msg is not None and user is not None
    lang = language_of(update, context)
    role = await services(context).access.role(user.id)
    keys = ["help.outsider"]
    if role >= Role.RANGER:
        keys = ["help.ranger"]
    if role >= Role.COORDINATOR:
        keys.append("help.coordinator")
    if role >= Role.ADMIN:
        keys.append("help.admin")
    await msg.reply_text("\n\n".join(t(lang, k) for k in keys))


@require(Role.RANGER)
async def lang_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, user = update.effective_message, update.effective_user
    assert msg is not None and user is not None
    choice = (context.args or [""])[0].lower()
    if choice not in LANGUAGES:
        await msg.reply_text(t(language_of(update, context), "lang.usage"))
        return
    context.user_data["lang"] = choice  # type: ignore[index]
    await services(context).access.set_language(user.id, choice)
    await msg.reply_text(t(choice, "lang.set"))


@require(Role.COORDINATOR)
async def invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, user = update.effective_message, update.effective_user
    assert msg is not None and user is not None
    svc = services(context)
    lang = language_of(update, context)
    args = [a.lower() for a in context.args or []]
    if args not in ([], ["ranger"], ["coordinator"]):
        await msg.reply_text(t(lang, "invite.usage"))
        return
    role = args[0] if args else "ranger"
    if await svc.access.role(user.id) < invite_needs(role):
        await msg.reply_text(t(lang, "access.admin_only"))
        return
    inv = await svc.access.create_invite(user.id, role)
    link = f"https://t.me/{context.bot.username}?start={inv.code}"
    await msg.reply_text(
        t(
            lang,
            "invite.created",
            link=link,
            role=t(lang, f"role.{role}"),
            expires=local_time(inv.expires_at, svc.settings.zone),
        )
    )


@require(Role.COORDINATOR)
async def rangers(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    assert msg is not None
    lang = language_of(update, context)
    people = await services(context).access.list_people()
    lines = [t(lang, "rangers.title")] + [
        f"{p['user_id']} · {html.escape(str(p['name']))} · {t(lang, 'role.' + str(p['role']))} · "
        f"{t(lang, 'status.' + str(p['status']))}"
        for p in people
    ]
    for chunk in split(lines):  # a team of rangers with long names outgrows one message
        await msg.reply_text(chunk, parse_mode=ParseMode.HTML)


@require(Role.COORDINATOR)
async def suspend(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _set_status(update, context, "suspended")


@require(Role.COORDINATOR)
async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _set_status(update, context, "removed")


@require(Role.COORDINATOR)
async def restore(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Undo /suspend (a removed ranger needs a new invite)."""
    await _set_status(update, context, "active", only_from="suspended")


@require(Role.RANGER)
async def mine(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A ranger's own last sightings with what the coordinators decided."""
    msg, user = update.effective_message, update.effective_user
    assert msg is not None and user is not None
    lang = language_of(update, context)
    svc = services(context)
    found = await svc.sightings.latest_of(user.id)
    if not found:
        await msg.reply_text(t(lang, "mine.none"))
        return
    lines = [t(lang, "mine.title")]
    for s in found:
        when = local_time(s.taken_at, svc.settings.zone)
        lines.append(
            f"#{s.id} · {when} · {html.escape(kind_scored(lang, s.kind, s.score))} · "
            f"{html.escape(s.station or '—')} · {t(lang, _mine_status(s))}"
        )
    await msg.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)


def _mine_status(s: OwnSighting) -> str:
    if not s.alerted:  # no alert went out, so there is nothing for coordinators to review
        return "mine.status.none"
    if s.status == "unreviewed" and s.reported:
        return "mine.status.reported"
    return f"mine.status.{s.status}"


async def _set_status(
    update: Update, context: ContextTypes.DEFAULT_TYPE, status: str, only_from: str | None = None
) -> None:
    msg, user = update.effective_message, update.effective_user
    assert msg is not None and user is not None
    lang = language_of(update, context)
    args = context.args or []
    user_id = parse_id(args[0]) if len(args) == 1 else None
    if user_id is None:
        await msg.reply_text(t(lang, "rangers.usage"))
        return
    change = await services(context).access.set_status(user.id, user_id, status, only_from=only_from)
    if change.refused:  # coordinators manage rangers; only admins manage coordinators
        await msg.reply_text(t(lang, "access.admin_only"))
        return
    await msg.reply_text(t(lang, f"rangers.{status}" if change.done else "rangers.unknown", id=user_id))




@require(Role.COORDINATOR)
async def station(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/station add CODE LAT LON [name…] [area=AREA] · /station list · /station area CODE AREA"""
    msg, user = update.effective_message, update.effective_user
    assert msg is not None and user is not None
    lang = language_of(update, context)
    svc = services(context)
    args = context.args or []
    if args[:1] == ["list"]:
        rows = await svc.stations.all()
        # The list is the key to every station code in alerts and exports: places (and names, a named
        # spring is a place) only where exact places are allowed. Coordinators still get the codes to type.
        if (await reader(update, context)).exact:
            lines = [t(lang, "station.list")] + [
                f"{html.escape(s.code)} · {format_point(s.point)} · {html.escape(s.name)} · "
                f"{html.escape(s.area or '—')}"
                for s in rows
            ]
        else:
            lines = [t(lang, "station.list_codes")] + [
                f"{html.escape(s.code)} · {html.escape(s.area or '—')}" for s in rows
            ]
        for chunk in split(lines):
            await msg.reply_text(chunk, parse_mode=ParseMode.HTML)
        return
    if args[:1] == ["area"] and len(args) == 3 and parse_code(args[1]) and parse_code(args[2]):
        ok = await svc.stations.set_area(args[1], args[2])
        await msg.reply_text(
            t(
                lang,
                "station.area_set" if ok else "station.unknown",
                code=args[1].upper(),
                area=args[2].upper(),
            )
        )
        return
    # "force" keeps coordinates that look swapped or lie outside LW_REGION, as typed (as the CLI's --force).
    force = any(a.lower() == "force" for a in args[4:])
    rest = [a for a in args[4:] if a.lower() != "force"]
    areas = [a.split("=", 1)[1] for a in rest if a.lower().startswith("area=")]
    name = " ".join(a for a in rest if not a.lower().startswith("area="))
    # Codes are short words and names a few words: what would not fit a line of /station list is no name.
    if args[:1] != ["add"] or len(args) < 4 or len(areas) > 1 or len(name) > MAX_NAME:
        await msg.reply_text(t(lang, "station.usage"))
        return
    area = parse_code(areas[0]) if areas else None
    if areas and area is None:
        await msg.reply_text(t(lang, "station.usage"))
        return
    try:
        point = Point(float(args[2].replace(",", ".")), float(args[3].replace(",", ".")))
    except (ValueError, CoordinateError):
        await msg.reply_text(t(lang, "station.bad"))
        return
    # One swapped or far-away station stretches every weekly map over 1 500 km: asked, as rangers are.
    placement = svc.settings.bounds.place(point)
    if placement is not Placement.INSIDE and not force:
        other = swap(point) if placement is Placement.SWAPPED else None
        key = "station.swapped" if other is not None else "station.outside"
        shown = {"point": format_point(point, 2), "other": format_point(other, 2) if other else ""}
        await msg.reply_text(t(lang, key, **shown))
        return
    try:
        st = await svc.stations.add(args[1], point, name, area, by=user.id)
    except (ValueError, CoordinateError):
        await msg.reply_text(t(lang, "station.bad"))
        return
    await msg.reply_text(
        t(
            lang,
            "station.added",
            code=html.escape(st.code),
            point=format_point(st.point),
            area=html.escape(st.area or "—"),
        ),
        parse_mode=ParseMode.HTML,
    )
