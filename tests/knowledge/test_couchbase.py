"""couchbase: the knowledge contract suite against a client-level fake of the couchbase SDK
(tests/support/hosted_fakes.py) that keeps key-value documents and runs the adapter's SQL++,
plus the statement text and the config. Couchbase itself is not exercised."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from praisonai.persistence.errors import ConfigError
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import CouchbaseKnowledgeConfig
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract
from tests.support.emulators import require_driver
from tests.support.hosted_checks import check_transfer_extras
from tests.support.hosted_fakes import FakeCouchbaseCluster


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCouchbaseCluster:
    module = require_driver("couchbase.cluster", "couchbase")
    fake = FakeCouchbaseCluster()
    monkeypatch.setattr(module, "Cluster", fake)
    return fake


def _open() -> KnowledgeStore:
    return KNOWLEDGE_STORES.create("couchbase", url="couchbase://admin:cb-secret@127.0.0.1/vectors")


class TestCouchbaseContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, cluster: FakeCouchbaseCluster) -> Iterator[KnowledgeStore]:
        store = _open()
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, cluster: FakeCouchbaseCluster) -> Callable[[], KnowledgeStore]:
        return _open


def test_search_statement_is_sqlpp_vector_distance(cluster: FakeCouchbaseCluster) -> None:
    with _open() as store:
        store.create_collection("docs", 2, "dot")
        store.insert("docs", [KnowledgeDocument(id="a", embedding=[1.0, 2.0], metadata={"tag": "x"})])
        [hit] = store.search("docs", [1.0, 1.0], filters={"tag": {"$ne": "y"}})
        assert hit.id == "a" and hit.score == 3.0
    assert "kb_docs" in cluster.buckets["vectors"]["knowledge"]
    [statement] = [s for s in cluster.statements if "VECTOR_DISTANCE" in s]
    assert statement == (
        "SELECT d.id, d.content, d.metadata, d.content_hash, d.created_at, d.embedding FROM `kb_docs` AS d "
        'WHERE (NOT ARRAY_CONTAINS(d.ix, $p0)) ORDER BY VECTOR_DISTANCE(d.embedding, $q, "DOT") LIMIT $k'
    )


def test_config_forms_and_secret_masking() -> None:
    config = CouchbaseKnowledgeConfig.from_options("couchbases://admin:cb-secret@db.example/vectors?scope=rag")
    assert config.connection_string == "couchbases://db.example" and config.bucket == "vectors"
    assert config.scope == "rag" and config.username == "admin"
    assert config.password is not None and "cb-secret" not in repr(config)
    with pytest.raises(ConfigError):
        CouchbaseKnowledgeConfig.from_options(None, {"connection_string": "http://db"})
    with pytest.raises(ConfigError):
        CouchbaseKnowledgeConfig.from_options(None, {"bucket": "bad bucket"})


def test_transfer_extras(cluster: FakeCouchbaseCluster) -> None:
    with _open() as store:
        check_transfer_extras(store)
