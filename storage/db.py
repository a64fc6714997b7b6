"""The SQLite database: one aiosqlite connection, WAL, foreign keys, versioned migrations.

Another writer (a backup, `leopard-watch import`, an admin's sqlite3 shell) can hold the write lock for
seconds. Every statement waits it out: SQLite's busy_timeout inside each attempt, then retries with
backoff, PATIENCE seconds in all; only then does it raise StorageUnavailable("database"). A full disk
or an I/O error becomes StorageUnavailable too, so callers handle one type for "not stored, try later".
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import aiosqlite

from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

PATIENCE = 30.0  # seconds a statement may wait for another writer's lock, in all
BUSY_TIMEOUT = 5.0  # one wait inside SQLite; short enough that every wait is logged
FIRST_BACKOFF, MAX_BACKOFF = 0.05, 2.0


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return True
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text or "table is locked" in text


def _unavailable(exc: sqlite3.OperationalError) -> StorageUnavailable | None:
    """The StorageUnavailable an SQLite error means, or None for a bug (bad SQL, missing table)."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc).lower()
    if code == sqlite3.SQLITE_FULL or "database or disk is full" in text:
        return StorageUnavailable("disk_full", f"database: {exc}")
    if code == sqlite3.SQLITE_IOERR or "disk i/o error" in text:
        return StorageUnavailable("io", f"database: {exc}")
    if _is_busy(exc):
        return StorageUnavailable("database", str(exc))
    return None


def _reraise(exc: sqlite3.OperationalError) -> NoReturn:
    translated = _unavailable(exc)
    if translated is None:
        raise exc
    raise translated from exc


def _what(sql: str) -> str:
    return " ".join(sql.split()[:4])


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime: store UTC only")
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def migrations() -> list[tuple[int, str]]:
    folder = resources.files("storage") / "migrations"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            found.append((int(item.name.split("_", 1)[0]), item.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """A single connection shared by the bot: aiosqlite serialises calls on its own thread.

    Writes that must land together go through `transaction()`, which holds the connection for the
    whole block so that no other coroutine's statements interleave with it.
    """

    def __init__(self, path: Path | str, *, patience: float | None = None) -> None:
        self.path = Path(path)
        self.patience = PATIENCE if patience is None else patience
        self._conn: aiosqlite.Connection | None = None
        self._lock: Any = None

    async def open(self) -> Database:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        self._conn.row_factory = aiosqlite.Row
        self._lock = asyncio.Lock()
        try:
            await self._conn.execute("PRAGMA journal_mode=WAL")
            await self._conn.execute("PRAGMA foreign_keys=ON")
            await self._conn.execute("PRAGMA synchronous=NORMAL")
            busy_ms = int(min(BUSY_TIMEOUT, self.patience) * 1000)
            await self._conn.execute(f"PRAGMA busy_timeout={busy_ms}")
            await self.migrate()
        except BaseException:
            # aiosqlite's worker thread would otherwise keep the process alive after a bad file.
            await self.close()
            raise
        return self

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def migrate(self) -> int:
        row = await (await self.conn.execute("PRAGMA user_version")).fetchone()
        version = int(row[0]) if row else 0
        for number, sql in migrations():
            if number <= version:
                continue
            log.info("applying migration %04d", number)
            # executescript commits first; the whole migration and its version bump are one unit.
            await self.conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version={number};\nCOMMIT;")
            version = number
        return version

    async def _patiently(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        """Run one statement, waiting out another writer's lock; the caller holds self._lock.

        A failed autocommit statement (or BEGIN, or COMMIT) left nothing behind, so trying it again is
        safe; the body of a transaction is not retried (it cannot be re-run generically), but it needs
        no retry: BEGIN IMMEDIATE is where the lock is waited for.
        """
        loop = asyncio.get_running_loop()
        start, backoff = loop.time(), FIRST_BACKOFF
        while True:
            try:
                return await op()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    _reraise(exc)
                waited = loop.time() - start
                if waited >= self.patience:
                    log.error("database still locked after %.1fs (%s): giving up", waited, what)
                    raise StorageUnavailable(
                        "database", f"{what}: locked by another process for {waited:.0f}s"
                    ) from exc
                log.warning("database locked by another process (%s); waited %.1fs, retrying", what, waited)
                await asyncio.sleep(min(backoff, self.patience - waited))
                backoff = min(backoff * 2, MAX_BACKOFF)

    async def _run(self, sql: str, params: tuple[Any, ...]) -> aiosqlite.Cursor:
        async def run() -> aiosqlite.Cursor:
            return await self.conn.execute(sql, params)

        return await self._patiently(_what(sql), run)

    async def _rollback(self) -> None:
        # SQLite has already rolled back after some errors (a full disk); a second ROLLBACK would
        # raise and hide the error that matters.
        if self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._run("BEGIN IMMEDIATE", ())
            try:
                yield self.conn
            except sqlite3.OperationalError as exc:
                await self._rollback()
                _reraise(exc)
            except BaseException:
                await self._rollback()
                raise
            try:
                await self._run("COMMIT", ())
            except BaseException:
                await self._rollback()
                raise

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Cursor:
        async with self._lock:
            return await self._run(sql, tuple(params))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        async def run() -> aiosqlite.Row | None:
            cur = await self.conn.execute(sql, args)
            return await cur.fetchone()

        args = tuple(params)
        async with self._lock:
            return await self._patiently(_what(sql), run)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async def run() -> list[aiosqlite.Row]:
            cur = await self.conn.execute(sql, args)
            return list(await cur.fetchall())

        args = tuple(params)
        async with self._lock:
            return await self._patiently(_what(sql), run)

    async def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]
