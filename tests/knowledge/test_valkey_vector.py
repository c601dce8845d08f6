"""valkey (knowledge; alias valkey_vector): the knowledge contract on Redis Stack 7.4 (RediSearch) started on
a loopback port. valkey-search's FT.* commands follow RediSearch's; no Valkey server is exercised."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import ValkeyVectorKnowledgeConfig
from praisonai.persistence.knowledge.redis import RedisVectorKnowledgeStore
from praisonai.persistence.knowledge.valkey_vector import ValkeyVectorKnowledgeStore
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
