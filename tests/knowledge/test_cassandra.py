"""cassandra: the knowledge contract suite against a client-level fake of cassandra-driver's
Cluster/Session (tests/support/hosted_fakes.py) that runs the adapter's CQL statements, plus the
statement text, the declared filter limits and the config. Cassandra itself is not exercised."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from praisonai.persistence.errors import ConfigError, UnsupportedFilterError
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import CassandraKnowledgeConfig
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract
from tests.support.emulators import require_driver
from tests.support.hosted_checks import check_transfer_extras
from tests.support.hosted_fakes import FakeCassandraCluster


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCassandraCluster:
    module = require_driver("cassandra.cluster", "cassandra")
    fake = FakeCassandraCluster()
    monkeypatch.setattr(module, "Cluster", fake)
    return fake


def _open() -> KnowledgeStore:
    return KNOWLEDGE_STORES.create("cassandra", url="cassandra://app:cq-secret@10.0.0.1,10.0.0.2:9042/rag")


class TestCassandraContract(KnowledgeStoreContract):
    unsupported_filter_operators = frozenset({"$ne", "$nin", "$in", "$or", "$gt", "$gte", "$lt", "$lte"})

    @pytest.fixture
    def store(self, cluster: FakeCassandraCluster) -> Iterator[KnowledgeStore]:
        store = _open()
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, cluster: FakeCassandraCluster) -> Callable[[], KnowledgeStore]:
        return _open


def test_statements_use_sai_and_ann(cluster: FakeCassandraCluster) -> None:
    with _open() as store:
        store.create_collection("docs", 2, "euclidean")
        store.insert("docs", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"lang": "en", "x": 1})])
        [hit] = store.search("docs", [1.0, 0.0], filters={"lang": "en", "x": 1})
        assert hit.id == "a"
        with pytest.raises(UnsupportedFilterError):
            store.search("docs", [1.0, 0.0], filters={"x": {"$gt": 0}})
    assert any("WITH OPTIONS = {'similarity_function': 'EUCLIDEAN'}" in s for s in cluster.statements)
    assert any(
        s.endswith("WHERE ix CONTAINS ? AND ix CONTAINS ? ORDER BY embedding ANN OF ? LIMIT ?")
        for s in cluster.statements
    )
    assert any("IF NOT EXISTS" in s and "INSERT INTO" in s for s in cluster.statements)


def test_config_forms_and_secret_masking() -> None:
    config = CassandraKnowledgeConfig.from_options("cassandra://app:cq-secret@10.0.0.1,10.0.0.2:9142/rag")
    assert config.hosts == ["10.0.0.1", "10.0.0.2"] and config.port == 9142 and config.keyspace == "rag"
    assert config.password is not None and "cq-secret" not in repr(config)
    with pytest.raises(ConfigError):
        CassandraKnowledgeConfig.from_options("cassandra://h/bad-keyspace")
    with pytest.raises(ConfigError):
        CassandraKnowledgeConfig.from_options("postgres://h/x")


def test_transfer_extras(cluster: FakeCassandraCluster) -> None:
    with _open() as store:
        check_transfer_extras(store, "dot")
