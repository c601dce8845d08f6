"""The knowledge contract for asyncio, on a backend's async engine primitives.

:class:`AsyncKnowledgeStoreBase` runs the very steps of
:class:`~.store_base.KnowledgeStoreBase` (:class:`~.contract.ContractSteps`),
awaiting the backend's async primitives (``_find`` ... ``_count``, with the
sync base's meaning). So a backend's native async store is its sync store's
logic with the driver's async client underneath: the same checks, order of
calls, results and errors.

- Each call holds the store's :class:`asyncio.Lock` (the sync base holds its
  thread lock), so ``insert``'s check-then-write is not interleaved with
  another task's, and runs under the call guard (closed store, error tree).
- The lock belongs to the running event loop: a store is usable from one
  ``asyncio.run`` to the next. A backend whose client is bound to a loop
  (most HTTP clients) opens it in :meth:`_engine_for_loop`.
- Cancellation: the lock is released and the step abandoned at an ``await``;
  the backend's primitives write in one engine call each (``_put``, ``_remove``),
  so a cancelled write is applied whole or not at all, as far as the engine's
  own call is.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

from ..._guard import GuardedStore
from ..._sansio import Call, Operation, drive_async, throw_in_everything
from ..base import AsyncKnowledgeStore, CollectionInfo, Distance, Filter, KnowledgeDocument
from ..filters import FilterNode
from .checks import check_collection_name
from .contract import C, ContractSteps, above_threshold
from .store_base import K

__all__ = ["AsyncKnowledgeStoreBase"]

R = TypeVar("R")


class AsyncKnowledgeStoreBase(ContractSteps[C], GuardedStore, AsyncKnowledgeStore, Generic[C, K]):
    """The knowledge contract on top of async ``_find`` ... ``_count`` (under the lock and the guard);
    ``K`` is the config model, kept as ``self.config``."""

    def __init__(self, config: K) -> None:
        self.config = config
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock: asyncio.Lock | None = None

    # -- engine primitives: the sync base's, awaited ---------------------------------

    @abstractmethod
    async def _find(self, name: str) -> C | None: ...

    @abstractmethod
    async def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None: ...

    @abstractmethod
    async def _drop(self, name: str, target: C) -> None: ...

    @abstractmethod
    async def _names(self) -> Iterable[str]: ...

    @abstractmethod
    async def _taken(self, name: str, target: C, ids: list[str]) -> Collection[str]: ...

    @abstractmethod
    async def _put(self, name: str, target: C, documents: list[KnowledgeDocument], *, overwrite: bool) -> None: ...

    @abstractmethod
    async def _search(
        self, name: str, target: C, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]: ...

    @abstractmethod
    async def _fetch(self, name: str, target: C, ids: list[str]) -> Mapping[str, KnowledgeDocument]: ...

    @abstractmethod
    async def _remove(self, name: str, target: C, ids: list[str] | None, node: FilterNode | None) -> int: ...

    @abstractmethod
    async def _count(self, name: str, target: C) -> int: ...

    async def _zero_vectors(self, name: str, target: C, limit: int, node: FilterNode | None) -> list[KnowledgeDocument]:
        """See :meth:`.store_base.KnowledgeStoreBase._zero_vectors`; none by default."""
        return []

    async def _release(self) -> None:
        """Release the engine; ``close`` calls this once."""

    # -- running the steps ---------------------------------------------------------------

    def _lock(self) -> asyncio.Lock:
        """The running loop's lock of this store (a new one when the store meets a new loop)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._loop_lock is None:
            self._loop, self._loop_lock = loop, asyncio.Lock()
        return self._loop_lock

    @asynccontextmanager
    async def _held(self) -> AsyncIterator[None]:
        async with self._lock():
            with self._guard:
                yield

    async def _run_steps(self, steps: Operation[Call, R]) -> R:
        return await drive_async(steps, self._primitive, throw_in_everything)

    async def _primitive(self, call: Call) -> Any:
        return await getattr(self, call.method)(*call.args, **(call.kwargs or {}))

    # -- the contract --------------------------------------------------------------------

    async def create_collection(
        self,
        name: str,
        dimension: int,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        with self._translating:
            arguments = self._collection_args(name, dimension, distance, metadata)
        async with self._held():
            await self._run_steps(self._step_create_collection(*arguments))

    async def delete_collection(self, name: str) -> bool:
        with self._translating:
            name = check_collection_name(name)
        async with self._held():
            return await self._run_steps(self._step_delete_collection(name))

    async def collection_exists(self, name: str) -> bool:
        with self._translating:
            name = check_collection_name(name)
        async with self._held():
            return await self._run_steps(self._step_collection_exists(name))

    async def list_collections(self) -> list[str]:
        async with self._held():
            return await self._run_steps(self._step_list_collections())

    async def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        async with self._held():
            return await self._run_steps(self._step_write(collection, documents, False))

    async def upsert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        async with self._held():
            return await self._run_steps(self._step_write(collection, documents, True))

    async def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        with self._translating:
            limit, threshold, node = self._search_args(limit, score_threshold, filters)
        async with self._held():
            found = await self._run_steps(self._step_search(collection, query_embedding, limit, node))
        return above_threshold(found, threshold)

    async def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        with self._translating:
            wanted = self._get_args(ids)
        async with self._held():
            return await self._run_steps(self._step_get(collection, wanted))

    async def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        with self._translating:
            wanted, node = self._delete_args(ids, filters)
        async with self._held():
            return await self._run_steps(self._step_delete(collection, wanted, node))

    async def count(self, collection: str) -> int:
        async with self._held():
            return await self._run_steps(self._step_count(collection))

    async def describe_collection(self, name: str) -> CollectionInfo:
        """The collection's dimension, distance and metadata (see ``AsyncKnowledgeTransfer``)."""
        async with self._held():
            return await self._run_steps(self._step_describe(name))

    async def close(self) -> None:
        async with self._lock():
            with self._translating:
                if self._closed:
                    return
                self._closed = True
                await self._release()
