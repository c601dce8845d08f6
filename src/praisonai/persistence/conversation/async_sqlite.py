"""Async SQLite conversation store.

Engine: SQLite, through ``aiosqlite`` (extra ``sqlite``), which runs the
standard ``sqlite3`` driver on a worker thread.
URL forms: as ``sqlite`` (a plain path, ``sqlite:///relative.db``,
``sqlite:////absolute.db``, ``:memory:``).
Test tier: embedded (real SQLite files).

The schema, statements and control flow are those of the ``sqlite`` store (one
SQL layer: ``_sql_statements.py``, ``_sql_operations.py``); only the runner differs. An ``asyncio.Lock``
keeps one transaction at a time on the connection, so any number of tasks may
share a store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .._sansio import drive_async
from ..errors import StoreClosedError
from ._praisonai_schema import prepare_schema
from ._sql_operations import Operation, Step
from ._sql_store import AsyncSqlConversationStore
from ._sqlite_connection import classify_sqlite_error, prepare_path, sqlite_operations, sqlite_pragmas
from .config import AsyncSqliteConversationConfig

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["AsyncSqliteConversationStore"]

R = TypeVar("R")


def _executor(connection: aiosqlite.Connection) -> Callable[[Step], Awaitable[Any]]:
    """Runs a step on ``connection`` and returns what its ``fetch`` asks for."""

    async def execute(step: Step) -> Any:
        if step.many:
            cursor = await connection.executemany(step.sql, step.params)
        else:
            cursor = await connection.execute(step.sql, step.params)
        try:
            if step.fetch == "all":
                return await cursor.fetchall()
            if step.fetch == "one":
                return await cursor.fetchone()
            return cursor.rowcount if step.fetch == "rowcount" else None
        finally:
            await cursor.close()

    return execute


class AsyncSqliteConversationStore(AsyncSqlConversationStore):
    """Conversations in one SQLite file, for asyncio applications."""

    backend = "async_sqlite"

    def __init__(self, config: AsyncSqliteConversationConfig) -> None:
        self.config = config
        self._driver = self._import_driver("aiosqlite")
        self._ops = sqlite_operations(config)
        self._lock = asyncio.Lock()
        self._connection: aiosqlite.Connection | None = None

    async def _connect(self) -> aiosqlite.Connection:
        # The connection is opened on first use: __init__ cannot await.
        connection: aiosqlite.Connection = await self._driver.connect(prepare_path(self.config), isolation_level=None)
        try:
            for pragma in sqlite_pragmas(self.config):
                await connection.execute(pragma)
            await connection.execute("BEGIN IMMEDIATE")
            await drive_async(prepare_schema(self._ops.sql), _executor(connection), classify_sqlite_error)
            await connection.execute("COMMIT")
        except BaseException:
            await connection.close()
            raise
        return connection

    async def _run(self, operation: Operation[R], write: bool) -> R:
        async with self._lock:
            if self._closed:  # closed while this call waited for the lock
                raise StoreClosedError("the store is closed")
            if self._connection is None:
                self._connection = await self._connect()
            connection = self._connection
            execute = _executor(connection)
            if not write:
                return await drive_async(operation, execute, classify_sqlite_error)
            await connection.execute("BEGIN IMMEDIATE")
            try:
                result = await drive_async(operation, execute, classify_sqlite_error)
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
            await connection.execute("COMMIT")
            return result

    async def close(self) -> None:
        async with self._lock:
            self._closed = True
            with self._translating:
                if self._connection is not None:
                    await self._connection.close()
                    self._connection = None

    def __repr__(self) -> str:
        return f"AsyncSqliteConversationStore(path={self.config.path!r})"


AsyncSQLiteConversationStore = AsyncSqliteConversationStore
"""PraisonAI 4.7.19's name of :class:`AsyncSqliteConversationStore`."""
