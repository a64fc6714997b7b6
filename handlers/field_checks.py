"""/check: a ranger at a camera records a visit. A short conversation with buttons (station, camera found,
battery, card, then the set-up photo and the pin); `/check UST-04 80% card dead` records at once. Thin:
parse, call bot.places through the services, reply."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.geo import CoordinateError, Point
from bot.places import (
    BATTERY_STEPS,
    FINDINGS,
    Check,
    CheckError,
    DeploymentError,
    Visit,
    parse_visit,
)
from bot.services import services
from bot.text import t
from handlers.common import Step, language_of
from handlers.deployments import local_time, refusal
from storage.errors import StorageUnavailable

PREFIX = "ck:"  # the check's buttons: ck:st:CODE, ck:w:FINDING, ck:b:PERCENT|skip, ck:c:1|0, ck:done
TIMEOUT = timedelta(minutes=30)  # a ranger at a camera may lose signal; after this the draft is settled
STATION, FOUND, BATTERY, CARD, MEDIA = range(5)
END = ConversationHandler.END
DRAFT = "check"  # the user's conversation draft in context.user_data (per user, PTB's own place for it)
_STATE_KEYS = {"working": "check.working", "dead": "check.not_working", "missing": "check.missing",
               "knocked_over": "check.knocked_over", None: "check.unknown"}  # fmt: skip
_STOP_KEYS = {"last frame": "check.dead", "last check": "check.dead_last_check", "set-up": "check.dead_setup"}


@dataclass
class Draft:
    """What the ranger has answered so far."""

    station: str = ""
    found: str | None = None
    battery: int | None = None
    card: bool | None = None
    photo_sha256: str | None = None
    point: Point | None = None


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                 for row in rows])  # fmt: skip


def _draft(context: ContextTypes.DEFAULT_TYPE) -> Draft:
    assert context.user_data is not None
    found = context.user_data.get(DRAFT)
    if not isinstance(found, Draft):
        found = context.user_data[DRAFT] = Draft()
    return found


def _forget(context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


async def check(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/check alone (asks the station), /check STATION (asks the rest), or typed at once:
    /check STATION [battery%] [card] [working|dead|missing|knocked]."""
    msg, user = update.effective_message, update.effective_user
    assert msg is not None and user is not None
    lang, args, svc = language_of(update, context), context.args or [], services(context)
    _forget(context)
    if len(args) > 1:
        visit = parse_visit(args[1:])
        if visit is None:
            await msg.reply_text(t(lang, "check.usage"))
            return END
        return await _save(update, context, lang, args[0], visit, at=msg.date)
    if args:
        return await _station_chosen(context, msg, lang, args[0])
    codes = await svc.checks.suggest(user.id, msg.date)
    rows = [[(code, f"{PREFIX}st:{code}") for code in codes[i : i + 3]] for i in range(0, len(codes), 3)]
    await msg.reply_text(t(lang, "check.ask_station"), reply_markup=_keyboard(rows) if rows else None)
    return STATION


async def _station_chosen(context: ContextTypes.DEFAULT_TYPE, msg: Message, lang: str, typed: str) -> int:
    try:
        code = await services(context).deployments.station_code(typed)
    except DeploymentError as exc:
        await msg.reply_text(refusal(lang, exc))
        return STATION
    _draft(context).station = code
    rows = [[(t(lang, f"check.found_{f}"), f"{PREFIX}w:{f}") for f in FINDINGS[:2]],
            [(t(lang, f"check.found_{f}"), f"{PREFIX}w:{f}") for f in FINDINGS[2:]]]  # fmt: skip
    await msg.reply_text(t(lang, "check.ask_found", station=code), reply_markup=_keyboard(rows))
    return FOUND


async def on_station_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    msg = update.effective_message
    assert msg is not None and msg.text is not None
    return await _station_chosen(context, msg, language_of(update, context), msg.text.strip())


async def _pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Message, str, str]:
    """Answer the press, and leave the question with its answer in place of the buttons."""
    query = update.callback_query
    assert query is not None and query.data is not None and isinstance(query.message, Message)
    await query.answer()
    value = query.data.rsplit(":", 1)[1]
    label = next((b.text for row in (query.message.reply_markup.inline_keyboard
                                     if query.message.reply_markup else ())
                  for b in row if b.callback_data == query.data), value)  # fmt: skip
    await query.edit_message_text(f"{query.message.text or ''}\n→ {label}")
    return query.message, value, language_of(update, context)


async def on_station_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    msg, code, lang = await _pressed(update, context)
    return await _station_chosen(context, msg, lang, code)


async def on_found(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    msg, found, lang = await _pressed(update, context)
    _draft(context).found = found if found in FINDINGS else None
    skip = [(t(lang, "check.skip"), f"{PREFIX}b:skip")]
    rows = [[(f"{p}%", f"{PREFIX}b:{p}") for p in BATTERY_STEPS], skip]
    await msg.reply_text(t(lang, "check.ask_battery"), reply_markup=_keyboard(rows))
    return BATTERY


async def on_battery(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    msg, battery, lang = await _pressed(update, context)
    _draft(context).battery = next((p for p in BATTERY_STEPS if str(p) == battery), None)  # offered or none
    rows = [[(t(lang, "check.yes"), f"{PREFIX}c:1"), (t(lang, "check.no"), f"{PREFIX}c:0")]]
    await msg.reply_text(t(lang, "check.ask_card"), reply_markup=_keyboard(rows))
    return CARD


async def on_card(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    msg, card, lang = await _pressed(update, context)
    draft = _draft(context)
    draft.card = card == "1"
    return await _ask_media(update, context, msg, lang, draft)


async def _ask_media(update: Update, context: ContextTypes.DEFAULT_TYPE, msg: Message, lang: str,
                     draft: Draft) -> int:  # fmt: skip
    """The last step: whatever of the photo and the pin is still missing, or Skip/Finish."""
    if draft.photo_sha256 and draft.point:
        return await _finish(update, context, lang)
    key = "check.ask_pin" if draft.photo_sha256 else "check.ask_photo" if draft.point else "check.ask_media"
    button = "check.finish" if draft.photo_sha256 or draft.point else "check.skip"
    await msg.reply_text(t(lang, key), reply_markup=_keyboard([[(t(lang, button), f"{PREFIX}done")]]))
    return MEDIA


async def on_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    _, _, lang = await _pressed(update, context)
    return await _finish(update, context, lang)


async def _keep_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """The set-up photo, at any step after the station: kept in the photo store, never a sighting."""
    msg = update.effective_message
    assert msg is not None
    lang = language_of(update, context)
    media = msg.photo[-1] if msg.photo else msg.document
    assert media is not None
    try:
        data = bytes(await (await context.bot.get_file(media.file_id)).download_as_bytearray())
        sha = await services(context).checks.keep_photo(data)
    except CheckError as exc:
        await msg.reply_text(t(lang, exc.key))
        return False
    except (TelegramError, StorageUnavailable):
        await msg.reply_text(t(lang, "check.photo_failed"))
        return False
    _draft(context).photo_sha256 = sha
    await msg.reply_text(t(lang, "check.photo_kept"))
    return True


async def _keep_pin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """The ranger's pin at the camera, at any step after the station: WGS84, inside the region."""
    msg = update.effective_message
    assert msg is not None
    lang = language_of(update, context)
    loc = msg.venue.location if msg.venue else msg.location
    assert loc is not None
    region = services(context).settings.bounds
    try:
        point = Point(loc.latitude, loc.longitude)
    except CoordinateError:
        await msg.reply_text(t(lang, "location.bad"))
        return False
    if not region.contains(point):
        await msg.reply_text(t(lang, "check.pin_outside", region=region.describe()))
        return False
    _draft(context).point = point
    await msg.reply_text(t(lang, "check.pin_kept"))
    return True


Keep = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, bool]]


def _early(keep: Keep) -> Step[None]:
    """Mid-questions: the photo or pin waits for the last step; the question above stands (None)."""

    async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await keep(update, context)

    return run


def _last(keep: Keep) -> Step[int | None]:
    """At the last step: kept, then whatever is still missing is asked for (or the check is done)."""

    async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
        msg = update.effective_message
        assert msg is not None
        if not await keep(update, context):
            return None
        return await _ask_media(update, context, msg, language_of(update, context), _draft(context))

    return run


async def use_buttons(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    assert msg is not None
    await msg.reply_text(t(language_of(update, context), "check.use_buttons"))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    msg = update.effective_message
    assert msg is not None
    _forget(context)
    await msg.reply_text(t(language_of(update, context), "check.cancelled"))
    return END


async def on_timeout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Nobody answered for TIMEOUT: a visit whose finding was given is recorded as far as it went (the
    ranger was there), anything less is dropped; the ranger is told which."""
    chat, draft = update.effective_chat, _draft(context)
    assert chat is not None
    lang = language_of(update, context)
    if draft.station and draft.found:
        await _finish(update, context, lang, timed_out=True)
        return
    _forget(context)
    await context.bot.send_message(chat.id, t(lang, "check.timeout_dropped"))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A check's button pressed after its conversation ended (finished, cancelled, timed out, a restart)."""
    query = update.callback_query
    assert query is not None
    await query.answer(t(language_of(update, context), "check.stale"), show_alert=True)


async def _finish(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, *,
                  timed_out: bool = False) -> int:  # fmt: skip
    draft = _draft(context)
    _forget(context)
    visit = Visit(battery=draft.battery, card_swapped=draft.card, found=draft.found,
                  photo_sha256=draft.photo_sha256, point=draft.point)  # fmt: skip
    return await _save(update, context, lang, draft.station, visit, timed_out=timed_out)


async def _save(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str, station: str, visit: Visit, *,
                at: datetime | None = None, timed_out: bool = False) -> int:  # fmt: skip
    """Record the visit; the answer is a new message (a button press or a timeout has none to reply to)."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    try:
        done = await services(context).checks.record(station, visit, by=user.id, at=at)
    except DeploymentError as exc:
        await context.bot.send_message(chat.id, refusal(lang, exc))
        return END
    lines = [t(lang, "check.timeout_saved", station=done.station)] if timed_out else []
    await context.bot.send_message(chat.id, "\n".join(lines + _done_lines(context, lang, done)))
    return END


def _done_lines(context: ContextTypes.DEFAULT_TYPE, lang: str, done: Check) -> list[str]:
    visit = done.visit
    battery = f"{visit.battery}%" if visit.battery is not None else "—"
    card = {True: "✓", False: "✗", None: "—"}[visit.card_swapped]
    lines = [t(lang, "check.done", station=done.station, battery=battery, card=card,
               state=t(lang, _STATE_KEYS.get(visit.found, "check.unknown")))]  # fmt: skip
    if visit.photo_sha256 or visit.point:
        lines.append(t(lang, "check.extras", photo="✓" if visit.photo_sha256 else "—",
                       pin="✓" if visit.point else "—"))  # fmt: skip
    if done.stopped_at is not None:
        key = _STOP_KEYS.get(done.stopped_source or "", "check.dead")
        lines.append(t(lang, key, station=done.station, stopped=local_time(done.stopped_at, context)))
    if done.deployment is None:
        lines.append(t(lang, "check.no_deployment", station=done.station))
    return lines


def conversation(guard: Callable[[Step[int]], Step[int | None]]) -> ConversationHandler[Any]:
    """The /check conversation, per user in a private chat; `guard` is the access rule at its door
    (handlers/__init__.py registers it where /check stood, before the photo and location handlers:
    mid-check, a photo is the set-up's, not a sighting, and a pin is the camera's, not the ranger's
    place for the next photos)."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    photo = private & (filters.PHOTO | filters.Document.IMAGE)
    pin = private & (filters.LOCATION | filters.VENUE)
    text = private & filters.TEXT & ~filters.COMMAND
    asked: Any = MessageHandler(text, use_buttons)
    early: list[Any] = [MessageHandler(photo, _early(_keep_photo)), MessageHandler(pin, _early(_keep_pin))]
    early.append(asked)

    def button(kind: str, callback: Step[int]) -> Any:
        return CallbackQueryHandler(callback, pattern=rf"^{PREFIX}{kind}(:|$)")

    # PTB warns that with per_message=False a button is tracked per chat and user, not per message:
    # that is what is wanted here (one check at a time per ranger; an old question's button is refused
    # by the state it names), so the warning is silenced at this one construction.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("check", guard(check), filters=private)],
            states={
                STATION: [button("st", on_station_button), MessageHandler(text, on_station_text)],
                FOUND: [button("w", on_found), *early],
                BATTERY: [button("b", on_battery), *early],
                CARD: [button("c", on_card), *early],
                MEDIA: [button("done", on_done), MessageHandler(photo, _last(_keep_photo)),
                        MessageHandler(pin, _last(_keep_pin)), asked],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, on_timeout)],
            },
            fallbacks=[CommandHandler("cancel", cancel, filters=private)],
            allow_reentry=True,  # /check again mid-check starts over
            per_chat=True,
            per_user=True,
            conversation_timeout=TIMEOUT,
            name="check",
        )  # fmt: skip
