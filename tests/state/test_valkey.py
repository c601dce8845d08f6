"""valkey (state): the state contract on the Redis server on loopback (Valkey speaks Redis's protocol and
commands; no Valkey server is exercised), plus Valkey's URL schemes and PraisonAI's class and keywords."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.emulators import require_driver

redis = require_driver("redis", "redis")

from praisonai.persistence.registry import STATE_STORES  # noqa: E402
from praisonai.persistence.state.base import StateStore  # noqa: E402
from praisonai.persistence.state.config import ValkeyStateConfig  # noqa: E402
from praisonai.persistence.state.redis import RedisStateStore  # noqa: E402
from praisonai.persistence.state.valkey import ValkeyStateStore  # noqa: E402
from praisonai.persistence.testing import StateStoreContract  # noqa: E402
from praisonai.persistence.url import URL  # noqa: E402
from tests.state import test_redis  # noqa: E402

prefix = test_redis.prefix  # the fixture: a fresh key prefix, its keys dropped after the test


def _valkey_url(redis_url: str) -> str:
    parsed = URL.parse(redis_url)
    return f"valkey://{parsed.host}:{parsed.port or 6379}/{parsed.database or 0}"


class TestValkeyContract(StateStoreContract):
    @pytest.fixture
    def store(self, redis_url: str, prefix: str) -> Iterator[StateStore]:
        store = STATE_STORES.create("valkey", url=_valkey_url(redis_url), key_prefix=prefix)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, redis_url: str, prefix: str) -> Callable[[], StateStore]:
        return lambda: STATE_STORES.create("valkey", url=_valkey_url(redis_url), key_prefix=prefix)


def test_valkey_url_schemes() -> None:
    plain = ValkeyStateConfig.from_options("valkey://cache.example:6380/2")
    assert (plain.host, plain.port, plain.db, plain.ssl) == ("cache.example", 6380, 2, False)
    assert ValkeyStateConfig.from_options("valkeys://cache.example").ssl is True
    assert ValkeyStateConfig.from_options("redis://cache.example").host == "cache.example"


def test_praisonai_class_from_keywords_shares_data_with_redis(redis_url: str, prefix: str) -> None:
    parsed = URL.parse(redis_url)
    valkey = ValkeyStateStore(host=parsed.host, port=parsed.port or 6379, key_prefix=prefix)
    redis_store = RedisStateStore(url=redis_url, key_prefix=prefix)
    try:
        assert isinstance(valkey, StateStore) and valkey.backend == "valkey"
        valkey.set("k", {"n": 1})
        assert redis_store.get("k") == {"n": 1}  # the same server, the same encoding
    finally:
        valkey.close()
        redis_store.close()
