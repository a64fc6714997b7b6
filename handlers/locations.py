"""Locations from rangers: pins, venues, live locations, typed coordinates and station codes."""

from __future__ import annotations

import html
import re
import warnings
from datetime import timedelta

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Location,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes
from telegram.warnings import PTBDeprecationWarning

from bot.geo import CoordinateError, Placement, Point, format_point, parse_coordinates, swap
from bot.intake import Place, Replaced
from bot.people import Role
from bot.places import Station
from bot.services import services
from bot.text import t
from handlers.common import kick_outbox, language_of

# The swap question keeps its answer in the buttons themselves ("sw:43.21000:51.87000" is the point to
# save), so nothing waits in memory and a restart loses nothing; what comes back is checked strictly.
SWAP_PREFIX = "sw:"
_SWAP_DATA = re.compile(r"sw:(-?[0-9]{1,2}\.[0-9]{5}):(-?[0-9]{1,3}\.[0-9]{5})")


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    if msg is None or update.effective_user is None:
        return
    lang = language_of(update, context)
    if msg.venue:
        loc, source = msg.venue.location, "venue"
    elif msg.location:
        loc, source = msg.location, ("live" if _is_live(msg.location) else "pin")
    else:
        return
    try:
        point = Point(loc.latitude, loc.longitude)
    except CoordinateError:
        await msg.reply_text(t(lang, "location.bad"))
        return
    await _remember(update, context, point, source, lang)


async def on_live_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A live location moved (Telegram edits its message, often): keep the latest point, silently."""
    msg, user = update.edited_message, update.effective_user
    if msg is None or msg.location is None or user is None:
        return
    period = _live_period(msg.location)
    if period is None:  # a pin cannot move; nothing else edits a location
        return
    svc = services(context)
    if await svc.access.role(user.id) < Role.RANGER:  # no refusal either: it would come with every update
        return
    try:
        point = Point(msg.location.latitude, msg.location.longitude)
    except CoordinateError:
        return
    await svc.sightings.follow_live_location(user.id, point, msg.date, period, msg.edit_date or msg.date)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    if msg is None or not msg.text or update.effective_user is None:
        return
    lang = language_of(update, context)
    svc = services(context)
    found = await svc.stations.lookup(msg.text)
    if found.station:
        await _remember(update, context, found.station.point, "station", lang, found.station)
        return
    if found.candidates:  # "UST-4" with both UST-04 and UST-004 registered: a guess could be 50 km off
        codes = ", ".join(s.code for s in found.candidates)
        text = t(lang, "station.ambiguous", code=html.escape(found.typed or ""), codes=html.escape(codes))
        await msg.reply_text(text, parse_mode=ParseMode.HTML)
        return
    try:
        point = parse_coordinates(msg.text)
    except CoordinateError as exc:
        await msg.reply_text(t(lang, "location.link" if exc.reason == "link" else "location.bad"))
        return
    if point is None:
        if found.unknown:
            text = t(lang, "error.unknown_station", code=html.escape(found.unknown[0]))
            await msg.reply_text(text, parse_mode=ParseMode.HTML)
        else:
            await msg.reply_text(t(lang, "text.unknown"))
        return
    bounds = svc.settings.bounds
    placement = bounds.place(point)
    if placement is Placement.SWAPPED:
        await _ask_swap(msg, lang, point)
        return
    note = None
    if placement is Placement.OUTSIDE:
        note = t(lang, "location.outside", point=_show(point), region=bounds.describe())
    await _remember(update, context, point, "text", lang, note=note)


async def _ask_swap(msg: Message, lang: str, typed: Point) -> None:
    swapped = swap(typed)
    assert swapped is not None  # Placement.SWAPPED means the swapped point exists and is inside
    use = _button(t(lang, "location.swap_use", point=_show(swapped)), swapped)
    keep = _button(t(lang, "location.swap_keep", point=_show(typed)), typed)
    text = t(lang, "location.swap_question", typed=_show(typed), swapped=_show(swapped))
    await msg.reply_text(text, reply_markup=InlineKeyboardMarkup([[use], [keep]]))


async def on_swap_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The ranger chose a reading of coordinates that looked swapped: save that one, as typed text."""
    query = update.callback_query
    if query is None:
        return
    lang = language_of(update, context)
    msg = query.message if isinstance(query.message, Message) else None
    point = _answer_point(query.data, msg, query.from_user.id)
    if point is None:
        await query.answer(t(lang, "location.swap_invalid"), show_alert=True)
        return
    await query.answer()
    # One answer per question: without its buttons a second press fails the check above.
    await query.edit_message_reply_markup(None)
    await _remember(update, context, point, "text", lang)


def _answer_point(data: str | None, msg: Message | None, presser: int) -> Point | None:
    """The point a swap button carries, or None unless everything about the press is as the bot made it:
    the question is in the presser's own private chat, the data is one of its buttons, the point valid."""
    if data is None or msg is None or msg.chat.type != Chat.PRIVATE or msg.chat.id != presser:
        return None
    offered = msg.reply_markup.inline_keyboard if msg.reply_markup else ()
    if data not in {b.callback_data for row in offered for b in row}:
        return None
    m = _SWAP_DATA.fullmatch(data)
    if m is None:
        return None
    try:
        return Point(float(m.group(1)), float(m.group(2)))
    except CoordinateError:
        return None


def _button(text: str, point: Point) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=f"{SWAP_PREFIX}{point.lat:.5f}:{point.lon:.5f}")


def _show(point: Point) -> str:
    # As a ranger types it ("43.21, 51.87"), not padded to five decimals.
    return f"{point.lat:.5f}".rstrip("0").rstrip(".") + ", " + f"{point.lon:.5f}".rstrip("0").rstrip(".")


async def _remember(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    point: Point,
    source: str,
    lang: str,
    station: Station | None = None,
    *,
    note: str | None = None,
) -> None:
    msg = update.effective_message
    assert msg is not None and update.effective_user is not None
    svc = services(context)
    if msg.reply_to_message is not None:  # the ranger says which photo they mean
        named = await svc.sightings.replied_sightings(
            update.effective_user.id, msg.chat_id, msg.reply_to_message.message_id
        )
        if named:
            place = Place(point, source, station)
            done = await svc.sightings.place_replied(update.effective_user.id, named, place)
            kick_outbox(context)
            lines = [_replied_line(lang, r, place) for r in done]
            await msg.reply_text("\n".join([*lines, note] if note else lines))
            return
    ids = await svc.sightings.remember_location(update.effective_user.id, point, source, msg.date, station)
    if ids:
        kick_outbox(context)
        text = t(lang, "location.attached", ids=", ".join(f"#{i}" for i in ids))
    else:
        text = t(lang, "location.saved", minutes=svc.settings.pairing_minutes)
    await msg.reply_text(f"{text}\n{note}" if note else text)


def _replied_line(lang: str, done: Replaced, place: Place) -> str:
    if not done.moved:
        return t(lang, "location.replied", id=done.sighting_id)
    assert done.old_point is not None
    old = done.old_station or format_point(done.old_point)
    new = place.station.code if place.station else format_point(place.point)
    return t(lang, "location.corrected", id=done.sighting_id, old=old, new=new)


def _is_live(location: Location) -> bool:
    return _live_period(location) is not None


def _live_period(location: Location) -> timedelta | None:
    # PTB 22 warns that live_period becomes a timedelta in v23; accept both without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = location.live_period
    if value is None:
        return None
    return value if isinstance(value, timedelta) else timedelta(seconds=value)
