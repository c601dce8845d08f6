"""upstash_vector: the knowledge contract suite with the real upstash-vector client against an HTTP
stand-in of the Upstash Vector REST API (tests/support/upstash_vector_standin.py), the async suite with its
AsyncIndex against the same stand-in, plus the filter syntax and the fixed index shape. Upstash itself is
not exercised."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from praisonai.persistence.errors import ConfigError, InvalidInputError
from praisonai.persistence.knowledge._filters.native import lower
from praisonai.persistence.knowledge._layers.records import value_token
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, Distance, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import UpstashVectorKnowledgeConfig
from praisonai.persistence.knowledge.filters import parse_filter
from praisonai.persistence.knowledge.upstash_vector import AsyncUpstashVectorKnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import AsyncKnowledgeStoreContract, KnowledgeStoreContract
from praisonai.persistence.testing.async_knowledge import BlockingKnowledgeStore, _blocking_test
from tests.support.emulators import require_driver
from tests.support.hosted_checks import check_transfer_extras
from tests.support.upstash_vector_standin import UpstashVectorStandIn
from tests.support.upstash_vector_standin import parse_filter as parse_upstash


@pytest.fixture
def standin() -> Iterator[UpstashVectorStandIn]:
    require_driver("upstash_vector", "upstash-vector")
    server = UpstashVectorStandIn(dimension=8, function="COSINE")
    yield server
    server.stop()


def _open(server: UpstashVectorStandIn) -> KnowledgeStore:
    return KNOWLEDGE_STORES.create("upstash_v", url=server.url, token=server.token)


class TestUpstashVectorContract(KnowledgeStoreContract):
    supported_distances = ("cosine",)  # the stand-in index is COSINE, as an index is created with one function

    @pytest.fixture
    def store(self, standin: UpstashVectorStandIn) -> Iterator[KnowledgeStore]:
        store = _open(standin)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, standin: UpstashVectorStandIn) -> Callable[[], KnowledgeStore]:
        return lambda: _open(standin)

    def test_collection_lifecycle(self, store: KnowledgeStore) -> None:
        # The contract's version makes a 16-dimensional collection; one index has one dimension.
        store.create_collection("first", 8)
        store.create_collection("second", 8, metadata={"purpose": "test", "n": [1, 2]})
        assert store.list_collections() == ["first", "second"]
        assert store.collection_exists("second") and not store.collection_exists("third")
        assert store.delete_collection("first") is True and store.delete_collection("first") is False
        assert store.list_collections() == ["second"]

    # The next tests need other index shapes: each runs the contract's own check on an index
    # of that shape (an Upstash index per dimension and similarity function, as in production).

    @contextmanager
    def _shaped(self, dimension: int, function: str) -> Iterator[KnowledgeStore]:
        server = UpstashVectorStandIn(dimension=dimension, function=function)
        store = _open(server)
        try:
            yield store
        finally:
            store.close()
            server.stop()

    def test_document_round_trip(self, store: KnowledgeStore) -> None:
        with self._shaped(12, "COSINE") as other:
            super().test_document_round_trip(other)

    @pytest.mark.parametrize("distance", ["cosine", "dot", "euclidean"])
    def test_search_scores_match_the_reference(self, store: KnowledgeStore, distance: Distance) -> None:
        with self._shaped(12, _FUNCTION[distance]) as other:
            type(self).supported_distances = (distance,)
            try:
                super().test_search_scores_match_the_reference(other, distance)
            finally:
                type(self).supported_distances = ("cosine",)

    @pytest.mark.parametrize("distance", ["cosine", "dot", "euclidean"])
    def test_score_threshold_keeps_scores_at_or_above_it(self, store: KnowledgeStore, distance: Distance) -> None:
        with self._shaped(8, _FUNCTION[distance]) as other:
            type(self).supported_distances = (distance,)
            try:
                super().test_score_threshold_keeps_scores_at_or_above_it(other, distance)
            finally:
                type(self).supported_distances = ("cosine",)


_FUNCTION = {"cosine": "COSINE", "dot": "DOT_PRODUCT", "euclidean": "EUCLIDEAN"}


def _open_async(server: UpstashVectorStandIn) -> AsyncKnowledgeStore:
    store = KNOWLEDGE_STORES.create("async_upstash_vector", url=server.url, token=server.token)
    assert isinstance(store, AsyncUpstashVectorKnowledgeStore)  # native, not the thread offload
    return store


class TestAsyncUpstashVectorContract(AsyncKnowledgeStoreContract, TestUpstashVectorContract):
    """The async suite, with the sync class's tests of other index shapes run through the async store."""

    @pytest.fixture
    def store(self, standin: UpstashVectorStandIn) -> AsyncKnowledgeStore:  # type: ignore[override]
        return _open_async(standin)

    @pytest.fixture
    def reopen(self, standin: UpstashVectorStandIn) -> Callable[[], AsyncKnowledgeStore]:  # type: ignore[override]
        return lambda: _open_async(standin)

    @contextmanager
    def _shaped(self, dimension: int, function: str) -> Iterator[KnowledgeStore]:
        server = UpstashVectorStandIn(dimension=dimension, function=function)
        loop = asyncio.new_event_loop()
        store = BlockingKnowledgeStore(_open_async(server), loop)
        try:
            yield store
        finally:
            store.close()
            loop.close()
            server.stop()


for _name in (
    "test_collection_lifecycle",
    "test_document_round_trip",
    "test_search_scores_match_the_reference",
    "test_score_threshold_keeps_scores_at_or_above_it",
):
    setattr(TestAsyncUpstashVectorContract, _name, _blocking_test(getattr(TestUpstashVectorContract, _name)))


def test_collections_must_use_the_index_shape(standin: UpstashVectorStandIn) -> None:
    with _open(standin) as store:
        with pytest.raises(InvalidInputError, match="dimension 8"):
            store.create_collection("wide", 16)
        with pytest.raises(InvalidInputError):
            store.create_collection("dots", 8, "dot")
        assert store.list_collections() == []


def test_requests_carry_the_token_and_namespaces(standin: UpstashVectorStandIn) -> None:
    with _open(standin) as store:
        store.create_collection("c1", 8)
        store.insert("c1", [KnowledgeDocument(id="a", embedding=[1.0] * 8, metadata={"lang": "en"})])
        store.search("c1", [1.0] * 8, filters={"lang": "en"})
    paths = [path for path, _ in standin.requests]
    assert "/upsert/praison-c1" in paths and "/query/praison-c1" in paths
    [query] = [body for path, body in standin.requests if path == "/query/praison-c1"]
    assert query["filter"] == f"ix CONTAINS '{value_token('lang', 'string', 'en')}'"
    bad = KNOWLEDGE_STORES.create("upstash_vector", url=standin.url, token="wrong")
    with pytest.raises(Exception, match="Unauthorized"):
        bad.list_collections()
    bad.close()


def test_filter_text_has_no_caller_text_and_parses() -> None:
    from praisonai.persistence.knowledge.upstash_vector import render_filter

    hostile = "x' OR 1=1 --"
    node = lower(
        parse_filter({"$or": [{hostile: hostile}, {"n": {"$gt": 1e-10, "$lte": 2**60}}, {"s": {"$gt": "b"}}]}),
        chunk_limit=16,
    )
    text = render_filter(node)
    assert hostile not in text and "e-" not in text
    assert "n.f6e > 0.0000000001" in text and "n.f6e <= 1152921504606846976" in text
    parse_upstash(text)  # the stand-in's parser of the documented syntax accepts it


def test_url_forms_and_secret_masking() -> None:
    config = UpstashVectorKnowledgeConfig.from_options("upstash-vector://:tok-secret@idx-us1-vector.upstash.io")
    assert config.url == "https://idx-us1-vector.upstash.io" and config.token.get_secret_value() == "tok-secret"
    assert "tok-secret" not in repr(config)
    with pytest.raises(ConfigError):
        UpstashVectorKnowledgeConfig.from_options(None, {"url": "ftp://x", "token": "t"})


def test_transfer_extras(standin: UpstashVectorStandIn) -> None:
    with _open(standin) as store:
        check_transfer_extras(store)
