"""Checks of a native async knowledge store against its sync twin (cancellation and successive event
loops are tests/reliability/test_async_stores.py's).

- :func:`check_sync_and_async_share_data`: what one form wrote, the other reads (same layout).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore

__all__ = ["check_sync_and_async_share_data"]


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
