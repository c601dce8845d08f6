"""The control flow of every relational conversation method, written once for sync and async stores.

Each contract method of :class:`ConversationOperations` is an operation (see
``_sansio.py``): a generator of :class:`Step` objects, each a statement of
``_sql_statements.py`` for the runner to execute on its connection, the result
sent back. A sync runner and an async runner drive the very same generators, so
sync and async stores cannot drift apart.

Integrity errors are classified by the runner (:class:`IntegrityViolation`) and
thrown into the operation, which turns them into contract errors. Validation
errors are raised without a backend name: the store's call guard stamps it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from itertools import repeat
from operator import attrgetter
from typing import Any, Literal, TypeAlias, TypeVar

from .._sansio import Operation as _Operation
from .._values import (
    check_id,
    check_ids,
    check_limit,
    check_text,
    dump_optional_json,
    encode_plain_json,
    load_json,
    load_optional_json,
    plain_id,
    plain_ids,
    plain_json_dump,
    plain_json_values,
    plain_texts,
)
from ..errors import AlreadyExistsError, InvalidInputError, NotFoundError
from ._sql_statements import MESSAGE_COLUMNS, ConversationStatements
from .base import ConversationMessage, ConversationSession

__all__ = [
    "Classifier",
    "ConversationOperations",
    "IntegrityViolation",
    "Operation",
    "Step",
    "fetch",
    "run_step",
    "timestamp",
]

R = TypeVar("R")
Fetch: TypeAlias = Literal["none", "one", "all", "rowcount"]


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs ~1 µs more, and every call builds some
class Step:
    """One statement for the runner: execute ``sql`` and send back what ``fetch`` asks for (never changed)."""

    sql: str
    params: Sequence[Any] = ()
    fetch: Fetch = "none"
    many: bool = False  # params is a sequence of parameter rows


Operation: TypeAlias = _Operation[Step, R]


class IntegrityViolation(Exception):
    """Thrown into an operation by a runner when the engine reports a constraint violation."""

    def __init__(self, kind: Literal["unique", "foreign_key", "other"], detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


Classifier: TypeAlias = Callable[[BaseException], "IntegrityViolation | None"]
"""A runner's reading of a driver error: the constraint violation it reports, or None."""

_DELETE_CHUNK = 500
_MESSAGE_FIELDS = attrgetter(*MESSAGE_COLUMNS)
_isfinite = math.isfinite
_JUST_MESSAGE = {ConversationMessage}
_JUST_FLOAT = {float}


def _quick_message_row(session_id: str, message: ConversationMessage) -> tuple[Any, ...] | None:
    """The row of an ordinary message, checked without a call per field, or None: ask ``message_row``.

    Ordinary: a ConversationMessage whose text fields are exactly ``str`` and ``created_at`` exactly
    a ``float``. Every check of ``message_row`` is made (the same rules, the same row); anything
    doubtful (an error, a subclass) goes to ``message_row``, which raises what it always raised.
    """
    if type(message) is not ConversationMessage:
        return None
    id_, owner, role, content, tool_calls, tool_call_id, metadata, created_at = _MESSAGE_FIELDS(message)
    if (
        (owner != "" and owner != session_id)
        or type(created_at) is not float
        or not _isfinite(created_at)
        or not plain_id(id_)
        or not plain_id(role)
        or type(content) is not str
        or not (content.isascii() or plain_texts((content,)))
        or (tool_call_id is not None and not plain_id(tool_call_id))
    ):
        return None
    calls_text = metadata_text = None
    if tool_calls is not None and (calls_text := plain_json_dump(tool_calls)) is None:
        return None
    if metadata is not None and (metadata_text := plain_json_dump(metadata)) is None:
        return None
    message.session_id = session_id
    return (id_, session_id, role, content, calls_text, tool_call_id, metadata_text, created_at)


def _quick_message_rows(session_id: str, batch: list[ConversationMessage]) -> list[tuple[Any, ...]] | None:
    """The rows of a batch of ordinary messages (see :func:`_quick_message_row`), checked column by
    column at C speed; None if any doubt: then each message goes through ``message_row``."""
    if not batch or set(map(type, batch)) != _JUST_MESSAGE:
        return None
    ids, owners, roles, contents, tool_calls, tool_call_ids, metadata, created = zip(
        *map(_MESSAGE_FIELDS, batch), strict=True
    )
    size = len(batch)
    if (
        owners.count("") + owners.count(session_id) != size
        or set(map(type, created)) != _JUST_FLOAT
        or not all(map(_isfinite, created))
        or not plain_ids(ids)
        or not plain_ids(roles)
        or not plain_texts(contents)
    ):
        return None
    if tool_call_ids.count(None) != size and not all(value is None or plain_id(value) for value in tool_call_ids):
        return None
    encoded: list[list[str | None] | tuple[None, ...]] = []
    for column in (tool_calls, metadata):
        if column.count(None) == size:
            encoded.append(column)
            continue
        if not plain_json_values(column):
            return None
        try:
            encoded.append([None if value is None else encode_plain_json(value) for value in column])
        except ValueError:  # an int too long to write as text: dump_json says so
            return None
    for message in batch:
        message.session_id = session_id
    return list(
        zip(ids, repeat(session_id, size), roles, contents, encoded[0], tool_call_ids, encoded[1], created, strict=True)
    )


def _optional_id(value: object, what: str) -> str | None:
    return None if value is None else check_id(value, what=what)


def timestamp(value: object, what: str) -> float:
    """Epoch seconds: a finite int or float (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(f"{what} must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value):
        raise InvalidInputError(f"{what} must be a finite number of seconds, got {value!r}")
    return float(value)


class ConversationOperations:
    """The control flow of every conversation method, as generators of :class:`Step`."""

    def __init__(self, statements: ConversationStatements) -> None:
        self.sql = statements

    # -- encoding ---------------------------------------------------------------

    def session_row(self, session: ConversationSession) -> tuple[Any, ...]:
        """Validate ``session`` into a row of session columns; the json and surrealdb stores use it too."""
        if not isinstance(session, ConversationSession):
            raise InvalidInputError(f"expected a ConversationSession, not {type(session).__name__}")
        return (
            check_id(session.session_id),
            _optional_id(session.user_id, "user_id"),
            _optional_id(session.agent_id, "agent_id"),
            None if session.name is None else check_text(session.name, what="session name"),
            dump_optional_json(session.state, what="session state"),
            dump_optional_json(session.metadata, what="session metadata"),
            timestamp(session.created_at, "created_at"),
            timestamp(session.updated_at, "updated_at"),
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
        row = _quick_message_row(session_id, message)
        return self._checked_message_row(session_id, message) if row is None else row

    def message_rows(self, session_id: str, messages: list[ConversationMessage]) -> list[tuple[Any, ...]]:
        """:meth:`message_row` of each message (sets their ``session_id``)."""
        rows = _quick_message_rows(session_id, messages)
        if rows is None:
            rows = [self.message_row(session_id, message) for message in messages]
        return rows

    def _checked_message_row(self, session_id: str, message: ConversationMessage) -> tuple[Any, ...]:
        if not isinstance(message, ConversationMessage):
            raise InvalidInputError(f"expected a ConversationMessage, not {type(message).__name__}")
        if message.session_id and message.session_id != session_id:
            raise InvalidInputError(
                f"message {message.id!r} belongs to session {message.session_id!r}, not {session_id!r}"
            )
        content = check_text(message.content, what="message content")
        message.session_id = session_id
        return (
            check_id(message.id, what="message id"),
            session_id,
            check_id(message.role, what="message role"),
            content,
            dump_optional_json(message.tool_calls, what="tool_calls"),
            _optional_id(message.tool_call_id, "tool_call_id"),
            dump_optional_json(message.metadata, what="message metadata"),
            timestamp(message.created_at, "created_at"),
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
            raise AlreadyExistsError(f"session {session.session_id!r} already exists") from violation
        return session

    def get_session(self, session_id: str) -> Operation[ConversationSession | None]:
        row = yield Step(self.sql.select_session(), (check_id(session_id),), "one")
        return None if row is None else self.session_from_row(row)

    def update_session(self, session: ConversationSession) -> Operation[ConversationSession]:
        row = self.session_row(session)
        now = time.time()
        count = yield Step(self.sql.update_session(), (*row[1:6], now, row[0]), "rowcount")
        if not count:
            raise NotFoundError(f"session {session.session_id!r} does not exist")
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
        key = (check_id(session_id),)
        yield Step(self.sql.delete_all_messages(), key)
        count = yield Step(self.sql.delete_session(), key, "rowcount")
        return bool(count)

    def list_sessions(
        self, user_id: str | None, agent_id: str | None, limit: int, offset: int
    ) -> Operation[list[ConversationSession]]:
        params: list[Any] = [value for value in (user_id, agent_id) if value is not None]
        for value, what in ((user_id, "user_id"), (agent_id, "agent_id")):
            _optional_id(value, what)
        params += [check_limit(limit, what="limit"), check_limit(offset, what="offset")]
        rows = yield Step(self.sql.list_sessions(user_id is not None, agent_id is not None), params, "all")
        return [self.session_from_row(row) for row in rows]

    # -- messages -----------------------------------------------------------------

    def _touch(self, session_id: str) -> Operation[None]:
        count = yield Step(self.sql.touch_session(), (time.time(), session_id), "rowcount")
        if not count:
            raise NotFoundError(f"session {session_id!r} does not exist")

    def add_message(self, session_id: str, message: ConversationMessage) -> Operation[ConversationMessage]:
        row = self.message_row(session_id if plain_id(session_id) else check_id(session_id), message)
        yield from self._touch(session_id)
        try:
            yield Step(self.sql.insert_message(), row)
        except IntegrityViolation as violation:
            raise AlreadyExistsError(f"message {message.id!r} already exists in session {session_id!r}") from violation
        return message

    def add_messages(
        self, session_id: str, messages: Iterable[ConversationMessage]
    ) -> Operation[list[ConversationMessage]]:
        if not plain_id(session_id):
            check_id(session_id)
        batch = list(messages)
        rows = self.message_rows(session_id, batch)
        if not rows:
            return batch
        yield from self._touch(session_id)
        try:
            yield Step(self.sql.insert_message(), rows, many=True)
        except IntegrityViolation as violation:
            raise AlreadyExistsError(
                f"a message id of this batch already exists in session {session_id!r}; none was stored"
            ) from violation
        return batch

    def get_messages(
        self, session_id: str, limit: int | None, before: float | None, after: float | None
    ) -> Operation[list[ConversationMessage]]:
        params: list[Any] = [check_id(session_id)]
        if before is not None:
            params.append(timestamp(before, "before"))
        if after is not None:
            params.append(timestamp(after, "after"))
        if limit is not None:
            params.append(check_limit(limit, what="limit"))
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
        params: list[Any] = [check_id(session_id)]
        if after is not None:
            params += [after[0], after[0], after[1]]
        params.append(check_limit(limit, what="batch_size", allow_zero=False))
        rows = yield Step(self.sql.message_page(after is None), params, "all")
        last = (float(rows[-1][7]), int(rows[-1][8])) if rows else after
        return [self.message_from_row(row) for row in rows], last

    def delete_messages(self, session_id: str, message_ids: Sequence[str] | None) -> Operation[int]:
        check_id(session_id)
        ids = check_ids(message_ids, what="message id")
        if ids is None:
            count: int = yield Step(self.sql.delete_all_messages(), (session_id,), "rowcount")
            return count
        total = 0
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _DELETE_CHUNK):
            chunk = unique[start : start + _DELETE_CHUNK]
            total += yield Step(self.sql.delete_messages(len(chunk)), (session_id, *chunk), "rowcount")
        return total


# -- running a step on a DB-API cursor (the sync runners of sqlite, turso, mysql, singlestore, postgres) --------------


def fetch(cursor: Any, step: Step) -> Any:
    """What ``step.fetch`` asks of a DB-API cursor that ran it."""
    if step.fetch == "all":
        return cursor.fetchall()
    if step.fetch == "one":
        return cursor.fetchone()
    return cursor.rowcount if step.fetch == "rowcount" else None


def run_step(cursor: Any, step: Step) -> Any:
    """Execute ``step`` on a DB-API cursor and return what it asks for."""
    if step.many:
        cursor.executemany(step.sql, step.params)
    else:
        cursor.execute(step.sql, step.params or None)
    return fetch(cursor, step)


assert tuple(f.name for f in fields(ConversationMessage)) == MESSAGE_COLUMNS, "message_from_row is positional"
