"""Any knowledge store for asyncio: its calls run in worker threads.

:func:`offload` turns a :class:`~.base.KnowledgeStore` (a built-in or a
plugin) into an :class:`~.base.AsyncKnowledgeStore`; the ``async_<name>``
backends whose driver has no async client are this over their sync store
(:class:`OffloadedBuiltinStore`). One implementation for all of them:

- each call runs the sync method in the event loop's default executor
  (``asyncio.to_thread``), so the loop never blocks, and the sync store's own
  lock and guard do what they do for threads: same results, same errors;
- cancellation: the awaiting task gets ``CancelledError`` at once, while the
  thread finishes the call it started (a thread cannot be stopped half-way
  through a driver call). The store stays usable, and a cancelled write may
  have been applied, as when a client disconnects after sending it;
- no state is bound to an event loop, so one store serves ``asyncio.run``
  after ``asyncio.run``, and several loops at once;
- ``close()`` waits for the calls already running, then closes the sync store.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from .._delegation import in_worker_thread
from .base import AsyncKnowledgeStore, CollectionInfo, KnowledgeDocument, KnowledgeStore

if TYPE_CHECKING:
    from .configs import AsyncKnowledgeConfig

__all__ = ["OffloadedBuiltinStore", "OffloadedKnowledgeStore", "offload"]

R = TypeVar("R")


class OffloadedKnowledgeStore(AsyncKnowledgeStore):
    """An AsyncKnowledgeStore running a sync KnowledgeStore's calls in threads; see the module docstring.

    ``store`` is the sync store; ``backend`` its backend name (or the async form's).
    """

    def __init__(self, store: KnowledgeStore, *, backend: str | None = None) -> None:
        self.store = store
        self.backend = backend or str(getattr(store, "backend", type(store).__name__))

    async def _run(self, function: Callable[..., R], *args: Any) -> R:
        return await asyncio.to_thread(function, *args)

    # The contract: each call is the sync store's, run in a worker thread.
    create_collection = in_worker_thread(KnowledgeStore.create_collection)
    delete_collection = in_worker_thread(KnowledgeStore.delete_collection)
    collection_exists = in_worker_thread(KnowledgeStore.collection_exists)
    list_collections = in_worker_thread(KnowledgeStore.list_collections)
    insert = in_worker_thread(KnowledgeStore.insert)
    upsert = in_worker_thread(KnowledgeStore.upsert)
    search = in_worker_thread(KnowledgeStore.search)
    get = in_worker_thread(KnowledgeStore.get)
    delete = in_worker_thread(KnowledgeStore.delete)
    count = in_worker_thread(KnowledgeStore.count)
    close = in_worker_thread(KnowledgeStore.close)

    # -- AsyncKnowledgeTransfer, when the sync store has the KnowledgeTransfer extras ------

    async def describe_collection(self, name: str) -> CollectionInfo:
        """The collection's dimension, distance and metadata (the sync store's ``describe_collection``)."""
        describe: Callable[[str], CollectionInfo] = self._extra("describe_collection")
        return await self._run(describe, name)

    async def iter_documents(self, collection: str, batch_size: int = 1000) -> AsyncIterator[list[KnowledgeDocument]]:
        """Every document, a page at a time (the sync store's ``iter_documents``, a page per thread call)."""
        iterate: Callable[[str, int], Iterator[list[KnowledgeDocument]]] = self._extra("iter_documents")
        pages = iterate(collection, batch_size)
        running: asyncio.Future[list[KnowledgeDocument] | None] | None = None
        try:
            while True:
                running = asyncio.ensure_future(self._run(next, pages, None))
                page = await asyncio.shield(running)
                running = None
                if page is None:
                    return
                yield page
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                if running is not None and not running.done():
                    # Cancelled while a thread reads a page: close the scan once that read ends.
                    running.add_done_callback(functools.partial(_close_quietly, close))
                else:
                    close()

    def _extra(self, name: str) -> Any:
        method = getattr(self.store, name, None)
        if not callable(method):
            raise AttributeError(f"{type(self.store).__qualname__} has no {name}()")
        return method

    def __repr__(self) -> str:
        return f"OffloadedKnowledgeStore({self.store!r})"


def _close_quietly(close: Callable[[], object], _: object) -> None:
    with contextlib.suppress(Exception):
        close()


def offload(store: KnowledgeStore, *, backend: str | None = None) -> OffloadedKnowledgeStore:
    """``store`` as an AsyncKnowledgeStore whose calls run in worker threads."""
    return OffloadedKnowledgeStore(store, backend=backend)


class OffloadedBuiltinStore(OffloadedKnowledgeStore):
    """The store of an ``async_<name>`` backend without a native one: ``<name>``'s store, offloaded."""

    def __init__(self, config: AsyncKnowledgeConfig) -> None:
        from .._catalogue import BY_KIND_AND_NAME
        from .._loading import load_object

        sync_name = config.backend.removeprefix("async_")
        store: KnowledgeStore = load_object(BY_KIND_AND_NAME[("knowledge", sync_name)].adapter)(config)
        super().__init__(store, backend=config.backend)
