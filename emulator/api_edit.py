"""Bot API methods that change or remove existing messages."""

from __future__ import annotations

import copy
from typing import Any

from .api_send import MAX_TEXT, caption_content
from .errors import bad_request
from .markup import validate_markup
from .params import optional_str, require_int
from .registry import api_method
from .state import World, inline_only
from .textfmt import format_text, utf16_len

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
_MEDIA_KEYS = ("photo", "document", "video", "audio", "animation", "voice")


def _editable(world: World, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("inline_message_id"):
        # Inline mode is not emulated; no inline message can exist here.
        raise bad_request("message to edit not found")
    chat = world.resolve_chat(params.get("chat_id"))
    world.check_can_send(chat)
    message_id = require_int(params, "message_id", "message identifier is not specified")
    message = world.find(chat["id"], message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if message.get("from", {}).get("id") != world.bot_user["id"]:
        raise bad_request("message can't be edited")
    return message


def _apply(
    world: World, message: dict[str, Any], changes: dict[str, Any], markup: dict[str, Any] | None
) -> dict[str, Any]:
    """Replace content fields (None removes one) and the markup; refuse no-op edits like Telegram."""
    record = world.record_for(message["chat"]["id"], message["message_id"])
    old_markup = record.markup if record else message.get("reply_markup")
    unchanged = all(message.get(key) == value for key, value in changes.items())
    if unchanged and inline_only(old_markup) == inline_only(markup):
        raise bad_request(_NOT_MODIFIED)
    for key, value in changes.items():
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
    message.pop("reply_markup", None)
    if inline_only(markup):
        message["reply_markup"] = copy.deepcopy(markup)
    message["edit_date"] = world.now()
    if record is not None:
        record.markup = copy.deepcopy(markup)
    return copy.deepcopy(message)


@api_method("editMessageText")
async def edit_message_text(world: World, params: dict[str, Any]) -> dict[str, Any]:
    message = _editable(world, params)
    raw = optional_str(params, "text")
    if not raw:
        raise bad_request("message text is empty")
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    text, entities = format_text(raw, optional_str(params, "parse_mode"), params.get("entities"))
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    markup = validate_markup(params.get("reply_markup"))
    return _apply(world, message, {"text": text, "entities": entities or None}, markup)


@api_method("editMessageCaption")
async def edit_message_caption(world: World, params: dict[str, Any]) -> dict[str, Any]:
    message = _editable(world, params)
    if not any(key in message for key in _MEDIA_KEYS):
        raise bad_request("there is no caption in the message to edit")
    content = caption_content(params)
    markup = validate_markup(params.get("reply_markup"))
    changes = {"caption": content.get("caption"), "caption_entities": content.get("caption_entities")}
    return _apply(world, message, changes, markup)


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(world: World, params: dict[str, Any]) -> dict[str, Any]:
    message = _editable(world, params)
    markup = validate_markup(params.get("reply_markup"))
    if markup is not None and not inline_only(markup):
        raise bad_request("inline keyboard expected")
    return _apply(world, message, {}, markup)


@api_method("deleteMessage")
async def delete_message(world: World, params: dict[str, Any]) -> bool:
    chat = world.resolve_chat(params.get("chat_id"))
    message_id = require_int(params, "message_id", "message identifier is not specified")
    if not world.delete(chat["id"], message_id):
        raise bad_request("message to delete not found")
    return True


@api_method("deleteMessages")
async def delete_messages(world: World, params: dict[str, Any]) -> bool:
    chat = world.resolve_chat(params.get("chat_id"))
    ids = params.get("message_ids")
    if not isinstance(ids, list) or not ids:
        raise bad_request("message identifiers are not specified")
    # Telegram silently skips messages that cannot be deleted here.
    for message_id in ids:
        world.delete(chat["id"], message_id)
    return True
