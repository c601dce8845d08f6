"""The store layer of the hosted vector backends (pinecone, weaviate, cassandra, mongodb_vector,
couchbase, singlestore_vector, upstash_vector, cosmosdb).

:class:`HostedVectorStore` is a :class:`~.store_base.KnowledgeStoreBase` (argument
checks, the store lock, ``insert``'s existence check, the ``KnowledgeTransfer``
extras, the call guard) that adds what the hosted engines share: the record
layout of :mod:`.records`, filter lowering, exact portable scores, and ``delete``'s
ids-and-filter logic. A backend implements the base's lookups and a few
``_native_*`` primitives with its driver, and renders lowered filters in its
engine's own language (with :mod:`.._filters.tokens` where it fits).
:class:`AsyncHostedVectorStore` is the same layer on async primitives: the hooks are
written once, as steps (:class:`_HostedSteps`) that call the primitives by name.
A backend with an async client writes its primitives once, as steps of driver calls
(:class:`HostedEngineSteps`), and its two stores are :class:`SteppedHostedVectorStore` and
:class:`AsyncSteppedHostedVectorStore`, which run each primitive's steps on the sync or the
async client (``_engine``). Where every step goes to one driver client, :class:`ClientHostedVectorStore`
and :class:`AsyncLoopClientHostedVectorStore` are that ``_engine``: the latter opens the asyncio client
in each event loop the store is used from.

Scores: the engine ranks; the reported ``score`` is computed exactly from the
stored embedding with :func:`~..base.similarity` (cosine similarity, dot product,
``1 / (1 + L2)``), so engine-specific score scales (Atlas's ``(1 + cos) / 2``,
Pinecone's squared euclidean, Cosmos DB's raw distance) never leak out.

``insert`` checks for existing ids and then writes, under the store's lock: two
processes inserting the same new id at the same moment can both succeed
(last write wins) on engines without an insert-if-absent batch.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from typing import Any, ClassVar, TypeVar

from ..._sansio import Call, Operation, call_on, call_on_async, drive, drive_async, throw_in_everything
from ...errors import BackendUnavailableError
from .._filters.native import ALWAYS, NEVER, Lowered, lower
from ..base import Distance, KnowledgeDocument, similarity
from ..filters import FilterNode
from .async_store_base import AsyncKnowledgeStoreBase
from .checks import collection_exists, collection_not_found
from .records import CHUNKS, document_record
from .store_base import CollectionSettings as Settings
from .store_base import K, KnowledgeStoreBase, error_chain, raised_by

__all__ = [
    "AsyncHostedVectorStore",
    "AsyncLoopClientHostedVectorStore",
    "AsyncSteppedHostedVectorStore",
    "ClientHostedVectorStore",
    "HostedEngineSteps",
    "HostedVectorStore",
    "Settings",
    "SteppedHostedVectorStore",
]

R = TypeVar("R")

_SCAN_BATCH = 1000
"""Documents read per page when a filter that matches everything is deleted."""


class _HostedSteps:
    """The hosted layer's hooks as steps (:mod:`..._sansio`) that call the backend's ``_native_*``
    primitives (and ``_taken``, ``_all_ids``) by name: one copy for :class:`HostedVectorStore`, whose
    primitives are plain methods, and :class:`AsyncHostedVectorStore`, whose primitives are awaited."""

    engine: ClassVar[str] = "the engine"
    exact_range_numbers: ClassVar[int | None] = 2**53  # equality is exact (tokens); ranges compare floats

    def _is_unavailable(self, error: BaseException) -> bool:
        """Whether ``error`` means the engine cannot be reached."""
        chain = list(error_chain(error))
        # MySQL-protocol clients (singlestoredb): 2003 can't connect, 2006 gone away, 2013/2055 lost connection.
        codes = {getattr(item, "errno", None) for item in chain} | {
            item.args[0] for item in chain if item.args and isinstance(item.args[0], int)
        }
        return bool(codes & {2003, 2006, 2013, 2055}) or raised_by(
            error,
            {
                "ConnectError",
                "ConnectTimeout",
                "ConnectionError",
                "ConnectionRefusedError",
                "ServerSelectionTimeoutError",
                "NoHostAvailable",
                "UnambiguousTimeoutException",
                "UnAmbiguousTimeoutException",  # the couchbase SDK's spelling
                "ServiceUnavailableException",
                "ServiceRequestError",  # azure-core: the request could not be sent
                "WeaviateConnectionError",
                "WeaviateStartUpError",
            },
        )

    def _translate_error(self, error: Exception) -> Exception | None:
        if self._is_unavailable(error):
            return BackendUnavailableError(f"cannot reach {self.engine}: {type(error).__name__}")
        return None

    # -- the hooks of the store bases on the primitives ---------------------------------------

    def _create_steps(
        self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None
    ) -> Operation[Call, None]:
        if not (yield Call("_native_create", (name, Settings(dimension, distance, metadata)))):
            raise collection_exists(name)

    def _drop_steps(self, name: str) -> Operation[Call, None]:
        if not (yield Call("_native_drop", (name,))):
            raise collection_not_found(name)

    def _search_steps(
        self, name: str, target: Settings, query: list[float], limit: int, node: FilterNode | None
    ) -> Operation[Call, list[KnowledgeDocument]]:
        lowered = _lower(node)
        if lowered == NEVER:
            return []
        found: list[KnowledgeDocument] = yield Call(
            "_native_query", (name, target, query, limit, None if lowered == ALWAYS else lowered)
        )
        found = found[:limit]
        for document in found:
            assert document.embedding is not None
            document.score = similarity(target.distance, query, document.embedding)
        found.sort(key=lambda document: -(document.score or 0.0))
        return found

    def _remove_steps(
        self, name: str, target: Settings, ids: list[str] | None, node: FilterNode | None
    ) -> Operation[Call, int]:
        lowered = _lower(node)
        if lowered == NEVER:
            return 0
        if lowered != ALWAYS:
            deleted: int = yield Call("_native_delete_matching", (name, target, lowered, ids))
            return deleted
        if ids is None:  # a filter every document matches, such as {"tag": {"$nin": []}}
            doomed: list[str] = yield Call("_all_ids", (name, target))
        else:
            doomed = sorted((yield Call("_taken", (name, target, ids))))
        if doomed:
            yield Call("_native_remove", (name, target, doomed))
        return len(doomed)


def _lower(node: FilterNode | None) -> Lowered:
    return ALWAYS if node is None else lower(node, chunk_limit=CHUNKS)


class HostedVectorStore(_HostedSteps, KnowledgeStoreBase[Settings, K]):
    """:class:`~.store_base.KnowledgeStoreBase` on a hosted engine: records, lowered filters, exact scores.

    A backend implements the base's ``_find`` ``_names`` ``_taken`` ``_fetch`` ``_count`` ``_scan``
    ``_release`` (its collection handle is the :class:`Settings`), and the ``_native_*`` primitives
    below, which take what this layer translates: records instead of documents, lowered filters
    instead of parsed ones, no scores. All are called with the store's lock held. The store's
    ``backend`` name is its config's.
    """

    def __init__(self, config: K) -> None:
        super().__init__(config)
        self.backend = config.backend

    # -- primitives --------------------------------------------------------------

    @abstractmethod
    def _native_create(self, name: str, settings: Settings) -> bool:
        """Create the collection; False if it already exists."""

    @abstractmethod
    def _native_drop(self, name: str) -> bool:
        """Drop the collection; False if it was gone already."""

    @abstractmethod
    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        """Write (replace) the records."""

    @abstractmethod
    def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        """The ``limit`` nearest documents matching ``node`` (None: all), best first."""

    @abstractmethod
    def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        """The ids of the documents matching ``node`` (among ``ids`` when given)."""

    def _native_delete_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> int:
        """Delete the documents matching ``node`` (among ``ids`` when given); return how many."""
        doomed = self._native_matching(name, settings, node, ids)
        if doomed:
            self._native_remove(name, settings, doomed)
        return len(doomed)

    @abstractmethod
    def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None: ...

    # -- KnowledgeStoreBase hooks on the primitives: the steps of _HostedSteps ----------------

    def _on_primitives(self, steps: Operation[Call, R]) -> R:
        return drive(steps, call_on(self))

    def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        self._on_primitives(self._create_steps(name, dimension, distance, metadata))

    def _drop(self, name: str, target: Settings) -> None:
        self._on_primitives(self._drop_steps(name))

    def _put(self, name: str, target: Settings, documents: list[KnowledgeDocument], *, overwrite: bool) -> None:
        # insert's existence check (_taken) has run already; every engine's write replaces.
        self._native_put(name, target, [document_record(document) for document in documents])

    def _search(
        self, name: str, target: Settings, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        return self._on_primitives(self._search_steps(name, target, query, limit, node))

    def _remove(self, name: str, target: Settings, ids: list[str] | None, node: FilterNode | None) -> int:
        return self._on_primitives(self._remove_steps(name, target, ids, node))

    def _all_ids(self, name: str, target: Settings) -> list[str]:
        return [document.id for page in self._scan(name, target, _SCAN_BATCH) for document in page]


class AsyncHostedVectorStore(_HostedSteps, AsyncKnowledgeStoreBase[Settings, K]):
    """:class:`HostedVectorStore` for asyncio: the same hooks (the steps of :class:`_HostedSteps`) on
    awaited primitives. A backend implements the async base's ``_find`` ``_names`` ``_taken`` ``_fetch``
    ``_count`` and ``_release``, the ``_native_*`` primitives of :class:`HostedVectorStore` as coroutines,
    and ``_all_ids`` (every id of a collection, for a filter that matches everything)."""

    def __init__(self, config: K) -> None:
        super().__init__(config)
        self.backend = config.backend

    @abstractmethod
    async def _native_create(self, name: str, settings: Settings) -> bool: ...

    @abstractmethod
    async def _native_drop(self, name: str) -> bool: ...

    @abstractmethod
    async def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None: ...

    @abstractmethod
    async def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]: ...

    @abstractmethod
    async def _native_matching(
        self, name: str, settings: Settings, node: Lowered, ids: list[str] | None
    ) -> list[str]: ...

    async def _native_delete_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> int:
        doomed = await self._native_matching(name, settings, node, ids)
        if doomed:
            await self._native_remove(name, settings, doomed)
        return len(doomed)

    @abstractmethod
    async def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None: ...

    @abstractmethod
    async def _all_ids(self, name: str, target: Settings) -> list[str]: ...

    async def _on_primitives(self, steps: Operation[Call, R]) -> R:
        return await drive_async(steps, call_on_async(self))

    async def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        await self._on_primitives(self._create_steps(name, dimension, distance, metadata))

    async def _drop(self, name: str, target: Settings) -> None:
        await self._on_primitives(self._drop_steps(name))

    async def _put(self, name: str, target: Settings, documents: list[KnowledgeDocument], *, overwrite: bool) -> None:
        await self._native_put(name, target, [document_record(document) for document in documents])

    async def _search(
        self, name: str, target: Settings, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        return await self._on_primitives(self._search_steps(name, target, query, limit, node))

    async def _remove(self, name: str, target: Settings, ids: list[str] | None, node: FilterNode | None) -> int:
        return await self._on_primitives(self._remove_steps(name, target, ids, node))


class HostedEngineSteps(_HostedSteps):
    """A backend's primitives as steps of driver calls, ``_<primitive>_steps`` with the primitive's
    arguments: one copy for its sync and async clients (see :class:`SteppedHostedVectorStore`)."""

    @abstractmethod
    def _find_steps(self, name: str) -> Operation[Call, Settings | None]: ...

    @abstractmethod
    def _names_steps(self) -> Operation[Call, list[str]]: ...

    @abstractmethod
    def _taken_steps(self, name: str, settings: Settings, ids: list[str]) -> Operation[Call, set[str]]: ...

    @abstractmethod
    def _fetch_steps(
        self, name: str, settings: Settings, ids: list[str]
    ) -> Operation[Call, dict[str, KnowledgeDocument]]: ...

    @abstractmethod
    def _count_steps(self, name: str, settings: Settings) -> Operation[Call, int]: ...

    @abstractmethod
    def _all_ids_steps(self, name: str, settings: Settings) -> Operation[Call, list[str]]: ...

    @abstractmethod
    def _native_create_steps(self, name: str, settings: Settings) -> Operation[Call, bool]: ...

    @abstractmethod
    def _native_drop_steps(self, name: str) -> Operation[Call, bool]: ...

    @abstractmethod
    def _native_put_steps(
        self, name: str, settings: Settings, records: list[dict[str, Any]]
    ) -> Operation[Call, None]: ...

    @abstractmethod
    def _native_query_steps(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> Operation[Call, list[KnowledgeDocument]]: ...

    @abstractmethod
    def _native_remove_steps(self, name: str, settings: Settings, ids: list[str]) -> Operation[Call, None]: ...

    @abstractmethod
    def _native_matching_steps(
        self, name: str, settings: Settings, node: Lowered, ids: list[str] | None
    ) -> Operation[Call, list[str]]: ...

    def _native_delete_matching_steps(
        self, name: str, settings: Settings, node: Lowered, ids: list[str] | None
    ) -> Operation[Call, int]:
        doomed = yield from self._native_matching_steps(name, settings, node, ids)
        if doomed:
            yield from self._native_remove_steps(name, settings, doomed)
        return len(doomed)


class SteppedHostedVectorStore(HostedEngineSteps, HostedVectorStore[K]):
    """A :class:`HostedVectorStore` whose primitives are the backend's steps, run by ``_engine`` on
    its sync client. The backend adds ``__init__``, ``_engine``, ``_scan`` and ``_release``."""

    @abstractmethod
    def _engine(self, steps: Operation[Call, R]) -> R: ...

    def _find(self, name: str) -> Settings | None:
        return self._engine(self._find_steps(name))

    def _names(self) -> list[str]:
        return self._engine(self._names_steps())

    def _taken(self, name: str, settings: Settings, ids: list[str]) -> set[str]:
        return self._engine(self._taken_steps(name, settings, ids))

    def _fetch(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        return self._engine(self._fetch_steps(name, settings, ids))

    def _count(self, name: str, settings: Settings) -> int:
        return self._engine(self._count_steps(name, settings))

    def _all_ids(self, name: str, settings: Settings) -> list[str]:
        return self._engine(self._all_ids_steps(name, settings))

    def _native_create(self, name: str, settings: Settings) -> bool:
        return self._engine(self._native_create_steps(name, settings))

    def _native_drop(self, name: str) -> bool:
        return self._engine(self._native_drop_steps(name))

    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        self._engine(self._native_put_steps(name, settings, records))

    def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        return self._engine(self._native_query_steps(name, settings, vector, limit, node))

    def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        return self._engine(self._native_matching_steps(name, settings, node, ids))

    def _native_delete_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> int:
        return self._engine(self._native_delete_matching_steps(name, settings, node, ids))

    def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None:
        self._engine(self._native_remove_steps(name, settings, ids))


class AsyncSteppedHostedVectorStore(HostedEngineSteps, AsyncHostedVectorStore[K]):
    """The asyncio twin of :class:`SteppedHostedVectorStore`: the backend's steps, awaited by ``_engine``
    on its async client. The backend adds ``__init__``, ``_engine`` and ``_release``."""

    @abstractmethod
    async def _engine(self, steps: Operation[Call, R]) -> R: ...

    async def _find(self, name: str) -> Settings | None:
        return await self._engine(self._find_steps(name))

    async def _names(self) -> list[str]:
        return await self._engine(self._names_steps())

    async def _taken(self, name: str, settings: Settings, ids: list[str]) -> set[str]:
        return await self._engine(self._taken_steps(name, settings, ids))

    async def _fetch(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        return await self._engine(self._fetch_steps(name, settings, ids))

    async def _count(self, name: str, settings: Settings) -> int:
        return await self._engine(self._count_steps(name, settings))

    async def _all_ids(self, name: str, settings: Settings) -> list[str]:
        return await self._engine(self._all_ids_steps(name, settings))

    async def _native_create(self, name: str, settings: Settings) -> bool:
        return await self._engine(self._native_create_steps(name, settings))

    async def _native_drop(self, name: str) -> bool:
        return await self._engine(self._native_drop_steps(name))

    async def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        await self._engine(self._native_put_steps(name, settings, records))

    async def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        return await self._engine(self._native_query_steps(name, settings, vector, limit, node))

    async def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        return await self._engine(self._native_matching_steps(name, settings, node, ids))

    async def _native_delete_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> int:
        return await self._engine(self._native_delete_matching_steps(name, settings, node, ids))

    async def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None:
        await self._engine(self._native_remove_steps(name, settings, ids))


class ClientHostedVectorStore(SteppedHostedVectorStore[K]):
    """A :class:`SteppedHostedVectorStore` whose steps all go to one driver client, ``self._client``,
    which its ``__init__`` opens. The backend adds ``__init__``, ``_scan`` and ``_release``."""

    _client: Any

    def _engine(self, steps: Operation[Call, R]) -> R:
        return drive(steps, call_on(self._client), throw_in_everything)


class AsyncLoopClientHostedVectorStore(AsyncSteppedHostedVectorStore[K]):
    """An :class:`AsyncSteppedHostedVectorStore` whose steps all go to one asyncio driver client, bound
    to the event loop that used it (its HTTP connection pool belongs to that loop). The client opens
    on the first call, and anew in another loop: that of a loop the store has left cannot be closed
    from this one, so it is dropped. The backend adds ``_open_client`` and ``_release``
    (with :meth:`_take_client`)."""

    def __init__(self, config: K) -> None:
        super().__init__(config)
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @abstractmethod
    def _open_client(self) -> Any:
        """A new client (made without I/O), for the running loop."""

    def _loop_client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client, self._client_loop = self._open_client(), loop
        return self._client

    def _take_client(self) -> Any:
        """The client, taken from the store, if the running loop may close it (else None: it is dropped)."""
        client, self._client = self._client, None
        return client if self._client_loop is asyncio.get_running_loop() else None

    async def _engine(self, steps: Operation[Call, R]) -> R:
        return await drive_async(steps, call_on_async(self._loop_client()), throw_in_everything)
