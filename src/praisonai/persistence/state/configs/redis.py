"""State configs of Redis: redis (redis-py) and upstash (Upstash Redis over REST)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, SecretStr

from ..._fields import KeyPrefix, Port
from ..._keywords import Ignored, Keyword
from ..._urlform import UrlForm, UrlSpec, number, redis_form
from ...url import URL
from . import StateConfig

__all__ = ["RedisStateConfig", "UpstashStateConfig"]

_DB = number("db", "a database number")


def _socket_path(parsed: URL, fields: dict[str, Any]) -> None:
    if not parsed.database:
        raise ValueError("unix:// needs a socket path, as in unix:///run/redis/redis.sock?db=0")
    fields["unix_socket_path"] = "/" + parsed.database


class RedisStateConfig(StateConfig):
    """Redis through redis-py: a URL (``redis://``, ``rediss://``, ``unix://``) or the fields."""

    backend: ClassVar[str] = "redis"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        redis_form({"db": "db"}),
        UrlForm(
            schemes=("unix",),
            username="username",
            credential="password",
            convert={"db": _DB},
            query={"db": "db"},
            hook=_socket_path,
        ),
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {
        "prefix": "key_prefix",
        "decode_responses": Ignored("values are JSON, returned decoded whatever the connection's setting"),
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = (
        "url",
        "host",
        "port",
        "db",
        "password",
        "prefix",
        "decode_responses",
        "socket_timeout",
        "max_connections",
    )

    host: str = "127.0.0.1"
    port: Port = 6379
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


def _without_trailing_slash(parsed: URL, fields: dict[str, Any]) -> None:
    fields["url"] = fields["url"].rstrip("/")


class UpstashStateConfig(StateConfig):
    """Upstash Redis over its REST API (upstash-redis): the REST URL and token from the console."""

    backend: ClassVar[str] = "upstash"
    url_spec: ClassVar[UrlSpec | None] = UrlSpec(
        UrlForm(
            schemes=("https", "http"),
            text="url",
            credentials="put the REST token in token=, not in the URL",
            hook=_without_trailing_slash,
        )
    )
    keyword_aliases: ClassVar[dict[str, Keyword]] = {"prefix": "key_prefix"}
    # PraisonAI's names first, then the console's.
    env_defaults: ClassVar[dict[str, tuple[str, ...]]] = {
        "url": ("UPSTASH_REDIS_URL", "UPSTASH_REDIS_REST_URL"),
        "token": ("UPSTASH_REDIS_TOKEN", "UPSTASH_REDIS_REST_TOKEN"),
    }
    praisonai_keywords: ClassVar[tuple[str, ...]] = ("url", "token", "prefix")

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
