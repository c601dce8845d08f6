"""memory: the knowledge contract suite, with and without a JSON file, plus file-safety checks.

Also checks the contract suite itself: a narrowed backend passes it by refusing
what it declares unsupported, and deliberately broken backends fail it.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from praisonai.persistence._catalogue import BY_KIND_AND_NAME
from praisonai.persistence.errors import ConfigError, EngineError, InvalidInputError, StoreError, UnsupportedFilterError
from praisonai.persistence.knowledge import memory as memory_module
from praisonai.persistence.knowledge._layers.checks import check_distance, parse_filters
from praisonai.persistence.knowledge.base import Distance, Filter, KnowledgeDocument, KnowledgeStore, similarity
from praisonai.persistence.knowledge.config import MemoryKnowledgeConfig
from praisonai.persistence.knowledge.memory import MemoryKnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract
from praisonai.persistence.testing.knowledge import FILTERS


class TestMemoryContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("memory")
        yield store
        store.close()


class TestMemoryFileContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "knowledge.json"))
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], KnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("memory", url=f"memory:///{tmp_path / 'knowledge.json'}")


class TestMemoryFileNoAutosaveContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "knowledge.json"), autosave=False)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], KnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("memory", path=str(tmp_path / "knowledge.json"))


# -- the suite checks narrowed backends ------------------------------------------


class _NarrowStore(MemoryKnowledgeStore):
    """A memory store pretending its engine lacks ``$nin``, ``$or`` and the dot distance."""

    unsupported = frozenset({"$nin", "$or"})
    distances: tuple[Distance, ...] = ("cosine", "euclidean")

    def create_collection(
        self, name: str, dimension: int, distance: Distance = "cosine", metadata: dict[str, Any] | None = None
    ) -> None:
        with self._translating:
            check_distance(distance, self.distances)
        super().create_collection(name, dimension, distance, metadata)

    def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        with self._translating:
            parse_filters(filters, self.unsupported)
        return super().search(collection, query_embedding, limit, filters, score_threshold)

    def delete(self, collection: str, ids: Sequence[str] | None = None, filters: Filter | None = None) -> int:
        with self._translating:
            parse_filters(filters, self.unsupported)
        return super().delete(collection, ids, filters)


class TestNarrowedBackendContract(KnowledgeStoreContract):
    unsupported_filter_operators = frozenset({"$nin", "$or"})
    supported_distances = ("cosine", "euclidean")

    @pytest.fixture
    def store(self) -> Iterator[KnowledgeStore]:
        store = _NarrowStore()
        yield store
        store.close()


# -- the suite catches broken backends --------------------------------------------


class _FilterDroppingStore(MemoryKnowledgeStore):
    def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        return super().search(collection, query_embedding, limit, None, score_threshold)


class _SquaredEuclideanStore(MemoryKnowledgeStore):
    def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        results = super().search(collection, query_embedding, limit, filters, score_threshold)
        for result in results:
            assert result.score is not None
            result.score = 1.0 / (1.0 + (1.0 / result.score - 1.0) ** 2)
        return results


class _OverwritingStore(MemoryKnowledgeStore):
    def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self.upsert(collection, documents)


class _BoolAsIntStore(MemoryKnowledgeStore):
    """Loses the difference between True and 1, as a careless JSON-to-column mapping would."""

    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        documents = super().get(collection, ids)
        for document in documents:
            if document.metadata:
                document.metadata = {k: int(v) if isinstance(v, bool) else v for k, v in document.metadata.items()}
        return documents


def test_suite_catches_a_dropped_filter() -> None:
    with _FilterDroppingStore() as store, pytest.raises(AssertionError):
        KnowledgeStoreContract()._check_search_filter(store, FILTERS["eq-implicit"])


def test_suite_catches_squared_euclidean_scores() -> None:
    with _SquaredEuclideanStore() as store, pytest.raises(AssertionError):
        KnowledgeStoreContract().test_search_scores_match_the_reference(store, "euclidean")


def test_suite_catches_an_overwriting_insert() -> None:
    with _OverwritingStore() as store, pytest.raises(pytest.fail.Exception):
        KnowledgeStoreContract().test_insert_existing_id_raises_and_stores_nothing(store)


def test_suite_catches_bool_metadata_turned_into_int() -> None:
    with _BoolAsIntStore() as store, pytest.raises(AssertionError):
        KnowledgeStoreContract().test_document_round_trip(store)


def test_narrowed_store_refuses_instead_of_dropping() -> None:
    with _NarrowStore() as store:
        store.create_collection("c", 2)
        store.insert("c", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"x": 1})])
        with pytest.raises(UnsupportedFilterError, match=r"\$nin"):
            store.search("c", [1.0, 0.0], filters={"x": {"$nin": [2]}})
        with pytest.raises(InvalidInputError, match="not supported"):
            store.create_collection("d", 2, "dot")


# -- config and registry -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path", "autosave"),
    [
        ("memory://", None, True),
        ("memory:///srv/k.json", "/srv/k.json", True),  # absolute, as file:/// and the state store's
        ("memory:////abs/k.json", "/abs/k.json", True),
        ("memory:///k.json?autosave=false", "/k.json", False),
        ("memory:///k.json?autosave=1", "/k.json", True),
    ],
)
def test_url_forms(url: str, path: str | None, autosave: bool) -> None:
    config = MemoryKnowledgeConfig.from_options(url)
    assert (config.path, config.autosave) == (path, autosave)


@pytest.mark.parametrize(
    "url",
    ["redis://localhost/0", "memory://host/k.json", "memory:///k.json?bogus=1", "memory:///k.json?autosave=maybe"],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="url"):
        MemoryKnowledgeConfig.from_options(url)


def test_bad_options_are_refused_before_the_adapter_is_built() -> None:
    with pytest.raises(ConfigError) as caught:
        KNOWLEDGE_STORES.create("memory", path="", autsave=False)
    message = str(caught.value)
    assert "path" in message and "autsave" in message and "autosave" in message


def test_registry_and_catalogue() -> None:
    backend = BY_KIND_AND_NAME[("knowledge", "memory")]
    assert (backend.tier, backend.extra, backend.requirements, backend.drivers) == ("embedded", None, (), ())
    with KNOWLEDGE_STORES.create("memory") as store:
        assert isinstance(store, MemoryKnowledgeStore)
    with KNOWLEDGE_STORES.create(MemoryKnowledgeConfig()) as store:
        assert isinstance(store, MemoryKnowledgeStore)


# -- memory-specific behaviour ----------------------------------------------------------


def test_numpy_embeddings_are_accepted_and_stored_as_floats() -> None:
    with MemoryKnowledgeStore() as store:
        store.create_collection("np", 4, "dot")
        vector = np.array([0.5, -1.0, 2.0, 0.25], dtype=np.float32)
        store.insert("np", [KnowledgeDocument(id="a", embedding=vector)])  # type: ignore[arg-type]
        [loaded] = store.get("np", ["a"])
        assert loaded.embedding == [0.5, -1.0, 2.0, 0.25]
        assert all(type(value) is float for value in loaded.embedding)
        [found] = store.search("np", np.ones(4, dtype=np.float64))  # type: ignore[arg-type]
        assert found.score == pytest.approx(1.75)


def test_equal_scores_keep_insertion_order() -> None:
    with MemoryKnowledgeStore() as store:
        store.create_collection("ties", 2)
        store.insert("ties", [KnowledgeDocument(id=name, embedding=[1.0, 1.0]) for name in ("c", "a", "b")])
        assert [d.id for d in store.search("ties", [1.0, 1.0], limit=3)] == ["c", "a", "b"]


def test_closed_store_refuses_calls() -> None:
    store = MemoryKnowledgeStore()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_collections()


def test_save_without_a_path_is_refused() -> None:
    with MemoryKnowledgeStore() as store, pytest.raises(StoreError, match="no path"):
        store.save()


def _open(path: Path, **options: Any) -> MemoryKnowledgeStore:
    return MemoryKnowledgeStore(MemoryKnowledgeConfig(path=str(path), **options))


def test_autosave_writes_every_change_atomically(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "k.json"
    store = _open(path)
    store.create_collection("c", 2, "euclidean", metadata={"m": 1})
    assert json.loads(path.read_text())["collections"]["c"]["documents"] == []
    store.insert("c", [KnowledgeDocument(id="a", content="x", embedding=[0.1, 0.2], metadata={"t": True})])
    saved = json.loads(path.read_text())
    assert saved["format"] == "praisonai-knowledge-memory"
    [document] = saved["collections"]["c"]["documents"]
    assert (document["id"], document["embedding"], document["metadata"]) == ("a", [0.1, 0.2], {"t": True})
    store.delete("c", ids=["a"])
    assert json.loads(path.read_text())["collections"]["c"]["documents"] == []
    store.close()
    assert sorted(p.name for p in path.parent.iterdir()) == ["k.json", "k.json.lock"]  # no temporary files left


def test_without_autosave_the_file_is_written_on_save_and_close(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    store = _open(path, autosave=False)
    store.create_collection("c", 2)
    assert not path.exists()
    store.save()
    assert json.loads(path.read_text())["collections"]["c"]["documents"] == []
    store.insert("c", [KnowledgeDocument(id="a", embedding=[1.0, 0.0])])
    assert json.loads(path.read_text())["collections"]["c"]["documents"] == []
    store.close()
    assert [d["id"] for d in json.loads(path.read_text())["collections"]["c"]["documents"]] == ["a"]


def test_a_second_store_cannot_open_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    first = _open(path)
    with pytest.raises(StoreError, match="in use"):
        _open(path)
    first.close()
    _open(path).close()


def test_a_failed_save_rolls_the_change_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "k.json"
    store = _open(path)
    store.create_collection("c", 2)
    store.insert("c", [KnowledgeDocument(id="a", content="old", embedding=[1.0, 0.0])])

    def full_disk(target: Path, text: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(memory_module, "_write_atomically", full_disk)
    # The call guard: the OSError is chained under EngineError, never raised bare.
    with pytest.raises(EngineError, match="No space") as caught:
        store.insert("c", [KnowledgeDocument(id="b", embedding=[0.0, 1.0])])
    assert isinstance(caught.value.__cause__, OSError)
    with pytest.raises(EngineError, match="No space"):
        store.upsert("c", [KnowledgeDocument(id="a", content="new", embedding=[0.0, 1.0])])
    with pytest.raises(EngineError, match="No space"):
        store.delete_collection("c")
    with pytest.raises(EngineError, match="No space"):
        store.create_collection("d", 2)
    assert store.list_collections() == ["c"]
    assert store.count("c") == 1
    [kept] = store.get("c", ["a"])
    assert kept.content == "old"
    monkeypatch.undo()
    store.insert("c", [KnowledgeDocument(id="b", embedding=[0.0, 1.0])])
    store.close()
    with _open(path) as reopened:
        assert reopened.count("c") == 2


@pytest.mark.parametrize("text", ["{not json", "[]", '{"format": "other"}', '{"format": "praisonai-knowledge-memory"}'])
def test_an_unreadable_file_is_reported(tmp_path: Path, text: str) -> None:
    path = tmp_path / "k.json"
    path.write_text(text)
    with pytest.raises(StoreError, match="cannot read"):
        _open(path)
    _open(tmp_path / "other.json").close()  # the failed open released nothing it should not have


def test_scores_are_exact_reference_values() -> None:
    with MemoryKnowledgeStore() as store:
        store.create_collection("e", 3, "euclidean")
        store.insert("e", [KnowledgeDocument(id="a", embedding=[3.0, 4.0, 0.0])])
        [found] = store.search("e", [0.0, 0.0, 0.0])
        assert found.score == 1.0 / 6.0
        store.create_collection("c", 2, "cosine")
        store.insert("c", [KnowledgeDocument(id="z", embedding=[0.0, 0.0])])
        [zero] = store.search("c", [1.0, 0.0])
        assert zero.score == 0.0 and not math.isnan(zero.score)


def _near_ties(dimension: int, seed: int) -> tuple[list[float], list[list[float]]]:
    """A query and vectors whose scores differ in the last bits: copies of the query nudged by one ulp,
    exact duplicates, scaled copies, zero vectors and random ones, in a shuffled order."""
    rng = random.Random(seed)
    query = [rng.gauss(0.0, 1.0) for _ in range(dimension)]
    vectors = [list(query), list(query), [2.0 * value for value in query], [0.0] * dimension]
    for _ in range(40):
        nudged = list(query)
        position = rng.randrange(dimension)
        nudged[position] = math.nextafter(nudged[position], math.inf if rng.random() < 0.5 else -math.inf)
        vectors.append(nudged)
    vectors += [[rng.gauss(0.0, 1.0) for _ in range(dimension)] for _ in range(150)]
    rng.shuffle(vectors)
    return query, vectors


def _reference_search(
    distance: Distance, query: list[float], vectors: list[list[float]], limit: int
) -> list[tuple[str, float]]:
    """The old search: similarity() of every document, a stable sort, the first ``limit``."""
    scored = [(f"v{index}", similarity(distance, query, vector)) for index, vector in enumerate(vectors)]
    return sorted(scored, key=lambda pair: -pair[1])[:limit]


@pytest.mark.parametrize("distance", ["cosine", "dot", "euclidean"])
@pytest.mark.parametrize("seed", range(3))
def test_search_returns_the_reference_ranking_bit_for_bit(distance: Distance, seed: int) -> None:
    query, vectors = _near_ties(64, seed)
    with MemoryKnowledgeStore() as store:
        store.create_collection("c", 64, distance)
        store.insert("c", [KnowledgeDocument(id=f"v{index}", embedding=vector) for index, vector in enumerate(vectors)])
        for probe in (query, vectors[0], [value * 1e-3 for value in vectors[-1]]):
            for limit in (1, 3, 10, 60, len(vectors) + 5):
                found = [(document.id, document.score) for document in store.search("c", probe, limit=limit)]
                assert found == _reference_search(distance, probe, vectors, limit)


@pytest.mark.parametrize(
    ("distance", "query", "better", "worse"),
    [
        # sum() of the products loses the 1.0 between the cancelling 1e16s: the better one's estimate is 0.0.
        ("dot", [1.0, 1.0, 1.0], [1e16, 1.0, -1e16], [0.5, 0.0, 0.0]),
        ("cosine", [1.0, 1.0, 1.0, 1e-30], [1e16, 1.0, -1e16, 0.0], [0.0, 0.0, 0.0, 1.0]),
        # The same with tiny documents, then a tiny query, whose squares underflow: their norms (0.0) bound nothing.
        ("dot", [1e100] * 3, [1e-165, 1e-181, -1e-165], [1e-182, 0.0, 0.0]),
        ("dot", [1e-165, 1e-181, -1e-165], [1e100] * 3, [0.0, 1e99, 0.0]),
        # sum() of the squared differences loses the 4096 small squares added to 1.0: the worse one looks closer.
        ("euclidean", [0.0] * 4097, [1.0 + 2.0**-44] + [0.0] * 4096, [1.0] + [2.0**-27] * 4096),
    ],
)
def test_nearly_cancelling_sums_are_ranked_exactly(
    distance: Distance, query: list[float], better: list[float], worse: list[float]
) -> None:
    assert similarity(distance, query, better) > similarity(distance, query, worse)
    with MemoryKnowledgeStore() as store:
        store.create_collection("c", len(query), distance)
        store.insert(
            "c", [KnowledgeDocument(id="worse", embedding=worse), KnowledgeDocument(id="better", embedding=better)]
        )
        [found] = store.search("c", query, limit=1)
        assert (found.id, found.score) == ("better", similarity(distance, query, better))


@pytest.mark.parametrize("distance", ["cosine", "dot", "euclidean"])
@pytest.mark.parametrize("magnitude", [1e-170, 1e-130, 1e140, 1e160])  # squares underflow / overflow at the ends
def test_huge_and_tiny_vectors_rank_or_fail_as_the_reference_does(distance: Distance, magnitude: float) -> None:
    query, vectors = _near_ties(16, 7)
    vectors = [
        [value * magnitude for value in vector] if index % 3 == 0 else vector for index, vector in enumerate(vectors)
    ]
    vectors.append([1e154] * 16)  # its squares are finite, their sum is not

    def outcome(search: Callable[[], list[tuple[str, float | None]]]) -> object:
        try:
            return search()
        except (ArithmeticError, ValueError) as error:  # at 1e160 products and squares overflow: fsum and ** raise
            return type(error)
        except EngineError as error:  # the store's call guard chains the same arithmetic error
            return type(error.__cause__)

    with MemoryKnowledgeStore() as store:
        store.create_collection("c", 16, distance)
        store.insert("c", [KnowledgeDocument(id=f"v{index}", embedding=vector) for index, vector in enumerate(vectors)])
        for probe in (query, vectors[0]):
            found = outcome(lambda: [(document.id, document.score) for document in store.search("c", probe, limit=5)])
            assert found == outcome(lambda: _reference_search(distance, probe, vectors, 5))


@pytest.mark.parametrize(
    ("distance", "query", "before", "after"),
    [
        # A stale norm of 100 would score the new cosine 0.01, below the rival's 0.6.
        ("cosine", [1.0, 0.0, 0.0], [100.0, 0.0, 0.0], [1.0, 0.0, 0.0]),
        # dot keeps no norm: an upsert must still rank the new vector (1.0 after exact cancellation).
        ("dot", [1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1e16, 1.0, -1e16]),
    ],
)
def test_replaced_and_restored_documents_are_ranked_with_their_own_norm(
    distance: Distance,
    query: list[float],
    before: list[float],
    after: list[float],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rival = KnowledgeDocument(id="rival", embedding=[0.5, 0.0, 0.0] if distance == "dot" else [0.6, 0.8, 0.0])
    expected = ("b", similarity(distance, query, after))
    with _open(tmp_path / "k.json") as store:

        def best() -> tuple[str, float | None]:
            [found] = store.search("k", query, limit=1)
            return found.id, found.score

        store.create_collection("k", 3, distance)
        store.insert("k", [rival, KnowledgeDocument(id="b", embedding=before)])
        best()  # keeps the norms
        store.upsert("k", [KnowledgeDocument(id="b", embedding=after)])
        assert best() == expected

        def full_disk(target: Path, text: str) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(memory_module, "_write_atomically", full_disk)
        for failing in (
            lambda: store.upsert("k", [KnowledgeDocument(id="b", embedding=before)]),
            lambda: store.delete("k", ids=["b"]),
        ):
            with pytest.raises(EngineError, match="No space"):
                failing()
            assert best() == expected  # rolled back, and ranked with the restored document's norm


def test_a_file_with_a_wrong_dimension_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    with _open(path) as store:
        store.create_collection("c", 2)
        store.insert("c", [KnowledgeDocument(id="a", embedding=[1.0, 0.0])])
    saved = json.loads(path.read_text())
    saved["collections"]["c"]["documents"][0]["embedding"] = [1.0, 0.0, 0.0]
    path.write_text(json.dumps(saved))
    with pytest.raises(StoreError, match=r"cannot read.*'a'.*dimension 3"):
        _open(path)


@pytest.mark.slow
def test_a_killed_writer_leaves_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    script = textwrap.dedent(
        f"""
        import sys
        from praisonai.persistence.knowledge.base import KnowledgeDocument
        from praisonai.persistence.knowledge.config import MemoryKnowledgeConfig
        from praisonai.persistence.knowledge.memory import MemoryKnowledgeStore
        store = MemoryKnowledgeStore(MemoryKnowledgeConfig(path={str(path)!r}))
        store.create_collection("c", 16)
        i = 0
        while True:
            store.insert("c", [KnowledgeDocument(id=str(i), content="x" * 200, embedding=[float(i)] * 16)])
            i += 1
            if i == 20:
                print("ready", flush=True)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    with _open(path) as store:
        count = store.count("c")
        assert count >= 20
        assert [d.id for d in store.get("c", [str(i) for i in range(count)])] == [str(i) for i in range(count)]
