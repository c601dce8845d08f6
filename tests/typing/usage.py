"""Typed usage checked by mypy in tests/test_typing.py (never run). Expected types are in the test."""

from praisonai.persistence.conversation.config import AsyncSqliteConversationConfig, SqliteConversationConfig
from praisonai.persistence.embedders.config import CallableEmbedderConfig
from praisonai.persistence.knowledge.config import MemoryKnowledgeConfig
from praisonai.persistence.knowledge.configs.asynchronous import (
    AsyncPgvectorKnowledgeConfig,
    AsyncQdrantKnowledgeConfig,
)
from praisonai.persistence.knowledge.mmr import search_mmr
from praisonai.persistence.registry import CONVERSATION_STORES, EMBEDDERS, KNOWLEDGE_STORES, STATE_STORES
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
reveal_type(EMBEDDERS.create("sentence_transformers"))  # R12
reveal_type(EMBEDDERS.create(CallableEmbedderConfig(function=lambda texts: [], dimension=3)))  # R13
reveal_type(EMBEDDERS.create("some_plugin"))  # R14
reveal_type(KNOWLEDGE_STORES.create("memory", embedder="sentence_transformers"))  # R15
reveal_type(KNOWLEDGE_STORES.create(MemoryKnowledgeConfig(), embedder=EMBEDDERS.create("callable")))  # R16
reveal_type(KNOWLEDGE_STORES.create("qdrant", path=":memory:", embedder="openai").search_text("c", "q"))  # R17
reveal_type(KNOWLEDGE_STORES.create("memory").search("c", [1.0]))  # R18
reveal_type(search_mmr(KNOWLEDGE_STORES.create("memory"), "c", [1.0], fetch_k=10))  # R19
reveal_type(EMBEDDERS.create("openai").embed(["text"]))  # R20
reveal_type(KNOWLEDGE_STORES.create("async_qdrant", path=":memory:"))  # R21
reveal_type(KNOWLEDGE_STORES.create("memory_async"))  # R22
reveal_type(KNOWLEDGE_STORES.create(AsyncQdrantKnowledgeConfig(path=":memory:")))  # R23
reveal_type(AsyncQdrantKnowledgeConfig(path=":memory:").open())  # R24
reveal_type(KNOWLEDGE_STORES.validate("async_memory"))  # R25
reveal_type(KNOWLEDGE_STORES.create("qdrant", path=":memory:"))  # R26
pending = reveal_type(KNOWLEDGE_STORES.create("async_memory").search("c", [1.0]))  # R27
reveal_type(KNOWLEDGE_STORES.create("async_memory", embedder="sentence_transformers"))  # R28
reveal_type(KNOWLEDGE_STORES.create("async_pgvector"))  # R29
reveal_type(AsyncPgvectorKnowledgeConfig().open())  # R30
reveal_type(KNOWLEDGE_STORES.create("async_redis"))  # R31
reveal_type(KNOWLEDGE_STORES.create("async_lancedb"))  # R32
reveal_type(KNOWLEDGE_STORES.create("async_mongodb_vector"))  # R33
reveal_type(KNOWLEDGE_STORES.create("async_cosmosdb", url="https://a.documents.azure.com/", key="az=="))  # R40
reveal_type(KNOWLEDGE_STORES.create("async_milvus"))  # R34
reveal_type(CONVERSATION_STORES.validate("sqlite"))  # R41
reveal_type(CONVERSATION_STORES.validate("asyncpg", url="postgresql://h/db"))  # R42
reveal_type(STATE_STORES.validate("redis"))  # R43
reveal_type(STATE_STORES.validate("motor"))  # R44
reveal_type(STATE_STORES.create("async_mongodb"))  # R45
reveal_type(STATE_STORES.validate("some_plugin"))  # R46

STATE_STORES.create(SqliteConversationConfig())  # E1: a conversation config is not a state config
CONVERSATION_STORES.create(MemoryStateConfig())  # E2: nor the reverse
STATE_STORES.create("memory").set("k", object())  # E3: not JSON
KNOWLEDGE_STORES.create("memory").search_text("c", "q")  # E4: no embedder, no text search
KNOWLEDGE_STORES.create("memory", embedder=3)  # E5: not an embedder
EMBEDDERS.create(MemoryStateConfig())  # E6: a state config is not an embedder config
KNOWLEDGE_STORES.create("async_memory").count("c") + 1  # E7: an async store's count must be awaited

# PraisonAI 4.7.19's factory functions type their result like the registries.
from praisonai.persistence.factory import (  # noqa: E402
    create_conversation_store,
    create_knowledge_store,
    create_state_store,
)

reveal_type(create_conversation_store("sqlite", path="x"))  # R101
reveal_type(create_conversation_store("sqlite", mode="async", path="x"))  # R102
reveal_type(create_conversation_store("async_postgres"))  # R103
reveal_type(create_conversation_store("my_plugin"))  # R104
reveal_type(create_state_store("redis"))  # R105
reveal_type(create_state_store("async_mongodb"))  # R106
reveal_type(create_knowledge_store("qdrant", ":memory:"))  # R107
reveal_type(create_knowledge_store("async_qdrant", ":memory:"))  # R108
