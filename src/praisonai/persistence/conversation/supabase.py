"""Supabase conversation store, through the project's REST API (PostgREST).

Engine: the Supabase project's PostgreSQL, reached over HTTPS through PostgREST.
Driver: the ``supabase`` Python client (extra ``supabase``), on an httpx client of our own.
URL form: the project URL, ``https://<project-ref>.supabase.co``, plus ``api_key`` (the
service-role key on a server; the anon key only with row-level-security policies that
allow these tables).
Test tier: fake. The tests run the real client against an HTTP stand-in of PostgREST
(``tests/support/postgrest_standin.py``) that executes the requests on the real
PostgreSQL 15; neither Supabase nor PostgREST itself is exercised.

The tables are those of the ``postgres`` store (same DDL, from ``_sql_statements.py``); PostgREST
cannot create them, so create them once, in the SQL editor or a migration, from
:meth:`SupabaseConversationStore.schema_sql` (or by pointing the ``postgres`` store at the
project's database once). Then expose the schema to the API if it is not ``public``.

What PostgREST gives and what it does not: each request is one transaction, so a batch
of messages is stored whole or not at all, and deleting a session deletes its messages
(a foreign-key cascade). Calls that take two requests are not atomic: ``add_message``
bumps the session's ``updated_at``, then inserts; ``upsert_session`` inserts unless the
session exists, then updates it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from .._guard import GuardedStore
from .._values import check_id, check_ids, check_limit
from ..errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    InvalidInputError,
    NotFoundError,
    StoreClosedError,
    StoreError,
)
from ..url import mask_secrets_in_text
from ._sql_operations import ConversationOperations, timestamp
from ._sql_statements import MESSAGE_COLUMNS, POSTGRES, SESSION_COLUMNS, ConversationStatements
from .base import ConversationMessage, ConversationSession, ConversationStore
from .config import SupabaseConversationConfig

__all__ = ["SupabaseConversationStore"]

_SESSION_SELECT = ",".join(SESSION_COLUMNS)
_MESSAGE_SELECT = ",".join(MESSAGE_COLUMNS)
_UPDATABLE = ("user_id", "agent_id", "name", "state", "metadata")
# PostgREST filters travel in the URL; deletes by id go in chunks that keep it short.
_URL_BUDGET = 4000
# PostgREST cannot reach its database (PGRST000-PGRST003), or a gateway in front failed.
_UNAVAILABLE_CODES = frozenset({"PGRST000", "PGRST001", "PGRST002", "PGRST003", "502", "503", "504", "520"})


class SupabaseConversationStore(GuardedStore, ConversationStore):
    """Conversations in a Supabase project's tables, through PostgREST; safe to share between threads."""

    backend = "supabase"

    def __init__(self, config: SupabaseConversationConfig) -> None:
        self.config = config
        supabase = self._import_driver("supabase")
        httpx = self._import_driver("httpx")
        self._postgrest = self._import_driver("postgrest")
        self._httpx = httpx
        statements = ConversationStatements(POSTGRES, config.table_prefix, config.schema_name)
        self._ops = ConversationOperations(statements)
        self._sessions = f"{config.table_prefix}sessions"
        self._messages = f"{config.table_prefix}messages"
        self._http = httpx.Client(timeout=config.timeout, follow_redirects=True)
        options = supabase.ClientOptions(
            schema=config.schema_name,
            httpx_client=self._http,
            postgrest_client_retry=config.retry_reads,
            auto_refresh_token=False,
            persist_session=False,
        )
        with self._translating:
            self._client = supabase.create_client(config.project_url, config.api_key.get_secret_value(), options)
        self._lock = threading.Lock()

    @classmethod
    def schema_sql(cls, config: SupabaseConversationConfig) -> str:
        """The DDL that creates this store's tables (run it once in the project's SQL editor)."""
        statements = ConversationStatements(POSTGRES, config.table_prefix, config.schema_name)
        return ";\n".join(statements.schema) + ";\n"

    # -- plumbing -------------------------------------------------------------------

    def _table(self, name: str) -> Any:
        if self._closed:  # closed by another thread since this call's guard let it in
            raise StoreClosedError("the store is closed")
        return self._client.table(name)

    @staticmethod
    def _execute(request: Any) -> Any:
        return request.execute()

    def _translate_error(self, error: Exception) -> Exception | None:
        if isinstance(error, self._httpx.TransportError):  # connect, read, write errors and timeouts
            return BackendUnavailableError(
                f"the REST API of {self.config.project_url} cannot be reached ({type(error).__name__}: "
                f"{mask_secrets_in_text(str(error))})"
            )
        if not isinstance(error, self._postgrest.APIError):
            return None
        code = self._code(error)
        message = mask_secrets_in_text(f"{code}: {error.message}")
        if code in _UNAVAILABLE_CODES:
            return BackendUnavailableError(f"the REST API of {self.config.project_url} failed ({message})")
        if code.startswith("22"):  # a data exception: a NUL character in text, ...
            return InvalidInputError(f"PostgreSQL refused a value ({message})")
        return StoreError(f"the REST API refused the request ({message})")

    @staticmethod
    def _code(error: Any) -> str:
        return str(getattr(error, "code", "") or "")

    def _session_fields(self, session: ConversationSession) -> dict[str, Any]:
        return dict(zip(SESSION_COLUMNS, self._ops.session_row(session), strict=False))

    def _message_fields(self, session_id: str, message: ConversationMessage) -> dict[str, Any]:
        return dict(zip(MESSAGE_COLUMNS, self._ops.message_row(session_id, message), strict=False))

    @staticmethod
    def _session(row: dict[str, Any]) -> ConversationSession:
        return ConversationOperations.session_from_row([row[column] for column in SESSION_COLUMNS])

    @staticmethod
    def _message(row: dict[str, Any]) -> ConversationMessage:
        return ConversationOperations.message_from_row([row[column] for column in MESSAGE_COLUMNS])

    def _returning(self) -> Any:
        return self._postgrest.types.ReturnMethod

    # -- sessions -------------------------------------------------------------------

    def create_session(self, session: ConversationSession) -> ConversationSession:
        with self._guard:
            fields = self._session_fields(session)
            try:
                self._execute(self._table(self._sessions).insert(fields, returning=self._returning().minimal))
            except self._postgrest.APIError as error:
                if self._code(error) == "23505":
                    raise AlreadyExistsError(f"session {session.session_id!r} already exists") from error
                raise
            return session

    def get_session(self, session_id: str) -> ConversationSession | None:
        with self._guard:
            key = check_id(session_id)
            response = self._execute(self._table(self._sessions).select(_SESSION_SELECT).eq("session_id", key).limit(1))
            return self._session(response.data[0]) if response.data else None

    def update_session(self, session: ConversationSession) -> ConversationSession:
        with self._guard:
            fields = self._session_fields(session)
            now = time.time()
            changes = {column: fields[column] for column in _UPDATABLE} | {"updated_at": now}
            response = self._execute(
                self._table(self._sessions).update(changes).eq("session_id", fields["session_id"]).select("session_id")
            )
            if not response.data:
                raise NotFoundError(f"session {session.session_id!r} does not exist")
            session.updated_at = now
            return session

    def upsert_session(self, session: ConversationSession) -> ConversationSession:
        with self._guard:
            fields = self._session_fields(session)
            changes = {column: fields[column] for column in _UPDATABLE}
            # Insert unless it exists (ON CONFLICT DO NOTHING), then update. A session deleted
            # between the two requests makes the update find nothing: try again, a few times.
            for _ in range(3):
                inserted = self._execute(
                    self._table(self._sessions)
                    .upsert(fields, on_conflict="session_id", ignore_duplicates=True)
                    .select(_SESSION_SELECT)
                )
                if inserted.data:
                    return self._session(inserted.data[0])
                updated = self._execute(
                    self._table(self._sessions)
                    .update({**changes, "updated_at": time.time()})
                    .eq("session_id", fields["session_id"])
                    .select(_SESSION_SELECT)
                )
                if updated.data:
                    return self._session(updated.data[0])
            raise StoreError(
                f"session {session.session_id!r} was neither inserted nor updated; is it hidden by a row-level policy?"
            )

    def delete_session(self, session_id: str) -> bool:
        with self._guard:
            key = check_id(session_id)
            # The messages go with it: ON DELETE CASCADE, in the same statement.
            response = self._execute(self._table(self._sessions).delete().eq("session_id", key).select("session_id"))
            return bool(response.data)

    def list_sessions(
        self, user_id: str | None = None, agent_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[ConversationSession]:
        with self._guard:
            limit = check_limit(limit, what="limit")
            offset = check_limit(offset, what="offset")
            request = self._table(self._sessions).select(_SESSION_SELECT)
            if user_id is not None:
                request = request.eq("user_id", check_id(user_id, what="user_id"))
            if agent_id is not None:
                request = request.eq("agent_id", check_id(agent_id, what="agent_id"))
            if limit == 0:
                return []
            request = request.order("updated_at", desc=True).order("session_id").limit(limit).offset(offset)
            return [self._session(row) for row in self._execute(request).data]

    # -- messages -------------------------------------------------------------------

    def _touch(self, session_id: str) -> None:
        response = self._execute(
            self._table(self._sessions)
            .update({"updated_at": time.time()})
            .eq("session_id", session_id)
            .select("session_id")
        )
        if not response.data:
            raise NotFoundError(f"session {session_id!r} does not exist")

    def _insert_messages(self, session_id: str, rows: list[dict[str, Any]], what: str) -> None:
        body: Any = rows[0] if len(rows) == 1 else rows
        try:
            self._execute(self._table(self._messages).insert(body, returning=self._returning().minimal))
        except self._postgrest.APIError as error:
            code = self._code(error)
            if code == "23505":
                raise AlreadyExistsError(f"{what} already exists in session {session_id!r}") from error
            if code == "23503":
                raise NotFoundError(f"session {session_id!r} does not exist") from error
            raise

    def add_message(self, session_id: str, message: ConversationMessage) -> ConversationMessage:
        with self._guard:
            key = check_id(session_id)
            row = self._message_fields(key, message)
            self._touch(key)
            self._insert_messages(key, [row], f"message {message.id!r}")
            return message

    def add_messages(self, session_id: str, messages: Iterable[ConversationMessage]) -> list[ConversationMessage]:
        with self._guard:
            key = check_id(session_id)
            batch = list(messages)
            rows = [self._message_fields(key, message) for message in batch]
            if not rows:
                return batch
            self._touch(key)
            # One request, one INSERT: the batch is stored whole or not at all.
            self._insert_messages(key, rows, "a message id of this batch")
            return batch

    def get_messages(
        self, session_id: str, limit: int | None = None, before: float | None = None, after: float | None = None
    ) -> list[ConversationMessage]:
        with self._guard:
            key = check_id(session_id)
            request = self._table(self._messages).select(_MESSAGE_SELECT).eq("session_id", key)
            if before is not None:
                request = request.lt("created_at", repr(timestamp(before, "before")))
            if after is not None:
                request = request.gt("created_at", repr(timestamp(after, "after")))
            if limit is None:
                rows = self._execute(request.order("created_at").order("seq")).data
                return [self._message(row) for row in rows]
            if check_limit(limit, what="limit") == 0:
                return []
            rows = self._execute(request.order("created_at", desc=True).order("seq", desc=True).limit(limit)).data
            return [self._message(row) for row in reversed(rows)]

    def delete_messages(self, session_id: str, message_ids: Sequence[str] | None = None) -> int:
        with self._guard:
            key = check_id(session_id)
            ids = check_ids(message_ids, what="message id")
            count_method = self._postgrest.types.CountMethod.exact
            minimal = self._returning().minimal

            def delete(values: list[str] | None) -> int:
                request = (
                    self._table(self._messages).delete(count=count_method, returning=minimal).eq("session_id", key)
                )
                if values is not None:
                    request = request.in_("id", values)
                return int(self._execute(request).count or 0)

            if ids is None:
                return delete(None)
            total, size = 0, 0
            chunk: list[str] = []
            for value in dict.fromkeys(ids):
                if chunk and size + len(value) > _URL_BUDGET:
                    total += delete(chunk)
                    chunk, size = [], 0
                chunk.append(value)
                size += len(value) + 3
            if chunk:
                total += delete(chunk)
            return total

    def close(self) -> None:
        with self._lock, self._translating:
            if not self._closed:
                self._closed = True
                self._http.close()

    def __repr__(self) -> str:
        return f"SupabaseConversationStore({self.config.project_url!r}, schema={self.config.schema_name!r})"
