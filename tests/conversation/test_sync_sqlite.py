"""sync_sqlite (alias sqlite_sync): PraisonAI's second name for sqlite; the contract suite on real SQLite files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from praisonai.persistence.conversation.base import ConversationMessage, ConversationSession, ConversationStore
from praisonai.persistence.conversation.sqlite import SqliteConversationStore
from praisonai.persistence.conversation.sync_sqlite import SyncSQLiteConversationStore
from praisonai.persistence.registry import CONVERSATION_STORES
from praisonai.persistence.testing import ConversationStoreContract


class TestSyncSqliteContract(ConversationStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ConversationStore]:
        store = CONVERSATION_STORES.create("sync_sqlite", path=str(tmp_path / "chat.db"))
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], ConversationStore]:
        return lambda: CONVERSATION_STORES.create("sqlite_sync", url=f"sqlite:///{tmp_path / 'chat.db'}")


def test_same_files_as_sqlite(tmp_path: Path) -> None:
    path = str(tmp_path / "chat.db")
    with SyncSQLiteConversationStore(path=path) as store:
        assert store.backend == "sync_sqlite"
        store.create_session(ConversationSession(session_id="s1"))
        store.add_message("s1", ConversationMessage(id="m1", role="user", content="hi"))
    with SqliteConversationStore(path=path) as store:
        assert [message.content for message in store.get_messages("s1")] == ["hi"]
