"""The shared layer of the hosted vector backends (knowledge/_hosted.py) on top of KnowledgeStoreBase:
the cases the contract suite does not reach, run on three engines whose deletes and drops take different
paths: Pinecone's REST stand-in (driven by the pinecone SDK), the client-level fake of Couchbase
(tests/support/hosted_fakes.py) and the Cosmos DB reimplementation @vercel/cosmosdb-server (driven by
azure-cosmos; tests/support/cosmosdb_emulator.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from praisonai.persistence.errors import BackendUnavailableError, InvalidInputError, UnsupportedFilterError
from praisonai.persistence.knowledge._layers.hosted_store import HostedVectorStore, Settings
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from tests.support.cosmosdb_emulator import cosmosdb_certificate, drop_cosmosdb_database, open_cosmosdb
from tests.support.emulators import require_driver
from tests.support.hosted_fakes import FakeCouchbaseCluster
from tests.support.pinecone_standin import PineconeStandIn

# azure-cosmos does not check the certificate of 127.0.0.1 (local emulators), and urllib3 warns each time.
pytestmark = pytest.mark.filterwarnings("ignore:Unverified HTTPS request:urllib3.exceptions.InsecureRequestWarning")

Opener = Callable[[], KnowledgeStore]


def _pinecone(request: pytest.FixtureRequest) -> Opener:
    require_driver("pinecone", "pinecone")
    stand_in = PineconeStandIn(api_key="pc-secret")
    _STAND_INS.append(stand_in)
    address = stand_in.url.removeprefix("http://")
    return lambda: KNOWLEDGE_STORES.create("pinecone", url=f"pinecone://:pc-secret@{address}")


def _couchbase(request: pytest.FixtureRequest) -> Opener:
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setattr(require_driver("couchbase.cluster", "couchbase"), "Cluster", FakeCouchbaseCluster())
    return lambda: KNOWLEDGE_STORES.create("couchbase", url="couchbase://admin:cb-secret@127.0.0.1/vectors")


def _cosmosdb(request: pytest.FixtureRequest) -> Opener:
    server = request.getfixturevalue("cosmosdb_server")
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("SSL_CERT_FILE", str(cosmosdb_certificate(server)))  # see tests/knowledge/test_cosmosdb.py
    database = f"kb_{uuid.uuid4().hex[:12]}"
    request.addfinalizer(lambda: drop_cosmosdb_database(server, database))
    return lambda: open_cosmosdb(server, database)


_STAND_INS: list[PineconeStandIn] = []


@pytest.fixture(params=[_pinecone, _couchbase, _cosmosdb], ids=["pinecone", "couchbase", "cosmosdb"])
def opener(request: pytest.FixtureRequest) -> Iterator[Opener]:
    make: Callable[[pytest.FixtureRequest], Opener] = request.param
    yield make(request)
    while _STAND_INS:
        _STAND_INS.pop().stop()


@pytest.fixture
def store(opener: Opener) -> Iterator[KnowledgeStore]:
    store = opener()
    store.create_collection("docs", 2)
    store.insert(
        "docs",
        [
            KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"tag": "x"}),
            KnowledgeDocument(id="b", embedding=[0.0, 1.0], metadata={"tag": "y"}),
            KnowledgeDocument(id="c", embedding=[1.0, 1.0]),
        ],
    )
    yield store
    store.close()


def test_a_filter_every_document_matches_deletes_them_all(store: KnowledgeStore) -> None:
    # {"$nin": []} excludes nothing: it lowers to "always", with no ids to narrow it.
    assert store.delete("docs", filters={"tag": {"$nin": []}}) == 3
    assert store.count("docs") == 0


def test_a_filter_every_document_matches_with_ids_deletes_those_ids(store: KnowledgeStore) -> None:
    assert store.delete("docs", ids=["a", "c", "missing"], filters={"$or": [{"tag": {"$nin": []}}, {"tag": "x"}]}) == 2
    assert [document.id for document in store.get("docs", ["a", "b", "c"])] == ["b"]


def test_a_filter_no_document_matches_deletes_nothing(store: KnowledgeStore) -> None:
    assert store.delete("docs", filters={"tag": {"$in": []}}) == 0
    assert store.count("docs") == 3


def test_get_answers_each_id_once_in_the_order_asked(store: KnowledgeStore) -> None:
    found = store.get("docs", ["c", "a", "c", "missing", "a"])
    assert [document.id for document in found] == ["c", "a"]


def test_filters_are_checked_before_the_collection_is_looked_up(store: KnowledgeStore) -> None:
    with pytest.raises(InvalidInputError, match=r"\$bad"):
        store.search("missing", [1.0, 0.0], filters={"tag": {"$bad": 1}})
    with pytest.raises(InvalidInputError, match="batch_size"):
        next(iter(store.iter_documents("docs", batch_size=0)))


def test_scores_are_exact_and_best_first(store: KnowledgeStore) -> None:
    hits = store.search("docs", [1.0, 0.0], limit=3)
    assert [hit.id for hit in hits] == ["a", "c", "b"]
    assert [hit.score for hit in hits] == pytest.approx([1.0, 2**-0.5, 0.0])


@pytest.mark.parametrize("make", [_couchbase, _cosmosdb], ids=["couchbase", "cosmosdb"])  # their drops say so
def test_delete_collection_says_false_when_another_client_dropped_it_meanwhile(
    make: Callable[[pytest.FixtureRequest], Opener], request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    opener = make(request)
    with opener() as store, opener() as other:
        assert isinstance(store, HostedVectorStore)
        store.create_collection("raced", 2)
        find = store._find

        def find_then_lose_the_race(name: str) -> Settings | None:
            found = find(name)
            other.delete_collection(name)
            return found

        monkeypatch.setattr(store, "_find", find_then_lose_the_race)
        assert store.delete_collection("raced") is False
        assert not other.collection_exists("raced")


def test_unsupported_operators_are_refused_before_the_collection_is_looked_up(weaviate_server: Any) -> None:
    weaviate_server.reset()
    url = f"weaviate://:wv-secret@127.0.0.1:{weaviate_server.http_port}?grpc_port={weaviate_server.grpc_port}"
    with KNOWLEDGE_STORES.create("weaviate", url=url) as store:
        with pytest.raises(UnsupportedFilterError):
            store.search("missing", [1.0, 0.0], filters={"year": {"$gt": 2020}})
        with pytest.raises(UnsupportedFilterError):
            store.delete("missing", filters={"year": {"$lt": 2020}})
    assert not [request for request in weaviate_server.requests if request[1] != "/v1/meta"]


def test_an_unreachable_engine_when_connecting_is_backend_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    weaviate = require_driver("weaviate", "weaviate")

    def refuse(**_: object) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(weaviate, "connect_to_custom", refuse)
    with pytest.raises(BackendUnavailableError, match="cannot reach Weaviate: ConnectionRefusedError") as caught:
        KNOWLEDGE_STORES.create("weaviate", url="weaviate://127.0.0.1:8080")
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
