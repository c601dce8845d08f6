"""Upstash Redis state store, over Upstash's REST API.

Engine: Upstash Redis (serverless Redis reached over HTTPS).
Driver: upstash-redis (``pip install "praisonai-persistence[upstash]"``).
URL form: the database's REST URL, ``https://<name>.upstash.io``, with
``token=`` (UPSTASH_REDIS_REST_TOKEN).
Test tier: fake. The tests run the real upstash-redis client against
``tests/support/upstash_standin.py``, an HTTP stand-in of the Upstash REST
protocol that executes each command on the real local Redis server; Upstash's
own service is not exercised.

The same Redis commands as the ``redis`` backend (``_redis_commands``):
``get_many`` is one ``/pipeline`` request, ``set_many`` one ``/multi-exec``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import BackendUnavailableError
from ._redis_commands import SCAN_COUNT, RedisCommandsStateStore
from .config import UpstashStateConfig

if TYPE_CHECKING:
    import upstash_redis

__all__ = ["UpstashStateStore"]


class UpstashStateStore(RedisCommandsStateStore):
    """State in Upstash Redis, through its REST API."""

    backend = "upstash"

    def __init__(self, config: UpstashStateConfig) -> None:
        self.config = config
        driver = self._import_driver("upstash_redis")
        self._httpx = self._import_driver("httpx")
        self._upstash_error = self._import_driver("upstash_redis.errors").UpstashError
        self._redis: upstash_redis.Redis = driver.Redis(
            url=config.url,
            token=config.token.get_secret_value(),
            rest_retries=config.retries,
            rest_retry_interval=config.retry_interval,
            allow_telemetry=config.allow_telemetry,
            read_your_writes=config.read_your_writes,
        )
        super().__init__(config.key_prefix)

    @property
    def _client(self) -> upstash_redis.Redis:
        return self._redis

    def _translate_error(self, error: Exception) -> Exception | None:
        if isinstance(error, self._httpx.TransportError):
            return BackendUnavailableError(
                f"cannot reach Upstash at {self.config.url}: {type(error).__name__}: {error}"
            )
        if isinstance(error, self._upstash_error):
            return self._wrong_type(str(error))
        return None

    def _get_pipelined(self, keys: list[str]) -> list[str | None]:
        pipe = self._redis.pipeline()
        for key in keys:
            pipe.get(key)
        replies: list[Any] = pipe.exec()  # raises on the first error reply
        return replies

    def _set_atomically(self, items: list[tuple[str, str]], px: int | None) -> None:
        transaction = self._redis.multi()
        for key, text in items:
            transaction.set(key, text, px=px)
        transaction.exec()

    def _scan_page(self, cursor: int, match: str) -> tuple[int, list[str]]:
        next_cursor, page = self._redis.scan(cursor, match=match, count=SCAN_COUNT)
        return int(next_cursor), list(page)

    def _shutdown(self) -> None:
        self._redis.close()  # type: ignore[no-untyped-call]

    def __repr__(self) -> str:
        return f"UpstashStateStore({self.config.url}, key_prefix={self.config.key_prefix!r})"
