"""LangChain's ``VectorStore`` over any knowledge store with an embedder (see the package docstring)."""

from __future__ import annotations

import contextlib
import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.runnables.config import run_in_executor
from langchain_core.vectorstores import VectorStore

from ...errors import AlreadyExistsError, InvalidInputError, UsageError
from ...knowledge.base import Distance, KnowledgeDocument, KnowledgeStore
from ...knowledge.mmr import check_mmr_args, search_mmr, search_mmr_async
from .._store_traits import backend_of, is_async

__all__ = ["EmbedderEmbeddings", "PersistenceVectorStore"]

# -- vectors --------------------------------------------------------------------------------------------------------


class EmbedderEmbeddings(Embeddings):
    """One of our embedders (sync or async) as LangChain ``Embeddings``."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self._async = is_async(getattr(embedder, "embed", None))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self._async:
            raise UsageError("this embedder is async: use aembed_documents()")
        return [list(vector) for vector in self.embedder.embed(texts)]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        if not self._async:
            return await super().aembed_documents(texts)
        return [list(vector) for vector in await self.embedder.embed(texts)]

    async def aembed_query(self, text: str) -> list[float]:
        return (await self.aembed_documents([text]))[0]


def _as_embeddings(embedding: Any, store: object) -> Embeddings:
    if embedding is None:
        embedding = getattr(store, "embedder", None)
        if embedding is None:
            raise UsageError(f"{backend_of(store)}: give an embedding (LangChain Embeddings or an embedder)")
    if isinstance(embedding, Embeddings):
        return embedding
    if callable(getattr(embedding, "embed", None)):
        return EmbedderEmbeddings(embedding)
    raise UsageError(f"{type(embedding).__name__} is neither LangChain Embeddings nor an embedder")


def _documents_out(found: Iterable[KnowledgeDocument]) -> list[Document]:
    return [
        Document(id=document.id, page_content=document.content, metadata=dict(document.metadata or {}))
        for document in found
    ]


def _relevance_for(distance: Distance) -> Callable[[float], float]:
    if distance == "cosine":
        return lambda score: (score + 1.0) / 2.0
    if distance == "euclidean":
        return lambda score: score  # 1 / (1 + d) is in (0, 1] already
    return lambda score: 1.0 / (1.0 + math.exp(-score)) if score > -700 else 0.0


class PersistenceVectorStore(VectorStore):
    """A LangChain ``VectorStore`` over one collection of a knowledge store, created on first write."""

    def __init__(
        self,
        store: Any,
        embedding: Any = None,
        *,
        collection: str = "langchain",
        distance: Distance = "cosine",
    ) -> None:
        # A text store (created with embedder=) is used through its vector methods: we embed ourselves.
        inner = getattr(store, "store", None) if hasattr(store, "search_text") else None
        self._embeddings = _as_embeddings(embedding, store)
        self.store: Any = inner if inner is not None else store
        self.collection = collection
        self.distance: Distance = distance
        self._async = is_async(self.store.search)
        self._ready = False

    def __repr__(self) -> str:
        return f"<PersistenceVectorStore {self.collection!r} on {backend_of(self.store)}>"

    @property
    def embeddings(self) -> Embeddings:
        return self._embeddings

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return _relevance_for(self.distance)

    def _sync(self, instead: str) -> KnowledgeStore:
        if self._async:
            raise UsageError(
                f"{backend_of(self.store)}: this vector store is over an async knowledge store; use {instead}"
            )
        return cast(KnowledgeStore, self.store)

    @staticmethod
    def _records(
        documents: Sequence[Document], vectors: Sequence[Sequence[float]], ids: Sequence[str | None] | None
    ) -> list[KnowledgeDocument]:
        if ids is not None and len(ids) != len(documents):
            raise InvalidInputError(f"{len(ids)} ids for {len(documents)} documents")
        records = []
        for index, (document, vector) in enumerate(zip(documents, vectors, strict=True)):
            id_ = (ids[index] if ids is not None else None) or document.id or str(uuid.uuid4())
            records.append(
                KnowledgeDocument(
                    id=id_,
                    content=document.page_content,
                    embedding=list(vector),
                    metadata=dict(document.metadata) or None,
                )
            )
        return records

    # -- sync -------------------------------------------------------------------------------------------------------

    def _ensure(self, store: KnowledgeStore, dimension: int) -> None:
        if not self._ready:
            if not store.collection_exists(self.collection):
                with contextlib.suppress(AlreadyExistsError):  # created meanwhile
                    store.create_collection(self.collection, dimension, distance=self.distance)
            self._ready = True

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        store = self._sync("aadd_documents()")
        if not documents:
            return []
        vectors = self._embeddings.embed_documents([document.page_content for document in documents])
        records = self._records(documents, vectors, kwargs.get("ids"))
        self._ensure(store, len(vectors[0]))
        return store.upsert(self.collection, records)

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            raise InvalidInputError(f"{len(metadatas)} metadatas for {len(texts)} texts")
        documents = [
            Document(page_content=text, metadata=(metadatas[i] if metadatas else {})) for i, text in enumerate(texts)
        ]
        return self.add_documents(documents, ids=ids)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete the documents with ``ids``; every document when ``ids`` is None."""
        store = self._sync("adelete()")
        if ids is None:
            store.delete_collection(self.collection)
            self._ready = False
            return True
        if ids and store.collection_exists(self.collection):
            store.delete(self.collection, ids=list(ids))
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        store = self._sync("aget_by_ids()")
        if not ids or not store.collection_exists(self.collection):
            return []
        return _documents_out(store.get(self.collection, list(ids)))

    def similarity_search_with_score_by_vector(
        self, embedding: list[float], k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        store = self._sync("asimilarity_search_with_score()")
        if not store.collection_exists(self.collection):
            return []
        found = store.search(
            self.collection, embedding, limit=k, filters=filter, score_threshold=kwargs.get("score_threshold")
        )
        return [(document, float(hit.score or 0.0)) for document, hit in zip(_documents_out(found), found, strict=True)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        return self.similarity_search_with_score_by_vector(self._embeddings.embed_query(query), k, filter, **kwargs)

    def similarity_search(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        return [document for document, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        return [document for document, _ in self.similarity_search_with_score_by_vector(embedding, k, filter, **kwargs)]

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        store = self._sync("amax_marginal_relevance_search()")
        k, fetch_k, lambda_mult = check_mmr_args(k, fetch_k, lambda_mult, backend_of(store))
        if not store.collection_exists(self.collection):
            return []
        return _documents_out(search_mmr(store, self.collection, embedding, k, fetch_k, lambda_mult, filter))

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        vector = self._embeddings.embed_query(query)
        return self.max_marginal_relevance_search_by_vector(vector, k, fetch_k, lambda_mult, filter, **kwargs)

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        store: Any = None,
        collection: str = "langchain",
        distance: Distance = "cosine",
        **kwargs: Any,
    ) -> PersistenceVectorStore:
        """A vector store over ``store`` (by default a new in-memory knowledge store) holding ``texts``."""
        if store is None:
            from ...registry import KNOWLEDGE_STORES

            store = KNOWLEDGE_STORES.create("memory")
        vectorstore = cls(store, embedding, collection=collection, distance=distance)
        if vectorstore._async:
            raise UsageError(f"{backend_of(store)}: over an async knowledge store use afrom_texts()")
        vectorstore.add_texts(texts, metadatas, ids=ids)
        return vectorstore

    @classmethod
    async def afrom_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> PersistenceVectorStore:
        """:meth:`from_texts` for asyncio, with its keywords (``store``, ``collection``, ``distance``)."""
        store = kwargs.pop("store", None)
        if store is None:
            return cls.from_texts(texts, embedding, metadatas, ids=ids, **kwargs)
        vectorstore = cls(store, embedding, **{key: kwargs[key] for key in ("collection", "distance") if key in kwargs})
        await vectorstore.aadd_texts(texts, metadatas, ids=ids)
        return vectorstore

    # -- async: native over an async store, LangChain's thread offload over a sync one ----------------------------

    async def _aensure(self, dimension: int) -> None:
        if not self._ready:
            if not await self.store.collection_exists(self.collection):
                with contextlib.suppress(AlreadyExistsError):
                    await self.store.create_collection(self.collection, dimension, distance=self.distance)
            self._ready = True

    async def aadd_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        if not self._async:
            return await run_in_executor(None, self.add_documents, documents, **kwargs)
        if not documents:
            return []
        vectors = await self._embeddings.aembed_documents([document.page_content for document in documents])
        records = self._records(documents, vectors, kwargs.get("ids"))
        await self._aensure(len(vectors[0]))
        return cast(list[str], await self.store.upsert(self.collection, records))

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        if not self._async:
            return await run_in_executor(None, self.add_texts, texts, metadatas, ids=ids, **kwargs)
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            raise InvalidInputError(f"{len(metadatas)} metadatas for {len(texts)} texts")
        documents = [
            Document(page_content=text, metadata=(metadatas[i] if metadatas else {})) for i, text in enumerate(texts)
        ]
        return await self.aadd_documents(documents, ids=ids)

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        if not self._async:
            return await run_in_executor(None, self.delete, ids, **kwargs)
        if ids is None:
            await self.store.delete_collection(self.collection)
            self._ready = False
            return True
        if ids and await self.store.collection_exists(self.collection):
            await self.store.delete(self.collection, ids=list(ids))
        return True

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        if not self._async:
            return await run_in_executor(None, self.get_by_ids, ids)
        if not ids or not await self.store.collection_exists(self.collection):
            return []
        return _documents_out(await self.store.get(self.collection, list(ids)))

    async def _asearch(
        self, embedding: list[float], k: int, filter: dict[str, Any] | None, threshold: float | None
    ) -> list[tuple[Document, float]]:
        if not await self.store.collection_exists(self.collection):
            return []
        found = await self.store.search(self.collection, embedding, limit=k, filters=filter, score_threshold=threshold)
        return [(document, float(hit.score or 0.0)) for document, hit in zip(_documents_out(found), found, strict=True)]

    async def asimilarity_search_with_score(self, *args: Any, **kwargs: Any) -> list[tuple[Document, float]]:
        if not self._async:
            return await run_in_executor(None, self.similarity_search_with_score, *args, **kwargs)
        return await self._ascored(*args, **kwargs)

    async def _ascored(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        vector = await self._embeddings.aembed_query(query)
        return await self._asearch(vector, k, filter, kwargs.get("score_threshold"))

    async def asimilarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        if not self._async:
            return await run_in_executor(None, self.similarity_search, query, k, **kwargs)
        return [document for document, _ in await self.asimilarity_search_with_score(query, k, **kwargs)]

    async def asimilarity_search_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[Document]:
        if not self._async:
            return await run_in_executor(None, self.similarity_search_by_vector, embedding, k, **kwargs)
        found = await self._asearch(embedding, k, kwargs.get("filter"), kwargs.get("score_threshold"))
        return [document for document, _ in found]

    async def amax_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        **kwargs: Any,
    ) -> list[Document]:
        if not self._async:
            return await run_in_executor(
                None, self.max_marginal_relevance_search_by_vector, embedding, k, fetch_k, lambda_mult, **kwargs
            )
        k, fetch_k, lambda_mult = check_mmr_args(k, fetch_k, lambda_mult, backend_of(self.store))
        if not await self.store.collection_exists(self.collection):
            return []
        picked = await search_mmr_async(
            self.store, self.collection, embedding, k, fetch_k, lambda_mult, kwargs.get("filter")
        )
        return _documents_out(picked)

    async def amax_marginal_relevance_search(
        self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, **kwargs: Any
    ) -> list[Document]:
        if not self._async:
            return await run_in_executor(
                None, self.max_marginal_relevance_search, query, k, fetch_k, lambda_mult, **kwargs
            )
        vector = await self._embeddings.aembed_query(query)
        return await self.amax_marginal_relevance_search_by_vector(vector, k, fetch_k, lambda_mult, **kwargs)
