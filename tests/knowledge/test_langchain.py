"""langchain: the knowledge contract suite over langchain-core's InMemoryVectorStore, plus adapter checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("langchain_core", reason="langchain-core runs these tests")

from langchain_core.documents import Document
from langchain_core.vectorstores import InMemoryVectorStore

from praisonai.persistence.errors import ConfigError, InvalidInputError, UnsupportedFilterError
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.filters import And, Comparison, FilterNode
from praisonai.persistence.knowledge.langchain import PrecomputedEmbeddings
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract


class TestLangChainInMemoryContract(KnowledgeStoreContract):
    supported_distances = ("cosine",)

    @pytest.fixture
    def store(self) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create(
            "langchain", vector_store=InMemoryVectorStore(embedding=PrecomputedEmbeddings())
        )
        yield store
        store.close()


# -- the adapter ----------------------------------------------------------------------------------


class _HashEmbeddings:
    """A stand-in embedding model (a real one would be downloaded or called over the network)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0, float(len(text) % 7), 0.5]


class _DictStore:
    """A minimal LangChain-style store that is not InMemoryVectorStore: native dict filters, dot scores."""

    def __init__(self) -> None:
        self.embeddings = PrecomputedEmbeddings()
        self.rows: dict[str, tuple[Document, list[float]]] = {}
        self.filters_seen: list[Any] = []

    def add_documents(self, documents: list[Document], ids: list[str]) -> list[str]:
        vectors = self.embeddings.embed_documents([d.page_content for d in documents])
        for document, vector, store_id in zip(documents, vectors, ids, strict=True):
            self.rows[store_id] = (
                Document(id=store_id, page_content=document.page_content, metadata=document.metadata),
                vector,
            )
        return ids

    def delete(self, ids: list[str]) -> bool:
        for store_id in ids:
            self.rows.pop(store_id, None)
        return True

    def get_by_ids(self, ids: list[str]) -> list[Document]:
        return [self.rows[i][0] for i in ids if i in self.rows]

    def similarity_search_with_score_by_vector(
        self, embedding: list[float], k: int, filter: dict[str, Any] | None = None
    ) -> list[tuple[Document, float]]:
        self.filters_seen.append(filter)
        found = [
            (document, sum(a * b for a, b in zip(embedding, vector, strict=True)))
            for document, vector in self.rows.values()
            if all(document.metadata.get(key) == value for key, value in (filter or {}).items())
        ]
        return sorted(found, key=lambda pair: -pair[1])[:k]


def _equality_translator(node: FilterNode) -> dict[str, Any]:
    """Translate the only shapes this toy store supports: equality, and ANDs of equalities."""
    parts = node.clauses if isinstance(node, And) else (node,)
    out = {}
    for part in parts:
        if not isinstance(part, Comparison) or part.op != "$eq":
            raise UnsupportedFilterError("only equality", backend="toy")
        out[part.field] = part.value
    return out


def test_documents_are_real_langchain_documents() -> None:
    vector_store = InMemoryVectorStore(embedding=PrecomputedEmbeddings())
    store = KNOWLEDGE_STORES.create("langchain_adapter", vector_store=vector_store)
    store.create_collection("docs", 3)
    store.insert(
        "docs", [KnowledgeDocument(id="a", content="hello", embedding=[1.0, 0.0, 0.0], metadata={"lang": "en"})]
    )
    [(document, score)] = vector_store.similarity_search_with_score_by_vector([1.0, 0.0, 0.0], k=1)
    assert document.page_content == "hello" and score == pytest.approx(1.0)
    assert document.metadata["lang"] == "en"  # scalar metadata is native too, for LangChain's own filters
    assert all(key.startswith("_praisonai_") or key == "lang" for key in document.metadata)


def test_a_store_with_its_own_embedding_model_is_refused() -> None:
    with pytest.raises(ConfigError, match="PrecomputedEmbeddings"):
        KNOWLEDGE_STORES.create("langchain", vector_store=InMemoryVectorStore(embedding=_HashEmbeddings()))


def test_something_that_is_not_a_vector_store_is_refused() -> None:
    with pytest.raises(ConfigError, match="vector_store"):
        KNOWLEDGE_STORES.create("langchain", vector_store=object())


def test_precomputed_embeddings_fall_back_to_a_model_for_text_queries() -> None:
    plain = PrecomputedEmbeddings()
    with pytest.raises(RuntimeError, match="fallback"):
        plain.embed_query("hello")
    with_model = PrecomputedEmbeddings(fallback=_HashEmbeddings())
    vector_store = InMemoryVectorStore(embedding=with_model)
    store = KNOWLEDGE_STORES.create("langchain", vector_store=vector_store)
    store.create_collection("docs", 3)
    store.insert("docs", [KnowledgeDocument(id="a", content="hello", embedding=[1.0, 5.0, 0.5])])
    # A LangChain retriever embeds its text query with the fallback model and finds our document.
    [found] = vector_store.similarity_search("hello", k=1)
    assert found.page_content == "hello"


def test_reserved_metadata_keys_are_refused() -> None:
    store = KNOWLEDGE_STORES.create("langchain", vector_store=InMemoryVectorStore(embedding=PrecomputedEmbeddings()))
    store.create_collection("docs", 2)
    with pytest.raises(InvalidInputError, match="reserved"):
        store.insert("docs", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"_praisonai_id": "x"})])
    assert store.count("docs") == 0


def test_other_stores_need_a_filter_translator() -> None:
    toy = _DictStore()
    store = KNOWLEDGE_STORES.create("langchain", vector_store=toy, distance="dot")
    store.create_collection("docs", 2, "dot")
    store.insert("docs", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"k": "x"})])
    with pytest.raises(UnsupportedFilterError, match="filter_translator"):
        store.search("docs", [1.0, 0.0])  # even unfiltered: the collection itself is a filter
    assert store.delete("docs", filters={"k": "x"}) == 1  # delete by filter is exact without one


def test_filter_translator_and_score_transform() -> None:
    toy = _DictStore()
    store = KNOWLEDGE_STORES.create(
        "langchain",
        vector_store=toy,
        distance="dot",
        filter_translator=_equality_translator,
        score_transform=lambda raw: raw * 10,
    )
    store.create_collection("docs", 2, "dot")
    store.create_collection("other", 2, "dot")
    store.insert("docs", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"k": "x"})])
    store.insert("docs", [KnowledgeDocument(id="b", embedding=[0.5, 0.0], metadata={"k": "y"})])
    store.insert("other", [KnowledgeDocument(id="a", embedding=[2.0, 0.0])])
    results = store.search("docs", [1.0, 0.0], filters={"k": "y"})
    assert [(r.id, r.score) for r in results] == [("b", 5.0)]
    assert toy.filters_seen[-1] == {"_praisonai_collection": "docs", "k": "y"}
    assert [r.id for r in store.search("other", [1.0, 0.0])] == ["a"]
    with pytest.raises(UnsupportedFilterError):
        store.search("docs", [1.0, 0.0], filters={"k": {"$ne": "y"}})
    with pytest.raises(InvalidInputError):
        store.create_collection("cosine_one", 2, "cosine")  # the wrapped store ranks by dot product
