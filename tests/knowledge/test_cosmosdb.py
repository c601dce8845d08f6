"""cosmosdb: the knowledge contract suite against a client-level fake of azure-cosmos
(tests/support/hosted_fakes.py) that runs the adapter's NoSQL queries, plus the query text
checked against Cosmos DB's documented syntax and the config. Cosmos DB itself is not exercised."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from praisonai.persistence.errors import ConfigError
from praisonai.persistence.knowledge._filters.native import lower
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import CosmosDbKnowledgeConfig
from praisonai.persistence.knowledge.filters import parse_filter
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract
from tests.support.emulators import require_driver
from tests.support.hosted_checks import check_transfer_extras
from tests.support.hosted_fakes import FakeCosmosClient

ENDPOINT = "https://acct.documents.azure.com:443/"


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> FakeCosmosClient:
    cosmos = require_driver("azure.cosmos", "cosmosdb")
    fake = FakeCosmosClient()
    monkeypatch.setattr(cosmos, "CosmosClient", fake)
    return fake


def _open() -> KnowledgeStore:
    return KNOWLEDGE_STORES.create("azure_cosmos", url=f"AccountEndpoint={ENDPOINT};AccountKey=c2VjcmV0LWtleQ==;")


class TestCosmosDbContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, account: FakeCosmosClient) -> Iterator[KnowledgeStore]:
        store = _open()
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, account: FakeCosmosClient) -> Callable[[], KnowledgeStore]:
        return _open


def test_search_query_is_cosmos_vector_search(account: FakeCosmosClient) -> None:
    with _open() as store:
        store.create_collection("docs", 2, "euclidean")
        store.insert("docs", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"year": 2021})])
        [hit] = store.search("docs", [1.0, 0.0], filters={"year": {"$gt": 2020}})
        assert hit.id == "a" and hit.score == 1.0
    container = account.databases["praisonai"]["kb_docs"]
    assert container["policy"] == {
        "path": "/embedding",
        "dataType": "float32",
        "distanceFunction": "euclidean",
        "dimensions": 2,
    }
    query, parameters = next((q, p) for q, p in account.queries if q.startswith("SELECT TOP"))
    assert query.startswith(
        "SELECT TOP @k c.id, c.content, c.metadata, c.content_hash, c.created_at, c.embedding FROM c WHERE "
    )
    assert query.endswith(" ORDER BY VectorDistance(c.embedding, @q)")
    assert "ARRAY_CONTAINS(c.ix, @p0)" in query and "c.n[@p2] > @p1" in query
    assert all(p["name"].startswith("@") for p in parameters)


def test_filter_values_are_parameters_only() -> None:
    from praisonai.persistence.knowledge.cosmosdb import CosmosFilter

    hostile = "') OR 1=1 --"
    where = CosmosFilter()
    text = where.render(lower(parse_filter({hostile: {"$lt": hostile}}), chunk_limit=16))
    assert hostile not in text and "IS_DEFINED(c.c[@p" in text
    assert all(hostile not in str(v) for v in where.values.values())  # keys are hex, strings are chunks


def test_config_forms_and_secret_masking() -> None:
    config = CosmosDbKnowledgeConfig.from_options(f"AccountEndpoint={ENDPOINT};AccountKey=azNZLXNlY3JldA==;")
    assert config.url == ENDPOINT and config.key.get_secret_value() == "azNZLXNlY3JldA=="
    assert "azNZLXNlY3JldA==" not in repr(config)
    with pytest.raises(ConfigError):
        CosmosDbKnowledgeConfig.from_options("AccountEndpoint=https://x/;")
    with pytest.raises(ConfigError, match="base64") as caught:  # the client would fail on first use
        CosmosDbKnowledgeConfig.from_options(f"AccountEndpoint={ENDPOINT};AccountKey=k3y-secret;")
    assert "k3y-secret" not in str(caught.value)
    with pytest.raises(ConfigError):
        CosmosDbKnowledgeConfig.from_options(ENDPOINT, {"key": "k", "database": "bad/name"})


def test_transfer_extras(account: FakeCosmosClient) -> None:
    with _open() as store:
        check_transfer_extras(store, "euclidean")
