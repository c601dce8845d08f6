"""clickhouse: the knowledge contract suite on chDB, the embedded ClickHouse engine.

The store speaks to chDB through clickhouse-connect's ``chdb`` interface, the
same client, statements and server-side parameters it uses for a server over
HTTP; only the transport differs (and is not exercised here). chDB binds one
data directory per process, so every test uses its own database in the shared
directory of ``tests/support/chdb_engine.py``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

if not os.environ.get("CI"):  # CI installs chdb and must not pass by skipping
    pytest.importorskip("chdb", reason="the embedded ClickHouse engine (pip install chdb) runs these tests")

from praisonai.persistence.errors import BackendUnavailableError, ConfigError
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import ClickHouseKnowledgeConfig
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract

from ..support.chdb_engine import chdb_client, chdb_path


@pytest.fixture
def database() -> Iterator[str]:
    name = f"kb_{uuid.uuid4().hex[:12]}"
    yield name
    chdb_client().command(f"DROP DATABASE IF EXISTS `{name}` SYNC")


def _open(database: str) -> KnowledgeStore:
    return KNOWLEDGE_STORES.create("clickhouse", chdb_path=chdb_path(), database=database)


class TestClickHouseContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, database: str) -> Iterator[KnowledgeStore]:
        store = _open(database)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, database: str) -> Callable[[], KnowledgeStore]:
        return lambda: _open(database)


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "clickhouse://u:pw@ch.example:9000/kb",
            {"host": "ch.example", "port": 9000, "database": "kb", "secure": False},
        ),
        ("clickhouses://u:pw@ch.example/kb", {"secure": True, "effective_port": 8443}),
        ("http://ch.example/kb?secure=true&verify=false", {"secure": True, "verify": False}),
        ("chdb://", {"chdb_path": ":memory:"}),
        ("chdb:///relative/dir", {"chdb_path": "relative/dir"}),
        ("chdb:////absolute/dir", {"chdb_path": "/absolute/dir"}),
    ],
)
def test_url_forms(url: str, expected: dict[str, object]) -> None:
    config = ClickHouseKnowledgeConfig.from_options(url, {})
    for name, value in expected.items():
        assert getattr(config, name) == value
    assert "pw" not in repr(config).replace("password", "")


@pytest.mark.parametrize(
    "url", ["postgresql://h/db", "clickhouse://h/db?bogus=1", "clickhouse://h/bad-db", "chdb://host/dir"]
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        ClickHouseKnowledgeConfig.from_options(url, {})


def test_unreachable_server_raises_backend_unavailable() -> None:
    store = KNOWLEDGE_STORES.create("clickhouse", url="clickhouse://127.0.0.1:1/default", connect_timeout=1)
    try:
        with pytest.raises(BackendUnavailableError):
            store.list_collections()
    finally:
        store.close()


# -- ClickHouse specifics ------------------------------------------------------------------------


def test_delete_by_filter_never_resurrects_an_older_version(database: str) -> None:
    # Upserts add a newer row version; deleting by a filter that only the newest version matches
    # must not leave the older version visible.
    store = _open(database)
    try:
        store.create_collection("c", 2)
        store.insert("c", [KnowledgeDocument(id="a", content="v1", embedding=[1.0, 0.0], metadata={"v": 1})])
        store.upsert("c", [KnowledgeDocument(id="a", content="v2", embedding=[0.0, 1.0], metadata={"v": 2})])
        assert store.delete("c", filters={"v": 1}) == 0
        assert [d.content for d in store.get("c", ["a"])] == ["v2"]
        assert store.delete("c", filters={"v": 2}) == 1
        assert store.count("c") == 0 and store.get("c", ["a"]) == []
        assert store.search("c", [1.0, 0.0]) == []
    finally:
        store.close()


def test_metadata_is_stored_as_exact_json_text(database: str) -> None:
    store = _open(database)
    try:
        store.create_collection("c", 2)
        metadata = {"big": 2**63 - 1, "tiny": 5e-324, "huge": 1e300, "nested": {"a": [None, True]}}
        store.insert("c", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata=metadata)])
        [loaded] = store.get("c", ["a"])
        assert loaded.metadata == metadata
        assert [d.id for d in store.search("c", [1.0, 0.0], filters={"big": 2**63 - 1})] == ["a"]
        assert store.search("c", [1.0, 0.0], filters={"big": 2**63 - 2}) == []
    finally:
        store.close()
