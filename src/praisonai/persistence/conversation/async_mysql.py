"""Async MySQL / MariaDB conversation store.

Engine: MySQL 5.7+ / 8.x and MariaDB 10.3+ (InnoDB).
Driver: aiomysql (extra ``mysql``; it builds on PyMySQL), with a pool of connections
(``pool_size``) per event loop.
URL forms: as ``mysql`` (``mysql://user:password@host:3306/database``, ``mysql+aiomysql://``,
``mariadb://``, ``?ssl_mode=required``).
Aliases: ``aiomysql``, ``mysql_async``.
Test tier: server (MariaDB 10.11 on loopback; MySQL proper is not exercised).

The schema, statements and control flow are those of the ``mysql`` store (one SQL
layer: ``_sql_statements.py``, ``_sql_operations.py``); only the runner differs. utf8mb4 end to end, FOUND_ROWS, strict
SQL mode, as there. The store connects on first use; the first call also creates the
schema if needed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ._mysql_driver import TLS_STATUS, MySqlHooks, check_packet, check_tls, connect_arguments, ssl_context
from ._server_runner import AsyncServerSqlConversationStore
from ._sql_operations import Step
from .config import AsyncMySqlConversationConfig

__all__ = ["AsyncMySqlConversationStore"]


class AsyncMySqlConversationStore(MySqlHooks, AsyncServerSqlConversationStore):
    """Conversations in MySQL or MariaDB through aiomysql; any number of tasks may share it."""

    backend = "async_mysql"
    _disconnects = (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError)

    def __init__(self, config: AsyncMySqlConversationConfig) -> None:
        self.config = config
        self._aiomysql = self._import_driver("aiomysql")
        self._pymysql = self._import_driver("pymysql")
        self._use_mysql(config, self._pymysql.err)
        self._init_runner(config.pool_size)

    async def _connect(self) -> Any:
        config = self.config
        connection = await self._aiomysql.connect(
            password="" if config.password is None else config.password.get_secret_value(),
            db=config.database,
            ssl=ssl_context(config),
            **connect_arguments(config, self._pymysql),
        )
        try:
            async with connection.cursor() as cursor:
                await cursor.execute(TLS_STATUS)
                check_tls(config, await cursor.fetchone())
        except BaseException:
            connection.close()
            raise
        return connection

    async def _dispose(self, connection: Any) -> None:
        await connection.ensure_closed()

    def _terminate(self, connection: Any) -> None:
        connection.close()

    def _alive(self, connection: Any) -> bool:
        return not connection.closed

    async def _execute(self, connection: Any, step: Step) -> Any:
        check_packet(step, self._max_packet)
        async with connection.cursor() as cursor:
            if step.many:
                await cursor.executemany(step.sql, step.params)
            else:
                await cursor.execute(step.sql, step.params or None)
            if step.fetch == "all":
                return await cursor.fetchall()
            if step.fetch == "one":
                return await cursor.fetchone()
            return cursor.rowcount if step.fetch == "rowcount" else None


AsyncMySQLConversationStore = AsyncMySqlConversationStore
"""PraisonAI 4.7.19's name of :class:`AsyncMySqlConversationStore`."""
