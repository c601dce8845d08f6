"""Configs of the asyncio forms of the knowledge backends: ``async_<name>``, one per backend.

Each is its backend's config under the async name (same fields, URL forms,
environment defaults and checks); ``open()`` gives an AsyncKnowledgeStore: the
backend's native asyncio store where its driver has an async client, else the
sync store run in worker threads (:mod:`..offload`). ``docs/backends.md`` says which.
"""

from __future__ import annotations

from typing import ClassVar

from . import AsyncKnowledgeConfig, engines, frameworks, hosted, memory, sql, surreal, valkey

__all__ = [
    "AsyncValkeyVectorKnowledgeConfig",
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


class AsyncCassandraKnowledgeConfig(AsyncKnowledgeConfig, hosted.CassandraKnowledgeConfig):
    backend: ClassVar[str] = "async_cassandra"


class AsyncChromaKnowledgeConfig(AsyncKnowledgeConfig, engines.ChromaKnowledgeConfig):
    backend: ClassVar[str] = "async_chroma"


class AsyncClickHouseKnowledgeConfig(AsyncKnowledgeConfig, sql.ClickHouseKnowledgeConfig):
    backend: ClassVar[str] = "async_clickhouse"


class AsyncCosmosDbKnowledgeConfig(AsyncKnowledgeConfig, hosted.CosmosDbKnowledgeConfig):
    backend: ClassVar[str] = "async_cosmosdb"


class AsyncCouchbaseKnowledgeConfig(AsyncKnowledgeConfig, hosted.CouchbaseKnowledgeConfig):
    backend: ClassVar[str] = "async_couchbase"


class AsyncLanceDbKnowledgeConfig(AsyncKnowledgeConfig, engines.LanceDbKnowledgeConfig):
    backend: ClassVar[str] = "async_lancedb"


class AsyncLangChainKnowledgeConfig(AsyncKnowledgeConfig, frameworks.LangChainKnowledgeConfig):
    backend: ClassVar[str] = "async_langchain"


class AsyncLightRagKnowledgeConfig(AsyncKnowledgeConfig, frameworks.LightRagKnowledgeConfig):
    backend: ClassVar[str] = "async_lightrag"


class AsyncLlamaIndexKnowledgeConfig(AsyncKnowledgeConfig, frameworks.LlamaIndexKnowledgeConfig):
    backend: ClassVar[str] = "async_llamaindex"


class AsyncMemoryKnowledgeConfig(AsyncKnowledgeConfig, memory.MemoryKnowledgeConfig):
    backend: ClassVar[str] = "async_memory"


class AsyncMilvusKnowledgeConfig(AsyncKnowledgeConfig, engines.MilvusKnowledgeConfig):
    backend: ClassVar[str] = "async_milvus"


class AsyncMongoVectorKnowledgeConfig(AsyncKnowledgeConfig, hosted.MongoVectorKnowledgeConfig):
    backend: ClassVar[str] = "async_mongodb_vector"


class AsyncPgvectorKnowledgeConfig(AsyncKnowledgeConfig, sql.PgvectorKnowledgeConfig):
    backend: ClassVar[str] = "async_pgvector"


class AsyncPineconeKnowledgeConfig(AsyncKnowledgeConfig, hosted.PineconeKnowledgeConfig):
    backend: ClassVar[str] = "async_pinecone"


class AsyncQdrantKnowledgeConfig(AsyncKnowledgeConfig, engines.QdrantKnowledgeConfig):
    backend: ClassVar[str] = "async_qdrant"


class AsyncRedisVectorKnowledgeConfig(AsyncKnowledgeConfig, engines.RedisVectorKnowledgeConfig):
    backend: ClassVar[str] = "async_redis"


class AsyncSingleStoreVectorKnowledgeConfig(AsyncKnowledgeConfig, sql.SingleStoreVectorKnowledgeConfig):
    backend: ClassVar[str] = "async_singlestore_vector"


class AsyncSurrealVectorKnowledgeConfig(AsyncKnowledgeConfig, surreal.SurrealVectorKnowledgeConfig):
    backend: ClassVar[str] = "async_surrealdb_vector"


class AsyncUpstashVectorKnowledgeConfig(AsyncKnowledgeConfig, hosted.UpstashVectorKnowledgeConfig):
    backend: ClassVar[str] = "async_upstash_vector"


class AsyncWeaviateKnowledgeConfig(AsyncKnowledgeConfig, hosted.WeaviateKnowledgeConfig):
    backend: ClassVar[str] = "async_weaviate"


class AsyncValkeyVectorKnowledgeConfig(AsyncKnowledgeConfig, valkey.ValkeyVectorKnowledgeConfig):
    backend: ClassVar[str] = "async_valkey"
