"""The thread offload (knowledge/offload.py): the async contract suite on offloaded stores, the
``async_<name>`` rows, cancellation and event loops."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from praisonai.persistence._catalogue import BUILTINS, BY_KIND_AND_NAME
from praisonai.persistence._loading import load_object
from praisonai.persistence.errors import ConfigError, StoreClosedError
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument
from praisonai.persistence.knowledge.configs import AsyncKnowledgeConfig
from praisonai.persistence.knowledge.memory import MemoryKnowledgeStore
from praisonai.persistence.knowledge.offload import OffloadedKnowledgeStore, offload
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import AsyncKnowledgeStoreContract


class TestOffloadedMemoryContract(AsyncKnowledgeStoreContract):
    @pytest.fixture
    def store(self) -> AsyncKnowledgeStore:
        return KNOWLEDGE_STORES.create("async_memory")


class TestOffloadedMemoryFileContract(AsyncKnowledgeStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> AsyncKnowledgeStore:
        return KNOWLEDGE_STORES.create("memory_async", path=str(tmp_path / "k.json"))

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], AsyncKnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("async_memory", path=str(tmp_path / "k.json"))


def test_every_knowledge_backend_has_an_async_form() -> None:
    sync = {b.name for b in BUILTINS if b.kind == "knowledge" and not b.is_async}
    forms = {b.name for b in BUILTINS if b.kind == "knowledge" and b.is_async}
    assert forms == {f"async_{name}" for name in sync}
    for name in sync:
        row, form = BY_KIND_AND_NAME[("knowledge", name)], BY_KIND_AND_NAME[("knowledge", f"async_{name}")]
        config = load_object(form.config)
        assert issubclass(config, load_object(row.config)) and issubclass(config, AsyncKnowledgeConfig)
        assert config.backend == form.name and form.aliases == (f"{name}_async",)
        assert (form.extra, form.requirements, form.drivers) == (row.extra, row.requirements, row.drivers)
        assert callable(load_object(form.adapter))


def test_async_forms_validate_as_their_sync_backend() -> None:
    config = KNOWLEDGE_STORES.validate("async_qdrant", url=":memory:")
    assert type(config).__name__ == "AsyncQdrantKnowledgeConfig"
    assert config.model_dump()["path"] == ":memory:"
    with pytest.raises(ConfigError) as raised:
        KNOWLEDGE_STORES.validate("async_pgvector", dimension_typo=3)
    assert "async_pgvector" in str(raised.value) and "dimension_typo" in str(raised.value)


def test_offloaded_errors_name_the_async_backend() -> None:
    async def main() -> None:
        store = KNOWLEDGE_STORES.create("async_memory")
        assert isinstance(store, OffloadedKnowledgeStore) and store.backend == "async_memory"
        await store.close()
        with pytest.raises(StoreClosedError):
            await store.count("c")

    asyncio.run(main())


def test_calls_run_off_the_event_loop_thread() -> None:
    seen: list[threading.Thread] = []

    class Spy(MemoryKnowledgeStore):
        def count(self, collection: str) -> int:
            seen.append(threading.current_thread())
            return super().count(collection)

    from praisonai.persistence.knowledge.config import MemoryKnowledgeConfig

    store = offload(Spy(MemoryKnowledgeConfig()))

    async def main() -> None:
        await store.create_collection("c", 2)
        assert await store.count("c") == 0
        await store.close()

    asyncio.run(main())
    assert seen and seen[0] is not threading.main_thread()


def test_iter_documents_pages_and_stops_early() -> None:
    store = KNOWLEDGE_STORES.create("async_memory")
    assert isinstance(store, OffloadedKnowledgeStore)

    async def main() -> list[list[str]]:
        await store.create_collection("c", 2)
        await store.insert("c", [KnowledgeDocument(id=f"d{i}", embedding=[1.0, float(i)]) for i in range(5)])
        info = await store.describe_collection("c")
        assert (info.dimension, info.distance) == (2, "cosine")
        pages = [[d.id for d in page] async for page in store.iter_documents("c", batch_size=2)]
        async for _ in store.iter_documents("c", batch_size=1):
            break  # the scan is closed, the store still usable
        assert await store.count("c") == 5
        await store.close()
        return pages

    assert asyncio.run(main()) == [["d0", "d1"], ["d2", "d3"], ["d4"]]


def test_a_plugin_async_store_is_checked_against_async_knowledge_store() -> None:
    from praisonai.persistence.errors import ContractError
    from praisonai.persistence.knowledge.config import MemoryKnowledgeConfig

    class Partial(OffloadedKnowledgeStore):
        count = None  # type: ignore[assignment]

    KNOWLEDGE_STORES.register(
        "offload_plugin", lambda **options: offload(MemoryKnowledgeStore(MemoryKnowledgeConfig()))
    )
    KNOWLEDGE_STORES.register(
        "partial_plugin", lambda **options: Partial(MemoryKnowledgeStore(MemoryKnowledgeConfig()))
    )
    try:
        store = KNOWLEDGE_STORES.create("offload_plugin")
        assert isinstance(store, AsyncKnowledgeStore)
        asyncio.run(store.close())
        with pytest.raises(ContractError, match="AsyncKnowledgeStore: missing count"):
            KNOWLEDGE_STORES.create("partial_plugin")
    finally:
        KNOWLEDGE_STORES.unregister("offload_plugin")
        KNOWLEDGE_STORES.unregister("partial_plugin")
