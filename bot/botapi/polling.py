"""How the connection to Telegram is doing: one log line when polling starts failing, one when it works
again, instead of a traceback for every retry of an outage.

PTB's polling loop retries a failed getUpdates with a growing pause (up to 30 s) and hands each failure
to the application's error handler; during a night without signal that was a traceback every 30 s in
the journal. The first failure of a kind is a WARNING, the ones after it DEBUG, and the first answer
after them says how long it lasted.
"""

from __future__ import annotations

import logging
import time

from telegram.error import TelegramError

log = logging.getLogger(__name__)


class PollingHealth:
    def __init__(self) -> None:
        self.failing: str | None = None  # the kind of the failure going on, if any
        self.failures = 0
        self._since = 0.0

    def failed(self, exc: TelegramError) -> None:
        kind = type(exc).__name__
        if kind != self.failing:
            log.warning("cannot get updates from Telegram (%s: %s); retrying, quietly", kind, exc.message)
            if self.failing is None:
                self._since = time.monotonic()
        else:
            log.debug("still cannot get updates from Telegram (%s: %s)", kind, exc.message)
        self.failing = kind
        self.failures += 1

    def answered(self) -> None:
        if self.failing is None:
            return
        minutes = (time.monotonic() - self._since) / 60
        log.warning(
            "Telegram answers again (after %d failed attempts over %.1f min, %s)",
            self.failures, minutes, self.failing,
        )  # fmt: skip
        self.failing, self.failures = None, 0
