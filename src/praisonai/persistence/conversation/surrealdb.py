"""SurrealDB conversation store.

Engine: SurrealDB, through the official SDK ``surrealdb`` (extra ``surrealdb``),
which embeds the engine in-process (``mem://``, ``surrealkv://``) or talks to a
server (``ws://``, ``wss://``, ``http://``, ``https://``).
URL forms: ``mem://`` (private, in memory), ``surrealkv:///absolute/dir`` or
``surrealkv://relative/dir`` (also ``surrealkv+versioned://``, ``file://``, or a
plain directory path), ``ws://user:password@host:8000/rpc?ns=app&db=chat``.
With no argument: ``surrealkv://$PRAISONAI_DATA_DIR/conversations.surrealkv``.
Test tier: embedded (the SDK's engine on ``mem://`` and ``surrealkv://``
directories). The ``ws://``/``http://`` server path is configured and
validated, but no test reaches a SurrealDB server.

Two tables, ``<prefix>sessions`` and ``<prefix>messages``. A session's record
id is ``<prefix>sessions:<session_id>``, a message's is
``<prefix>messages:[<session_id>, <message_id>]``, built with ``RecordID`` and
sent as query parameters: no value is ever spliced into SurrealQL (table names
come from the validated ``table_prefix``). Each session counts its messages in
``next_seq``; a message's ``seq`` keeps equal timestamps in insertion order.
Every multi-step change is one ``BEGIN ... COMMIT`` query, so it is atomic on
the server as well. State, metadata and tool calls are stored as JSON text, so
they come back exactly as they were written.

The embedded SurrealKV engine has no lock of its own: a second process opening
the same directory would silently diverge from the first. The directory's
``<dir>.lock`` is locked (``flock``) while it is open, and the stores of one
process on one directory, ``surrealdb_vector`` knowledge stores included, share
a single engine (see :mod:`praisonai.persistence._surreal`). SurrealDB strings
cannot hold a NUL character, so text containing one is refused.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from .._guard import GuardedStore
from .._surreal import SurrealEngine, open_engine, release_engine
from .._values import check_id, check_ids, check_limit, load_optional_json
from ..errors import AlreadyExistsError, InvalidInputError, NotFoundError, StoreClosedError, StoreError
from ._sql_operations import ConversationOperations, timestamp
from ._sql_statements import SQLITE, ConversationStatements
from .base import ConversationMessage, ConversationSession, ConversationStore
from .config import SurrealDbConversationConfig

__all__ = ["SurrealDbConversationStore"]

_MAX_COUNT = 2**32 - 1  # SurrealDB's LIMIT and START take a u32: a larger one is an error, not "all"


def _count(value: int, what: str) -> int:
    return min(check_limit(value, what=what), _MAX_COUNT)


_NO_SESSION = "praisonai:no-such-session"
_SESSION_FIELDS = ("session_id", "user_id", "agent_id", "name", "state", "metadata", "created_at", "updated_at")
_SESSION_SET = "user_id = $uid, agent_id = $aid, name = $name, state = $state, metadata = $metadata"


def _refuse_bad_text(values: Iterable[Any]) -> None:
    for value in values:
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            raise InvalidInputError(
                "SurrealDB strings cannot hold a NUL character, so content and names containing one are refused"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError("text must be valid Unicode (it holds a lone surrogate)") from None


class SurrealDbConversationStore(GuardedStore, ConversationStore):
    """Conversations in SurrealDB: embedded in this process, or on a server."""

    backend = "surrealdb"

    def __init__(self, config: SurrealDbConversationConfig | None = None) -> None:
        self.config = config or SurrealDbConversationConfig()
        self._driver = self._import_driver("surrealdb")
        # The SQL stores' encoders: the same validation, and JSON text for state and metadata.
        self._encoder = ConversationOperations(ConversationStatements(SQLITE, ""))
        prefix = self.config.table_prefix
        self._sessions = f"{prefix}sessions"
        self._messages = f"{prefix}messages"
        with self._translating:
            self._engine: SurrealEngine | None = open_engine(self.config, self._driver)
            try:
                self._query(self._schema())
            except BaseException:
                self.close()
                raise

    # -- queries ------------------------------------------------------------------

    def _schema(self) -> str:
        s, m = self._sessions, self._messages
        return (
            f"DEFINE TABLE IF NOT EXISTS `{s}` SCHEMALESS;"
            f"DEFINE INDEX IF NOT EXISTS `{s}_by_updated` ON TABLE `{s}` FIELDS updated_at;"
            f"DEFINE INDEX IF NOT EXISTS `{s}_by_user` ON TABLE `{s}` FIELDS user_id, updated_at;"
            f"DEFINE INDEX IF NOT EXISTS `{s}_by_agent` ON TABLE `{s}` FIELDS agent_id, updated_at;"
            f"DEFINE TABLE IF NOT EXISTS `{m}` SCHEMALESS;"
            f"DEFINE INDEX IF NOT EXISTS `{m}_by_time` ON TABLE `{m}` FIELDS session_id, created_at, seq;"
        )

    def _query(self, surrealql: str, variables: dict[str, Any] | None = None) -> Any:
        """Run a script; return the result of its last statement, mapping statement errors to ours."""
        engine = self._engine
        if engine is None:  # closed by another thread since this call's guard let it in
            raise StoreClosedError("the store is closed")
        response = engine.query_raw(self.config, None, surrealql, variables or {})
        results = response.get("result")
        if not isinstance(results, list):
            raise StoreError(f"unexpected response from SurrealDB: {response.get('error')!r}")
        failures = [str(item.get("result")) for item in results if item.get("status") != "OK"]
        # A failed transaction marks every other statement "not executed"; the real cause is the odd one out.
        causes = [text for text in failures if "not executed due to a failed transaction" not in text] or failures
        if causes:
            cause = causes[0]
            if _NO_SESSION in cause:
                raise NotFoundError("session does not exist")
            if "already exists" in cause:
                raise AlreadyExistsError(cause)
            raise StoreError(f"query failed: {cause}")
        return results[-1].get("result") if results else None

    def _session_rid(self, session_id: str) -> Any:
        return self._driver.RecordID(self._sessions, session_id)

    def _message_rid(self, session_id: str, message_id: str) -> Any:
        return self._driver.RecordID(self._messages, [session_id, message_id])

    # -- encoding -----------------------------------------------------------------

    def _session_vars(self, session: ConversationSession) -> dict[str, Any]:
        row = self._encoder.session_row(session)
        _refuse_bad_text(row)
        return {
            "srid": self._session_rid(row[0]),
            "sid": row[0],
            "uid": row[1],
            "aid": row[2],
            "name": row[3],
            "state": row[4],
            "metadata": row[5],
            "created": row[6],
            "updated": row[7],
        }

    @staticmethod
    def _session_from_record(record: dict[str, Any]) -> ConversationSession:
        return ConversationSession(
            session_id=record["session_id"],
            user_id=record.get("user_id"),
            agent_id=record.get("agent_id"),
            name=record.get("name"),
            state=load_optional_json(record.get("state")),
            metadata=load_optional_json(record.get("metadata")),
            created_at=float(record["created_at"]),
            updated_at=float(record["updated_at"]),
        )

    @staticmethod
    def _message_from_record(record: dict[str, Any]) -> ConversationMessage:
        return ConversationMessage(
            id=record["message_id"],
            session_id=record["session_id"],
            role=record["role"],
            content=record["content"],
            tool_calls=load_optional_json(record.get("tool_calls")),
            tool_call_id=record.get("tool_call_id"),
            metadata=load_optional_json(record.get("metadata")),
            created_at=float(record["created_at"]),
        )

    # -- sessions -----------------------------------------------------------------

    def create_session(self, session: ConversationSession) -> ConversationSession:
        with self._guard:
            variables = self._session_vars(session)
            try:
                self._query(
                    "CREATE $srid SET session_id = $sid, " + _SESSION_SET + ", created_at = $created, "
                    "updated_at = $updated, next_seq = 0 RETURN NONE",
                    variables,
                )
            except AlreadyExistsError:
                raise AlreadyExistsError(f"session {variables['sid']!r} already exists") from None
            return session

    def get_session(self, session_id: str) -> ConversationSession | None:
        with self._guard:
            record = self._query("SELECT * FROM ONLY $srid", {"srid": self._session_rid(check_id(session_id))})
            return None if record is None else self._session_from_record(record)

    def update_session(self, session: ConversationSession) -> ConversationSession:
        with self._guard:
            variables = self._session_vars(session)
            variables["now"] = now = time.time()
            # UPDATE of one record id never creates it: no row back means no such session.
            updated = self._query(
                "UPDATE $srid SET " + _SESSION_SET + ", updated_at = $now RETURN updated_at", variables
            )
            if not updated:
                raise NotFoundError(f"session {variables['sid']!r} does not exist")
            session.updated_at = now
            return session

    def upsert_session(self, session: ConversationSession) -> ConversationSession:
        with self._guard:
            variables = self._session_vars(session)
            variables["now"] = time.time()
            record = self._query(
                "BEGIN TRANSACTION;"
                "IF record::exists($srid) { UPDATE $srid SET " + _SESSION_SET + ", updated_at = $now RETURN NONE } "
                "ELSE { CREATE $srid SET session_id = $sid, " + _SESSION_SET + ", created_at = $created, "
                "updated_at = $updated, next_seq = 0 RETURN NONE };"
                "RETURN (SELECT * FROM ONLY $srid);"
                "COMMIT TRANSACTION;",
                variables,
            )
            return self._session_from_record(record)

    def delete_session(self, session_id: str) -> bool:
        with self._guard:
            check_id(session_id)
            gone = self._query(
                "BEGIN TRANSACTION;"
                f"DELETE `{self._messages}` WHERE session_id = $sid RETURN NONE;"
                "RETURN (DELETE $srid RETURN BEFORE);"
                "COMMIT TRANSACTION;",
                {"sid": session_id, "srid": self._session_rid(session_id)},
            )
            return bool(gone)

    def list_sessions(
        self, user_id: str | None = None, agent_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[ConversationSession]:
        with self._guard:
            where = []
            variables: dict[str, Any] = {
                "lim": _count(limit, "limit"),
                "skip": _count(offset, "offset"),
            }
            if user_id is not None:
                variables["uid"] = check_id(user_id, what="user_id")
                where.append("user_id = $uid")
            if agent_id is not None:
                variables["aid"] = check_id(agent_id, what="agent_id")
                where.append("agent_id = $aid")
            if limit == 0:
                return []
            clause = f" WHERE {' AND '.join(where)}" if where else ""
            records = self._query(
                f"SELECT * FROM `{self._sessions}`{clause} "
                "ORDER BY updated_at DESC, session_id ASC LIMIT $lim START $skip",
                variables,
            )
            return [self._session_from_record(record) for record in records]

    # -- messages -----------------------------------------------------------------

    def add_message(self, session_id: str, message: ConversationMessage) -> ConversationMessage:
        with self._guard:
            self._insert(check_id(session_id), [message])
            return message

    def add_messages(self, session_id: str, messages: Iterable[ConversationMessage]) -> list[ConversationMessage]:
        with self._guard:
            batch = list(messages)
            self._insert(check_id(session_id), batch)
            return batch

    def _insert(self, session_id: str, messages: Sequence[ConversationMessage]) -> None:
        items = []
        for offset, message in enumerate(messages, 1):
            row = self._encoder.message_row(session_id, message)
            _refuse_bad_text(row)
            items.append(
                {
                    "rid": self._message_rid(session_id, row[0]),
                    "offset": offset,
                    "id": row[0],
                    "role": row[2],
                    "content": row[3],
                    "tool_calls": row[4],
                    "tool_call_id": row[5],
                    "metadata": row[6],
                    "created_at": row[7],
                }
            )
        if not items:
            return
        try:
            self._query(
                "BEGIN TRANSACTION;"
                "LET $touched = (UPDATE $srid SET updated_at = $now, next_seq += $count RETURN AFTER);"
                f'IF array::len($touched) = 0 {{ THROW "{_NO_SESSION}" }};'
                "LET $base = $touched[0].next_seq - $count;"
                "FOR $item IN $items { CREATE $item.rid SET session_id = $sid, message_id = $item.id, "
                "role = $item.role, content = $item.content, tool_calls = $item.tool_calls, "
                "tool_call_id = $item.tool_call_id, metadata = $item.metadata, created_at = $item.created_at, "
                "seq = $base + $item.offset RETURN NONE; };"
                "COMMIT TRANSACTION;",
                {
                    "srid": self._session_rid(session_id),
                    "sid": session_id,
                    "now": time.time(),
                    "count": len(items),
                    "items": items,
                },
            )
        except NotFoundError:
            raise NotFoundError(f"session {session_id!r} does not exist") from None
        except AlreadyExistsError:
            what = "message" if len(items) == 1 else "a message id of this batch"
            raise AlreadyExistsError(f"{what} already exists in session {session_id!r}; none was stored") from None

    def get_messages(
        self, session_id: str, limit: int | None = None, before: float | None = None, after: float | None = None
    ) -> list[ConversationMessage]:
        with self._guard:
            variables: dict[str, Any] = {"sid": check_id(session_id)}
            where = ["session_id = $sid"]
            for bound, what, name, operator in ((before, "before", "below", "<"), (after, "after", "above", ">")):
                if bound is not None:
                    variables[name] = timestamp(bound, what)
                    where.append(f"created_at {operator} ${name}")
            order = "created_at ASC, seq ASC"
            tail = ""
            if limit is not None:
                variables["lim"] = _count(limit, "limit")
                if limit == 0:
                    return []
                # The most recent N, newest first; reversed below.
                order, tail = "created_at DESC, seq DESC", " LIMIT $lim"
            records = self._query(
                f"SELECT * FROM `{self._messages}` WHERE {' AND '.join(where)} ORDER BY {order}{tail}", variables
            )
            messages = [self._message_from_record(record) for record in records]
            if limit is not None:
                messages.reverse()
            return messages

    def delete_messages(self, session_id: str, message_ids: Sequence[str] | None = None) -> int:
        with self._guard:
            check_id(session_id)
            ids = check_ids(message_ids, what="message id")
            if ids is None:
                count = self._query(
                    "BEGIN TRANSACTION;"
                    f"LET $found = (SELECT VALUE id FROM `{self._messages}` WHERE session_id = $sid);"
                    "DELETE $found RETURN NONE;"
                    "RETURN array::len($found);"
                    "COMMIT TRANSACTION;",
                    {"sid": session_id},
                )
                return int(count)
            if not ids:
                return 0
            count = self._query(
                "BEGIN TRANSACTION;"
                "LET $found = (SELECT VALUE id FROM $rids);"
                "DELETE $found RETURN NONE;"
                "RETURN array::len($found);"
                "COMMIT TRANSACTION;",
                {"rids": [self._message_rid(session_id, message_id) for message_id in dict.fromkeys(ids)]},
            )
            return int(count)

    # -- lifecycle ----------------------------------------------------------------

    def close(self) -> None:
        self._closed = True
        engine, self._engine = self._engine, None
        if engine is not None:
            with self._translating:
                release_engine(engine)

    def __repr__(self) -> str:
        return f"SurrealDbConversationStore(url={self.config.url!r}, namespace={self.config.namespace!r})"


SurrealDBConversationStore = SurrealDbConversationStore
"""PraisonAI 4.7.19's name of :class:`SurrealDbConversationStore`."""
