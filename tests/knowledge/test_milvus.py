"""milvus: the knowledge contract suite on milvus-lite (a local file), plus URL parsing, name
encoding, the closed-alphabet filter expressions and per-store clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from praisonai.persistence.errors import ConfigError, EngineError, InvalidInputError, StoreError
from praisonai.persistence.knowledge import milvus as milvus_module
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import MilvusKnowledgeConfig
from praisonai.persistence.knowledge.filters import parse_filter
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract
from praisonai.persistence.testing.knowledge import FILTERS, NULL_FILTERS
from tests.support.emulators import require_driver, shared_service, start_milvus_server


@pytest.fixture(scope="module")
def pymilvus() -> object:
    require_driver("milvus_lite", "milvus")
    return require_driver("pymilvus", "milvus")


@pytest.fixture(scope="module")
def shared_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("milvus") / "contract.db"


class TestMilvusLiteContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, shared_file: Path, pymilvus: object) -> Iterator[KnowledgeStore]:
        # One milvus-lite file for the module (starting milvus-lite takes a moment); collections are unique.
        store = KNOWLEDGE_STORES.create("milvus", uri=str(shared_file))
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, shared_file: Path) -> Callable[[], KnowledgeStore]:
        return lambda: KNOWLEDGE_STORES.create("milvus", url=f"milvus:///{shared_file}")


@pytest.fixture(scope="module")
def milvus_server(pymilvus: object) -> Iterator[str]:
    with shared_service(start_milvus_server) as service:
        yield service.endpoint


@pytest.mark.slow
class TestMilvusServerContract(KnowledgeStoreContract):
    """The same contract on a real Milvus standalone server (Milvus 2.3 from the PyPI package ``milvus``)."""

    @pytest.fixture
    def store(self, milvus_server: str) -> Iterator[KnowledgeStore]:
        store = KNOWLEDGE_STORES.create("milvus", uri=milvus_server)
        yield store
        store.close()
        _drop_every_collection(milvus_server)

    @pytest.fixture
    def reopen(self, milvus_server: str) -> Callable[[], KnowledgeStore]:
        host_port = milvus_server.removeprefix("http://")
        return lambda: KNOWLEDGE_STORES.create("milvus", url=f"milvus://{host_port}")


def _drop_every_collection(uri: str) -> None:
    """Each server collection keeps a query and a data flow graph busy with time ticks: dropped after each
    test, the 200-odd collections the contract creates do not slow the server (and the later tests) down."""
    from pymilvus import MilvusClient

    client = MilvusClient(uri=uri)
    try:
        for name in client.list_collections():
            client.drop_collection(name)
    finally:
        client.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/data/m.db", {"uri": "/data/m.db", "db_name": ""}),
        ("milvus:///rel.db", {"uri": "rel.db"}),
        ("milvus:////abs/m.db", {"uri": "/abs/m.db"}),
        ("milvus://db.example/analytics", {"uri": "http://db.example:19530", "db_name": "analytics"}),
        ("https://db.example:443?db_name=x", {"uri": "https://db.example:443", "db_name": "x"}),
    ],
)
def test_url_forms(url: str, expected: dict[str, object]) -> None:
    config = MilvusKnowledgeConfig.from_options(url)
    assert {key: getattr(config, key) for key in expected} == expected


def test_credentials_become_a_masked_token() -> None:
    config = MilvusKnowledgeConfig.from_options("milvus://root:Milvus-pw@db.example:19530")
    assert config.token is not None and config.token.get_secret_value() == "root:Milvus-pw"
    assert "Milvus-pw" not in repr(config) and not config.is_local


@pytest.mark.parametrize("options", [{"uri": "http://u:p@h:19530"}, {"uri": "ftp://h"}, {"timeout": -1}])
def test_bad_configs_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        MilvusKnowledgeConfig.from_options(None, options)


def test_default_is_a_milvus_lite_file_under_the_data_dir(tmp_path: Path) -> None:
    config = MilvusKnowledgeConfig.from_options()
    assert config.uri == str(tmp_path / "praisonai-data" / "milvus.db") and config.is_local


@pytest.mark.parametrize("name", ["plain_name", "_x", "with-dash", "-" * 63, "a" * 63, "x-" + "y" * 61])
def test_collection_names_encode_reversibly_into_milvus_names(name: str) -> None:
    native = milvus_module._native_name(name)
    assert native[0].isalpha() or native[0] == "_"
    assert all(c.isalnum() or c == "_" for c in native) and len(native) <= 255
    assert milvus_module._portable_name(native) == name


@pytest.mark.parametrize("name", [*FILTERS, *NULL_FILTERS])
def test_filter_expressions_never_contain_caller_text(name: str) -> None:
    filters = {**FILTERS, **NULL_FILTERS}[name]
    node = parse_filter({"$or": [filters, {"x'\"); drop": {"$in": ["'; DROP", 'a"b']}}]})
    lowered = milvus_module.lower(node, chunk_limit=32)
    expression = milvus_module._render(lowered)
    for text in ("DROP", "drop", "'", "lang", "group", "en", '"b'):
        assert text not in expression.replace('"]', "").replace('["', ""), (text, expression)


def test_oversized_text_is_refused_before_writing(tmp_path: Path, pymilvus: object) -> None:
    with KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / "m.db")) as store:
        store.create_collection("big", 2)
        with pytest.raises(InvalidInputError, match="65535"):
            store.insert("big", [KnowledgeDocument(id="a", content="é" * 40000, embedding=[1.0, 0.0])])
        assert store.count("big") == 0
        with pytest.raises(InvalidInputError):
            store.search("big", [1.0, 0.0], limit=20000)


def test_each_store_has_its_own_client(tmp_path: Path, pymilvus: object) -> None:
    first = KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / "one.db"))
    second = KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / "two.db"))
    with first, second:
        first.create_collection("same", 2)
        assert not second.collection_exists("same")
        assert first._client is not second._client  # type: ignore[attr-defined]


def test_closed_store_refuses_calls(tmp_path: Path, pymilvus: object) -> None:
    store = KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / "m.db"))
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_collections()


def test_a_released_collection_is_loaded_again(tmp_path: Path, pymilvus: object) -> None:
    # After milvus-lite restarts (a new process opening the file), collections are "released" and Milvus
    # refuses search/get/query on them; the release below stands in for that restart.
    with KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / "m.db")) as store:
        store.create_collection("kept", 2)
        store.insert("kept", [KnowledgeDocument(id="a", content="x", embedding=[1.0, 0.0])])
        store._client.release_collection(milvus_module._native_name("kept"))  # type: ignore[attr-defined]
    with KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / "m.db")) as reopened:
        assert [document.id for document in reopened.search("kept", [1.0, 0.0], limit=1)] == ["a"]
        assert [document.id for document in reopened.get("kept", ["a"])] == ["a"]


def test_listing_collections_loads_none_of_them(tmp_path: Path, pymilvus: object) -> None:
    with KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / "m.db")) as store:
        store.create_collection("listed", 2)
        native = milvus_module._native_name("listed")
        store._client.release_collection(native)  # type: ignore[attr-defined]
    with KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / "m.db")) as reopened:
        assert reopened.list_collections() == ["listed"]
        assert reopened._client.get_load_state(native)["state"].name == "NotLoad"  # type: ignore[attr-defined]
        assert reopened.count("listed") == 0  # any other call loads it
        assert reopened._client.get_load_state(native)["state"].name == "Loaded"  # type: ignore[attr-defined]


def test_a_collection_that_never_loads_is_an_engine_error(
    tmp_path: Path, pymilvus: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # create_collection waits for the load itself (pymilvus's own wait sleeps 500 ms first), but not forever.
    from pymilvus.client.types import LoadState

    with KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / "m.db"), timeout=0.2) as store:
        client = store._client  # type: ignore[attr-defined]
        monkeypatch.setattr(client, "get_load_state", lambda name, **options: {"state": LoadState.Loading})
        with pytest.raises(EngineError, match=r"not loaded within 0\.2 s"):
            store.create_collection("stuck", 2)


def test_a_search_flushes_rows_written_since_the_last_flush_once_enough_built_up(
    tmp_path: Path, pymilvus: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(milvus_module, "_FLUSH_ROWS", 3)
    with KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / "m.db")) as store:
        client = store._client  # type: ignore[attr-defined]
        flushed: list[str] = []
        flush = client.flush

        def counted_flush(name: str, **options: Any) -> None:
            flushed.append(name)
            flush(name, **options)

        monkeypatch.setattr(client, "flush", counted_flush)
        store.create_collection("c", 2)

        def ranking() -> list[str]:
            return [document.id for document in store.search("c", [1.0, 0.0], limit=10)]

        store.insert("c", [KnowledgeDocument(id=key, embedding=[1.0, float(key)]) for key in "12"])
        assert (ranking(), flushed) == (["1", "2"], [])
        store.upsert("c", [KnowledgeDocument(id="0", embedding=[1.0, 0.0])])  # the third row since a flush
        assert (ranking(), flushed) == (["0", "1", "2"], ["c"])
        store.insert("c", [KnowledgeDocument(id="3", embedding=[1.0, 3.0])])
        assert (ranking(), flushed) == (["0", "1", "2", "3"], ["c"])


def test_a_large_insert_is_sent_in_parts_and_taken_back_whole_when_one_fails(
    tmp_path: Path, pymilvus: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(milvus_module, "_WRITE", 3)
    with KNOWLEDGE_STORES.create("milvus", uri=str(tmp_path / "m.db")) as store:
        store.create_collection("docs", 2)
        sent: list[int] = []
        insert = store._client.insert  # type: ignore[attr-defined]

        def counted(native: str, rows: list[dict[str, Any]]) -> object:
            sent.append(len(rows))
            if len(sent) == 3 and rows[0]["id"].startswith("e"):
                raise RuntimeError("request lost")
            return insert(native, rows)

        monkeypatch.setattr(store._client, "insert", counted)  # type: ignore[attr-defined]
        store.insert("docs", [KnowledgeDocument(id=f"d{index}", embedding=[1.0, float(index)]) for index in range(7)])
        assert sent == [3, 3, 1] and store.count("docs") == 7
        sent.clear()
        with pytest.raises(StoreError):
            store.insert(
                "docs", [KnowledgeDocument(id=f"e{index}", embedding=[1.0, float(index)]) for index in range(7)]
            )
        assert sent == [3, 3, 1] and store.count("docs") == 7  # the two parts written were taken back
