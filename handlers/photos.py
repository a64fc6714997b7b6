"""Photos and image documents from rangers: download -> Sightings.record_photo -> receipt; edited captions.

Albums (photos and videos mixed, handlers/videos.py) get one receipt: take_part and answer."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import Document, Message, PhotoSize, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.geo import format_point
from bot.intake import Edit, Receipt, SightingError, receipt_text
from bot.services import services
from bot.text import t
from handlers.common import file_unique_id, intake_of, kick_outbox, language_of, reader
from handlers.escalations import escalate_keyboard
from handlers.runtime import Runtime
from handlers.storage_trouble import download_not_done, photo_not_stored, photo_stored, transient_download
from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)

MAX_DOWNLOAD = 20 * 1024 * 1024  # Bot API getFile limit
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".tif", ".tiff", ".webp")
ALBUM_WAIT_SECONDS = 2.0
# Handles one message of a kind (a photo, a video), alone or as an album's part.
Take = Callable[[Update, ContextTypes.DEFAULT_TYPE, Message], Awaitable[None]]


@dataclass
class PendingAlbum:
    """An album's receipts until its one reply goes out (chat_data["albums"]). Its parts' updates stay
    unfinished in the inbox until then, so a crash before the reply replays them after the restart,
    and the reply goes out then; a graceful stop sends it at once (flush_album_receipts)."""

    lang: str
    receipts: list[Receipt] = field(default_factory=list)
    update_ids: list[int] = field(default_factory=list)


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await take_part(update, context, _take_photo)


async def take_part(update: Update, context: ContextTypes.DEFAULT_TYPE, take: Take) -> None:
    msg = update.effective_message
    if msg is None or update.effective_user is None:
        return
    if msg.media_group_id is None:
        await take(update, context, msg)
        return
    # An album's parts arrive as separate updates and are processed side by side; its one receipt
    # waits until no part is still downloading or being detected (a slow part must not split it).
    key = str(msg.media_group_id)
    pending: dict[str, int] = context.chat_data.setdefault("album_pending", {})  # type: ignore[union-attr]
    pending[key] = pending.get(key, 0) + 1
    _cancel_album_receipt(context, msg.chat_id, key)
    try:
        await take(update, context, msg)
    finally:
        pending[key] -= 1
        if pending[key] == 0:
            del pending[key]
            _schedule_album_receipt(context, msg, key)


async def _take_photo(update: Update, context: ContextTypes.DEFAULT_TYPE, msg: Message) -> None:
    lang = language_of(update, context)
    is_document = not msg.photo
    media = msg.document if is_document else msg.photo[-1]
    if media is None:
        return
    if is_document and not _is_image_document(msg):  # video files went to handlers/videos.py
        await msg.reply_text(t(lang, "error.not_image"))
        return
    data = await _download(update, context, msg, lang, media)
    if data is None:
        return
    svc = services(context)
    intake = intake_of(update, data, is_document=is_document)
    try:
        receipt = await svc.sightings.record_photo(intake)
    except (SightingError, StorageUnavailable) as exc:
        await _not_recorded(update, context, msg, lang, exc)
        return
    await answer(update, context, msg, lang, receipt)


async def _download(
    update: Update, context: ContextTypes.DEFAULT_TYPE, msg: Message, lang: str, media: PhotoSize | Document
) -> bytes | None:
    """The file's bytes, or None once the ranger has been answered (too big, failed, retried later)."""
    if media.file_size and media.file_size > MAX_DOWNLOAD:
        await msg.reply_text(t(lang, "error.file_too_big"))
        return None
    try:
        tg_file = await context.bot.get_file(media.file_id)
        return bytes(await tg_file.download_as_bytearray())
    except TelegramError as exc:
        if transient_download(exc):
            await download_not_done(update, context, msg, lang, exc)
            return None
        log.warning("download of %s failed: %s", media.file_id, exc)
        key = "error.file_too_big" if "too big" in str(exc).lower() else "error.download"
        await msg.reply_text(t(lang, key))
        return None


async def _not_recorded(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    msg: Message,
    lang: str,
    exc: SightingError | StorageUnavailable,
) -> None:
    if isinstance(exc, StorageUnavailable):
        await photo_not_stored(update, context, msg, lang, exc)
        return
    key = f"error.{exc.reason}" if exc.reason in ("not_image", "too_large", "empty") else "error.corrupt"
    await msg.reply_text(t(lang, key))


async def _swap_media(update: Update, context: ContextTypes.DEFAULT_TYPE, msg: Message) -> bool:
    """Telegram lets a sender swap the photo of a sent message: an edited_message, same message_id,
    another file_unique_id. The new file becomes a sighting replacing the old one, which is kept and
    its alerts corrected (bot/intake/replacements.py). False: the same file, only the caption changed."""
    uid, is_document = file_unique_id(msg), not msg.photo
    if uid is None or (is_document and not _is_image_document(msg)):
        return False
    svc = services(context)
    standing = await svc.sightings.standing(msg.chat_id, msg.message_id)
    if standing is None or not standing.swapped(uid):
        return False
    lang = language_of(update, context)
    media = msg.document if is_document else msg.photo[-1]
    data = await _download(update, context, msg, lang, media) if media else None
    if data is None:
        return True
    intake = intake_of(update, data, is_document=is_document)
    intake.received_at = msg.edit_date or msg.date  # the new file reached the bot with the edit
    try:
        receipt = await svc.sightings.replace_photo(standing, intake)
    except (SightingError, StorageUnavailable) as exc:
        await _not_recorded(update, context, msg, lang, exc)
        return True
    if receipt is None:
        return False
    await answer(update, context, msg, lang, receipt)
    return True


async def answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, msg: Message, lang: str, receipt: Receipt
) -> None:
    """A recorded photo or video: alerts go out now, and the ranger's receipt (an album's waits)."""
    photo_stored(context, update)
    if receipt.event_id:
        kick_outbox(context)
    if msg.media_group_id and update.edited_message is None:  # a swapped album part is answered alone
        albums: dict[str, PendingAlbum] = context.chat_data.setdefault("albums", {})  # type: ignore[union-attr]
        album = albums.setdefault(str(msg.media_group_id), PendingAlbum(lang))
        album.lang = lang
        album.receipts.append(receipt)
        album.update_ids.append(update.update_id)
        Runtime.of(context).inbox.defer([update.update_id])
    else:
        audience = await reader(update, context) if receipt.forward else None  # who may read its origin
        sent = await msg.reply_text(
            receipt_text(lang, receipt, services(context).settings.pairing_minutes, audience=audience),
            parse_mode=ParseMode.HTML,
            reply_markup=escalate_keyboard(lang, [receipt]),
        )
        await _note_receipt(context.application, sent, [receipt])


async def _note_receipt(app: Application, sent: Message, receipts: list[Receipt]) -> None:
    """Keep which sightings a receipt is about: a place sent as a reply to it names them. Not kept
    (storage trouble), a reply to the receipt is taken as any place; the ranger can reply to the photo."""
    try:
        ids = [r.sighting_id for r in receipts]
        await services(app).sightings.note_receipt(sent.chat_id, sent.message_id, ids)
    except StorageUnavailable as exc:
        log.warning("receipt %s not kept for replies: %s", sent.message_id, exc)


async def on_caption_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A ranger edited the caption of a photo already sent: it may give that sighting a place."""
    msg = update.edited_message
    if msg is None or await _swap_media(update, context, msg):
        return
    svc = services(context)
    edit = await svc.sightings.place_from_edited_caption(msg.chat_id, msg.message_id, msg.caption)
    if edit.outcome is Edit.NOT_RECORDED:  # not a photo the bot kept (a video, a failed download)
        return
    lang, sid = language_of(update, context), edit.sighting_id
    if edit.outcome is Edit.ADDED and edit.place is not None:
        if edit.event_id:
            kick_outbox(context)
        where = edit.place.station.code if edit.place.station else format_point(edit.place.point)
        text = t(lang, "edit.place_added", id=sid, place=html.escape(where))
    elif edit.outcome is Edit.KEPT:
        text = t(lang, "edit.place_kept", id=sid)
    else:
        unknown = [n.split(":", 1)[1] for n in edit.notes if n.startswith("unknown_station:")]
        if unknown:
            text = t(lang, "error.unknown_station", code=html.escape(unknown[0]))
        elif any(n.startswith("bad_coordinates") for n in edit.notes):
            text = t(lang, "receipt.bad_coordinates")
        else:
            text = t(lang, "edit.no_place", id=sid)
    await msg.reply_text(text, parse_mode=ParseMode.HTML)


def _is_image_document(msg: Message) -> bool:
    doc = msg.document
    if doc is None:
        return False
    name = (doc.file_name or "").lower()
    return (doc.mime_type or "").startswith("image/") or name.endswith(IMAGE_EXTENSIONS)


def _cancel_album_receipt(context: ContextTypes.DEFAULT_TYPE, chat_id: int, key: str) -> None:
    for job in context.job_queue.get_jobs_by_name(f"album:{chat_id}:{key}"):  # type: ignore[union-attr]
        job.schedule_removal()


def _schedule_album_receipt(context: ContextTypes.DEFAULT_TYPE, msg: Message, key: str) -> None:
    """Answer once, when no more parts arrive for a little while (Telegram sends them one by one)."""
    _cancel_album_receipt(context, msg.chat_id, key)
    name = f"album:{msg.chat_id}:{key}"
    context.job_queue.run_once(  # type: ignore[union-attr]
        _album_receipt, ALBUM_WAIT_SECONDS, chat_id=msg.chat_id, name=name, data={"key": key}
    )


async def _album_receipt(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    assert job is not None and job.chat_id is not None
    albums: dict[str, PendingAlbum] = context.chat_data.get("albums", {})  # type: ignore[union-attr]
    album = albums.pop(job.data["key"], None)  # type: ignore[index]
    if album is not None and album.receipts:
        await _send_album_receipt(context.application, job.chat_id, album)


async def flush_album_receipts(app: Application) -> int:
    """At shutdown (post_stop): send the receipts still waiting out an album's quiet period, whose
    JobQueue jobs Application.stop dropped. It runs after every in-flight update was handled and
    while the bot can still send. Returns how many went out."""
    sent = 0
    for chat_id, chat_data in list(app.chat_data.items()):
        albums: dict[str, PendingAlbum] = chat_data.get("albums") or {}
        for key in list(albums):
            album = albums.pop(key)
            if not album.receipts:
                continue
            try:
                await _send_album_receipt(app, chat_id, album)
            except Exception:  # shutdown goes on; the parts stay unfinished and the restart answers
                log.exception("album receipt to chat %s not sent at shutdown; next start sends it", chat_id)
                continue
            sent += 1
    return sent


async def _send_album_receipt(app: Application, chat_id: int, album: PendingAlbum) -> None:
    svc = services(app)
    lang, receipts = album.lang, album.receipts
    await svc.sightings.refresh_places(receipts)  # parts placed by a caption read after their receipt
    videos = sum(r.media != "photo" for r in receipts)
    if videos:
        lines = [t(lang, "receipt.album_videos", count=len(receipts), videos=videos)]
    else:
        lines = [t(lang, "receipt.album", count=len(receipts))]
    lines += [receipt_text(lang, r, svc.settings.pairing_minutes, ask=False) for r in receipts]
    if any(r.awaiting_location and not r.duplicate and r.forward is None for r in receipts):
        lines.append(t(lang, "receipt.ask_location", minutes=svc.settings.pairing_minutes))
    sent = await app.bot.send_message(
        chat_id,
        "\n".join(lines),
        parse_mode=ParseMode.HTML,
        reply_markup=escalate_keyboard(lang, receipts),
    )
    await _note_receipt(app, sent, receipts)
    # Answered: the album's updates are finished. Should this fail, a restart replays them and answers
    # again (at least once: a receipt may repeat, a photo is never recorded twice).
    inbox = Runtime.of(app).inbox
    inbox.undefer(album.update_ids)
    for update_id in album.update_ids:
        await inbox.done(update_id)
