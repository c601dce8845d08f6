"""Knowledge stores that take text: any :class:`KnowledgeStore` plus an embedder.

>>> store = KNOWLEDGE_STORES.create("memory", embedder="sentence_transformers")
>>> store.create_collection("docs")                       # the embedder's dimension
>>> store.insert("docs", [KnowledgeDocument(content="Paris is in France")])
>>> store.search_text("docs", "Which country is Paris in?")

``KNOWLEDGE_STORES.create(name, ..., embedder=...)`` (an :class:`Embedder`, an
embedder's name or its config) wraps the store it creates, a plugin's
included, in :class:`EmbeddingKnowledgeStore`, a :class:`TextKnowledgeStore`.
The wrapper changes no adapter: it embeds and checks dimensions, then calls
the store.

- ``insert`` / ``upsert`` embed the ``content`` of the documents that have no
  embedding, ``batch_size`` texts per call to the embedder, on copies (the
  caller's documents are not changed); documents with embeddings pass as they
  are, so vectors given explicitly keep working.
- ``search_text``, ``search_mmr_text``: a text query, embedded with
  ``embed_query``; ``search_mmr``: maximal marginal relevance by vector
  (:mod:`.mmr`).
- ``create_collection``'s ``dimension`` defaults to the embedder's. The
  embedder's dimension is checked against the collection's (known from
  ``create_collection`` through the wrapper, or read with
  ``describe_collection`` when the store has it) before a text is embedded for
  it: a mismatch is an :class:`InvalidInputError` naming the backend and both
  dimensions.
- ``close()`` closes the store, and the embedder when the wrapper created it
  (from a name or config).

Every other attribute (``describe_collection``, ``iter_documents``, ``save``...)
is the store's own.
"""

from __future__ import annotations

import dataclasses
import threading
from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

from ..errors import InvalidInputError
from .base import Distance, Filter, KnowledgeDocument, KnowledgeStore
from .mmr import check_mmr_args, search_mmr

if TYPE_CHECKING:
    from ..embedders.base import Embedder
    from ..embedders.config import EmbedderConfig

__all__ = ["EmbedderSpec", "EmbeddingKnowledgeStore", "TextKnowledgeStore", "with_embedder"]

EmbedderSpec: TypeAlias = "Embedder | EmbedderConfig | str"
"""What ``embedder=`` accepts: an embedder, or the name or config of one to create."""

DEFAULT_BATCH_SIZE = 64


@runtime_checkable
class TextKnowledgeStore(KnowledgeStore, Protocol):
    """A :class:`KnowledgeStore` that embeds text itself, and searches by text and with MMR."""

    @abstractmethod
    def create_collection(
        self,
        name: str,
        dimension: int | None = None,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create a collection of the given dimension (default: the embedder's)."""

    @abstractmethod
    def search_text(
        self,
        collection: str,
        query: str,
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        """``search`` by the embedding of ``query``."""

    @abstractmethod
    def search_mmr(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filters: Filter | None = None,
    ) -> list[KnowledgeDocument]:
        """Maximal marginal relevance among the ``fetch_k`` best matches; see :mod:`.mmr`."""

    @abstractmethod
    def search_mmr_text(
        self,
        collection: str,
        query: str,
        limit: int = 5,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filters: Filter | None = None,
    ) -> list[KnowledgeDocument]:
        """``search_mmr`` by the embedding of ``query``."""


class EmbeddingKnowledgeStore(TextKnowledgeStore):
    """A knowledge store and an embedder, as one :class:`TextKnowledgeStore`.

    ``store`` and ``embedder`` are the wrapped objects; ``backend`` names the
    store's backend in error messages.
    """

    def __init__(
        self,
        store: KnowledgeStore,
        embedder: Embedder,
        *,
        backend: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        owns_embedder: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        self.store = store
        self.embedder = embedder
        self.backend = backend or str(getattr(store, "backend", type(store).__name__))
        self.batch_size = batch_size
        self._owns_embedder = owns_embedder
        self._dimensions: dict[str, int] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<EmbeddingKnowledgeStore {self.store!r} embedder={self.embedder!r}>"

    def __getattr__(self, name: str) -> Any:
        # Only reached for names this class lacks: the store's extras (describe_collection, save...).
        if name in ("store", "embedder", "backend", "batch_size", "_dimensions", "_lock", "_owns_embedder"):
            raise AttributeError(name)  # not set yet (a half-built wrapper): never recurse
        return getattr(self.store, name)

    # -- dimensions ---------------------------------------------------------------------------

    def _mismatch(self, collection: str, dimension: int) -> InvalidInputError:
        embedder = getattr(self.embedder, "backend", None) or type(self.embedder).__name__
        return InvalidInputError(
            f"collection {collection!r} has dimension {dimension}, but the embedder "
            f"{embedder!r} gives vectors of dimension {self.embedder.dimension}",
            backend=self.backend,
        )

    def _check_dimension(self, collection: str) -> None:
        """Raise if the collection is known to have another dimension than the embedder's."""
        with self._lock:
            dimension = self._dimensions.get(collection)
        if dimension is None:
            describe = getattr(self.store, "describe_collection", None)
            if not callable(describe):
                return  # the store checks each vector's dimension itself
            dimension = describe(collection).dimension
            if not isinstance(dimension, int):
                return
            with self._lock:
                self._dimensions[collection] = dimension
        if dimension != self.embedder.dimension:
            raise self._mismatch(collection, dimension)

    # -- the contract, with text --------------------------------------------------------------

    def create_collection(
        self,
        name: str,
        dimension: int | None = None,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        wanted = self.embedder.dimension if dimension is None else dimension
        if dimension is not None and dimension != self.embedder.dimension:
            raise self._mismatch(name, dimension)
        self.store.create_collection(name, wanted, distance, metadata)
        with self._lock:
            self._dimensions[name] = wanted

    def delete_collection(self, name: str) -> bool:
        with self._lock:
            self._dimensions.pop(name, None)
        return self.store.delete_collection(name)

    def collection_exists(self, name: str) -> bool:
        return self.store.collection_exists(name)

    def list_collections(self) -> list[str]:
        return self.store.list_collections()

    def _embedded(self, collection: str, documents: Sequence[KnowledgeDocument]) -> Sequence[KnowledgeDocument]:
        """``documents`` with every missing embedding filled in from ``content`` (on copies)."""
        given: object = documents
        if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
            return documents  # the store refuses it with its own message
        pending = [i for i, d in enumerate(given) if isinstance(d, KnowledgeDocument) and d.embedding is None]
        if not pending:
            return documents
        for index in pending:
            if not documents[index].content:
                raise InvalidInputError(
                    f"document {documents[index].id!r} has neither an embedding nor content to embed",
                    backend=self.backend,
                )
        self._check_dimension(collection)
        result = list(documents)
        for start in range(0, len(pending), self.batch_size):
            chunk = pending[start : start + self.batch_size]
            vectors = self.embedder.embed([documents[index].content for index in chunk])
            if len(vectors) != len(chunk):
                raise InvalidInputError(
                    f"the embedder returned {len(vectors)} vectors for {len(chunk)} texts", backend=self.backend
                )
            for index, vector in zip(chunk, vectors, strict=True):
                result[index] = dataclasses.replace(documents[index], embedding=vector)
        return result

    def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self.store.insert(collection, self._embedded(collection, documents))

    def upsert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self.store.upsert(collection, self._embedded(collection, documents))

    def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        return self.store.search(collection, query_embedding, limit, filters, score_threshold)

    def _query_vector(self, collection: str, query: str) -> list[float]:
        if not isinstance(query, str):
            raise InvalidInputError(f"query must be a str, not {type(query).__name__}", backend=self.backend)
        self._check_dimension(collection)
        return self.embedder.embed_query(query)

    def search_text(
        self,
        collection: str,
        query: str,
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        return self.store.search(collection, self._query_vector(collection, query), limit, filters, score_threshold)

    def search_mmr(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filters: Filter | None = None,
    ) -> list[KnowledgeDocument]:
        return search_mmr(self.store, collection, query_embedding, limit, fetch_k, lambda_mult, filters)

    def search_mmr_text(
        self,
        collection: str,
        query: str,
        limit: int = 5,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filters: Filter | None = None,
    ) -> list[KnowledgeDocument]:
        check_mmr_args(limit, fetch_k, lambda_mult, self.backend)  # before the query is embedded
        vector = self._query_vector(collection, query)
        return search_mmr(self.store, collection, vector, limit, fetch_k, lambda_mult, filters)

    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        return self.store.get(collection, ids)

    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        return self.store.delete(collection, ids, filters)

    def count(self, collection: str) -> int:
        return self.store.count(collection)

    def close(self) -> None:
        try:
            self.store.close()
        finally:
            if self._owns_embedder:
                self.embedder.close()


def resolve_embedder(embedder: object) -> tuple[Embedder, bool]:
    """An :class:`Embedder` from what ``embedder=`` was given, and whether it was created here."""
    from ..registry import EMBEDDERS

    created = isinstance(embedder, str) or getattr(type(embedder), "is_store_config", False)
    if created:
        embedder = EMBEDDERS.create(embedder)  # type: ignore[call-overload]
    if not _is_sync(embedder):
        # An async embedder (a plugin's) opens nothing until used, so there is nothing to close here.
        raise TypeError(f"{type(embedder).__name__} is async; a sync knowledge store needs a sync Embedder")
    if not created:
        EMBEDDERS._check_contract(type(embedder).__name__, embedder)
    return embedder, created  # type: ignore[return-value]


def _is_sync(embedder: object) -> bool:
    import inspect

    return not inspect.iscoroutinefunction(getattr(embedder, "embed", None))


def with_embedder(
    store: KnowledgeStore,
    embedder: EmbedderSpec,
    *,
    backend: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> EmbeddingKnowledgeStore:
    """``store`` taking text through ``embedder`` (an :class:`Embedder`, or an embedder's name or config)."""
    resolved, owned = resolve_embedder(embedder)
    return EmbeddingKnowledgeStore(store, resolved, backend=backend, batch_size=batch_size, owns_embedder=owned)
