"""The LangChain and LlamaIndex in-memory adapters' numpy search path (knowledge/_layers/framework_store.py).

With numpy, a search of a big enough cosine collection picks its candidates through
a :class:`~praisonai.persistence.knowledge._layers.matrix.MatrixIndex` and scores them
with the framework's own similarity function. These tests run the contract suite
with every search on that path, and compare it with the framework's own search
(numpy hidden from the adapter) on random data with filters: same ids, same order,
the same scores (to float rounding: the framework scores a whole matrix at once).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from praisonai.persistence.knowledge._layers import matrix
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract

pytest.importorskip("numpy")


def _langchain() -> KnowledgeStore:
    in_memory = pytest.importorskip("langchain_core.vectorstores")
    from praisonai.persistence.knowledge.langchain import PrecomputedEmbeddings

    return KNOWLEDGE_STORES.create(
        "langchain", vector_store=in_memory.InMemoryVectorStore(embedding=PrecomputedEmbeddings())
    )


def _llamaindex() -> KnowledgeStore:
    vector_stores = pytest.importorskip("llama_index.core.vector_stores")
    return KNOWLEDGE_STORES.create("llamaindex", vector_store=vector_stores.SimpleVectorStore())


FACTORIES: dict[str, Callable[[], KnowledgeStore]] = {"langchain": _langchain, "llamaindex": _llamaindex}


class TestLangChainContractThroughNumpy(KnowledgeStoreContract):
    supported_distances = ("cosine",)

    @pytest.fixture
    def store(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[KnowledgeStore]:
        monkeypatch.setattr(matrix, "MIN_ROWS", 1)
        store = _langchain()
        yield store
        store.close()


class TestLlamaIndexContractThroughNumpy(KnowledgeStoreContract):
    supported_distances = ("cosine",)

    @pytest.fixture
    def store(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[KnowledgeStore]:
        monkeypatch.setattr(matrix, "MIN_ROWS", 1)
        store = _llamaindex()
        yield store
        store.close()


def _documents(rng: random.Random, count: int, dimension: int) -> list[KnowledgeDocument]:
    colours = ["red", "green", "blue", None]
    return [
        KnowledgeDocument(
            id=f"d{index}",
            content=f"document {index}",
            embedding=[rng.gauss(0.0, 1.0) for _ in range(dimension)],
            metadata={"page": rng.randrange(20), "colour": rng.choice(colours), "score": rng.random()},
        )
        for index in range(count)
    ]


FILTERS: list[dict[str, Any] | None] = [
    None,
    {"page": {"$lt": 5}},
    {"colour": "red"},
    {"$or": [{"colour": {"$in": ["green", "blue"]}}, {"score": {"$gte": 0.9}}]},
    {"$and": [{"page": {"$ne": 3}}, {"colour": {"$nin": ["red"]}}]},
    {"colour": None},
    {"page": {"$gt": 100}},  # nothing passes
]


@pytest.mark.parametrize("backend", sorted(FACTORIES))
def test_numpy_path_returns_what_the_framework_returns(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(17)
    documents = _documents(rng, 600, 24)
    store = FACTORIES[backend]()
    store.create_collection("c", 24)
    store.insert("c", documents[:500])
    store.delete("c", ids=[f"d{index}" for index in range(0, 500, 7)])  # a write after the index was built
    queries = [[rng.gauss(0.0, 1.0) for _ in range(24)] for _ in range(4)]

    def both(query: list[float], limit: int, filters: dict[str, Any] | None) -> tuple[list[Any], list[Any]]:
        fast = store.search("c", query, limit=limit, filters=filters)
        assert store._collections["c"].numpy_index is not None  # type: ignore[attr-defined]  # the numpy path ran
        with monkeypatch.context() as patch:
            patch.setattr(matrix, "numpy_or_none", lambda: None)
            slow = store.search("c", query, limit=limit, filters=filters)
        return fast, slow

    for round_index in range(2):
        if round_index == 1:
            store.insert("c", documents[500:])  # the index is rebuilt for the new documents
        for query in queries:
            for filters in FILTERS:
                for limit in (1, 10, 40):
                    fast, slow = both(query, limit, filters)
                    assert [d.id for d in fast] == [d.id for d in slow], (filters, limit)
                    assert [d.score for d in fast] == pytest.approx([d.score for d in slow], rel=1e-12, abs=1e-15)
                    assert [d.metadata for d in fast] == [d.metadata for d in slow]
                    assert [d.content for d in fast] == [d.content for d in slow]
    store.close()
