"""Deadlocks and lock timeouts: retried where the engine rolled back, else a documented error.

- PostgreSQL and MySQL/MariaDB: a transaction chosen as a deadlock victim is run again from
  scratch (the server rolled it back), so the call succeeds; a deadlock that persists
  becomes :class:`BackendUnavailableError` after a bounded number of attempts, with nothing
  written. The driver's own deadlock exception is injected at the statement that would
  meet it, then the real race (``add_message`` against ``delete_session``) runs on the servers.
- SQLite and libSQL: a write lock held past ``busy_timeout`` is :class:`BackendUnavailableError`
  naming the backend, never a raw ``OperationalError``.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.conversation._server_runner import CONFLICT_ATTEMPTS
from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession
from praisonai.persistence.errors import BackendUnavailableError, NotFoundError

from .conftest import Figures, Opener, sync_view

pytestmark = pytest.mark.reliability

SERVER_CLASSES = {
    "postgres": "postgres:PostgresConversationStore",
    "async_postgres": "async_postgres:AsyncPostgresConversationStore",
    "mysql": "mysql:MySqlConversationStore",
    "async_mysql": "async_mysql:AsyncMySqlConversationStore",
}
SERVER_BACKENDS = list(SERVER_CLASSES)


def _deadlock(backend: str) -> BaseException:
    """The exception the backend's driver raises for a deadlock victim."""
    if backend == "postgres":
        import psycopg

        return psycopg.errors.DeadlockDetected("deadlock detected")
    if backend == "async_postgres":
        import asyncpg

        return asyncpg.exceptions.DeadlockDetectedError("deadlock detected")
    import pymysql

    return pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction")


def _inject(backend: str, times: int, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the backend's INSERT of a message fail as a deadlock victim ``times`` times (patching
    its class: the runner holds the bound method); returns the attempt log."""
    module, name = SERVER_CLASSES[backend].split(":")
    store_class = getattr(importlib.import_module(f"praisonai.persistence.conversation.{module}"), name)
    original = store_class._execute
    attempts: list[int] = []

    def deadlocked(step: Any) -> bool:
        if "INSERT INTO" in step.sql and "messages" in step.sql:
            attempts.append(1)
            return len(attempts) <= times
        return False

    def failing(self: Any, connection: Any, step: Any) -> Any:
        if deadlocked(step):
            raise _deadlock(backend)
        return original(self, connection, step)

    async def failing_async(self: Any, connection: Any, step: Any) -> Any:
        if deadlocked(step):
            raise _deadlock(backend)
        return await original(self, connection, step)

    monkeypatch.setattr(store_class, "_execute", failing_async if asyncio.iscoroutinefunction(original) else failing)
    return attempts


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_deadlock_victim_is_run_again(
    backend: str,
    open_conversation: Callable[[str], Opener],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts = _inject(backend, 2, monkeypatch)
    store = sync_view(open_conversation(backend)())
    store.create_session(ConversationSession(session_id="s", name="before"))
    caplog.set_level(logging.WARNING, logger="praisonai.persistence")
    store.add_message("s", ConversationMessage(id="m1", role="user", content="hello"))
    assert len(attempts) == 3
    retries = [r.getMessage() for r in caplog.records if "rolled back by the server" in r.getMessage()]
    assert len(retries) == 2 and all(message.startswith(backend) for message in retries)
    assert [message.content for message in store.get_messages("s")] == ["hello"]
    store.close()


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_deadlock_that_persists_is_a_documented_error_and_writes_nothing(
    backend: str, open_conversation: Callable[[str], Opener], monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = _inject(backend, 10**6, monkeypatch)
    store = sync_view(open_conversation(backend)())
    store.create_session(ConversationSession(session_id="s"))
    before = store.get_session("s").updated_at
    with pytest.raises(BackendUnavailableError) as caught:
        store.add_message("s", ConversationMessage(id="m1", role="user", content="hello"))
    assert caught.value.backend == backend and "nothing was written" in str(caught.value)
    assert len(attempts) == CONFLICT_ATTEMPTS
    assert store.get_messages("s") == [] and store.get_session("s").updated_at == before  # the touch rolled back
    store.close()


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_add_message_racing_delete_session_raises_only_documented_errors(
    backend: str, open_conversation: Callable[[str], Opener], figures: Figures
) -> None:
    opener = open_conversation(backend)
    store = opener(pool_size=8)
    rounds, writers = 40, 4
    unexpected: list[BaseException] = []
    outcomes = {"written": 0, "not_found": 0}
    lock = threading.Lock()

    def add(round_: int, writer: int) -> None:
        try:
            store.add_message(f"s{round_}", ConversationMessage(id=f"m{writer}", role="user", content="x"))
            with lock:
                outcomes["written"] += 1
        except NotFoundError:
            with lock:
                outcomes["not_found"] += 1
        except BaseException as error:
            unexpected.append(error)

    def delete(round_: int) -> None:
        try:
            store.delete_session(f"s{round_}")
        except BaseException as error:
            unexpected.append(error)

    for round_ in range(rounds):
        store.create_session(ConversationSession(session_id=f"s{round_}"))
        store.add_message(f"s{round_}", ConversationMessage(id="seed", role="user", content="x"))
        threads = [threading.Thread(target=add, args=(round_, writer)) for writer in range(writers)]
        threads.append(threading.Thread(target=delete, args=(round_,)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Whatever the order, a deleted session leaves no message behind.
        if store.get_session(f"s{round_}") is None:
            assert store.get_messages(f"s{round_}") == []
    store.close()
    assert unexpected == []
    figures.record("deadlocks", backend, rounds=rounds, racers=writers + 1, **outcomes)


@pytest.mark.parametrize("backend", ["sqlite", "async_sqlite", "turso"])
def test_a_write_lock_held_past_busy_timeout_is_a_documented_error(
    backend: str, open_conversation: Callable[[str], Opener], tmp_path: Path
) -> None:
    opener = open_conversation(backend)
    store = sync_view(opener(busy_timeout=0.2))
    store.create_session(ConversationSession(session_id="s"))
    # The engine's own driver holds the lock (libSQL's WAL does not heed sqlite3's locks, nor the reverse).
    connect = pytest.importorskip("libsql").connect if backend == "turso" else sqlite3.connect
    holder = connect(opener.options["path"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(BackendUnavailableError) as caught:
            store.add_message("s", ConversationMessage(id="m", role="user", content="x"))
        assert caught.value.backend == backend and "busy_timeout" in str(caught.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.add_message("s", ConversationMessage(id="m", role="user", content="x"))
    assert [message.id for message in store.get_messages("s")] == ["m"]
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "async_sqlite", "turso"])
def test_opening_an_existing_store_does_not_wait_for_the_write_lock(
    backend: str, open_conversation: Callable[[str], Opener], tmp_path: Path
) -> None:
    opener = open_conversation(backend)
    first = sync_view(opener())
    first.create_session(ConversationSession(session_id="s"))
    first.close()
    connect = pytest.importorskip("libsql").connect if backend == "turso" else sqlite3.connect
    holder = connect(opener.options["path"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO praison_sessions (session_id, created_at, updated_at) VALUES ('other', 1.0, 1.0)")
    try:
        # Had the open waited for the write lock, it would fail after busy_timeout.
        store = sync_view(opener(busy_timeout=5.0))
        assert store.get_session("s") is not None  # reads run beside the writer (WAL)
    finally:
        holder.execute("COMMIT")
        holder.close()
    # Once the holder committed, this store's snapshot is not stale: it writes, and sees the write.
    store.add_message("s", ConversationMessage(id="m", role="user", content="x"))
    assert [message.id for message in store.get_messages("s")] == ["m"]
    assert store.get_session("other") is not None
    store.close()
