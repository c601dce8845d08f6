"""Typed usage checked by mypy in tests/test_typing.py (never run). Expected types are in the test."""

from praisonai.persistence.conversation.config import AsyncSqliteConversationConfig, SqliteConversationConfig
from praisonai.persistence.registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES
from praisonai.persistence.state.config import MemoryStateConfig

reveal_type(CONVERSATION_STORES.create("sqlite"))  # R1
reveal_type(CONVERSATION_STORES.create("async_sqlite"))  # R2
reveal_type(CONVERSATION_STORES.create("aiosqlite", path=":memory:"))  # R3
reveal_type(CONVERSATION_STORES.create(SqliteConversationConfig(path=":memory:")))  # R4
reveal_type(CONVERSATION_STORES.create(AsyncSqliteConversationConfig(path=":memory:")))  # R5
reveal_type(CONVERSATION_STORES.create("some_plugin", url="proto://host"))  # R6
reveal_type(STATE_STORES.create("memory"))  # R7
reveal_type(STATE_STORES.create(MemoryStateConfig()))  # R8
reveal_type(KNOWLEDGE_STORES.create("some_plugin"))  # R9
reveal_type(MemoryStateConfig().open())  # R10
reveal_type(CONVERSATION_STORES.create("sqlite").get_messages("s"))  # R11

STATE_STORES.create(SqliteConversationConfig())  # E1: a conversation config is not a state config
CONVERSATION_STORES.create(MemoryStateConfig())  # E2: nor the reverse
STATE_STORES.create("memory").set("k", object())  # E3: not JSON
