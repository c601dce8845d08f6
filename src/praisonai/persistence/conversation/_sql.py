"""The one SQL layer of the relational conversation stores, for sync and async alike.

Three parts, none of which touches a driver:

- :class:`Dialect` says how an engine spells types, placeholders and upserts.
- :class:`ConversationStatements` renders every statement once per dialect and
  table prefix.
- :class:`ConversationOperations` holds the control flow of each contract
  method as a generator of :class:`Step` objects (sans-IO): a store's runner
  executes each step on its connection and sends the result back. A sync
  runner and an async runner drive the very same generators, so sync and async
  stores cannot drift apart.

Integrity errors are classified by the runner (:class:`IntegrityViolation`) and
thrown into the generator, which turns them into contract errors.
"""

from __future__ import annotations

import math
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, TypeAlias, TypeVar

from .._values import (
    check_id,
    check_ids,
    check_limit,
    check_text,
    dump_optional_json,
    load_json,
    load_optional_json,
)
from ..errors import AlreadyExistsError, InvalidInputError, NotFoundError
from .base import AsyncConversationStore, ConversationMessage, ConversationSession, ConversationStore

__all__ = [
    "MYSQL",
    "POSTGRES",
    "SINGLESTORE",
    "SQLITE",
    "ConversationOperations",
    "ConversationStatements",
    "Dialect",
    "IntegrityViolation",
    "Operation",
    "Step",
    "drive",
    "drive_async",
    "AsyncSqlConversationStore",
    "SqlConversationStore",
]

R = TypeVar("R")
Fetch: TypeAlias = Literal["none", "one", "all", "rowcount"]


@dataclass(frozen=True, slots=True)
class Step:
    """One statement for the runner: execute ``sql`` and send back what ``fetch`` asks for."""

    sql: str
    params: Sequence[Any] = ()
    fetch: Fetch = "none"
    many: bool = False  # params is a sequence of parameter rows


Operation: TypeAlias = Generator[Step, Any, R]


class IntegrityViolation(Exception):
    """Thrown into an operation by a runner when the engine reports a constraint violation."""

    def __init__(self, kind: Literal["unique", "foreign_key", "other"], detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one SQL engine spells what the conversation schema needs."""

    name: str
    paramstyle: Literal["qmark", "format", "numeric"]
    id_type: str  # session/message ids, user ids, roles (<= 255 characters)
    text_type: str  # message content
    json_type: str  # JSON text
    real_type: str  # epoch seconds with sub-second precision
    serial_primary_key: str  # an ever-increasing row number, the tie-break of equal timestamps
    upsert: Callable[[str, Sequence[str]], str]  # (conflict column, updated columns) -> clause
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


def _on_conflict(key: str, columns: Sequence[str]) -> str:
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns)
    return f"ON CONFLICT ({key}) DO UPDATE SET {updates}, updated_at = ?"


def _on_duplicate_key(key: str, columns: Sequence[str]) -> str:
    # VALUES(column) rather than MySQL 8's row alias: MariaDB and SingleStore only know VALUES().
    updates = ", ".join(f"{column} = VALUES({column})" for column in columns)
    return f"ON DUPLICATE KEY UPDATE {updates}, updated_at = ?"


SQLITE = Dialect(
    name="sqlite",
    paramstyle="qmark",
    id_type="TEXT",
    text_type="TEXT",
    json_type="TEXT",
    real_type="REAL",
    serial_primary_key="INTEGER PRIMARY KEY",
    upsert=_on_conflict,
)

# PostgreSQL and the engines that speak its dialect (CockroachDB, Neon, Supabase, Xata). JSON is
# kept as TEXT: jsonb would reorder keys and refuses "\u0000", so values would not round-trip exactly.
POSTGRES = Dialect(
    name="postgres",
    paramstyle="format",
    id_type="TEXT",
    text_type="TEXT",
    json_type="TEXT",
    real_type="DOUBLE PRECISION",
    serial_primary_key="BIGSERIAL PRIMARY KEY",
    upsert=_on_conflict,
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

_SESSION_COLUMNS = ("session_id", "user_id", "agent_id", "name", "state", "metadata", "created_at", "updated_at")
_MESSAGE_COLUMNS = ("id", "session_id", "role", "content", "tool_calls", "tool_call_id", "metadata", "created_at")
_DELETE_CHUNK = 500


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
        columns = ", ".join(_SESSION_COLUMNS)
        marks = ", ".join("?" * len(_SESSION_COLUMNS))
        return self.get(("insert_session",), lambda: f"INSERT INTO {self.sessions} ({columns}) VALUES ({marks})")

    def upsert_session(self) -> str:
        columns = ", ".join(_SESSION_COLUMNS)
        marks = ", ".join("?" * len(_SESSION_COLUMNS))
        updated = ("user_id", "agent_id", "name", "state", "metadata")
        return self.get(
            ("upsert_session",),
            lambda: (
                f"INSERT INTO {self.sessions} ({columns}) VALUES ({marks}) "
                + self.dialect.upsert("session_id", updated)
            ),
        )

    def select_session(self) -> str:
        columns = ", ".join(_SESSION_COLUMNS)
        return self.get(("select_session",), lambda: f"SELECT {columns} FROM {self.sessions} WHERE session_id = ?")

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
            columns = ", ".join(_SESSION_COLUMNS)
            where = [name for name, used in (("user_id = ?", by_user), ("agent_id = ?", by_agent)) if used]
            clause = f" WHERE {' AND '.join(where)}" if where else ""
            return (
                f"SELECT {columns} FROM {self.sessions}{clause} "
                "ORDER BY updated_at DESC, session_id ASC LIMIT ? OFFSET ?"
            )

        return self.get(("list_sessions", by_user, by_agent), build)

    def insert_message(self) -> str:
        columns = ", ".join(_MESSAGE_COLUMNS)
        marks = ", ".join("?" * len(_MESSAGE_COLUMNS))
        return self.get(("insert_message",), lambda: f"INSERT INTO {self.messages} ({columns}) VALUES ({marks})")

    def select_messages(self, before: bool, after: bool, limited: bool) -> str:
        def build() -> str:
            columns = ", ".join(_MESSAGE_COLUMNS)
            where = (
                "session_id = ?" + (" AND created_at < ?" if before else "") + (" AND created_at > ?" if after else "")
            )
            # The most recent N are taken newest-first through the index, then reversed by the caller.
            order = "created_at DESC, seq DESC LIMIT ?" if limited else "created_at ASC, seq ASC"
            return f"SELECT {columns} FROM {self.messages} WHERE {where} ORDER BY {order}"

        return self.get(("select_messages", before, after, limited), build)

    def message_page(self, first: bool) -> str:
        def build() -> str:
            columns = ", ".join(_MESSAGE_COLUMNS)
            # A keyset on (created_at, seq); "created_at >= ?" lets every engine range-scan the index.
            keyset = "" if first else " AND created_at >= ? AND (created_at > ? OR seq > ?)"
            return (
                f"SELECT {columns}, seq FROM {self.messages} WHERE session_id = ?{keyset} "
                "ORDER BY created_at ASC, seq ASC LIMIT ?"
            )

        return self.get(("message_page", first), build)

    def restore_session(self) -> str:
        columns = ", ".join(_SESSION_COLUMNS)
        marks = ", ".join("?" * len(_SESSION_COLUMNS))
        replaced = ("user_id", "agent_id", "name", "state", "metadata", "created_at")
        return self.get(
            ("restore_session",),
            lambda: (
                f"INSERT INTO {self.sessions} ({columns}) VALUES ({marks}) "
                + self.dialect.upsert("session_id", replaced)
            ),
        )

    def delete_all_messages(self) -> str:
        return self.get(("delete_all_messages",), lambda: f"DELETE FROM {self.messages} WHERE session_id = ?")

    def delete_messages(self, count: int) -> str:
        marks = ", ".join("?" * count)
        return self.get(
            ("delete_messages", count),
            lambda: f"DELETE FROM {self.messages} WHERE session_id = ? AND id IN ({marks})",
        )


def _optional_id(value: object, backend: str, what: str) -> str | None:
    return None if value is None else check_id(value, backend, what)


def _timestamp(value: object, backend: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(f"{what} must be a number of seconds, not {type(value).__name__}", backend=backend)
    if not math.isfinite(value):
        raise InvalidInputError(f"{what} must be a finite number of seconds, got {value!r}", backend=backend)
    return float(value)


class ConversationOperations:
    """The control flow of every conversation method, as generators of :class:`Step`."""

    def __init__(self, statements: ConversationStatements, backend: str) -> None:
        self.sql = statements
        self.backend = backend

    # -- encoding ---------------------------------------------------------------

    def session_row(self, session: ConversationSession) -> tuple[Any, ...]:
        """Validate ``session`` into a row of session columns; the json and surrealdb stores use it too."""
        b = self.backend
        if not isinstance(session, ConversationSession):
            raise InvalidInputError(f"expected a ConversationSession, not {type(session).__name__}", backend=b)
        return (
            check_id(session.session_id, b),
            _optional_id(session.user_id, b, "user_id"),
            _optional_id(session.agent_id, b, "agent_id"),
            None if session.name is None else check_text(session.name, b, "session name"),
            dump_optional_json(session.state, b, "session state"),
            dump_optional_json(session.metadata, b, "session metadata"),
            _timestamp(session.created_at, b, "created_at"),
            _timestamp(session.updated_at, b, "updated_at"),
        )

    @staticmethod
    def session_from_row(row: Sequence[Any]) -> ConversationSession:
        return ConversationSession(
            session_id=row[0],
            user_id=row[1],
            agent_id=row[2],
            name=row[3],
            state=load_optional_json(row[4]),
            metadata=load_optional_json(row[5]),
            created_at=float(row[6]),
            updated_at=float(row[7]),
        )

    def message_row(self, session_id: str, message: ConversationMessage) -> tuple[Any, ...]:
        """Validate ``message`` into a row of message columns (sets its ``session_id``)."""
        b = self.backend
        if not isinstance(message, ConversationMessage):
            raise InvalidInputError(f"expected a ConversationMessage, not {type(message).__name__}", backend=b)
        if message.session_id and message.session_id != session_id:
            raise InvalidInputError(
                f"message {message.id!r} belongs to session {message.session_id!r}, not {session_id!r}", backend=b
            )
        content = check_text(message.content, b, "message content")
        message.session_id = session_id
        return (
            check_id(message.id, b, "message id"),
            session_id,
            check_id(message.role, b, "message role"),
            content,
            dump_optional_json(message.tool_calls, b, "tool_calls"),
            _optional_id(message.tool_call_id, b, "tool_call_id"),
            dump_optional_json(message.metadata, b, "message metadata"),
            _timestamp(message.created_at, b, "created_at"),
        )

    @staticmethod
    def message_from_row(row: Sequence[Any]) -> ConversationMessage:
        # Positional (the columns are the fields, in order; asserted below the class): every read
        # builds one per row, and keywords plus the optional-JSON helper cost ~40% more per message.
        tool_calls, metadata = row[4], row[6]
        return ConversationMessage(
            row[0],
            row[1],
            row[2],
            row[3],
            None if tool_calls is None else load_json(tool_calls),
            row[5],
            None if metadata is None else load_json(metadata),
            float(row[7]),
        )

    # -- schema -------------------------------------------------------------------

    def create_schema(self) -> Operation[None]:
        """Create the tables and indexes; nothing at all when both tables exist already."""
        check = self.sql.tables_exist()
        if check is not None:
            row = yield Step(check, (self.sql.sessions, self.sql.messages), "one")
            if row is not None and int(row[0]) == 2:
                return
        for statement in self.sql.schema:
            yield Step(statement)

    # -- sessions -----------------------------------------------------------------

    def create_session(self, session: ConversationSession) -> Operation[ConversationSession]:
        row = self.session_row(session)
        try:
            yield Step(self.sql.insert_session(), row)
        except IntegrityViolation as violation:
            raise AlreadyExistsError(
                f"session {session.session_id!r} already exists", backend=self.backend
            ) from violation
        return session

    def get_session(self, session_id: str) -> Operation[ConversationSession | None]:
        row = yield Step(self.sql.select_session(), (check_id(session_id, self.backend),), "one")
        return None if row is None else self.session_from_row(row)

    def update_session(self, session: ConversationSession) -> Operation[ConversationSession]:
        row = self.session_row(session)
        now = time.time()
        count = yield Step(self.sql.update_session(), (*row[1:6], now, row[0]), "rowcount")
        if not count:
            raise NotFoundError(f"session {session.session_id!r} does not exist", backend=self.backend)
        session.updated_at = now
        return session

    def upsert_session(self, session: ConversationSession) -> Operation[ConversationSession]:
        row = self.session_row(session)
        yield Step(self.sql.upsert_session(), (*row, time.time()))
        stored = yield Step(self.sql.select_session(), (row[0],), "one")
        return self.session_from_row(stored)

    def restore_session(self, session: ConversationSession) -> Operation[ConversationSession]:
        row = self.session_row(session)
        yield Step(self.sql.restore_session(), (*row, row[7]))  # updated_at as given, not now
        return session

    def delete_session(self, session_id: str) -> Operation[bool]:
        key = (check_id(session_id, self.backend),)
        yield Step(self.sql.delete_all_messages(), key)
        count = yield Step(self.sql.delete_session(), key, "rowcount")
        return bool(count)

    def list_sessions(
        self, user_id: str | None, agent_id: str | None, limit: int, offset: int
    ) -> Operation[list[ConversationSession]]:
        b = self.backend
        params: list[Any] = [value for value in (user_id, agent_id) if value is not None]
        for value, what in ((user_id, "user_id"), (agent_id, "agent_id")):
            _optional_id(value, b, what)
        params += [check_limit(limit, b, "limit"), check_limit(offset, b, "offset")]
        rows = yield Step(self.sql.list_sessions(user_id is not None, agent_id is not None), params, "all")
        return [self.session_from_row(row) for row in rows]

    # -- messages -----------------------------------------------------------------

    def _touch(self, session_id: str) -> Operation[None]:
        count = yield Step(self.sql.touch_session(), (time.time(), session_id), "rowcount")
        if not count:
            raise NotFoundError(f"session {session_id!r} does not exist", backend=self.backend)

    def add_message(self, session_id: str, message: ConversationMessage) -> Operation[ConversationMessage]:
        row = self.message_row(check_id(session_id, self.backend), message)
        yield from self._touch(session_id)
        try:
            yield Step(self.sql.insert_message(), row)
        except IntegrityViolation as violation:
            raise AlreadyExistsError(
                f"message {message.id!r} already exists in session {session_id!r}", backend=self.backend
            ) from violation
        return message

    def add_messages(
        self, session_id: str, messages: Iterable[ConversationMessage]
    ) -> Operation[list[ConversationMessage]]:
        check_id(session_id, self.backend)
        batch = list(messages)
        rows = [self.message_row(session_id, message) for message in batch]
        if not rows:
            return batch
        yield from self._touch(session_id)
        try:
            yield Step(self.sql.insert_message(), rows, many=True)
        except IntegrityViolation as violation:
            raise AlreadyExistsError(
                f"a message id of this batch already exists in session {session_id!r}; none was stored",
                backend=self.backend,
            ) from violation
        return batch

    def get_messages(
        self, session_id: str, limit: int | None, before: float | None, after: float | None
    ) -> Operation[list[ConversationMessage]]:
        b = self.backend
        params: list[Any] = [check_id(session_id, b)]
        if before is not None:
            params.append(_timestamp(before, b, "before"))
        if after is not None:
            params.append(_timestamp(after, b, "after"))
        if limit is not None:
            params.append(check_limit(limit, b, "limit"))
            if limit == 0:
                return []
        rows = yield Step(
            self.sql.select_messages(before is not None, after is not None, limit is not None), params, "all"
        )
        messages = [self.message_from_row(row) for row in rows]
        if limit is not None:
            messages.reverse()
        return messages

    def message_page(
        self, session_id: str, after: tuple[float, int] | None, limit: int
    ) -> Operation[tuple[list[ConversationMessage], tuple[float, int] | None]]:
        """Up to ``limit`` messages after the keyset ``after`` (created_at, seq), and the new keyset."""
        b = self.backend
        params: list[Any] = [check_id(session_id, b)]
        if after is not None:
            params += [after[0], after[0], after[1]]
        params.append(check_limit(limit, b, "batch_size", allow_zero=False))
        rows = yield Step(self.sql.message_page(after is None), params, "all")
        last = (float(rows[-1][7]), int(rows[-1][8])) if rows else after
        return [self.message_from_row(row) for row in rows], last

    def delete_messages(self, session_id: str, message_ids: Sequence[str] | None) -> Operation[int]:
        b = self.backend
        check_id(session_id, b)
        ids = check_ids(message_ids, b, "message id")
        if ids is None:
            count: int = yield Step(self.sql.delete_all_messages(), (session_id,), "rowcount")
            return count
        total = 0
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _DELETE_CHUNK):
            chunk = unique[start : start + _DELETE_CHUNK]
            total += yield Step(self.sql.delete_messages(len(chunk)), (session_id, *chunk), "rowcount")
        return total


assert tuple(f.name for f in fields(ConversationMessage)) == _MESSAGE_COLUMNS, "message_from_row is positional"

Classifier: TypeAlias = Callable[[BaseException], "IntegrityViolation | None"]


def drive(operation: Operation[R], execute: Callable[[Step], Any], classify: Classifier) -> R:
    """Run an operation on a synchronous connection: ``execute`` runs one step."""
    try:
        step = next(operation)
        while True:
            try:
                result = execute(step)
            except Exception as error:
                violation = classify(error)
                if violation is None:
                    raise
                violation.__cause__ = error
                step = operation.throw(violation)
                continue
            step = operation.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def drive_async(operation: Operation[R], execute: Callable[[Step], Awaitable[Any]], classify: Classifier) -> R:
    """Run an operation on an asyncio connection: the same generators as :func:`drive`."""
    try:
        step = next(operation)
        while True:
            try:
                result = await execute(step)
            except Exception as error:
                violation = classify(error)
                if violation is None:
                    raise
                violation.__cause__ = error
                step = operation.throw(violation)
                continue
            step = operation.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


class SqlConversationStore(ConversationStore):
    """A ConversationStore whose methods run :class:`ConversationOperations`.

    Subclasses open the connection and implement :meth:`_run`, which executes
    an operation inside one transaction when ``write`` is true.
    """

    _ops: ConversationOperations

    @abstractmethod
    def _run(self, operation: Operation[R], write: bool) -> R: ...

    def create_session(self, session: ConversationSession) -> ConversationSession:
        return self._run(self._ops.create_session(session), True)

    def get_session(self, session_id: str) -> ConversationSession | None:
        return self._run(self._ops.get_session(session_id), False)

    def update_session(self, session: ConversationSession) -> ConversationSession:
        return self._run(self._ops.update_session(session), True)

    def upsert_session(self, session: ConversationSession) -> ConversationSession:
        return self._run(self._ops.upsert_session(session), True)

    def delete_session(self, session_id: str) -> bool:
        return self._run(self._ops.delete_session(session_id), True)

    def list_sessions(
        self, user_id: str | None = None, agent_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[ConversationSession]:
        return self._run(self._ops.list_sessions(user_id, agent_id, limit, offset), False)

    def add_message(self, session_id: str, message: ConversationMessage) -> ConversationMessage:
        return self._run(self._ops.add_message(session_id, message), True)

    def add_messages(self, session_id: str, messages: Iterable[ConversationMessage]) -> list[ConversationMessage]:
        return self._run(self._ops.add_messages(session_id, messages), True)

    def get_messages(
        self, session_id: str, limit: int | None = None, before: float | None = None, after: float | None = None
    ) -> list[ConversationMessage]:
        return self._run(self._ops.get_messages(session_id, limit, before, after), False)

    def delete_messages(self, session_id: str, message_ids: Sequence[str] | None = None) -> int:
        return self._run(self._ops.delete_messages(session_id, message_ids), True)

    # -- ConversationTransfer ---------------------------------------------------------

    def iter_messages(self, session_id: str, batch_size: int = 1000) -> Iterator[list[ConversationMessage]]:
        """Every message of the session, oldest first, ``batch_size`` at a time (a keyset query)."""
        after: tuple[float, int] | None = None
        while True:
            messages, after = self._run(self._ops.message_page(session_id, after, batch_size), False)
            if messages:
                yield messages
            if len(messages) < batch_size:
                return

    def restore_session(self, session: ConversationSession) -> ConversationSession:
        """Store the session exactly as given, timestamps included (creating or replacing it)."""
        return self._run(self._ops.restore_session(session), True)


class AsyncSqlConversationStore(AsyncConversationStore):
    """The asyncio twin of :class:`SqlConversationStore`, driving the same operations."""

    _ops: ConversationOperations

    @abstractmethod
    async def _run(self, operation: Operation[R], write: bool) -> R: ...

    async def create_session(self, session: ConversationSession) -> ConversationSession:
        return await self._run(self._ops.create_session(session), True)

    async def get_session(self, session_id: str) -> ConversationSession | None:
        return await self._run(self._ops.get_session(session_id), False)

    async def update_session(self, session: ConversationSession) -> ConversationSession:
        return await self._run(self._ops.update_session(session), True)

    async def upsert_session(self, session: ConversationSession) -> ConversationSession:
        return await self._run(self._ops.upsert_session(session), True)

    async def delete_session(self, session_id: str) -> bool:
        return await self._run(self._ops.delete_session(session_id), True)

    async def list_sessions(
        self, user_id: str | None = None, agent_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[ConversationSession]:
        return await self._run(self._ops.list_sessions(user_id, agent_id, limit, offset), False)

    async def add_message(self, session_id: str, message: ConversationMessage) -> ConversationMessage:
        return await self._run(self._ops.add_message(session_id, message), True)

    async def add_messages(self, session_id: str, messages: Iterable[ConversationMessage]) -> list[ConversationMessage]:
        return await self._run(self._ops.add_messages(session_id, messages), True)

    async def get_messages(
        self, session_id: str, limit: int | None = None, before: float | None = None, after: float | None = None
    ) -> list[ConversationMessage]:
        return await self._run(self._ops.get_messages(session_id, limit, before, after), False)

    async def delete_messages(self, session_id: str, message_ids: Sequence[str] | None = None) -> int:
        return await self._run(self._ops.delete_messages(session_id, message_ids), True)

    # -- AsyncConversationTransfer ----------------------------------------------------

    async def iter_messages(self, session_id: str, batch_size: int = 1000) -> AsyncIterator[list[ConversationMessage]]:
        after: tuple[float, int] | None = None
        while True:
            messages, after = await self._run(self._ops.message_page(session_id, after, batch_size), False)
            if messages:
                yield messages
            if len(messages) < batch_size:
                return

    async def restore_session(self, session: ConversationSession) -> ConversationSession:
        return await self._run(self._ops.restore_session(session), True)
