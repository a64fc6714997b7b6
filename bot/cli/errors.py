"""The command line's errors in one place: each is one sentence that names the file, the setting or the
user, with the fix, and an exit code a script can use.

Exit codes: 0 done, 1 failed, 2 usage (a wrong argument or setting), 130 interrupted (Ctrl-C). `run`
keeps two of its own, documented in docs/TELEGRAM.md: 3 (Telegram refuses the token) and 4 (another
process or a webhook took the token's updates). Tracebacks are for `--debug`: by default an error is
its sentence and nothing else.
"""

from __future__ import annotations

import argparse
import errno
import getpass
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from bot.config import ConfigError
from bot.detection import ModelError
from storage.errors import StorageUnavailable

OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


class CliError(Exception):
    """One sentence for the terminal, and the exit code the command ends with."""

    def __init__(self, message: str, code: int = FAILED) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error told in one line (not the whole usage block) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: {message}; see `{self.prog} --help`\n")


def user() -> str:
    """Who runs this command, as `chown` takes it."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid without a name (a container)
        return str(os.getuid())


def existing(path: Path) -> Path:
    """The path itself or, when it does not exist yet, the nearest folder above it that does."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def chown_fix(path: Path) -> str:
    who = user()
    return f"run `sudo chown -R {who} {path}`, or run the command as the user who owns it"


def not_writable(what: str, path: Path) -> str:
    """The sentence for a folder or file this user cannot write (the photo store, the backup folder)."""
    return f"{what} {path} is not writable by user {user()}: {chown_fix(path)}"


def explain(exc: BaseException) -> CliError:
    """The one sentence for an error the command did not explain itself."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return CliError("interrupted (Ctrl-C) before it finished: run the command again", INTERRUPTED)
    if isinstance(exc, ConfigError):
        return CliError(str(exc), USAGE)
    if isinstance(exc, ModelError):
        return CliError(f"{exc}; `leopard-watch doctor` checks the model", FAILED)
    if isinstance(exc, StorageUnavailable):
        return CliError(f"nothing was stored ({exc}); free some space or stop what holds the database, "
                        "then run the command again")  # fmt: skip
    telegram = sys.modules.get("telegram.error")  # only a command that talked to Telegram imported it
    if telegram is not None and isinstance(exc, telegram.InvalidToken):
        return CliError("Telegram refused the token: put the token from @BotFather in LW_TOKEN")
    if telegram is not None and isinstance(exc, telegram.NetworkError):
        return CliError(f"cannot reach the Bot API ({exc}): check the network, or LW_BASE_URL")
    if isinstance(exc, OSError):
        return CliError(_os_error(exc))
    if isinstance(exc, sqlite3.DatabaseError) and "full" in str(exc):
        return CliError(f"the disk is full ({exc}): free some space and run the command again")
    if isinstance(exc, sqlite3.DatabaseError):
        return CliError(
            f"the database cannot be used ({exc}): check LW_DATABASE, or restore a copy made by "
            "`leopard-watch backup`"
        )
    return CliError(
        f"unexpected {type(exc).__name__}: {exc}; run it again with --debug to see where, and report it"
    )


def _os_error(exc: OSError) -> str:
    where = Path(exc.filename) if exc.filename else None
    if isinstance(exc, PermissionError) and where is not None:
        return f"permission denied on {where} for user {user()}: {chown_fix(where)}"
    if isinstance(exc, FileNotFoundError) and where is not None:
        return f"{where} does not exist: check the path (and that its folder exists)"
    if isinstance(exc, NotADirectoryError) and where is not None:
        return f"part of {where} is a file where a folder should be: check the path"
    if isinstance(exc, IsADirectoryError) and where is not None:
        return f"{where} is a folder where a file was expected: give a file's path"
    if exc.errno == errno.ENOSPC:
        return f"the disk{f' of {where}' if where else ''} is full: free some space and run the command again"
    if exc.errno == errno.EROFS and where is not None:
        return f"{where} is on a read-only disk: choose a folder on a writable one"
    what = exc.strerror or str(exc)
    return f"{where}: {what}" if where else f"{what}: run it again with --debug to see where"


def guarded(command: str, action: Callable[[], int], *, debug: bool = False) -> int:
    """Runs a command; whatever escapes it is told as one sentence (the traceback first with --debug)."""
    try:
        return action()
    except SystemExit:
        raise
    except BrokenPipeError:  # `leopard-watch detect ... | head`: the reader has all it wanted
        _quiet_stdout()
        return FAILED
    except BaseException as exc:  # the one place where every error becomes a sentence
        if debug:
            traceback.print_exc()
        err = explain(exc)
        print(f"leopard-watch {command}: {err}", file=sys.stderr)
        return err.code


def _quiet_stdout() -> None:
    # Python would report the broken pipe again when it flushes stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
