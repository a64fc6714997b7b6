"""Validation of reply_markup, rejecting what Telegram rejects (oversized callback_data, bare buttons)."""

from __future__ import annotations

from typing import Any

from .errors import bad_request

_INLINE_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
_MARKUP_KINDS = ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply")


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not _INLINE_ACTIONS & button.keys():
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    # The 64-byte limit is in UTF-8 bytes; long IDs packed into callback_data break here in production.
    if data is not None and (not isinstance(data, str) or not 1 <= len(data.encode()) <= 64):
        raise bad_request("BUTTON_DATA_INVALID")


def validate_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict) or not any(kind in markup for kind in _MARKUP_KINDS):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for key in ("inline_keyboard", "keyboard"):
        if key not in markup:
            continue
        rows = markup[key]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                f'field "{key}" of the {"Inline" if key[0] == "i" else "Reply"}KeyboardMarkup '
                "must be an Array of Arrays"
            )
        if key == "inline_keyboard":
            for row in rows:
                for button in row:
                    _check_inline_button(button)
    return markup


def callback_data_of(markup: dict[str, Any] | None) -> list[str]:
    if not markup:
        return []
    return [
        button["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]
