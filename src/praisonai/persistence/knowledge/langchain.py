"""LangChain: the knowledge contract over any LangChain ``VectorStore`` object.

Engine: the wrapped store (``langchain_core.vectorstores.InMemoryVectorStore``,
or any store with ``add_documents``, ``delete``, ``get_by_ids`` and
``similarity_search_with_score_by_vector``). Driver: ``langchain-core``
(``pip install "praisonai-persistence[langchain]"``) plus whatever the wrapped
store needs. No URL: pass the store object::

    from langchain_core.vectorstores import InMemoryVectorStore
    from praisonai.persistence.knowledge.langchain import PrecomputedEmbeddings

    store = KNOWLEDGE_STORES.create(
        "langchain", vector_store=InMemoryVectorStore(embedding=PrecomputedEmbeddings())
    )

Test tier: embedded (``InMemoryVectorStore`` of langchain-core, in process).
Other LangChain stores are not exercised.

Embeddings: the contract hands the store ready-made vectors, which LangChain's
``add_documents`` cannot take; it calls the store's embedding model instead. So
the store must be built with :class:`PrecomputedEmbeddings`, which returns the
vectors the adapter is writing (and sends any other text to its optional
``fallback`` model), or must offer ``add_embeddings`` (FAISS, PGVector, ...).

Distances: the wrapped store decides (``InMemoryVectorStore`` ranks by cosine
similarity); ``distance=`` says which one it is, and collections of any other
distance are refused. Filters: exact for ``InMemoryVectorStore`` (a Python
predicate with the reference semantics); other stores need ``filter_translator``.
With numpy installed, ``InMemoryVectorStore`` searches of collections of 256
documents or more go through the adapter's numpy index and LangChain's own cosine
function (:mod:`._layers.framework_store`): the same results, at the speed of a
matrix product.
Collections and their ids are tracked by the adapter object; see
:mod:`._layers.framework_store` for the layout.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from ..errors import ConfigError, FieldError, StoreError
from ._layers.framework_store import FrameworkKnowledgeStore, Hit, StoredRecord
from .base import KnowledgeDocument
from .config import LangChainKnowledgeConfig
from .filters import FilterNode

__all__ = ["LangChainKnowledgeStore", "PrecomputedEmbeddings"]


class PrecomputedEmbeddings:
    """A LangChain ``Embeddings`` that returns the vectors the praisonai adapter is writing.

    Build the wrapped store with it. Texts it has no vectors for (a text query
    from a LangChain retriever, say) go to ``fallback``, a real LangChain
    ``Embeddings``; without one they raise. Vectors are handed over per thread,
    so concurrent writers never see each other's.
    """

    def __init__(self, fallback: Any = None) -> None:
        self.fallback = fallback
        self._local = threading.local()

    @contextmanager
    def provide(self, vectors: Sequence[Sequence[float]]) -> Iterator[None]:
        """Within this block, the next ``embed_documents`` call in this thread returns ``vectors``."""
        self._local.vectors = [list(vector) for vector in vectors]
        try:
            yield
        finally:
            self._local.vectors = None

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] | None = getattr(self._local, "vectors", None)
        if vectors is None:
            if self.fallback is not None:
                result: list[list[float]] = self.fallback.embed_documents(texts)
                return result
            raise RuntimeError(
                "PrecomputedEmbeddings has no vectors for these texts: write through the praisonai adapter, "
                "or pass fallback= a real embedding model"
            )
        if len(vectors) != len(texts):
            raise RuntimeError(f"the store asked for {len(texts)} embeddings, {len(vectors)} were provided")
        self._local.vectors = None  # one call consumes them
        return vectors

    def embed_query(self, text: str) -> list[float]:
        if self.fallback is not None:
            result: list[float] = self.fallback.embed_query(text)
            return result
        raise RuntimeError("PrecomputedEmbeddings cannot embed a text query; pass fallback= a real embedding model")

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)


class LangChainKnowledgeStore(FrameworkKnowledgeStore):
    """Knowledge store over a LangChain vector store; thread-safe (one lock)."""

    backend = "langchain"
    config: LangChainKnowledgeConfig

    def __init__(self, config: LangChainKnowledgeConfig) -> None:
        super().__init__(config)
        embeddings_module = self._import_driver("langchain_core.embeddings")
        self._documents = self._import_driver("langchain_core.documents")
        embeddings_module.Embeddings.register(PrecomputedEmbeddings)
        in_memory = self._import_driver("langchain_core.vectorstores")
        self._in_memory = isinstance(self.vector_store, in_memory.InMemoryVectorStore)
        self._scores_in_process = self._in_memory
        embeddings = getattr(self.vector_store, "embeddings", None)
        self._precomputed = embeddings if isinstance(embeddings, PrecomputedEmbeddings) else None
        if self._precomputed is None and not callable(getattr(self.vector_store, "add_embeddings", None)):
            raise ConfigError(
                self.backend,
                [
                    FieldError(
                        "vector_store",
                        f"{type(self.vector_store).__name__} embeds texts with its own model and has no "
                        "add_embeddings; build it with praisonai.persistence.knowledge.langchain."
                        "PrecomputedEmbeddings() as its embedding so the caller's vectors are stored",
                    )
                ],
                kind="knowledge",
            )

    def __repr__(self) -> str:
        return f"LangChainKnowledgeStore(vector_store={type(self.vector_store).__name__})"

    def _add(self, items: list[tuple[str, KnowledgeDocument, dict[str, Any]]]) -> None:
        ids = [store_id for store_id, _, _ in items]
        vectors = [document.embedding or [] for _, document, _ in items]
        if self._precomputed is not None:
            documents = [
                self._documents.Document(id=store_id, page_content=document.content, metadata=metadata)
                for store_id, document, metadata in items
            ]
            with self._precomputed.provide(vectors):
                self.vector_store.add_documents(documents, ids=ids)
        else:
            self.vector_store.add_embeddings(
                text_embeddings=[
                    (document.content, vector) for (_, document, _), vector in zip(items, vectors, strict=True)
                ],
                metadatas=[metadata for _, _, metadata in items],
                ids=ids,
            )

    def _remove_records(self, store_ids: list[str]) -> None:
        if self.vector_store.delete(ids=store_ids) is False:
            raise StoreError("the LangChain store refused to delete documents")

    def _fetch_records(self, store_ids: list[str]) -> dict[str, StoredRecord]:
        found = {}
        for document in self.vector_store.get_by_ids(store_ids):
            found[str(document.id)] = StoredRecord(
                content=document.page_content,
                metadata=dict(document.metadata),
                embedding=self._stored_vector(str(document.id)),
            )
        return found

    def _stored_vector(self, store_id: str) -> list[float] | None:
        # LangChain documents carry no vector; the in-memory store keeps it in a public dict.
        if not self._in_memory:
            return None
        item = self.vector_store.store.get(store_id)
        return None if item is None else [float(value) for value in item["vector"]]

    def _exact_search(
        self, query: list[float], limit: int, collection: str, node: FilterNode | None
    ) -> list[Hit] | None:
        if not self._in_memory:
            return None

        def predicate(document: Any) -> bool:
            return self.exact_filter(collection, node, document.metadata)

        try:
            pairs = self.vector_store.similarity_search_with_score_by_vector(query, k=limit, filter=predicate)
        except ValueError as error:
            if "NaN values found" not in str(error):
                raise
            # langchain-core refuses when every candidate's cosine is NaN: each is a zero vector,
            # whose cosine is 0.0 (the base sets it). Take them as they are stored.
            stored = (
                SimpleNamespace(id=key, page_content=item["text"], metadata=item["metadata"])
                for key, item in self.vector_store.store.items()
            )
            pairs = [(document, math.nan) for document in stored if predicate(document)][:limit]
        return [self._hit(document, score) for document, score in pairs]

    def _similarities(self, query: list[float], vectors: list[list[float]]) -> list[float] | None:
        if not self._in_memory:
            return None
        # The function InMemoryVectorStore scores with (numpy, or simsimd when installed).
        utils = self._import_driver("langchain_core.vectorstores.utils")
        try:
            similarity = utils._cosine_similarity([query], vectors)[0]
        except ValueError as error:
            if "NaN values found" not in str(error):
                raise
            return [math.nan] * len(vectors)  # every cosine is NaN (zero vectors): as _exact_search takes them
        return [float(value) for value in similarity]

    def _native_search(self, query: list[float], limit: int, native_filter: Any) -> list[Hit]:
        pairs = self.vector_store.similarity_search_with_score_by_vector(query, k=limit, filter=native_filter)
        return [self._hit(document, score) for document, score in pairs]

    def _hit(self, document: Any, score: float) -> Hit:
        store_id = str(document.id)
        record = StoredRecord(document.page_content, dict(document.metadata), self._stored_vector(store_id))
        return Hit(store_id, float(score), record)
