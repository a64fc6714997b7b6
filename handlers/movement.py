"""/compare 12 15: could one leopard have made the move between two sightings? (Any two, any age.)"""

from __future__ import annotations

import html

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.geo import format_speed, movement
from bot.i18n import t
from bot.movement import load_placed
from bot.services import services
from handlers.common import group_language


async def compare(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    assert msg is not None
    svc = services(context)
    lang = await group_language(update, context)
    args = [a.lstrip("#") for a in context.args or []]
    if len(args) != 2 or not all(a.isdigit() for a in args) or args[0] == args[1]:
        await msg.reply_text(t(lang, "compare.usage"))
        return
    a, b = [await load_placed(svc.db, int(x)) for x in args]
    for asked, found in zip(args, (a, b), strict=True):
        if found is None:
            await msg.reply_text(t(lang, "compare.missing", id=asked))
            return
        if found.point is None or found.taken is None:
            await msg.reply_text(t(lang, "compare.no_place", id=asked))
            return
    assert a is not None and b is not None and a.taken is not None and b.taken is not None
    first, second = (a, b) if a.taken <= b.taken else (b, a)
    assert first.point and second.point and first.taken and second.taken
    limit = svc.settings.max_km_per_day
    mv = movement(first.point, first.taken, second.point, second.taken, limit)
    lines = [
        t(
            lang,
            "compare.one" if mv.plausible else "compare.two",
            a=first.id,
            sa=html.escape(first.station or "—"),
            b=second.id,
            sb=html.escape(second.station or "—"),
            km=f"{mv.distance_km:.0f}",
            days=f"{mv.hours / 24:.1f}",
            speed=format_speed(mv.km_per_day),
            limit=f"{limit:g}",
        )
    ]
    unconfirmed = [f"#{p.id}" for p in (first, second) if p.status != "confirmed"]
    if unconfirmed:
        lines.append(t(lang, "compare.unconfirmed", ids=", ".join(unconfirmed)))
    await msg.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)
