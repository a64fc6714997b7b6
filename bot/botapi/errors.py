"""What a Bot API error means for a message to a group: wait, retry, follow the group, hold until the
bot may speak there again, or give up.

The outbox (alerts) and the weekly summaries both send to groups and must react alike. The texts are
Telegram's own ("Bad Request: TOPIC_CLOSED", "Forbidden: bot was kicked from the supergroup chat",
"Bad Request: not enough rights to send text messages to the chat": tdlib's permission check, which
telegram-bot-api passes on); PTB keeps only the part after "Bad Request: " / "Forbidden: ", lower-cased
here before matching. Two answers are not failures at all (is_noise): "message is not modified" (a
double tap edits a message into what it already is) and "message to edit not found" (someone deleted
the message: there is nothing left to change).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from telegram import Bot, ChatMember, ChatMemberRestricted
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning


class Fate(Enum):
    RETRY = "retry"  # network, 5xx, timeouts: back off and try again
    WAIT = "wait"  # 429: try again after retry_after, not sooner
    MIGRATED = "migrated"  # the group is a supergroup now: move it, send there at once
    TOPIC_GONE = "topic_gone"  # the registered topic is closed or deleted: fall back to General
    TOPIC_CLOSED = "topic_closed"  # General itself is closed: nothing to fall back to, keep trying
    NO_MEDIA = "no_media"  # the group forbids photos/files for the bot: send text instead
    CHAT_GONE = "chat_gone"  # kicked, left, chat deleted or not found: deactivate the group
    NOT_MODIFIED = "not_modified"  # an edit that changes nothing: done
    MESSAGE_GONE = "message_gone"  # the message to edit was deleted in the chat: nothing to change
    # The bot is restricted in the group (can_send_messages off): it is still a member and the group
    # still registered, so what it has to say waits, in order, until it may send there again.
    MUTED = "muted"
    REFUSED = "refused"  # any other 400: retrying the same request cannot succeed
    # 401: the token was revoked or changed. Nothing can be sent with it, and the process is stopping
    # (bot/botapi/polling.py): stop sending and keep the message pending for the next start.
    STOP = "stop"


@dataclass(frozen=True)
class Failure:
    fate: Fate
    detail: str
    wait: float = 0.0
    new_chat_id: int | None = None


_TOPIC = ("topic_closed", "topic_deleted", "topic_id_invalid", "message thread not found")
_NO_MEDIA = (
    "not enough rights to send photos",
    "not enough rights to send documents",
    "chat_send_photos_forbidden",
    "chat_send_docs_forbidden",
)
_CHAT_GONE = ("chat not found", "group chat was deleted", "peer_id_invalid")
# A member bot that may not write: tdlib's own check ("not enough rights to send text messages to the
# chat"; before Bot API 6.5 "have no rights to send a message") or the server's CHAT_WRITE_FORBIDDEN.
# A 403 of these words (channels) is a mute too, not a removal.
_MUTED = (
    "not enough rights to send text messages",
    "have no rights to send a message",
    "chat_write_forbidden",
)
_MESSAGE_GONE = ("message to edit not found",)


def classify(exc: TelegramError, *, in_topic: bool = False) -> Failure:
    """in_topic: the request named a message_thread_id (a closed topic then has General to fall back to)."""
    if isinstance(exc, ChatMigrated):
        return Failure(Fate.MIGRATED, f"migrated to {exc.new_chat_id}", new_chat_id=int(exc.new_chat_id))
    if isinstance(exc, RetryAfter):
        wait = retry_seconds(exc)
        return Failure(Fate.WAIT, f"429 retry after {wait:g}", wait=wait)
    if isinstance(exc, InvalidToken):
        return Failure(Fate.STOP, f"401 {exc.message}")
    message = exc.message.lower()
    if isinstance(exc, BadRequest | Forbidden) and any(key in message for key in _MUTED):
        return Failure(Fate.MUTED, f"{403 if isinstance(exc, Forbidden) else 400} {exc.message}")
    if isinstance(exc, Forbidden):
        # Every 403 to a group means the bot cannot write there until someone acts.
        return Failure(Fate.CHAT_GONE, f"403 {exc.message}")
    if isinstance(exc, BadRequest):
        if "not modified" in message:
            return Failure(Fate.NOT_MODIFIED, exc.message)
        if any(key in message for key in _MESSAGE_GONE):
            return Failure(Fate.MESSAGE_GONE, f"400 {exc.message}")
        if any(key in message for key in _TOPIC):
            fate = Fate.TOPIC_GONE if in_topic else Fate.TOPIC_CLOSED
            return Failure(fate, f"400 {exc.message}")
        if any(key in message for key in _NO_MEDIA):
            return Failure(Fate.NO_MEDIA, f"400 {exc.message}")
        if any(key in message for key in _CHAT_GONE):
            return Failure(Fate.CHAT_GONE, f"400 {exc.message}")
        return Failure(Fate.REFUSED, f"400 {exc.message}")
    return Failure(Fate.RETRY, f"{type(exc).__name__}: {exc.message}")


def is_noise(exc: BaseException) -> bool:
    """An answer that means the edit is done or moot, not that something went wrong: a double tap
    ("message is not modified") or a message deleted in the chat ("message to edit not found")."""
    if not isinstance(exc, TelegramError):
        return False
    return classify(exc).fate in (Fate.NOT_MODIFIED, Fate.MESSAGE_GONE)


def muted(member: ChatMember) -> bool:
    """The bot's membership says it may not send messages (restricted, still a member)."""
    return isinstance(member, ChatMemberRestricted) and member.is_member and not member.can_send_messages


async def refine(bot: Bot, chat_id: int, failure: Failure) -> Failure:
    """A media refusal to a bot that may send nothing at all is a mute, not the group's rule on media
    (a muted bot's photo is refused first): ask Telegram (getChatMember) which it is, so that the alert
    waits as a photo rather than going out as text, and a summary's map is not dropped for good. If
    the question fails too, the answer stands as it was."""
    if failure.fate is not Fate.NO_MEDIA:
        return failure
    try:
        member = await bot.get_chat_member(chat_id, bot.id)
    except TelegramError:
        return failure
    return Failure(Fate.MUTED, failure.detail) if muted(member) else failure


def retry_seconds(exc: RetryAfter) -> float:
    # PTB 22 warns that retry_after becomes a timedelta in v23; accept both without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
