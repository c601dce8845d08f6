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

:class:`AsyncEmbeddedOrServerStore` is the base of the backends that run embedded (a local
file, with only a sync client) or as a server (with an asyncio client): chroma and milvus.
"""

from __future__ import annotations

import asyncio
import threading
from abc import abstractmethod
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

from ..._closing import close_client
from ..._sansio import Call, Operation, call_on, call_on_async, drive, drive_async, runs_async, throw_in_everything
from ..base import AsyncKnowledgeStore, Distance, KnowledgeDocument
from ..filters import FilterNode
from .contract import C, ContractSteps, Held
from .store_base import K

__all__ = ["AsyncEmbeddedOrServerStore", "AsyncKnowledgeStoreBase"]

R = TypeVar("R")


class AsyncKnowledgeStoreBase(ContractSteps[C], AsyncKnowledgeStore, Generic[C, K]):
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

    # -- the contract: ContractSteps' operations, each Held request run with the lock held ----

    async def _drive(self, operation: Operation[Held, R]) -> R:
        return await drive_async(operation, self._run_held)

    async def _run_held(self, held: Held) -> Any:
        async with self._held():
            return await self._run_steps(held.steps)

    create_collection = runs_async(ContractSteps._create_collection_call)
    delete_collection = runs_async(ContractSteps._delete_collection_call)
    collection_exists = runs_async(ContractSteps._collection_exists_call)
    list_collections = runs_async(ContractSteps._list_collections_call)
    insert = runs_async(ContractSteps._insert_call)
    upsert = runs_async(ContractSteps._upsert_call)
    search = runs_async(ContractSteps._search_call)
    get = runs_async(ContractSteps._get_call)
    delete = runs_async(ContractSteps._delete_call)
    count = runs_async(ContractSteps._count_call)
    describe_collection = runs_async(ContractSteps._describe_collection_call)

    async def close(self) -> None:
        async with self._lock():
            with self._translating:
                if self._closed:
                    return
                self._closed = True
                await self._release()


class AsyncEmbeddedOrServerStore(AsyncKnowledgeStoreBase[C, K]):
    """An async store whose engine runs embedded or as a server; its primitives are steps of client calls
    (:class:`~.contract.EngineStepsPrimitives`). Embedded, the engine has only a sync client, opened by
    the backend's ``__init__`` as ``self._client``: each step runs on it in a worker thread, one at a
    time (a cancelled step finishes in its thread first). On a server, steps are awaited on the asyncio
    client of :meth:`_server_client`, which the backend opens per event loop."""

    def __init__(self, config: K) -> None:
        super().__init__(config)
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._thread_lock = threading.Lock()

    @property
    @abstractmethod
    def _embedded(self) -> bool:
        """Whether the config names an embedded engine (a local path)."""

    @abstractmethod
    async def _server_client(self) -> Any:
        """The server's asyncio client for the running loop (``self._client``, of ``self._client_loop``)."""

    @abstractmethod
    async def _close_server_client(self, client: Any) -> None:
        """Close the server's client of the running loop."""

    def _drive_in_thread(self, steps: Operation[Call, R]) -> R:
        with self._thread_lock:
            return drive(steps, call_on(self._client), throw_in_everything)

    async def _engine(self, steps: Operation[Call, R]) -> R:
        if self._embedded:
            return await asyncio.to_thread(self._drive_in_thread, steps)
        return await drive_async(steps, call_on_async(await self._server_client()), throw_in_everything)

    async def _release(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        if self._embedded:
            await asyncio.to_thread(close_client, client)
        elif self._client_loop is asyncio.get_running_loop():  # that of a loop left is dropped
            await self._close_server_client(client)
