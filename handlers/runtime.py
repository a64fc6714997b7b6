"""PTB-side state the handlers share: one typed holder, context.bot_data["runtime"], beside the services.

Made once by bot/app.py (build_application), before the services exist, so it also carries the settings
and the detector that Services.create gets in post_init. The rest belongs to the running Application,
not to the bot's data: the inbox of updates (with the updates a handler deferred), the storage-retry
schedule (handlers/storage_trouble.py), the lock that keeps a weekly summary from going out twice
(handlers/summaries.py), and the camera mailboxes' pollers and IMAP IDLE watchers (handlers/mailboxes.py).
Handlers reach it with Runtime.of(context), never with a bot_data key of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from telegram.ext import Application, CallbackContext

from bot.botapi import Inbox
from bot.cameras.mail import IdleWatcher, MailPoller
from bot.config import Settings
from bot.detection import Detector

RUNTIME = "runtime"  # the one bot_data key besides "services"
RETRY_FIRST = 60.0  # seconds before deferred photos are tried again
RETRY_LONGEST = 15 * 60.0  # the backoff doubles per round that fails again, up to this


@dataclass
class StorageRetry:
    """Updates deferred because storage failed, and when to queue them again (handlers/storage_trouble.py).
    Times are the event loop's clock."""

    waiting: set[int] = field(default_factory=set)  # to queue again at due_at
    retrying: set[int] = field(default_factory=set)  # queued again, outcome not known yet
    told: set[int] = field(default_factory=set)  # their rangers were told already
    # Downloads Telegram could not serve yet, per update: how many tries failed (handlers/storage_trouble.py).
    download_failures: dict[int, int] = field(default_factory=dict)
    delay: float = field(default_factory=lambda: RETRY_FIRST)
    due_at: float = 0.0
    _backed_off: bool = False  # the current round already doubled the delay

    def failed(self, update_id: int, now: float) -> bool:
        """Note a failure; True the first time for this update (its ranger is then told)."""
        if update_id in self.retrying:
            self.retrying.discard(update_id)
            if not self._backed_off:  # one doubling per round, however many of its photos fail
                self.delay, self._backed_off = min(self.delay * 2, RETRY_LONGEST), True
        if not self.waiting:
            self.due_at = now + self.delay
        self.waiting.add(update_id)
        first = update_id not in self.told
        self.told.add(update_id)
        return first

    def succeeded(self, update_id: int) -> None:
        if update_id in self.retrying:
            self.retrying.discard(update_id)
            self.delay = RETRY_FIRST  # storage is back: a new incident starts from the short wait
        self.told.discard(update_id)

    def take_due(self, now: float) -> list[int]:
        if not self.waiting or now < self.due_at:
            return []
        due = sorted(self.waiting)
        self.waiting.clear()
        self.retrying.update(due)
        self._backed_off = False
        return due

    def put_back(self, update_ids: Iterable[int], now: float) -> None:
        ids = set(update_ids)
        self.retrying -= ids
        self.waiting |= ids
        self.delay = min(self.delay * 2, RETRY_LONGEST)
        self.due_at = now + self.delay


@dataclass
class Runtime:
    """What the handlers share besides the services; Runtime.of(context) reaches it."""

    settings: Settings
    detector: Detector
    inbox: Inbox
    retry: StorageRetry = field(default_factory=StorageRetry)
    summary_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Made at start-up from the services (handlers/mailboxes.py start); watchers only where IDLE is on.
    mail_pollers: dict[str, MailPoller] = field(default_factory=dict)
    mail_watchers: dict[str, IdleWatcher] = field(default_factory=dict)

    @classmethod
    def of(cls, owner: CallbackContext | Application) -> Runtime:
        """The holder, from a handler's or job's context or from the Application."""
        found: Runtime = owner.bot_data[RUNTIME]
        return found
