"""cosmosdb: the knowledge contract suite on @vercel/cosmosdb-server, a third-party reimplementation of
Cosmos DB's NoSQL REST API from npm, driven by azure-cosmos over HTTPS on loopback (the ``cosmosdb_server``
session fixture; tests/support/cosmosdb_server.js corrects the package's answer to a point read of a
missing item, 500 there and 404 in Cosmos DB). Databases, containers, items, point reads, create-if-absent
and the filter queries run on that server. It has no vector search: CosmosVectorShim
(tests/support/cosmosdb_emulator.py) lets the server evaluate a vector query's WHERE clause and ranks the
items in Python. The async suite drives async_cosmosdb (azure.cosmos.aio) on the same server, through the
shim's async twin. Cosmos DB itself (its query engine, vector indexes, limits, auth) is not exercised."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from praisonai.persistence.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    ConfigError,
    EngineError,
    InvalidInputError,
    NotFoundError,
)
from praisonai.persistence.knowledge._filters.native import lower
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import CosmosDbKnowledgeConfig
from praisonai.persistence.knowledge.filters import parse_filter
from praisonai.persistence.testing import AsyncKnowledgeStoreContract, KnowledgeStoreContract
from praisonai.persistence.testing.async_knowledge import _blocking_test
from praisonai.persistence.testing.knowledge import FILTERS, NULL_FILTERS
from tests.support.cosmosdb_emulator import (
    AsyncCosmosVectorShim,
    CosmosVectorShim,
    cosmosdb_admin,
    cosmosdb_certificate,
    drop_cosmosdb_database,
    open_async_cosmosdb,
    open_cosmosdb,
)
from tests.support.emulators import Service
from tests.support.hosted_checks import check_transfer_extras

# azure-cosmos does not check the certificate of an endpoint on 127.0.0.1 (its rule for local
# emulators), and urllib3 warns about every such request.
pytestmark = pytest.mark.filterwarnings("ignore:Unverified HTTPS request:urllib3.exceptions.InsecureRequestWarning")

ENDPOINT = "https://acct.documents.azure.com:443/"

Opener = Callable[[], KnowledgeStore]
AsyncOpener = Callable[[], AsyncKnowledgeStore]


@pytest.fixture
def server(cosmosdb_server: Service, monkeypatch: pytest.MonkeyPatch) -> Service:
    """The session's server, for one test."""
    # Every new connection loads OpenSSL's default CA certificates even though azure-cosmos does not
    # verify 127.0.0.1 (~30 ms of CPU for the system's few hundred); point them at one file.
    monkeypatch.setenv("SSL_CERT_FILE", str(cosmosdb_certificate(cosmosdb_server)))
    return cosmosdb_server


@pytest.fixture
def opener(server: Service) -> Iterator[Opener]:
    """Opens stores on a database of their own on the server, dropped when the test ends."""
    database = f"kb_{uuid.uuid4().hex[:12]}"
    yield lambda: open_cosmosdb(server, database)
    drop_cosmosdb_database(server, database)


@pytest.fixture
def async_opener(server: Service) -> Iterator[AsyncOpener]:
    """Opens async stores on a database of their own on the server, dropped when the test ends."""
    database = f"kb_{uuid.uuid4().hex[:12]}"
    yield lambda: open_async_cosmosdb(server, database)
    drop_cosmosdb_database(server, database)


@pytest.fixture
def admin(server: Service) -> Any:
    """A CosmosClient of the tests' own on the server, for what the store does not do."""
    return cosmosdb_admin(server)


class TestCosmosDbContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, opener: Opener) -> Iterator[KnowledgeStore]:
        store = opener()
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, opener: Opener) -> Opener:
        return opener

    # The suite fills a fresh collection with its 48 filter documents for each of its 58 search
    # filters: 48 HTTPS writes each time, most of this class's run time on the server. Search
    # filters only read, so these two run every one of them against one filled collection (the
    # delete filters, which write, keep a collection each).
    def test_search_filter(self, store: KnowledgeStore) -> None:  # type: ignore[override]
        self._check_every_search_filter(store, FILTERS)

    def test_search_filter_on_null_values(self, store: KnowledgeStore) -> None:  # type: ignore[override]
        self._check_every_search_filter(store, NULL_FILTERS)

    def _check_every_search_filter(self, store: KnowledgeStore, filters: dict[str, dict[str, Any]]) -> None:
        filled = KnowledgeStoreContract._filter_collection(self, store)
        self._filter_collection = lambda _store: filled  # type: ignore[method-assign]
        for each in filters.values():
            self._check_search_filter(store, each)


class TestAsyncCosmosDbContract(AsyncKnowledgeStoreContract, TestCosmosDbContract):
    """The async suite on async_cosmosdb, its search filters run on one filled collection as above."""

    @pytest.fixture
    def store(self, async_opener: AsyncOpener) -> AsyncKnowledgeStore:  # type: ignore[override]
        return async_opener()

    @pytest.fixture
    def reopen(self, async_opener: AsyncOpener) -> AsyncOpener:  # type: ignore[override]
        return async_opener


for _name in ("test_search_filter", "test_search_filter_on_null_values"):
    setattr(TestAsyncCosmosDbContract, _name, _blocking_test(getattr(TestCosmosDbContract, _name)))


def test_the_async_store_asks_cosmos_db_for_vector_search(async_opener: AsyncOpener) -> None:
    async def run() -> list[tuple[str, list[dict[str, Any]]]]:
        async with async_opener() as store:
            await store.create_collection("docs", 2, "dot")
            await store.insert("docs", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"tag": "x"})])
            await store.insert("docs", [KnowledgeDocument(id="b", embedding=[2.0, 0.0], metadata={"tag": "y"})])
            [hit] = await store.search("docs", [1.0, 0.0], filters={"tag": "x"})
            assert (hit.id, hit.score) == ("a", 1.0)
            shim: AsyncCosmosVectorShim = store._db  # type: ignore[attr-defined]
            return shim.queries

    [(query, parameters)] = asyncio.run(run())
    assert query.endswith(" ORDER BY VectorDistance(c.embedding, @q)") and "ARRAY_CONTAINS(c.ix, @p0)" in query
    assert {"name": "@k", "value": 5} in parameters


def test_a_point_read_of_a_missing_item_is_404_not_found(admin: Any) -> None:
    # What Cosmos DB answers, and what tests/support/cosmosdb_server.js corrects the package to answer.
    from azure.cosmos import PartitionKey
    from azure.cosmos.exceptions import CosmosResourceNotFoundError

    database = admin.create_database(id=f"kb_{uuid.uuid4().hex[:12]}")
    try:
        container = database.create_container(id="items", partition_key=PartitionKey(path="/id"))
        container.create_item({"id": "here"})
        assert container.read_item("here", partition_key="here")["id"] == "here"
        with pytest.raises(CosmosResourceNotFoundError) as caught:
            container.read_item("missing", partition_key="missing")
        assert caught.value.status_code == 404 and "NotFound" in str(caught.value)
    finally:
        admin.delete_database(database.id)


def test_a_container_dropped_behind_the_store_is_not_found(opener: Opener, admin: Any) -> None:
    with opener() as store:
        store.create_collection("docs", 2)
        store.insert("docs", [KnowledgeDocument(id="a", embedding=[1.0, 0.0])])
        admin.get_database_client(store.config.database).delete_container("kb_docs")  # type: ignore[attr-defined]
        for call in (
            lambda: store.count("docs"),
            lambda: store.get("docs", ["a"]),
            lambda: store.upsert("docs", [KnowledgeDocument(id="b", embedding=[0.0, 1.0])]),
        ):
            with pytest.raises(NotFoundError, match="404") as caught:
                call()
            assert caught.value.backend == "cosmosdb"


def test_the_servers_error_answers_map_into_the_error_tree(opener: Opener, admin: Any) -> None:
    from azure.cosmos.exceptions import CosmosHttpResponseError

    with opener() as store:
        store.create_collection("docs", 2)
        container = admin.get_database_client(store.config.database).get_container_client("kb_docs")  # type: ignore[attr-defined]
        container.create_item({"id": "a"})
        answers: dict[int, CosmosHttpResponseError] = {}
        for status, provoke in (
            (400, lambda: list(container.query_items("SELECT FROM WHERE", enable_cross_partition_query=True))),
            (404, lambda: container.read_item("missing", partition_key="missing")),
            (409, lambda: container.create_item({"id": "a"})),
        ):
            with pytest.raises(CosmosHttpResponseError) as caught:
                provoke()
            assert caught.value.status_code == status
            answers[status] = caught.value
        # Statuses the server never sends (throttling, outages, oversized items) are built by hand.
        for status in (408, 413, 429, 449, 500, 503, 401, 403):
            answers[status] = CosmosHttpResponseError(status_code=status, message=f"status {status}")
        translate = store._translate_error  # type: ignore[attr-defined]
        expected = {
            400: InvalidInputError,
            413: InvalidInputError,
            404: NotFoundError,
            409: AlreadyExistsError,
            408: BackendUnavailableError,
            429: BackendUnavailableError,
            449: BackendUnavailableError,
            500: BackendUnavailableError,
            503: BackendUnavailableError,
            401: type(None),
            403: type(None),
        }
        for status, error in answers.items():
            assert type(translate(error)) is expected[status], status
        with pytest.raises(EngineError), store._guard:  # type: ignore[attr-defined]  # 401/403: the default
            raise answers[401]


@pytest.mark.parametrize("bad_id", ["a/b", "a\\b", "a#b", "a?b", "a\tb", "a\nb", "trailing "])
def test_ids_cosmos_db_refuses_are_refused_before_anything_is_written(opener: Opener, bad_id: str) -> None:
    # azure-cosmos refuses them with a bare ValueError, one item at a time: a batch would be half written.
    with opener() as store:
        store.create_collection("docs", 2)
        batch = [KnowledgeDocument(id="good", embedding=[1.0, 0.0]), KnowledgeDocument(id=bad_id, embedding=[0.0, 1.0])]
        for write in (store.insert, store.upsert):
            with pytest.raises(InvalidInputError, match="Cosmos DB ids cannot contain"):
                write("docs", batch)
        assert store.count("docs") == 0
        store.insert("docs", [KnowledgeDocument(id="inner space", embedding=[1.0, 0.0])])
        assert [document.id for document in store.get("docs", ["inner space"])] == ["inner space"]


def test_search_query_is_cosmos_vector_search(opener: Opener, admin: Any) -> None:
    with opener() as store:
        store.create_collection("docs", 2, "euclidean")
        store.insert("docs", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"year": 2021})])
        store.insert("docs", [KnowledgeDocument(id="b", embedding=[1.0, 0.0], metadata={"year": 2019})])
        [hit] = store.search("docs", [1.0, 0.0], filters={"year": {"$gt": 2020}})
        assert hit.id == "a" and hit.score == 1.0
        shim: CosmosVectorShim = store._db  # type: ignore[attr-defined]
        database = store.config.database  # type: ignore[attr-defined]
    properties = admin.get_database_client(database).get_container_client("kb_docs").read()
    assert properties["vectorEmbeddingPolicy"]["vectorEmbeddings"] == [
        {"path": "/embedding", "dataType": "float32", "distanceFunction": "euclidean", "dimensions": 2}
    ]
    assert properties["indexingPolicy"]["vectorIndexes"] == [{"path": "/embedding", "type": "quantizedFlat"}]
    assert properties["partitionKey"]["paths"] == ["/id"]
    [(query, parameters)] = shim.queries
    assert query.startswith(
        "SELECT TOP @k c.id, c.content, c.metadata, c.content_hash, c.created_at, c.embedding FROM c WHERE "
    )
    assert query.endswith(" ORDER BY VectorDistance(c.embedding, @q)")
    assert "ARRAY_CONTAINS(c.ix, @p0)" in query and "c.n[@p2] > @p1" in query
    assert all(p["name"].startswith("@") for p in parameters)


def test_filter_values_are_parameters_only() -> None:
    from praisonai.persistence.knowledge.cosmosdb import CosmosFilter

    hostile = "') OR 1=1 --"
    where = CosmosFilter()
    text = where.render(lower(parse_filter({hostile: {"$lt": hostile}}), chunk_limit=16))
    assert hostile not in text and "IS_DEFINED(c.c[@p" in text
    assert all(hostile not in str(v) for v in where.values.values())  # keys are hex, strings are chunks


def test_config_forms_and_secret_masking() -> None:
    config = CosmosDbKnowledgeConfig.from_options(f"AccountEndpoint={ENDPOINT};AccountKey=azNZLXNlY3JldA==;")
    assert config.url == ENDPOINT and config.key.get_secret_value() == "azNZLXNlY3JldA=="
    assert "azNZLXNlY3JldA==" not in repr(config)
    with pytest.raises(ConfigError):
        CosmosDbKnowledgeConfig.from_options("AccountEndpoint=https://x/;")
    with pytest.raises(ConfigError, match="base64") as caught:  # the client would fail on first use
        CosmosDbKnowledgeConfig.from_options(f"AccountEndpoint={ENDPOINT};AccountKey=k3y-secret;")
    assert "k3y-secret" not in str(caught.value)
    with pytest.raises(ConfigError):
        CosmosDbKnowledgeConfig.from_options(ENDPOINT, {"key": "k", "database": "bad/name"})


def test_transfer_extras(opener: Opener) -> None:
    with opener() as store:
        check_transfer_extras(store, "euclidean")
