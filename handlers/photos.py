"""Photos and image documents from rangers: download -> Sightings.record_photo -> receipt."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.i18n import t
from bot.services import services
from bot.sightings import PhotoIntake, Receipt, SightingError
from handlers.common import kick_outbox, language_of, ranger_of, receipt_text
from handlers.escalations import escalate_keyboard

log = logging.getLogger(__name__)

MAX_DOWNLOAD = 20 * 1024 * 1024  # Bot API getFile limit
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".tif", ".tiff", ".webp")
ALBUM_WAIT_SECONDS = 2.0


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    if msg is None or update.effective_user is None:
        return
    if msg.media_group_id is None:
        await _take_photo(update, context, msg)
        return
    # An album's parts arrive as separate updates and are processed side by side; its one receipt
    # waits until no part is still downloading or being detected (a slow part must not split it).
    key = str(msg.media_group_id)
    pending: dict[str, int] = context.chat_data.setdefault("album_pending", {})  # type: ignore[union-attr]
    pending[key] = pending.get(key, 0) + 1
    _cancel_album_receipt(context, msg.chat_id, key)
    try:
        await _take_photo(update, context, msg)
    finally:
        pending[key] -= 1
        if pending[key] == 0:
            del pending[key]
            _schedule_album_receipt(context, msg, key, language_of(update, context))


async def _take_photo(update: Update, context: ContextTypes.DEFAULT_TYPE, msg: Message) -> None:
    lang = language_of(update, context)
    is_document = not msg.photo
    media = msg.document if is_document else msg.photo[-1]
    if media is None:
        return
    if is_document and not _is_image_document(msg):
        key = "error.video" if _is_video(msg) else "error.not_image"
        await msg.reply_text(t(lang, key))
        return
    if media.file_size and media.file_size > MAX_DOWNLOAD:
        await msg.reply_text(t(lang, "error.file_too_big"))
        return
    try:
        tg_file = await context.bot.get_file(media.file_id)
        data = bytes(await tg_file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("download of %s failed: %s", media.file_id, exc)
        key = "error.file_too_big" if "too big" in str(exc).lower() else "error.download"
        await msg.reply_text(t(lang, key))
        return
    svc = services(context)
    intake = PhotoIntake(
        data=data,
        ranger=ranger_of(update),
        received_at=msg.date,
        chat_id=msg.chat_id,
        message_id=msg.message_id,
        caption=msg.caption,
        media_group_id=msg.media_group_id,
        is_document=is_document,
        forwarded_at=msg.forward_origin.date if msg.forward_origin else None,
    )
    try:
        receipt = await svc.sightings.record_photo(intake)
    except SightingError as exc:
        key = f"error.{exc.reason}" if exc.reason in ("not_image", "too_large", "empty") else "error.corrupt"
        await msg.reply_text(t(lang, key))
        return
    if receipt.event_id:
        kick_outbox(context)
    if msg.media_group_id:
        albums: dict[str, list[Receipt]] = context.chat_data.setdefault("albums", {})  # type: ignore[union-attr]
        albums.setdefault(str(msg.media_group_id), []).append(receipt)
    else:
        await msg.reply_text(
            receipt_text(lang, receipt, svc.settings.pairing_minutes),
            parse_mode=ParseMode.HTML,
            reply_markup=escalate_keyboard(lang, [receipt]),
        )


def _is_image_document(msg: Message) -> bool:
    doc = msg.document
    if doc is None:
        return False
    name = (doc.file_name or "").lower()
    return (doc.mime_type or "").startswith("image/") or name.endswith(IMAGE_EXTENSIONS)


def _is_video(msg: Message) -> bool:
    doc = msg.document
    return bool(
        doc
        and (
            (doc.mime_type or "").startswith("video/")
            or (doc.file_name or "").lower().endswith((".mp4", ".mov", ".avi"))
        )
    )


def _cancel_album_receipt(context: ContextTypes.DEFAULT_TYPE, chat_id: int, key: str) -> None:
    for job in context.job_queue.get_jobs_by_name(f"album:{chat_id}:{key}"):  # type: ignore[union-attr]
        job.schedule_removal()


def _schedule_album_receipt(context: ContextTypes.DEFAULT_TYPE, msg: Message, key: str, lang: str) -> None:
    """Answer once, when no more parts arrive for a little while (Telegram sends them one by one)."""
    _cancel_album_receipt(context, msg.chat_id, key)
    name = f"album:{msg.chat_id}:{key}"
    context.job_queue.run_once(  # type: ignore[union-attr]
        _album_receipt,
        ALBUM_WAIT_SECONDS,
        chat_id=msg.chat_id,
        name=name,
        data={"key": key, "lang": lang, "reply_to": msg.message_id},
    )


async def _album_receipt(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    assert job is not None and job.chat_id is not None
    data = job.data
    albums: dict[str, list[Receipt]] = context.chat_data.get("albums", {})  # type: ignore[union-attr]
    receipts = albums.pop(data["key"], [])  # type: ignore[index]
    if not receipts:
        return
    svc = services(context)
    lang = data["lang"]  # type: ignore[index]
    lines = [t(lang, "receipt.album", count=len(receipts))]
    lines += [receipt_text(lang, r, svc.settings.pairing_minutes, ask=False) for r in receipts]
    if any(r.awaiting_location and not r.duplicate for r in receipts):
        lines.append(t(lang, "receipt.ask_location", minutes=svc.settings.pairing_minutes))
    await context.bot.send_message(
        job.chat_id,
        "\n".join(lines),
        parse_mode=ParseMode.HTML,
        reply_markup=escalate_keyboard(lang, receipts),
    )
