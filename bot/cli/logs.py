"""Logging for the terminal and the journal: a few lines per event, and never a secret.

Under systemd the log is the journal, which more people read than may control the bot. So:
- httpx logs every request URL at INFO, and a Bot API URL holds the token (`/bot<token>/getUpdates`);
  aiosqlite logs every statement with its parameters at DEBUG (an invite's code): they are kept at
  WARNING whatever LW_LOG_LEVEL says.
- Every record passes a filter that blanks the secrets it knows (the token, the mailbox passwords) and
  anything shaped like a bot token or an invite deep link, in the message, its arguments and the
  formatted traceback. The filter is on the handler, so third-party loggers go through it too.
- PTB logs a network loop it gives up with a traceback (at start-up: the Bot API unreachable, the token
  refused). `run` says the same in one sentence (bot/cli/main.py), so that record is dropped unless
  `--debug`: the operator reads the sentence, not 100 lines above it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

HIDDEN = "[hidden]"
# A bot token as BotFather issues it (digits, colon, 35 URL-safe characters), wherever it appears.
_TOKEN = re.compile(r"\b\d{5,12}:[A-Za-z0-9_-]{30,}")
# Invite deep links (t.me/<bot>?start=<code>): the code lets anyone in.
_INVITE = re.compile(r"([?&]start=)[A-Za-z0-9_-]{8,64}")
# Loggers that write request URLs, request bodies or SQL parameters (invite codes, passwords' hosts)
# at INFO/DEBUG: kept at WARNING.
NOISY = ("httpx", "httpcore", "hpack", "aiosqlite", "apscheduler.executors.default", "apscheduler.scheduler")


class SecretFilter(logging.Filter):
    """Blanks known secrets and token-shaped strings; the record itself is rewritten, once."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, HIDDEN)
        text = _TOKEN.sub(HIDDEN, text)
        return _INVITE.sub(lambda m: m.group(1) + HIDDEN, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now, scrubbed, and keep only the text: exception messages carry URLs.
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


class ToldByTheCommand(logging.Filter):
    """Drops PTB's "Network Retry Loop (...) Aborting." record for a Telegram error: the exception goes on
    to the command, which tells it in one sentence."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        from_loop = str(record.msg).startswith("%s ") and "Aborting" in str(record.msg)
        return not (from_loop and type(error).__module__.startswith("telegram"))


def configure(level: str, secrets: Iterable[str] = (), *, debug: bool = False) -> SecretFilter:
    """The root logger at `level`, one stderr handler with the secret filter; noisy loggers quieter."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    secret_filter = SecretFilter(secrets)
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, SecretFilter)]:
            handler.removeFilter(old)
        handler.addFilter(secret_filter)
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    ptb = logging.getLogger("telegram.ext")  # PTB's network loop logs under this name
    for told in [f for f in ptb.filters if isinstance(f, ToldByTheCommand)]:
        ptb.removeFilter(told)
    if not debug:
        ptb.addFilter(ToldByTheCommand())
    return secret_filter
