"""One workload on every knowledge backend against an exact numpy reference (issue 15).

The workload: 64 documents of 8 float32 values (two of them zero vectors, one next to the origin),
metadata mixing integers and floats under one key, absent fields, null, bools, strings, lists and
integers beyond 2**53 (snowflake-style ids); every distance a backend supports; queries including a
zero vector; a fixed catalogue of filters covering the whole portable language plus filters drawn by
hypothesis (derandomised, so every run is the same); ``limit`` 7 and "all".

Each search is checked against the reference (``similarity`` semantics computed with numpy, filters
with :func:`~praisonai.persistence.knowledge.filters.matches`):

- it answers, or refuses with an ``InvalidInputError`` naming the backend (an operator the engine
  cannot express, a number beyond what it compares exactly); nothing else, and a search without a
  filter is never refused;
- every result matches the filter, once; its score is finite and the reference's score for it (a
  zero vector's cosine is 0.0);
- exact engines return ``min(limit, matches)`` documents whose scores are the reference's best scores
  (compared as sorted lists, so ties may come in any order); approximate indexes (chroma's and
  pgvector's HNSW) must reach a recall of :data:`APPROXIMATE_RECALL` over the run, never compared
  rank by rank.
"""

from __future__ import annotations

import math
import random
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from praisonai.persistence.errors import InvalidInputError
from praisonai.persistence.knowledge.base import DISTANCES, Distance, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.filters import matches, parse_filter
from tests.support.knowledge_backends import KNOWLEDGE_DRIVERS, open_knowledge

from .conftest import Figures

np = pytest.importorskip("numpy", reason="numpy is a test dependency")

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

DIMENSION = 8
COUNT = 64
SNOWFLAKE = 1_234_567_890_123_456_789  # > 2**60
APPROXIMATE = frozenset({"chroma", "pgvector"})
APPROXIMATE_RECALL = 0.9
"""The least share of the reference's best documents an approximate index must return over the run."""
HYPOTHESIS_EXAMPLES = 25


def _float32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _documents() -> list[KnowledgeDocument]:
    generator = random.Random(15)
    tags = ["alpha", "beta", "gamma", "delta"]
    documents = []
    for index in range(COUNT):
        vector = [_float32(generator.uniform(-1, 1)) for _ in range(DIMENSION)]
        if index in (5, 40):
            vector = [0.0] * DIMENSION
        if index == 20:
            vector = [_float32(1e-4)] * DIMENSION
        metadata: dict[str, Any] = {
            "rating": index % 6 if index % 2 else index % 6 + 0.5,  # ints and floats under one key
            "tag": tags[index % 4],
            "flag": index % 3 == 0,
            "id": SNOWFLAKE + index if index % 5 else index,  # snowflakes and small ints
        }
        if index % 4 == 1:
            metadata["maybe"] = index  # absent elsewhere
        if index % 7 == 0:
            metadata["maybe"] = None
        if index % 9 == 0:
            metadata["tag"] = ["alpha", "x"]  # a list: matches no comparison, matches $ne
        documents.append(
            KnowledgeDocument(id=f"d{index}", content=f"document {index}", embedding=vector, metadata=metadata)
        )
    return documents


FILTERS: list[dict[str, Any]] = [
    {"rating": {"$gte": 4.5}},
    {"rating": {"$gt": 2}},
    {"rating": {"$lt": 2.5}},
    {"rating": {"$lte": -0.5}},
    {"rating": 3},
    {"rating": 3.0},
    {"rating": 3.5},
    {"rating": {"$ne": 3.5}},
    {"rating": {"$in": [1, 2.5, 4.0]}},
    {"rating": {"$nin": [1, 2.5]}},
    {"maybe": {"$ne": 9}},
    {"maybe": None},
    {"maybe": {"$gt": 20}},
    {"missing": {"$nin": [1]}},
    {"tag": "beta"},
    {"tag": {"$ne": "alpha"}},
    {"tag": {"$gte": "beta"}},
    {"flag": True},
    {"flag": {"$ne": 1}},
    {"id": SNOWFLAKE + 3},
    {"id": {"$gt": SNOWFLAKE + 50}},
    {"id": {"$lt": 30}},
    {"id": {"$in": [10, SNOWFLAKE + 11]}},
    {"$or": [{"tag": "gamma"}, {"rating": {"$gte": 5}}]},
    {"$and": [{"flag": False}, {"rating": {"$lt": 4}}, {"tag": {"$nin": ["delta"]}}]},
]


def _reference(distance: Distance, query: Any, vectors: Any) -> Any:
    if distance == "dot":
        return vectors @ query
    if distance == "cosine":
        norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(query)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(norms > 0, (vectors @ query) / np.where(norms > 0, norms, 1.0), 0.0)
    return 1.0 / (1.0 + np.linalg.norm(vectors - query, axis=1))


def _attempt(call: Any) -> tuple[Any, InvalidInputError | None]:
    try:
        return call(), None
    except InvalidInputError as error:
        return None, error


class Tally:
    def __init__(self) -> None:
        self.searches = 0
        self.refused = 0
        self.expected = 0
        self.found = 0


def _check(
    backend: str,
    store: KnowledgeStore,
    collection: str,
    distance: Distance,
    documents: list[KnowledgeDocument],
    query: list[float],
    filters: dict[str, Any] | None,
    tally: Tally,
) -> None:
    vectors = np.array([document.embedding for document in documents], dtype=np.float64)
    by_id = dict(
        zip((document.id for document in documents), _reference(distance, np.array(query), vectors), strict=True)
    )
    scores = {int(key[1:]): float(value) for key, value in by_id.items()}
    node = None if filters is None else parse_filter(filters)
    matching = [int(d.id[1:]) for d in documents if node is None or matches(node, d.metadata)]
    for limit in (7, COUNT + 5):
        tally.searches += 1
        found, error = _attempt(lambda limit=limit: store.search(collection, query, limit=limit, filters=filters))
        if error is not None:
            assert filters is not None, f"{backend}: a search without a filter was refused: {error}"
            assert error.backend == backend, repr(error)
            tally.refused += 1
            return
        ids = [document.id for document in found]
        assert len(ids) == len(set(ids)) and len(ids) <= limit, (backend, ids)
        for document in found:
            index = int(document.id[1:])
            assert index in matching, (backend, filters, document.id)
            assert document.score is not None and math.isfinite(document.score), (backend, document)
            assert document.score == pytest.approx(scores[index], rel=1e-4, abs=2e-4), (backend, document.id)
        best = sorted((float(scores[i]) for i in matching), reverse=True)[:limit]
        tally.expected += len(best)
        if backend in APPROXIMATE:
            cutoff = best[-1] - 2e-4 if best else math.inf
            tally.found += sum(1 for document in found if scores[int(document.id[1:])] >= cutoff)
            continue
        tally.found += len(found)
        got = sorted((float(document.score or 0.0) for document in found), reverse=True)
        assert got == pytest.approx(best, rel=1e-4, abs=2e-4), (backend, distance, filters, limit)


@pytest.mark.parametrize("backend", list(KNOWLEDGE_DRIVERS))
def test_every_backend_agrees_with_the_numpy_reference(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, figures: Figures
) -> None:
    store = open_knowledge(backend, request, tmp_path, dimension=DIMENSION)
    documents = _documents()
    generator = random.Random(7)
    queries = [[_float32(generator.uniform(-1, 1)) for _ in range(DIMENSION)] for _ in range(2)]
    queries.append([0.0] * DIMENSION)
    tally, distances = Tally(), []
    for distance in DISTANCES:
        collection = f"diff_{distance}"
        _, error = _attempt(lambda: store.create_collection(collection, DIMENSION, distance))
        if error is not None:
            assert "distance" in str(error) and error.backend == backend, repr(error)
            continue
        distances.append(distance)
        stored = documents
        _, error = _attempt(lambda: store.insert(collection, stored))
        if error is not None:  # Pinecone's cosine indexes refuse zero vectors
            assert distance == "cosine" and "zero vector" in str(error) and error.backend == backend, repr(error)
            assert store.count(collection) == 0
            stored = [document for document in documents if any(document.embedding or ())]
            store.insert(collection, stored)
        assert store.count(collection) == len(stored)
        for query in queries:
            for filters in [None, *FILTERS]:
                _check(backend, store, collection, distance, stored, query, filters, tally)
        if distance == "cosine":
            _hypothesis_filters(backend, store, collection, stored, queries[0], tally)
    assert distances, f"{backend} supports no distance"
    if tally.expected:
        recall = tally.found / tally.expected
        assert recall >= (APPROXIMATE_RECALL if backend in APPROXIMATE else 1.0), (backend, recall)
    figures.record(
        "knowledge_differential",
        backend,
        distances=len(distances),
        searches=tally.searches,
        refused=tally.refused,
        recall=round(tally.found / max(tally.expected, 1), 4),
    )


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-1, 6),
        st.sampled_from([0.5, 2.5, 3.0, 4.5, -0.5, SNOWFLAKE + 3, SNOWFLAKE + 60, 2**53]),
        st.sampled_from(["alpha", "beta", "delta", "b", ""]),
    )


def _filters() -> st.SearchStrategy[Any]:
    fields = st.sampled_from(["rating", "tag", "flag", "id", "maybe", "missing"])
    leaf = st.one_of(
        st.builds(lambda name, value: {name: value}, fields, _scalars()),
        st.builds(
            lambda name, op, value: {name: {op: value}},
            fields,
            st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]),
            _scalars().filter(lambda value: value is not None and not isinstance(value, bool)),
        ),
        st.builds(
            lambda name, op, values: {name: {op: values}},
            fields,
            st.sampled_from(["$in", "$nin"]),
            st.lists(_scalars(), min_size=1, max_size=3),
        ),
    )
    return st.recursive(
        leaf,
        lambda children: st.builds(
            lambda op, parts: {op: parts}, st.sampled_from(["$and", "$or"]), st.lists(children, min_size=1, max_size=3)
        ),
        max_leaves=4,
    )


def _hypothesis_filters(
    backend: str,
    store: KnowledgeStore,
    collection: str,
    documents: list[KnowledgeDocument],
    query: list[float],
    tally: Tally,
) -> None:
    @settings(
        max_examples=HYPOTHESIS_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(filters=_filters())
    def check(filters: dict[str, Any]) -> None:
        _check(backend, store, collection, "cosine", documents, query, filters, tally)

    check()
