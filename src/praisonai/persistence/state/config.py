"""Config models of the built-in state backends.

Validated before the adapter module or driver is imported; see ``_config.py``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, cast
from urllib.parse import unquote

from pydantic import AfterValidator, Field, SecretStr, model_validator

from .._catalogue import Kind
from .._config import StoreConfig, build_store
from ..url import URL

if TYPE_CHECKING:
    from .base import AsyncStateStore, StateStore

__all__ = [
    "AsyncMongoStateConfig",
    "AsyncStateConfig",
    "DynamoDBStateConfig",
    "FirestoreStateConfig",
    "GCSStateConfig",
    "MemoryStateConfig",
    "MongoStateConfig",
    "RedisStateConfig",
    "StateConfig",
    "UpstashStateConfig",
]


class StateConfig(StoreConfig):
    """Config of a synchronous state backend; ``open()`` is a StateStore."""

    kind: ClassVar[Kind] = "state"

    def open(self) -> StateStore:
        return cast("StateStore", build_store(self))


class AsyncStateConfig(StoreConfig):
    """Config of an asyncio state backend; ``open()`` is an AsyncStateStore."""

    kind: ClassVar[Kind] = "state"

    def open(self) -> AsyncStateStore:
        return cast("AsyncStateStore", build_store(self))


class MemoryStateConfig(StateConfig):
    backend: ClassVar[str] = "memory"

    snapshot_path: str | None = Field(default=None, min_length=1)
    """File that keeps the state across restarts (a snapshot plus ``<path>.journal``)."""
    fsync: bool = True
    """With a snapshot file: fsync each journal append, so an acknowledged write survives a crash."""
    compact_every: int = Field(default=10_000, ge=1)
    """Journal entries after which the snapshot is rewritten and the journal emptied."""

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme != "memory":
            raise ValueError(f"expected memory:// or memory:///snapshot/path, got scheme {parsed.scheme!r}")
        return {"snapshot_path": parsed.database} if parsed.database else {}


def _key_prefix(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


KeyPrefix = Annotated[str, Field(max_length=256), AfterValidator(_key_prefix)]
"""Prepended to every key the store writes; keys() lists only keys under it."""


def _query_options(url: URL, allowed: set[str]) -> dict[str, str]:
    options = url.query_dict()
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(
            f"unknown URL parameter(s) {', '.join(unknown)}; accepted: {', '.join(sorted(allowed)) or 'none'}"
        )
    return options


class RedisStateConfig(StateConfig):
    """Redis through redis-py: a URL (``redis://``, ``rediss://``, ``unix://``) or the fields."""

    backend: ClassVar[str] = "redis"

    host: str = "127.0.0.1"
    port: int = Field(default=6379, ge=1, le=65535)
    db: int = Field(default=0, ge=0)
    unix_socket_path: str | None = Field(default=None, min_length=1)
    """Connect through this Unix socket instead of host and port."""
    username: str | None = None
    password: SecretStr | None = None
    ssl: bool = False
    """TLS (``rediss://``)."""
    ssl_ca_certs: str | None = None
    """CA bundle that verifies the server's certificate (default: the system's)."""
    key_prefix: KeyPrefix = "praisonai:state:"
    max_connections: int | None = Field(default=None, ge=1)
    """Size limit of the connection pool (default: unbounded)."""
    socket_timeout: float = Field(default=5.0, gt=0)
    socket_connect_timeout: float = Field(default=5.0, gt=0)

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"expected redis://, rediss:// or unix://, got scheme {parsed.scheme!r}")
        options = _query_options(parsed, {"db"})
        fields: dict[str, Any] = {}
        if parsed.username:
            fields["username"] = parsed.username
        if parsed.password is not None:
            fields["password"] = SecretStr(parsed.password)
        if parsed.scheme == "unix":
            if not parsed.database:
                raise ValueError("unix:// needs a socket path, as in unix:///run/redis/redis.sock?db=0")
            fields["unix_socket_path"] = "/" + parsed.database
        else:
            fields["ssl"] = parsed.scheme == "rediss"
            if parsed.host:
                fields["host"] = parsed.host
            if parsed.port is not None:
                fields["port"] = parsed.port
            if parsed.database:
                if not parsed.database.isdigit():
                    raise ValueError(f"the path of a redis URL is the database number, got {parsed.database!r}")
                fields["db"] = int(parsed.database)
        if "db" in options:
            if not options["db"].isdigit():
                raise ValueError(f"db must be a number, got {options['db']!r}")
            fields["db"] = int(options["db"])
        return fields


class UpstashStateConfig(StateConfig):
    """Upstash Redis over its REST API (upstash-redis): the REST URL and token from the console."""

    backend: ClassVar[str] = "upstash"

    url: str = Field(pattern=r"^https?://[^\s/]+")
    """UPSTASH_REDIS_REST_URL, such as ``https://eu1-example-12345.upstash.io``."""
    token: SecretStr
    """UPSTASH_REDIS_REST_TOKEN."""
    key_prefix: KeyPrefix = "praisonai:state:"
    retries: int = Field(default=1, ge=0)
    """How often a failed HTTP request is retried."""
    retry_interval: float = Field(default=3.0, ge=0)
    read_your_writes: bool = True
    allow_telemetry: bool = False
    """Send upstash-redis's anonymous telemetry headers (off by default)."""

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme not in ("https", "http"):
            raise ValueError(f"expected the https:// REST URL of the database, got scheme {parsed.scheme!r}")
        if parsed.password is not None or parsed.username:
            raise ValueError("put the REST token in token=, not in the URL")
        return {"url": url.rstrip("/")}


_DYNAMODB_TABLE = r"^[A-Za-z0-9_.\-]{3,255}$"


class DynamoDBStateConfig(StateConfig):
    """Amazon DynamoDB through boto3. Credentials default to boto3's usual chain."""

    backend: ClassVar[str] = "dynamodb"

    table_name: str = Field(default="praisonai_state", pattern=_DYNAMODB_TABLE)
    region_name: str | None = None
    endpoint_url: str | None = Field(default=None, pattern=r"^https?://")
    """A DynamoDB-compatible endpoint (DynamoDB Local, moto, LocalStack)."""
    profile_name: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: SecretStr | None = None
    create_table: bool = True
    """Create the table (on-demand capacity, native TTL enabled) when it does not exist."""
    enable_ttl: bool = True
    """With create_table: switch on DynamoDB's own TTL deletion for the ``ttl_epoch`` attribute."""
    key_prefix: KeyPrefix = ""
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    """boto3's retry budget per request."""

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme != "dynamodb":
            raise ValueError(f"expected dynamodb://<table>?region=<region>, got scheme {parsed.scheme!r}")
        options = _query_options(parsed, {"region", "endpoint_url", "profile"})
        fields: dict[str, Any] = {}
        table = parsed.host or parsed.database
        if table:
            fields["table_name"] = table
        if "region" in options:
            fields["region_name"] = options["region"]
        if "endpoint_url" in options:
            fields["endpoint_url"] = options["endpoint_url"]
        if "profile" in options:
            fields["profile_name"] = options["profile"]
        return fields


_MONGO_URL = re.compile(r"^(?P<scheme>mongodb(?:\+srv)?)://(?:(?P<userinfo>[^@/]*)@)?(?P<rest>[^@]*)$")
_MONGO_NAME = r"^[^/\\. \"$*<>:|?\x00]{1,63}$"


def _mongo_collection(value: str) -> str:
    if not 1 <= len(value) <= 120 or "$" in value or "\x00" in value or value.startswith("system."):
        raise ValueError("must be 1 to 120 characters, without $ or NUL, not starting with 'system.'")
    return value


def _firestore_collection(value: str) -> str:
    if not 1 <= len(value.encode("utf-8")) <= 1500 or "/" in value or (value.startswith("__") and value.endswith("__")):
        raise ValueError("must be 1 to 1500 bytes without '/', and not __reserved__")
    return value


class _MongoOptions(StoreConfig):
    """Fields shared by the sync and async MongoDB stores."""

    url: str = "mongodb://127.0.0.1:27017"
    """``mongodb://`` or ``mongodb+srv://``; a user and password in it move to the fields below."""
    username: str | None = None
    password: SecretStr | None = None
    database: str = Field(default="praisonai", pattern=_MONGO_NAME)
    collection: Annotated[str, AfterValidator(_mongo_collection)] = "praisonai_state"
    key_prefix: KeyPrefix = ""
    create_indexes: bool = True
    """Create the TTL index on ``expires_at`` (MongoDB then deletes expired keys itself)."""
    server_selection_timeout_ms: int = Field(default=5_000, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _move_credentials(cls, data: Any) -> Any:
        # The password must never stay in the URL, where repr() would show it.
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            return data
        match = _MONGO_URL.match(data["url"])
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


class MongoStateConfig(_MongoOptions, StateConfig):
    """MongoDB through pymongo."""

    backend: ClassVar[str] = "mongodb"


class AsyncMongoStateConfig(_MongoOptions, AsyncStateConfig):
    """MongoDB through pymongo's native asyncio client (``AsyncMongoClient``)."""

    backend: ClassVar[str] = "async_mongodb"


class FirestoreStateConfig(StateConfig):
    """Google Cloud Firestore (native mode) through google-cloud-firestore.

    Credentials default to Application Default Credentials; with
    ``FIRESTORE_EMULATOR_HOST`` set, the client talks to that emulator.
    """

    backend: ClassVar[str] = "firestore"

    project: str | None = None
    database: str = Field(default="(default)", min_length=1)
    collection: Annotated[str, AfterValidator(_firestore_collection)] = "praisonai_state"
    credentials_file: str | None = None
    """A service-account JSON key file (default: Application Default Credentials)."""
    key_prefix: KeyPrefix = ""

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme != "firestore":
            raise ValueError(f"expected firestore://<project>[/<collection>], got scheme {parsed.scheme!r}")
        _query_options(parsed, set())
        fields: dict[str, Any] = {}
        if parsed.host:
            fields["project"] = parsed.host
        if parsed.database:
            fields["collection"] = parsed.database
        return fields


class GCSStateConfig(StateConfig):
    """Google Cloud Storage through google-cloud-storage: one object per key under ``prefix``."""

    backend: ClassVar[str] = "gcs"

    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9._\-]{1,220}[a-z0-9]$")
    prefix: str = Field(default="praisonai/state/", min_length=1, max_length=512)
    """Object-name prefix of this store's keys (never empty, so keys can never collide with other objects)."""
    project: str | None = None
    credentials_file: str | None = None
    """A service-account JSON key file (default: Application Default Credentials)."""
    endpoint: str | None = Field(default=None, pattern=r"^https?://")
    """Another endpoint, such as a local emulator; without credentials_file it is used anonymously."""
    create_bucket: bool = False
    timeout: float = Field(default=30.0, gt=0)

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme not in ("gs", "gcs"):
            raise ValueError(f"expected gs://<bucket>/<prefix>, got scheme {parsed.scheme!r}")
        _query_options(parsed, set())
        if not parsed.host:
            raise ValueError("gs:// needs a bucket, as in gs://my-bucket/agents/state/")
        fields: dict[str, Any] = {"bucket": parsed.host}
        if parsed.database:
            fields["prefix"] = parsed.database if parsed.database.endswith("/") else parsed.database + "/"
        return fields
