"""Async knowledge stores created with an embedder, and MMR on async stores: the same steps as the sync
wrapper (knowledge/text.py, knowledge/mmr.py), so the same results for the same data."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from praisonai.persistence.embedders.base import AsyncEmbedder
from praisonai.persistence.errors import InvalidInputError
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument
from praisonai.persistence.knowledge.mmr import search_mmr, search_mmr_async
from praisonai.persistence.knowledge.text import (
    AsyncEmbeddingKnowledgeStore,
    AsyncTextKnowledgeStore,
    with_embedder,
)
from praisonai.persistence.registry import KNOWLEDGE_STORES

from .test_text import DIMENSION, DOCUMENTS, Counting, bag_of_words

QUERIES = ("capital city of France", "cat and dog", "qubits")


class AsyncCounting(AsyncEmbedder):
    """An AsyncEmbedder remembering which thread embedded."""

    dimension = DIMENSION

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.closed = False

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.threads.append(threading.current_thread())
        return bag_of_words(texts)

    async def embed_query(self, text: str) -> list[float]:
        return (await self.embed([text]))[0]

    async def close(self) -> None:
        self.closed = True


def _sync_results() -> dict[str, list[tuple[str, float | None]]]:
    store = KNOWLEDGE_STORES.create("memory", embedder=Counting())
    store.create_collection("docs")
    store.insert("docs", [KnowledgeDocument(id=key, content=text) for key, text in DOCUMENTS.items()])
    results = {}
    for query in QUERIES:
        results[f"text {query}"] = [(d.id, d.score) for d in store.search_text("docs", query, limit=3)]
        results[f"mmr {query}"] = [(d.id, d.score) for d in store.search_mmr_text("docs", query, 3, 5, 0.3)]
    vector = bag_of_words([QUERIES[1]])[0]
    results["mmr vector"] = [(d.id, d.score) for d in search_mmr(store, "docs", vector, 2, 5, 0.5)]
    store.close()
    return results


async def _async_results(store: AsyncEmbeddingKnowledgeStore) -> dict[str, list[tuple[str, float | None]]]:
    await store.create_collection("docs")
    await store.insert("docs", [KnowledgeDocument(id=key, content=text) for key, text in DOCUMENTS.items()])
    results = {}
    for query in QUERIES:
        results[f"text {query}"] = [(d.id, d.score) for d in await store.search_text("docs", query, limit=3)]
        results[f"mmr {query}"] = [(d.id, d.score) for d in await store.search_mmr_text("docs", query, 3, 5, 0.3)]
    vector = bag_of_words([QUERIES[1]])[0]
    results["mmr vector"] = [(d.id, d.score) for d in await store.search_mmr("docs", vector, 2, 5, 0.5)]
    assert [(d.id, d.score) for d in await search_mmr_async(store.store, "docs", vector, 2, 5, 0.5)] == results[
        "mmr vector"
    ]
    return results


@pytest.mark.parametrize("embedder", [Counting, AsyncCounting])
def test_async_store_with_an_embedder_gives_the_sync_results(embedder: type) -> None:
    expected = _sync_results()
    assert expected["text cat and dog"][0][0] in ("cat", "dog")  # the data means something

    async def main() -> dict[str, list[tuple[str, float | None]]]:
        store = KNOWLEDGE_STORES.create("async_memory", embedder=embedder())
        assert isinstance(store, AsyncEmbeddingKnowledgeStore) and isinstance(store, AsyncTextKnowledgeStore)
        try:
            return await _async_results(store)
        finally:
            await store.close()

    assert asyncio.run(main()) == expected


def test_a_sync_embedder_runs_off_the_loop_and_an_async_one_on_it() -> None:
    loop_threads: list[threading.Thread] = []
    sync_embedder, async_embedder = Counting(), AsyncCounting()
    original = sync_embedder.embed
    seen: list[threading.Thread] = []

    def spying_embed(texts: Sequence[str]) -> list[list[float]]:
        seen.append(threading.current_thread())
        return original(texts)

    sync_embedder.embed = spying_embed  # type: ignore[method-assign]

    async def main() -> None:
        loop_threads.append(threading.current_thread())
        for embedder in (sync_embedder, async_embedder):
            store = with_embedder(KNOWLEDGE_STORES.create("async_memory"), embedder)
            await store.create_collection("c")
            await store.insert("c", [KnowledgeDocument(content="hello world")])
            await store.close()

    asyncio.run(main())
    assert seen and all(thread is not loop_threads[0] for thread in seen)
    assert async_embedder.threads == [loop_threads[0]]


def test_dimensions_are_checked_on_async_stores() -> None:
    async def main() -> None:
        plain: AsyncKnowledgeStore = KNOWLEDGE_STORES.create("async_memory")
        await plain.create_collection("small", 3)
        store = with_embedder(plain, AsyncCounting())
        with pytest.raises(InvalidInputError, match="dimension 3"):
            await store.insert("small", [KnowledgeDocument(content="text")])
        with pytest.raises(InvalidInputError, match="dimension 3"):
            await store.search_text("small", "text")
        with pytest.raises(InvalidInputError, match="dimension 3"):
            await store.create_collection("other", 3)
        with pytest.raises(InvalidInputError, match="fetch_k"):
            await store.search_mmr_text("small", "text", limit=5, fetch_k=2)
        assert await store.count("small") == 0
        await store.close()

    asyncio.run(main())


def test_an_owned_embedder_is_closed_with_the_async_store() -> None:
    embedder = AsyncCounting()

    async def main() -> None:
        store = with_embedder(KNOWLEDGE_STORES.create("async_memory"), embedder)
        await store.close()
        assert not embedder.closed  # the caller's: not the wrapper's to close
        owned = AsyncEmbeddingKnowledgeStore(KNOWLEDGE_STORES.create("async_memory"), embedder, owns_embedder=True)
        await owned.close()

    asyncio.run(main())
    assert embedder.closed


def test_a_sync_store_refuses_an_async_embedder() -> None:
    with pytest.raises(TypeError, match="async"):
        KNOWLEDGE_STORES.create("memory", embedder=AsyncCounting())
