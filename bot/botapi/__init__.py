"""Our side of the Bot API: the inbox of updates, the senders of alerts, notices and summaries, and what each
error means."""

from bot.botapi.errors import is_noise
from bot.botapi.inbox import Inbox, InboxBot
from bot.botapi.keyboards import review_keyboard
from bot.botapi.notices import NoticeSender
from bot.botapi.outbox import OutboxSender
from bot.botapi.polling import heartbeat_status
from bot.botapi.summaries import Outcome, deliver

__all__ = [
    "Inbox",
    "InboxBot",
    "NoticeSender",
    "OutboxSender",
    "Outcome",
    "deliver",
    "heartbeat_status",
    "is_noise",
    "review_keyboard",
]
