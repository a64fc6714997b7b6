"""Bot API methods that create messages: sendMessage, sendPhoto, sendDocument, sendMediaGroup, ..."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from .errors import ApiError, bad_request
from .files import image_size, video_props
from .markup import validate_markup
from .params import Upload, optional_str
from .registry import api_method
from .state import World, inline_only
from .textfmt import format_text, utf16_len

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_PHOTO = 10 * 1024 * 1024  # sendPhoto's own limit; bigger images must go as documents
_MEDIA_GROUP_IDS = itertools.count(13_000_000_000_000_001)
_KIND_NAMES = {
    "photo": "Photo",
    "document": "Document",
    "thumbnail": "Photo",
    "video": "Video",
    "video_note": "VideoNote",
    "animation": "Animation",
}


def target_chat(world: World, params: dict[str, Any]) -> dict[str, Any]:
    chat = world.resolve_chat(params.get("chat_id"))
    world.check_can_send(chat)
    return chat


def reply_target(world: World, chat: dict[str, Any], params: dict[str, Any]) -> dict[str, Any] | None:
    reply = params.get("reply_parameters") or {}
    message_id = reply.get("message_id", params.get("reply_to_message_id"))
    if message_id is None:
        return None
    reply_chat = world.resolve_chat(reply["chat_id"]) if "chat_id" in reply else chat
    target = world.reply_copy(reply_chat["id"], message_id)
    if target is None and not (
        reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply")
    ):
        raise bad_request("message to be replied not found")
    return target


def caption_content(params: dict[str, Any]) -> dict[str, Any]:
    caption = optional_str(params, "caption")
    if not caption:
        return {}
    text, entities = format_text(caption, optional_str(params, "parse_mode"), params.get("caption_entities"))
    if utf16_len(text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    content: dict[str, Any] = {"caption": text} if text else {}
    if entities:
        content["caption_entities"] = entities
    return content


def finish_send(
    world: World,
    method: str,
    chat: dict[str, Any],
    params: dict[str, Any],
    content: dict[str, Any],
    *,
    reply_to: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build, store and record one bot-sent message; returns the API-shaped copy."""
    markup = validate_markup(params.get("reply_markup"))
    thread = world.check_send_rights(chat, method, params)
    message = world.new_message(chat, world.bot_user, None)
    if thread:
        message["message_thread_id"] = thread
        message["is_topic_message"] = True
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    message.update(content)
    if params.get("has_spoiler"):
        message["has_media_spoiler"] = True
    if inline_only(markup):
        message["reply_markup"] = copy.deepcopy(markup)
    world.record_sent(method, message, copy.deepcopy(markup))
    return world.store(message)


def resolve_file(world: World, value: Any, kind: str, params: dict[str, Any]) -> Any:
    """Turn an upload, attach:// reference or file_id into the media object a message carries."""
    if isinstance(value, str) and value.startswith("attach://"):
        value = params.get(value.removeprefix("attach://"))
        if not isinstance(value, Upload):
            raise bad_request("can't parse InputMedia: media not found")
    if value is None or value == "":
        raise bad_request(f"there is no {kind} in the request")
    if isinstance(value, Upload):
        if not value.data:
            raise bad_request("file must be non-empty")
        if len(value.data) > world.upload_limit:
            raise ApiError(413)
        if kind == "photo":
            if len(value.data) > MAX_PHOTO:
                raise bad_request("PHOTO_SAVE_FILE_INVALID")
            dims = image_size(value.data)
            if dims is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            # Telegram's photo limits; panoramas from some trap cameras exceed the 20:1 ratio.
            if sum(dims) > 10_000 or max(dims) > 20 * min(dims):
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
            return world.files.add_photo(value.data)
        return world.files.add_document(value.data, value.filename, value.content_type)
    if not isinstance(value, str):
        raise bad_request(f"there is no {kind} in the request")
    stored = world.files.get(value)
    if stored is None:
        # URLs are valid in the real API, but the emulator is offline and cannot fetch them.
        raise bad_request("wrong file identifier/HTTP URL specified")
    stored_kind = "photo" if stored.kind == "thumbnail" else stored.kind
    if stored_kind != kind:
        raise bad_request(f"can't use file of type {_KIND_NAMES[stored.kind]} as {_KIND_NAMES[kind]}")
    if stored.kind == "thumbnail":
        return [copy.deepcopy(stored.media)]
    return copy.deepcopy(stored.media)


@api_method("sendMessage")
async def send_message(world: World, params: dict[str, Any]) -> dict[str, Any]:
    chat = target_chat(world, params)
    raw = optional_str(params, "text")
    if not raw:
        raise bad_request("message text is empty")
    text, entities = format_text(raw, optional_str(params, "parse_mode"), params.get("entities"))
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    if params.get("link_preview_options"):
        content["link_preview_options"] = params["link_preview_options"]
    return finish_send(
        world, "sendMessage", chat, params, content, reply_to=reply_target(world, chat, params)
    )


@api_method("sendPhoto")
async def send_photo(world: World, params: dict[str, Any]) -> dict[str, Any]:
    chat = target_chat(world, params)
    reply_to = reply_target(world, chat, params)
    content = {"photo": resolve_file(world, params.get("photo"), "photo", params), **caption_content(params)}
    return finish_send(world, "sendPhoto", chat, params, content, reply_to=reply_to)


@api_method("sendDocument")
async def send_document(world: World, params: dict[str, Any]) -> dict[str, Any]:
    chat = target_chat(world, params)
    reply_to = reply_target(world, chat, params)
    document = resolve_file(world, params.get("document"), "document", params)
    content = {"document": document, **caption_content(params)}
    return finish_send(world, "sendDocument", chat, params, content, reply_to=reply_to)


def _location(params: dict[str, Any]) -> dict[str, Any]:
    location: dict[str, Any] = {}
    for key in ("latitude", "longitude"):
        value = params.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise bad_request(f'parameter "{key}" is required')
        location[key] = float(value)
    if not (-90 <= location["latitude"] <= 90 and -180 <= location["longitude"] <= 180):
        raise bad_request("wrong latitude or longitude specified")
    for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        if params.get(key) is not None:
            location[key] = params[key]
    return location


def _video_content(world: World, params: dict[str, Any]) -> dict[str, Any]:
    """What sendVideo's message carries. An upload Telegram cannot play as MPEG-4 goes out as a
    Document ("other formats may be sent as Document", the Bot API docs)."""
    value = params.get("video")
    if not isinstance(value, Upload):
        return {"video": resolve_file(world, value, "video", params)}
    if not value.data:
        raise bad_request("file must be non-empty")
    if len(value.data) > world.upload_limit:
        raise ApiError(413)
    probed = video_props(value.data)
    if probed is None or not probed[3]:
        return {"document": world.files.add_document(value.data, value.filename, value.content_type)}
    width, height, duration = probed[:3]
    # What the bot says about its clip, where it says it (Telegram takes these over its own reading).
    given = [params.get(key) for key in ("width", "height", "duration")]
    ints = [v for v in given if isinstance(v, int) and not isinstance(v, bool)]
    if len(ints) == 3:
        width, height, duration = ints
    name = value.filename if value.filename and value.filename != "video" else None
    props = (width, height, duration)
    return {"video": world.files.add_video(value.data, "video", file_name=name, props=props)}


@api_method("sendVideo")
async def send_video(world: World, params: dict[str, Any]) -> dict[str, Any]:
    chat = target_chat(world, params)
    reply_to = reply_target(world, chat, params)
    content = {**_video_content(world, params), **caption_content(params)}
    return finish_send(world, "sendVideo", chat, params, content, reply_to=reply_to)


@api_method("sendLocation")
async def send_location(world: World, params: dict[str, Any]) -> dict[str, Any]:
    chat = target_chat(world, params)
    reply_to = reply_target(world, chat, params)
    return finish_send(
        world, "sendLocation", chat, params, {"location": _location(params)}, reply_to=reply_to
    )


@api_method("sendVenue")
async def send_venue(world: World, params: dict[str, Any]) -> dict[str, Any]:
    chat = target_chat(world, params)
    reply_to = reply_target(world, chat, params)
    location = _location(params)
    title, address = optional_str(params, "title"), optional_str(params, "address")
    if not title or not address:
        raise bad_request("venue title and address must be non-empty")
    venue = {"location": location, "title": title, "address": address}
    # Telegram fills the plain location field of venue messages too, for older clients.
    return finish_send(
        world, "sendVenue", chat, params, {"venue": venue, "location": location}, reply_to=reply_to
    )


@api_method("sendMediaGroup")
async def send_media_group(world: World, params: dict[str, Any]) -> list[dict[str, Any]]:
    chat = target_chat(world, params)
    media = params.get("media")
    if media is None:
        raise bad_request('parameter "media" is required')
    if not isinstance(media, list) or not all(isinstance(item, dict) for item in media):
        raise bad_request("can't parse media JSON object")
    if not media:
        raise bad_request("media to send are not specified")
    if len(media) > 10:
        raise bad_request("too much messages to send as an album")
    kinds = {item.get("type") for item in media}
    if "document" in kinds and kinds != {"document"}:
        raise bad_request("document can't be mixed with other media types")
    unsupported = kinds - {"photo", "document"}
    if unsupported:
        raise bad_request(f"emulator does not support media type {sorted(map(str, unsupported))}")
    reply_to = reply_target(world, chat, params)
    # Resolve everything before sending anything: a bad item must not leave half an album behind.
    contents = []
    for item in media:
        kind = item["type"]
        content = {kind: resolve_file(world, item.get("media"), kind, params), **caption_content(item)}
        if item.get("has_spoiler"):
            content["has_media_spoiler"] = True
        contents.append(content)
    group_id = str(next(_MEDIA_GROUP_IDS))
    base = {k: v for k, v in params.items() if k != "reply_markup"}
    return [
        finish_send(
            world, "sendMediaGroup", chat, base, {"media_group_id": group_id, **content}, reply_to=reply_to
        )
        for content in contents
    ]
