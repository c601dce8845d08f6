"""What the mysql, async_mysql and singlestore stores know of their drivers and the MySQL server.

Error codes, the TLS settings, the server probe that picks the id collation, the
schema operation built from it, and :class:`MySqlHooks`, the driver hooks of the three
stores (their drivers raise exceptions of the same DB-API shape with the same codes),
with :class:`SyncMySqlStore` the base of the two synchronous ones.
The statements are ``_sql_statements.py``'s (dialect ``MYSQL``).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from ..errors import BackendUnavailableError, InvalidInputError
from ._praisonai_schema import prepare_schema
from ._server_runner import ServerSqlConversationStore, _ServerRunner
from ._sql_operations import ConversationOperations, IntegrityViolation, Step, run_step
from ._sql_operations import Operation as _Operation
from ._sql_statements import MYSQL, SINGLESTORE, ConversationStatements, Dialect
from .config import AsyncMySqlConversationConfig, MySqlConversationConfig, SingleStoreConversationConfig

__all__ = [
    "DISCONNECT_CODES",
    "SESSION_SETUP",
    "TLS_STATUS",
    "MySqlHooks",
    "SyncMySqlStore",
    "check_packet",
    "check_tls",
    "connect_arguments",
    "error_code",
    "integrity_violation",
    "mysql_address",
    "mysql_operations",
    "refused_value",
    "schema_operation",
    "ssl_context",
]

MySqlSettings = MySqlConversationConfig | AsyncMySqlConversationConfig | SingleStoreConversationConfig

# Client and server codes that mean the connection or the server is gone: 2003 can't connect,
# 2006 server has gone away, 2013 lost connection, 2055 lost connection (system error),
# 1053 server shutdown in progress, 1927 connection killed (MariaDB), 4031 idle disconnect (MySQL),
# 1040 too many connections.
DISCONNECT_CODES = frozenset({1040, 1053, 1927, 2003, 2006, 2013, 2055, 4031})
# 1213 deadlock (the server rolled the transaction back); 1205 lock wait timeout (it waited already).
_CONFLICT_CODES = {1213: "retry", 1205: "wait"}
_UNIQUE_CODES = frozenset({1062, 1586})
_FOREIGN_KEY_CODES = frozenset({1216, 1217, 1451, 1452})
# 1366 incorrect string value, 1406 data too long, 1292 truncated value, 1153 a statement larger than the
# server's max_allowed_packet (16 MiB by default; the server also drops the connection, which is then discarded).
_REFUSED_VALUE_CODES = frozenset({1153, 1292, 1366, 1406})

# Strict, so that a value the table cannot hold is an error rather than silently cut.
SESSION_SETUP = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"
TLS_STATUS = "SHOW SESSION STATUS LIKE 'Ssl_cipher'"

# Binary collations that compare ids byte for byte, including trailing spaces (NO PAD);
# utf8mb4_bin, the fallback, pads: "a" and "a " are the same key there.
_ID_COLLATIONS = ("utf8mb4_0900_bin", "utf8mb4_nopad_bin")
_COLLATION_PROBE = "SELECT COLLATION_NAME FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN (%s, %s)"
_SINGLESTORE_PROBE = "SHOW VARIABLES LIKE 'memsql_version'"
_PACKET_PROBE = "SELECT @@max_allowed_packet"
_ESCAPED = ("\\", "'", '"', "\n", "\r", "\x00", "\x1a")  # what the driver escapes with one more byte


def mysql_operations(config: MySqlSettings) -> ConversationOperations:
    return ConversationOperations(ConversationStatements(MYSQL, config.table_prefix))


def mysql_address(config: MySqlSettings) -> str:
    engine = "SingleStore" if isinstance(config, SingleStoreConversationConfig) else "MySQL"
    return f"{engine} at {config.host}:{config.port}/{config.database}"


def schema_operation(config: MySqlSettings) -> _Operation[None]:
    """Probe the server, then create the tables with the best id collation it has.

    The SingleStore store creates SingleStore's table layout on SingleStore and MySQL's
    elsewhere (it also speaks to MySQL and MariaDB); only the DDL differs, never a statement.
    """
    dialect: Dialect = MYSQL
    if isinstance(config, SingleStoreConversationConfig):
        rows = yield Step(_SINGLESTORE_PROBE, (), "all")
        if rows:
            dialect = SINGLESTORE
    names = {row[0] for row in (yield Step(_COLLATION_PROBE, _ID_COLLATIONS, "all"))}
    collation = next((name for name in _ID_COLLATIONS if name in names), "utf8mb4_bin")
    dialect = replace(dialect, id_type=f"VARCHAR(255) CHARACTER SET utf8mb4 COLLATE {collation}")
    statements = ConversationStatements(dialect, config.table_prefix)
    yield from prepare_schema(statements)


def _encoded_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass")) + sum(value.count(char) for char in _ESCAPED) + 2
    return 24  # a number or NULL


def check_packet(step: Step, limit: int | None) -> None:
    """Refuse a statement larger than the server's ``max_allowed_packet``, before it is sent.

    The server answers one by dropping the connection, which would read as an outage
    (:class:`BackendUnavailableError`) and invite a retry that can never succeed.
    Strings shorter than a sixteenth of the limit are not measured: they cost nothing here.
    """
    if limit is None:
        return
    rows = step.params if step.many else (step.params,)
    for row in rows:
        if not any(isinstance(value, str) and len(value) * 4 > limit // 4 for value in row):
            continue
        size = len(step.sql) + sum(_encoded_size(value) for value in row)
        if size > limit:
            raise InvalidInputError(
                f"a statement of {size} bytes exceeds the server's max_allowed_packet ({limit} bytes);"
                " nothing was written (store smaller values, or raise max_allowed_packet)"
            )


def error_code(error: BaseException) -> int | None:
    """The server or client error number of a PyMySQL, aiomysql or singlestoredb error."""
    code = getattr(error, "errno", None)
    if isinstance(code, int):
        return code
    args = getattr(error, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def integrity_violation(error: BaseException) -> IntegrityViolation | None:
    code = error_code(error)
    if code in _UNIQUE_CODES:
        return IntegrityViolation("unique", str(error))
    if code in _FOREIGN_KEY_CODES:
        return IntegrityViolation("foreign_key", str(error))
    return None


def refused_value(error: BaseException) -> str | None:
    if error_code(error) in _REFUSED_VALUE_CODES:
        return f"the server refused a value: {error}"
    return None


def connect_arguments(config: MySqlSettings, pymysql: Any) -> dict[str, Any]:
    """What PyMySQL and aiomysql connections share: utf8mb4, autocommit, FOUND_ROWS and strict SQL mode."""
    return {
        "host": config.host,
        "port": config.port,
        "user": config.user,
        "charset": "utf8mb4",
        "autocommit": True,
        "client_flag": pymysql.constants.CLIENT.FOUND_ROWS,
        "connect_timeout": config.connect_timeout,
        "init_command": SESSION_SETUP,
    }


def ssl_context(config: MySqlSettings) -> ssl.SSLContext | None:
    """The TLS context of ``ssl_mode``; None for ``disabled``."""
    if config.ssl_mode == "disabled":
        return None
    verify = config.ssl_mode in ("verify_ca", "verify_identity")
    context = ssl.create_default_context(cafile=config.ssl_ca) if verify else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = config.ssl_mode == "verify_identity"
    if not verify:
        context.verify_mode = ssl.CERT_NONE
    return context


def check_tls(config: MySqlSettings, status: tuple[object, ...] | None) -> None:
    """Refuse a plaintext connection when ``ssl_mode`` requires TLS (``status``: the Ssl_cipher row)."""
    if config.ssl_mode in ("required", "verify_ca", "verify_identity") and not (status and status[1]):
        raise BackendUnavailableError(f"ssl_mode={config.ssl_mode!r} but {mysql_address(config)} did not negotiate TLS")


def tls_checked(connection: Any, config: MySqlSettings, prepare: Callable[[Any], object] | None = None) -> Any:
    """``connection`` (a sync DB-API one) after ``prepare(cursor)`` and the TLS check; closed when either fails."""
    try:
        with connection.cursor() as cursor:
            if prepare is not None:
                prepare(cursor)
            cursor.execute(TLS_STATUS)
            check_tls(config, cursor.fetchone())
    except BaseException:
        connection.close()
        raise
    return connection


class MySqlHooks(_ServerRunner):
    """The driver hooks of the mysql, async_mysql and singlestore stores.

    ``_errors`` is the module of the driver's DB-API exceptions: PyMySQL's ``err``
    (aiomysql raises PyMySQL's) or ``singlestoredb.exceptions``.
    """

    config: MySqlSettings
    _errors: Any
    _max_packet: int | None = None  # the server's max_allowed_packet, read when the schema is made
    _disconnects: ClassVar[tuple[type[BaseException], ...]] = (OSError,)
    """Exceptions besides the driver's that mean the connection is gone."""

    def _use_mysql(self, config: MySqlSettings, errors: Any) -> None:
        self._errors = errors
        self._ops = mysql_operations(config)
        self._address = mysql_address(config)

    def _schema_operation(self) -> _Operation[None]:
        row = yield Step(_PACKET_PROBE, (), "one")
        self._max_packet = int(row[0]) if row and row[0] else None
        yield from schema_operation(self.config)

    def _conflict(self, error: BaseException) -> str | None:
        if isinstance(error, self._errors.DatabaseError):
            return _CONFLICT_CODES.get(error_code(error) or 0)
        return None

    def _is_disconnect(self, error: BaseException) -> bool:
        if isinstance(error, self._errors.InterfaceError):
            return True  # the connection was closed
        if isinstance(error, self._errors.OperationalError):
            return error_code(error) in DISCONNECT_CODES
        return isinstance(error, self._disconnects)

    def _classify(self, error: BaseException) -> IntegrityViolation | None:
        if isinstance(error, self._errors.IntegrityError):
            return integrity_violation(error)
        return None

    def _refused_value(self, error: BaseException) -> str | None:
        return refused_value(error) if isinstance(error, self._errors.DatabaseError) else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._address})"


class SyncMySqlStore(MySqlHooks, ServerSqlConversationStore):
    """The base of the synchronous stores, mysql (PyMySQL) and singlestore (singlestoredb): how they open
    (the driver, its module of DB-API errors, a pool) and their connections' hooks (alike in both)."""

    _driver_module: ClassVar[str]
    _errors_module: ClassVar[str]

    def __init__(self, config: MySqlConversationConfig | SingleStoreConversationConfig) -> None:
        self.config = config
        self._driver = self._import_driver(self._driver_module)
        self._use_mysql(config, self._import_driver(self._errors_module))
        self._open(config.pool_size)

    def _dispose(self, connection: Any) -> None:
        connection.close()

    def _execute(self, connection: Any, step: Step) -> Any:
        check_packet(step, self._max_packet)
        with connection.cursor() as cursor:
            result = run_step(cursor, step)
            return list(result) if step.fetch == "all" else result  # rows as a list, whichever driver
