"""What the postgres and async_postgres stores know of PostgreSQL besides the SQL: its address and error codes.

:class:`PostgresHooks` is what the two stores share of the server runner's hooks.
"""

from __future__ import annotations

from typing import Any, Literal

from .._fields import libpq_seconds
from ._server_runner import _ServerRunner
from ._sql_operations import ConversationOperations, IntegrityViolation
from ._sql_statements import POSTGRES, ConversationStatements
from .config import AsyncPostgresConversationConfig, PostgresConversationConfig

__all__ = [
    "PostgresHooks",
    "integrity_violation",
    "is_disconnect_sqlstate",
    "libpq_options",
    "postgres_address",
    "postgres_operations",
]

# 40P01 deadlock detected, 40001 serialization failure: the server rolled the transaction back.
# 55P03 lock not available (lock_timeout ran out).
_CONFLICT_STATES = {"40P01": "retry", "40001": "retry", "55P03": "wait"}
# Class 08: connection exceptions; 57P01-57P03: the server is shutting down, crashed or starting up.
_DISCONNECT_STATES = ("57P01", "57P02", "57P03")


def postgres_operations(
    config: PostgresConversationConfig | AsyncPostgresConversationConfig,
    paramstyle: Literal["format", "numeric"],
) -> ConversationOperations:
    statements = ConversationStatements(POSTGRES, config.table_prefix, config.schema_name, paramstyle)
    return ConversationOperations(statements)


def postgres_address(config: PostgresConversationConfig | AsyncPostgresConversationConfig) -> str:
    where = config.host if config.host.startswith("/") else f"{config.host}:{config.port}"
    return f"PostgreSQL at {where}" + (f"/{config.database}" if config.database else "")


def libpq_options(config: PostgresConversationConfig | AsyncPostgresConversationConfig) -> dict[str, Any]:
    """The keyword options of ``psycopg.connect`` for ``config`` (those it sets)."""
    options: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "dbname": config.database,
        "user": config.user,
        "password": None if config.password is None else config.password.get_secret_value(),
        "sslmode": config.sslmode,
        "sslrootcert": config.sslrootcert,
        "connect_timeout": libpq_seconds(config.connect_timeout),
        "application_name": config.application_name,
    }
    return {key: value for key, value in options.items() if value is not None}


def is_disconnect_sqlstate(sqlstate: str | None) -> bool:
    return sqlstate is not None and (sqlstate.startswith("08") or sqlstate in _DISCONNECT_STATES)


def integrity_violation(sqlstate: str | None, detail: str) -> IntegrityViolation | None:
    """Class 23 is integrity: 23505 unique, 23503 foreign key."""
    if sqlstate is None or not sqlstate.startswith("23"):
        return None
    kind: Literal["unique", "foreign_key", "other"] = (
        "unique" if sqlstate == "23505" else "foreign_key" if sqlstate == "23503" else "other"
    )
    return IntegrityViolation(kind, detail)


class PostgresHooks(_ServerRunner):
    """The config, backend name, statements, address and description of the postgres and async_postgres stores."""

    config: PostgresConversationConfig | AsyncPostgresConversationConfig

    def _use_postgres(
        self,
        config: PostgresConversationConfig | AsyncPostgresConversationConfig,
        paramstyle: Literal["format", "numeric"],
    ) -> None:
        self.config = config
        self.backend = config.backend  # the name its config model states (the catalogue row's)
        self._ops = postgres_operations(config, paramstyle)
        self._address = postgres_address(config)

    def _conflict(self, error: BaseException) -> str | None:
        # psycopg's and asyncpg's errors both carry the SQLSTATE as ``sqlstate``.
        return _CONFLICT_STATES.get(str(getattr(error, "sqlstate", None)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._address}, schema={self.config.schema_name!r})"
