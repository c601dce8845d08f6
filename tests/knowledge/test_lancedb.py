"""lancedb: the knowledge contract suite on a local LanceDB directory, plus URL parsing, typed
filter columns and per-store connections."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.errors import ConfigError, StoreError
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import LanceDbKnowledgeConfig
from praisonai.persistence.knowledge.lancedb import AsyncLanceDbKnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import AsyncKnowledgeStoreContract, KnowledgeStoreContract
from tests.support.emulators import require_driver


@pytest.fixture(scope="module")
def lancedb() -> object:
    return require_driver("lancedb", "lancedb")


class TestLanceDbContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path, lancedb: object) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("lancedb", uri=str(tmp_path / "lance"))
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], KnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("lancedb", url=f"lancedb:///{tmp_path / 'lance'}")


class TestAsyncLanceDbContract(AsyncKnowledgeStoreContract):
    """async_lancedb: native, on LanceDB's async API."""

    @pytest.fixture
    def store(self, tmp_path: Path, lancedb: object) -> AsyncKnowledgeStore:
        store = KNOWLEDGE_STORES.create("async_lancedb", uri=str(tmp_path / "lance"))
        assert isinstance(store, AsyncLanceDbKnowledgeStore)  # native, not the thread offload
        return store

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], AsyncKnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("lancedb_async", url=f"lancedb:///{tmp_path / 'lance'}")


@pytest.mark.parametrize(
    ("url", "uri"),
    [
        ("/data/lance", "/data/lance"),
        ("lancedb:///rel/dir", "rel/dir"),
        ("lancedb:////abs/dir", "/abs/dir"),
        ("s3://bucket/prefix", "s3://bucket/prefix"),
        ("db://my-database", "db://my-database"),
    ],
)
def test_url_forms(url: str, uri: str) -> None:
    assert LanceDbKnowledgeConfig.from_options(url).uri == uri


def test_default_is_a_directory_under_the_data_dir(tmp_path: Path) -> None:
    assert LanceDbKnowledgeConfig.from_options().uri == str(tmp_path / "praisonai-data" / "lancedb")


def test_api_key_is_masked_and_bad_schemes_refused() -> None:
    config = LanceDbKnowledgeConfig.from_options("db://x", {"api_key": "sk-secret", "region": "us-east-1"})
    assert "sk-secret" not in repr(config)
    with pytest.raises(ConfigError):
        LanceDbKnowledgeConfig.from_options("ftp://x")


def test_each_store_has_its_own_connection(tmp_path: Path, lancedb: object) -> None:
    first = KNOWLEDGE_STORES.create("lancedb", uri=str(tmp_path / "one"))
    second = KNOWLEDGE_STORES.create("lancedb", uri=str(tmp_path / "two"))
    with first, second:
        first.create_collection("same_name", 2)
        second.create_collection("same_name", 3)
        first.insert("same_name", [KnowledgeDocument(id="a", embedding=[1.0, 0.0])])
        assert (first.count("same_name"), second.count("same_name")) == (1, 0)
        assert first._db is not second._db  # type: ignore[attr-defined]


def test_typed_columns_are_added_per_field_and_filter_exactly(tmp_path: Path, lancedb: Any) -> None:
    with KNOWLEDGE_STORES.create("lancedb", uri=str(tmp_path / "l")) as store:
        store.create_collection("typed", 2)
        store.insert("typed", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"x": 1})])
        # A field first seen later gets its columns then; older rows read as "absent".
        store.insert("typed", [KnowledgeDocument(id="b", embedding=[0.0, 1.0], metadata={"x": "1", 'y"; --': True})])
        table = lancedb.connect(str(tmp_path / "l")).open_table("typed")
        assert {"m_78_t", "m_78_s", "m_78_n", "m_78_b"} <= set(table.schema.names)
        search = store.search
        assert [d.id for d in search("typed", [1.0, 0.0], limit=5, filters={"x": 1})] == ["a"]
        assert [d.id for d in search("typed", [1.0, 0.0], limit=5, filters={"x": "1"})] == ["b"]
        assert [d.id for d in search("typed", [1.0, 0.0], limit=5, filters={'y"; --': {"$ne": True}})] == ["a"]
        assert search("typed", [1.0, 0.0], limit=5, filters={"never_seen": 1}) == []
        assert len(search("typed", [1.0, 0.0], limit=5, filters={"never_seen": {"$nin": [1]}})) == 2


def test_closed_store_refuses_calls(tmp_path: Path, lancedb: object) -> None:
    store = KNOWLEDGE_STORES.create("lancedb", uri=str(tmp_path / "l"))
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_collections()
