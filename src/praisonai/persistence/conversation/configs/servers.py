"""Conversation configs of SQL servers: PostgreSQL (and its hosted services), MySQL/MariaDB, SingleStore, Supabase."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from ..._config import StoreConfig
from ..._fields import Identifier, Port, Seconds, TablePrefix, Text
from ..._keywords import CREATES_TABLES, SERVER_KEYWORDS, Ignored, Keyword, Rename, refuse_true
from ..._urlform import Param, UrlForm, UrlSpec, server_form
from ...url import URL
from . import AsyncConversationConfig, ConversationConfig

__all__ = [
    "AsyncMySqlConversationConfig",
    "AsyncPostgresConversationConfig",
    "MySqlConversationConfig",
    "PostgresConversationConfig",
    "SingleStoreConversationConfig",
    "SupabaseConversationConfig",
]

# Hosted PostgreSQL services (those the aliases name, and Supabase): TLS is required by default.
_HOSTED_POSTGRES = ("neon.tech", "cockroachlabs.cloud", "xata.sh", "xata.tech", "supabase.co", "supabase.com")
# "schema" would shadow pydantic's BaseModel.schema; the field is schema_name, the option and parameter both.
_SCHEMA_ALIAS: dict[str, Keyword] = {"schema": "schema_name"}
_NO_RETRIES = Ignored("a call that cannot reach the server raises BackendUnavailableError at once; the caller retries")
_SERVER_KEYWORDS = (*SERVER_KEYWORDS, "table_prefix")

PostgresSslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


def _is_hosted_postgres(host: object) -> bool:
    return isinstance(host, str) and any(
        host.lower() == domain or host.lower().endswith("." + domain) for domain in _HOSTED_POSTGRES
    )


def _empty_host_parameter(parsed: URL, fields: dict[str, Any]) -> None:
    # libpq reads an empty ?host= as unset: the URL's host stands.
    if fields.get("host") == "" and parsed.host:
        fields["host"] = parsed.host


class _PostgresSettings(StoreConfig):
    """PostgreSQL (and CockroachDB, Neon, Supabase, Xata): a URL or the fields."""

    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        server_form(
            "postgresql",
            "postgres",
            "cockroachdb",
            drivers=True,
            implies={"cockroachdb": {"port": 26257}},
            query={
                "application_name": "application_name",
                "connect_timeout": "connect_timeout",
                "host": "host",
                "port": "port",
                "schema": "schema_name",
                "sslmode": "sslmode",
                "sslrootcert": "sslrootcert",
            },
            hook=_empty_host_parameter,
        )
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = _SCHEMA_ALIAS

    host: Text = Field(default="localhost", min_length=1)
    """Host name, IP address, or the directory of a Unix socket (``/var/run/postgresql``)."""
    port: Port = 5432
    user: Text | None = None
    password: SecretStr | None = None
    database: Text | None = None
    """Database name (default: the server's default, the user name)."""
    schema_name: Identifier = "public"
    """PostgreSQL schema of the tables, created if missing. Also accepted as option ``schema`` and ``?schema=``."""
    table_prefix: TablePrefix = "praison_"
    pool_size: int = Field(default=10, ge=1, le=1000)
    """Most connections the store opens at once."""
    sslmode: PostgresSslMode = "prefer"
    """libpq's sslmode. Default ``prefer``; ``require`` for hosts of Neon, CockroachDB Cloud, Xata, Supabase."""
    sslrootcert: Text | None = None
    """CA certificate file for ``verify-ca`` / ``verify-full``."""
    connect_timeout: Seconds = 10.0
    """Seconds to wait for a new connection before the call raises BackendUnavailableError."""
    application_name: Text = "praisonai-persistence"
    prepared_statements: bool = True
    """False for PgBouncer in transaction mode (and other poolers that do not keep prepared statements)."""

    @model_validator(mode="before")
    @classmethod
    def _hosted_services_require_tls(cls, data: Any) -> Any:
        if isinstance(data, dict) and "sslmode" not in data and _is_hosted_postgres(data.get("host")):
            return {**data, "sslmode": "require"}
        return data


class PostgresConversationConfig(_PostgresSettings, ConversationConfig):
    backend: ClassVar[str] = "postgres"
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        **_SCHEMA_ALIAS,
        "auto_create_tables": CREATES_TABLES,
        "max_retries": _NO_RETRIES,
        "retry_delay": _NO_RETRIES,
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = (
        *_SERVER_KEYWORDS,
        "schema",
        "auto_create_tables",
        "pool_size",
        "max_retries",
        "retry_delay",
    )


class AsyncPostgresConversationConfig(_PostgresSettings, AsyncConversationConfig):
    backend: ClassVar[str] = "async_postgres"
    praisonai_keywords: ClassVar[tuple[str, ...]] = (*_SERVER_KEYWORDS, "pool_size")


MySqlSslMode = Literal["disabled", "preferred", "required", "verify_ca", "verify_identity"]


def _utf8mb4_only(charset: str) -> str:
    if charset != "utf8mb4":
        raise ValueError(f"the connection charset is always utf8mb4, not {charset!r}")
    return charset


def _mysql_form(*schemes: str) -> UrlForm:
    # The mysql client spells its options with "-" (ssl-mode), the fields with "_"; both are accepted.
    query: dict[str, str | Param] = {"charset": Param(None, _utf8mb4_only)}
    for name in ("connect_timeout", "ssl_ca", "ssl_mode"):
        query[name] = query[name.replace("_", "-")] = name
    return server_form(
        *schemes,
        drivers=True,
        convert={"ssl_mode": str.lower},
        query=query,
    )


class _MySqlSettings(StoreConfig):
    """MySQL-protocol servers: a URL or the fields. Connections are always utf8mb4."""

    url_spec: ClassVar[UrlSpec | None] = UrlSpec(_mysql_form("mysql", "mariadb"))

    host: Text = Field(default="localhost", min_length=1)
    port: Port = 3306
    user: Text | None = None
    password: SecretStr | None = None
    database: Text = Field(min_length=1, max_length=64)
    """The database (schema) of the tables; it must exist."""
    table_prefix: TablePrefix = "praison_"
    pool_size: int = Field(default=10, ge=1, le=1000)
    """Most connections the store opens at once."""
    ssl_mode: MySqlSslMode = "preferred"
    """As the mysql client's --ssl-mode: ``preferred`` uses TLS when the server offers it."""
    ssl_ca: Text | None = None
    """CA certificate file for ``verify_ca`` / ``verify_identity`` (default: the system's)."""
    connect_timeout: Seconds = 10.0
    """Seconds to wait for a new connection before the call raises BackendUnavailableError."""


class MySqlConversationConfig(_MySqlSettings, ConversationConfig):
    backend: ClassVar[str] = "mysql"
    keyword_aliases: ClassVar[dict[str, Keyword]] = {"auto_create_tables": CREATES_TABLES}
    praisonai_keywords: ClassVar[tuple[str, ...]] = (*_SERVER_KEYWORDS, "auto_create_tables", "pool_size")


class AsyncMySqlConversationConfig(_MySqlSettings, AsyncConversationConfig):
    backend: ClassVar[str] = "async_mysql"
    praisonai_keywords: ClassVar[tuple[str, ...]] = (*_SERVER_KEYWORDS, "pool_size")


def _no_data_api(parsed: URL, fields: dict[str, Any]) -> None:
    raise ValueError(
        "the HTTP Data API is not supported (it has no transactions); "
        "use the MySQL protocol: singlestoredb://user:password@host:3306/database"
    )


class SingleStoreConversationConfig(_MySqlSettings, ConversationConfig):
    """SingleStore over the MySQL protocol (``singlestoredb``); any MySQL-protocol server works too."""

    backend: ClassVar[str] = "singlestore"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        _mysql_form("singlestoredb", "singlestore", "mysql"), UrlForm(schemes=("http", "https"), hook=_no_data_api)
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {"auto_create_tables": CREATES_TABLES}
    praisonai_keywords: ClassVar[tuple[str, ...]] = (*_SERVER_KEYWORDS, "auto_create_tables")


def _retries_wanted(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"max_retries must be a whole number of at least 0, got {value!r:.20}")
    return value > 0


class SupabaseConversationConfig(ConversationConfig):
    """A Supabase project, through its REST API (PostgREST); the tables must exist (see docs/backends/sql.md)."""

    backend: ClassVar[str] = "supabase"
    # The URL is the project's https:// address, kept whole; its validator checks it.
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        bare="project_url", fallback=UrlForm(schemes=(), verbatim="project_url")
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        **_SCHEMA_ALIAS,
        "key": "api_key",
        "auto_create_tables": Ignored(
            "the tables must exist (create them with the SQL in docs/backends/sql.md)",
            refuse_true("the REST API cannot create tables; create them with the SQL in docs/backends/sql.md"),
        ),
        "max_retries": Rename("retry_reads", _retries_wanted, "true unless 0; the client's own waits"),
        "retry_delay": Ignored("the client waits 1, 2 and 4 seconds between retries of a read"),
    }
    env_defaults: ClassVar[dict[str, tuple[str, ...]]] = {"url": ("SUPABASE_URL",), "api_key": ("SUPABASE_KEY",)}
    praisonai_keywords: ClassVar[tuple[str, ...]] = (
        "url",
        "key",
        "table_prefix",
        "auto_create_tables",
        "max_retries",
        "retry_delay",
    )

    project_url: Text
    """``https://<project-ref>.supabase.co`` (the registry's ``url`` argument)."""
    api_key: SecretStr
    """The project's service-role key (server side), or the anon key with row-level-security policies."""
    schema_name: Identifier = "public"
    """Schema of the tables; it must be exposed by the API. Also accepted as option ``schema``."""
    table_prefix: TablePrefix = "praison_"
    timeout: Seconds = 30.0
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
