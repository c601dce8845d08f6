"""Async PostgreSQL conversation store.

Engine: PostgreSQL (and engines speaking its protocol and dialect).
Driver: asyncpg (extra ``postgres``), with a pool of connections (``pool_size``) per event loop.
URL forms: as ``postgres`` (``postgresql://user:password@host:5432/database?sslmode=require&schema=chat``,
``postgres://``, ``postgresql+asyncpg://``, ``cockroachdb://``).
Aliases: ``asyncpg``, ``postgres_async``.
Test tier: server (PostgreSQL 15 on loopback).

The schema, statements and control flow are those of the ``postgres`` store (one SQL
layer: ``_sql_statements.py``, ``_sql_operations.py``, rendered with ``$1`` placeholders); only the
runner differs. The
store connects on first use; the first call also creates the schema if needed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ._postgres_driver import PostgresHooks, integrity_violation, is_disconnect_sqlstate
from ._server_runner import AsyncServerSqlConversationStore
from ._sql_operations import IntegrityViolation, Step
from .config import AsyncPostgresConversationConfig

__all__ = ["AsyncPostgresConversationStore"]


class AsyncPostgresConversationStore(PostgresHooks, AsyncServerSqlConversationStore):
    """Conversations in PostgreSQL through asyncpg; any number of tasks may share it."""

    def __init__(self, config: AsyncPostgresConversationConfig) -> None:
        self._use_postgres(config, "numeric")
        self._asyncpg = self._import_driver("asyncpg")
        self._init_runner(config.pool_size)

    async def _connect(self) -> Any:
        config = self.config
        ssl: Any = config.sslmode
        if config.sslrootcert is not None and config.sslmode in ("verify-ca", "verify-full"):
            import ssl as ssl_module

            ssl = ssl_module.create_default_context(cafile=config.sslrootcert)
            ssl.check_hostname = config.sslmode == "verify-full"
        return await self._asyncpg.connect(
            host=config.host,
            port=config.port,
            user=config.user,
            password=None if config.password is None else config.password.get_secret_value(),
            database=config.database,
            ssl=ssl,
            timeout=config.connect_timeout,
            statement_cache_size=100 if config.prepared_statements else 0,
            server_settings={"application_name": config.application_name},
        )

    async def _dispose(self, connection: Any) -> None:
        await connection.close(timeout=self.config.connect_timeout)

    def _terminate(self, connection: Any) -> None:
        connection.terminate()

    def _alive(self, connection: Any) -> bool:
        return not connection.is_closed()

    async def _execute(self, connection: Any, step: Step) -> Any:
        if step.many:
            await connection.executemany(step.sql, step.params)
            return None
        if step.fetch == "all":
            return await connection.fetch(step.sql, *step.params)
        if step.fetch == "one":
            return await connection.fetchrow(step.sql, *step.params)
        status = await connection.execute(step.sql, *step.params)
        if step.fetch == "rowcount":
            # The command tag: "UPDATE 1", "DELETE 3", "INSERT 0 1".
            return int(status.rsplit(" ", 1)[-1])
        return None

    def _is_disconnect(self, error: BaseException) -> bool:
        exceptions = self._asyncpg.exceptions
        if isinstance(error, (OSError, asyncio.TimeoutError, exceptions.ConnectionDoesNotExistError)):
            return True
        if isinstance(error, exceptions.InternalClientError):
            # "cannot switch to state ...": the server's goodbye arrived while the connection was
            # idle and left it unusable; raised before anything is sent.
            return True
        if isinstance(error, exceptions.InterfaceError):
            return "closed" in str(error)  # "connection is closed"
        if isinstance(error, exceptions.PostgresError):
            return is_disconnect_sqlstate(getattr(error, "sqlstate", None))
        return False

    def _classify(self, error: BaseException) -> IntegrityViolation | None:
        if isinstance(error, self._asyncpg.exceptions.IntegrityConstraintViolationError):
            return integrity_violation(error.sqlstate, str(error))
        return None

    def _refused_value(self, error: BaseException) -> str | None:
        # Class 22, data exceptions: e.g. a NUL character in text.
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(error, self._asyncpg.exceptions.PostgresError) and str(sqlstate).startswith("22"):
            return f"PostgreSQL refused a value: {error}"
        return None
