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

Group commit (``_group_commit.py``): a write does not get a job of its own but joins a
queue, and one job drains the queue. The writes that tasks queue while the worker
commits are drained together by the next job and share one transaction and one flush
(the ``sqlite`` store's group transaction); each call returns once the commit holding its write has
returned, a failed commit fails every write in it, and a lone write runs exactly as
before. A cancelled call whose write was not yet drained is dropped, as above.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from .._sansio import drive
from ..errors import StoreClosedError
from ._group_commit import Write
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
        # Writes waiting for the worker, and whether a job to drain them is already submitted.
        self._writes: list[tuple[Callable[[], Operation[Any]], Future[Any]]] = []
        self._writes_lock = threading.Lock()
        self._drain_submitted = False

    def _translate_error(self, error: Exception) -> Exception | None:
        return lock_timeout(error, self.config.busy_timeout)

    def _open_store(self) -> _WorkerSqlite:
        if self._closed:  # closed while this call waited for the worker
            raise StoreClosedError("the store is closed")
        if self._store is None:
            settings = self.config.model_dump(include=set(SqliteConversationConfig.model_fields))
            self._store = _WorkerSqlite(SqliteConversationConfig.model_validate(settings))
        return self._store

    def _read_in_worker(self, make: Callable[[], Operation[R]]) -> R:
        return self._open_store()._run(make, write=False)

    def _drain_writes(self) -> None:
        """On the worker: commit every write queued so far as one group, then settle their futures."""
        with self._writes_lock:
            queued, self._writes = self._writes, []
            self._drain_submitted = False
        # A write whose caller was cancelled before this point is dropped; the rest now run to their end.
        started = [(make, future) for make, future in queued if future.set_running_or_notify_cancel()]
        if not started:
            return
        writes = [Write(partial(self._drive, make)) for make, _ in started]
        try:
            try:
                committer = self._open_store()._committer
                assert committer is not None
            except Exception as error:  # closed, or the file could not be opened
                for write in writes:
                    write.fail(error)
            else:
                committer.commit(writes)  # records every outcome, even when interrupted
        finally:
            for (_, future), write in zip(started, writes, strict=True):
                if write.error is not None:
                    future.set_exception(write.error)
                else:
                    future.set_result(write.result)

    def _drive(self, make: Callable[[], Operation[R]]) -> R:
        store = self._store
        assert store is not None
        return drive(make(), store._execute, store._classify)

    def _queue_write(self, make: Callable[[], Operation[R]]) -> Future[R]:
        future: Future[R] = Future()
        with self._writes_lock:
            self._writes.append((make, future))
            if not self._drain_submitted:
                try:
                    self._worker.submit(self._drain_writes)
                except RuntimeError:  # the worker was shut down by close()
                    self._writes.pop()
                    raise StoreClosedError("the store is closed") from None
                self._drain_submitted = True
        return future

    async def _run(self, make: Callable[[], Operation[R]], write: bool) -> R:
        if write:
            job = self._queue_write(make)
        else:
            try:
                job = self._worker.submit(self._read_in_worker, make)
            except RuntimeError:  # the worker was shut down by close()
                raise StoreClosedError("the store is closed") from None
        # Cancelling the awaiting task cancels a job (or a queued write) that has not started;
        # a started one runs to its end.
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
