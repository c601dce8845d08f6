"""SQLite conversation store: the embedded default.

Engine: SQLite, through the standard library's ``sqlite3`` (no extra needed).
URL forms: a plain path, ``sqlite:///relative.db``, ``sqlite:////absolute.db``,
``:memory:``. With no argument the database is ``$PRAISONAI_DATA_DIR/conversations.db``
(``~/.praisonai/conversations.db``).
Test tier: embedded (real SQLite files).

WAL journal, ``synchronous=FULL`` (each write durable when it returns), one
connection shared by all threads behind a lock, and ``BEGIN IMMEDIATE`` write
transactions so that several processes on one file wait for each other
(``busy_timeout``) instead of failing. Group commit: writes from other threads
that arrive while a commit is flushing share the next commit (``_group_commit.py``;
if one of them fails, the group runs again with a savepoint around each); each call still returns only once its write is
committed, and a lone writer runs exactly as without it. The statements and control flow are
``_sql_statements.py``'s and ``_sql_operations.py``'s, shared with ``async_sqlite`` and ``turso``;
PraisonAI 4.7's tables are upgraded on open (``_praisonai_schema.py``).
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from ._sql_operations import Step, fetch
from ._sql_store import SqlConversationStore
from ._sqlite_connection import LockedConnectionRunner, lock_timeout, prepare_path, sqlite_operations, sqlite_pragmas
from .config import SqliteConversationConfig

__all__ = ["SqliteConversationStore"]


class SqliteConversationStore(LockedConnectionRunner, SqlConversationStore):
    """Conversations in one SQLite file, safe from many threads and processes."""

    backend = "sqlite"

    def __init__(self, config: SqliteConversationConfig) -> None:
        self.config = config
        self._ops = sqlite_operations(config)
        self._lock = threading.Lock()
        self._committer = self._group_committer()
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
                self._open_schema()
            except BaseException:
                self._connection.close()
                raise

    def _translate_error(self, error: Exception) -> Exception | None:
        return lock_timeout(error, self.config.busy_timeout)

    def _execute(self, step: Step) -> Any:
        connection = self._connection
        if step.many:
            return fetch(connection.executemany(step.sql, step.params), step)
        return fetch(connection.execute(step.sql, step.params), step)

    def close(self) -> None:
        with self._translating:
            self._close_connection()

    def __repr__(self) -> str:
        return f"SqliteConversationStore(path={self.config.path!r})"


SQLiteConversationStore = SqliteConversationStore
"""PraisonAI 4.7.19's name of :class:`SqliteConversationStore`."""
