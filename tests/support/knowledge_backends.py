"""Every knowledge backend opened on fresh data, the way its own tests run it, for the suites that
run one workload across all of them (tests/reliability).

Embedded engines use a temporary directory or memory; pgvector a PostgreSQL schema and
singlestore_vector a MariaDB database of their own; clickhouse a chDB database; redis the Redis
Stack the caller's ``redis_stack`` fixture started; the hosted services their client-level fakes
or wire-level stand-ins (tests/support/hosted_fakes.py, pinecone_standin.py, weaviate_standin.py
(the session's ``weaviate_server``), upstash_vector_standin.py), which are not the services themselves.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from praisonai.persistence.knowledge.base import KnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES

from .emulators import require_driver

__all__ = ["KNOWLEDGE_DRIVERS", "STAND_INS", "open_knowledge"]

KNOWLEDGE_DRIVERS: dict[str, tuple[str, str] | None] = {
    "memory": None,
    "chroma": ("chromadb", "chroma"),
    "qdrant": ("qdrant_client", "qdrant"),
    "lancedb": ("lancedb", "lancedb"),
    "milvus": ("pymilvus", "milvus"),
    "pgvector": ("psycopg", "pgvector"),
    "clickhouse": ("chdb", "clickhouse"),
    "surrealdb_vector": ("surrealdb", "surrealdb"),
    "langchain": ("langchain_core", "langchain"),
    "llamaindex": ("llama_index.core", "llamaindex"),
    "lightrag": ("lightrag", "lightrag"),
    "redis": ("redis", "redis"),
    "pinecone": ("pinecone", "pinecone"),
    "weaviate": ("weaviate", "weaviate"),
    "cosmosdb": ("azure.cosmos", "cosmosdb"),
    "couchbase": ("couchbase.cluster", "couchbase"),
    "cassandra": ("cassandra.cluster", "cassandra"),
    "upstash_vector": ("upstash_vector", "upstash-vector"),
    "singlestore_vector": ("singlestoredb", "singlestore"),
}
STAND_INS = ("pinecone", "weaviate", "cosmosdb", "couchbase", "cassandra", "upstash_vector", "singlestore_vector")
"""Backends whose engine the tests replace: client-level fakes, wire-level stand-ins, MariaDB with a shim."""


def open_knowledge(backend: str, request: pytest.FixtureRequest, tmp_path: Path, dimension: int = 8) -> KnowledgeStore:
    """A store of ``backend`` on fresh data; closed and cleaned up when the test ends.

    ``dimension`` is for the Upstash stand-in, whose one index has a fixed dimension (cosine).
    """
    driver = KNOWLEDGE_DRIVERS[backend]
    if driver is not None:
        require_driver(*driver)
    suffix = uuid.uuid4().hex[:10]
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    store = _open(backend, request, tmp_path, suffix, monkeypatch, dimension)

    def close() -> None:
        for name in store.list_collections():
            store.delete_collection(name)
        store.close()

    request.addfinalizer(close)
    return store


def _open(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    suffix: str,
    monkeypatch: pytest.MonkeyPatch,
    dimension: int,
) -> KnowledgeStore:
    if backend in ("memory", "surrealdb_vector"):
        return KNOWLEDGE_STORES.create(backend, **({"url": "mem://"} if backend == "surrealdb_vector" else {}))
    if backend in ("chroma", "qdrant"):
        return KNOWLEDGE_STORES.create(backend, path=str(tmp_path / f"{backend}-{suffix}"))
    if backend == "lancedb":
        return KNOWLEDGE_STORES.create("lancedb", uri=str(tmp_path / f"lance-{suffix}"))
    if backend == "milvus":
        return KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / f"milvus-{suffix}.db"))
    if backend == "lightrag":
        import logging

        logging.getLogger("lightrag").setLevel(logging.WARNING)
        return KNOWLEDGE_STORES.create("lightrag", working_dir=str(tmp_path / f"rag-{suffix}"))
    if backend == "langchain":
        from langchain_core.vectorstores import InMemoryVectorStore

        from praisonai.persistence.knowledge.langchain import PrecomputedEmbeddings

        return KNOWLEDGE_STORES.create("langchain", vector_store=InMemoryVectorStore(embedding=PrecomputedEmbeddings()))
    if backend == "llamaindex":
        from llama_index.core.vector_stores import SimpleVectorStore

        return KNOWLEDGE_STORES.create("llamaindex", vector_store=SimpleVectorStore())
    if backend == "redis":
        server = request.getfixturevalue("redis_stack")
        return KNOWLEDGE_STORES.create("redis", url=server.url, key_prefix=f"kbdiff:{suffix}")
    if backend in ("pgvector", "clickhouse", "singlestore_vector"):
        return _open_sql(backend, request, suffix)
    return _open_stand_in(backend, request, monkeypatch, dimension)


def _open_sql(backend: str, request: pytest.FixtureRequest, suffix: str) -> KnowledgeStore:
    if backend == "pgvector":
        import psycopg

        url = request.getfixturevalue("postgres_url")
        schema = f"kb_diff_{suffix}"

        def drop_schema() -> None:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

        request.addfinalizer(drop_schema)
        return KNOWLEDGE_STORES.create("pgvector", url=f"{url}?schema={schema}")
    if backend == "clickhouse":
        from .chdb_engine import chdb_client, chdb_path

        database = f"kb_diff_{suffix}"
        request.addfinalizer(lambda: chdb_client().command(f"DROP DATABASE IF EXISTS `{database}` SYNC"))
        return KNOWLEDGE_STORES.create("clickhouse", chdb_path=chdb_path(), database=database)
    from .singlestore_shim import install_singlestore_functions
    from .sql_servers import create_mysql_database, drop_mysql_database, with_database

    pytest.importorskip("pymysql", reason="the MariaDB fixtures use PyMySQL (extra 'mysql')")
    server = request.getfixturevalue("mysql_url")
    name = create_mysql_database(server)
    request.addfinalizer(lambda: drop_mysql_database(server, name))
    url = with_database(server, name)
    install_singlestore_functions(url)
    return KNOWLEDGE_STORES.create("singlestore_v", url=url.replace("mysql://", "singlestoredb://"))


def _open_stand_in(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, dimension: int
) -> KnowledgeStore:
    from . import hosted_fakes

    if backend == "pinecone":
        from .pinecone_standin import PineconeStandIn

        stand_in = PineconeStandIn(api_key="pc-secret-key")
        request.addfinalizer(stand_in.stop)
        address = stand_in.url.removeprefix("http://")
        return KNOWLEDGE_STORES.create("pinecone", url=f"pinecone://:pc-secret-key@{address}")
    if backend == "weaviate":
        from .weaviate_standin import share_tls_context

        server = request.getfixturevalue("weaviate_server")
        server.reset()
        share_tls_context(monkeypatch)
        url = f"weaviate://:wv-secret@127.0.0.1:{server.http_port}?grpc_port={server.grpc_port}"
        return KNOWLEDGE_STORES.create("weaviate", url=url)
    if backend == "cosmosdb":
        import azure.cosmos

        monkeypatch.setattr(azure.cosmos, "CosmosClient", hosted_fakes.FakeCosmosClient())
        endpoint = "https://acct.documents.azure.com:443/"
        return KNOWLEDGE_STORES.create("azure_cosmos", url=f"AccountEndpoint={endpoint};AccountKey=c2VjcmV0LWtleQ==;")
    if backend == "couchbase":
        import couchbase.cluster

        monkeypatch.setattr(couchbase.cluster, "Cluster", hosted_fakes.FakeCouchbaseCluster())
        return KNOWLEDGE_STORES.create("couchbase", url="couchbase://admin:cb-secret@127.0.0.1/vectors")
    if backend == "cassandra":
        import cassandra.cluster

        monkeypatch.setattr(cassandra.cluster, "Cluster", hosted_fakes.FakeCassandraCluster())
        return KNOWLEDGE_STORES.create("cassandra", url="cassandra://app:cq-secret@10.0.0.1,10.0.0.2:9042/rag")
    assert backend == "upstash_vector", backend
    from .upstash_vector_standin import UpstashVectorStandIn

    standin = UpstashVectorStandIn(dimension=dimension, function="COSINE")
    request.addfinalizer(standin.stop)
    return KNOWLEDGE_STORES.create("upstash_v", url=standin.url, token=standin.token)
