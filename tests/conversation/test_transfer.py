"""The optional ConversationTransfer extras of every SQL conversation store (``_sql_store.py``).

``iter_messages`` must be exact with equal timestamps (a keyset on created_at and seq),
``restore_session`` must store a session's timestamps as given, creating or replacing it.
Each engine runs the same checks, sync and async, through the same statements.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.conversation.base import (
    AsyncConversationTransfer,
    ConversationMessage,
    ConversationSession,
    ConversationTransfer,
)
from praisonai.persistence.registry import CONVERSATION_STORES

# Insertion order deliberately differs from time order: (created_at, insertion) is the order.
STAMPS = [5.0, 3.0, 5.0, 5.0, 0.0, 3.0, 5.0, 9.5, 0.0, 5.0, 5.0, 3.0, 9.5]
GROUPS = [(f"m{index}", stamp) for index, stamp in enumerate(STAMPS)] + [(f"z{i}", 7.0) for i in range(11)]


def expected_order() -> list[str]:
    indexed = sorted(enumerate(GROUPS), key=lambda item: (item[1][1], item[0]))
    return [message_id for _, (message_id, _) in indexed]


@pytest.fixture(params=["sqlite", "async_sqlite", "turso", "postgres", "async_postgres", "mysql", "async_mysql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Any]:
    name: str = request.param
    options: dict[str, Any]
    if name in ("sqlite", "async_sqlite"):
        options = {"path": str(tmp_path / "chat.db")}
    elif name == "turso":
        pytest.importorskip("libsql", reason="the turso extra is not installed")
        options = {"path": str(tmp_path / "chat.db")}
    elif name.endswith("postgres"):
        postgres_url = request.getfixturevalue("postgres_url")
        pytest.importorskip("asyncpg" if name.startswith("async") else "psycopg", reason="the postgres extra")
        options = {"url": postgres_url, "schema": request.getfixturevalue("pg_schema")}
    else:
        pytest.importorskip("aiomysql" if name.startswith("async") else "pymysql", reason="the mysql extra")
        options = {"url": request.getfixturevalue("mysql_db_url")}
    return lambda: CONVERSATION_STORES.create(name, **options)


def run_checks(store: Any) -> None:
    """Drive the checks through a synchronous face of the store (async stores via asyncio.run)."""
    session = ConversationSession(session_id="s", user_id="u", created_at=10.0, updated_at=20.25)
    store.create_session(session)
    store.add_messages("s", [ConversationMessage(id=i, role="user", content=i, created_at=t) for i, t in GROUPS])
    expected = expected_order()
    assert [m.id for m in store.get_messages("s")] == expected
    for batch_size in (1, 2, 3, 4, 5, 7, 24, 100):
        batches = store.iter_messages("s", batch_size)
        assert all(0 < len(batch) <= batch_size for batch in batches)
        assert [m.id for batch in batches for m in batch] == expected
    assert store.iter_messages("missing", 10) == []
    first = store.iter_messages("s", 100)[0][0]
    assert (first.session_id, first.content, first.created_at) == ("s", first.id, 0.0)

    assert store.get_session("s").updated_at > 20.25  # adding messages bumped it
    store.restore_session(session)
    restored = store.get_session("s")
    assert (restored.user_id, restored.created_at, restored.updated_at) == ("u", 10.0, 20.25)
    changed = ConversationSession(session_id="s", name="renamed", metadata={"k": [1]}, created_at=11.5, updated_at=1.0)
    store.restore_session(changed)
    restored = store.get_session("s")
    assert restored.to_dict() == changed.to_dict()  # every field replaced, timestamps as given
    assert len(store.get_messages("s")) == len(GROUPS)  # messages untouched
    store.restore_session(ConversationSession(session_id="new", created_at=1.0, updated_at=2.0))
    assert store.get_session("new").updated_at == 2.0
    assert [s.session_id for s in store.list_sessions()] == ["new", "s"]  # by the restored updated_at


class AsyncDriver:
    """Runs an async store's methods to completion; async generators are collected into lists."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.loop = asyncio.new_event_loop()

    def iter_messages(self, session_id: str, batch_size: int) -> list[list[ConversationMessage]]:
        async def collect() -> list[list[ConversationMessage]]:
            return [batch async for batch in self.store.iter_messages(session_id, batch_size)]

        return self.loop.run_until_complete(collect())

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)
        return lambda *args, **kwargs: self.loop.run_until_complete(method(*args, **kwargs))

    def close(self) -> None:
        self.loop.run_until_complete(self.store.close())
        self.loop.close()


class SyncDriver:
    def __init__(self, store: Any) -> None:
        self.store = store

    def iter_messages(self, session_id: str, batch_size: int) -> list[list[ConversationMessage]]:
        return list(self.store.iter_messages(session_id, batch_size))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_transfer_extras_are_exact(opener: Callable[[], Any]) -> None:
    store = opener()
    if isinstance(store, AsyncConversationTransfer) and asyncio.iscoroutinefunction(store.close):
        driver: Any = AsyncDriver(store)
    else:
        assert isinstance(store, ConversationTransfer)
        driver = SyncDriver(store)
    try:
        run_checks(driver)
    finally:
        driver.close()


def test_batch_size_is_checked(tmp_path: Path) -> None:
    from praisonai.persistence.errors import InvalidInputError

    with CONVERSATION_STORES.create("sqlite", path=str(tmp_path / "a.db")) as store:
        assert isinstance(store, ConversationTransfer)
        with pytest.raises(InvalidInputError, match="batch_size"):
            list(store.iter_messages("s", 0))
