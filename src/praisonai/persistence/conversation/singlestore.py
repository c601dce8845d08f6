"""SingleStore conversation store.

Engine: SingleStore (formerly MemSQL), over the MySQL protocol; it also works against
MySQL and MariaDB.
Driver: singlestoredb (extra ``singlestore``), with a pool of connections (``pool_size``).
URL forms: ``singlestoredb://user:password@host:3306/database``, ``singlestore://...``,
``mysql://...``; ``?ssl_mode=verify_identity&ssl_ca=/path/ca.pem``. The HTTP Data API
(``http://``, ``https://``) is not supported: it has no transactions.
Test tier: emulator: MariaDB 10.11 on loopback stands in for SingleStore. What that covers:
the driver, the connection settings, every statement (the ``mysql`` store's: one SQL layer,
``_sql_statements.py``, ``_sql_operations.py``) and the control flow. What it does not: SingleStore
itself, and its own table layout. On SingleStore (detected by ``@@memsql_version``) the tables
have no foreign keys and the messages table is sharded by session (``SHARD KEY (session_id)``,
the row number an AUTO_INCREMENT key rather than the primary key); that DDL has not run on a
SingleStore server here.
"""

from __future__ import annotations

from typing import Any

from .._singlestore import connect
from ._mysql_driver import SESSION_SETUP, SyncMySqlStore, tls_checked
from .config import SingleStoreConversationConfig

__all__ = ["SingleStoreConversationStore"]


class SingleStoreConversationStore(SyncMySqlStore):
    """Conversations in SingleStore through singlestoredb; safe to share between threads."""

    backend = "singlestore"
    config: SingleStoreConversationConfig
    _driver_module = "singlestoredb"
    _errors_module = "singlestoredb.exceptions"

    def _connect(self) -> Any:
        config = self.config
        tls: dict[str, Any] = {}
        if config.ssl_mode == "disabled":
            tls["ssl_disabled"] = True
        elif config.ssl_mode in ("verify_ca", "verify_identity"):
            tls.update(ssl_ca=config.ssl_ca, ssl_verify_cert=True)
            tls["ssl_verify_identity"] = config.ssl_mode == "verify_identity"
        connection = connect(self._driver, config, client_found_rows=True, **tls)
        return tls_checked(connection, config, self._set_up_session)

    @staticmethod
    def _set_up_session(cursor: Any) -> None:
        cursor.execute("SHOW VARIABLES LIKE 'memsql_version'")
        if not cursor.fetchall():  # MySQL or MariaDB: SingleStore's sql_mode has values of its own
            cursor.execute(SESSION_SETUP)

    def _alive(self, connection: Any) -> bool:
        return bool(connection.is_connected())
