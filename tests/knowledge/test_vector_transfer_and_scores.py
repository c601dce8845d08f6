"""Across the vector engines: the same data gives the same scores (checked against a numpy
brute-force reference) for cosine, dot and euclidean, and every engine's optional
``KnowledgeTransfer`` extras (``describe_collection``, ``iter_documents``) round-trip a collection."""

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
from praisonai.persistence.registry import KNOWLEDGE_STORES
from tests.support.emulators import require_driver

np = pytest.importorskip("numpy", reason="numpy is a test dependency")

BACKENDS = ("qdrant", "chroma", "lancedb", "milvus", "redis")
DRIVERS = {
    "qdrant": "qdrant_client",
    "chroma": "chromadb",
    "lancedb": "lancedb",
    "milvus": "pymilvus",
    "redis": "redis",
}


@pytest.fixture
def open_store(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[str], KnowledgeStore]:
    opened: list[KnowledgeStore] = []

    def open_(backend: str) -> KnowledgeStore:
        require_driver(DRIVERS[backend], "redis" if backend == "redis" else backend)
        if backend == "redis":
            server = request.getfixturevalue("redis_stack")
            store = KNOWLEDGE_STORES.create("redis", url=server.url, key_prefix=f"kbscores:{tmp_path.name}")
        elif backend == "milvus":
            store = KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / "m.db"))
        elif backend == "lancedb":
            store = KNOWLEDGE_STORES.create("lancedb", uri=str(tmp_path / "lance"))
        else:
            store = KNOWLEDGE_STORES.create(backend, path=str(tmp_path / backend))
        opened.append(store)
        return store

    yield open_
    for store in opened:
        for name in store.list_collections():
            store.delete_collection(name)
        store.close()


def _reference(distance: Distance, query: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    if distance == "dot":
        return vectors @ query
    if distance == "cosine":
        return (vectors @ query) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    return 1.0 / (1.0 + np.linalg.norm(vectors - query, axis=1))


@pytest.mark.parametrize("distance", DISTANCES)
def test_every_engine_scores_like_numpy(open_store: Callable[[str], KnowledgeStore], distance: Distance) -> None:
    generator = np.random.default_rng(2024)
    vectors = generator.uniform(-1, 1, (80, 16)).astype(np.float32).astype(np.float64)
    queries = generator.uniform(-1, 1, (3, 16)).astype(np.float32).astype(np.float64)
    documents = [KnowledgeDocument(id=f"v{i}", embedding=list(v)) for i, v in enumerate(vectors)]
    by_backend: dict[str, list[list[tuple[str, float]]]] = {}
    for backend in BACKENDS:
        store = open_store(backend)
        store.create_collection(f"scores_{distance}", 16, distance)
        store.insert(f"scores_{distance}", documents)
        by_backend[backend] = [
            [(hit.id, float(hit.score or 0.0)) for hit in store.search(f"scores_{distance}", list(q), limit=10)]
            for q in queries
        ]
    for number, query in enumerate(queries):
        reference = _reference(distance, query, vectors)
        best = np.argsort(-reference, kind="stable")[:10]
        for backend, results in by_backend.items():
            hits = results[number]
            assert [score for _, score in hits] == pytest.approx(list(reference[best]), rel=1e-4, abs=1e-4), backend
            for document_id, score in hits:
                assert score == pytest.approx(reference[int(document_id[1:])], rel=1e-4, abs=1e-4), backend


@pytest.mark.parametrize("backend", BACKENDS)
def test_transfer_extras_round_trip_a_collection(open_store: Callable[[str], KnowledgeStore], backend: str) -> None:
    store = open_store(backend)
    assert isinstance(store, KnowledgeTransfer)
    store.create_collection("source", 4, "euclidean", metadata={"owner": "transfer", "n": [1, 2]})
    info = store.describe_collection("source")
    assert (info.name, info.dimension, info.distance, info.metadata) == (
        "source",
        4,
        "euclidean",
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
