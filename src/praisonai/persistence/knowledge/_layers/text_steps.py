"""The steps both text wrappers of :mod:`..text` run: one copy for the sync and the async wrapper."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..._sansio import Call, Operation
from ...errors import InvalidInputError
from ..base import Distance, Filter, KnowledgeDocument
from ..mmr import check_mmr_args, search_mmr_call, search_mmr_operation

if TYPE_CHECKING:
    from ...embedders.base import AsyncEmbedder, Embedder

__all__ = ["DEFAULT_BATCH_SIZE", "TextSteps"]

_EMBEDDER_METHODS = frozenset({"embed", "embed_query"})

DEFAULT_BATCH_SIZE = 64


S = TypeVar("S")
"""The wrapped store's type: a KnowledgeStore or an AsyncKnowledgeStore."""
E = TypeVar("E", bound="Embedder | AsyncEmbedder")


class TextSteps(Generic[S, E]):
    """What both wrappers do, as generators of :class:`Call` requests (to the embedder for
    ``embed`` / ``embed_query``, else to the store), driven sync or async by the wrapper.

    ``store`` and ``embedder`` are the wrapped objects; ``backend`` names the
    store's backend in error messages.
    """

    def __init__(
        self,
        store: S,
        embedder: E,
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
        return f"<{type(self).__name__} {self.store!r} embedder={self.embedder!r}>"

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

    def _check_dimension(self, collection: str) -> Operation[Call, None]:
        """Raise if the collection is known to have another dimension than the embedder's."""
        with self._lock:
            dimension = self._dimensions.get(collection)
        if dimension is None:
            if not callable(getattr(self.store, "describe_collection", None)):
                return  # the store checks each vector's dimension itself
            dimension = (yield Call("describe_collection", (collection,))).dimension
            if not isinstance(dimension, int):
                return
            with self._lock:
                self._dimensions[collection] = dimension
        if dimension != self.embedder.dimension:
            raise self._mismatch(collection, dimension)

    # -- the wrappers' methods (``_insert_call`` is ``insert``), run by each wrapper's ``_drive`` -----

    def _create_collection_call(
        self,
        name: str,
        dimension: int | None = None,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> Operation[Call, None]:
        wanted = self.embedder.dimension if dimension is None else dimension
        if dimension is not None and dimension != self.embedder.dimension:
            raise self._mismatch(name, dimension)
        yield Call("create_collection", (name, wanted, distance, metadata))
        with self._lock:
            self._dimensions[name] = wanted

    def _delete_collection_call(self, name: str) -> Operation[Call, bool]:
        self._forget(name)
        deleted: bool = yield Call("delete_collection", (name,))
        return deleted

    def _insert_call(self, collection: str, documents: Sequence[KnowledgeDocument]) -> Operation[Call, list[str]]:
        return (yield from self._writing("insert", collection, documents))

    def _upsert_call(self, collection: str, documents: Sequence[KnowledgeDocument]) -> Operation[Call, list[str]]:
        return (yield from self._writing("upsert", collection, documents))

    def _forget(self, name: str) -> None:
        with self._lock:
            self._dimensions.pop(name, None)

    # -- text in -------------------------------------------------------------------------------

    def _embedded(
        self, collection: str, documents: Sequence[KnowledgeDocument]
    ) -> Operation[Call, Sequence[KnowledgeDocument]]:
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
        yield from self._check_dimension(collection)
        result = list(documents)
        for start in range(0, len(pending), self.batch_size):
            chunk = pending[start : start + self.batch_size]
            vectors = yield Call("embed", ([documents[index].content for index in chunk],))
            if len(vectors) != len(chunk):
                raise InvalidInputError(
                    f"the embedder returned {len(vectors)} vectors for {len(chunk)} texts", backend=self.backend
                )
            for index, vector in zip(chunk, vectors, strict=True):
                result[index] = dataclasses.replace(documents[index], embedding=vector)
        return result

    def _writing(
        self, method: str, collection: str, documents: Sequence[KnowledgeDocument]
    ) -> Operation[Call, list[str]]:
        prepared = yield from self._embedded(collection, documents)
        ids: list[str] = yield Call(method, (collection, prepared))
        return ids

    def _query_vector(self, collection: str, query: str) -> Operation[Call, list[float]]:
        if not isinstance(query, str):
            raise InvalidInputError(f"query must be a str, not {type(query).__name__}", backend=self.backend)
        yield from self._check_dimension(collection)
        vector: list[float] = yield Call("embed_query", (query,))
        return vector

    def _search_text_call(
        self,
        collection: str,
        query: str,
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> Operation[Call, list[KnowledgeDocument]]:
        """``search`` by the embedding of ``query``."""
        vector = yield from self._query_vector(collection, query)
        found: list[KnowledgeDocument] = yield Call("search", (collection, vector, limit, filters, score_threshold))
        return found

    _search_mmr_call = search_mmr_call  # the wrapper as the store: its ``backend``, its ``search`` and ``get``

    def _search_mmr_text_call(
        self,
        collection: str,
        query: str,
        limit: int = 5,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filters: Filter | None = None,
    ) -> Operation[Call, list[KnowledgeDocument]]:
        """``search_mmr`` by the embedding of ``query``."""
        check_mmr_args(limit, fetch_k, lambda_mult, self.backend)  # before the query is embedded
        vector = yield from self._query_vector(collection, query)
        return (yield from search_mmr_operation(collection, vector, limit, fetch_k, lambda_mult, filters, self.backend))

    def _target(self, call: Call) -> Any:
        return getattr(self.embedder if call.method in _EMBEDDER_METHODS else self.store, call.method)
