"""pinecone: the knowledge contract suite against a client-level fake of the pinecone SDK
(tests/support/hosted_fakes.py), plus URL parsing, secret masking and the filter translation
checked against Pinecone's documented filter syntax. Pinecone itself is not exercised."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from praisonai.persistence.errors import ConfigError
from praisonai.persistence.knowledge import pinecone as pinecone_module
from praisonai.persistence.knowledge._filters.native import lower
from praisonai.persistence.knowledge._layers.records import kind_token, value_token
from praisonai.persistence.knowledge.base import KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import PineconeKnowledgeConfig
from praisonai.persistence.knowledge.filters import parse_filter
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import KnowledgeStoreContract
from tests.support.hosted_checks import check_transfer_extras
from tests.support.hosted_fakes import FakePinecone


@pytest.fixture
def project(monkeypatch: pytest.MonkeyPatch) -> FakePinecone:
    fake = FakePinecone()
    monkeypatch.setattr(pinecone_module.PineconeKnowledgeStore, "_import_driver", lambda self, name: fake.module())
    return fake


def _open() -> KnowledgeStore:
    return KNOWLEDGE_STORES.create("pinecone", url="pinecone://:pc-secret-key@")


class TestPineconeContract(KnowledgeStoreContract):
    @pytest.fixture
    def store(self, project: FakePinecone) -> Iterator[KnowledgeStore]:
        store = _open()
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, project: FakePinecone) -> Callable[[], KnowledgeStore]:
        return _open


def test_layout_is_one_tagged_index_per_collection(project: FakePinecone) -> None:
    with _open() as store:
        store.create_collection("Docs_1", 3, "dot", metadata={"owner": "x"})
        store.insert("Docs_1", [KnowledgeDocument(id="a", embedding=[1.0, 2.0, 3.0], metadata={"lang": "en"})])
        [(name, index)] = project.indexes.items()
        assert name.startswith("praison-") and len(name) == len("praison-") + 24
        assert index["metric"] == "dotproduct" and index["tags"] == {"praisonai_collection": "Docs_1"}
        stored = index["namespaces"]["documents"]["a"]["metadata"]
        assert kind_token("lang", "string") in stored["ix"] and value_token("lang", "string", "en") in stored["ix"]
        assert "null" not in repr([v for v in stored.values() if v is None])


def test_filter_translation_uses_pinecone_operators() -> None:
    node = lower(parse_filter({"lang": "en", "year": {"$gte": 2020}, "tag": {"$ne": None}}), chunk_limit=16)
    rendered = pinecone_module.PineconeKnowledgeStore._filter(node)
    year = "f" + b"year".hex()
    assert rendered == {
        "$and": [
            {"ix": {"$in": [value_token("lang", "string", "en")]}},
            {f"n_{year}": {"$gte": 2020}},
            {"ix": {"$nin": [kind_token("tag", "null")]}},
        ]
    }


def test_url_forms_and_secret_masking() -> None:
    config = PineconeKnowledgeConfig.from_options("pinecone://:pc-secret@localhost:5080?region=eu-west-1")
    assert config.host == "http://localhost:5080" and config.region == "eu-west-1"
    assert config.api_key.get_secret_value() == "pc-secret"
    assert "pc-secret" not in repr(config)
    with pytest.raises(ConfigError):
        PineconeKnowledgeConfig.from_options("pinecone://localhost")  # no api key
    with pytest.raises(ConfigError):
        PineconeKnowledgeConfig.from_options(None, {"api_key": "k", "index_prefix": "Bad_Prefix"})


def test_transfer_extras(project: FakePinecone) -> None:
    with _open() as store:
        check_transfer_extras(store, "dot")
