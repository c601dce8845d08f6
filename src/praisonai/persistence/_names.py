"""Built-in backend names and aliases, as the Literal types of the overloads of ``create()``.

Generated from the catalogue by ``python -m praisonai.persistence._catalogue --write``; do not edit.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = [
    "AsyncConversationName",
    "AsyncStateName",
    "KnowledgeName",
    "SyncConversationName",
    "SyncEmbedderName",
    "SyncStateName",
]

SyncConversationName: TypeAlias = Literal[
    "cockroach",
    "cockroachdb",
    "crdb",
    "json",
    "libsql",
    "mysql",
    "neon",
    "postgres",
    "singlestore",
    "sqlite",
    "sqlite_sync",
    "supabase",
    "surrealdb",
    "sync_sqlite",
    "turso",
    "xata",
]
AsyncConversationName: TypeAlias = Literal[
    "aiomysql",
    "aiosqlite",
    "async_mysql",
    "async_postgres",
    "async_sqlite",
    "asyncpg",
    "mysql_async",
    "postgres_async",
    "sqlite_async",
]
KnowledgeName: TypeAlias = Literal[
    "azure_cosmos",
    "cassandra",
    "chroma",
    "chromadb",
    "clickhouse",
    "cosmos",
    "cosmosdb",
    "cosmosdb_vector",
    "couchbase",
    "lancedb",
    "langchain",
    "langchain_adapter",
    "lightrag",
    "llama_index",
    "llamaindex",
    "llamaindex_adapter",
    "memory",
    "milvus",
    "mongo_vector",
    "mongodb_atlas",
    "mongodb_vector",
    "pgvector",
    "pinecone",
    "qdrant",
    "redis",
    "singlestore_v",
    "singlestore_vector",
    "surrealdb_v",
    "surrealdb_vector",
    "upstash_v",
    "upstash_vector",
    "valkey",
    "valkey_vector",
    "weaviate",
]
SyncStateName: TypeAlias = Literal[
    "dynamodb",
    "firestore",
    "gcs",
    "memory",
    "mongodb",
    "redis",
    "upstash",
    "valkey",
]
AsyncStateName: TypeAlias = Literal[
    "async_mongodb",
    "mongodb_async",
    "motor",
]
SyncEmbedderName: TypeAlias = Literal[
    "callable",
    "function",
    "openai",
    "openai_compatible",
    "sbert",
    "sentence_transformer",
    "sentence_transformers",
]
