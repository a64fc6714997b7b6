"""Bot API methods that do not create messages: updates, webhook, commands, chats, files, callbacks."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from .errors import ApiError, bad_request
from .files import MAX_DOWNLOAD_BYTES
from .params import optional_str, require_int
from .registry import api_method
from .state import World

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
_CONFLICT_HOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_CONFLICT_SET_HOOK = "Conflict: terminated by setWebhook request"  # telegram-bot-api, to a waiting poll


@api_method("getMe")
async def get_me(world: World, params: dict[str, Any]) -> dict[str, Any]:
    return {
        **world.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": not world.group_privacy,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api_method("getUpdates")
async def get_updates(world: World, params: dict[str, Any]) -> list[dict[str, Any]]:
    if world.webhook_url:
        raise ApiError(409, _CONFLICT_HOOK)
    limit = min(max(int(params.get("limit") or 100), 1), 100)
    timeout = max(float(params.get("timeout") or 0), 0.0)
    if isinstance(params.get("allowed_updates"), list):
        world.allowed_updates = params["allowed_updates"]
    offset = params.get("offset")
    world.confirm(offset if isinstance(offset, int) else None)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    token = world.token
    async with world.update_cond:
        # A newer poll ends this one with 409, as Telegram does when two bot instances compete.
        world.poll_generation += 1
        generation = world.poll_generation
        world.update_cond.notify_all()
        while True:
            if world.token != token:  # revoked in @BotFather while this poll waited
                raise ApiError(401)
            if world.webhook_url:
                raise ApiError(409, _CONFLICT_SET_HOOK)
            if generation != world.poll_generation:
                raise ApiError(409, _CONFLICT_POLL)
            batch = world.take_deliverable(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or world.closing:
                return batch
            try:
                await asyncio.wait_for(world.update_cond.wait(), remaining)
            except TimeoutError:
                pass


@api_method("setWebhook")
async def set_webhook(world: World, params: dict[str, Any]) -> bool:
    # Stored so getUpdates conflicts like the real API; nothing is ever POSTed to the URL.
    world.webhook_url = optional_str(params, "url") or ""
    if params.get("drop_pending_updates"):
        world.drop_pending()
    async with world.update_cond:
        world.update_cond.notify_all()  # a waiting poll ends: "terminated by setWebhook request"
    return True


@api_method("deleteWebhook")
async def delete_webhook(world: World, params: dict[str, Any]) -> bool:
    world.webhook_url = ""
    if params.get("drop_pending_updates"):
        world.drop_pending()
    return True


@api_method("getWebhookInfo")
async def get_webhook_info(world: World, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": world.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }


@api_method(
    "logOut",
    "close",
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setChatMenuButton",
    "setMyDefaultAdministratorRights",
    "pinChatMessage",
    "unpinChatMessage",
)
async def accept(world: World, params: dict[str, Any]) -> bool:
    return True


def _commands_key(params: dict[str, Any]) -> str:
    scope = params.get("scope")
    if scope is not None and (not isinstance(scope, dict) or "type" not in scope):
        raise bad_request("can't parse BotCommandScope JSON object")
    return World.scope_key(scope, optional_str(params, "language_code"))


@api_method("setMyCommands")
async def set_my_commands(world: World, params: dict[str, Any]) -> bool:
    commands = params.get("commands")
    if not isinstance(commands, list):
        raise bad_request('parameter "commands" is required')
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("command description must be non-empty")
    world.commands[_commands_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


@api_method("getMyCommands")
async def get_my_commands(world: World, params: dict[str, Any]) -> list[dict[str, Any]]:
    return list(world.commands.get(_commands_key(params), []))


@api_method("deleteMyCommands")
async def delete_my_commands(world: World, params: dict[str, Any]) -> bool:
    world.commands.pop(_commands_key(params), None)
    return True


@api_method("sendChatAction")
async def send_chat_action(world: World, params: dict[str, Any]) -> bool:
    chat = world.resolve_chat(params.get("chat_id"))
    world.check_can_send(chat)
    if params.get("action") not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


@api_method("getChat")
async def get_chat(world: World, params: dict[str, Any]) -> dict[str, Any]:
    chat = world.resolve_chat(params.get("chat_id"))
    gifts = dict.fromkeys(
        ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"),
        False,
    )
    return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}


def member_object(user: dict[str, Any], status: str, extra: dict[str, Any]) -> dict[str, Any]:
    """ChatMember with the fields PTB requires for each status filled with plausible defaults."""
    defaults: dict[str, dict[str, Any]] = {
        "creator": {"is_anonymous": False},
        "administrator": dict.fromkeys(
            (
                "can_be_edited",
                "is_anonymous",
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
            ),
            False,
        ),
        "restricted": {
            **dict.fromkeys(
                (
                    "is_member",
                    "can_send_messages",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                    "can_send_polls",
                    "can_send_other_messages",
                    "can_add_web_page_previews",
                    "can_react_to_messages",
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_manage_topics",
                    "can_edit_tag",
                ),
                False,
            ),
            "until_date": 0,
        },
        "kicked": {"until_date": 0},
    }
    return {"status": status, "user": dict(user), **defaults.get(status, {}), **extra}


@api_method("getChatMember")
async def get_chat_member(world: World, params: dict[str, Any]) -> dict[str, Any]:
    chat = world.resolve_chat(params.get("chat_id"))
    user_id = require_int(params, "user_id", "user_id is empty")
    stored = world.members.get((chat["id"], user_id))
    if stored is not None:
        return dict(stored)
    if user_id == world.bot_user["id"]:
        status = "member" if chat["type"] == "private" or chat["id"] in world.bot_chats else "left"
        return member_object(world.bot_user, status, {})
    user = world.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    return member_object(user, "member", {})


@api_method("leaveChat")
async def leave_chat(world: World, params: dict[str, Any]) -> bool:
    chat = world.resolve_chat(params.get("chat_id"))
    if chat["type"] == "private":
        raise bad_request("chat member status can't be changed in private chats")
    world.bot_chats.discard(chat["id"])
    return True


@api_method("getFile")
async def get_file(world: World, params: dict[str, Any]) -> dict[str, Any]:
    file_id = optional_str(params, "file_id")
    stored = world.files.get(file_id) if file_id else None
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    return world.files.file_object(stored)


@api_method("answerCallbackQuery")
async def answer_callback_query(world: World, params: dict[str, Any]) -> bool:
    query_id = optional_str(params, "callback_query_id")
    if (
        not query_id
        or query_id not in world.callback_queries
        or query_id in world.callback_answers
        or world.callback_expired(query_id)
    ):
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = optional_str(params, "text") or ""
    if len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    world.callback_answers[query_id] = {k: v for k, v in params.items() if k != "callback_query_id"}
    return True
