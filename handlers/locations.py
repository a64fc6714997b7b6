"""Locations from rangers: pins, venues, live locations, typed coordinates and station codes."""

from __future__ import annotations

import warnings

from telegram import Location, Update
from telegram.ext import ContextTypes
from telegram.warnings import PTBDeprecationWarning

from bot.coordinates import parse_coordinates
from bot.geo import CoordinateError, Point
from bot.i18n import t
from bot.services import services
from bot.stations import Station
from handlers.common import kick_outbox, language_of


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
    """Live locations keep moving; only their first point counts, so later updates are ignored."""
    return None


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    if msg is None or not msg.text or update.effective_user is None:
        return
    lang = language_of(update, context)
    svc = services(context)
    station = await svc.stations.find_in_text(msg.text)
    if station:
        await _remember(update, context, station.point, "station", lang, station)
        return
    try:
        point = parse_coordinates(msg.text)
    except CoordinateError:
        await msg.reply_text(t(lang, "location.bad"))
        return
    if point is None:
        await msg.reply_text(t(lang, "text.unknown"))
        return
    await _remember(update, context, point, "text", lang)


async def _remember(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    point: Point,
    source: str,
    lang: str,
    station: Station | None = None,
) -> None:
    msg = update.effective_message
    assert msg is not None and update.effective_user is not None
    svc = services(context)
    ids = await svc.sightings.remember_location(update.effective_user.id, point, source, msg.date, station)
    if ids:
        kick_outbox(context)
        await msg.reply_text(t(lang, "location.attached", ids=", ".join(f"#{i}" for i in ids)))
    else:
        await msg.reply_text(t(lang, "location.saved", minutes=svc.settings.pairing_minutes))


def _is_live(location: Location) -> bool:
    # PTB 22 warns that live_period becomes a timedelta in v23; either way, set means live.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return location.live_period is not None
