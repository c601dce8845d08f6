"""The numpy search path (knowledge/_layers/matrix.py) returns what the pure-Python path returns, to the bit.

Every comparison builds the same collection twice: once scored through the numpy
index (``MIN_ROWS`` lowered so that small collections use it) and once with numpy
hidden (the pure-Python fallback), and requires identical ids, order and scores.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest

from praisonai.persistence.errors import EngineError
from praisonai.persistence.knowledge._layers import matrix
from praisonai.persistence.knowledge.base import Distance, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.filters import parse_filter
from praisonai.persistence.knowledge.memory import MemoryKnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract

DISTANCES: tuple[Distance, ...] = ("cosine", "dot", "euclidean")


class TestMemoryContractThroughNumpy(KnowledgeStoreContract):
    """The whole contract suite with every search going through the numpy index."""

    @pytest.fixture
    def store(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[KnowledgeStore]:
        monkeypatch.setattr(matrix, "MIN_ROWS", 1)
        store = KNOWLEDGE_STORES.create("memory")
        yield store
        store.close()


def _pair(monkeypatch: pytest.MonkeyPatch, distance: Distance, documents: Sequence[KnowledgeDocument]) -> Any:
    """A search function returning (numpy results, pure-Python results) over the same documents."""
    dimension = len(documents[0].embedding or ())
    stores = []
    for _ in range(2):
        store = MemoryKnowledgeStore()
        store.create_collection("c", dimension, distance)
        store.insert("c", list(documents))
        stores.append(store)
    numpy_store, pure_store = stores

    def outcome(store: MemoryKnowledgeStore, query: list[float], limit: int, filters: Any) -> Any:
        try:
            found = store.search("c", query, limit=limit, filters=filters)
        except EngineError as error:  # an exact score that overflows fails both paths alike
            return repr(error)
        # repr: NaN (an exact score of inf / inf, on both paths) equals itself
        return [(document.id, repr(document.score)) for document in found]

    def search(query: list[float], limit: int = 10, filters: dict[str, Any] | None = None) -> tuple[Any, Any]:
        with monkeypatch.context() as patch:
            patch.setattr(matrix, "MIN_ROWS", 1)
            found = outcome(numpy_store, query, limit, filters)
            assert numpy_store._collections["c"].index is not None  # the numpy path really ran
        with monkeypatch.context() as patch:
            patch.setattr(matrix, "numpy_or_none", lambda: None)
            expected = outcome(pure_store, query, limit, filters)
            assert pure_store._collections["c"].index is None
        return found, expected

    return search


def _documents(vectors: Sequence[Sequence[float]], metadatas: Sequence[Any] | None = None) -> list[KnowledgeDocument]:
    return [
        KnowledgeDocument(
            id=f"d{index}",
            content=f"doc {index}",
            embedding=[float(value) for value in vector],
            metadata=None if metadatas is None else metadatas[index],
        )
        for index, vector in enumerate(vectors)
    ]


@pytest.mark.parametrize("distance", DISTANCES)
def test_random_data_same_ids_order_and_scores(monkeypatch: pytest.MonkeyPatch, distance: Distance) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((600, 24)) * rng.uniform(0.1, 10.0, (600, 1))
    search = _pair(monkeypatch, distance, _documents(vectors.tolist()))
    for limit in (1, 5, 10, 600, 1000):
        for query in rng.standard_normal((5, 24)):
            found, expected = search(query.tolist(), limit)
            assert found == expected
            assert len(found) == min(limit, 600)


@pytest.mark.parametrize("distance", DISTANCES)
def test_ties_zero_vectors_and_a_zero_query(monkeypatch: pytest.MonkeyPatch, distance: Distance) -> None:
    rng = np.random.default_rng(3)
    base = rng.standard_normal((40, 8))
    # duplicates (exact ties), zero vectors and scaled copies (cosine ties)
    vectors = [*base.tolist(), *base[:10].tolist(), *([[0.0] * 8] * 15), *(base[:10] * 3.0).tolist()]
    vectors += base[10:20].tolist()
    search = _pair(monkeypatch, distance, _documents(vectors))
    queries = [[0.0] * 8, base[0].tolist(), base[3].tolist(), (-base[5]).tolist(), rng.standard_normal(8).tolist()]
    for query in queries:
        for limit in (1, 3, 12, 30, 200):
            found, expected = search(query, limit)
            assert found == expected
    if distance == "cosine":
        found, _ = search([0.0] * 8, 200)
        assert {score for _, score in found} == {"0.0"}
        found, _ = search(base[0].tolist(), 200)
        zero_ids = {f"d{index}" for index in range(50, 65)}
        assert all(score == "0.0" for document_id, score in found if document_id in zero_ids)


@pytest.mark.parametrize("distance", DISTANCES)
def test_values_numpy_cannot_bound_are_scored_exactly(monkeypatch: pytest.MonkeyPatch, distance: Distance) -> None:
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((60, 6)).tolist()
    vectors[4] = [1e200, -1e200, 3.0, 0.0, 0.0, 1.0]  # its squared norm overflows float64
    vectors[9] = [1e-200, 2e-200, 0.0, 0.0, 0.0, -1e-200]  # its squared norm underflows
    vectors[17] = [1e30, 0.0, 0.0, 0.0, 0.0, 0.0]
    vectors[21] = [1e-40, 1e-41, 0.0, 0.0, 0.0, 0.0]  # below float32's normal range
    search = _pair(monkeypatch, distance, _documents(vectors))
    for query in (rng.standard_normal(6).tolist(), [1e-40] * 6, [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]):
        for limit in (1, 5, 60):
            found, expected = search(query, limit)
            assert found == expected
    found, expected = search([1e200, 0.0, 0.0, 0.0, 0.0, 0.0], 5)  # a query numpy cannot bound: pure path
    assert found == expected


# Metadata of every JSON kind, including what numpy cannot hold exactly (ints beyond 2**53).
_VALUES: tuple[Any, ...] = (
    0,
    1,
    2,
    -3,
    1.0,
    2.5,
    True,
    False,
    None,
    "a",
    "b",
    "ab",
    "",
    "é",
    [1],
    {"x": 1},
    2**53 + 1,
    2**70,
    10**400,
)
_FILTER_VALUES: tuple[Any, ...] = (0, 1, 1.0, 2.5, True, False, None, "a", "ab", "", "zz", 2**53 + 1, -(10**30), 1e300)


def test_filters_over_columns_match_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    rand = random.Random(11)
    rows = 400
    metadatas: list[Any] = []
    for index in range(rows):
        metadata: dict[str, Any] = {}
        for field in ("f", "g"):
            if rand.random() < 0.8:
                metadata[field] = rand.choice(_VALUES)
        metadata["n"] = index % 7
        metadatas.append(metadata if index % 13 else None)
    big = [index == 5 for index in range(rows)]  # column "h" holds one int beyond 2**53
    for index, flag in enumerate(big):
        if metadatas[index] is not None:
            metadatas[index]["h"] = 2**60 if flag else index
    vectors = np.random.default_rng(1).standard_normal((rows, 4)).tolist()
    search = _pair(monkeypatch, "cosine", _documents(vectors, metadatas))
    query = [0.3, -0.2, 0.9, 0.1]
    filters: list[dict[str, Any]] = []
    for field in ("f", "g", "h", "n", "absent"):
        for value in _FILTER_VALUES:
            filters.append({field: value})
            filters.append({field: {"$ne": value}})
            if value is not None and not isinstance(value, bool):
                for op in ("$gt", "$gte", "$lt", "$lte"):
                    filters.append({field: {op: value}})
        filters.append({field: {"$in": list(_FILTER_VALUES[:6])}})
        filters.append({field: {"$nin": list(_FILTER_VALUES[3:9])}})
    filters.append({"$or": [{"f": "a"}, {"g": {"$gte": 1}}], "n": {"$lt": 5}})
    filters.append({"$and": [{"f": {"$ne": None}}, {"$or": [{"h": {"$gt": 100}}, {"n": 3}]}]})
    for filter_ in filters:
        parse_filter(filter_)
        found, expected = search(query, 500, filter_)
        assert found == expected, filter_
    assert any(search(query, 500, filter_)[0] for filter_ in filters)


def test_the_index_follows_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matrix, "MIN_ROWS", 1)
    store = MemoryKnowledgeStore()
    store.create_collection("c", 2, "cosine")
    store.insert("c", _documents([[1.0, 0.0], [0.0, 1.0]]))
    assert [d.id for d in store.search("c", [1.0, 0.1], limit=1)] == ["d0"]
    store.upsert("c", [KnowledgeDocument(id="d0", content="", embedding=[-1.0, 0.0])])
    assert [d.id for d in store.search("c", [1.0, 0.1], limit=1)] == ["d1"]
    store.delete("c", ids=["d1"])
    assert [d.id for d in store.search("c", [1.0, 0.1], limit=2)] == ["d0"]
    store.insert("c", [KnowledgeDocument(id="new", content="", embedding=[2.0, 0.2], metadata={"k": 1})])
    assert [d.id for d in store.search("c", [1.0, 0.1], limit=1, filters={"k": 1})] == ["new"]


def test_numpy_is_not_imported_by_the_package() -> None:
    import subprocess
    import sys

    code = (
        "import sys, praisonai.persistence, praisonai.persistence.registry, "
        "praisonai.persistence.knowledge.memory; print('numpy' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
