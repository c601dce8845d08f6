"""PostgreSQL conversation store (also CockroachDB, Neon, Supabase's database, Xata).

Engine: PostgreSQL and the engines speaking its protocol and dialect.
Driver: psycopg 3 (extra ``postgres``), with a pool of connections (``pool_size``).
URL forms: ``postgresql://user:password@host:5432/database?sslmode=require&schema=chat``,
``postgres://...``, ``postgresql+psycopg://...``, ``cockroachdb://...`` (default port 26257);
``?host=/var/run/postgresql`` for a Unix socket. Or the fields of
:class:`~praisonai.persistence.conversation.config.PostgresConversationConfig`.
Aliases: ``neon``, ``cockroachdb``, ``crdb``, ``cockroach``, ``xata``.
Test tier: server (PostgreSQL 15 on loopback; CockroachDB, Neon and Xata are not exercised).

Tables live in ``schema_name`` (created if missing) as ``<table_prefix>sessions`` and
``<table_prefix>messages``; schema and statements are the ``async_postgres`` store's too
(``_sql_statements.py``, ``_sql_operations.py``). Writes are transactions; after a server restart the
next call reconnects.
"""

from __future__ import annotations

from typing import Any

from ._postgres_driver import PostgresHooks, integrity_violation, is_disconnect_sqlstate, libpq_options
from ._server_runner import ServerSqlConversationStore
from ._sql_operations import IntegrityViolation, Step, run_step
from .config import PostgresConversationConfig

__all__ = ["PostgresConversationStore"]


class _Connection:
    """A pooled connection and the one cursor every statement on it runs through.

    A cursor per connection rather than per statement: opening and closing one costs
    about 5 µs, a sizeable share of a four-statement ``add_message`` on loopback.
    The pool hands a connection to one caller at a time, so its cursor is never shared.
    """

    __slots__ = ("connection", "cursor")

    def __init__(self, connection: Any, cursor: Any) -> None:
        self.connection = connection
        self.cursor = cursor


class PostgresConversationStore(PostgresHooks, ServerSqlConversationStore):
    """Conversations in PostgreSQL through psycopg 3; safe to share between threads."""

    def __init__(self, config: PostgresConversationConfig) -> None:
        self._use_postgres(config, "format")
        self._psycopg = self._import_driver("psycopg")
        self._open(config.pool_size)

    def _connect(self) -> Any:
        connection = self._psycopg.connect(
            autocommit=True,
            prepare_threshold=5 if self.config.prepared_statements else None,
            **libpq_options(self.config),
        )
        return _Connection(connection, connection.cursor())

    def _dispose(self, connection: Any) -> None:
        connection.connection.close()

    def _alive(self, connection: Any) -> bool:
        return not (connection.connection.closed or connection.connection.broken)

    def _execute(self, connection: Any, step: Step) -> Any:
        return run_step(connection.cursor, step)

    def _is_disconnect(self, error: BaseException) -> bool:
        psycopg = self._psycopg
        if isinstance(error, psycopg.InterfaceError):
            return True  # "the connection is closed"
        if isinstance(error, psycopg.OperationalError):
            sqlstate = error.sqlstate
            return sqlstate is None or is_disconnect_sqlstate(sqlstate)
        return False

    def _classify(self, error: BaseException) -> IntegrityViolation | None:
        if isinstance(error, self._psycopg.IntegrityError):
            return integrity_violation(error.sqlstate, str(error))
        return None

    def _refused_value(self, error: BaseException) -> str | None:
        # e.g. "PostgreSQL text fields cannot contain NUL (0x00) bytes"
        if isinstance(error, self._psycopg.DataError):
            return f"PostgreSQL refused a value: {error}"
        return None
