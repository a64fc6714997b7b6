"""Turns an HTTP request into one typed parameter dict, whatever encoding the client chose.

The Bot API accepts query strings, urlencoded forms, JSON bodies and multipart. Form-style encodings
carry every value as a string (PTB JSON-encodes nested objects and numbers), so known fields are
decoded here once and handlers can rely on real types.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from .errors import ApiError, bad_request

_JSON_KEYS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "entities",
        "caption_entities",
        "media",
        "message_ids",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "permissions",
        "menu_button",
    }
)
_INT_KEYS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "from_chat_id",
        "reply_to_message_id",
        "user_id",
        "cache_time",
        "message_thread_id",
        "live_period",
        "heading",
        "proximity_alert_radius",
        "max_connections",
        "until_date",
        "duration",
        "width",
        "height",
    }
)
_FLOAT_KEYS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
_BOOL_KEYS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "show_caption_above_media",
        "has_spoiler",
        "disable_content_type_detection",
        "disable_web_page_preview",
        "allow_paid_broadcast",
        "revoke_messages",
        "supports_streaming",
    }
)
_INT_RE = re.compile(r"-?\d+")


@dataclass(frozen=True)
class Upload:
    """One multipart file part; kept in the params dict under its part name."""

    name: str
    filename: str
    content_type: str
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Upload({self.name!r}, {self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


def _decode_json(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        if key == "reply_markup":
            raise bad_request("can't parse reply keyboard markup JSON object") from exc
        raise bad_request(f"can't parse {key} JSON object") from exc


def _coerce(key: str, value: Any) -> Any:
    if key in _JSON_KEYS:
        return _decode_json(key, value)
    if not isinstance(value, str):
        return value
    if (key in _INT_KEYS or key.endswith("chat_id")) and _INT_RE.fullmatch(value):
        return int(value)
    if key in _FLOAT_KEYS:
        try:
            return float(value)
        except ValueError:
            return value
    if key in _BOOL_KEYS:
        return value.strip().lower() in {"true", "1"}
    return value


async def read_params(request: web.Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise bad_request("can't parse JSON object") from exc
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            raw.update(body)
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    data = bytes(await part.read())
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    raw[part.name] = Upload(part.name, part.filename, content_type, data)
                else:
                    raw[part.name] = await part.text()
        elif ctype == "application/x-www-form-urlencoded":
            raw.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    return {key: _coerce(key, value) for key, value in raw.items()}


def require_int(params: dict[str, Any], key: str, missing: str) -> int:
    value = params.get(key)
    if value is None or value == "":
        raise bad_request(missing)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"invalid {key} specified")
    return value


def optional_str(params: dict[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f'Bad Request: field "{key}" must be of type String')
    return value
