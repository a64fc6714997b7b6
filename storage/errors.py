"""The one error storage raises when it cannot take a write for now (after its own retries)."""

from __future__ import annotations

from typing import Literal

Reason = Literal["disk_full", "database", "io"]


class StorageUnavailable(Exception):
    """Nothing was stored. reason: "disk_full" (no space left), "database" (SQLite stayed locked or
    busy past our patience), "io" (any other failure of the disk). Callers keep what they were given
    and try again later; the message is for logs and admins, never for rangers."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: Reason = reason
        self.detail = detail
