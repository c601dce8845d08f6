"""The SQL of the relational conversation stores: each engine's dialect, and every statement once.

:class:`Dialect` says how an engine spells types, placeholders and upserts;
:class:`ConversationStatements` renders every statement of the conversation
schema once per dialect and table prefix. The control flow that runs them is
``_sql_operations.py``; no driver is touched here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = [
    "MESSAGE_COLUMNS",
    "MYSQL",
    "POSTGRES",
    "SESSION_COLUMNS",
    "SINGLESTORE",
    "SQLITE",
    "ConversationStatements",
    "Dialect",
]


def _on_conflict(key: str, columns: Sequence[str]) -> str:
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns)
    return f"ON CONFLICT ({key}) DO UPDATE SET {updates}, updated_at = ?"


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one SQL engine spells what the conversation schema needs (the defaults: SQLite's and PostgreSQL's)."""

    name: str
    paramstyle: Literal["qmark", "format", "numeric"]
    real_type: str  # epoch seconds with sub-second precision
    serial_primary_key: str  # an ever-increasing row number, the tie-break of equal timestamps
    id_type: str = "TEXT"  # session/message ids, user ids, roles (<= 255 characters)
    text_type: str = "TEXT"  # message content
    json_type: str = "TEXT"  # JSON text
    upsert: Callable[[str, Sequence[str]], str] = _on_conflict  # (conflict column, updated columns) -> clause
    create_index_if_not_exists: bool = True
    table_options: str = ""
    # MySQL has no CREATE INDEX IF NOT EXISTS (MariaDB has): indexes go inside CREATE TABLE.
    inline_indexes: bool = False
    # SingleStore has no foreign keys; no operation relies on the cascade (sessions delete their messages).
    foreign_keys: bool = True
    message_keys: tuple[str, ...] = ()  # extra table keys of the messages table (SingleStore: its shard key)
    quote: str = '"'  # quotes the schema name
    # Counts which of two tables (``?``: their names as the statements spell them) exist, so
    # that a role without DDL privileges can use tables someone else created.
    tables_exist: str | None = None


def _on_duplicate_key(key: str, columns: Sequence[str]) -> str:
    # VALUES(column) rather than MySQL 8's row alias: MariaDB and SingleStore only know VALUES().
    updates = ", ".join(f"{column} = VALUES({column})" for column in columns)
    return f"ON DUPLICATE KEY UPDATE {updates}, updated_at = ?"


SQLITE = Dialect(
    name="sqlite",
    paramstyle="qmark",
    real_type="REAL",
    serial_primary_key="INTEGER PRIMARY KEY",
)

# PostgreSQL and the engines that speak its dialect (CockroachDB, Neon, Supabase, Xata). JSON is
# kept as TEXT: jsonb would reorder keys and refuses "\u0000", so values would not round-trip exactly.
POSTGRES = Dialect(
    name="postgres",
    paramstyle="format",
    real_type="DOUBLE PRECISION",
    serial_primary_key="BIGSERIAL PRIMARY KEY",
    tables_exist="SELECT (to_regclass(?) IS NOT NULL)::int + (to_regclass(?) IS NOT NULL)::int",
)

# MySQL and MariaDB. Ids compare byte for byte: the runner swaps in a NO PAD binary collation
# where the server has one (utf8mb4_bin treats "a" and "a " as the same key).
MYSQL = Dialect(
    name="mysql",
    paramstyle="format",
    id_type="VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    text_type="LONGTEXT",
    json_type="LONGTEXT",
    real_type="DOUBLE",
    serial_primary_key="BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
    upsert=_on_duplicate_key,
    create_index_if_not_exists=False,
    table_options=" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    inline_indexes=True,
    quote="`",
    tables_exist=(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (?, ?)"
    ),
)

# SingleStore shares MySQL's statements; its tables differ: no foreign keys, and every unique
# key of a sharded table must contain the shard key, so messages are sharded by session.
SINGLESTORE = replace(
    MYSQL,
    name="singlestore",
    serial_primary_key="BIGINT NOT NULL AUTO_INCREMENT",
    table_options=" DEFAULT CHARSET=utf8mb4",
    foreign_keys=False,
    message_keys=("KEY (seq)", "SHARD KEY (session_id)"),
)

SESSION_COLUMNS = ("session_id", "user_id", "agent_id", "name", "state", "metadata", "created_at", "updated_at")
MESSAGE_COLUMNS = ("id", "session_id", "role", "content", "tool_calls", "tool_call_id", "metadata", "created_at")
# Joined once: the statement methods run on every call (their cache lookup must stay cheap).
_SESSION_LIST, _SESSION_MARKS = ", ".join(SESSION_COLUMNS), ", ".join("?" * len(SESSION_COLUMNS))
_MESSAGE_LIST, _MESSAGE_MARKS = ", ".join(MESSAGE_COLUMNS), ", ".join("?" * len(MESSAGE_COLUMNS))


def _render(sql: str, paramstyle: str) -> str:
    """Statements are written with ``?``; other drivers get ``%s`` or ``$1, $2, ...``."""
    if paramstyle == "qmark":
        return sql
    if paramstyle == "format":
        return sql.replace("%", "%%").replace("?", "%s")
    parts = sql.split("?")
    return "".join(part + (f"${index}" if index < len(parts) else "") for index, part in enumerate(parts, 1))


@dataclass(slots=True)
class ConversationStatements:
    """Every statement of the conversation schema, rendered for one dialect and table prefix.

    ``namespace`` (a validated identifier) qualifies the table names: the PostgreSQL schema.
    ``paramstyle`` overrides the dialect's when two drivers of one engine differ (psycopg
    takes ``%s``, asyncpg ``$1``); the statements themselves stay the same.
    """

    dialect: Dialect
    table_prefix: str
    namespace: str | None = None
    paramstyle: Literal["qmark", "format", "numeric"] | None = None
    sessions: str = field(init=False)
    messages: str = field(init=False)
    schema: tuple[str, ...] = field(init=False)
    _cache: dict[tuple[Any, ...], str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        d = self.dialect
        qualifier = f"{d.quote}{self.namespace}{d.quote}." if self.namespace else ""
        s_name, m_name = f"{self.table_prefix}sessions", f"{self.table_prefix}messages"
        s, m = f"{qualifier}{s_name}", f"{qualifier}{m_name}"
        self.sessions, self.messages = s, m
        references = (
            [f"FOREIGN KEY (session_id) REFERENCES {s} (session_id) ON DELETE CASCADE"] if d.foreign_keys else []
        )
        self.schema = (
            *([f"CREATE SCHEMA IF NOT EXISTS {d.quote}{self.namespace}{d.quote}"] if self.namespace else []),
            *self._table(
                s,
                [
                    f"session_id {d.id_type} NOT NULL PRIMARY KEY",
                    f"user_id {d.id_type}",
                    f"agent_id {d.id_type}",
                    f"name {d.text_type}",
                    f"state {d.json_type}",
                    f"metadata {d.json_type}",
                    f"created_at {d.real_type} NOT NULL",
                    f"updated_at {d.real_type} NOT NULL",
                ],
                [
                    (f"{s_name}_by_updated", "updated_at"),
                    (f"{s_name}_by_user", "user_id, updated_at"),
                    (f"{s_name}_by_agent", "agent_id, updated_at"),
                ],
            ),
            *self._table(
                m,
                [
                    f"seq {d.serial_primary_key}",
                    f"id {d.id_type} NOT NULL",
                    f"session_id {d.id_type} NOT NULL",
                    f"role {d.id_type} NOT NULL",
                    f"content {d.text_type} NOT NULL",
                    f"tool_calls {d.json_type}",
                    f"tool_call_id {d.id_type}",
                    f"metadata {d.json_type}",
                    f"created_at {d.real_type} NOT NULL",
                    *references,
                    "UNIQUE (session_id, id)",
                    *d.message_keys,
                ],
                [(f"{m_name}_by_time", "session_id, created_at, seq")],
            ),
        )

    def _table(self, name: str, columns: list[str], indexes: list[tuple[str, str]]) -> list[str]:
        d = self.dialect
        if d.inline_indexes:
            columns = [*columns, *(f"KEY {index} ({keys})" for index, keys in indexes)]
        statements = [f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(columns)}){d.table_options}"]
        if not d.inline_indexes:
            exists = "IF NOT EXISTS " if d.create_index_if_not_exists else ""
            statements += [f"CREATE INDEX {exists}{index} ON {name} ({keys})" for index, keys in indexes]
        return statements

    def get(self, key: tuple[Any, ...], build: Callable[[], str]) -> str:
        sql = self._cache.get(key)
        if sql is None:
            sql = self._cache[key] = _render(build(), self.paramstyle or self.dialect.paramstyle)
        return sql

    # Each statement is written once, below, and rendered per dialect on first use.

    def tables_exist(self) -> str | None:
        check = self.dialect.tables_exist
        return None if check is None else self.get(("tables_exist",), lambda: check)

    def insert_session(self) -> str:
        return self.get(
            ("insert_session",), lambda: f"INSERT INTO {self.sessions} ({_SESSION_LIST}) VALUES ({_SESSION_MARKS})"
        )

    def upsert_session(self) -> str:
        updated = ("user_id", "agent_id", "name", "state", "metadata")
        return self.get(
            ("upsert_session",),
            lambda: (
                f"INSERT INTO {self.sessions} ({_SESSION_LIST}) VALUES ({_SESSION_MARKS}) "
                + self.dialect.upsert("session_id", updated)
            ),
        )

    def select_session(self) -> str:
        return self.get(
            ("select_session",), lambda: f"SELECT {_SESSION_LIST} FROM {self.sessions} WHERE session_id = ?"
        )

    def update_session(self) -> str:
        return self.get(
            ("update_session",),
            lambda: (
                f"UPDATE {self.sessions} SET user_id = ?, agent_id = ?, name = ?, state = ?, metadata = ?, "
                "updated_at = ? WHERE session_id = ?"
            ),
        )

    def touch_session(self) -> str:
        return self.get(("touch_session",), lambda: f"UPDATE {self.sessions} SET updated_at = ? WHERE session_id = ?")

    def delete_session(self) -> str:
        return self.get(("delete_session",), lambda: f"DELETE FROM {self.sessions} WHERE session_id = ?")

    def list_sessions(self, by_user: bool, by_agent: bool) -> str:
        def build() -> str:
            columns = ", ".join(SESSION_COLUMNS)
            where = [name for name, used in (("user_id = ?", by_user), ("agent_id = ?", by_agent)) if used]
            clause = f" WHERE {' AND '.join(where)}" if where else ""
            return (
                f"SELECT {columns} FROM {self.sessions}{clause} "
                "ORDER BY updated_at DESC, session_id ASC LIMIT ? OFFSET ?"
            )

        return self.get(("list_sessions", by_user, by_agent), build)

    def insert_message(self) -> str:
        return self.get(
            ("insert_message",), lambda: f"INSERT INTO {self.messages} ({_MESSAGE_LIST}) VALUES ({_MESSAGE_MARKS})"
        )

    def select_messages(self, before: bool, after: bool, limited: bool) -> str:
        def build() -> str:
            columns = ", ".join(MESSAGE_COLUMNS)
            where = (
                "session_id = ?" + (" AND created_at < ?" if before else "") + (" AND created_at > ?" if after else "")
            )
            # The most recent N are taken newest-first through the index, then reversed by the caller.
            order = "created_at DESC, seq DESC LIMIT ?" if limited else "created_at ASC, seq ASC"
            return f"SELECT {columns} FROM {self.messages} WHERE {where} ORDER BY {order}"

        return self.get(("select_messages", before, after, limited), build)

    def message_page(self, first: bool) -> str:
        def build() -> str:
            columns = ", ".join(MESSAGE_COLUMNS)
            # A keyset on (created_at, seq); "created_at >= ?" lets every engine range-scan the index.
            keyset = "" if first else " AND created_at >= ? AND (created_at > ? OR seq > ?)"
            return (
                f"SELECT {columns}, seq FROM {self.messages} WHERE session_id = ?{keyset} "
                "ORDER BY created_at ASC, seq ASC LIMIT ?"
            )

        return self.get(("message_page", first), build)

    def restore_session(self) -> str:
        replaced = ("user_id", "agent_id", "name", "state", "metadata", "created_at")
        return self.get(
            ("restore_session",),
            lambda: (
                f"INSERT INTO {self.sessions} ({_SESSION_LIST}) VALUES ({_SESSION_MARKS}) "
                + self.dialect.upsert("session_id", replaced)
            ),
        )

    def delete_all_messages(self) -> str:
        return self.get(("delete_all_messages",), lambda: f"DELETE FROM {self.messages} WHERE session_id = ?")

    def delete_messages(self, count: int) -> str:
        return self.get(
            ("delete_messages", count),
            lambda: f"DELETE FROM {self.messages} WHERE session_id = ? AND id IN ({', '.join('?' * count)})",
        )
