"""Redis state store.

Engine: Redis (any server speaking RESP: Redis, Valkey, KeyDB, Dragonfly).
Driver: redis-py (``pip install "praisonai-persistence[redis]"``), one
connection pool per store.
URL forms: ``redis://[user[:password]@]host[:port][/db]``, ``rediss://...``
(TLS), ``unix:///path/to/redis.sock[?db=N]``; or the fields of
:class:`~praisonai.persistence.state.config.RedisStateConfig`.
Test tier: server (the real Redis server on loopback).

Keys are stored under ``key_prefix`` (default ``praisonai:state:``); the
semantics live in ``_redis_commands``. ``get_many`` is one pipelined round
trip, ``set_many`` one MULTI/EXEC transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from .._config import secret_value
from ..errors import BackendUnavailableError
from ._redis_commands import SCAN_COUNT, RedisCommandsStateStore
from .config import RedisStateConfig

if TYPE_CHECKING:
    import redis

__all__ = ["RedisStateStore"]


class RedisStateStore(RedisCommandsStateStore):
    """State in Redis strings and hashes, with Redis's own TTLs."""

    backend = "redis"

    def __init__(self, config: RedisStateConfig) -> None:
        self.config = config
        driver = self._import_driver("redis")
        self._errors = driver.exceptions
        common: dict[str, Any] = {
            "db": config.db,
            "username": config.username,
            "password": secret_value(config.password),
            "socket_timeout": config.socket_timeout,
            "socket_connect_timeout": config.socket_connect_timeout,
            "decode_responses": True,
            "encoding": "utf-8",
        }
        # With a size limit, a thread waits for a free connection instead of failing.
        pool_class = driver.ConnectionPool
        if config.max_connections is not None:
            pool_class = driver.BlockingConnectionPool
            common["max_connections"] = config.max_connections
            common["timeout"] = config.socket_timeout
        if config.unix_socket_path is not None:
            pool = pool_class(
                connection_class=driver.UnixDomainSocketConnection, path=config.unix_socket_path, **common
            )
        else:
            extra: dict[str, Any] = {}
            if config.ssl:
                extra["connection_class"] = driver.SSLConnection
                if config.ssl_ca_certs is not None:
                    extra["ssl_ca_certs"] = config.ssl_ca_certs
            pool = pool_class(host=config.host, port=config.port, **common, **extra)
        self._pool = pool
        self._redis: redis.Redis = driver.Redis(connection_pool=pool)
        super().__init__(config.key_prefix)

    @property
    def _client(self) -> redis.Redis:
        return self._redis

    def _translate_error(self, error: Exception) -> Exception | None:
        errors = self._errors
        if isinstance(error, (errors.ConnectionError, errors.TimeoutError)):
            where = self.config.unix_socket_path or f"{self.config.host}:{self.config.port}"
            return BackendUnavailableError(f"cannot reach Redis at {where}: {error}")
        if isinstance(error, errors.ResponseError):
            return self._wrong_type(str(error))
        return None

    def _get_pipelined(self, keys: list[str]) -> list[str | None]:
        with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
            replies: list[Any] = pipe.execute(raise_on_error=False)
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    def _set_atomically(self, items: list[tuple[str, str]], px: int | None) -> None:
        with self._redis.pipeline(transaction=True) as pipe:
            for key, text in items:
                pipe.set(key, text, px=px)
            pipe.execute()

    def _scan_page(self, cursor: int, match: str) -> tuple[int, list[str]]:
        next_cursor, page = self._redis.scan(cursor, match=match, count=SCAN_COUNT)
        return int(next_cursor), cast("list[str]", page)  # decode_responses=True

    def _shutdown(self) -> None:
        self._redis.close()
        self._pool.disconnect()

    def __repr__(self) -> str:
        where = self.config.unix_socket_path or f"{self.config.host}:{self.config.port}/{self.config.db}"
        return f"RedisStateStore({where}, key_prefix={self.config.key_prefix!r})"
