"""surrealdb_vector: the knowledge contract suite on SurrealDB's embedded engine (mem:// and surrealkv://)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from praisonai.persistence.errors import ConfigError, InvalidInputError, StoreError
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import SurrealVectorKnowledgeConfig
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract

pytest.importorskip("surrealdb", reason="the SurrealDB SDK (pip install surrealdb) runs these tests")


class TestSurrealMemoryContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("surrealdb_vector", url="mem://")
        yield store
        store.close()


class TestSurrealKvContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("surrealdb_v", url=f"surrealkv://{tmp_path / 'kb'}")
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], KnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("surrealdb_vector", url=f"surrealkv://{tmp_path / 'kb'}")


# -- configuration and SurrealDB specifics ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("mem://", {"username": "root", "password": "pw"}),
        ("surrealkv://", {}),
        ("redis://h", {}),
        ("ws://h:8000/rpc", {"password": "pw"}),
        ("ws://h:8000/rpc", {"token": "t", "username": "u"}),
    ],
)
def test_bad_config_is_refused(url: str, options: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as caught:
        SurrealVectorKnowledgeConfig.from_options(url, options)
    assert "pw" not in str(caught.value).replace("password", "")


def test_server_url_credentials_move_out_of_the_url() -> None:
    config = SurrealVectorKnowledgeConfig.from_options("wss://root:s3cret@db.example:8000/rpc?ns=app&db=kb", {})
    assert config.url == "wss://db.example:8000/rpc"
    assert (config.username, config.namespace, config.database) == ("root", "app", "kb")
    assert "s3cret" not in repr(config)


def test_a_surrealkv_directory_has_one_store(tmp_path: Path) -> None:
    url = f"surrealkv://{tmp_path / 'kb'}"
    first = KNOWLEDGE_STORES.create("surrealdb_vector", url=url)
    try:
        first.list_collections()
        second = KNOWLEDGE_STORES.create("surrealdb_vector", url=url)
        with pytest.raises(StoreError, match="in use"):
            second.list_collections()
        second.close()
    finally:
        first.close()


def test_integers_beyond_64_bits_and_nulls_filter_exactly() -> None:
    store = KNOWLEDGE_STORES.create("surrealdb_vector", url="mem://")
    try:
        store.create_collection("c", 2)
        store.insert(
            "c",
            [
                KnowledgeDocument(id="big", embedding=[1.0, 0.0], metadata={"n": 2**70 + 1, "z": None}),
                KnowledgeDocument(id="small", embedding=[0.0, 1.0], metadata={"n": 2**70, "nested": {"z": None}}),
            ],
        )
        assert [d.id for d in store.search("c", [1.0, 0.0], filters={"n": {"$gt": 2**70}})] == ["big"]
        assert [d.id for d in store.search("c", [1.0, 0.0], filters={"z": None})] == ["big"]
        assert [d.id for d in store.search("c", [1.0, 0.0], filters={"z": {"$ne": None}})] == ["small"]
        [small] = store.get("c", ["small"])
        assert small.metadata == {"n": 2**70, "nested": {"z": None}}
    finally:
        store.close()


def test_content_with_nul_is_refused() -> None:
    store = KNOWLEDGE_STORES.create("surrealdb_vector", url="mem://")
    try:
        store.create_collection("c", 2)
        with pytest.raises(InvalidInputError, match="NUL"):
            store.insert("c", [KnowledgeDocument(id="a", content="x\x00", embedding=[1.0, 0.0])])
        assert store.count("c") == 0
    finally:
        store.close()
