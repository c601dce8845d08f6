"""qdrant: the knowledge contract suite on qdrant-client's local mode (memory and directory), plus
URL parsing, shared local clients, id mapping and filter translation checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from praisonai.persistence.errors import ConfigError, StoreError, UnsupportedFilterError
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import QdrantKnowledgeConfig
from praisonai.persistence.knowledge.qdrant import AsyncQdrantKnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import AsyncKnowledgeStoreContract, KnowledgeStoreContract
from tests.support.async_knowledge_checks import check_sync_and_async_share_data

pytest.importorskip("qdrant_client", reason="the qdrant extra is not installed")


class TestQdrantMemoryContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("qdrant", path=":memory:")
        yield store
        store.close()


class TestQdrantDirectoryContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("qdrant", url=str(tmp_path / "qdrant"))
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], KnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("qdrant", url=f"qdrant:///{tmp_path / 'qdrant'}")


class TestAsyncQdrantMemoryContract(AsyncKnowledgeStoreContract):
    @pytest.fixture
    def store(self) -> AsyncKnowledgeStore:
        store = KNOWLEDGE_STORES.create("async_qdrant", path=":memory:")
        assert isinstance(store, AsyncQdrantKnowledgeStore)  # native, not the thread offload
        return store


class TestAsyncQdrantDirectoryContract(AsyncKnowledgeStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> AsyncKnowledgeStore:
        return KNOWLEDGE_STORES.create("qdrant_async", url=str(tmp_path / "qdrant"))

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], AsyncKnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("async_qdrant", url=f"qdrant:///{tmp_path / 'qdrant'}")


def test_sync_and_async_qdrant_read_each_others_data(tmp_path: Path) -> None:
    directory = str(tmp_path / "shared")
    assert isinstance(KNOWLEDGE_STORES.create("async_qdrant", path=":memory:"), AsyncQdrantKnowledgeStore)
    check_sync_and_async_share_data(
        lambda: KNOWLEDGE_STORES.create("qdrant", path=directory),
        lambda: KNOWLEDGE_STORES.create("async_qdrant", path=directory),
    )


# -- configuration ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (":memory:", {"path": ":memory:", "url": None}),
        ("/var/lib/q", {"path": "/var/lib/q", "url": None}),
        ("qdrant:///rel/dir", {"path": "rel/dir", "url": None}),
        ("qdrant:////abs/dir", {"path": "/abs/dir", "url": None}),
        ("qdrant://db.example", {"path": None, "url": "http://db.example:6333"}),
        ("qdrants://db.example:7000", {"path": None, "url": "https://db.example:7000"}),
        ("https://db.example:6333", {"path": None, "url": "https://db.example:6333"}),
    ],
)
def test_url_forms(url: str, expected: dict[str, object]) -> None:
    config = QdrantKnowledgeConfig.from_options(url)
    assert {"path": config.path, "url": config.url} == expected


def test_default_is_local_mode_under_the_data_dir(tmp_path: Path) -> None:
    config = QdrantKnowledgeConfig.from_options()
    assert config.local_path == str(tmp_path / "praisonai-data" / "qdrant")


def test_api_key_from_url_is_masked() -> None:
    config = QdrantKnowledgeConfig.from_options("qdrants://:s3cret-key@db.example")
    assert config.api_key is not None and config.api_key.get_secret_value() == "s3cret-key"
    assert "s3cret-key" not in repr(config) and "s3cret-key" not in str(config)


@pytest.mark.parametrize(
    "options",
    [
        {"path": "/x", "url": "http://h:6333"},
        {"path": "/x", "api_key": "k"},
        {"url": "ftp://h"},
        {"url": "http://user:pw@h"},
        {"timeout": 0},
    ],
)
def test_bad_configs_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as raised:
        QdrantKnowledgeConfig.from_options(None, options)
    assert "pw" not in str(raised.value)


def test_unreachable_server_raises_backend_unavailable() -> None:
    from praisonai.persistence.errors import BackendUnavailableError

    store = KNOWLEDGE_STORES.create("qdrant", url="http://127.0.0.1:9", timeout=2)
    try:
        with pytest.raises(BackendUnavailableError):
            store.list_collections()
    finally:
        store.close()


# -- local mode ------------------------------------------------------------------


def test_two_stores_on_one_directory_share_the_local_client(tmp_path: Path) -> None:
    first = KNOWLEDGE_STORES.create("qdrant", path=str(tmp_path / "q"))
    second = KNOWLEDGE_STORES.create("qdrant", path=str(tmp_path / "q"))
    try:
        first.create_collection("shared", 2)
        first.insert("shared", [KnowledgeDocument(id="a", embedding=[1.0, 0.0])])
        assert second.count("shared") == 1
        first.close()
        assert second.get("shared", ["a"])[0].id == "a"
    finally:
        first.close()
        second.close()
    third = KNOWLEDGE_STORES.create("qdrant", path=str(tmp_path / "q"))
    try:
        assert third.count("shared") == 1
    finally:
        third.close()


def test_closed_store_refuses_calls() -> None:
    store = KNOWLEDGE_STORES.create("qdrant", path=":memory:")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_collections()


def test_any_string_id_round_trips_and_ids_never_collide() -> None:
    ids = ["1", "01", "00000000-0000-0000-0000-000000000001", "ümlaut/ü", "a b", "' OR 1=1 --", "x" * 255]
    with KNOWLEDGE_STORES.create("qdrant", path=":memory:") as store:
        store.create_collection("ids", 2, "dot")
        store.insert("ids", [KnowledgeDocument(id=i, embedding=[float(n), 1.0]) for n, i in enumerate(ids)])
        assert store.count("ids") == len(ids)
        assert [d.id for d in store.get("ids", ids)] == ids
        assert [d.embedding for d in store.get("ids", ids)] == [[float(n), 1.0] for n in range(len(ids))]


def test_field_names_that_are_not_payload_paths_filter_exactly() -> None:
    names = ["a.b", 'q"uote', "sp ace", "[0]", "ü", "x:y"]
    with KNOWLEDGE_STORES.create("qdrant", path=":memory:") as store:
        store.create_collection("fields", 2)
        store.insert(
            "fields",
            [
                KnowledgeDocument(id=f"d{n}", embedding=[1.0, float(n)], metadata={name: n})
                for n, name in enumerate(names)
            ],
        )
        for n, name in enumerate(names):
            assert [d.id for d in store.search("fields", [1.0, 0.0], limit=10, filters={name: n})] == [f"d{n}"]
            assert len(store.search("fields", [1.0, 0.0], limit=10, filters={name: {"$ne": n}})) == len(names) - 1


def test_string_ordering_handles_long_and_unicode_values() -> None:
    values = ["", "a", "a" * 40, "a" * 41, "b", "é", "\U0001f600", "a\x00", "ab" * 60]
    with KNOWLEDGE_STORES.create("qdrant", path=":memory:") as store:
        store.create_collection("strings", 2)
        store.insert(
            "strings",
            [KnowledgeDocument(id=f"s{n}", embedding=[1.0, 0.0], metadata={"v": v}) for n, v in enumerate(values)],
        )
        for probe in values[:-1]:
            for op, check in (("$gt", str.__gt__), ("$lte", str.__le__)):
                found = {d.id for d in store.search("strings", [1.0, 0.0], limit=20, filters={"v": {op: probe}})}
                assert found == {f"s{n}" for n, v in enumerate(values) if check(v, probe)}, (op, probe)
        with pytest.raises(UnsupportedFilterError):
            store.search("strings", [1.0, 0.0], filters={"v": {"$gt": "x" * 400}})


def test_collections_this_backend_did_not_create_are_left_alone() -> None:
    from qdrant_client import models

    from praisonai.persistence.errors import AlreadyExistsError
    from praisonai.persistence.knowledge.qdrant import QdrantKnowledgeStore

    with KNOWLEDGE_STORES.create("qdrant", path=":memory:") as store:
        assert isinstance(store, QdrantKnowledgeStore)
        client = store._client  # the same engine, used by another application
        client.create_collection("foreign", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        assert not store.collection_exists("foreign")
        assert store.list_collections() == []
        assert store.delete_collection("foreign") is False
        assert client.collection_exists("foreign")
        with pytest.raises(AlreadyExistsError):
            store.create_collection("foreign", 2)


def test_a_large_insert_is_sent_in_parts_and_taken_back_whole_when_one_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from praisonai.persistence.knowledge import qdrant as qdrant_module

    monkeypatch.setattr(qdrant_module, "_WRITE", 3)
    documents = [KnowledgeDocument(id=f"d{index}", embedding=[1.0, float(index)]) for index in range(7)]
    with KNOWLEDGE_STORES.create("qdrant", path=":memory:") as store:
        store.create_collection("docs", 2)
        sent: list[int] = []
        upsert = store._client.upsert  # type: ignore[attr-defined]

        def counted(*args: object, points: list[object], **kwargs: object) -> object:
            sent.append(len(points))
            if len(sent) == 3 and documents[-1].id == "e6":
                raise RuntimeError("request lost")
            return upsert(*args, points=points, **kwargs)

        monkeypatch.setattr(store._client, "upsert", counted)  # type: ignore[attr-defined]
        store.insert("docs", documents)
        assert sent == [3, 3, 1] and store.count("docs") == 7
        sent.clear()
        documents = [KnowledgeDocument(id=f"e{index}", embedding=[1.0, float(index)]) for index in range(7)]
        with pytest.raises(StoreError):
            store.insert("docs", documents)
        assert sent == [3, 3, 1] and store.count("docs") == 7  # the two parts written were taken back
