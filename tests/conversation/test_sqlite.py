"""sqlite and async_sqlite: the contract suites on real SQLite files, plus what is SQLite-specific."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession, ConversationStore
from praisonai.persistence.conversation.config import SqliteConversationConfig
from praisonai.persistence.errors import ConfigError
from praisonai.persistence.registry import CONVERSATION_STORES
from praisonai.persistence.testing import AsyncConversationStoreContract, ConversationStoreContract


class TestSqliteContract(ConversationStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ConversationStore]:
        store = CONVERSATION_STORES.create("sqlite", path=str(tmp_path / "chat.db"))
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], ConversationStore]:
        return lambda: CONVERSATION_STORES.create("sqlite", url=f"sqlite:///{tmp_path / 'chat.db'}")


class TestSqliteInMemoryContract(ConversationStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[ConversationStore]:
        store = CONVERSATION_STORES.create("sqlite", path=":memory:", table_prefix="mem_")
        yield store
        store.close()


class TestAsyncSqliteContract(AsyncConversationStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> object:
        return CONVERSATION_STORES.create("async_sqlite", path=str(tmp_path / "chat.db"))

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], object]:
        return lambda: CONVERSATION_STORES.create("aiosqlite", path=str(tmp_path / "chat.db"))


def test_default_path_is_under_the_data_dir(tmp_path: Path) -> None:
    store = CONVERSATION_STORES.create("sqlite")
    store.create_session(ConversationSession(session_id="x"))
    store.close()
    assert (tmp_path / "praisonai-data" / "conversations.db").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///relative/chat.db", "relative/chat.db"),
        ("sqlite:////abs/chat.db", "/abs/chat.db"),
        ("sqlite:///:memory:", ":memory:"),
        ("plain/path.db", "plain/path.db"),
    ],
)
def test_url_forms(url: str, expected: str) -> None:
    assert SqliteConversationConfig.from_options(url).path == expected


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "postgres://x/y"}, "url"),
        ({"url": "sqlite://host/db"}, "url"),
        ({"table_prefix": "bad; DROP"}, "table_prefix"),
        ({"busy_timeout": 0}, "busy_timeout"),
        ({"path": ""}, "path"),
    ],
)
def test_bad_config_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CONVERSATION_STORES.create("sqlite", **kwargs)
    assert [error.field for error in caught.value.errors] == [field]
    assert "'sqlite'" in str(caught.value)


def test_both_stores_share_one_schema(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    sync_store = CONVERSATION_STORES.create("sqlite", path=path)
    sync_store.create_session(ConversationSession(session_id="s"))
    sync_store.add_message("s", ConversationMessage(role="user", content="from sync", created_at=1.0))

    async def use_async() -> list[str]:
        async_store = CONVERSATION_STORES.create("async_sqlite", path=path)
        await async_store.add_message("s", ConversationMessage(role="user", content="from async", created_at=2.0))
        contents = [m.content for m in await async_store.get_messages("s")]
        await async_store.close()
        return contents

    assert asyncio.run(use_async()) == ["from sync", "from async"]
    assert [m.content for m in sync_store.get_messages("s")] == ["from sync", "from async"]
    sync_store.close()


def test_wal_and_full_sync_are_on(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    store = CONVERSATION_STORES.create("sqlite", path=str(path))
    store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_injection_through_strings_is_inert(tmp_path: Path) -> None:
    path = str(tmp_path / "chat.db")
    store = CONVERSATION_STORES.create("sqlite", path=path)
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE canary (x)")
    hostile = "x'); DROP TABLE canary; --"
    store.create_session(ConversationSession(session_id=hostile, user_id=hostile, name=hostile))
    store.add_message(hostile, ConversationMessage(id=hostile, role=hostile, content=hostile, tool_call_id=hostile))
    assert store.list_sessions(user_id=hostile)[0].session_id == hostile
    assert store.get_messages(hostile)[0].content == hostile
    assert store.delete_messages(hostile, [hostile]) == 1
    store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM canary").fetchone()[0] == 0
