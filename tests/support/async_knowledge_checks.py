"""Checks of a native async knowledge store against its sync twin: cancellation and event loops.

- :func:`check_cancelled_upserts`: upserts of three-document batches under ``asyncio.wait_for``
  timeouts from 0 to a few milliseconds, so they are cancelled at every stage of their calls.
  Afterwards the same store goes on working, the sync store on the same data reads and rewrites
  every document (nothing is left locked), each acknowledged batch is there and each cancelled
  one is there whole or not at all.
- :func:`check_second_event_loop`: a store used from one ``asyncio.run`` and then another.
- :func:`check_sync_and_async_share_data`: what one form wrote, the other reads (same layout).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore

__all__ = ["check_cancelled_upserts", "check_second_event_loop", "check_sync_and_async_share_data"]

TIMEOUTS = [0.0, 0.00001, 0.0001, 0.0005, 0.001, 0.002, 0.005, 0.02, 0.1, 1.0]
GUARD = 60.0  # seconds: a hang guard
DIMENSION = 4


def _batch(index: int) -> list[KnowledgeDocument]:
    return [
        KnowledgeDocument(
            id=f"d{index}-{part}",
            content=f"{index}-{part}",
            embedding=[1.0, float(index), float(part), 0.5],
            metadata={"round": index},
        )
        for part in range(3)
    ]


def check_cancelled_upserts(store: AsyncKnowledgeStore, twin: KnowledgeStore, collection: str, rounds: int) -> int:
    """Run the cancellation check (see the module docstring); how many upserts were cancelled."""
    every = [f"d{index}-{part}" for index in range(rounds + 1) for part in range(3)]

    async def run() -> tuple[list[int], list[int], set[str]]:
        await store.create_collection(collection, DIMENSION)
        acknowledged: list[int] = []
        cancelled: list[int] = []
        for index in range(rounds):
            try:
                await asyncio.wait_for(store.upsert(collection, _batch(index)), TIMEOUTS[index % len(TIMEOUTS)])
            except (asyncio.TimeoutError, asyncio.CancelledError):
                cancelled.append(index)
            else:
                acknowledged.append(index)
        await asyncio.wait_for(store.upsert(collection, _batch(rounds)), GUARD)
        found = await asyncio.wait_for(asyncio.to_thread(twin.get, collection, every), GUARD)
        rewrite = [document for index in range(rounds + 1) for document in _batch(index)]
        await asyncio.wait_for(asyncio.to_thread(twin.upsert, collection, rewrite), GUARD)
        return acknowledged, cancelled, {document.id for document in found}

    acknowledged, cancelled, stored = asyncio.run(run())
    for index in acknowledged:
        assert {f"d{index}-{part}" for part in range(3)} <= stored
    for index in cancelled:  # all of the batch or none of it
        assert len({f"d{index}-{part}" for part in range(3)} & stored) in (0, 3)
    assert f"d{rounds}-0" in stored
    assert twin.count(collection) == 3 * (rounds + 1)
    assert twin.delete_collection(collection)
    asyncio.run(store.close())
    assert cancelled, "no write was cancelled: the timeouts test nothing"
    return len(cancelled)


def check_second_event_loop(store: AsyncKnowledgeStore, collection: str) -> None:
    """The store works in a second (and third) ``asyncio.run``, the first loops closed."""

    async def first() -> None:
        await store.create_collection(collection, DIMENSION)
        await store.insert(collection, _batch(1))

    async def second() -> list[str]:
        await store.insert(collection, _batch(2))
        found = await store.search(collection, [1.0, 2.0, 0.0, 0.5], limit=2)
        return [document.id for document in found]

    async def third() -> int:
        try:
            return await store.count(collection)
        finally:
            await store.close()

    asyncio.run(first())
    assert asyncio.run(second())[0] == "d2-0"
    assert asyncio.run(third()) == 6


def check_sync_and_async_share_data(
    open_sync: Callable[[], KnowledgeStore], open_async: Callable[[], AsyncKnowledgeStore]
) -> None:
    """A collection the sync store made is the async store's, and the reverse, metadata and filters included."""
    with open_sync() as sync_store:
        sync_store.create_collection("c", 2, "euclidean", metadata={"by": "sync"})
        sync_store.insert("c", [KnowledgeDocument(id="s", content="x", embedding=[1.0, 2.0], metadata={"n": 1})])
        expected = sync_store.search("c", [1.0, 1.0], filters={"n": 1})

    async def main() -> list[KnowledgeDocument]:
        async with open_async() as store:
            assert (await store.describe_collection("c")).metadata == {"by": "sync"}  # type: ignore[attr-defined]
            await store.insert("c", [KnowledgeDocument(id="a", content="y", embedding=[3.0, 4.0])])
            return await store.search("c", [1.0, 1.0], filters={"n": 1})

    assert asyncio.run(main()) == expected
    with open_sync() as sync_store:
        assert [document.id for document in sync_store.get("c", ["a", "s"])] == ["a", "s"]
