"""weaviate: the knowledge contract suite against a client-level fake of weaviate-client v4's
collections API (tests/support/hosted_fakes.py) that evaluates the client's own Filter objects,
plus the schema the adapter asks for and the config. Weaviate itself is not exercised."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from praisonai.persistence.errors import ConfigError, UnsupportedFilterError
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import WeaviateKnowledgeConfig
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract
from tests.support.emulators import require_driver
from tests.support.hosted_checks import check_transfer_extras
from tests.support.hosted_fakes import FakeWeaviateClient


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    weaviate = require_driver("weaviate", "weaviate")
    data: dict[str, Any] = {}
    calls: list[dict[str, Any]] = []

    def connect(**options: Any) -> FakeWeaviateClient:
        calls.append(options)
        return FakeWeaviateClient(data)

    monkeypatch.setattr(weaviate, "connect_to_custom", connect)
    data["__calls__"] = calls
    return data


def _open() -> KnowledgeStore:
    return KNOWLEDGE_STORES.create("weaviate", url="weaviate://:wv-secret@127.0.0.1:8080?grpc_port=50051")


class TestWeaviateContract(KnowledgeStoreContract):
    unsupported_filter_operators = frozenset({"$gt", "$gte", "$lt", "$lte"})

    @pytest.fixture
    def store(self, server: dict[str, Any]) -> Iterator[KnowledgeStore]:
        server.pop("__calls__", None)
        store = _open()
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, server: dict[str, Any]) -> Callable[[], KnowledgeStore]:
        return _open


def test_schema_and_connection(server: dict[str, Any]) -> None:
    calls = server.pop("__calls__")
    with _open() as store:
        store.create_collection("my-docs", 2, "euclidean")
        store.insert("my-docs", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"k": "v"})])
        assert [d.id for d in store.search("my-docs", [1.0, 0.0], filters={"k": {"$in": ["v", "w"]}})] == ["a"]
        with pytest.raises(UnsupportedFilterError):
            store.search("my-docs", [1.0, 0.0], filters={"k": {"$gt": "a"}})
    [options] = calls
    assert options["http_port"] == 8080 and options["grpc_port"] == 50051 and options["http_secure"] is False
    [name] = [key for key in server if key != "__calls__"]
    assert name == "Praisonkb_" + b"my-docs".hex()
    assert server[name]["properties"]["ix"].tokenization.value == "field"
    assert server[name]["distance"] == "euclidean"


def test_config_forms_and_secret_masking() -> None:
    config = WeaviateKnowledgeConfig.from_options("weaviates://:wv-secret@cluster.weaviate.cloud")
    assert config.secure and config.http_port == 443 and config.grpc_port == 443
    assert config.api_key is not None and "wv-secret" not in repr(config)
    with pytest.raises(ConfigError):
        WeaviateKnowledgeConfig.from_options(None, {"collection_prefix": "lower"})


def test_transfer_extras(server: dict[str, Any]) -> None:
    with _open() as store:
        check_transfer_extras(store, "euclidean")
