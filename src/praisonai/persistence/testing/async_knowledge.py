"""Contract suite for async knowledge stores: the knowledge contract through ``await``.

Subclass :class:`AsyncKnowledgeStoreContract` with a synchronous ``store``
fixture returning a fresh, empty
:class:`~praisonai.persistence.knowledge.base.AsyncKnowledgeStore` (unconnected:
it is used inside the test's event loop), as for the other async suites::

    class TestMyAsyncVectors(AsyncKnowledgeStoreContract):
        @pytest.fixture
        def store(self):
            return MyAsyncVectorStore(...)

It runs every test of :class:`~.knowledge.KnowledgeStoreContract`, with the
same data and expectations (the one copy in ``_knowledge_data`` and the sync
suite's test bodies): each test gets a blocking view of the async store whose
calls run in one event loop made for the test, so every method is awaited
exactly as asyncio code would. The class attributes
``unsupported_filter_operators`` and ``supported_distances`` mean the same, and
an optional ``reopen`` fixture returns a callable opening a second
AsyncKnowledgeStore on the same data. On top, the asyncio behaviour:
coroutine methods, ``async with``, concurrent tasks, cancellation and
successive event loops.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

import pytest

from .._delegation import waited
from ..knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
from ._knowledge_data import _document, _ids, _unique, _vectors
from ._support import run_async
from .knowledge import KnowledgeStoreContract

__all__ = ["AsyncKnowledgeStoreContract", "BlockingKnowledgeStore"]

R = TypeVar("R")

_CONTRACT_METHODS = (
    "create_collection",
    "delete_collection",
    "collection_exists",
    "list_collections",
    "insert",
    "upsert",
    "search",
    "get",
    "delete",
    "count",
    "close",
)


class BlockingKnowledgeStore(KnowledgeStore):
    """A :class:`KnowledgeStore` view of an async store: each call runs to completion in ``loop``."""

    def __init__(self, store: AsyncKnowledgeStore, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self.loop = loop

    def _wait(self, call: Awaitable[R]) -> R:
        async def run() -> R:
            return await call

        return self.loop.run_until_complete(run())

    create_collection = waited(AsyncKnowledgeStore.create_collection)
    delete_collection = waited(AsyncKnowledgeStore.delete_collection)
    collection_exists = waited(AsyncKnowledgeStore.collection_exists)
    list_collections = waited(AsyncKnowledgeStore.list_collections)
    insert = waited(AsyncKnowledgeStore.insert)
    upsert = waited(AsyncKnowledgeStore.upsert)
    search = waited(AsyncKnowledgeStore.search)
    get = waited(AsyncKnowledgeStore.get)
    delete = waited(AsyncKnowledgeStore.delete)
    count = waited(AsyncKnowledgeStore.count)
    close = waited(AsyncKnowledgeStore.close)

    def __enter__(self) -> BlockingKnowledgeStore:
        entered = self._wait(self.store.__aenter__())
        assert entered is self.store, "__aenter__ must return the store itself"
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._wait(self.store.__aexit__(exc_type, exc, traceback))


def _blocking_test(test: Callable[..., None]) -> Callable[..., None]:
    """The sync suite's ``test`` run on a blocking view of the async ``store``, in a loop of its own."""

    @functools.wraps(test)
    def run(self: Any, store: AsyncKnowledgeStore, *args: Any, **kwargs: Any) -> None:
        loop = asyncio.new_event_loop()
        opened = [BlockingKnowledgeStore(store, loop)]
        reopen = kwargs.get("reopen")
        if reopen is not None:

            def reopen_blocking() -> KnowledgeStore:
                opened.append(BlockingKnowledgeStore(reopen(), loop))
                return opened[-1]

            kwargs["reopen"] = reopen_blocking
        try:
            test(self, opened[0], *args, **kwargs)
        finally:
            try:
                for blocking in opened:
                    blocking.close()
            finally:
                loop.run_until_complete(loop.shutdown_default_executor())
                loop.close()

    return run


class AsyncKnowledgeStoreContract(KnowledgeStoreContract):
    """Subclass with a synchronous ``store`` fixture returning a fresh, empty AsyncKnowledgeStore.

    Every test of :class:`KnowledgeStoreContract` runs too (see the module docstring).
    """

    protocol = AsyncKnowledgeStore  # type: ignore[assignment]  # the async twin of the sync suite's
    wanted = "return a fresh, empty AsyncKnowledgeStore (the suite's tests await it in their own event loops)"

    def test_satisfies_protocol(self, store: AsyncKnowledgeStore) -> None:  # type: ignore[override]
        assert isinstance(store, AsyncKnowledgeStore)
        not_coroutines = [m for m in _CONTRACT_METHODS if not inspect.iscoroutinefunction(getattr(store, m))]
        assert not_coroutines == []
        asyncio.run(store.close())

    @run_async
    async def test_async_with_closes(self, store: AsyncKnowledgeStore) -> None:
        async with store as entered:
            assert entered is store
            name = _unique()
            await entered.create_collection(name, 8, self.supported_distances[0])
        with pytest.raises(Exception):  # noqa: B017 - any error: the store is closed
            await store.count(name)

    @run_async
    async def test_concurrent_inserts_lose_nothing(self, store: AsyncKnowledgeStore) -> None:
        name = _unique()
        await store.create_collection(name, 8, self.supported_distances[0])
        writers, per_writer = 4, 10
        vectors = _vectors(20, writers * per_writer, 8)

        async def write(writer: int) -> None:
            for index in range(per_writer):
                number = writer * per_writer + index
                await store.insert(name, [_document(f"w{number}", vectors[number])])

        await asyncio.gather(*(write(writer) for writer in range(writers)))
        assert await store.count(name) == writers * per_writer

    @run_async
    async def test_concurrent_inserts_of_one_id_store_it_once(self, store: AsyncKnowledgeStore) -> None:
        name = _unique()
        await store.create_collection(name, 8, self.supported_distances[0])
        vectors = _vectors(22, 6, 8)
        outcomes = await asyncio.gather(
            *(store.insert(name, [_document("same", vector)]) for vector in vectors), return_exceptions=True
        )
        assert sum(outcome == ["same"] for outcome in outcomes) == 1
        assert all(outcome == ["same"] or isinstance(outcome, ValueError) for outcome in outcomes), outcomes
        assert await store.count(name) == 1

    @run_async
    async def test_a_cancelled_call_leaves_the_store_usable(self, store: AsyncKnowledgeStore) -> None:
        name = _unique()
        await store.create_collection(name, 8, self.supported_distances[0])
        vectors = _vectors(23, 41, 8)
        batch = [_document(f"c{i}", vector) for i, vector in enumerate(vectors[:40])]
        for delay in (0, 1, 2, 5):  # cancelled before it starts, then at later and later awaits
            task = asyncio.ensure_future(store.upsert(name, batch))
            for _ in range(delay):
                await asyncio.sleep(0)
            cancelled = task.cancel()  # False: the call had already finished
            if delay == 0:
                assert cancelled, "a task cancelled before it ran must not run"
            if cancelled:
                with pytest.raises(asyncio.CancelledError):
                    await task
            # Whatever the cancelled call did, it did all of it or nothing, and the next calls work.
            assert await store.count(name) in (0, len(batch))
        assert await store.insert(name, [_document("after", vectors[40])]) == ["after"]
        assert _ids(await store.get(name, ["after"])) == ["after"]
        found = await store.search(name, vectors[40], limit=1)
        assert _ids(found) == ["after"]

    def test_works_across_event_loops(self, store: AsyncKnowledgeStore) -> None:
        name = _unique()
        vectors = _vectors(24, 3, 8)

        async def first() -> None:
            await store.create_collection(name, 8, self.supported_distances[0])
            await store.insert(name, [_document(f"l{i}", vector) for i, vector in enumerate(vectors)])

        async def second() -> list[KnowledgeDocument]:
            return await store.search(name, vectors[0], limit=1)

        async def third() -> int:
            try:
                return await store.count(name)
            finally:
                await store.close()

        asyncio.run(first())
        assert _ids(asyncio.run(second())) == ["l0"]
        assert asyncio.run(third()) == 3


for _name in dir(KnowledgeStoreContract):  # the sync suite's tests, inherited ones included
    if _name.startswith("test_") and _name not in vars(AsyncKnowledgeStoreContract):
        setattr(AsyncKnowledgeStoreContract, _name, _blocking_test(getattr(KnowledgeStoreContract, _name)))
