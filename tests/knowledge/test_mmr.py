"""MMR (knowledge/mmr.py): the pure-Python picks against a numpy reference on a fixed data set, the
same picks on several backends, deterministic ties, and the candidate set read through search and get."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest

from praisonai.persistence.errors import InvalidInputError
from praisonai.persistence.knowledge.base import Filter, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.mmr import maximal_marginal_relevance, search_mmr
from praisonai.persistence.registry import KNOWLEDGE_STORES

DIMENSION = 12
COUNT = 60


def dataset(seed: int = 7) -> tuple[list[str], list[list[float]], list[float]]:
    generator = random.Random(seed)
    centers = [[generator.uniform(-1, 1) for _ in range(DIMENSION)] for _ in range(4)]
    ids, vectors = [], []
    for index in range(COUNT):
        center = centers[index % 4]
        # Near-duplicates around a few centers: what MMR exists to spread out.
        vectors.append([value + generator.gauss(0, 0.15) for value in center])
        ids.append(f"doc{index:03d}")
    query = [value + generator.gauss(0, 0.3) for value in centers[0]]
    return ids, vectors, query


def numpy_mmr(
    query: Sequence[float], embeddings: Sequence[Sequence[float]], limit: int, lambda_mult: float
) -> list[int]:
    """The usual numpy formulation (as in LangChain's ``maximal_marginal_relevance``)."""
    matrix = np.asarray(embeddings, dtype=np.float64)
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    query_vector = np.asarray(query, dtype=np.float64)
    relevance = unit @ (query_vector / np.linalg.norm(query_vector))
    pairwise = unit @ unit.T
    picked = [int(np.argmax(relevance))]
    while len(picked) < min(limit, len(embeddings)):
        best_score, best = -np.inf, -1
        for index in range(len(embeddings)):
            if index in picked:
                continue
            score = lambda_mult * relevance[index] - (1 - lambda_mult) * pairwise[index, picked].max()
            if score > best_score:
                best_score, best = score, index
        picked.append(best)
    return picked


@pytest.mark.parametrize("lambda_mult", [0.0, 0.25, 0.5, 0.75, 1.0])
@pytest.mark.parametrize("limit", [1, 5, 12])
def test_matches_the_numpy_reference(lambda_mult: float, limit: int) -> None:
    ids, vectors, query = dataset()
    assert maximal_marginal_relevance(query, vectors, ids, limit, lambda_mult) == numpy_mmr(
        query, vectors, limit, lambda_mult
    )


def test_lambda_one_is_relevance_order_and_diversity_spreads_out() -> None:
    ids, vectors, query = dataset()
    by_relevance = numpy_mmr(query, vectors, 8, 1.0)
    assert maximal_marginal_relevance(query, vectors, ids, 8, 1.0) == by_relevance
    assert all(index % 4 == 0 for index in by_relevance[:8])  # plain search: one cluster only
    diverse = maximal_marginal_relevance(query, vectors, ids, 4, 0.3)
    assert sorted(index % 4 for index in diverse) == [0, 1, 2, 3]  # one of each cluster


def test_ties_go_to_relevance_then_to_the_smaller_id() -> None:
    same = [1.0, 0.0, 0.0]
    embeddings = [same, same, [0.0, 1.0, 0.0], same]
    ids = ["c", "a", "z", "b"]
    assert maximal_marginal_relevance([1.0, 0.0, 0.0], embeddings, ids, 2, 1.0) == [1, 3]
    # Input order does not matter: the same picks by id.
    order = [3, 2, 1, 0]
    picks = maximal_marginal_relevance([1.0, 0.0, 0.0], [embeddings[i] for i in order], [ids[i] for i in order], 4, 0.5)
    assert [ids[order[i]] for i in picks] == [
        ids[i] for i in maximal_marginal_relevance([1.0, 0.0, 0.0], embeddings, ids, 4, 0.5)
    ]


def _fill(store: KnowledgeStore, collection: str) -> tuple[list[str], list[list[float]], list[float]]:
    ids, vectors, query = dataset()
    store.create_collection(collection, DIMENSION)
    store.insert(
        collection,
        [
            KnowledgeDocument(id=i, content=i, embedding=v, metadata={"cluster": n % 4})
            for n, (i, v) in enumerate(zip(ids, vectors))
        ],
    )
    return ids, vectors, query


def _expected(
    ids: list[str], vectors: list[list[float]], query: list[float], fetch_k: int, limit: int, lam: float
) -> list[str]:
    relevance = np.asarray(vectors) @ np.asarray(query) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    candidates = sorted(np.argsort(-relevance)[:fetch_k])
    picks = numpy_mmr(query, [vectors[i] for i in candidates], limit, lam)
    return [ids[candidates[p]] for p in picks]


class WithoutEmbeddings(KnowledgeStore):
    """A store whose search results carry no embeddings (as many engines answer)."""

    def __init__(self, inner: KnowledgeStore) -> None:
        self.inner = inner
        self.gets: list[list[str]] = []

    def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        found = self.inner.search(collection, query_embedding, limit, filters, score_threshold)
        for document in found:
            document.embedding = None
        return found

    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        self.gets.append(list(ids))
        return self.inner.get(collection, ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    create_collection = delete_collection = collection_exists = list_collections = None  # type: ignore[assignment]
    insert = upsert = delete = count = close = None  # type: ignore[assignment]


@pytest.fixture
def memory() -> Iterator[KnowledgeStore]:
    store = KNOWLEDGE_STORES.create("memory")
    yield store
    store.close()


@pytest.mark.parametrize("lambda_mult", [0.2, 0.5, 0.9])
def test_search_mmr_on_a_plain_store(memory: KnowledgeStore, lambda_mult: float) -> None:
    ids, vectors, query = _fill(memory, "mmr")
    results = search_mmr(memory, "mmr", query, limit=5, fetch_k=20, lambda_mult=lambda_mult)
    assert [d.id for d in results] == _expected(ids, vectors, query, 20, 5, lambda_mult)
    scores = {d.id: d.score for d in memory.search("mmr", query, limit=20)}
    assert all(d.score == scores[d.id] and d.embedding is not None for d in results)


def test_embeddings_missing_from_search_results_are_read_with_get(memory: KnowledgeStore) -> None:
    ids, vectors, query = _fill(memory, "mmr")
    stripped = WithoutEmbeddings(memory)
    results = search_mmr(stripped, "mmr", query, limit=4, fetch_k=10, lambda_mult=0.5)
    assert [d.id for d in results] == _expected(ids, vectors, query, 10, 4, 0.5)
    assert len(stripped.gets) == 1 and len(stripped.gets[0]) == 10


def test_filters_limit_the_candidates(memory: KnowledgeStore) -> None:
    _fill(memory, "mmr")
    results = search_mmr(memory, "mmr", dataset()[2], limit=5, fetch_k=10, filters={"cluster": {"$in": [1, 2]}})
    assert len(results) == 5 and {d.metadata["cluster"] for d in results if d.metadata} <= {1, 2}


@pytest.mark.parametrize(
    ("arguments", "needle"),
    [
        ({"limit": 0}, "limit must be an int >= 1"),
        ({"limit": 5, "fetch_k": 4}, "fetch_k (4) must be >= limit (5)"),
        ({"lambda_mult": 1.5}, "lambda_mult"),
        ({"lambda_mult": True}, "lambda_mult"),
        ({"fetch_k": "20"}, "fetch_k"),
    ],
)
def test_bad_arguments(memory: KnowledgeStore, arguments: dict[str, Any], needle: str) -> None:
    _fill(memory, "mmr")
    with pytest.raises(InvalidInputError, match=needle.replace("(", r"\(").replace(")", r"\)")) as error:
        search_mmr(memory, "mmr", dataset()[2], **arguments)
    assert error.value.backend == "memory"


def _qdrant() -> KnowledgeStore:
    pytest.importorskip("qdrant_client", reason="the qdrant extra is not installed")
    return KNOWLEDGE_STORES.create("qdrant", path=":memory:")


def _chroma(tmp_path: Any) -> KnowledgeStore:
    pytest.importorskip("chromadb", reason="the chroma extra is not installed")
    return KNOWLEDGE_STORES.create("chroma", path=str(tmp_path / "chroma"))


@pytest.mark.parametrize("backend", ["memory", "qdrant", "chroma"])
def test_the_same_picks_on_every_backend(backend: str, tmp_path: Any) -> None:
    store = {
        "memory": lambda: KNOWLEDGE_STORES.create("memory"),
        "qdrant": _qdrant,
        "chroma": lambda: _chroma(tmp_path),
    }[backend]()
    try:
        ids, vectors, query = _fill(store, "mmr_backends")
        for lambda_mult in (0.0, 0.5, 1.0):
            results = search_mmr(store, "mmr_backends", query, limit=6, fetch_k=24, lambda_mult=lambda_mult)
            assert [d.id for d in results] == _expected(ids, vectors, query, 24, 6, lambda_mult), lambda_mult
    finally:
        store.close()
