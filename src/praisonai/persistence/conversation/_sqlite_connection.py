"""How the sqlite, async_sqlite and turso stores use their one connection.

The file, the pragmas, the statements, the reading of constraint errors, and
:class:`LockedConnectionRunner`, the runner of the synchronous stores (sqlite,
turso): one connection shared by all threads behind a lock, each write one
transaction, or (sqlite) the writes that queue up during a commit grouped into
the next one (:mod:`._group_commit`).
"""

from __future__ import annotations

import sqlite3
import threading
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .._sansio import drive
from ..errors import BackendUnavailableError, StoreClosedError
from ._group_commit import GroupCommitter, HeldUnlessClosed, commit_in_savepoints
from ._praisonai_schema import prepare_schema, schema_is_current
from ._sql_operations import ConversationOperations, IntegrityViolation, Operation, Step
from ._sql_statements import SQLITE, ConversationStatements
from .config import AsyncSqliteConversationConfig, SqliteConversationConfig, TursoConversationConfig

__all__ = [
    "LockedConnectionRunner",
    "classify_sqlite_error",
    "constraint_violation",
    "lock_timeout",
    "prepare_path",
    "sqlite_operations",
    "sqlite_pragmas",
]

R = TypeVar("R")


def sqlite_operations(
    config: SqliteConversationConfig | AsyncSqliteConversationConfig | TursoConversationConfig,
) -> ConversationOperations:
    """The operations on the SQLite dialect's statements, with the configured table prefix."""
    return ConversationOperations(ConversationStatements(SQLITE, config.table_prefix))


def prepare_path(config: SqliteConversationConfig | AsyncSqliteConversationConfig) -> str:
    """Create the database file's directory; ``:memory:`` and ``file:`` URIs pass through."""
    if config.path != ":memory:" and not config.path.startswith("file:"):
        Path(config.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return str(Path(config.path).expanduser())
    return config.path


def sqlite_pragmas(config: SqliteConversationConfig | AsyncSqliteConversationConfig) -> tuple[str, ...]:
    # WAL lets readers run beside the writer; synchronous=FULL makes each
    # commit durable when it returns (NORMAL may lose the last ones on power loss).
    pragmas = [
        f"PRAGMA busy_timeout = {int(config.busy_timeout * 1000)}",
        "PRAGMA foreign_keys = ON",
        f"PRAGMA synchronous = {'FULL' if config.durable else 'NORMAL'}",
    ]
    if config.path != ":memory:":
        pragmas.insert(0, "PRAGMA journal_mode = WAL")
    return tuple(pragmas)


def constraint_violation(text: str) -> IntegrityViolation:
    """The violation SQLite's message names (``UNIQUE constraint failed: ...``); libSQL's messages are SQLite's."""
    if "UNIQUE" in text or "PRIMARY KEY" in text:
        return IntegrityViolation("unique", text)
    if "FOREIGN KEY" in text:
        return IntegrityViolation("foreign_key", text)
    return IntegrityViolation("other", text)


def classify_sqlite_error(error: BaseException) -> IntegrityViolation | None:
    return constraint_violation(str(error)) if isinstance(error, sqlite3.IntegrityError) else None


def lock_timeout(error: BaseException, busy_timeout: float) -> BackendUnavailableError | None:
    """Our error for SQLite's (or libSQL's) "database is locked" once ``busy_timeout`` ran out.

    It is raised where the write lock is taken (``BEGIN IMMEDIATE``, before any change) or by a
    read, so nothing was written and a later retry can succeed: :class:`BackendUnavailableError`.
    """
    if not isinstance(error, (sqlite3.OperationalError, ValueError)):
        return None
    text = str(error).lower()
    if "database is locked" not in text and "database table is locked" not in text:
        return None
    return BackendUnavailableError(
        f"another connection held the database's write lock for longer than busy_timeout={busy_timeout:g}s;"
        " nothing was written, retry later or raise busy_timeout"
    )


class LockedConnectionRunner:
    """``_run`` and ``close`` of a store on one DB-API connection shared by all threads behind a lock."""

    _closed: bool
    _ops: ConversationOperations
    _connection: Any
    _lock: threading.Lock
    _begin = "BEGIN IMMEDIATE"  # take the write lock first: writers wait (busy_timeout), never fail
    _committer: GroupCommitter | None = None  # set: concurrent writes share commits

    def _group_committer(self) -> GroupCommitter:
        """A committer grouping this store's writes (each group one transaction on ``_connection``)."""
        held = HeldUnlessClosed(self._lock, lambda: self._closed)
        return GroupCommitter(lambda: held, lambda group: commit_in_savepoints(self._connection, self._begin, group))

    def _classify(self, error: BaseException) -> IntegrityViolation | None:
        return classify_sqlite_error(error)

    @abstractmethod
    def _execute(self, step: Step) -> Any:
        """Run ``step`` on the connection and return what its ``fetch`` asks for."""

    def _run(self, make: Callable[[], Operation[R]], write: bool) -> R:
        if write and self._committer is not None:
            return self._committer.write(lambda: drive(make(), self._execute, self._classify))
        with self._lock:
            if self._closed:  # closed while this call waited for the lock
                raise StoreClosedError("the store is closed")
            if not write:
                return drive(make(), self._execute, self._classify)
            connection = self._connection
            self._begin_write(connection)
            try:
                result = drive(make(), self._execute, self._classify)
            except BaseException:
                if connection.in_transaction:  # the engine may have rolled back already
                    connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result

    def _begin_write(self, connection: Any) -> None:
        """Open the write transaction (``_begin``); the engine's busy handler waits for the lock."""
        connection.execute(self._begin)

    def _open_schema(self) -> None:
        """Create or upgrade the tables, taking the write lock (``BEGIN IMMEDIATE``) only if needed.

        A store at the current version is opened with reads alone: it neither waits for another
        connection's write transaction nor holds up the next one. The reads run to their end (see
        :func:`schema_is_current`), so no read snapshot outlives them to go stale before the store's
        first write. Otherwise :func:`prepare_schema` checks again under the lock and upgrades.
        """
        sql = self._ops.sql
        if self._run(lambda: schema_is_current(sql), write=False):
            return
        self._run(lambda: prepare_schema(sql), write=True)

    def _close_connection(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._connection.close()
