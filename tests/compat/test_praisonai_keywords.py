"""PraisonAI 4.7.19's keyword arguments and environment variables, validated by our config models.

The keyword set of every PraisonAI backend is read from the committed inventory
(``tests/fixtures/praisonai_4_7_19/INVENTORY.md``, its generated ``__init__``
signatures); each config declares the same set, and each keyword is exercised by a
case below that checks what the resulting fields mean (qdrant ``host``/``port`` -> the
URL the adapter connects to, ``prefix`` -> the key prefix, ...).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from praisonai.persistence._catalogue import BUILTINS
from praisonai.persistence._config import StoreConfig
from praisonai.persistence._loading import load_object
from praisonai.persistence.errors import ConfigError
from praisonai.persistence.registry import CONVERSATION_STORES, KNOWLEDGE_STORES, STATE_STORES

INVENTORY = Path(__file__).parents[1] / "fixtures" / "praisonai_4_7_19" / "INVENTORY.md"
REGISTRIES: dict[str, Any] = {
    "conversation": CONVERSATION_STORES,
    "knowledge": KNOWLEDGE_STORES,
    "state": STATE_STORES,
}
CONFIGS: dict[tuple[str, str], type[StoreConfig]] = {
    (backend.kind, backend.name): load_object(backend.config) for backend in BUILTINS if backend.kind != "embedder"
}

# PraisonAI's class (module.Class under praisonai.persistence) -> its registry name.
PRAISONAI_CLASSES = {
    "conversation.async_mysql.AsyncMySQLConversationStore": ("conversation", "async_mysql"),
    "conversation.async_postgres.AsyncPostgresConversationStore": ("conversation", "async_postgres"),
    "conversation.async_sqlite.AsyncSQLiteConversationStore": ("conversation", "async_sqlite"),
    "conversation.json_store.JSONConversationStore": ("conversation", "json"),
    "conversation.mysql.MySQLConversationStore": ("conversation", "mysql"),
    "conversation.postgres.PostgresConversationStore": ("conversation", "postgres"),
    "conversation.singlestore.SingleStoreConversationStore": ("conversation", "singlestore"),
    "conversation.sqlite.SQLiteConversationStore": ("conversation", "sqlite"),
    "conversation.supabase.SupabaseConversationStore": ("conversation", "supabase"),
    "conversation.surrealdb.SurrealDBConversationStore": ("conversation", "surrealdb"),
    "conversation.sync_sqlite.SyncSQLiteConversationStore": ("conversation", "sync_sqlite"),
    "conversation.turso.TursoConversationStore": ("conversation", "turso"),
    "knowledge.cassandra.CassandraKnowledgeStore": ("knowledge", "cassandra"),
    "knowledge.chroma.ChromaKnowledgeStore": ("knowledge", "chroma"),
    "knowledge.clickhouse.ClickHouseKnowledgeStore": ("knowledge", "clickhouse"),
    "knowledge.cosmosdb_vector.CosmosDBVectorKnowledgeStore": ("knowledge", "cosmosdb"),
    "knowledge.couchbase.CouchbaseKnowledgeStore": ("knowledge", "couchbase"),
    "knowledge.lancedb.LanceDBKnowledgeStore": ("knowledge", "lancedb"),
    "knowledge.langchain_adapter.LangChainKnowledgeStore": ("knowledge", "langchain"),
    "knowledge.lightrag_adapter.LightRAGKnowledgeStore": ("knowledge", "lightrag"),
    "knowledge.llamaindex_adapter.LlamaIndexKnowledgeStore": ("knowledge", "llamaindex"),
    "knowledge.milvus.MilvusKnowledgeStore": ("knowledge", "milvus"),
    "knowledge.mongodb_vector.MongoDBVectorKnowledgeStore": ("knowledge", "mongodb_vector"),
    "knowledge.pgvector.PGVectorKnowledgeStore": ("knowledge", "pgvector"),
    "knowledge.pinecone.PineconeKnowledgeStore": ("knowledge", "pinecone"),
    "knowledge.qdrant.QdrantKnowledgeStore": ("knowledge", "qdrant"),
    "knowledge.redis_vector.RedisVectorKnowledgeStore": ("knowledge", "redis"),
    "knowledge.singlestore_vector.SingleStoreVectorKnowledgeStore": ("knowledge", "singlestore_vector"),
    "knowledge.surrealdb_vector.SurrealDBVectorKnowledgeStore": ("knowledge", "surrealdb_vector"),
    "knowledge.upstash_vector.UpstashVectorKnowledgeStore": ("knowledge", "upstash_vector"),
    "knowledge.valkey_vector.ValkeyVectorKnowledgeStore": ("knowledge", "valkey"),
    "knowledge.weaviate.WeaviateKnowledgeStore": ("knowledge", "weaviate"),
    "state.async_mongodb.AsyncMongoDBStateStore": ("state", "async_mongodb"),
    "state.dynamodb.DynamoDBStateStore": ("state", "dynamodb"),
    "state.firestore.FirestoreStateStore": ("state", "firestore"),
    "state.gcs.GCSStateStore": ("state", "gcs"),
    "state.memory.MemoryStateStore": ("state", "memory"),
    "state.mongodb.MongoDBStateStore": ("state", "mongodb"),
    "state.redis.RedisStateStore": ("state", "redis"),
    "state.upstash.UpstashStateStore": ("state", "upstash"),
    "state.valkey.ValkeyStateStore": ("state", "valkey"),
}
# Keywords PraisonAI's registry factories take besides the class's (inventory section 6 and registry.py):
# file backends take url= as the path, gcs takes bucket= as well as bucket_name=.
REGISTRY_KEYWORDS = {
    ("conversation", "sqlite"): {"url"},
    ("conversation", "async_sqlite"): {"url"},
    ("conversation", "sync_sqlite"): {"url"},
    ("conversation", "json"): {"url"},
    ("knowledge", "chroma"): {"url"},
    ("knowledge", "lancedb"): {"url"},
    ("state", "gcs"): {"bucket"},
}


def _inventory_keywords() -> dict[tuple[str, str], set[str]]:
    text = INVENTORY.read_text(encoding="utf-8")
    section = text.split("## Store classes: `__init__` signatures (generated)", 1)[1].split("\n## ", 1)[0]
    found: dict[tuple[str, str], set[str]] = {}
    for match in re.finditer(r"^- `praisonai\.persistence\.([\w.]+)` \(\w+\) `\((.*)\)`$", section, re.M):
        key = PRAISONAI_CLASSES.get(match[1])
        if key is None:
            continue  # private bases (_sql_base, _sqlite_base)
        # A parameter is "name: type = default" or "name=default"; "**kwargs" and "/" are no keywords.
        found[key] = set(re.findall(r"(?:^|, )(\w+)(?=: |=)", match[2]))
        found[key] |= REGISTRY_KEYWORDS.get(key, set())
    return found


PRAISONAI_KEYWORDS = _inventory_keywords()


def test_the_inventory_names_every_praisonai_backend() -> None:
    assert set(PRAISONAI_KEYWORDS) == set(PRAISONAI_CLASSES.values())
    assert {"host", "port", "grpc_port"} < PRAISONAI_KEYWORDS[("knowledge", "qdrant")]
    assert "kwargs" not in PRAISONAI_KEYWORDS[("knowledge", "lightrag")]


@pytest.mark.parametrize("key", sorted(PRAISONAI_KEYWORDS), ids=lambda key: f"{key[0]}:{key[1]}")
def test_each_config_declares_praisonais_keywords_and_accepts_them(key: tuple[str, str]) -> None:
    config = CONFIGS.get(key)
    if config is None:
        pytest.skip(f"{key[0]} backend {key[1]!r} is not built in on this branch")
    inherited = any(
        getattr(base, "praisonai_keywords", None) is config.praisonai_keywords for base in config.__mro__[1:]
    )
    if not inherited:
        assert set(config.praisonai_keywords) == PRAISONAI_KEYWORDS[key]
    else:  # inherited (valkey from redis, sync_sqlite from sqlite): it must cover PraisonAI's
        assert set(config.praisonai_keywords) >= PRAISONAI_KEYWORDS[key]
    for keyword in config.praisonai_keywords:
        accepted = keyword in config.model_fields or keyword in config.keyword_aliases
        accepted = accepted or (keyword == "url" and config.url_spec is not None)
        assert accepted, f"{key[1]}: {keyword}= is neither a field nor declared in keyword_aliases"


def test_the_keyword_tables_in_the_docs_are_generated_from_the_configs() -> None:
    from praisonai.persistence._keywords import render_docs

    path = Path(__file__).parents[2] / "docs" / "praisonai-keywords.md"
    text = path.read_text(encoding="utf-8")
    assert render_docs(text) == text, "run: python -m praisonai.persistence._catalogue --write"
    assert "| `grpc_port` | `grpc_port` (the same field) |" in text


class _LangChainLike:
    def add_documents(self, *args: Any) -> None: ...
    def delete(self, *args: Any) -> None: ...
    def get_by_ids(self, *args: Any) -> None: ...
    def similarity_search_with_score_by_vector(self, *args: Any) -> None: ...


class _LlamaIndexLike:
    def add(self, *args: Any) -> None: ...
    def delete_nodes(self, *args: Any) -> None: ...
    def query(self, *args: Any) -> None: ...


LANGCHAIN_STORE = _LangChainLike()
LLAMAINDEX_STORE = _LlamaIndexLike()
COSMOS = "AccountEndpoint=https://acct.documents.azure.com:443/;AccountKey=c2VjcmV0LWtleQ==;"
SERVER = {"host": "db.example", "port": 6543, "database": "chat", "user": "app", "password": "pw-1"}
SERVER_FIELDS = {"host": "db.example", "port": 6543, "database": "chat", "user": "app", "password": "pw-1"}

# (kind, name, PraisonAI keywords, the fields they must give). SecretStr fields compare by their value.
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    # conversation
    ("conversation", "sqlite", {"path": "chat.db", "table_prefix": "app_", "auto_create_tables": True,
      "check_same_thread": True}, {"path": "chat.db", "table_prefix": "app_"}),
    ("conversation", "sqlite", {"url": "chat.db", "check_same_thread": False}, {"path": "chat.db"}),
    ("conversation", "async_sqlite", {"url": "chat.db", "table_prefix": "app_"}, {"path": "chat.db", "table_prefix": "app_"}),
    ("conversation", "async_sqlite", {"path": "chat.db"}, {"path": "chat.db"}),
    ("conversation", "sync_sqlite", {"url": "chat.db", "table_prefix": "app_"},
     {"path": "chat.db", "table_prefix": "app_"}),
    ("conversation", "sync_sqlite", {"path": "chat.db"}, {"path": "chat.db"}),
    ("conversation", "json", {"path": "convs", "pretty": False}, {"path": "convs"}),
    ("conversation", "json", {"url": "convs", "pretty": True}, {"path": "convs"}),
    ("conversation", "postgres", {**SERVER, "schema": "chat_s", "table_prefix": "app_", "auto_create_tables": True,
      "pool_size": 3, "max_retries": 5, "retry_delay": 1.5},
     {**SERVER_FIELDS, "schema_name": "chat_s", "table_prefix": "app_", "pool_size": 3}),
    ("conversation", "postgres", {"url": "postgresql://app:pw-1@db.example:6543/chat"}, SERVER_FIELDS),
    ("conversation", "async_postgres", {**SERVER, "table_prefix": "app_", "pool_size": 4},
     {**SERVER_FIELDS, "table_prefix": "app_", "pool_size": 4}),
    ("conversation", "async_postgres", {"url": "postgresql://app:pw-1@db.example:6543/chat"}, SERVER_FIELDS),
    ("conversation", "mysql", {**SERVER, "table_prefix": "app_", "auto_create_tables": True, "pool_size": 2},
     {**SERVER_FIELDS, "table_prefix": "app_", "pool_size": 2}),
    ("conversation", "mysql", {"url": "mysql://app:pw-1@db.example:6543/chat"}, SERVER_FIELDS),
    ("conversation", "async_mysql", {**SERVER, "table_prefix": "app_", "pool_size": 2},
     {**SERVER_FIELDS, "table_prefix": "app_", "pool_size": 2}),
    ("conversation", "async_mysql", {"url": "mysql://app:pw-1@db.example:6543/chat"}, SERVER_FIELDS),
    ("conversation", "singlestore", {**SERVER, "table_prefix": "app_", "auto_create_tables": True},
     {**SERVER_FIELDS, "table_prefix": "app_"}),
    ("conversation", "singlestore", {"url": "singlestoredb://app:pw-1@db.example:6543/chat"}, SERVER_FIELDS),
    ("conversation", "supabase", {"url": "https://ref.supabase.co", "key": "sb-key", "table_prefix": "app_",
      "auto_create_tables": False, "max_retries": 3, "retry_delay": 2.0},
     {"project_url": "https://ref.supabase.co", "api_key": "sb-key", "table_prefix": "app_", "retry_reads": True}),
    ("conversation", "supabase", {"url": "https://ref.supabase.co", "key": "sb-key", "max_retries": 0},
     {"retry_reads": False}),
    ("conversation", "surrealdb", {"url": "ws://surreal.example:8000/rpc", "namespace": "ns1", "database": "chat",
      "username": "root", "password": "sr-pw", "table_prefix": "app_", "auto_create_tables": True},
     {"url": "ws://surreal.example:8000/rpc", "namespace": "ns1", "database": "chat", "username": "root",
      "password": "sr-pw", "table_prefix": "app_"}),
    ("conversation", "turso", {"url": "libsql://chat-org.turso.io", "auth_token": "tt", "local_path": "replica.db",
      "table_prefix": "app_", "auto_create_tables": True, "sync_on_write": True},
     {"url": "libsql://chat-org.turso.io", "auth_token": "tt", "replica_path": "replica.db", "path": None,
      "table_prefix": "app_", "mode": "replica"}),
    ("conversation", "turso", {"local_path": "local.db", "sync_on_write": False},
     {"path": "local.db", "url": None, "mode": "local"}),
    # knowledge
    ("knowledge", "cassandra", {"hosts": ["10.0.0.1", "10.0.0.2"], "keyspace": "kb", "username": "cass",
      "password": "cs-pw", "port": 9043, "secure_connect_bundle": None},
     {"hosts": ["10.0.0.1", "10.0.0.2"], "keyspace": "kb", "username": "cass", "password": "cs-pw", "port": 9043}),
    ("knowledge", "cassandra", {"secure_connect_bundle": "/keys/secure-connect-db.zip", "username": "client-id",
      "password": "client-secret"}, {"secure_connect_bundle": "/keys/secure-connect-db.zip"}),
    ("knowledge", "chroma", {"path": "chroma-dir", "persistent": True}, {"path": "chroma-dir", "local_path": "chroma-dir"}),
    ("knowledge", "chroma", {"url": "chroma-dir"}, {"path": "chroma-dir"}),
    ("knowledge", "chroma", {"host": "chroma.example", "port": 8001, "persistent": False},
     {"host": "chroma.example", "port": 8001, "local_path": None}),
    ("knowledge", "chroma", {"persistent": False}, {"local_path": ":memory:", "host": None}),
    ("knowledge", "clickhouse", {"host": "ch.example", "port": 8124, "username": "ch", "password": "ch-pw",
      "database": "kb", "secure": True},
     {"host": "ch.example", "effective_port": 8124, "username": "ch", "password": "ch-pw", "database": "kb",
      "secure": True}),
    ("knowledge", "cosmosdb", {"connection_string": COSMOS, "database": "kb", "collection": "vectors",
      "index_name": "vector_index", "embedding_field": "embedding", "text_field": "content", "embedding_dim": 1536,
      "api_mode": "sql"},
     {"url": "https://acct.documents.azure.com:443/", "key": "c2VjcmV0LWtleQ==", "database": "kb"}),
    ("knowledge", "couchbase", {"connection_string": "couchbase://cb.example", "username": "Administrator",
      "password": "cb-pw", "bucket_name": "kb", "scope_name": "scope1", "collection_name": "vectors",
      "index_name": "vector_index", "vector_field": "embedding", "text_field": "content", "embedding_dim": 768},
     {"connection_string": "couchbase://cb.example", "username": "Administrator", "password": "cb-pw",
      "bucket": "kb", "scope": "scope1"}),
    ("knowledge", "lancedb", {"path": "lance-dir"}, {"uri": "lance-dir"}),
    ("knowledge", "lancedb", {"url": "lance-dir"}, {"uri": "lance-dir"}),
    ("knowledge", "lancedb", {"uri": "s3://bucket/lance"}, {"uri": "s3://bucket/lance"}),
    ("knowledge", "langchain", {"vectorstore": LANGCHAIN_STORE, "vectorstore_cls": None, "vectorstore_kwargs": None},
     {"vector_store": LANGCHAIN_STORE}),
    ("knowledge", "llamaindex", {"vector_store": LLAMAINDEX_STORE, "vector_store_cls": None,
      "vector_store_kwargs": {}}, {"vector_store": LLAMAINDEX_STORE}),
    ("knowledge", "lightrag", {"working_dir": "rag-dir", "llm_model": "gpt-4o-mini",
      "embedding_model": "text-embedding-3-small", "addon_params": {"language": "English"}},
     {"working_dir": "rag-dir", "lightrag_options": {"addon_params": {"language": "English"}}}),
    ("knowledge", "milvus", {"host": "milvus.example", "port": 19531, "token": "root:Milvus", "db_name": "kb"},
     {"uri": "http://milvus.example:19531", "token": "root:Milvus", "db_name": "kb", "is_local": False}),
    ("knowledge", "milvus", {"port": 19600}, {"uri": "http://localhost:19600"}),
    ("knowledge", "milvus", {"url": "milvus://milvus.example:19531"}, {"uri": "http://milvus.example:19531"}),
    ("knowledge", "mongodb_vector", {"url": "mongodb://mu:mp@mongo.example:27017", "database": "kb",
      "collection": "vectors", "index_name": "vidx", "embedding_field": "embedding", "text_field": "content",
      "embedding_dim": 384},
     {"url": "mongodb://mongo.example:27017", "username": "mu", "password": "mp", "database": "kb",
      "index_name": "vidx"}),
    ("knowledge", "pgvector", {**SERVER, "schema": "vec", "auto_create_extension": False},
     {**SERVER_FIELDS, "db_schema": "vec", "create_extension": False}),
    ("knowledge", "pgvector", {"url": "postgresql://app:pw-1@db.example:6543/chat"}, SERVER_FIELDS),
    ("knowledge", "pinecone", {"api_key": "pc-key", "index_name": "praisonai", "environment": "us-west1-gcp",
      "namespace": ""}, {"api_key": "pc-key", "host": None, "namespace": "documents"}),
    ("knowledge", "pinecone", {"api_key": "pc-key", "namespace": "tenant-1"}, {"namespace": "tenant-1"}),
    ("knowledge", "qdrant", {"host": "qdrant.example", "port": 6335, "grpc_port": 6336, "api_key": "qd-key",
      "prefer_grpc": True, "timeout": 20},
     {"url": "http://qdrant.example:6335", "grpc_port": 6336, "api_key": "qd-key", "prefer_grpc": True,
      "timeout": 20.0, "local_path": None}),
    ("knowledge", "qdrant", {"port": 6400}, {"url": "http://localhost:6400"}),
    ("knowledge", "qdrant", {"host": "qdrant.example"}, {"url": "http://qdrant.example:6333"}),
    ("knowledge", "qdrant", {"url": "http://qdrant.example:6333"}, {"url": "http://qdrant.example:6333"}),
    ("knowledge", "redis", {"host": "redis.example", "port": 6380, "password": "rd-pw", "prefix": "praison:vec:"},
     {"host": "redis.example", "port": 6380, "password": "rd-pw", "key_prefix": "praison:vec"}),
    ("knowledge", "redis", {"url": "redis://:rd-pw@redis.example:6380"},
     {"host": "redis.example", "port": 6380, "password": "rd-pw"}),
    ("knowledge", "valkey", {"host": "valkey.example", "port": 6380, "password": "vk-pw", "prefix": "praison:vec:"},
     {"host": "valkey.example", "port": 6380, "password": "vk-pw", "key_prefix": "praison:vec"}),
    ("knowledge", "singlestore_vector", {**SERVER, "database": "kb", "table_prefix": "praisonai_",
      "embedding_dim": 1536}, {**SERVER_FIELDS, "database": "kb", "table_prefix": "praisonai_"}),
    ("knowledge", "singlestore_vector", {"url": "singlestoredb://app:pw-1@db.example:6543/kb"},
     {**SERVER_FIELDS, "database": "kb"}),
    ("knowledge", "surrealdb_vector", {"url": "ws://surreal.example:8000/rpc", "namespace": "ns1",
      "database": "vectors", "username": "root", "password": "sr-pw", "embedding_dim": 1536},
     {"url": "ws://surreal.example:8000/rpc", "namespace": "ns1", "database": "vectors", "username": "root",
      "password": "sr-pw"}),
    ("knowledge", "upstash_vector", {"url": "https://kb-vector.upstash.io", "token": "uv-token", "embedding_dim": 8},
     {"url": "https://kb-vector.upstash.io", "token": "uv-token"}),
    ("knowledge", "weaviate", {"url": "http://weaviate.example:8081", "api_key": "wv-key",
      "additional_headers": {"X-OpenAI-Api-Key": "sk-1"}},
     {"host": "weaviate.example", "http_port": 8081, "secure": False, "api_key": "wv-key",
      "additional_headers": {"X-OpenAI-Api-Key": "sk-1"}}),
    ("knowledge", "weaviate", {"url": "http://weaviate.example"}, {"http_port": 8080, "secure": False}),
    ("knowledge", "weaviate", {"url": "https://cluster.weaviate.cloud"},
     {"host": "cluster.weaviate.cloud", "http_port": 443, "secure": True}),
    # state
    ("state", "async_mongodb", {"url": "mongodb://mongo.example:27017", "database": "app", "collection": "state"},
     {"url": "mongodb://mongo.example:27017", "database": "app", "collection": "state"}),
    ("state", "mongodb", {"url": "mongodb://mongo.example:27017", "database": "app", "collection": "state"},
     {"url": "mongodb://mongo.example:27017", "database": "app", "collection": "state"}),
    ("state", "dynamodb", {"table_name": "app_state", "region": "eu-west-1", "endpoint_url": "http://127.0.0.1:8000",
      "auto_create_table": False},
     {"table_name": "app_state", "region_name": "eu-west-1", "endpoint_url": "http://127.0.0.1:8000",
      "create_table": False}),
    ("state", "firestore", {"project": "proj-1", "collection": "app_state", "credentials_path": "/keys/sa.json"},
     {"project": "proj-1", "collection": "app_state", "credentials_file": "/keys/sa.json"}),
    ("state", "gcs", {"bucket_name": "app-bucket", "prefix": "praisonai_state/", "project": "proj-1",
      "credentials_path": "/keys/sa.json"},
     {"bucket": "app-bucket", "prefix": "praisonai_state/", "project": "proj-1", "credentials_file": "/keys/sa.json"}),
    ("state", "gcs", {"bucket": "app-bucket"}, {"bucket": "app-bucket"}),
    ("state", "memory", {"path": "state.json", "auto_save": True, "save_interval": 60},
     {"snapshot_path": "state.json"}),
    ("state", "memory", {"auto_save": False}, {"snapshot_path": None}),
    ("state", "redis", {"host": "redis.example", "port": 6380, "db": 2, "password": "rd-pw", "prefix": "praison:",
      "decode_responses": True, "socket_timeout": 3, "max_connections": 20},
     {"host": "redis.example", "port": 6380, "db": 2, "password": "rd-pw", "key_prefix": "praison:",
      "socket_timeout": 3.0, "max_connections": 20}),
    ("state", "redis", {"url": "redis://:rd-pw@redis.example:6380/1"},
     {"host": "redis.example", "port": 6380, "db": 1, "password": "rd-pw"}),
    ("state", "valkey", {"host": "valkey.example", "port": 6380, "password": "vk-pw", "prefix": "praison:", "db": 3},
     {"host": "valkey.example", "port": 6380, "password": "vk-pw", "key_prefix": "praison:", "db": 3}),
    ("state", "upstash", {"url": "https://eu1-app.upstash.io", "token": "up-token", "prefix": "praison:"},
     {"url": "https://eu1-app.upstash.io", "token": "up-token", "key_prefix": "praison:"}),
]  # fmt: skip


def _value(config: StoreConfig, name: str) -> Any:
    value = getattr(config, name)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {key: item.get_secret_value() if isinstance(item, SecretStr) else item for key, item in value.items()}
    return value


def _case_id(case: tuple[str, str, dict[str, Any], dict[str, Any]]) -> str:
    return f"{case[0]}:{case[1]}:{'+'.join(case[2])}"


@pytest.fixture(autouse=True)
def _no_praisonai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for names in (config.env_defaults.values() for config in CONFIGS.values()):
        for group in names:
            for name in group:
                monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_praisonai_keywords_mean_the_same(case: tuple[str, str, dict[str, Any], dict[str, Any]]) -> None:
    kind, name, keywords, expected = case
    if (kind, name) not in CONFIGS:
        pytest.skip(f"{kind} backend {name!r} is not built in on this branch")
    config = REGISTRIES[kind].validate(name, **keywords)
    assert type(config) is CONFIGS[(kind, name)]
    assert {field: _value(config, field) for field in expected} == expected


def test_the_cases_exercise_every_praisonai_keyword() -> None:
    used: dict[tuple[str, str], set[str]] = {}
    for kind, name, keywords, _ in CASES:
        used.setdefault((kind, name), set()).update(keywords)
    missing = {
        f"{key[0]}:{key[1]}": sorted(keywords - used.get(key, set()))
        for key, keywords in PRAISONAI_KEYWORDS.items()
        if key in CONFIGS and keywords - used.get(key, set())
    }
    assert missing == {}
    assert all(set(config.praisonai_keywords) >= PRAISONAI_KEYWORDS.get(key, set()) for key, config in CONFIGS.items())


# (kind, name, keywords, the option the error must name, a word of its reason)
REFUSALS: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("conversation", "sqlite", {"auto_create_tables": False}, "auto_create_tables", "creates its tables"),
    ("conversation", "postgres", {"auto_create_tables": False}, "auto_create_tables", "creates its tables"),
    ("conversation", "mysql", {"database": "d", "auto_create_tables": False}, "auto_create_tables", "creates"),
    ("conversation", "singlestore", {"database": "d", "auto_create_tables": False}, "auto_create_tables", "creates"),
    ("conversation", "surrealdb", {"auto_create_tables": False}, "auto_create_tables", "creates its tables"),
    ("conversation", "turso", {"auto_create_tables": False}, "auto_create_tables", "creates its tables"),
    ("conversation", "supabase", {"url": "https://ref.supabase.co", "key": "k", "auto_create_tables": True},
     "auto_create_tables", "cannot create tables"),
    ("conversation", "supabase", {"url": "https://ref.supabase.co", "key": "k", "max_retries": -1},
     "max_retries", "at least 0"),
    ("conversation", "supabase", {"url": "https://ref.supabase.co", "key": "k", "api_key": "k"}, "key", "only one"),
    ("conversation", "turso", {"local_path": "a.db", "path": "b.db"}, "local_path", "only one"),
    ("knowledge", "cosmosdb", {"connection_string": COSMOS, "api_mode": "mongodb"}, "api_mode", "mongodb_vector"),
    ("knowledge", "cosmosdb", {"connection_string": COSMOS, "embedding_field": "vec"}, "embedding_field", "'embedding'"),
    ("knowledge", "cosmosdb", {"connection_string": COSMOS, "text_field": "text"}, "text_field", "'content'"),
    ("knowledge", "cosmosdb", {"url": COSMOS, "connection_string": COSMOS}, "connection_string", "only one"),
    ("knowledge", "mongodb_vector", {"embedding_field": "vec"}, "embedding_field", "'embedding'"),
    ("knowledge", "mongodb_vector", {"text_field": "body"}, "text_field", "'content'"),
    ("knowledge", "couchbase", {"vector_field": "vec"}, "vector_field", "'embedding'"),
    ("knowledge", "couchbase", {"bucket_name": "a", "bucket": "a"}, "bucket_name", "only one"),
    ("knowledge", "pinecone", {"api_key": "k", "namespace": "praisonai-settings"}, "namespace", "the store's own"),
    ("knowledge", "cassandra", {"secure_connect_bundle": ""}, "secure_connect_bundle", "empty"),
    ("knowledge", "langchain", {"vectorstore_cls": "langchain_chroma.Chroma"}, "vectorstore_cls", "vectorstore="),
    ("knowledge", "llamaindex", {"vector_store": LLAMAINDEX_STORE, "vector_store_kwargs": {"a": 1}},
     "vector_store_kwargs", "vector_store="),
    ("knowledge", "chroma", {"path": "dir", "persistent": False}, "persistent", "in memory"),
    ("knowledge", "chroma", {"persistent": "no"}, "persistent", "true or false"),
    ("knowledge", "qdrant", {"url": "http://a.example:6333", "host": "b.example"}, "host", "give either"),
    ("knowledge", "qdrant", {"host": "a.example/x"}, "host", "host name"),
    ("knowledge", "milvus", {"port": "many"}, "port", "whole number"),
    ("knowledge", "lightrag", {"api_key": "sk-secret-1"}, "api_key", "unknown option"),
    ("knowledge", "redis", {"prefix": "a:", "key_prefix": "b"}, "prefix", "only one"),
    ("state", "gcs", {"bucket_name": "a-bucket", "bucket": "b-bucket"}, "bucket_name", "only one"),
    ("state", "memory", {"path": "a.json", "snapshot_path": "b.json"}, "path", "only one"),
]  # fmt: skip


@pytest.mark.parametrize("case", REFUSALS, ids=lambda case: f"{case[0]}:{case[1]}:{case[3]}")
def test_values_we_cannot_honour_are_a_config_error(case: tuple[str, str, dict[str, Any], str, str]) -> None:
    kind, name, keywords, option, reason = case
    with pytest.raises(ConfigError) as caught:
        REGISTRIES[kind].validate(name, **keywords)
    assert caught.value.backend == name and f"'{name}'" in str(caught.value)
    messages = [error.message for error in caught.value.errors if option in error.field.split("/")]
    assert messages and any(reason in message for message in messages), str(caught.value)
    assert "sk-secret-1" not in str(caught.value)


def test_composed_urls_and_unused_keywords_reach_the_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    qdrant_client = pytest.importorskip("qdrant_client")
    seen: list[dict[str, Any]] = []

    class Client:
        def __init__(self, **options: Any) -> None:
            seen.append(options)

        def close(self) -> None: ...

    monkeypatch.setattr(qdrant_client, "QdrantClient", Client)
    store = KNOWLEDGE_STORES.create("qdrant", host="qdrant.example", port=6335, grpc_port=6336, prefer_grpc=True)
    store.close()
    assert seen[0]["url"] == "http://qdrant.example:6335"
    assert (seen[0]["grpc_port"], seen[0]["prefer_grpc"]) == (6336, True)


def test_weaviate_additional_headers_are_sent_and_masked(weaviate_server: Any) -> None:
    weaviate_server.reset()
    headers = {"X-OpenAI-Api-Key": "sk-secret-1"}
    config = KNOWLEDGE_STORES.validate("weaviate", url="https://cluster.weaviate.cloud", additional_headers=headers)
    assert config is not None
    assert "sk-secret-1" not in repr(config) and "sk-secret-1" not in config.model_dump_json()
    assert (config.host, config.http_port, config.secure) == ("cluster.weaviate.cloud", 443, True)
    url = f"http://127.0.0.1:{weaviate_server.http_port}"
    options = {"api_key": "wv-secret", "grpc_port": weaviate_server.grpc_port, "additional_headers": headers}
    with KNOWLEDGE_STORES.create("weaviate", url=url, **options) as store:
        store.collection_exists("docs")
    # Weaviate's modules read such keys from every request: REST headers and gRPC metadata alike.
    assert {sent.get("x-openai-api-key") for sent in weaviate_server.headers} == {"sk-secret-1"}


def test_chroma_persistent_false_is_an_in_memory_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("chromadb")
    monkeypatch.chdir(tmp_path)
    store = KNOWLEDGE_STORES.create("chroma", persistent=False)
    try:
        name = f"compat_{tmp_path.name[-12:].replace('-', '_')}"
        store.create_collection(name, dimension=2)
        assert store.collection_exists(name)
    finally:
        store.close()
    assert list(tmp_path.iterdir()) == []  # nothing written to disk


def test_pinecone_namespace_holds_the_documents() -> None:
    """PraisonAI's ``namespace=`` keyword: the documents go to that namespace of the index, on
    Pinecone's REST API (the real SDK against the stand-in), not to the default one."""
    from praisonai.persistence.knowledge.base import KnowledgeDocument
    from tests.support.emulators import require_driver
    from tests.support.pinecone_standin import PineconeStandIn

    require_driver("pinecone", "pinecone")
    project = PineconeStandIn(api_key="pc-key")
    try:
        address = project.url.removeprefix("http://")
        with KNOWLEDGE_STORES.create("pinecone", url=f"pinecone://:pc-key@{address}", namespace="tenant-1") as store:
            store.create_collection("docs", 2)
            store.insert("docs", [KnowledgeDocument(id="a", content="x", embedding=[1.0, 0.0])])
            assert store.count("docs") == 1 and [doc.id for doc in store.get("docs", ["a"])] == ["a"]
        [index] = project.indexes.values()
        assert set(index.namespaces["tenant-1"]) == {"a"} and not index.namespaces.get("documents")
    finally:
        project.stop()


def test_cassandra_secure_connect_bundle_replaces_the_contact_points(monkeypatch: pytest.MonkeyPatch) -> None:
    from praisonai.persistence.knowledge import cassandra as cassandra_module

    seen: list[dict[str, Any]] = []

    class Cluster:
        def __init__(self, **options: Any) -> None:
            seen.append(options)

        def connect(self) -> Any:
            raise ConnectionError("stop here")  # only the connection options matter

    driver = type("driver", (), {"Cluster": Cluster})
    monkeypatch.setattr(cassandra_module.CassandraKnowledgeStore, "_import_driver", lambda self, name: driver)
    with pytest.raises(ConnectionError):
        KNOWLEDGE_STORES.create("cassandra", secure_connect_bundle="/keys/bundle.zip")
    assert seen[0]["cloud"] == {"secure_connect_bundle": "/keys/bundle.zip"}
    assert "contact_points" not in seen[0] and "port" not in seen[0]


def _parameters(signature: str) -> list[str]:
    """A signature's parameters, split at the commas outside brackets."""
    parts, depth, current = [], 0, ""
    for char in signature:
        depth += {"[": 1, "(": 1, "]": -1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def _praisonai_defaults() -> dict[tuple[str, str], dict[str, Any]]:
    """Each backend's keywords with PraisonAI's defaults, as its signatures in the inventory declare them."""
    text = INVENTORY.read_text(encoding="utf-8")
    section = text.split("## Store classes: `__init__` signatures (generated)", 1)[1].split("\n## ", 1)[0]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for match in re.finditer(r"^- `praisonai\.persistence\.([\w.]+)` \(\w+\) `\((.*)\)`$", section, re.M):
        key = PRAISONAI_CLASSES.get(match[1])
        if key is not None:
            defaults = [part.partition(" = ") for part in _parameters(match[2]) if " = " in part]
            found[key] = {name.partition(":")[0]: ast.literal_eval(value) for name, _, value in defaults}
    return found


# What PraisonAI requires (or took from the environment) besides its defaults; the values we refuse.
REQUIRED: dict[tuple[str, str], dict[str, Any]] = {
    ("conversation", "supabase"): {"url": "https://ref.supabase.co", "key": "sb-key"},
    ("knowledge", "cosmosdb"): {"connection_string": COSMOS, "api_mode": "sql"},
    ("knowledge", "langchain"): {"vectorstore": LANGCHAIN_STORE},
    ("knowledge", "llamaindex"): {"vector_store": LLAMAINDEX_STORE},
    ("knowledge", "pinecone"): {"api_key": "pc-key"},
    ("knowledge", "upstash_vector"): {"url": "https://kb-vector.upstash.io", "token": "uv-token"},
    ("state", "gcs"): {"bucket_name": "app-bucket"},
    ("state", "upstash"): {"url": "https://eu1-app.upstash.io", "token": "up-token"},
}
DEFAULTS = _praisonai_defaults()


@pytest.mark.parametrize("key", sorted(DEFAULTS), ids=lambda key: f"{key[0]}:{key[1]}")
def test_praisonais_defaults_passed_explicitly_are_accepted(key: tuple[str, str]) -> None:
    if key not in CONFIGS:
        pytest.skip(f"{key[0]} backend {key[1]!r} is not built in on this branch")
    keywords = {**DEFAULTS[key], **REQUIRED.get(key, {})}
    assert set(keywords) <= PRAISONAI_KEYWORDS[key]
    config = REGISTRIES[key[0]].validate(key[1], **keywords)
    assert type(config) is CONFIGS[key]


def test_none_means_not_given_for_praisonais_keywords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINECONE_API_KEY", "from-env")
    config = KNOWLEDGE_STORES.validate("pinecone", api_key=None, index_name=None)
    assert config is not None and _value(config, "api_key") == "from-env"
    cassandra = KNOWLEDGE_STORES.validate("cassandra", hosts=None)
    assert cassandra is not None and _value(cassandra, "hosts") == ["127.0.0.1"]
    with pytest.raises(ConfigError):  # not one of PraisonAI's keywords: None is a value, and a wrong one
        KNOWLEDGE_STORES.validate("cassandra", replication_factor=None)
