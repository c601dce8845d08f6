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
SQL layer: ``_sql_statements.py``, ``_sql_operations.py``, SQLite dialect); only the runner differs. As with
``sqlite``: one connection shared by all threads behind a lock, WAL,
``synchronous=FULL`` and ``BEGIN IMMEDIATE`` write transactions on a local file.

libSQL returns text only up to its first NUL character, so text containing one
is refused (:class:`InvalidInputError`) rather than silently cut. Errors come
from the driver as plain ``ValueError``; constraint violations and unreachable
servers are told apart by their message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._config import secret_value
from ..errors import BackendUnavailableError, InvalidInputError
from ._sql_operations import IntegrityViolation, Operation, Step, fetch
from ._sql_store import SqlConversationStore
from ._sqlite_connection import LockedConnectionRunner, constraint_violation, lock_timeout, sqlite_operations
from .config import TursoConversationConfig

__all__ = ["TursoConversationStore"]

_UNREACHABLE = ("hrana", "http error", "sync error", "tcp connect", "connection refused", "dns error", "timed out")


def classify_libsql_error(error: BaseException) -> IntegrityViolation | None:
    # libSQL raises every engine error as a ValueError: a constraint is told by its message.
    if not isinstance(error, ValueError):
        return None
    text = str(error)
    return constraint_violation(text) if "constraint failed" in text or "PRIMARY KEY" in text else None


def _is_unreachable(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, ValueError) and any(marker in text for marker in _UNREACHABLE)


def _refuse_nul(values: Iterable[Any]) -> None:
    for value in values:
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInputError(
                "libSQL cuts text at a NUL character, so content and names containing one are refused"
            )


class TursoConversationStore(LockedConnectionRunner, SqlConversationStore):
    """Conversations in a libSQL database: a local file, a Turso database or an embedded replica."""

    backend = "turso"

    def __init__(self, config: TursoConversationConfig) -> None:
        self.config = config
        libsql = self._import_driver("libsql")
        self._ops = sqlite_operations(config)
        self._lock = threading.Lock()
        if config.mode != "local":
            self._begin = "BEGIN"
        token = secret_value(config.auth_token) or ""
        with self._translating:
            self._connection = self._connect(libsql, token)
            try:
                self._run(lambda: self._statements(self._pragmas()), write=False)
                self._open_schema()
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

    def _begin_write(self, connection: Any) -> None:
        """``BEGIN IMMEDIATE``, tried again until ``busy_timeout`` while another connection writes.

        Not libSQL's own busy handler: it waits holding the GIL, so when the lock's holder is
        another store of this process, that store cannot run to release it, and the wait ran
        out its whole ``busy_timeout`` (a third of the runs of two stores on one file, three
        threads each, failed so). Here the wait is a ``time.sleep``.
        """
        if self.config.mode != "local":
            connection.execute(self._begin)
            return
        deadline = time.monotonic() + self.config.busy_timeout
        pause = 0.001
        while True:
            try:
                connection.execute(self._begin)
                return
            except ValueError as error:
                if "database is locked" not in str(error).lower() or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def _classify(self, error: BaseException) -> IntegrityViolation | None:
        return classify_libsql_error(error)

    def _translate_error(self, error: Exception) -> Exception | None:
        if not _is_unreachable(error):
            return lock_timeout(error, self.config.busy_timeout)
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
            "PRAGMA foreign_keys = ON",
            f"PRAGMA synchronous = {'FULL' if self.config.durable else 'NORMAL'}",
            # Last: the statements above wait for the lock in libSQL; later writes in _begin_write.
            "PRAGMA busy_timeout = 0",
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
            return fetch(cursor, step)
        _refuse_nul(step.params)
        return fetch(connection.execute(step.sql, tuple(step.params)), step)

    def close(self) -> None:
        with self._translating:
            self._close_connection()

    def __repr__(self) -> str:
        where = self.config.path if self.config.mode == "local" else self.config.url
        return f"TursoConversationStore(mode={self.config.mode!r}, location={where!r})"
