"""pinecone: the knowledge contract suite through the real ``pinecone`` SDK against an HTTP stand-in of
Pinecone's REST API (tests/support/pinecone_standin.py: control plane and one data-plane host per index,
Pinecone's error bodies), the async suite through the SDK's asyncio client against the same stand-in,
plus URL parsing, secret masking, error mapping and the filter translation
checked against Pinecone's documented filter syntax. Pinecone itself (its ANN, freshness, limits) is not
exercised."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from praisonai.persistence.errors import BackendUnavailableError, ConfigError, InvalidInputError, StoreError
from praisonai.persistence.knowledge import pinecone as pinecone_module
from praisonai.persistence.knowledge._filters.native import lower
from praisonai.persistence.knowledge._layers.records import kind_token, value_token
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import PineconeKnowledgeConfig
from praisonai.persistence.knowledge.filters import parse_filter
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import AsyncKnowledgeStoreContract, KnowledgeStoreContract
from tests.support.emulators import require_driver
from tests.support.hosted_checks import check_transfer_extras
from tests.support.pinecone_standin import PineconeStandIn


@pytest.fixture
def project() -> Iterator[PineconeStandIn]:
    require_driver("pinecone", "pinecone")
    stand_in = PineconeStandIn(api_key="pc-secret-key")
    yield stand_in
    stand_in.stop()


def _opener(project: PineconeStandIn, key: str = "pc-secret-key") -> Callable[[], KnowledgeStore]:
    address = project.url.removeprefix("http://")
    return lambda: KNOWLEDGE_STORES.create("pinecone", url=f"pinecone://:{key}@{address}")


class TestPineconeContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, project: PineconeStandIn) -> Iterator[KnowledgeStore]:
        store = _opener(project)()
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, project: PineconeStandIn) -> Callable[[], KnowledgeStore]:
        return _opener(project)


def _async_opener(project: PineconeStandIn) -> Callable[[], AsyncKnowledgeStore]:
    address = project.url.removeprefix("http://")
    return lambda: KNOWLEDGE_STORES.create("async_pinecone", url=f"pinecone://:pc-secret-key@{address}")


@pytest.fixture(scope="class")
def shared_project() -> Iterator[PineconeStandIn]:
    """One stand-in for a whole contract class (its tests use collections of their own): no stop per test."""
    require_driver("pinecone", "pinecone")
    stand_in = PineconeStandIn(api_key="pc-secret-key")
    yield stand_in
    stand_in.stop()


class TestAsyncPineconeContract(AsyncKnowledgeStoreContract):
    @pytest.fixture
    def store(self, shared_project: PineconeStandIn) -> AsyncKnowledgeStore:
        store = _async_opener(shared_project)()
        assert isinstance(store, pinecone_module.AsyncPineconeKnowledgeStore)  # native, not the thread offload
        return store

    @pytest.fixture
    def reopen(self, shared_project: PineconeStandIn) -> Callable[[], AsyncKnowledgeStore]:
        return _async_opener(shared_project)


def test_layout_is_one_tagged_index_per_collection(project: PineconeStandIn) -> None:
    with _opener(project)() as store:
        store.create_collection("Docs_1", 3, "dot", metadata={"owner": "x"})
        store.insert("Docs_1", [KnowledgeDocument(id="a", embedding=[1.0, 2.0, 3.0], metadata={"lang": "en"})])
        [(name, index)] = project.indexes.items()
        assert name.startswith("praison-") and len(name) == len("praison-") + 24
        assert index.metric == "dotproduct" and index.tags == {"praisonai_collection": "Docs_1"}
        stored = index.namespaces["documents"]["a"]["metadata"]
        assert kind_token("lang", "string") in stored["ix"] and value_token("lang", "string", "en") in stored["ix"]
        assert "null" not in repr([v for v in stored.values() if v is None])
    # The SDK spoke Pinecone's REST API: the control plane, then the index's own data-plane host.
    paths = [path for _, path in project.requests]
    assert "/indexes" in paths and "/vectors/upsert" in paths and "/vectors/fetch" in paths


def test_service_errors_map_to_the_error_tree(project: PineconeStandIn) -> None:
    with _opener(project, key="wrong-key")() as store, pytest.raises(StoreError) as refused:
        store.collection_exists("docs")
    assert refused.value.backend == "pinecone" and "wrong-key" not in str(refused.value)
    with _opener(project)() as store:
        store.create_collection("docs", 2, "cosine")
        with pytest.raises(InvalidInputError):  # Pinecone refuses all-zero vectors on cosine indexes
            store.insert("docs", [KnowledgeDocument(id="z", embedding=[0.0, 0.0])])
        with pytest.raises(InvalidInputError):  # more than 40 KB of metadata in one record
            store.insert("docs", [KnowledgeDocument(id="big", embedding=[1.0, 0.0], metadata={"t": "x" * 50_000})])
        assert store.count("docs") == 0
    project.stop()
    with _opener(project)() as store, pytest.raises(BackendUnavailableError):
        store.collection_exists("docs")


def test_filter_translation_uses_pinecone_operators() -> None:
    node = lower(parse_filter({"lang": "en", "year": {"$gte": 2020}, "tag": {"$ne": None}}), chunk_limit=16)
    rendered = pinecone_module.PineconeKnowledgeStore._filter(node)
    year = "f" + b"year".hex()
    assert rendered == {
        "$and": [
            {"ix": {"$in": [value_token("lang", "string", "en")]}},
            {f"n_{year}": {"$gte": 2020}},
            {"ix": {"$nin": [kind_token("tag", "null")]}},
        ]
    }


def test_url_forms_and_secret_masking() -> None:
    config = PineconeKnowledgeConfig.from_options("pinecone://:pc-secret@localhost:5080?region=eu-west-1")
    assert config.host == "http://localhost:5080" and config.region == "eu-west-1"
    assert config.api_key.get_secret_value() == "pc-secret"
    assert "pc-secret" not in repr(config)
    with pytest.raises(ConfigError):
        PineconeKnowledgeConfig.from_options("pinecone://localhost")  # no api key
    with pytest.raises(ConfigError):
        PineconeKnowledgeConfig.from_options(None, {"api_key": "k", "index_prefix": "Bad_Prefix"})


def test_transfer_extras(project: PineconeStandIn) -> None:
    with _opener(project)() as store:
        check_transfer_extras(store, "dot")
