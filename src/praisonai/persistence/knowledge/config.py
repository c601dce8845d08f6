"""Config models of the built-in knowledge backends.

Validated before the adapter module or driver is imported; see ``_config.py``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, cast
from urllib.parse import unquote

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator
from typing_extensions import Self

from .._catalogue import Kind
from .._config import Identifier, StoreConfig, TablePrefix, build_store
from .._paths import data_dir
from .._surreal import SurrealName, SurrealSettings
from ..url import URL
from .base import Distance
from .filters import FilterNode

if TYPE_CHECKING:
    from .base import KnowledgeStore

__all__ = [
    "ClickHouseKnowledgeConfig",
    "KnowledgeConfig",
    "LangChainKnowledgeConfig",
    "LightRagKnowledgeConfig",
    "LlamaIndexKnowledgeConfig",
    "MemoryKnowledgeConfig",
    "PgvectorKnowledgeConfig",
    "SurrealVectorKnowledgeConfig",
    "ChromaKnowledgeConfig",
    "LanceDbKnowledgeConfig",
    "MilvusKnowledgeConfig",
    "QdrantKnowledgeConfig",
    "RedisVectorKnowledgeConfig",
    "CassandraKnowledgeConfig",
    "CosmosDbKnowledgeConfig",
    "CouchbaseKnowledgeConfig",
    "MongoVectorKnowledgeConfig",
    "PineconeKnowledgeConfig",
    "SingleStoreVectorKnowledgeConfig",
    "UpstashVectorKnowledgeConfig",
    "WeaviateKnowledgeConfig",
]


class KnowledgeConfig(StoreConfig):
    """Config of a knowledge backend; ``open()`` is a KnowledgeStore."""

    kind: ClassVar[Kind] = "knowledge"

    def open(self) -> KnowledgeStore:
        return cast("KnowledgeStore", build_store(self))


class MemoryKnowledgeConfig(KnowledgeConfig):
    """The pure-Python ``memory`` backend: ``memory://``, or ``memory:///relative.json`` /
    ``memory:////absolute.json`` to keep the collections in a JSON file."""

    backend: ClassVar[str] = "memory"

    path: str | None = Field(default=None, min_length=1)
    """JSON file holding every collection; loaded on open, rewritten atomically (see ``autosave``)."""
    autosave: bool = True
    """With a path: rewrite the file after every write (else only on ``save()`` and ``close()``)."""

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme != "memory":
            raise ValueError(f"expected memory:// or memory:///path/to/file.json, got scheme {parsed.scheme!r}")
        if parsed.host or parsed.username or parsed.port:
            raise ValueError("memory URLs have no host: use memory:///relative.json or memory:////absolute.json")
        fields: dict[str, Any] = {"path": parsed.database} if parsed.database else {}
        for key, value in parsed.query:
            if key != "autosave":
                raise ValueError(f"unknown memory URL parameter {key!r}; the only one is autosave")
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"autosave must be true or false, got {value!r:.20}")
            fields["autosave"] = value.lower() in ("true", "1", "yes")
        return fields


# -- shared by the SQL and framework backends below -----------------------------


def _url_options(url: URL, allowed: tuple[str, ...]) -> dict[str, str]:
    options = url.query_dict()
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown URL parameter(s) {', '.join(unknown)}; accepted: {', '.join(allowed) or 'none'}")
    return options


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def _url_flag(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"{name} must be true or false, got {value!r:.20}")
    return lowered in ("true", "1", "yes")


def _path_from_url(parsed: URL) -> str:
    # scheme:///relative/dir and scheme:////absolute/dir, as the sqlite URLs spell paths.
    if parsed.host or parsed.username or parsed.port:
        raise ValueError(
            f"{parsed.scheme} URLs name a directory, not a host: use {parsed.scheme}:///relative/dir "
            f"or {parsed.scheme}:////absolute/dir"
        )
    if not parsed.database:
        raise ValueError(f"{parsed.scheme} URL has no directory")
    return parsed.database


# -- pgvector -------------------------------------------------------------------

_PG_SCHEMES = ("postgresql", "postgres", "pgvector", "postgresql+psycopg")
_PG_URL_OPTIONS = ("sslmode", "schema", "table_prefix", "connect_timeout", "host")


class PgvectorKnowledgeConfig(KnowledgeConfig):
    """PostgreSQL with the pgvector extension, through psycopg 3: a ``postgresql://`` URL or the fields."""

    backend: ClassVar[str] = "pgvector"

    host: str = "127.0.0.1"
    """Server host name or address, or the directory of its Unix socket (a path starting with ``/``)."""
    port: int = Field(default=5432, ge=1, le=65535)
    user: str | None = None
    password: SecretStr | None = None
    database: str | None = None
    """Database name (default: the server's default for ``user``)."""
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None = None
    db_schema: Identifier = "public"
    """Schema of the tables; created if missing. ``?schema=`` in the URL."""
    table_prefix: TablePrefix = "praison_kb_"
    """Prefix of the catalogue table and of every collection's table."""
    connect_timeout: float = Field(default=10.0, gt=0, le=3600)
    """Seconds to wait for a connection before raising BackendUnavailableError."""
    max_connections: int = Field(default=4, ge=1, le=100)
    """Connections kept open for concurrent calls from several threads."""
    create_extension: bool = True
    """Run ``CREATE EXTENSION IF NOT EXISTS vector`` when the extension is missing (needs the privilege)."""
    index: Literal["hnsw", "none"] = "hnsw"
    """An HNSW index per collection, built with the operator class of its distance; ``none``: exact scans only."""
    hnsw_m: int = Field(default=16, ge=2, le=100)
    hnsw_ef_construction: int = Field(default=64, ge=4, le=1000)
    ef_search: int = Field(default=100, ge=1, le=1000)
    """HNSW candidate list size per search; raised to ``limit`` when a search asks for more (up to 1000)."""
    exact_search: bool = False
    """Always scan exactly (no index); the index is still kept up to date."""

    @field_validator("host", "user", "database")
    @classmethod
    def _text_without_nul(cls, value: str | None) -> str | None:
        return _no_nul(value)

    @model_validator(mode="after")
    def _ef_construction_covers_m(self) -> Self:
        if self.hnsw_ef_construction < 2 * self.hnsw_m:
            raise ValueError("hnsw_ef_construction must be at least 2 * hnsw_m (a pgvector rule)")
        return self

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme not in _PG_SCHEMES:
            raise ValueError(f"expected {', '.join(s + '://' for s in _PG_SCHEMES)}, got scheme {parsed.scheme!r}")
        options = _url_options(parsed, _PG_URL_OPTIONS)
        fields: dict[str, Any] = {}
        if parsed.host:
            fields["host"] = parsed.host
        if parsed.port is not None:
            fields["port"] = parsed.port
        if parsed.username:
            fields["user"] = parsed.username
        if parsed.password is not None:
            fields["password"] = SecretStr(parsed.password)
        if parsed.database:
            fields["database"] = parsed.database
        renamed = {"schema": "db_schema"}
        for key, value in options.items():
            fields[renamed.get(key, key)] = value
        return fields


# -- clickhouse -----------------------------------------------------------------

_CLICKHOUSE_URL_OPTIONS = ("secure", "verify", "table_prefix", "connect_timeout", "send_receive_timeout")


class ClickHouseKnowledgeConfig(KnowledgeConfig):
    """ClickHouse through clickhouse-connect: a server over HTTP(S), or the embedded chDB engine.

    Server: ``clickhouse://user:password@host:8123/database`` (``clickhouses://`` or
    ``?secure=true`` for HTTPS, default port 8443). Embedded: ``chdb://`` (in memory),
    ``chdb:///relative/dir`` or ``chdb:////absolute/dir`` (``chdb_path=``).
    """

    backend: ClassVar[str] = "clickhouse"

    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535)
    """HTTP(S) port; default 8123, or 8443 with ``secure``."""
    username: str = "default"
    password: SecretStr | None = None
    database: Identifier = "default"
    """Database of the tables; created if missing."""
    secure: bool = False
    verify: bool = True
    """With ``secure``: verify the server's TLS certificate."""
    chdb_path: str | None = Field(default=None, min_length=1)
    """Run the embedded chDB engine on this directory (``:memory:`` for none) instead of a server.
    chDB allows one data directory per process."""
    table_prefix: TablePrefix = "praison_kb_"
    connect_timeout: float = Field(default=10.0, gt=0, le=3600)
    send_receive_timeout: float = Field(default=300.0, gt=0, le=86400)

    @field_validator("host", "username", "chdb_path")
    @classmethod
    def _text_without_nul(cls, value: str | None) -> str | None:
        return _no_nul(value)

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else (8443 if self.secure else 8123)

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme == "chdb":
            if parsed.query:
                raise ValueError("chdb URLs take no parameters")
            if not parsed.host and not parsed.database and not parsed.username:
                return {"chdb_path": ":memory:"}
            return {"chdb_path": _path_from_url(parsed)}
        if parsed.scheme not in ("clickhouse", "clickhouses", "http", "https"):
            raise ValueError(
                f"expected clickhouse://, clickhouses://, http(s):// or chdb://, got scheme {parsed.scheme!r}"
            )
        options = _url_options(parsed, _CLICKHOUSE_URL_OPTIONS)
        fields: dict[str, Any] = {"secure": parsed.scheme in ("clickhouses", "https")}
        if parsed.host:
            fields["host"] = parsed.host
        if parsed.port is not None:
            fields["port"] = parsed.port
        if parsed.username:
            fields["username"] = parsed.username
        if parsed.password is not None:
            fields["password"] = SecretStr(parsed.password)
        if parsed.database:
            fields["database"] = parsed.database
        for key, value in options.items():
            fields[key] = _url_flag(key, value) if key in ("secure", "verify") else value
        return fields


# -- surrealdb_vector -----------------------------------------------------------


def _default_knowledge_surrealkv_url() -> str:
    return "surrealkv://" + str(data_dir() / "knowledge.surrealkv")


class SurrealVectorKnowledgeConfig(SurrealSettings, KnowledgeConfig):
    """SurrealDB vectors: the SDK's embedded engine (``mem://``, ``surrealkv://``) or a server (``ws://``)."""

    backend: ClassVar[str] = "surrealdb_vector"
    _example_directory: ClassVar[str] = "/var/lib/app/knowledge"

    url: str = Field(default_factory=_default_knowledge_surrealkv_url)
    """``mem://``, ``surrealkv:///abs/dir`` (or ``surrealkv://relative/dir``, ``surrealkv+versioned://``,
    ``file://``), ``ws[s]://host:8000/rpc``, ``http[s]://host:8000``. Default: a SurrealKV directory
    under ``$PRAISONAI_DATA_DIR``."""
    database: SurrealName = "knowledge"
    table_prefix: TablePrefix = "praison_kb_"


# -- langchain, llamaindex ------------------------------------------------------


class _FrameworkSettings(KnowledgeConfig):
    """What the framework adapters share: the wrapped store and how to read its scores and filters."""

    _required_methods: ClassVar[tuple[str, ...]] = ()
    _framework: ClassVar[str] = ""

    vector_store: Any
    """The framework's vector store object to wrap (it is used, never copied)."""
    distance: Distance = "cosine"
    """The distance the wrapped store ranks by; the adapter's collections all use it."""
    score_transform: Callable[[float], float] | None = None
    """Turns the store's raw score into the portable score (higher is closer); default: the raw score,
    which is right for the framework's in-memory store."""
    filter_translator: Callable[[FilterNode], Any] | None = None
    """Turns a parsed portable filter into the store's native filter. Default: exact filtering for the
    framework's in-memory store; for other stores, filters raise UnsupportedFilterError until one is given."""

    @field_validator("vector_store")
    @classmethod
    def _looks_like_a_vector_store(cls, value: Any) -> Any:
        missing = [name for name in cls._required_methods if not callable(getattr(value, name, None))]
        if value is None or missing:
            raise ValueError(
                f"expected a {cls._framework} vector store object; {type(value).__name__} lacks "
                f"{', '.join(missing) or 'everything'}"
            )
        return value


class LangChainKnowledgeConfig(_FrameworkSettings):
    """Wraps a LangChain ``VectorStore`` (for example ``langchain_core.vectorstores.InMemoryVectorStore``).

    The store must embed through :class:`praisonai.persistence.knowledge.langchain.PrecomputedEmbeddings`
    (or offer ``add_embeddings``), so that the caller's embeddings are stored as given.
    """

    backend: ClassVar[str] = "langchain"
    _required_methods: ClassVar[tuple[str, ...]] = (
        "add_documents",
        "delete",
        "get_by_ids",
        "similarity_search_with_score_by_vector",
    )
    _framework: ClassVar[str] = "LangChain"


class LlamaIndexKnowledgeConfig(_FrameworkSettings):
    """Wraps a LlamaIndex vector store (for example ``llama_index.core.vector_stores.SimpleVectorStore``)."""

    backend: ClassVar[str] = "llamaindex"
    _required_methods: ClassVar[tuple[str, ...]] = ("add", "delete_nodes", "query")
    _framework: ClassVar[str] = "LlamaIndex"


# -- lightrag -------------------------------------------------------------------


def _default_lightrag_dir() -> str:
    return str(data_dir() / "lightrag")


class LightRagKnowledgeConfig(KnowledgeConfig):
    """LightRAG (lightrag-hku) on its default local storage: one LightRAG workspace per collection.

    Nothing is downloaded: the tokenizer defaults to a built-in code-point tokenizer, the LLM to
    one that extracts nothing (pass ``llm_model_func`` to build LightRAG's knowledge graph).
    """

    backend: ClassVar[str] = "lightrag"

    working_dir: str = Field(default_factory=_default_lightrag_dir, min_length=1)
    """Directory of LightRAG's files and of the collection catalogue."""
    llm_model_func: Callable[..., Any] | None = None
    """LightRAG's ``llm_model_func`` (async). Default: an extractor that finds no entities, so LightRAG
    works as a chunk vector store and nothing calls a model."""
    embedding_func: Callable[..., Any] | None = None
    """Async ``(texts: list[str]) -> array`` for texts that are not a whole document's content (chunks of
    long documents, entity descriptions, text queries). Documents that fit one chunk use their own embedding."""
    tokenizer: Any = None
    """A ``lightrag.utils.Tokenizer`` (or an object with ``encode``/``decode``). Default: one token per
    code point, which needs no download (LightRAG's default tiktoken tokenizer downloads its vocabulary)."""
    chunk_token_size: int = Field(default=1200, ge=16)
    chunk_overlap_token_size: int = Field(default=100, ge=0)
    lightrag_options: dict[str, Any] = Field(default_factory=dict)
    """Further keyword arguments for ``LightRAG(...)`` (storage classes, ``addon_params``, ...)."""

    @field_validator("working_dir")
    @classmethod
    def _dir_without_nul(cls, value: str) -> str:
        _no_nul(value)
        return value

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Self:
        if self.chunk_overlap_token_size >= self.chunk_token_size:
            raise ValueError("chunk_overlap_token_size must be smaller than chunk_token_size")
        reserved = {"working_dir", "workspace", "embedding_func", "llm_model_func", "tokenizer"}
        clash = sorted(reserved & set(self.lightrag_options))
        if clash:
            raise ValueError(f"lightrag_options must not set {', '.join(clash)}: they are fields of this config")
        return self


# -- qdrant, chroma, lancedb, milvus, redis (vector engines) --------------------


def _embedded_dir(name: str) -> Callable[[], str]:
    return lambda: str(data_dir() / name)


def _local_path_from_url(parsed: URL, scheme: str) -> str:
    # scheme:///relative/dir and scheme:////absolute/dir, as the sqlite URLs spell paths.
    if parsed.username or parsed.port or parsed.query:
        raise ValueError(f"{scheme}:/// URLs name a directory and take no user, port or parameters")
    if not parsed.database:
        raise ValueError(f"{scheme}:/// URL has no directory")
    return parsed.database


class QdrantKnowledgeConfig(KnowledgeConfig):
    """Qdrant through qdrant-client: local mode on a directory (or ``:memory:``), or a server by URL.

    Local mode is the embedded default: ``path`` (default ``$PRAISONAI_DATA_DIR/qdrant``),
    ``:memory:``, ``qdrant:///relative/dir`` or ``qdrant:////absolute/dir``. Servers:
    ``http[s]://host:6333``, ``qdrant://host:6333`` (``qdrants://`` for TLS), with ``api_key``
    (or ``qdrant://:api-key@host``).
    """

    backend: ClassVar[str] = "qdrant"

    path: str | None = Field(default=None, min_length=1)
    """Local-mode storage directory, or ``:memory:``. Default (when no ``url``): ``$PRAISONAI_DATA_DIR/qdrant``."""
    url: str | None = None
    """Server URL, ``http[s]://host:port``; excludes ``path``."""
    api_key: SecretStr | None = None
    prefer_grpc: bool = False
    """Talk to the server over gRPC (port 6334) instead of REST."""
    timeout: float = Field(default=10.0, gt=0, le=3600)
    """Seconds a server request may take before it fails."""

    @field_validator("path", "url")
    @classmethod
    def _text_without_nul(cls, value: str | None) -> str | None:
        return _no_nul(value)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None:
            parsed = URL.parse(value)
            if parsed.scheme not in ("http", "https") or not parsed.host:
                raise ValueError("expected an http:// or https:// URL with a host")
            if parsed.username is not None or parsed.password is not None:
                raise ValueError("pass the API key as api_key, not inside the url")
        return value

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.url is not None and self.path is not None:
            raise ValueError("give either path (local mode) or url (server), not both")
        if self.url is None and self.api_key is not None:
            raise ValueError("api_key is for servers (url); local mode has no authentication")
        return self

    @property
    def local_path(self) -> str | None:
        """The local-mode directory (or ``:memory:``); None when talking to a server."""
        if self.url is not None:
            return None
        return self.path if self.path is not None else str(data_dir() / "qdrant")

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        if "://" not in url:
            return {"path": url}
        parsed = URL.parse(url)
        if parsed.scheme in ("qdrant", "qdrants") and not parsed.host:
            return {"path": _local_path_from_url(parsed, "qdrant")}
        if parsed.scheme not in ("qdrant", "qdrants", "http", "https"):
            raise ValueError(f"expected a directory, :memory:, qdrant://, http:// or https://, got {parsed.scheme!r}")
        if parsed.query:
            raise ValueError("qdrant URLs take no parameters; pass options as keywords")
        fields: dict[str, Any] = {}
        if parsed.password is not None:
            fields["api_key"] = SecretStr(parsed.password)
        scheme = "https" if parsed.scheme in ("https", "qdrants") else "http"
        port = parsed.port if parsed.port is not None else 6333
        fields["url"] = URL(scheme=scheme, host=parsed.host, port=port).render()
        return fields


_CHROMA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_REDIS_PREFIX = re.compile(r"^[A-Za-z0-9_:.-]{1,64}$")


def _chroma_name(value: str) -> str:
    if not _CHROMA_NAME.match(value):
        raise ValueError("must be 1 to 64 letters, digits, '_' or '-'")
    return value


def _redis_prefix(value: str) -> str:
    if not _REDIS_PREFIX.match(value):
        raise ValueError("must be 1 to 64 letters, digits, '_', ':', '.' or '-'")
    return value


class ChromaKnowledgeConfig(KnowledgeConfig):
    """Chroma: the embedded persistent client on a directory, or a Chroma server over HTTP.

    Embedded: ``path`` (default ``$PRAISONAI_DATA_DIR/chroma``), ``chroma:///relative/dir``,
    ``chroma:////absolute/dir``. Server: ``http[s]://host:8000``, ``chroma://host:8000``
    (``?tenant=...&database=...``), with ``token`` sent as ``X-Chroma-Token``.
    Embeddings are always passed in: no embedding function is ever used (or downloaded).
    """

    backend: ClassVar[str] = "chroma"

    path: str | None = Field(default=None, min_length=1)
    """Embedded storage directory; default (when no ``host``): ``$PRAISONAI_DATA_DIR/chroma``."""
    host: str | None = None
    """Chroma server host; when set, the HTTP client is used instead of the embedded one."""
    port: int = Field(default=8000, ge=1, le=65535)
    ssl: bool = False
    token: SecretStr | None = None
    """Sent as the ``X-Chroma-Token`` header (Chroma's token authentication)."""
    tenant: Annotated[str, AfterValidator(_chroma_name)] = "default_tenant"
    database: Annotated[str, AfterValidator(_chroma_name)] = "default_database"

    @field_validator("path", "host")
    @classmethod
    def _text_without_nul(cls, value: str | None) -> str | None:
        return _no_nul(value)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.host is not None and self.path is not None:
            raise ValueError("give either path (embedded) or host (server), not both")
        if self.host is None and self.token is not None:
            raise ValueError("token is for servers (host); the embedded client has no authentication")
        return self

    @property
    def local_path(self) -> str | None:
        if self.host is not None:
            return None
        return self.path if self.path is not None else str(data_dir() / "chroma")

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        if "://" not in url:
            return {"path": url}
        parsed = URL.parse(url)
        if parsed.scheme == "chroma" and not parsed.host:
            return {"path": _local_path_from_url(parsed, "chroma")}
        if parsed.scheme not in ("chroma", "http", "https"):
            raise ValueError(f"expected a directory, chroma://, http:// or https://, got {parsed.scheme!r}")
        if parsed.database:
            raise ValueError("chroma URLs have no path; use ?tenant=...&database=...")
        fields: dict[str, Any] = {"host": parsed.host, "ssl": parsed.scheme == "https"}
        if parsed.port is not None:
            fields["port"] = parsed.port
        if parsed.password is not None:
            fields["token"] = SecretStr(parsed.password)
        fields.update(_url_options(parsed, ("tenant", "database")))
        return fields


class LanceDbKnowledgeConfig(KnowledgeConfig):
    """LanceDB: a local directory of Lance tables (embedded), an object store, or LanceDB Cloud.

    ``uri``: a directory (default ``$PRAISONAI_DATA_DIR/lancedb``), ``lancedb:///relative/dir``,
    ``lancedb:////absolute/dir``, ``s3://bucket/prefix`` / ``gs://`` / ``az://`` (credentials from
    the environment, as LanceDB reads them), or ``db://database`` with ``api_key`` and ``region``.
    """

    backend: ClassVar[str] = "lancedb"

    uri: str = Field(default_factory=_embedded_dir("lancedb"), min_length=1)
    api_key: SecretStr | None = None
    """LanceDB Cloud API key (``db://`` URIs)."""
    region: str | None = None
    """LanceDB Cloud region (``db://`` URIs)."""

    @field_validator("uri")
    @classmethod
    def _uri_without_nul(cls, value: str) -> str:
        _no_nul(value)
        return value

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        if "://" not in url:
            return {"uri": url}
        scheme = url.partition("://")[0].lower()
        if scheme == "lancedb":
            return {"uri": _local_path_from_url(URL.parse(url), "lancedb")}
        if scheme not in ("s3", "s3+ddb", "gs", "az", "file", "memory", "db"):
            raise ValueError(f"expected a directory, lancedb://, s3://, gs://, az:// or db://, got {scheme!r}")
        return {"uri": url}


def _default_milvus_uri() -> str:
    return str(data_dir() / "milvus.db")


class MilvusKnowledgeConfig(KnowledgeConfig):
    """Milvus through pymilvus: milvus-lite on a local path (embedded), or a server by URI.

    ``uri``: a local path ending in ``.db`` (milvus-lite; default ``$PRAISONAI_DATA_DIR/milvus.db``),
    ``milvus:///relative.db`` / ``milvus:////absolute.db``, or ``http[s]://host:19530`` with
    ``token`` (``user:password`` or an API key; also ``milvus://user:password@host:19530``).
    Every store opens its own client; no process-global connection alias is used.
    """

    backend: ClassVar[str] = "milvus"

    uri: str = Field(default_factory=_default_milvus_uri, min_length=1)
    token: SecretStr | None = None
    db_name: str = ""
    """Database on the server ("" for the default one)."""
    timeout: float = Field(default=30.0, gt=0, le=3600)
    """Seconds a request may take before it fails."""

    @field_validator("uri")
    @classmethod
    def _uri_without_nul(cls, value: str) -> str:
        _no_nul(value)
        if "://" in value:
            parsed = URL.parse(value)
            if parsed.scheme not in ("http", "https", "tcp", "grpc", "unix") or not parsed.host:
                raise ValueError("expected a local .db path or an http://, https:// or tcp:// URL with a host")
            if parsed.username is not None or parsed.password is not None:
                raise ValueError("pass credentials as token, not inside the uri")
        return value

    @property
    def is_local(self) -> bool:
        """Whether ``uri`` is a milvus-lite path rather than a server."""
        return "://" not in self.uri

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        if "://" not in url:
            return {"uri": url}
        parsed = URL.parse(url)
        if parsed.scheme == "milvus" and not parsed.host:
            return {"uri": _local_path_from_url(parsed, "milvus")}
        if parsed.scheme not in ("milvus", "http", "https"):
            raise ValueError(f"expected a .db path, milvus://, http:// or https://, got {parsed.scheme!r}")
        fields: dict[str, Any] = {}
        if parsed.username is not None or parsed.password is not None:
            fields["token"] = SecretStr(f"{parsed.username or ''}:{parsed.password or ''}")
        options = _url_options(parsed, ("db_name",))
        if parsed.database:
            fields["db_name"] = parsed.database
        fields.update(options)
        scheme = "https" if parsed.scheme == "https" else "http"
        port = parsed.port if parsed.port is not None else 19530
        fields["uri"] = URL(scheme=scheme, host=parsed.host, port=port).render()
        return fields


class RedisVectorKnowledgeConfig(KnowledgeConfig):
    """Redis with the search module (Redis Stack, Redis 8): hashes plus one vector index per collection.

    ``redis://[user:password@]host:6379/0`` or ``rediss://`` (TLS), or the fields.
    """

    backend: ClassVar[str] = "redis"

    host: str = "127.0.0.1"
    port: int = Field(default=6379, ge=1, le=65535)
    db: int = Field(default=0, ge=0)
    username: str | None = None
    password: SecretStr | None = None
    ssl: bool = False
    key_prefix: Annotated[str, AfterValidator(_redis_prefix)] = "praisonai:kb"
    """Prefix of every key and index name this store writes."""
    vector_type: Literal["FLOAT32", "FLOAT64"] = "FLOAT32"
    algorithm: Literal["FLAT", "HNSW"] = "FLAT"
    """``FLAT`` searches exactly; ``HNSW`` is approximate and faster on large collections."""
    socket_timeout: float = Field(default=10.0, gt=0, le=3600)

    @field_validator("host", "username")
    @classmethod
    def _text_without_nul(cls, value: str | None) -> str | None:
        return _no_nul(value)

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme not in ("redis", "rediss"):
            raise ValueError(f"expected redis:// or rediss://, got scheme {parsed.scheme!r}")
        fields: dict[str, Any] = {"ssl": parsed.scheme == "rediss"}
        if parsed.host:
            fields["host"] = parsed.host
        if parsed.port is not None:
            fields["port"] = parsed.port
        if parsed.username:
            fields["username"] = parsed.username
        if parsed.password is not None:
            fields["password"] = SecretStr(parsed.password)
        if parsed.database:
            if not parsed.database.isdigit():
                raise ValueError(f"the redis URL path is a database number, got {parsed.database!r:.20}")
            fields["db"] = int(parsed.database)
        fields.update(_url_options(parsed, ("key_prefix",)))
        return fields


# -- hosted vector services (knowledge/_hosted.py) -------------------------------

_SERVICE_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_HOST = re.compile(r"^[A-Za-z0-9.:\[\]_-]{1,253}$")


def _service_prefix(value: str) -> str:
    if not _SERVICE_PREFIX.match(value):
        raise ValueError("must be a lowercase letter, then up to 19 lowercase letters, digits or '-'")
    return value


def _host(value: str) -> str:
    if not _HOST.match(value):
        raise ValueError("must be a host name or address")
    return value


def _https_url(value: str | None) -> str | None:
    if value is None:
        return None
    parsed = URL.parse(value)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError("expected an http:// or https:// URL with a host")
    if parsed.username is not None or parsed.password is not None:
        raise ValueError("pass credentials as their own fields, not inside the url")
    return value


class PineconeKnowledgeConfig(KnowledgeConfig):
    """Pinecone (serverless) through the ``pinecone`` SDK: one index per collection.

    ``pinecone://:API_KEY@`` or the fields; ``pinecone://:API_KEY@host:port`` talks to
    another control plane (such as Pinecone Local) over ``http`` (``?ssl=true`` for https).
    ``?cloud=aws&region=us-east-1&index_prefix=praison`` set where new indexes go.
    """

    backend: ClassVar[str] = "pinecone"

    api_key: SecretStr
    host: str | None = None
    """Control-plane URL (default: Pinecone's own); data-plane hosts come from ``describe_index``."""
    cloud: Literal["aws", "gcp", "azure"] = "aws"
    region: str = Field(default="us-east-1", pattern=r"^[a-z0-9-]{1,40}$")
    index_prefix: Annotated[str, AfterValidator(_service_prefix)] = "praison"
    """Indexes this store creates are named ``<prefix>-<24 hex>`` (at most 45 characters); others are ignored."""
    timeout: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("host")
    @classmethod
    def _control_plane(cls, value: str | None) -> str | None:
        return _https_url(value)

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme != "pinecone":
            raise ValueError(f"expected pinecone://:API_KEY@[host:port], got scheme {parsed.scheme!r}")
        options = _url_options(parsed, ("cloud", "region", "index_prefix", "ssl"))
        fields: dict[str, Any] = {}
        if parsed.password is not None:
            fields["api_key"] = SecretStr(parsed.password)
        ssl = _url_flag("ssl", options.pop("ssl", "false"))
        if parsed.host:
            fields["host"] = URL(scheme="https" if ssl else "http", host=parsed.host, port=parsed.port).render()
        fields.update(options)
        return fields


class WeaviateKnowledgeConfig(KnowledgeConfig):
    """Weaviate through weaviate-client v4 (REST for the schema, gRPC for data and queries).

    ``weaviate://host:8080?grpc_port=50051`` (``weaviates://`` for TLS, default ports 443 / 443),
    with ``api_key`` (or ``weaviate://:API_KEY@host``). Needs Weaviate 1.28 or later
    (``contains_none`` filters).
    """

    backend: ClassVar[str] = "weaviate"

    host: Annotated[str, AfterValidator(_host)] = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    grpc_port: int = Field(default=50051, ge=1, le=65535)
    secure: bool = False
    api_key: SecretStr | None = None
    collection_prefix: str = Field(default="Praisonkb", pattern=r"^[A-Z][A-Za-z0-9]{0,30}$")
    """Weaviate collections of this store are named ``<prefix>_<hex of the name>``."""
    timeout: float = Field(default=30.0, gt=0, le=3600)

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme not in ("weaviate", "weaviates"):
            raise ValueError(f"expected weaviate:// or weaviates://, got scheme {parsed.scheme!r}")
        secure = parsed.scheme == "weaviates"
        options = _url_options(parsed, ("grpc_port", "collection_prefix"))
        fields: dict[str, Any] = {"secure": secure, "http_port": 443 if secure else 8080}
        if secure:
            fields["grpc_port"] = 443
        if parsed.host:
            fields["host"] = parsed.host
        if parsed.port is not None:
            fields["http_port"] = parsed.port
        if parsed.password is not None:
            fields["api_key"] = SecretStr(parsed.password)
        fields.update(options)
        return fields


class CassandraKnowledgeConfig(KnowledgeConfig):
    """Apache Cassandra 5 (SAI vector search) or ScyllaDB through cassandra-driver.

    ``cassandra://user:password@host1,host2:9042/keyspace`` or the fields.
    """

    backend: ClassVar[str] = "cassandra"

    hosts: list[Annotated[str, AfterValidator(_host)]] = Field(default_factory=lambda: ["127.0.0.1"], min_length=1)
    port: int = Field(default=9042, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    keyspace: Identifier = "praisonai"
    table_prefix: str = Field(default="kb_", pattern=r"^[a-z][a-z0-9_]{0,15}$")
    replication_factor: int = Field(default=1, ge=1, le=10)
    """Used only when the store creates the keyspace (SimpleStrategy)."""
    create_keyspace: bool = True
    connect_timeout: float = Field(default=10.0, gt=0, le=3600)

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        scheme, _, rest = url.partition("://")
        if scheme not in ("cassandra", "scylla") or not rest:
            raise ValueError("expected cassandra://[user:password@]host[,host...][:port]/keyspace")
        userinfo, has_at, hostpart = rest.rpartition("@")
        fields: dict[str, Any] = {}
        if has_at:
            user, has_password, password = userinfo.partition(":")
            if user:
                fields["username"] = unquote(user)
            if has_password:
                fields["password"] = SecretStr(unquote(password))
        hostpart, _, query = hostpart.partition("?")
        if query:
            raise ValueError("cassandra URLs take no parameters; pass options as keywords")
        hostpart, _, keyspace = hostpart.partition("/")
        if keyspace:
            fields["keyspace"] = keyspace
        hosts: list[str] = []
        for item in hostpart.split(","):
            host, _, port = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
            if port:
                if not port.isdigit():
                    raise ValueError(f"bad port {port!r:.10}")
                fields["port"] = int(port)
            if host:
                hosts.append(host)
        if hosts:
            fields["hosts"] = hosts
        return fields


_MONGO_URL_FORM = re.compile(r"^(?P<scheme>mongodb(?:\+srv)?)://(?:(?P<userinfo>[^@/]*)@)?(?P<rest>[^@]*)$")


class MongoVectorKnowledgeConfig(KnowledgeConfig):
    """MongoDB Atlas Vector Search through pymongo: one MongoDB collection and one vector search index per
    collection. ``mongodb+srv://user:password@cluster.example.net/database`` or ``mongodb://``."""

    backend: ClassVar[str] = "mongodb_vector"

    url: str = "mongodb://127.0.0.1:27017"
    """A user and password in it move to the fields below (never kept in the URL)."""
    username: str | None = None
    password: SecretStr | None = None
    database: str = Field(default="praisonai", pattern=r"^[^/\\. \"$*<>:|?\x00]{1,63}$")
    collection_prefix: str = Field(default="kb_", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,15}$")
    index_name: str = Field(default="praisonai_vector", pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
    num_candidates_factor: int = Field(default=20, ge=1, le=1000)
    """``numCandidates`` of an approximate search is ``limit`` times this (at most 10000)."""
    exact: bool = False
    """Run exact (ENN) searches instead of approximate ones."""
    server_selection_timeout_ms: int = Field(default=10_000, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _move_credentials(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            return data
        match = _MONGO_URL_FORM.match(data["url"])
        if match is None:
            raise ValueError("expected mongodb://host[:port][,host...]/[database][?options] or mongodb+srv://")
        data = dict(data)
        userinfo = match["userinfo"]
        if userinfo is not None:
            user, has_password, password = userinfo.partition(":")
            if user:
                data.setdefault("username", unquote(user))
            if has_password:
                data.setdefault("password", SecretStr(unquote(password)))
            data["url"] = f"{match['scheme']}://{match['rest']}"
        path = match["rest"].partition("?")[0].partition("/")[2]
        if path:
            data.setdefault("database", unquote(path))
        return data

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        if not url.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("expected a mongodb:// or mongodb+srv:// URL")
        return {"url": url}


class CouchbaseKnowledgeConfig(KnowledgeConfig):
    """Couchbase Server 8 / Capella through the couchbase SDK: key-value writes and SQL++ vector queries.

    ``couchbase://user:password@host/bucket`` (``couchbases://`` for TLS) or the fields.
    """

    backend: ClassVar[str] = "couchbase"

    connection_string: str = "couchbase://127.0.0.1"
    username: str | None = None
    password: SecretStr | None = None
    bucket: str = Field(default="praisonai", pattern=r"^[A-Za-z0-9_.%-]{1,100}$")
    scope: str = Field(default="knowledge", pattern=r"^[A-Za-z0-9][A-Za-z0-9_%-]{0,250}$")
    """Scope holding one collection per knowledge collection; created if missing."""
    collection_prefix: str = Field(default="kb_", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
    timeout: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("connection_string")
    @classmethod
    def _connection(cls, value: str) -> str:
        parsed = URL.parse(value)
        if parsed.scheme not in ("couchbase", "couchbases") or not parsed.host:
            raise ValueError("expected couchbase://host or couchbases://host")
        if parsed.username is not None or parsed.password is not None or parsed.database:
            raise ValueError("pass the user, password and bucket as their own fields")
        return value

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme not in ("couchbase", "couchbases"):
            raise ValueError(f"expected couchbase:// or couchbases://, got scheme {parsed.scheme!r}")
        fields: dict[str, Any] = {}
        if parsed.username:
            fields["username"] = parsed.username
        if parsed.password is not None:
            fields["password"] = SecretStr(parsed.password)
        if parsed.database:
            fields["bucket"] = parsed.database
        fields.update(_url_options(parsed, ("scope", "collection_prefix")))
        fields["connection_string"] = URL(scheme=parsed.scheme, host=parsed.host, port=parsed.port).render()
        return fields


class SingleStoreVectorKnowledgeConfig(KnowledgeConfig):
    """SingleStore through singlestoredb (MySQL protocol): one table per collection, exact vector search.

    ``singlestoredb://user:password@host:3306/database`` or the fields.
    """

    backend: ClassVar[str] = "singlestore_vector"

    host: Annotated[str, AfterValidator(_host)] = "127.0.0.1"
    port: int = Field(default=3306, ge=1, le=65535)
    user: str | None = None
    password: SecretStr | None = None
    database: Identifier
    table_prefix: TablePrefix = "praison_kb_"
    connect_timeout: float = Field(default=10.0, gt=0, le=3600)

    @field_validator("user")
    @classmethod
    def _user_without_nul(cls, value: str | None) -> str | None:
        return _no_nul(value)

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme.split("+", 1)[0] not in ("singlestoredb", "singlestore", "mysql"):
            raise ValueError(f"expected singlestoredb:// or mysql://, got scheme {parsed.scheme!r}")
        fields: dict[str, Any] = dict(_url_options(parsed, ("table_prefix",)))
        if parsed.host:
            fields["host"] = parsed.host
        if parsed.port is not None:
            fields["port"] = parsed.port
        if parsed.username:
            fields["user"] = parsed.username
        if parsed.password is not None:
            fields["password"] = SecretStr(parsed.password)
        if parsed.database:
            fields["database"] = parsed.database
        return fields


class UpstashVectorKnowledgeConfig(KnowledgeConfig):
    """Upstash Vector through upstash-vector (REST): one namespace per collection of one index.

    ``url`` is the index's REST URL (``https://<name>-<region>-vector.upstash.io``) and ``token``
    its REST token; also ``upstash-vector://:TOKEN@host``. An index has one dimension and one
    similarity function (set when it is created), so every collection must use them.
    """

    backend: ClassVar[str] = "upstash_vector"

    url: str
    token: SecretStr
    namespace_prefix: str = Field(default="praison-", pattern=r"^[A-Za-z0-9_-]{0,32}$")
    timeout: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("url")
    @classmethod
    def _rest_url(cls, value: str) -> str:
        checked = _https_url(value)
        assert checked is not None
        return checked

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme in ("http", "https"):
            return {"url": url}
        if parsed.scheme not in ("upstash-vector", "upstash_vector"):
            raise ValueError(f"expected https:// or upstash-vector://:TOKEN@host, got scheme {parsed.scheme!r}")
        fields: dict[str, Any] = dict(_url_options(parsed, ("namespace_prefix",)))
        if parsed.password is not None:
            fields["token"] = SecretStr(parsed.password)
        fields["url"] = URL(scheme="https", host=parsed.host, port=parsed.port).render()
        return fields


class CosmosDbKnowledgeConfig(KnowledgeConfig):
    """Azure Cosmos DB for NoSQL (vector search) through azure-cosmos: one container per collection.

    ``url`` is the account endpoint (``https://<account>.documents.azure.com:443/``) and ``key`` its
    key; a connection string ``AccountEndpoint=...;AccountKey=...;`` is accepted as the URL.
    """

    backend: ClassVar[str] = "cosmosdb"

    url: str
    key: SecretStr
    database: str = Field(default="praisonai", pattern=r"^[A-Za-z0-9_-]{1,255}$")
    container_prefix: str = Field(default="kb_", pattern=r"^[A-Za-z0-9_-]{0,16}$")
    vector_index: Literal["flat", "quantizedFlat", "diskANN", "none"] = "quantizedFlat"
    """The vector index of new containers (``none``: brute force only)."""
    timeout: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("url")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        checked = _https_url(value)
        assert checked is not None
        return checked

    @field_validator("key")
    @classmethod
    def _account_key(cls, value: SecretStr) -> SecretStr:
        # The client decodes it on first use; a bad one would fail there with a bare binascii error.
        try:
            base64.b64decode(value.get_secret_value(), validate=True)
        except ValueError:  # binascii.Error is a ValueError
            raise ValueError("must be an account key, in base64 as the Azure portal shows it") from None
        return value

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        if "AccountEndpoint=" in url:
            parts = dict(part.split("=", 1) for part in url.split(";") if "=" in part)
            if "AccountEndpoint" not in parts or "AccountKey" not in parts:
                raise ValueError("a connection string needs AccountEndpoint and AccountKey")
            return {"url": parts["AccountEndpoint"], "key": SecretStr(parts["AccountKey"])}
        parsed = URL.parse(url)
        if parsed.scheme not in ("http", "https"):
            raise ValueError("expected https://<account>.documents.azure.com:443/ or a connection string")
        return {"url": url}
