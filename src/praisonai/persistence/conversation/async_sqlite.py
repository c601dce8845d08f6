"""Async SQLite conversation store.

Engine: SQLite, through the standard library's ``sqlite3`` on a worker thread of the store's
own (no extra needed).
URL forms: as ``sqlite`` (a plain path, ``sqlite:///relative.db``,
``sqlite:////absolute.db``, ``:memory:``).
Test tier: embedded (real SQLite files).

The schema, statements and control flow are those of the ``sqlite`` store (one
SQL layer: ``_sql_statements.py``, ``_sql_operations.py``), and so is the runner: each
call runs the ``sqlite`` store's whole transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``)
as one job on the store's single worker thread, so any number of tasks may share a store.

Why one job per call rather than a statement at a time (as aiosqlite does): a task
cancelled between statements (``asyncio.wait_for``) would leave the connection inside
``BEGIN IMMEDIATE``, holding the file's write lock. Here a cancelled call either never
started (its job is dropped) or finishes its transaction on the worker thread; it never
leaves one open. Nothing belongs to an event loop, so the store works from any loop
(``asyncio.run`` twice), and an idle worker thread never holds up interpreter exit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ..errors import StoreClosedError
from ._sql_operations import Operation
from ._sql_store import AsyncSqlConversationStore
from ._sqlite_connection import lock_timeout, sqlite_operations
from .config import AsyncSqliteConversationConfig, SqliteConversationConfig
from .sqlite import SqliteConversationStore

__all__ = ["AsyncSqliteConversationStore"]

R = TypeVar("R")


class _WorkerSqlite(SqliteConversationStore):
    """The sqlite store the worker thread runs: errors it raises are stamped ``async_sqlite``."""

    backend = "async_sqlite"


class AsyncSqliteConversationStore(AsyncSqlConversationStore):
    """Conversations in one SQLite file, for asyncio applications."""

    backend = "async_sqlite"

    def __init__(self, config: AsyncSqliteConversationConfig) -> None:
        self.config = config
        self._ops = sqlite_operations(config)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="praisonai-async-sqlite")
        self._store: _WorkerSqlite | None = None  # opened by the first call, on the worker thread

    def _translate_error(self, error: Exception) -> Exception | None:
        return lock_timeout(error, self.config.busy_timeout)

    def _in_worker(self, make: Callable[[], Operation[R]], write: bool) -> R:
        if self._closed:  # closed while this call waited for the worker
            raise StoreClosedError("the store is closed")
        if self._store is None:
            settings = self.config.model_dump(include=set(SqliteConversationConfig.model_fields))
            self._store = _WorkerSqlite(SqliteConversationConfig.model_validate(settings))
        return self._store._run(make, write)

    async def _run(self, make: Callable[[], Operation[R]], write: bool) -> R:
        try:
            job = self._worker.submit(self._in_worker, make, write)
        except RuntimeError:  # the worker was shut down by close()
            raise StoreClosedError("the store is closed") from None
        # Cancelling the awaiting task cancels a job that has not started; a started one runs to its end.
        return await asyncio.wrap_future(job)

    def _close_in_worker(self) -> None:
        self._closed = True
        if self._store is not None:
            self._store.close()

    async def close(self) -> None:
        if self._closed:
            return
        with self._translating:
            try:
                job = self._worker.submit(self._close_in_worker)
            except RuntimeError:
                return
            try:
                await asyncio.shield(asyncio.wrap_future(job))
            finally:
                self._worker.shutdown(wait=False)

    def __repr__(self) -> str:
        return f"AsyncSqliteConversationStore(path={self.config.path!r})"


AsyncSQLiteConversationStore = AsyncSqliteConversationStore
"""PraisonAI 4.7.19's name of :class:`AsyncSqliteConversationStore`."""
