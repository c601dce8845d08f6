"""upstash: the real upstash-redis client against an HTTP stand-in of the REST API backed by the real Redis.

Tier fake: the stand-in (tests/support/upstash_standin.py) speaks the
protocol the client uses; Upstash's service itself is not exercised.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.support.emulators import require_driver

require_driver("upstash_redis", "upstash")
redis = require_driver("redis", "redis")

from praisonai.persistence.errors import BackendUnavailableError, ConfigError, StoreError  # noqa: E402
from praisonai.persistence.registry import STATE_STORES  # noqa: E402
from praisonai.persistence.state.base import StateStore  # noqa: E402
from praisonai.persistence.state.config import UpstashStateConfig  # noqa: E402
from praisonai.persistence.testing import StateStoreContract  # noqa: E402
from tests.support.upstash_standin import UpstashStandIn  # noqa: E402


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    value = f"test-upstash:{uuid.uuid4().hex}:"
    yield value
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=value + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _open(stand_in: UpstashStandIn, prefix: str) -> StateStore:
    return STATE_STORES.create("upstash", url=stand_in.url, token=stand_in.token, key_prefix=prefix, retries=0)


class TestUpstashContract(StateStoreContract):
    @pytest.fixture
    def store(self, upstash_standin: UpstashStandIn, prefix: str) -> Iterator[StateStore]:
        store = _open(upstash_standin, prefix)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, upstash_standin: UpstashStandIn, prefix: str) -> Callable[[], StateStore]:
        return lambda: _open(upstash_standin, prefix)


def test_config_needs_a_rest_url_and_keeps_the_token_secret() -> None:
    config = UpstashStateConfig.from_options("https://eu1-x.upstash.io/", {"token": "AXsecret"})
    assert config.url == "https://eu1-x.upstash.io"
    assert "AXsecret" not in repr(config)
    with pytest.raises(ConfigError, match="token"):
        UpstashStateConfig.from_options("https://eu1-x.upstash.io")
    with pytest.raises(ConfigError, match="scheme"):
        UpstashStateConfig.from_options("redis://eu1-x.upstash.io", {"token": "t"})
    with pytest.raises(ConfigError) as caught:
        UpstashStateConfig.from_options("https://:AXsecret@eu1-x.upstash.io", {"token": "t"})
    assert "AXsecret" not in str(caught.value)


def test_batches_are_one_request_each_and_keys_scans(upstash_standin: UpstashStandIn, prefix: str) -> None:
    with _open(upstash_standin, prefix) as store:
        start = len(upstash_standin.requests)
        store.set_many({f"k{index}": index for index in range(30)}, ttl=60)
        assert store.get_many([f"k{index}" for index in range(30)]) == {f"k{index}": index for index in range(30)}
        paths = [path for path, _ in upstash_standin.requests[start:]]
        assert paths == ["/multi-exec", "/pipeline"]
        start = len(upstash_standin.requests)
        assert store.keys("k1*") == ["k1", *(f"k{index}" for index in range(10, 20))]
        commands = [body[0].upper() for _, body in upstash_standin.requests[start:]]
        assert commands and set(commands) == {"SCAN"}


def test_wrong_token_is_an_error_without_the_token(upstash_standin: UpstashStandIn, prefix: str) -> None:
    store = STATE_STORES.create("upstash", url=upstash_standin.url, token="not-the-token", key_prefix=prefix, retries=0)
    with pytest.raises(StoreError) as caught:
        store.set("k", 1)
    assert "not-the-token" not in str(caught.value)
    store.close()


def test_unreachable_endpoint_raises_backend_unavailable() -> None:
    store = STATE_STORES.create("upstash", url="http://127.0.0.1:1", token="t", retries=0)
    with pytest.raises(BackendUnavailableError):
        store.get("k")
    store.close()
