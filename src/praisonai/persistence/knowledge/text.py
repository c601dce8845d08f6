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

An :class:`AsyncKnowledgeStore` (``async_<name>``) created with an embedder is
an :class:`AsyncEmbeddingKnowledgeStore`, an :class:`AsyncTextKnowledgeStore`:
the same methods, awaited, with an :class:`AsyncEmbedder` awaited or a sync
:class:`Embedder` run in a worker thread. Both wrappers run the same steps
(generators of :class:`~.._sansio.Call` requests to the store and the
embedder), so they give the same results.
"""

from __future__ import annotations

import asyncio
import inspect
from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, overload, runtime_checkable

from .._delegation import forwarded, forwarded_async
from .._sansio import Call, Operation, drive, drive_async, runs, runs_async
from ._layers.text_steps import DEFAULT_BATCH_SIZE, TextSteps
from .base import AsyncKnowledgeStore, Distance, Filter, KnowledgeDocument, KnowledgeStore

if TYPE_CHECKING:
    from ..embedders.base import AsyncEmbedder, Embedder
    from ..embedders.config import EmbedderConfig

__all__ = [
    "AsyncEmbeddingKnowledgeStore",
    "AsyncTextKnowledgeStore",
    "EmbedderSpec",
    "EmbeddingKnowledgeStore",
    "TextKnowledgeStore",
    "with_embedder",
]

EmbedderSpec: TypeAlias = "Embedder | AsyncEmbedder | EmbedderConfig | str"
"""What ``embedder=`` accepts: an embedder, or the name or config of one to create (async stores only
take an :class:`AsyncEmbedder`)."""


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


@runtime_checkable
class AsyncTextKnowledgeStore(AsyncKnowledgeStore, Protocol):
    """The asyncio twin of :class:`TextKnowledgeStore`."""

    @abstractmethod
    async def create_collection(
        self,
        name: str,
        dimension: int | None = None,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create a collection of the given dimension (default: the embedder's)."""

    @abstractmethod
    async def search_text(
        self,
        collection: str,
        query: str,
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        """``search`` by the embedding of ``query``."""

    @abstractmethod
    async def search_mmr(
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
    async def search_mmr_text(
        self,
        collection: str,
        query: str,
        limit: int = 5,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filters: Filter | None = None,
    ) -> list[KnowledgeDocument]:
        """``search_mmr`` by the embedding of ``query``."""


class EmbeddingKnowledgeStore(TextSteps[KnowledgeStore, "Embedder"], TextKnowledgeStore):
    """A knowledge store and an embedder, as one :class:`TextKnowledgeStore`.

    ``store`` and ``embedder`` are the wrapped objects; ``backend`` names the
    store's backend in error messages.
    """

    def _drive(self, operation: Operation[Call, Any]) -> Any:
        return drive(operation, self._execute)

    def _execute(self, call: Call) -> Any:
        return self._target(call)(*call.args)

    create_collection = runs(TextSteps._create_collection_call)
    delete_collection = runs(TextSteps._delete_collection_call)
    insert = runs(TextSteps._insert_call)
    upsert = runs(TextSteps._upsert_call)
    search_text = runs(TextSteps._search_text_call)
    search_mmr = runs(TextSteps._search_mmr_call)
    search_mmr_text = runs(TextSteps._search_mmr_text_call)

    # Calls that need no embedding: the store's own.
    collection_exists = forwarded(KnowledgeStore.collection_exists)
    list_collections = forwarded(KnowledgeStore.list_collections)
    search = forwarded(KnowledgeStore.search)
    get = forwarded(KnowledgeStore.get)
    delete = forwarded(KnowledgeStore.delete)
    count = forwarded(KnowledgeStore.count)

    def close(self) -> None:
        try:
            self.store.close()
        finally:
            if self._owns_embedder:
                self.embedder.close()


class AsyncEmbeddingKnowledgeStore(TextSteps[AsyncKnowledgeStore, "Embedder | AsyncEmbedder"], AsyncTextKnowledgeStore):
    """An :class:`AsyncKnowledgeStore` and an embedder (async, or sync and run in worker threads),
    as one :class:`AsyncTextKnowledgeStore`; the same steps as :class:`EmbeddingKnowledgeStore`."""

    async def _drive(self, operation: Operation[Call, Any]) -> Any:
        return await drive_async(operation, self._execute)

    async def _execute(self, call: Call) -> Any:
        method = self._target(call)
        if inspect.iscoroutinefunction(method):
            return await method(*call.args)
        return await asyncio.to_thread(method, *call.args)  # a sync embedder must not block the loop

    create_collection = runs_async(TextSteps._create_collection_call)
    delete_collection = runs_async(TextSteps._delete_collection_call)
    insert = runs_async(TextSteps._insert_call)
    upsert = runs_async(TextSteps._upsert_call)
    search_text = runs_async(TextSteps._search_text_call)
    search_mmr = runs_async(TextSteps._search_mmr_call)
    search_mmr_text = runs_async(TextSteps._search_mmr_text_call)

    # Calls that need no embedding: the store's own.
    collection_exists = forwarded_async(AsyncKnowledgeStore.collection_exists)
    list_collections = forwarded_async(AsyncKnowledgeStore.list_collections)
    search = forwarded_async(AsyncKnowledgeStore.search)
    get = forwarded_async(AsyncKnowledgeStore.get)
    delete = forwarded_async(AsyncKnowledgeStore.delete)
    count = forwarded_async(AsyncKnowledgeStore.count)

    async def close(self) -> None:
        try:
            await self.store.close()
        finally:
            if self._owns_embedder:
                await self._close_embedder()

    async def _close_embedder(self) -> None:
        close = self.embedder.close
        if inspect.iscoroutinefunction(close):
            await close()
        else:
            close()


def resolve_embedder(embedder: object, *, allow_async: bool = False) -> tuple[Embedder | AsyncEmbedder, bool]:
    """An embedder from what ``embedder=`` was given, and whether it was created here.

    An :class:`AsyncEmbedder` only when ``allow_async`` (for an async store); else a TypeError.
    """
    from ..registry import EMBEDDERS

    created = isinstance(embedder, str) or getattr(type(embedder), "is_store_config", False)
    if created:
        embedder = EMBEDDERS.create(embedder)  # type: ignore[call-overload]
    if not allow_async and not is_sync_embedder(embedder):
        # An async embedder (a plugin's) opens nothing until used, so there is nothing to close here.
        raise TypeError(f"{type(embedder).__name__} is async; a sync knowledge store needs a sync Embedder")
    if not created:
        EMBEDDERS._check_contract(type(embedder).__name__, embedder)
    return embedder, created  # type: ignore[return-value]


def is_sync_embedder(embedder: object) -> bool:
    """Whether ``embedder``'s ``embed`` is a plain function (an :class:`Embedder`, not an :class:`AsyncEmbedder`)."""
    return not inspect.iscoroutinefunction(getattr(embedder, "embed", None))


def is_async_store(store: object) -> bool:
    """Whether ``store``'s ``search`` is a coroutine function (an :class:`AsyncKnowledgeStore`)."""
    return inspect.iscoroutinefunction(getattr(store, "search", None))


@overload
def with_embedder(
    store: KnowledgeStore, embedder: EmbedderSpec, *, backend: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE
) -> EmbeddingKnowledgeStore: ...
@overload
def with_embedder(
    store: AsyncKnowledgeStore,
    embedder: EmbedderSpec,
    *,
    backend: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> AsyncEmbeddingKnowledgeStore: ...
def with_embedder(
    store: KnowledgeStore | AsyncKnowledgeStore,
    embedder: EmbedderSpec,
    *,
    backend: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> EmbeddingKnowledgeStore | AsyncEmbeddingKnowledgeStore:
    """``store`` taking text through ``embedder`` (an embedder, or an embedder's name or config)."""
    resolved, owned = resolve_embedder(embedder, allow_async=is_async_store(store))
    return wrap_with_embedder(store, resolved, backend=backend, batch_size=batch_size, owns_embedder=owned)


def wrap_with_embedder(
    store: KnowledgeStore | AsyncKnowledgeStore,
    embedder: Embedder | AsyncEmbedder,
    *,
    backend: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    owns_embedder: bool = False,
) -> EmbeddingKnowledgeStore | AsyncEmbeddingKnowledgeStore:
    """The wrapper of ``store``'s kind: :class:`AsyncEmbeddingKnowledgeStore` for an async store."""
    options: dict[str, Any] = {"backend": backend, "batch_size": batch_size, "owns_embedder": owns_embedder}
    if is_async_store(store):
        return AsyncEmbeddingKnowledgeStore(store, embedder, **options)  # type: ignore[arg-type]
    if not is_sync_embedder(embedder):
        raise TypeError(f"{type(embedder).__name__} is async; a sync knowledge store needs a sync Embedder")
    return EmbeddingKnowledgeStore(store, embedder, **options)  # type: ignore[arg-type]
