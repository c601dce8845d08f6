"""llamaindex: the knowledge contract suite over llama-index-core's SimpleVectorStore, plus adapter checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("llama_index.core", reason="llama-index-core runs these tests")

from llama_index.core.vector_stores import SimpleVectorStore
from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryResult

from praisonai.persistence.errors import ConfigError, UnsupportedFilterError
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.filters import And, Comparison, FilterNode, matches
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract


class TestLlamaIndexSimpleContract(KnowledgeStoreContract):
    supported_distances = ("cosine",)

    @pytest.fixture
    def store(self) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("llamaindex", vector_store=SimpleVectorStore())
        yield store
        store.close()


# -- the adapter ----------------------------------------------------------------------------------


class _ToyStore:
    """A minimal LlamaIndex-style store that is not SimpleVectorStore: keeps text, filters with a callable."""

    stores_text = True

    def __init__(self) -> None:
        self.nodes: dict[str, Any] = {}
        self.filters_seen: list[Any] = []

    def add(self, nodes: list[Any]) -> list[str]:
        for node in nodes:
            self.nodes[node.node_id] = node
        return [node.node_id for node in nodes]

    def delete_nodes(self, node_ids: list[str]) -> None:
        for node_id in node_ids:
            self.nodes.pop(node_id, None)

    def get_nodes(self, node_ids: list[str]) -> list[Any]:
        return [self.nodes[i] for i in node_ids if i in self.nodes]

    def query(self, query: VectorStoreQuery) -> VectorStoreQueryResult:
        self.filters_seen.append(query.filters)
        scored = sorted(
            (
                (sum(a * b for a, b in zip(query.query_embedding or [], node.embedding, strict=True)), node)
                for node in self.nodes.values()
                if query.filters is None or query.filters(node.metadata)
            ),
            key=lambda pair: -pair[0],
        )[: query.similarity_top_k]
        return VectorStoreQueryResult(
            nodes=[node for _, node in scored], similarities=[s for s, _ in scored], ids=[n.node_id for _, n in scored]
        )


def _predicate_translator(node: FilterNode) -> Callable[[dict[str, Any]], bool]:
    # A store whose native filter is a predicate over node metadata; here, the reference semantics.
    scope, user = (node.clauses[0], node.clauses[1]) if isinstance(node, And) else (node, None)
    assert isinstance(scope, Comparison)

    def predicate(metadata: dict[str, Any]) -> bool:
        import json

        if metadata.get(scope.field) != scope.value:
            return False
        return user is None or matches(user, json.loads(metadata["_praisonai_metadata"]))

    return predicate


def test_documents_are_real_llamaindex_nodes() -> None:
    vector_store = SimpleVectorStore()
    store = KNOWLEDGE_STORES.create("llama_index", vector_store=vector_store)
    store.create_collection("docs", 3)
    store.insert(
        "docs", [KnowledgeDocument(id="a", content="hello", embedding=[1.0, 0.0, 0.0], metadata={"doc_id": 7})]
    )
    result = vector_store.query(VectorStoreQuery(query_embedding=[1.0, 0.0, 0.0], similarity_top_k=1))
    [node_id] = result.ids or []
    assert vector_store.get(node_id) == [1.0, 0.0, 0.0]
    [loaded] = store.get("docs", ["a"])
    assert loaded.content == "hello" and loaded.metadata == {"doc_id": 7}  # LlamaIndex's own doc_id key kept apart


def test_other_stores_use_the_filter_translator() -> None:
    toy = _ToyStore()
    store = KNOWLEDGE_STORES.create(
        "llamaindex_adapter", vector_store=toy, distance="dot", filter_translator=_predicate_translator
    )
    store.create_collection("docs", 2, "dot")
    store.create_collection("other", 2, "dot")
    store.insert("docs", [KnowledgeDocument(id="a", content="A", embedding=[1.0, 0.0], metadata={"k": 1})])
    store.insert("docs", [KnowledgeDocument(id="b", content="B", embedding=[0.5, 0.0], metadata={"k": True})])
    store.insert("other", [KnowledgeDocument(id="a", content="other A", embedding=[3.0, 0.0])])
    assert [(r.id, r.content, r.score) for r in store.search("docs", [1.0, 0.0], filters={"k": 1})] == [("a", "A", 1.0)]
    assert [r.content for r in store.search("other", [1.0, 0.0])] == ["other A"]
    assert all(callable(f) for f in toy.filters_seen)
    assert [d.embedding for d in store.get("docs", ["b"])] == [[0.5, 0.0]]


def test_other_stores_without_a_translator_refuse_to_search() -> None:
    store = KNOWLEDGE_STORES.create("llamaindex", vector_store=_ToyStore(), distance="dot")
    store.create_collection("docs", 2, "dot")
    store.insert("docs", [KnowledgeDocument(id="a", embedding=[1.0, 0.0])])
    with pytest.raises(UnsupportedFilterError, match="filter_translator"):
        store.search("docs", [1.0, 0.0])


def test_something_that_is_not_a_vector_store_is_refused() -> None:
    with pytest.raises(ConfigError, match="LlamaIndex"):
        KNOWLEDGE_STORES.create("llamaindex", vector_store={"not": "a store"})
