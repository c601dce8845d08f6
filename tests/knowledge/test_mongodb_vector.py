"""mongodb_vector: the knowledge contract suite through pymongo against SecantusDB (a MongoDB
wire-protocol server, in process); only Atlas's ``$vectorSearch`` stage and search-index commands
are answered by a shim (tests/support/hosted_fakes.py) that filters with the server's own ``find``.
Atlas itself (its ANN, its vector-search filter engine) is not exercised."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from praisonai.persistence.errors import ConfigError, UnsupportedFilterError
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import MongoVectorKnowledgeConfig
from praisonai.persistence.knowledge.mongodb_vector import AsyncMongoVectorKnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import AsyncKnowledgeStoreContract, KnowledgeStoreContract
from tests.support.emulators import Service, require_driver, start_mongodb_standin
from tests.support.hosted_checks import check_transfer_extras
from tests.support.hosted_fakes import AsyncMongoSearchShim, MongoSearchShim


@pytest.fixture(scope="module")
def mongodb() -> Iterator[Service]:
    require_driver("pymongo", "mongodb")
    service = start_mongodb_standin()
    yield service
    service.stop()


@pytest.fixture
def database() -> str:
    return f"kb_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def opener(mongodb: Service, database: str) -> Callable[[], KnowledgeStore]:
    indexes: dict[str, dict[str, Any]] = {}

    def open_() -> KnowledgeStore:
        store = KNOWLEDGE_STORES.create("mongodb_atlas", url=mongodb.endpoint, database=database)
        store._db = MongoSearchShim(store._db, indexes)  # type: ignore[attr-defined]
        return store

    return open_


@pytest.fixture
def async_opener(mongodb: Service, database: str) -> Callable[[], AsyncKnowledgeStore]:
    indexes: dict[str, dict[str, Any]] = {}

    def open_() -> AsyncKnowledgeStore:
        store = KNOWLEDGE_STORES.create("async_mongodb_vector", url=mongodb.endpoint, database=database)
        assert isinstance(store, AsyncMongoVectorKnowledgeStore)  # native, not the thread offload
        open_database = store._open_database
        store._open_database = lambda: AsyncMongoSearchShim(open_database(), indexes)  # type: ignore[method-assign]
        return store

    return open_


class TestAsyncMongoVectorContract(AsyncKnowledgeStoreContract):
    unsupported_filter_operators = frozenset({"$gt", "$gte", "$lt", "$lte"})

    @pytest.fixture
    def store(self, async_opener: Callable[[], AsyncKnowledgeStore]) -> AsyncKnowledgeStore:
        return async_opener()

    @pytest.fixture
    def reopen(self, async_opener: Callable[[], AsyncKnowledgeStore]) -> Callable[[], AsyncKnowledgeStore]:
        return async_opener


class TestMongoVectorContract(KnowledgeStoreContract):
    unsupported_filter_operators = frozenset({"$gt", "$gte", "$lt", "$lte"})

    @pytest.fixture
    def store(self, opener: Callable[[], KnowledgeStore]) -> Iterator[KnowledgeStore]:
        store = opener()
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, opener: Callable[[], KnowledgeStore]) -> Callable[[], KnowledgeStore]:
        return opener


def test_vector_search_stage_and_index(opener: Callable[[], KnowledgeStore]) -> None:
    store = opener()
    try:
        store.create_collection("docs", 2, "dot")
        store.insert("docs", [KnowledgeDocument(id="a", embedding=[1.0, 2.0], metadata={"lang": "en"})])
        [hit] = store.search("docs", [1.0, 1.0], limit=3, filters={"lang": {"$nin": ["de"]}})
        assert hit.id == "a" and hit.score == 3.0
        with pytest.raises(UnsupportedFilterError):
            store.search("docs", [1.0, 1.0], filters={"n": {"$lt": 1}})
        shim: MongoSearchShim = store._db  # type: ignore[attr-defined]
        definition = shim.indexes["kb_docs"]["praisonai_vector"]
        assert definition["fields"] == [
            {"type": "vector", "path": "embedding", "numDimensions": 2, "similarity": "dotProduct"},
            {"type": "filter", "path": "ix"},
        ]
        [stage] = shim.stages
        assert stage["numCandidates"] == 60 and stage["limit"] == 3 and set(stage["filter"]) == {"ix"}
    finally:
        store.close()


def test_config_moves_credentials_out_of_the_url() -> None:
    config = MongoVectorKnowledgeConfig.from_options("mongodb+srv://app:mg-secret@cluster0.example.net/rag")
    assert config.url == "mongodb+srv://cluster0.example.net/rag" and config.database == "rag"
    assert config.password is not None and "mg-secret" not in repr(config)
    with pytest.raises(ConfigError):
        MongoVectorKnowledgeConfig.from_options("redis://x")


def test_transfer_extras(opener: Callable[[], KnowledgeStore]) -> None:
    with opener() as store:
        check_transfer_extras(store)
