"""Config models of the built-in conversation backends.

Validated before the adapter module or driver is imported; see ``_config.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, cast

from pydantic import AfterValidator, Field, SecretStr, ValidationInfo, field_validator, model_validator
from typing_extensions import Self

from .._catalogue import Kind
from .._config import Identifier, StoreConfig, TablePrefix, build_store
from .._paths import data_dir
from .._surreal import SurrealName, SurrealSettings
from ..url import URL

if TYPE_CHECKING:
    from .base import AsyncConversationStore, ConversationStore

__all__ = [
    "AsyncConversationConfig",
    "AsyncMySqlConversationConfig",
    "AsyncPostgresConversationConfig",
    "AsyncSqliteConversationConfig",
    "ConversationConfig",
    "JsonConversationConfig",
    "MySqlConversationConfig",
    "PostgresConversationConfig",
    "SingleStoreConversationConfig",
    "SqliteConversationConfig",
    "SupabaseConversationConfig",
    "SurrealDbConversationConfig",
    "TursoConversationConfig",
]


class ConversationConfig(StoreConfig):
    """Config of a synchronous conversation backend; ``open()`` is a ConversationStore."""

    kind: ClassVar[Kind] = "conversation"

    def open(self) -> ConversationStore:
        return cast("ConversationStore", build_store(self))


class AsyncConversationConfig(StoreConfig):
    """Config of an asyncio conversation backend; ``open()`` is an AsyncConversationStore."""

    kind: ClassVar[Kind] = "conversation"

    def open(self) -> AsyncConversationStore:
        return cast("AsyncConversationStore", build_store(self))


def _default_sqlite_path() -> str:
    return str(data_dir() / "conversations.db")


class _SqliteSettings(StoreConfig):
    path: str = Field(default_factory=_default_sqlite_path, min_length=1)
    """Database file, or ``:memory:``. Accepts ``sqlite:///relative.db`` and ``sqlite:////abs.db`` URLs."""
    table_prefix: TablePrefix = "praison_"
    busy_timeout: float = Field(default=5.0, gt=0, le=3600)
    """Seconds a writer waits for another process's lock before giving up."""
    durable: bool = True
    """fsync on every commit (``synchronous=FULL``); False trades durability on power loss for speed."""

    @field_validator("path")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        if "://" not in url:
            return {"path": url}
        parsed = URL.parse(url)
        if parsed.scheme not in ("sqlite", "file"):
            raise ValueError(f"expected a sqlite:/// URL or a file path, got scheme {parsed.scheme!r}")
        if parsed.host:
            raise ValueError("sqlite URLs have no host: use sqlite:///relative.db or sqlite:////absolute.db")
        if not parsed.database:
            raise ValueError("sqlite URL has no database path")
        return {"path": parsed.database}


class SqliteConversationConfig(_SqliteSettings, ConversationConfig):
    backend: ClassVar[str] = "sqlite"


class AsyncSqliteConversationConfig(_SqliteSettings, AsyncConversationConfig):
    backend: ClassVar[str] = "async_sqlite"


def _path(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


_Path = Annotated[str, AfterValidator(_path)]


def _default_json_dir() -> str:
    return str(data_dir() / "conversations")


class JsonConversationConfig(ConversationConfig):
    """A directory of JSON files; see ``conversation/json.py`` for the layout."""

    backend: ClassVar[str] = "json"

    path: _Path = Field(default_factory=_default_json_dir)
    """The store's directory (created if missing). Accepts ``json:///relative/dir`` and ``json:////abs/dir``."""
    durable: bool = True
    """fsync every write before it returns; False keeps atomicity but may lose the last writes on power loss."""
    lock_timeout: float = Field(default=30.0, gt=0, le=3600)
    """Seconds to wait for another process's lock on the directory before raising."""

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        if "://" not in url:
            return {"path": url}
        parsed = URL.parse(url)
        if parsed.scheme not in ("json", "file"):
            raise ValueError(f"expected a json:/// URL or a directory path, got scheme {parsed.scheme!r}")
        if parsed.host:
            raise ValueError("json URLs have no host: use json:///relative/dir or json:////absolute/dir")
        if not parsed.database:
            raise ValueError("json URL has no directory path")
        return {"path": parsed.database}


_TURSO_REMOTE_SCHEMES = ("libsql", "https", "http")


def _default_turso_path() -> str:
    return str(data_dir() / "conversations-libsql.db")


class TursoConversationConfig(ConversationConfig):
    """libSQL: a local file (``path``), a remote Turso database (``url`` + ``auth_token``),
    or an embedded replica of one (``url`` + ``auth_token`` + ``replica_path``)."""

    backend: ClassVar[str] = "turso"

    path: _Path | None = None
    """Local libSQL/SQLite file; without ``url`` it defaults to ``$PRAISONAI_DATA_DIR/conversations-libsql.db``."""
    url: str | None = None
    """Remote database: ``libsql://<db>-<org>.turso.io`` (or ``https://``, ``http://`` for a self-hosted sqld)."""
    auth_token: SecretStr | None = None
    """Database token of the remote database; ``?authToken=`` in the URL is accepted too."""
    replica_path: _Path | None = None
    """Local file of an embedded replica of ``url``: reads are local, writes go to the remote primary."""
    sync_interval: float | None = Field(default=None, gt=0, le=86400)
    """Seconds between background syncs of the embedded replica (default: sync at connect only)."""
    table_prefix: TablePrefix = "praison_"
    busy_timeout: float = Field(default=5.0, gt=0, le=3600)
    """Seconds a writer waits for another connection's lock on a local file."""
    durable: bool = True
    """On a local file: fsync on every commit (``synchronous=FULL``)."""

    @model_validator(mode="before")
    @classmethod
    def _default_path(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("path") is None and data.get("url") is None:
            return {**data, "path": _default_turso_path()}
        return data

    @field_validator("url")
    @classmethod
    def _remote_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        parsed = URL.parse(value)
        if parsed.scheme not in _TURSO_REMOTE_SCHEMES:
            raise ValueError(f"remote libSQL URLs start with libsql://, https:// or http://, not {parsed.scheme}://")
        if not parsed.host:
            raise ValueError("remote libSQL URL has no host")
        if parsed.username is not None or parsed.password is not None:
            raise ValueError("put the credential in auth_token, not in the URL")
        if info.data.get("path") is not None:
            raise ValueError(
                "give either path (a local file) or url (a remote database), not both; "
                "for an embedded replica of url, set replica_path"
            )
        return value

    @field_validator("auth_token")
    @classmethod
    def _token_needs_url(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None and "url" in info.data and info.data["url"] is None:
            raise ValueError("auth_token is only used with a remote url")
        return value

    @field_validator("replica_path")
    @classmethod
    def _replica_needs_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and "url" in info.data and info.data["url"] is None:
            raise ValueError("an embedded replica needs the url of its remote database")
        return value

    @field_validator("sync_interval")
    @classmethod
    def _interval_needs_replica(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and "replica_path" in info.data and info.data["replica_path"] is None:
            raise ValueError("sync_interval applies to an embedded replica only; set replica_path")
        return value

    @property
    def mode(self) -> Literal["local", "remote", "replica"]:
        """Which of the three connections this config describes."""
        if self.url is None:
            return "local"
        return "remote" if self.replica_path is None else "replica"

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        if "://" not in url:
            return {"path": url}
        parsed = URL.parse(url)
        if parsed.scheme in ("sqlite", "file"):
            if parsed.host:
                raise ValueError(
                    f"{parsed.scheme} URLs have no host: use {parsed.scheme}:///relative.db or :////abs.db"
                )
            if not parsed.database:
                raise ValueError(f"{parsed.scheme} URL has no database path")
            return {"path": parsed.database}
        query = parsed.query_dict()
        fields: dict[str, Any] = {}
        token = query.pop("authToken", None) or query.pop("auth_token", None)
        if token:
            fields["auth_token"] = SecretStr(token)
        remote = replace(parsed, query=tuple(query.items()))
        fields["url"] = remote.render(hide_password=False)
        return fields


def _default_surrealkv_url() -> str:
    return "surrealkv://" + str(data_dir() / "conversations.surrealkv")


class SurrealDbConversationConfig(SurrealSettings, ConversationConfig):
    """SurrealDB: the SDK's embedded engine (``mem://``, ``surrealkv://``) or a server (``ws://``, ``http://``)."""

    backend: ClassVar[str] = "surrealdb"
    _example_directory: ClassVar[str] = "/var/lib/app/chat"

    url: str = Field(default_factory=_default_surrealkv_url)
    """``mem://``, ``surrealkv:///abs/dir`` (or ``surrealkv://relative/dir``, ``surrealkv+versioned://``,
    ``file://``), ``ws[s]://host:8000/rpc``, ``http[s]://host:8000``. Default: a SurrealKV directory under
    ``$PRAISONAI_DATA_DIR``."""
    database: SurrealName = "conversations"
    table_prefix: TablePrefix = "praison_"


# -- SQL servers: PostgreSQL, MySQL/MariaDB, SingleStore, Supabase ----------------------------------------------------


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


_ServerText = Annotated[str, AfterValidator(_no_nul)]

# Hosted PostgreSQL services (those the aliases name, and Supabase): TLS is required by default.
_HOSTED_POSTGRES = ("neon.tech", "cockroachlabs.cloud", "xata.sh", "xata.tech", "supabase.co", "supabase.com")
_POSTGRES_SCHEMES = ("postgres", "postgresql", "cockroachdb")
_POSTGRES_QUERY = ("application_name", "connect_timeout", "host", "port", "schema", "sslmode", "sslrootcert")

PostgresSslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


def _is_hosted_postgres(host: object) -> bool:
    return isinstance(host, str) and any(
        host.lower() == domain or host.lower().endswith("." + domain) for domain in _HOSTED_POSTGRES
    )


def _rename_schema_option(options: Any) -> Any:
    # "schema" would shadow pydantic's BaseModel.schema; the field is schema_name, the option both.
    if options and "schema" in options:
        options = dict(options)
        value = options.pop("schema")
        options.setdefault("schema_name", value)
    return options


class _PostgresSettings(StoreConfig):
    """PostgreSQL (and CockroachDB, Neon, Supabase, Xata): a URL or the fields."""

    host: _ServerText = Field(default="localhost", min_length=1)
    """Host name, IP address, or the directory of a Unix socket (``/var/run/postgresql``)."""
    port: int = Field(default=5432, ge=1, le=65535)
    user: _ServerText | None = None
    password: SecretStr | None = None
    database: _ServerText | None = None
    """Database name (default: the server's default, the user name)."""
    schema_name: Identifier = "public"
    """PostgreSQL schema of the tables, created if missing. Also accepted as option ``schema`` and ``?schema=``."""
    table_prefix: TablePrefix = "praison_"
    pool_size: int = Field(default=10, ge=1, le=1000)
    """Most connections the store opens at once."""
    sslmode: PostgresSslMode = "prefer"
    """libpq's sslmode. Default ``prefer``; ``require`` for hosts of Neon, CockroachDB Cloud, Xata, Supabase."""
    sslrootcert: _ServerText | None = None
    """CA certificate file for ``verify-ca`` / ``verify-full``."""
    connect_timeout: float = Field(default=10.0, gt=0, le=3600)
    """Seconds to wait for a new connection before the call raises BackendUnavailableError."""
    application_name: _ServerText = "praisonai-persistence"
    prepared_statements: bool = True
    """False for PgBouncer in transaction mode (and other poolers that do not keep prepared statements)."""

    @model_validator(mode="before")
    @classmethod
    def _hosted_services_require_tls(cls, data: Any) -> Any:
        if isinstance(data, dict) and "sslmode" not in data and _is_hosted_postgres(data.get("host")):
            return {**data, "sslmode": "require"}
        return data

    @classmethod
    def from_options(cls, url: str | None = None, options: Mapping[str, Any] | None = None) -> Self:
        return super().from_options(url, _rename_schema_option(options))

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        base = parsed.scheme.split("+", 1)[0]
        if base not in _POSTGRES_SCHEMES:
            raise ValueError(
                f"expected postgresql://, postgres:// or cockroachdb:// (optionally +driver), got {parsed.scheme!r}"
            )
        query = parsed.query_dict()
        unknown = sorted(set(query) - set(_POSTGRES_QUERY))
        if unknown:
            raise ValueError(f"unknown URL parameter(s) {', '.join(unknown)}; accepted: {', '.join(_POSTGRES_QUERY)}")
        fields: dict[str, Any] = {}
        if parsed.host or "host" in query:
            fields["host"] = query.pop("host", None) or parsed.host
        port = query.pop("port", None)
        if parsed.port is not None or port is not None:
            fields["port"] = parsed.port if port is None else port
        elif base == "cockroachdb":
            fields["port"] = 26257
        if parsed.username:
            fields["user"] = parsed.username
        if parsed.password is not None:
            fields["password"] = SecretStr(parsed.password)
        if parsed.database:
            fields["database"] = parsed.database
        if "schema" in query:
            fields["schema_name"] = query.pop("schema")
        fields.update(query)
        return fields


class PostgresConversationConfig(_PostgresSettings, ConversationConfig):
    backend: ClassVar[str] = "postgres"


class AsyncPostgresConversationConfig(_PostgresSettings, AsyncConversationConfig):
    backend: ClassVar[str] = "async_postgres"


_MYSQL_QUERY = ("charset", "connect_timeout", "ssl_ca", "ssl_mode")
MySqlSslMode = Literal["disabled", "preferred", "required", "verify_ca", "verify_identity"]


class _MySqlSettings(StoreConfig):
    """MySQL-protocol servers: a URL or the fields. Connections are always utf8mb4."""

    _schemes: ClassVar[tuple[str, ...]] = ("mysql", "mariadb")

    host: _ServerText = Field(default="localhost", min_length=1)
    port: int = Field(default=3306, ge=1, le=65535)
    user: _ServerText | None = None
    password: SecretStr | None = None
    database: _ServerText = Field(min_length=1, max_length=64)
    """The database (schema) of the tables; it must exist."""
    table_prefix: TablePrefix = "praison_"
    pool_size: int = Field(default=10, ge=1, le=1000)
    """Most connections the store opens at once."""
    ssl_mode: MySqlSslMode = "preferred"
    """As the mysql client's --ssl-mode: ``preferred`` uses TLS when the server offers it."""
    ssl_ca: _ServerText | None = None
    """CA certificate file for ``verify_ca`` / ``verify_identity`` (default: the system's)."""
    connect_timeout: float = Field(default=10.0, gt=0, le=3600)
    """Seconds to wait for a new connection before the call raises BackendUnavailableError."""

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        parsed = URL.parse(url)
        if parsed.scheme.split("+", 1)[0] not in cls._schemes:
            accepted = ", ".join(f"{scheme}://" for scheme in cls._schemes)
            raise ValueError(f"expected {accepted} (optionally +driver), got {parsed.scheme!r}")
        query = {key.replace("-", "_"): value for key, value in parsed.query_dict().items()}
        unknown = sorted(set(query) - set(_MYSQL_QUERY))
        if unknown:
            raise ValueError(f"unknown URL parameter(s) {', '.join(unknown)}; accepted: {', '.join(_MYSQL_QUERY)}")
        charset = query.pop("charset", "utf8mb4")
        if charset != "utf8mb4":
            raise ValueError(f"the connection charset is always utf8mb4, not {charset!r}")
        if "ssl_mode" in query:
            query["ssl_mode"] = query["ssl_mode"].lower()
        fields: dict[str, Any] = dict(query)
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


class MySqlConversationConfig(_MySqlSettings, ConversationConfig):
    backend: ClassVar[str] = "mysql"


class AsyncMySqlConversationConfig(_MySqlSettings, AsyncConversationConfig):
    backend: ClassVar[str] = "async_mysql"


class SingleStoreConversationConfig(_MySqlSettings, ConversationConfig):
    """SingleStore over the MySQL protocol (``singlestoredb``); any MySQL-protocol server works too."""

    backend: ClassVar[str] = "singlestore"
    _schemes: ClassVar[tuple[str, ...]] = ("singlestoredb", "singlestore", "mysql")

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        if url.partition("://")[0].lower() in ("http", "https"):
            raise ValueError(
                "the HTTP Data API is not supported (it has no transactions); "
                "use the MySQL protocol: singlestoredb://user:password@host:3306/database"
            )
        return super().url_fields(url)


class SupabaseConversationConfig(ConversationConfig):
    """A Supabase project, through its REST API (PostgREST); the tables must exist (see docs/backends/sql.md)."""

    backend: ClassVar[str] = "supabase"

    project_url: _ServerText
    """``https://<project-ref>.supabase.co`` (the registry's ``url`` argument)."""
    api_key: SecretStr
    """The project's service-role key (server side), or the anon key with row-level-security policies."""
    schema_name: Identifier = "public"
    """Schema of the tables; it must be exposed by the API. Also accepted as option ``schema``."""
    table_prefix: TablePrefix = "praison_"
    timeout: float = Field(default=30.0, gt=0, le=3600)
    """Seconds an HTTP request may take."""
    retry_reads: bool = True
    """Let the client retry reads that hit a network error or a 503 (it waits 1, 2 and 4 seconds)."""

    @field_validator("project_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parsed = URL.parse(value)
        if parsed.scheme not in ("https", "http"):
            raise ValueError(f"expected an https:// project URL, got scheme {parsed.scheme!r}")
        if not parsed.host:
            raise ValueError("the project URL has no host")
        if parsed.username is not None or parsed.password is not None or parsed.query:
            raise ValueError("the project URL carries no credentials or parameters; pass the key as api_key")
        return value.rstrip("/")

    @classmethod
    def from_options(cls, url: str | None = None, options: Mapping[str, Any] | None = None) -> Self:
        return super().from_options(url, _rename_schema_option(options))

    @classmethod
    def url_fields(cls, url: str) -> dict[str, Any]:
        return {"project_url": url}
