"""Knowledge configs of SQL engines: pgvector (PostgreSQL), clickhouse (and embedded chDB), singlestore_vector."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from typing_extensions import Self

from ..._fields import HostName, Identifier, LongSeconds, Port, Seconds, TablePrefix, Text
from ..._keywords import EMBEDDING_DIM, SERVER_KEYWORDS, Keyword
from ..._urlform import UrlSpec, flag, local_form, server_form
from . import KnowledgeConfig

__all__ = ["ClickHouseKnowledgeConfig", "PgvectorKnowledgeConfig", "SingleStoreVectorKnowledgeConfig"]


class PgvectorKnowledgeConfig(KnowledgeConfig):
    """PostgreSQL with the pgvector extension, through psycopg 3: a ``postgresql://`` URL or the fields."""

    backend: ClassVar[str] = "pgvector"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        server_form(
            "postgresql",
            "postgres",
            "pgvector",
            "postgresql+psycopg",
            query={
                "sslmode": "sslmode",
                "schema": "db_schema",
                "table_prefix": "table_prefix",
                "connect_timeout": "connect_timeout",
                "host": "host",
            },
        )
    )

    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "schema": "db_schema",
        "auto_create_extension": "create_extension",
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = (*SERVER_KEYWORDS, "schema", "auto_create_extension")

    host: Text = "127.0.0.1"
    """Server host name or address, or the directory of its Unix socket (a path starting with ``/``)."""
    port: Port = 5432
    user: Text | None = None
    password: SecretStr | None = None
    database: Text | None = None
    """Database name (default: the server's default for ``user``)."""
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None = None
    db_schema: Identifier = "public"
    """Schema of the tables; created if missing. ``?schema=`` in the URL."""
    table_prefix: TablePrefix = "praison_kb_"
    """Prefix of the catalogue table and of every collection's table."""
    connect_timeout: Seconds = 10.0
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

    @model_validator(mode="after")
    def _ef_construction_covers_m(self) -> Self:
        if self.hnsw_ef_construction < 2 * self.hnsw_m:
            raise ValueError("hnsw_ef_construction must be at least 2 * hnsw_m (a pgvector rule)")
        return self


class ClickHouseKnowledgeConfig(KnowledgeConfig):
    """ClickHouse through clickhouse-connect: a server over HTTP(S), or the embedded chDB engine.

    Server: ``clickhouse://user:password@host:8123/database`` (``clickhouses://`` or
    ``?secure=true`` for HTTPS, default port 8443). Embedded: ``chdb://`` (in memory),
    ``chdb:///relative/dir`` or ``chdb:////absolute/dir`` (``chdb_path=``).
    """

    backend: ClassVar[str] = "clickhouse"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        local_form("chdb", "chdb_path", empty=":memory:"),
        server_form(
            "clickhouse",
            "clickhouses",
            "http",
            "https",
            username="username",
            implies={
                "clickhouse": {"secure": False},
                "http": {"secure": False},
                "clickhouses": {"secure": True},
                "https": {"secure": True},
            },
            convert={"secure": flag("secure"), "verify": flag("verify")},
            query={
                name: name for name in ("secure", "verify", "table_prefix", "connect_timeout", "send_receive_timeout")
            },
        ),
    )

    praisonai_keywords: ClassVar[tuple[str, ...]] = ("host", "port", "username", "password", "database", "secure")

    host: Text = "127.0.0.1"
    port: Port | None = None
    """HTTP(S) port; default 8123, or 8443 with ``secure``."""
    username: Text = "default"
    password: SecretStr | None = None
    database: Identifier = "default"
    """Database of the tables; created if missing."""
    secure: bool = False
    verify: bool = True
    """With ``secure``: verify the server's TLS certificate."""
    chdb_path: Text | None = Field(default=None, min_length=1)
    """Run the embedded chDB engine on this directory (``:memory:`` for none) instead of a server.
    chDB allows one data directory per process."""
    table_prefix: TablePrefix = "praison_kb_"
    connect_timeout: Seconds = 10.0
    send_receive_timeout: LongSeconds = 300.0

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else (8443 if self.secure else 8123)


class SingleStoreVectorKnowledgeConfig(KnowledgeConfig):
    """SingleStore through singlestoredb (MySQL protocol): one table per collection, exact vector search.

    ``singlestoredb://user:password@host:3306/database`` or the fields.
    """

    backend: ClassVar[str] = "singlestore_vector"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        server_form("singlestoredb", "singlestore", "mysql", drivers=True, query={"table_prefix": "table_prefix"})
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {"embedding_dim": EMBEDDING_DIM}
    praisonai_keywords: ClassVar[tuple[str, ...]] = (*SERVER_KEYWORDS, "table_prefix", "embedding_dim")

    host: HostName = "127.0.0.1"
    port: Port = 3306
    user: Text | None = None
    password: SecretStr | None = None
    database: Identifier
    table_prefix: TablePrefix = "praison_kb_"
    connect_timeout: Seconds = 10.0
