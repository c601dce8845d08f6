"""MySQL / MariaDB conversation store.

Engine: MySQL 5.7+ / 8.x and MariaDB 10.3+ (InnoDB).
Driver: PyMySQL (extra ``mysql``), with a pool of connections (``pool_size``).
URL forms: ``mysql://user:password@host:3306/database``, ``mysql+pymysql://...``,
``mariadb://...``; ``?ssl_mode=required`` (or ``ssl-mode``), ``?ssl_ca=/path/ca.pem``,
``?connect_timeout=5``. Or the fields of
:class:`~praisonai.persistence.conversation.config.MySqlConversationConfig`.
Test tier: server (MariaDB 10.11 on loopback; MySQL proper is not exercised).

utf8mb4 end to end: the connection, the tables and every text column, so emoji and
other 4-byte characters round-trip. Ids are compared byte for byte (a NO PAD binary
collation where the server has one). Connections use the FOUND_ROWS flag: an UPDATE
reports the rows it matched, not only those it changed. Schema and statements are the
``async_mysql`` store's too (``_sql_statements.py``, ``_sql_operations.py``).
"""

from __future__ import annotations

from typing import Any

from ._mysql_driver import SyncMySqlStore, connect_arguments, ssl_context, tls_checked
from .config import MySqlConversationConfig

__all__ = ["MySqlConversationStore"]


class MySqlConversationStore(SyncMySqlStore):
    """Conversations in MySQL or MariaDB through PyMySQL; safe to share between threads."""

    backend = "mysql"
    config: MySqlConversationConfig
    _driver_module = "pymysql"
    _errors_module = "pymysql.err"

    def _connect(self) -> Any:
        config = self.config
        options: dict[str, Any] = {}
        if config.ssl_mode == "disabled":
            options["ssl_disabled"] = True
        elif config.ssl_mode != "preferred":
            options["ssl"] = ssl_context(config)
        connection = self._driver.connect(
            password=None if config.password is None else config.password.get_secret_value(),
            database=config.database,
            **connect_arguments(config, self._driver),
            **options,
        )
        return tls_checked(connection, config)

    def _alive(self, connection: Any) -> bool:
        return bool(connection.open)


MySQLConversationStore = MySqlConversationStore
"""PraisonAI 4.7.19's name of :class:`MySqlConversationStore`."""
