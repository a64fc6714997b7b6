"""/compare 12 15: could one leopard have made the move between two sightings? (Any two, any age.)

The answer follows the asker's precision, as /sighting and /export do: exact in a trusted group or for
an admin in a private chat; anywhere else the distance and speed are worked out from the grid cells, with
areas instead of station codes, and the verdict is the exact one (one verdict per move, whoever asks).
An exact distance between two sightings is a place: a ranger who knows where his own photos were taken
can locate anyone's leopard from three of them.
"""

from __future__ import annotations

import html

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.alerts import Placed, load_placed, rounding_note
from bot.geo import format_speed, movement, rounded_movement
from bot.media import by_receipt_note
from bot.services import services
from bot.text import parse_id, t
from handlers.common import reader


async def compare(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    assert msg is not None
    svc = services(context)
    audience = await reader(update, context)  # the group's language and trust, or the asker's own
    lang = audience.lang
    ids = [parse_id(a) for a in context.args or []]
    if len(ids) != 2 or None in ids or ids[0] == ids[1]:
        await msg.reply_text(t(lang, "compare.usage"))
        return
    args = [str(i) for i in ids]
    a, b = [await load_placed(svc.db, int(x)) for x in args]
    for asked, found in zip(args, (a, b), strict=True):
        if found is None:
            await msg.reply_text(t(lang, "compare.missing", id=asked))
            return
        if found.point is None or found.taken is None:
            await msg.reply_text(t(lang, "compare.no_place", id=asked))
            return
        if found.time is not None and found.time.clock_issue is not None:  # kept, but no use for speeds
            when = found.time.taken_at.astimezone(svc.settings.zone).strftime("%Y-%m-%d %H:%M")
            await msg.reply_text(t(lang, "compare.clock_wrong", id=asked, time=when))
            return
    assert a is not None and b is not None and a.taken is not None and b.taken is not None
    first, second = (a, b) if a.taken <= b.taken else (b, a)
    assert first.point and second.point and first.taken and second.taken
    limit, grid = svc.settings.max_km_per_day, svc.settings.untrusted_grid_km
    exact = audience.exact
    if exact:
        mv = movement(first.point, first.taken, second.point, second.taken, limit)
    else:
        mv = rounded_movement(first.point, first.taken, second.point, second.taken, grid, limit)
    approx = "" if exact else "≈"

    def where(p: Placed) -> str:
        return html.escape((p.station if exact else p.area) or "—")

    lines = [
        t(
            lang,
            "compare.one" if mv.plausible else "compare.two",
            a=first.id,
            sa=where(first),
            b=second.id,
            sb=where(second),
            km=f"{approx}{mv.distance_km:.0f}",
            days=f"{mv.hours / 24:.1f}",
            speed=approx + format_speed(mv.km_per_day),
            limit=f"{limit:g}",
        )
    ]
    if not exact:
        lines.append(rounding_note(lang, grid))
    late = by_receipt_note(lang, [p.id for p in (first, second) if p.time and not p.time.is_capture])
    if late:
        lines.append(late)
    unconfirmed = [f"#{p.id}" for p in (first, second) if p.status != "confirmed"]
    if unconfirmed:
        lines.append(t(lang, "compare.unconfirmed", ids=", ".join(unconfirmed)))
    await msg.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)
