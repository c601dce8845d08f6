"""SQLite conversation store: the embedded default.

Engine: SQLite, through the standard library's ``sqlite3`` (no extra needed).
URL forms: a plain path, ``sqlite:///relative.db``, ``sqlite:////absolute.db``,
``:memory:``. With no argument the database is ``$PRAISONAI_DATA_DIR/conversations.db``
(``~/.praisonai/conversations.db``).
Test tier: embedded (real SQLite files).

WAL journal, ``synchronous=FULL`` (each write durable when it returns), one
connection shared by all threads behind a lock, and ``BEGIN IMMEDIATE`` write
transactions so that several processes on one file wait for each other
(``busy_timeout``) instead of failing. The statements and control flow are
``_sql_operations.py``'s, shared with ``async_sqlite``.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any, TypeVar

from .._sansio import drive
from ..errors import StoreClosedError
from ._sql_operations import ConversationOperations, Operation, Step
from ._sql_statements import SQLITE, ConversationStatements
from ._sql_store import SqlConversationStore
from ._sqlite_connection import classify_sqlite_error, prepare_path, sqlite_pragmas
from .config import SqliteConversationConfig

__all__ = ["SqliteConversationStore"]

R = TypeVar("R")


class SqliteConversationStore(SqlConversationStore):
    """Conversations in one SQLite file, safe from many threads and processes."""

    backend = "sqlite"

    def __init__(self, config: SqliteConversationConfig) -> None:
        self.config = config
        self._ops = ConversationOperations(ConversationStatements(SQLITE, config.table_prefix))
        self._lock = threading.Lock()
        with self._translating:
            self._connection = sqlite3.connect(
                prepare_path(config),
                isolation_level=None,
                check_same_thread=False,
                timeout=config.busy_timeout,
            )
            try:
                for pragma in sqlite_pragmas(config):
                    self._connection.execute(pragma)
                self._run(self._ops.create_schema(), write=True)
            except BaseException:
                self._connection.close()
                raise

    def _execute(self, step: Step) -> Any:
        connection = self._connection
        if step.many:
            cursor = connection.executemany(step.sql, step.params)
        else:
            cursor = connection.execute(step.sql, step.params)
        if step.fetch == "all":
            return cursor.fetchall()
        if step.fetch == "one":
            return cursor.fetchone()
        if step.fetch == "rowcount":
            return cursor.rowcount
        return None

    def _run(self, operation: Operation[R], write: bool) -> R:
        with self._lock:
            if self._closed:  # closed while this call waited for the lock
                raise StoreClosedError("the store is closed")
            if not write:
                return drive(operation, self._execute, classify_sqlite_error)
            connection = self._connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = drive(operation, self._execute, classify_sqlite_error)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result

    def close(self) -> None:
        with self._lock, self._translating:
            if not self._closed:
                self._closed = True
                self._connection.close()

    def __repr__(self) -> str:
        return f"SqliteConversationStore(path={self.config.path!r})"
