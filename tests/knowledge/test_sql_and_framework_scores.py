"""Across pgvector, clickhouse, surrealdb_vector, langchain, llamaindex and lightrag: the same data
gives the same scores, equal to a numpy brute-force reference, for every distance each supports;
and their ``KnowledgeTransfer`` extras (``describe_collection``, ``iter_documents``) round-trip a
collection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from praisonai.persistence.knowledge.base import (
    DISTANCES,
    Distance,
    KnowledgeDocument,
    KnowledgeStore,
    KnowledgeTransfer,
)
from tests.support.knowledge_backends import open_knowledge

np = pytest.importorskip("numpy", reason="numpy is a test dependency")

SUPPORTED: dict[str, tuple[Distance, ...]] = {
    "pgvector": DISTANCES,
    "clickhouse": DISTANCES,
    "surrealdb_vector": DISTANCES,
    "langchain": ("cosine",),
    "llamaindex": ("cosine",),
    "lightrag": ("cosine",),
}


@pytest.fixture
def open_store(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], KnowledgeStore]:
    return lambda backend: open_knowledge(backend, request, tmp_path)


def _reference(distance: Distance, query: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    if distance == "dot":
        return vectors @ query
    if distance == "cosine":
        return (vectors @ query) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    return 1.0 / (1.0 + np.linalg.norm(vectors - query, axis=1))


@pytest.mark.parametrize("distance", DISTANCES)
def test_every_engine_scores_like_numpy(open_store: Callable[[str], KnowledgeStore], distance: Distance) -> None:
    generator = np.random.default_rng(2025)
    vectors = generator.uniform(-1, 1, (80, 16)).astype(np.float32).astype(np.float64)
    queries = generator.uniform(-1, 1, (3, 16)).astype(np.float32).astype(np.float64)
    documents = [KnowledgeDocument(id=f"v{i}", content=f"text {i}", embedding=list(v)) for i, v in enumerate(vectors)]
    by_backend: dict[str, list[list[tuple[str, float]]]] = {}
    for backend, distances in SUPPORTED.items():
        if distance not in distances:
            continue
        store = open_store(backend)
        store.create_collection("scores", 16, distance)
        store.insert("scores", documents)
        by_backend[backend] = [
            [(hit.id, float(hit.score or 0.0)) for hit in store.search("scores", list(q), limit=10)] for q in queries
        ]
    assert len(by_backend) >= 2, "too few engines installed to compare"
    for number, query in enumerate(queries):
        reference = _reference(distance, query, vectors)
        best = np.argsort(-reference, kind="stable")[:10]
        for backend, results in by_backend.items():
            hits = results[number]
            assert [score for _, score in hits] == pytest.approx(list(reference[best]), rel=1e-4, abs=1e-4), backend
            for document_id, score in hits:
                assert score == pytest.approx(reference[int(document_id[1:])], rel=1e-4, abs=1e-4), backend
        # And the engines agree with each other, document by document.
        first = dict(next(iter(by_backend.values()))[number])
        for backend, results in by_backend.items():
            for document_id, score in results[number]:
                if document_id in first:
                    assert score == pytest.approx(first[document_id], rel=1e-4, abs=1e-4), backend


@pytest.mark.parametrize("backend", list(SUPPORTED))
def test_transfer_extras_round_trip_a_collection(open_store: Callable[[str], KnowledgeStore], backend: str) -> None:
    store = open_store(backend)
    assert isinstance(store, KnowledgeTransfer)
    distance = SUPPORTED[backend][-1]
    store.create_collection("source", 4, distance, metadata={"owner": "transfer", "n": [1, 2]})
    info = store.describe_collection("source")
    assert (info.name, info.dimension, info.distance, info.metadata) == (
        "source",
        4,
        distance,
        {"owner": "transfer", "n": [1, 2]},
    )
    documents = [
        KnowledgeDocument(id=f"d{i}", content=f"c{i}", embedding=[float(i), 0.5, -1.0, 2.0], metadata={"i": i})
        for i in range(23)
    ]
    store.insert("source", documents)
    batches = list(store.iter_documents("source", batch_size=5))
    assert all(1 <= len(batch) <= 5 for batch in batches)
    seen = [document for batch in batches for document in batch]
    assert sorted(document.id for document in seen) == sorted(document.id for document in documents)
    by_id = {document.id: document for document in seen}
    for original in documents:
        copy = by_id[original.id]
        assert (copy.content, copy.metadata) == (original.content, original.metadata)
        assert copy.embedding == pytest.approx(original.embedding)
