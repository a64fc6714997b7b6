"""Name -> handler table for Bot API methods; method names are case-insensitive like Telegram's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .state import World

Handler = Callable[[World, dict[str, Any]], Awaitable[Any]]

# lower-case name -> (canonical name, handler)
METHODS: dict[str, tuple[str, Handler]] = {}


def api_method(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            METHODS[name.lower()] = (name, handler)
        return handler

    return register


def lookup(name: str) -> tuple[str, Handler] | None:
    return METHODS.get(name.lower())
