"""Turso / libSQL conversation store.

Engine: libSQL (the SQLite fork behind Turso), through the ``libsql`` package
(extra ``turso``): a local file, a remote Turso database, or an embedded
replica of one (a local file kept in sync with the remote primary).
URL forms: a plain path, ``sqlite:///relative.db``, ``sqlite:////absolute.db``
(local file); ``libsql://<db>-<org>.turso.io`` with ``auth_token=`` or
``?authToken=`` (remote; ``https://`` and ``http://`` for a self-hosted
``sqld``); the remote URL plus ``replica_path=`` (embedded replica).
Test tier: embedded (local libSQL files). The remote and replica connections
are configured and validated, but no test reaches a Turso server.

The schema, statements and control flow are those of the ``sqlite`` store (one
SQL layer, ``_sql_operations.py``, SQLite dialect); only the runner differs. As with
``sqlite``: one connection shared by all threads behind a lock, WAL,
``synchronous=FULL`` and ``BEGIN IMMEDIATE`` write transactions on a local file.

libSQL returns text only up to its first NUL character, so text containing one
is refused (:class:`InvalidInputError`) rather than silently cut. Errors come
from the driver as plain ``ValueError``; constraint violations and unreachable
servers are told apart by their message.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from .._config import secret_value
from .._sansio import drive
from ..errors import BackendUnavailableError, InvalidInputError, StoreClosedError
from ._sql_operations import ConversationOperations, IntegrityViolation, Operation, Step
from ._sql_statements import SQLITE, ConversationStatements
from ._sql_store import SqlConversationStore
from .config import TursoConversationConfig

__all__ = ["TursoConversationStore"]

R = TypeVar("R")

_UNREACHABLE = ("hrana", "http error", "sync error", "tcp connect", "connection refused", "dns error", "timed out")


def classify_libsql_error(error: BaseException) -> IntegrityViolation | None:
    if not isinstance(error, ValueError):
        return None
    text = str(error)
    if "UNIQUE constraint failed" in text or "PRIMARY KEY" in text:
        return IntegrityViolation("unique", text)
    if "FOREIGN KEY constraint failed" in text:
        return IntegrityViolation("foreign_key", text)
    if "constraint failed" in text:
        return IntegrityViolation("other", text)
    return None


def _is_unreachable(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, ValueError) and any(marker in text for marker in _UNREACHABLE)


def _refuse_nul(values: Iterable[Any]) -> None:
    for value in values:
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInputError(
                "libSQL cuts text at a NUL character, so content and names containing one are refused"
            )


class TursoConversationStore(SqlConversationStore):
    """Conversations in a libSQL database: a local file, a Turso database or an embedded replica."""

    backend = "turso"

    def __init__(self, config: TursoConversationConfig) -> None:
        self.config = config
        libsql = self._import_driver("libsql")
        self._ops = ConversationOperations(ConversationStatements(SQLITE, config.table_prefix))
        self._lock = threading.Lock()
        self._begin = "BEGIN IMMEDIATE" if config.mode == "local" else "BEGIN"
        token = secret_value(config.auth_token) or ""
        with self._translating:
            self._connection = self._connect(libsql, token)
            try:
                self._run(self._statements(self._pragmas()), write=False)
                self._run(self._statements(self._ops.sql.schema), write=True)
            except BaseException:
                self._connection.close()
                raise

    def _connect(self, libsql: Any, token: str) -> Any:
        config = self.config
        if config.mode == "local":
            assert config.path is not None
            path = Path(config.path).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            return libsql.connect(
                str(path), isolation_level=None, _check_same_thread=False, timeout=config.busy_timeout
            )
        if config.mode == "remote":
            return libsql.connect(config.url, isolation_level=None, _check_same_thread=False, auth_token=token)
        assert config.replica_path is not None
        replica = Path(config.replica_path).expanduser()
        replica.parent.mkdir(parents=True, exist_ok=True)
        return libsql.connect(
            str(replica),
            isolation_level=None,
            _check_same_thread=False,
            sync_url=config.url,
            sync_interval=config.sync_interval,
            auth_token=token,
        )

    def _translate_error(self, error: Exception) -> Exception | None:
        if not _is_unreachable(error):
            return None
        where = "the local file" if self.config.mode == "local" else "the remote database"
        # The driver's message may quote the URL, never the token; keep only its first line.
        detail = str(error).splitlines()[0][:300]
        return BackendUnavailableError(f"cannot reach {where}: {detail}")

    def _pragmas(self) -> tuple[str, ...]:
        if self.config.mode != "local":
            return ("PRAGMA foreign_keys = ON",)
        # As for sqlite: readers beside the writer, and each commit durable when it returns.
        return (
            "PRAGMA journal_mode = WAL",
            f"PRAGMA busy_timeout = {int(self.config.busy_timeout * 1000)}",
            "PRAGMA foreign_keys = ON",
            f"PRAGMA synchronous = {'FULL' if self.config.durable else 'NORMAL'}",
        )

    @staticmethod
    def _statements(statements: Iterable[str]) -> Operation[None]:
        for statement in statements:
            yield Step(statement)

    def _execute(self, step: Step) -> Any:
        connection = self._connection
        if step.many:
            for row in step.params:
                _refuse_nul(row)
            cursor = connection.cursor()
            cursor.executemany(step.sql, list(step.params))
        else:
            _refuse_nul(step.params)
            cursor = connection.execute(step.sql, tuple(step.params))
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
            connection = self._connection
            if not write:
                return drive(operation, self._execute, classify_libsql_error)
            connection.execute(self._begin)
            try:
                result = drive(operation, self._execute, classify_libsql_error)
            except BaseException:
                if connection.in_transaction:
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
        where = self.config.path if self.config.mode == "local" else self.config.url
        return f"TursoConversationStore(mode={self.config.mode!r}, location={where!r})"
