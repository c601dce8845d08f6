"""Knowledge configs of hosted vector services (``knowledge/_hosted.py``): pinecone, weaviate, cassandra,
couchbase, mongodb_vector, upstash_vector, cosmosdb."""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import unquote

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, field_validator, model_validator
from typing_extensions import Self

from ..._fields import FilePath, HostName, Identifier, Port, Seconds, https_url, matching
from ..._keywords import EMBEDDING_DIM, MONGO_VECTOR_KEYWORDS, AsUrl, Ignored, Keyword, fixed_name, refuse_unless
from ..._mongo_config import MONGO_DATABASE, MongoSettings
from ..._urlform import Endpoint, Param, UrlForm, UrlSpec, flag
from ...url import URL
from . import KnowledgeConfig

__all__ = [
    "CassandraKnowledgeConfig",
    "CosmosDbKnowledgeConfig",
    "CouchbaseKnowledgeConfig",
    "MongoVectorKnowledgeConfig",
    "PineconeKnowledgeConfig",
    "UpstashVectorKnowledgeConfig",
    "WeaviateKnowledgeConfig",
]

_service_prefix = matching(
    r"^[a-z][a-z0-9-]{0,19}$", "must be a lowercase letter, then up to 19 lowercase letters, digits or '-'"
)


def _rest_url(value: str) -> str:
    checked = https_url(value)
    assert checked is not None
    return checked


_RestUrl = Annotated[str, AfterValidator(_rest_url)]
_SSL = flag("ssl")


def _control_plane(parsed: URL, fields: dict[str, Any]) -> None:
    # pinecone://:KEY@host:port reaches another control plane (Pinecone Local) over http, or https with ?ssl=true.
    ssl = _SSL(parsed.query_dict().get("ssl", "false"))
    if parsed.host:
        fields["host"] = URL(scheme="https" if ssl else "http", host=parsed.host, port=parsed.port).render()


def _documents_namespace(value: Any) -> Any:
    if value == "":
        return "documents"
    if not isinstance(value, str) or not re.match(r"^[A-Za-z0-9_-]{1,64}$", value) or value == "praisonai-settings":
        raise ValueError("must be 1 to 64 letters, digits, '_' or '-', and not 'praisonai-settings' (the store's own)")
    return value


class PineconeKnowledgeConfig(KnowledgeConfig):
    """Pinecone (serverless) through the ``pinecone`` SDK: one index per collection.

    ``pinecone://:API_KEY@`` or the fields; ``pinecone://:API_KEY@host:port`` talks to
    another control plane (such as Pinecone Local) over ``http`` (``?ssl=true`` for https).
    ``?cloud=aws&region=us-east-1&index_prefix=praison`` set where new indexes go.
    """

    backend: ClassVar[str] = "pinecone"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(
            schemes=("pinecone",),
            credential="api_key",
            query={"cloud": "cloud", "region": "region", "index_prefix": "index_prefix", "ssl": Param(None, _SSL)},
            hook=_control_plane,
        )
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "index_name": Ignored(
            "each collection is its own index, named `<index_prefix>-<hash>` (PraisonAI's index_name only "
            "chose the index used before a create_collection; PINECONE_INDEX likewise)"
        ),
        "environment": Ignored("serverless indexes have no environment (PraisonAI 4.7.19 ignores it too); see region"),
    }
    env_defaults: ClassVar[dict[str, tuple[str, ...]]] = {"api_key": ("PINECONE_API_KEY",)}
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("api_key", "index_name", "environment", "namespace")

    api_key: SecretStr
    host: _RestUrl | None = None
    """Control-plane URL (default: Pinecone's own); data-plane hosts come from ``describe_index``."""
    cloud: Literal["aws", "gcp", "azure"] = "aws"
    region: str = Field(default="us-east-1", pattern=r"^[a-z0-9-]{1,40}$")
    namespace: Annotated[str, BeforeValidator(_documents_namespace)] = "documents"
    """Namespace of the documents in each collection's index; ``""`` (PraisonAI's default) is ``documents``."""
    index_prefix: Annotated[str, AfterValidator(_service_prefix)] = "praison"
    """Indexes this store creates are named ``<prefix>-<24 hex>`` (at most 45 characters); others are ignored."""
    timeout: Seconds = 30.0


class WeaviateKnowledgeConfig(KnowledgeConfig):
    """Weaviate through weaviate-client v4 (REST for the schema, gRPC for data and queries).

    ``weaviate://host:8080?grpc_port=50051`` (``weaviates://`` for TLS, default ports 443 / 443),
    with ``api_key`` (or ``weaviate://:API_KEY@host``); PraisonAI's ``http://host:8080`` and
    ``https://host`` (port 443) too. Needs Weaviate 1.28 or later
    (``contains_none`` filters).
    """

    backend: ClassVar[str] = "weaviate"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(
            schemes=("weaviate", "weaviates"),
            implies={
                "weaviate": {"secure": False, "http_port": 8080},
                "weaviates": {"secure": True, "http_port": 443, "grpc_port": 443},
            },
            host="host",
            port="http_port",
            credential="api_key",
            query={"grpc_port": "grpc_port", "grpc_host": "grpc_host", "collection_prefix": "collection_prefix"},
        ),
        # PraisonAI's form: http://host:port (default port 8080), https://host (443).
        UrlForm(
            schemes=("http", "https"),
            implies={"http": {"secure": False, "http_port": 8080}, "https": {"secure": True, "http_port": 443}},
            host="host",
            port="http_port",
            credentials="pass the API key as api_key, not inside the url",
            query={},
        ),
    )
    env_defaults: ClassVar[dict[str, tuple[str, ...]]] = {"url": ("WEAVIATE_URL",), "api_key": ("WEAVIATE_API_KEY",)}
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("url", "api_key", "additional_headers")

    host: HostName = "127.0.0.1"
    http_port: Port = 8080
    grpc_port: Port = 50051
    grpc_host: HostName | None = None
    """The gRPC endpoint's host: by default ``host``, or ``grpc-<host>`` when both ports are the same
    (Weaviate Cloud's gRPC endpoint, as weaviate-client's ``connect_to_weaviate_cloud`` derives it: one
    host cannot serve REST and gRPC on one port)."""
    secure: bool = False
    api_key: SecretStr | None = None
    additional_headers: dict[str, SecretStr] | None = None
    """Headers sent with every request, such as ``X-OpenAI-Api-Key`` (values masked like other secrets)."""
    collection_prefix: str = Field(default="Praisonkb", pattern=r"^[A-Z][A-Za-z0-9]{0,30}$")
    """Weaviate collections of this store are named ``<prefix>_<hex of the name>``."""
    timeout: Seconds = 30.0

    @model_validator(mode="after")
    def _separate_endpoints(self) -> Self:
        if self.grpc_endpoint_host == self.host and self.grpc_port == self.http_port:
            raise ValueError("REST and gRPC cannot share one host and port: give another grpc_port or grpc_host")
        return self

    @property
    def grpc_endpoint_host(self) -> str:
        """The host the gRPC channel connects to (see ``grpc_host``)."""
        if self.grpc_host is not None:
            return self.grpc_host
        return f"grpc-{self.host}" if self.grpc_port == self.http_port else self.host


def _contact_points(url: str) -> dict[str, Any] | None:
    # cassandra://user:password@host1,host2:9042/keyspace lists several hosts, which a URL parser refuses.
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


class CassandraKnowledgeConfig(KnowledgeConfig):
    """Apache Cassandra 5 (SAI vector search) or ScyllaDB through cassandra-driver.

    ``cassandra://user:password@host1,host2:9042/keyspace`` or the fields.
    """

    backend: ClassVar[str] = "cassandra"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(special=_contact_points)
    praisonai_keywords: ClassVar[tuple[str, ...]] = (
        "hosts",
        "keyspace",
        "username",
        "password",
        "port",
        "secure_connect_bundle",
    )

    hosts: list[HostName] = Field(default_factory=lambda: ["127.0.0.1"], min_length=1)
    port: Port = 9042
    username: str | None = None
    password: SecretStr | None = None
    keyspace: Identifier = "praisonai"
    table_prefix: str = Field(default="kb_", pattern=r"^[a-z][a-z0-9_]{0,15}$")
    replication_factor: int = Field(default=1, ge=1, le=10)
    """Used only when the store creates the keyspace (SimpleStrategy)."""
    create_keyspace: bool = True
    connect_timeout: Seconds = 10.0
    secure_connect_bundle: FilePath | None = None
    """DataStax Astra DB: its secure-connect bundle (a zip file), with the token's client id and secret as
    ``username`` and ``password``; ``hosts`` and ``port`` are then not used."""


_OWN_COLLECTIONS = Ignored(
    "each knowledge collection is its own collection, named `<prefix><name>` (see the layout in the docs)"
)


class MongoVectorKnowledgeConfig(MongoSettings, KnowledgeConfig):
    """MongoDB Atlas Vector Search through pymongo: one MongoDB collection and one vector search index per
    collection. ``mongodb+srv://user:password@cluster.example.net/database`` or ``mongodb://``."""

    backend: ClassVar[str] = "mongodb_vector"
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "collection": _OWN_COLLECTIONS,
        "embedding_field": fixed_name("embedding_field", "embedding"),
        "text_field": fixed_name("text_field", "content"),
        "embedding_dim": EMBEDDING_DIM,
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("url", *MONGO_VECTOR_KEYWORDS)

    url: str = "mongodb://127.0.0.1:27017"
    """A user and password in it move to the fields below (never kept in the URL)."""
    database: str = Field(default="praisonai", pattern=MONGO_DATABASE)
    collection_prefix: str = Field(default="kb_", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,15}$")
    index_name: str = Field(default="praisonai_vector", pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
    num_candidates_factor: int = Field(default=20, ge=1, le=1000)
    """``numCandidates`` of an approximate search is ``limit`` times this (at most 10000)."""
    exact: bool = False
    """Run exact (ENN) searches instead of approximate ones."""
    server_selection_timeout_ms: int = Field(default=10_000, ge=1)


class CouchbaseKnowledgeConfig(KnowledgeConfig):
    """Couchbase Server 8 / Capella through the couchbase SDK: key-value writes and SQL++ vector queries.

    ``couchbase://user:password@host/bucket`` (``couchbases://`` for TLS) or the fields.
    """

    backend: ClassVar[str] = "couchbase"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(
            schemes=("couchbase", "couchbases"),
            username="username",
            credential="password",
            path="bucket",
            query={"scope": "scope", "collection_prefix": "collection_prefix"},
            endpoint=Endpoint("connection_string"),
        )
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "bucket_name": "bucket",
        "scope_name": "scope",
        "collection_name": _OWN_COLLECTIONS,
        "index_name": Ignored("searches are SQL++ queries on each collection; no search index is named"),
        "vector_field": fixed_name("vector_field", "embedding"),
        "text_field": fixed_name("text_field", "content"),
        "embedding_dim": EMBEDDING_DIM,
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = (
        "connection_string",
        "username",
        "password",
        "bucket_name",
        "scope_name",
        "collection_name",
        "index_name",
        "vector_field",
        "text_field",
        "embedding_dim",
    )

    connection_string: str = "couchbase://127.0.0.1"
    username: str | None = None
    password: SecretStr | None = None
    bucket: str = Field(default="praisonai", pattern=r"^[A-Za-z0-9_.%-]{1,100}$")
    scope: str = Field(default="knowledge", pattern=r"^(_default|[A-Za-z0-9][A-Za-z0-9_%-]{0,250})$")
    """Scope holding one collection per knowledge collection; created if missing (``_default``, PraisonAI's
    default, is the bucket's own)."""
    collection_prefix: str = Field(default="kb_", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
    timeout: Seconds = 30.0

    @field_validator("connection_string")
    @classmethod
    def _connection(cls, value: str) -> str:
        parsed = URL.parse(value)
        if parsed.scheme not in ("couchbase", "couchbases") or not parsed.host:
            raise ValueError("expected couchbase://host or couchbases://host")
        if parsed.username is not None or parsed.password is not None or parsed.database:
            raise ValueError("pass the user, password and bucket as their own fields")
        return value


class UpstashVectorKnowledgeConfig(KnowledgeConfig):
    """Upstash Vector through upstash-vector (REST): one namespace per collection of one index.

    ``url`` is the index's REST URL (``https://<name>-<region>-vector.upstash.io``) and ``token``
    its REST token; also ``upstash-vector://:TOKEN@host``. An index has one dimension and one
    similarity function (set when it is created), so every collection must use them.
    """

    backend: ClassVar[str] = "upstash_vector"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(schemes=("http", "https"), verbatim="url"),
        UrlForm(
            schemes=("upstash-vector", "upstash_vector"),
            credential="token",
            query={"namespace_prefix": "namespace_prefix"},
            endpoint=Endpoint("url", {"upstash-vector": "https", "upstash_vector": "https"}),
        ),
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {"embedding_dim": EMBEDDING_DIM}
    env_defaults: ClassVar[dict[str, tuple[str, ...]]] = {
        "url": ("UPSTASH_VECTOR_REST_URL",),
        "token": ("UPSTASH_VECTOR_REST_TOKEN",),
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("url", "token", "embedding_dim")

    url: _RestUrl
    token: SecretStr
    namespace_prefix: str = Field(default="praison-", pattern=r"^[A-Za-z0-9_-]{0,32}$")
    timeout: Seconds = 30.0


def _connection_string(text: str) -> dict[str, Any] | None:
    # The Azure portal's connection string, AccountEndpoint=https://...;AccountKey=...;
    if "AccountEndpoint=" not in text:
        return None
    parts = dict(part.split("=", 1) for part in text.split(";") if "=" in part)
    if "AccountEndpoint" not in parts or "AccountKey" not in parts:
        raise ValueError("a connection string needs AccountEndpoint and AccountKey")
    return {"url": parts["AccountEndpoint"], "key": SecretStr(parts["AccountKey"])}


class CosmosDbKnowledgeConfig(KnowledgeConfig):
    """Azure Cosmos DB for NoSQL (vector search) through azure-cosmos: one container per collection.

    ``url`` is the account endpoint (``https://<account>.documents.azure.com:443/``) and ``key`` its
    key; a connection string ``AccountEndpoint=...;AccountKey=...;`` is accepted as the URL.
    """

    backend: ClassVar[str] = "cosmosdb"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(schemes=("http", "https"), text="url"), special=_connection_string
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "connection_string": AsUrl(),
        "collection": Ignored("each knowledge collection is its own container, named `<container_prefix><name>`"),
        "index_name": Ignored("each container's vector index is part of its indexing policy (see vector_index)"),
        "embedding_field": fixed_name("embedding_field", "embedding"),
        "text_field": fixed_name("text_field", "content"),
        "embedding_dim": EMBEDDING_DIM,
        "api_mode": Ignored(
            "this store speaks the NoSQL (SQL) API",
            refuse_unless(
                "sql", "this store speaks the NoSQL (SQL) API; for the MongoDB API use the mongodb_vector backend"
            ),
        ),
    }
    env_defaults: ClassVar[dict[str, tuple[str, ...]]] = {"url": ("COSMOS_CONNECTION_STRING",)}
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("connection_string", *MONGO_VECTOR_KEYWORDS, "api_mode")

    url: _RestUrl
    key: SecretStr
    database: str = Field(default="praisonai", pattern=r"^[A-Za-z0-9_-]{1,255}$")
    container_prefix: str = Field(default="kb_", pattern=r"^[A-Za-z0-9_-]{0,16}$")
    vector_index: Literal["flat", "quantizedFlat", "diskANN", "none"] = "quantizedFlat"
    """The vector index of new containers (``none``: brute force only)."""
    timeout: Seconds = 30.0

    @field_validator("key")
    @classmethod
    def _account_key(cls, value: SecretStr) -> SecretStr:
        # The client decodes it on first use; a bad one would fail there with a bare binascii error.
        try:
            base64.b64decode(value.get_secret_value(), validate=True)
        except ValueError:  # binascii.Error is a ValueError
            raise ValueError("must be an account key, in base64 as the Azure portal shows it") from None
        return value
