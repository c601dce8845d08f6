"""valkey (knowledge; alias valkey_vector): the knowledge contract on Redis Stack 7.4 (RediSearch) started on
a loopback port. valkey-search's FT.* commands follow RediSearch's; no Valkey server is exercised."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import ValkeyVectorKnowledgeConfig
from praisonai.persistence.knowledge.redis import RedisVectorKnowledgeStore
from praisonai.persistence.knowledge.valkey_vector import AsyncValkeyVectorKnowledgeStore, ValkeyVectorKnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract
from tests.support.vector_servers import VectorServer


def _prefix(request: pytest.FixtureRequest) -> str:
    return f"valkeytest:{abs(hash(request.node.nodeid)):x}"


def _valkey_url(server: VectorServer) -> str:
    return server.url.replace("redis://", "valkey://", 1)


class TestValkeyVectorContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, redis_stack: VectorServer, request: pytest.FixtureRequest) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("valkey_vector", url=_valkey_url(redis_stack), key_prefix=_prefix(request))
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, redis_stack: VectorServer, request: pytest.FixtureRequest) -> Callable[[], KnowledgeStore]:
        prefix = _prefix(request)
        return lambda: KNOWLEDGE_STORES.create("valkey", url=_valkey_url(redis_stack), key_prefix=prefix)


def test_valkey_url_schemes() -> None:
    config = ValkeyVectorKnowledgeConfig.from_options("valkeys://cache.example:6390/1?key_prefix=my:kb")
    assert (config.host, config.port, config.db, config.ssl, config.key_prefix) == (
        "cache.example",
        6390,
        1,
        True,
        "my:kb",
    )


def test_praisonai_class_reads_what_the_redis_backend_wrote(
    redis_stack: VectorServer, request: pytest.FixtureRequest
) -> None:
    prefix = _prefix(request)
    writer = RedisVectorKnowledgeStore(url=redis_stack.url, key_prefix=prefix)
    reader = ValkeyVectorKnowledgeStore(url=_valkey_url(redis_stack), key_prefix=prefix)
    try:
        writer.create_collection("docs", dimension=2)
        writer.insert("docs", [KnowledgeDocument(id="a", content="x", embedding=[1.0, 0.0], metadata={"k": 1})])
        assert reader.backend == "valkey" and reader.list_collections() == ["docs"]
        [found] = reader.get("docs", ["a"])
        assert (found.content, found.metadata) == ("x", {"k": 1})
    finally:
        writer.delete_collection("docs")
        writer.close()
        reader.close()


def test_async_valkey_is_the_native_async_redis_store_on_the_same_data(
    redis_stack: VectorServer, request: pytest.FixtureRequest
) -> None:
    """async_valkey is async_redis's class (whose contract suite runs in test_redis.py) under Valkey's name."""
    prefix = _prefix(request)
    writer = ValkeyVectorKnowledgeStore(url=_valkey_url(redis_stack), key_prefix=prefix)
    store = KNOWLEDGE_STORES.create("valkey_async", url=_valkey_url(redis_stack), key_prefix=prefix)
    assert isinstance(store, AsyncValkeyVectorKnowledgeStore) and store.backend == "async_valkey"
    writer.create_collection("docs", dimension=2)
    writer.insert("docs", [KnowledgeDocument(id="a", content="x", embedding=[1.0, 0.0], metadata={"k": 1})])

    async def read() -> list[KnowledgeDocument]:
        return await store.search("docs", [1.0, 0.0], filters={"k": 1})

    async def write_and_close() -> None:
        await store.insert("docs", [KnowledgeDocument(id="b", content="y", embedding=[0.0, 1.0])])
        await store.close()

    try:
        assert [(found.id, found.metadata) for found in asyncio.run(read())] == [("a", {"k": 1})]
        asyncio.run(write_and_close())  # a second event loop
        assert writer.count("docs") == 2
    finally:
        writer.delete_collection("docs")
        writer.close()
