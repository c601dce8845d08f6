"""Configs of the asyncio forms of the knowledge backends: ``async_<name>``, one per backend.

Each is its backend's config under the async name (same fields, URL forms,
environment defaults and checks); ``open()`` gives an AsyncKnowledgeStore: the
backend's native asyncio store where its driver has an async client, else the
sync store run in worker threads (:mod:`..offload`). ``docs/backends.md`` says which.
"""

from __future__ import annotations

from typing import ClassVar

from . import AsyncKnowledgeConfig
from .engines import (
    ChromaKnowledgeConfig,
    LanceDbKnowledgeConfig,
    MilvusKnowledgeConfig,
    QdrantKnowledgeConfig,
    RedisVectorKnowledgeConfig,
)
from .frameworks import LangChainKnowledgeConfig, LightRagKnowledgeConfig, LlamaIndexKnowledgeConfig
from .hosted import (
    CassandraKnowledgeConfig,
    CosmosDbKnowledgeConfig,
    CouchbaseKnowledgeConfig,
    MongoVectorKnowledgeConfig,
    PineconeKnowledgeConfig,
    UpstashVectorKnowledgeConfig,
    WeaviateKnowledgeConfig,
)
from .memory import MemoryKnowledgeConfig
from .sql import ClickHouseKnowledgeConfig, PgvectorKnowledgeConfig, SingleStoreVectorKnowledgeConfig
from .surreal import SurrealVectorKnowledgeConfig

__all__ = [
    "AsyncCassandraKnowledgeConfig",
    "AsyncChromaKnowledgeConfig",
    "AsyncClickHouseKnowledgeConfig",
    "AsyncCosmosDbKnowledgeConfig",
    "AsyncCouchbaseKnowledgeConfig",
    "AsyncLanceDbKnowledgeConfig",
    "AsyncLangChainKnowledgeConfig",
    "AsyncLightRagKnowledgeConfig",
    "AsyncLlamaIndexKnowledgeConfig",
    "AsyncMemoryKnowledgeConfig",
    "AsyncMilvusKnowledgeConfig",
    "AsyncMongoVectorKnowledgeConfig",
    "AsyncPgvectorKnowledgeConfig",
    "AsyncPineconeKnowledgeConfig",
    "AsyncQdrantKnowledgeConfig",
    "AsyncRedisVectorKnowledgeConfig",
    "AsyncSingleStoreVectorKnowledgeConfig",
    "AsyncSurrealVectorKnowledgeConfig",
    "AsyncUpstashVectorKnowledgeConfig",
    "AsyncWeaviateKnowledgeConfig",
]


class AsyncCassandraKnowledgeConfig(AsyncKnowledgeConfig, CassandraKnowledgeConfig):
    backend: ClassVar[str] = "async_cassandra"


class AsyncChromaKnowledgeConfig(AsyncKnowledgeConfig, ChromaKnowledgeConfig):
    backend: ClassVar[str] = "async_chroma"


class AsyncClickHouseKnowledgeConfig(AsyncKnowledgeConfig, ClickHouseKnowledgeConfig):
    backend: ClassVar[str] = "async_clickhouse"


class AsyncCosmosDbKnowledgeConfig(AsyncKnowledgeConfig, CosmosDbKnowledgeConfig):
    backend: ClassVar[str] = "async_cosmosdb"


class AsyncCouchbaseKnowledgeConfig(AsyncKnowledgeConfig, CouchbaseKnowledgeConfig):
    backend: ClassVar[str] = "async_couchbase"


class AsyncLanceDbKnowledgeConfig(AsyncKnowledgeConfig, LanceDbKnowledgeConfig):
    backend: ClassVar[str] = "async_lancedb"


class AsyncLangChainKnowledgeConfig(AsyncKnowledgeConfig, LangChainKnowledgeConfig):
    backend: ClassVar[str] = "async_langchain"


class AsyncLightRagKnowledgeConfig(AsyncKnowledgeConfig, LightRagKnowledgeConfig):
    backend: ClassVar[str] = "async_lightrag"


class AsyncLlamaIndexKnowledgeConfig(AsyncKnowledgeConfig, LlamaIndexKnowledgeConfig):
    backend: ClassVar[str] = "async_llamaindex"


class AsyncMemoryKnowledgeConfig(AsyncKnowledgeConfig, MemoryKnowledgeConfig):
    backend: ClassVar[str] = "async_memory"


class AsyncMilvusKnowledgeConfig(AsyncKnowledgeConfig, MilvusKnowledgeConfig):
    backend: ClassVar[str] = "async_milvus"


class AsyncMongoVectorKnowledgeConfig(AsyncKnowledgeConfig, MongoVectorKnowledgeConfig):
    backend: ClassVar[str] = "async_mongodb_vector"


class AsyncPgvectorKnowledgeConfig(AsyncKnowledgeConfig, PgvectorKnowledgeConfig):
    backend: ClassVar[str] = "async_pgvector"


class AsyncPineconeKnowledgeConfig(AsyncKnowledgeConfig, PineconeKnowledgeConfig):
    backend: ClassVar[str] = "async_pinecone"


class AsyncQdrantKnowledgeConfig(AsyncKnowledgeConfig, QdrantKnowledgeConfig):
    backend: ClassVar[str] = "async_qdrant"


class AsyncRedisVectorKnowledgeConfig(AsyncKnowledgeConfig, RedisVectorKnowledgeConfig):
    backend: ClassVar[str] = "async_redis"


class AsyncSingleStoreVectorKnowledgeConfig(AsyncKnowledgeConfig, SingleStoreVectorKnowledgeConfig):
    backend: ClassVar[str] = "async_singlestore_vector"


class AsyncSurrealVectorKnowledgeConfig(AsyncKnowledgeConfig, SurrealVectorKnowledgeConfig):
    backend: ClassVar[str] = "async_surrealdb_vector"


class AsyncUpstashVectorKnowledgeConfig(AsyncKnowledgeConfig, UpstashVectorKnowledgeConfig):
    backend: ClassVar[str] = "async_upstash_vector"


class AsyncWeaviateKnowledgeConfig(AsyncKnowledgeConfig, WeaviateKnowledgeConfig):
    backend: ClassVar[str] = "async_weaviate"
