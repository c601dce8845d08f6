"""Knowledge configs of vector engines: qdrant, chroma, lancedb, milvus (embedded or a server), redis."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator
from typing_extensions import Self

from ..._fields import Port, Seconds, Text, https_url, matching, no_nul
from ..._keywords import Derive, Keyword, Rename, ServerPart
from ..._paths import data_dir
from ..._urlform import Endpoint, UrlForm, UrlSpec, local_form, redis_form
from ...url import URL
from . import KnowledgeConfig

__all__ = [
    "ChromaKnowledgeConfig",
    "LanceDbKnowledgeConfig",
    "MilvusKnowledgeConfig",
    "QdrantKnowledgeConfig",
    "RedisVectorKnowledgeConfig",
]


def _embedded_dir(name: str) -> Callable[[], str]:
    return lambda: str(data_dir() / name)


class _EmbeddedOrServer(KnowledgeConfig):
    """An engine run embedded on a local directory (``path``) or reached as a server (the field ``_server``).

    What qdrant and chroma share: not both at once, the credential (``_credential``) only with a
    server, and :attr:`local_path`.
    """

    _server: ClassVar[str]
    _credential: ClassVar[str]
    _directory: ClassVar[str]  # the default one's name; not backend: async_<name> uses the sync one's directory
    if TYPE_CHECKING:
        path: str | None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        server = getattr(self, self._server)
        if server is not None and self.path is not None:
            raise ValueError(f"give either path (embedded) or {self._server} (server), not both")
        if server is None and getattr(self, self._credential) is not None:
            raise ValueError(f"{self._credential} is for a server ({self._server}); embedded has no authentication")
        return self

    @property
    def local_path(self) -> str | None:
        """The embedded directory (or ``:memory:``; default ``$PRAISONAI_DATA_DIR/<name>``); None for a server."""
        if getattr(self, self._server) is not None:
            return None
        return self.path if self.path is not None else str(data_dir() / self._directory)


class QdrantKnowledgeConfig(_EmbeddedOrServer):
    """Qdrant through qdrant-client: local mode on a directory (or ``:memory:``), or a server by URL.

    Local mode is the embedded default: ``path`` (default ``$PRAISONAI_DATA_DIR/qdrant``),
    ``:memory:``, ``qdrant:///relative/dir`` or ``qdrant:////absolute/dir``. Servers:
    ``http[s]://host:6333``, ``qdrant://host:6333`` (``qdrants://`` for TLS), with ``api_key``
    (or ``qdrant://:api-key@host``).
    """

    backend: ClassVar[str] = "qdrant"
    _server: ClassVar[str] = "url"
    _credential: ClassVar[str] = "api_key"
    _directory: ClassVar[str] = "qdrant"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        # hostless: qdrant:///dir is local mode, qdrant://host the server form below.
        local_form("qdrant", "path", hostless=True),
        local_form("qdrants", "path", hostless=True),
        UrlForm(
            schemes=("qdrant", "qdrants", "http", "https"),
            credential="api_key",
            query={},
            endpoint=Endpoint("url", {"qdrant": "http", "qdrants": "https"}, default_port=6333),
        ),
        bare="path",
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "host": ServerPart("url", "host", "http", "localhost", 6333),
        "port": ServerPart("url", "port", "http", "localhost", 6333),
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = (
        "url",
        "host",
        "port",
        "grpc_port",
        "api_key",
        "prefer_grpc",
        "timeout",
    )

    path: Text | None = Field(default=None, min_length=1)
    """Local-mode storage directory, or ``:memory:``. Default (when no ``url``): ``$PRAISONAI_DATA_DIR/qdrant``."""
    url: Text | None = None
    """Server URL, ``http[s]://host:port``; excludes ``path``."""
    api_key: SecretStr | None = None
    prefer_grpc: bool = False
    """Talk to the server over gRPC (port ``grpc_port``) instead of REST."""
    grpc_port: Port = 6334
    timeout: Seconds = 10.0
    """Seconds a server request may take before it fails."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return https_url(value, credentials="the API key as api_key")


_chroma_name = matching(r"^[A-Za-z0-9_-]{1,64}$", "must be 1 to 64 letters, digits, '_' or '-'")
_redis_prefix = matching(r"^[A-Za-z0-9_:.-]{1,64}$", "must be 1 to 64 letters, digits, '_', ':', '.' or '-'")


def _chroma_server(parsed: URL, fields: dict[str, Any]) -> None:
    if parsed.database:
        raise ValueError("chroma URLs have no path; use ?tenant=...&database=...")
    fields["host"] = parsed.host


def _persistent(value: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(value, bool):
        raise ValueError(f"persistent must be true or false, got {value!r:.20}")
    if value or given.get("host") is not None:
        return {}  # persistent is the default; with a host, the server keeps the data
    if given.get("path") is not None:
        raise ValueError("persistent=False keeps the collections in memory; give no path")
    return {"path": ":memory:"}


class ChromaKnowledgeConfig(_EmbeddedOrServer):
    """Chroma: the embedded persistent client on a directory, or a Chroma server over HTTP.

    Embedded: ``path`` (default ``$PRAISONAI_DATA_DIR/chroma``), ``chroma:///relative/dir``,
    ``chroma:////absolute/dir``. Server: ``http[s]://host:8000``, ``chroma://host:8000``
    (``?tenant=...&database=...``), with ``token`` sent as ``X-Chroma-Token``.
    Embeddings are always passed in: no embedding function is ever used (or downloaded).
    """

    backend: ClassVar[str] = "chroma"
    _server: ClassVar[str] = "host"
    _credential: ClassVar[str] = "token"
    _directory: ClassVar[str] = "chroma"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        local_form("chroma", "path", hostless=True),
        UrlForm(
            schemes=("chroma", "http", "https"),
            implies={"chroma": {"ssl": False}, "http": {"ssl": False}, "https": {"ssl": True}},
            port="port",
            credential="token",
            query={"tenant": "tenant", "database": "database"},
            hook=_chroma_server,
        ),
        bare="path",
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "persistent": Derive(
            _persistent,
            '`False` (without a host) keeps the collections in memory: `path=":memory:"`',
            ("path",),
        ),
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("url", "path", "host", "port", "persistent")

    path: Text | None = Field(default=None, min_length=1)
    """Embedded storage directory, or ``:memory:`` (nothing kept on disk); default (when no ``host``):
    ``$PRAISONAI_DATA_DIR/chroma``."""
    host: Text | None = None
    """Chroma server host; when set, the HTTP client is used instead of the embedded one."""
    port: Port = 8000
    ssl: bool = False
    token: SecretStr | None = None
    """Sent as the ``X-Chroma-Token`` header (Chroma's token authentication)."""
    tenant: Annotated[str, AfterValidator(_chroma_name)] = "default_tenant"
    database: Annotated[str, AfterValidator(_chroma_name)] = "default_database"


class LanceDbKnowledgeConfig(KnowledgeConfig):
    """LanceDB: a local directory of Lance tables (embedded), an object store, or LanceDB Cloud.

    ``uri``: a directory (default ``$PRAISONAI_DATA_DIR/lancedb``), ``lancedb:///relative/dir``,
    ``lancedb:////absolute/dir``, ``s3://bucket/prefix`` / ``gs://`` / ``az://`` (credentials from
    the environment, as LanceDB reads them), or ``db://database`` with ``api_key`` and ``region``.
    """

    backend: ClassVar[str] = "lancedb"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(schemes=("lancedb",), path="uri", local=True, local_refuses=("username", "port", "query")),
        UrlForm(schemes=("s3", "s3+ddb", "gs", "az", "file", "memory", "db"), verbatim="uri"),
        bare="uri",
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {"path": "uri"}
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("url", "path", "uri")

    uri: Text = Field(default_factory=_embedded_dir("lancedb"), min_length=1)
    api_key: SecretStr | None = None
    """LanceDB Cloud API key (``db://`` URIs)."""
    region: str | None = None
    """LanceDB Cloud region (``db://`` URIs)."""


def _milvus_token(parsed: URL, fields: dict[str, Any]) -> None:
    if parsed.username is not None or parsed.password is not None:
        fields["token"] = SecretStr(f"{parsed.username or ''}:{parsed.password or ''}")


class MilvusKnowledgeConfig(KnowledgeConfig):
    """Milvus through pymilvus: milvus-lite on a local path (embedded), or a server by URI.

    ``uri``: a local path ending in ``.db`` (milvus-lite; default ``$PRAISONAI_DATA_DIR/milvus.db``),
    ``milvus:///relative.db`` / ``milvus:////absolute.db``, or ``http[s]://host:19530`` with
    ``token`` (``user:password`` or an API key; also ``milvus://user:password@host:19530``).
    Every store opens its own client; no process-global connection alias is used.
    """

    backend: ClassVar[str] = "milvus"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        local_form("milvus", "uri", hostless=True),
        UrlForm(
            schemes=("milvus", "http", "https"),
            path="db_name",
            query={"db_name": "db_name"},
            endpoint=Endpoint("uri", {"milvus": "http"}, default_port=19530),
            hook=_milvus_token,
        ),
        bare="uri",
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "host": ServerPart("uri", "host", "http", "localhost", 19530),
        "port": ServerPart("uri", "port", "http", "localhost", 19530),
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("url", "host", "port", "token", "db_name")

    uri: str = Field(default_factory=_embedded_dir("milvus.db"), min_length=1)
    token: SecretStr | None = None
    db_name: str = ""
    """Database on the server ("" for the default one)."""
    timeout: Seconds = 30.0
    """Seconds a request may take before it fails."""

    @field_validator("uri")
    @classmethod
    def _uri_without_nul(cls, value: str) -> str:
        no_nul(value)
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


def _without_colons(value: Any) -> Any:
    # PraisonAI's prefix ends in ":" ("praison:vec:"); this store joins key_prefix and the rest with ":".
    return value.rstrip(":") if isinstance(value, str) else value


class RedisVectorKnowledgeConfig(KnowledgeConfig):
    """Redis with the search module (Redis Stack, Redis 8): hashes plus one vector index per collection.

    ``redis://[user:password@]host:6379/0`` or ``rediss://`` (TLS), or the fields.
    """

    backend: ClassVar[str] = "redis"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(redis_form({"key_prefix": "key_prefix"}))
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "prefix": Rename("key_prefix", _without_colons, "without its trailing `:`, which the store adds"),
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("url", "host", "port", "password", "prefix")

    host: Text = "127.0.0.1"
    port: Port = 6379
    db: int = Field(default=0, ge=0)
    username: Text | None = None
    password: SecretStr | None = None
    ssl: bool = False
    key_prefix: Annotated[str, AfterValidator(_redis_prefix)] = "praisonai:kb"
    """Prefix of every key and index name this store writes."""
    vector_type: Literal["FLOAT32", "FLOAT64"] = "FLOAT32"
    algorithm: Literal["FLAT", "HNSW"] = "FLAT"
    """``FLAT`` searches exactly; ``HNSW`` is approximate and faster on large collections."""
    ef_runtime: int = Field(default=200, ge=1, le=100_000)
    """HNSW: candidates kept per search (``EF_RUNTIME``, raised to the limit); more is slower but finds more."""
    socket_timeout: Seconds = 10.0
