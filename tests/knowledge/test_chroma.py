"""chroma: the knowledge contract suite on chromadb's embedded PersistentClient and on its HttpClient
against chroma's own server on loopback, the async suite on its AsyncHttpClient against that server,
plus URL parsing, name mapping and no-embedding-model checks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from praisonai.persistence.errors import BackendUnavailableError, ConfigError, StoreError
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.chroma import AsyncChromaKnowledgeStore
from praisonai.persistence.knowledge.config import ChromaKnowledgeConfig
from praisonai.persistence.knowledge.filters import matches, parse_filter
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import AsyncKnowledgeStoreContract, KnowledgeStoreContract
from tests.support.async_knowledge_checks import check_sync_and_async_share_data
from tests.support.emulators import require_driver
from tests.support.vector_servers import VectorServer


@pytest.fixture(scope="module")
def chromadb() -> object:
    return require_driver("chromadb", "chroma")


class TestChromaEmbeddedContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path, chromadb: object) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("chroma", path=str(tmp_path / "chroma"))
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], KnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("chromadb", url=f"chroma:///{tmp_path / 'chroma'}")


class TestChromaServerContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, chroma_server: VectorServer) -> Iterator[KnowledgeStore]:
        # Collections have unique names, so tests share the server without interfering.
        store = KNOWLEDGE_STORES.create("chroma", url=chroma_server.url)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, chroma_server: VectorServer) -> Callable[[], KnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("chroma", url=f"chroma://127.0.0.1:{chroma_server.port}")


class TestAsyncChromaServerContract(AsyncKnowledgeStoreContract):
    @pytest.fixture
    def store(self, chroma_server: VectorServer) -> AsyncKnowledgeStore:
        store = KNOWLEDGE_STORES.create("async_chroma", url=chroma_server.url)
        assert isinstance(store, AsyncChromaKnowledgeStore)  # native, not the thread offload
        return store

    @pytest.fixture
    def reopen(self, chroma_server: VectorServer) -> Callable[[], AsyncKnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("chroma_async", url=f"chroma://127.0.0.1:{chroma_server.port}")


def test_async_chroma_on_a_directory_reads_what_the_sync_store_wrote(tmp_path: Path, chromadb: object) -> None:
    directory = str(tmp_path / "shared")
    check_sync_and_async_share_data(
        lambda: KNOWLEDGE_STORES.create("chroma", path=directory),
        lambda: KNOWLEDGE_STORES.create("async_chroma", path=directory),
    )


def test_async_chroma_on_a_server_reads_what_the_sync_store_wrote(chroma_server: VectorServer) -> None:
    check_sync_and_async_share_data(
        lambda: KNOWLEDGE_STORES.create("chroma", url=chroma_server.url),
        lambda: KNOWLEDGE_STORES.create("async_chroma", url=chroma_server.url),
    )


def test_async_chroma_keeps_one_pool_per_store_and_loop(chroma_server: VectorServer) -> None:
    store = KNOWLEDGE_STORES.create("async_chroma", url=chroma_server.url)
    assert isinstance(store, AsyncChromaKnowledgeStore)

    async def use() -> int:
        await store.list_collections()
        return len(store._client._server._clients)

    assert [asyncio.run(use()) for _ in range(3)] == [1, 1, 1]  # the pools of loops it left are dropped
    asyncio.run(store.close())


def test_async_chroma_unreachable_server_raises_backend_unavailable(chromadb: object) -> None:
    store = KNOWLEDGE_STORES.create("async_chroma", host="127.0.0.1", port=9)
    with pytest.raises(BackendUnavailableError):
        asyncio.run(store.list_collections())


# -- configuration ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/data/chroma", {"path": "/data/chroma", "host": None}),
        ("chroma:///rel/dir", {"path": "rel/dir", "host": None}),
        ("chroma:////abs/dir", {"path": "/abs/dir", "host": None}),
        ("chroma://db.example:8001", {"path": None, "host": "db.example", "port": 8001, "ssl": False}),
        ("https://db.example", {"path": None, "host": "db.example", "port": 8000, "ssl": True}),
        ("http://h:1?tenant=t1&database=d_1", {"host": "h", "tenant": "t1", "database": "d_1"}),
    ],
)
def test_url_forms(url: str, expected: dict[str, object]) -> None:
    config = ChromaKnowledgeConfig.from_options(url)
    assert {key: getattr(config, key) for key in expected} == expected


def test_default_is_embedded_under_the_data_dir(tmp_path: Path) -> None:
    assert ChromaKnowledgeConfig.from_options().local_path == str(tmp_path / "praisonai-data" / "chroma")


def test_token_is_masked() -> None:
    config = ChromaKnowledgeConfig.from_options("https://:tok-123@h")
    assert config.token is not None and config.token.get_secret_value() == "tok-123"
    assert "tok-123" not in repr(config)


@pytest.mark.parametrize(
    "options",
    [
        {"path": "/x", "host": "h"},
        {"token": "t"},
        {"host": "h", "tenant": "bad tenant"},
        {"host": "h", "port": 0},
    ],
)
def test_bad_configs_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        ChromaKnowledgeConfig.from_options(None, options)


def test_unreachable_server_raises_backend_unavailable(chromadb: object) -> None:
    with pytest.raises(BackendUnavailableError):
        KNOWLEDGE_STORES.create("chroma", host="127.0.0.1", port=9)


# -- behaviour -------------------------------------------------------------------


def test_short_and_underscored_names_map_to_valid_chroma_names(tmp_path: Path, chromadb: object) -> None:
    names = ["a", "_b", "c_", "x-", "Ok_name"]
    with KNOWLEDGE_STORES.create("chroma", path=str(tmp_path / "c")) as store:
        for name in names:
            store.create_collection(name, 2)
        assert set(store.list_collections()) == set(names)
        native = sorted(c.name for c in store._client.list_collections())  # type: ignore[attr-defined]
        assert native == sorted(["k.a.k", "k._b.k", "k.c_.k", "k.x-.k", "Ok_name"])


def test_collections_of_other_tools_are_not_listed(tmp_path: Path, chromadb: object) -> None:
    with KNOWLEDGE_STORES.create("chroma", path=str(tmp_path / "c")) as store:
        store._client.create_collection("foreign", embedding_function=None)  # type: ignore[attr-defined]
        store.create_collection("mine", 2)
        assert store.list_collections() == ["mine"]
        assert not store.collection_exists("foreign")


def test_no_embedding_function_is_ever_used(tmp_path: Path, chromadb: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import chromadb.utils.embedding_functions as functions

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an embedding function was instantiated")

    monkeypatch.setattr(functions, "DefaultEmbeddingFunction", refuse)
    monkeypatch.setattr(functions.ONNXMiniLM_L6_V2, "__call__", refuse)
    with KNOWLEDGE_STORES.create("chroma", path=str(tmp_path / "c")) as store:
        store.create_collection("docs", 3)
        store.insert("docs", [KnowledgeDocument(id="a", content="text", embedding=[1.0, 0.0, 0.0])])
        assert store.search("docs", [1.0, 0.0, 0.0], limit=1)[0].id == "a"


def test_closed_store_refuses_calls(tmp_path: Path, chromadb: object) -> None:
    store = KNOWLEDGE_STORES.create("chroma", path=str(tmp_path / "c"))
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_collections()


def test_euclidean_scores_use_the_square_root_of_chromas_distance(tmp_path: Path, chromadb: object) -> None:
    with KNOWLEDGE_STORES.create("chroma", path=str(tmp_path / "c")) as store:
        store.create_collection("l2", 2, "euclidean")
        store.insert("l2", [KnowledgeDocument(id="far", embedding=[3.0, 4.0])])
        [hit] = store.search("l2", [0.0, 0.0], limit=1)
        assert hit.score == pytest.approx(1.0 / (1.0 + 5.0))


def test_a_vector_near_the_origin_strands_no_document_under_euclidean(tmp_path: Path, chromadb: object) -> None:
    """Issue 15: with one vector next to the origin inserted first, Chroma's L2 HNSW graph found about
    40% of the true nearest neighbours of unit vectors; small collections are now searched exactly."""
    import numpy

    generator = numpy.random.default_rng(3)
    vectors = generator.normal(size=(1000, 32)).astype(numpy.float32)
    vectors /= numpy.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[0] = 1e-3
    with KNOWLEDGE_STORES.create("chroma", path=str(tmp_path / "c")) as store:
        store.create_collection("near", 32, "euclidean")
        store.insert(
            "near", [KnowledgeDocument(id=f"v{i}", embedding=[float(x) for x in v]) for i, v in enumerate(vectors)]
        )
        stored = vectors.astype(numpy.float64)
        for query in generator.normal(size=(20, 32)):
            query /= numpy.linalg.norm(query)
            distances = numpy.linalg.norm(stored - query, axis=1)
            expected = [f"v{i}" for i in numpy.argsort(distances, kind="stable")[:10]]
            found = store.search("near", [float(x) for x in query], limit=10)
            assert [document.id for document in found] == expected
            assert [document.score for document in found] == pytest.approx(1 / (1 + numpy.sort(distances)[:10]))


@pytest.mark.parametrize("distance", ["cosine", "dot"])
def test_a_search_the_graph_answers_short_is_filled_exactly(
    tmp_path: Path, chromadb: object, monkeypatch: pytest.MonkeyPatch, distance: str
) -> None:
    """CI once saw Chroma's HNSW graph return 400 of 401 documents (400 equal vectors) for a limit
    covering them all. Such a miss is simulated here (the graph's answer loses its last hit): the
    search is answered exactly instead, the limit filled, with the scores the graph would give."""
    from chromadb.api.models.Collection import Collection

    vectors = {f"d{i}": [1.0, float(i % 3), -0.5, 0.25 * i] for i in range(30)}
    vectors["zero"] = [0.0, 0.0, 0.0, 0.0]
    with KNOWLEDGE_STORES.create("chroma", path=str(tmp_path / "c")) as store:
        store.create_collection("g", 4, distance)  # type: ignore[arg-type]
        store.insert(
            "g",
            [
                KnowledgeDocument(id=key, embedding=value, metadata={"n": i})
                for i, (key, value) in enumerate(vectors.items())
            ],
        )
        truthful = {doc.id: doc.score for doc in store.search("g", [1.0, 0.5, 0.0, 0.0], limit=31)}
        query = Collection.query

        def lossy(self: Collection, *args: object, **kwargs: object) -> object:
            found = query(self, *args, **kwargs)  # type: ignore[arg-type]
            return {
                key: None if value is None else [value[0][:-1]] for key, value in found.items() if key != "included"
            }

        monkeypatch.setattr(Collection, "query", lossy)
        for limit, filters in ((31, None), (2**63, None), (10, {"n": {"$lt": 10}}), (5, None)):
            found = store.search("g", [1.0, 0.5, 0.0, 0.0], limit=limit, filters=filters)
            node = parse_filter(filters) if filters else None
            expected = [key for i, key in enumerate(vectors) if node is None or matches(node, {"n": i})]
            assert len(found) == min(limit, len(expected))
            assert {doc.id for doc in found} <= set(expected)
            assert [doc.score for doc in found] == pytest.approx(sorted((truthful[d.id] for d in found), reverse=True))
            assert [doc.score for doc in found] == pytest.approx([truthful[d.id] for d in found])


def test_fractional_bounds_and_upserts_filter_like_the_reference(tmp_path: Path, chromadb: object) -> None:
    """Issue 15: ``{"rating": {"$gte": 4.5}}`` matched an integer 4 (Chroma truncates the bound against
    integers), and after an upsert, fields the new metadata dropped still matched."""
    ratings: list[int | float] = [4, 5, -4, -5, 4.5, -4.5, 4.0, 3.9, 0, 1]
    with KNOWLEDGE_STORES.create("chroma", path=str(tmp_path / "c")) as store:
        store.create_collection("r", 2)
        documents = [
            KnowledgeDocument(id=f"r{i}", embedding=[1.0, float(i)], metadata={"rating": value, "old": 1})
            for i, value in enumerate(ratings)
        ]
        store.insert("r", documents)
        for filters in (
            {"rating": {"$gte": 4.5}},
            {"rating": {"$gt": -4.5}},
            {"rating": {"$lt": 4.5}},
            {"rating": {"$lte": -4.2}},
            {"rating": 4.5},
            {"rating": {"$ne": 4.5}},
            {"rating": {"$in": [3.9, -4.5, 5]}},
            {"rating": {"$nin": [0.5, 4.5]}},
        ):
            node = parse_filter(filters)
            expected = {d.id for d in documents if matches(node, d.metadata)}
            assert {d.id for d in store.search("r", [1.0, 0.0], limit=20, filters=filters)} == expected, filters
        store.upsert("r", [KnowledgeDocument(id="r0", embedding=[1.0, 0.0], metadata={"rating": 4})])
        assert {d.id for d in store.search("r", [1.0, 0.0], limit=20, filters={"old": 1})} == {
            f"r{i}" for i in range(1, len(ratings))
        }
        assert store.delete("r", filters={"old": {"$ne": 1}}) == 1
