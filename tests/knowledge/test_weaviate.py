"""weaviate: the knowledge contract suite through the real weaviate-client v4 against a REST + gRPC stand-in
of Weaviate (tests/support/weaviate_standin.py: the schema over REST, data and queries over gRPC with the
client's own protobuf stubs, Weaviate's status codes and messages), started once per session; plus the
schema the adapter creates, the mapping of Weaviate's errors to the error tree, and the config.
Weaviate itself (its HNSW index, its filter engine beyond ``field`` tokens) is not exercised."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from praisonai.persistence.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    ConfigError,
    InvalidInputError,
    NotFoundError,
    StoreError,
    UnsupportedFilterError,
)
from praisonai.persistence.knowledge.base import AsyncKnowledgeStore, KnowledgeDocument, KnowledgeStore
from praisonai.persistence.knowledge.config import WeaviateKnowledgeConfig
from praisonai.persistence.knowledge.weaviate import AsyncWeaviateKnowledgeStore
from praisonai.persistence.registry import KNOWLEDGE_STORES
from praisonai.persistence.testing import AsyncKnowledgeStoreContract, KnowledgeStoreContract
from tests.support.hosted_checks import check_transfer_extras
from tests.support.weaviate_standin import WeaviateStandIn, share_tls_context


@pytest.fixture
def server(weaviate_server: WeaviateStandIn, monkeypatch: pytest.MonkeyPatch) -> WeaviateStandIn:
    weaviate_server.reset()
    share_tls_context(monkeypatch)
    return weaviate_server


def _opener(server: WeaviateStandIn, key: str = "wv-secret") -> Callable[[], KnowledgeStore]:
    url = f"weaviate://:{key}@127.0.0.1:{server.http_port}?grpc_port={server.grpc_port}"
    return lambda: KNOWLEDGE_STORES.create("weaviate", url=url, timeout=5)


def _async_opener(server: WeaviateStandIn) -> Callable[[], AsyncKnowledgeStore]:
    url = f"weaviate://:wv-secret@127.0.0.1:{server.http_port}?grpc_port={server.grpc_port}"
    return lambda: KNOWLEDGE_STORES.create("async_weaviate", url=url, timeout=5)


class TestWeaviateContract(KnowledgeStoreContract):
    unsupported_filter_operators = frozenset({"$gt", "$gte", "$lt", "$lte"})

    @pytest.fixture
    def store(self, server: WeaviateStandIn) -> Iterator[KnowledgeStore]:
        store = _opener(server)()
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, server: WeaviateStandIn) -> Callable[[], KnowledgeStore]:
        return _opener(server)


class TestAsyncWeaviateContract(AsyncKnowledgeStoreContract):
    unsupported_filter_operators = frozenset({"$gt", "$gte", "$lt", "$lte"})

    @pytest.fixture
    def store(self, server: WeaviateStandIn) -> AsyncKnowledgeStore:
        store = _async_opener(server)()
        assert isinstance(store, AsyncWeaviateKnowledgeStore)  # native, not the thread offload
        return store

    @pytest.fixture
    def reopen(self, server: WeaviateStandIn) -> Callable[[], AsyncKnowledgeStore]:
        return _async_opener(server)


def test_sync_and_async_weaviate_read_each_others_data(server: WeaviateStandIn) -> None:
    documents = [KnowledgeDocument(id=f"d{i}", embedding=[1.0, float(i)], metadata={"i": i}) for i in range(3)]
    with _opener(server)() as store:
        store.create_collection("shared", 2, "dot")
        store.insert("shared", documents[:2])

    async def main() -> tuple[list[str], int]:
        async with _async_opener(server)() as store:
            await store.insert("shared", documents[2:])
            hits = await store.search("shared", [0.0, 1.0], limit=3, filters={"i": {"$ne": 0}})
            return [hit.id for hit in hits], await store.delete("shared", filters={"i": {"$nin": []}})

    assert asyncio.run(main()) == (["d2", "d1"], 3)
    with pytest.raises(BackendUnavailableError):
        asyncio.run(_async_unreachable())


async def _async_unreachable() -> None:
    async with KNOWLEDGE_STORES.create("async_weaviate", host="127.0.0.1", http_port=9, grpc_port=10) as store:
        await store.collection_exists("x")


def test_schema_and_wire(server: WeaviateStandIn) -> None:
    with _opener(server)() as store:
        store.create_collection("my-docs", 2, "euclidean")
        store.insert("my-docs", [KnowledgeDocument(id="a", embedding=[1.0, 0.0], metadata={"k": "v"})])
        assert [d.id for d in store.search("my-docs", [1.0, 0.0], filters={"k": {"$in": ["v", "w"]}})] == ["a"]
        assert [d.id for d in store.search("my-docs", [1.0, 0.0], filters={"k": {"$ne": "v"}})] == []
        with pytest.raises(UnsupportedFilterError):
            store.search("my-docs", [1.0, 0.0], filters={"k": {"$gt": "a"}})
        assert store.count("my-docs") == 1
        assert store.delete("my-docs", filters={"k": "v"}) == 1
    [(name, stored)] = server.classes.items()
    assert name == "Praisonkb_" + b"my-docs".hex()
    assert stored.distance == "l2-squared" and stored.dimension == 2
    assert stored.properties["ix"]["tokenization"] == "field" and stored.properties["ix"]["indexFilterable"]
    assert (
        not stored.properties["embedding"]["indexFilterable"] and not stored.properties["metadata"]["indexSearchable"]
    )
    # The client spoke both of Weaviate's APIs: REST for the schema, gRPC for data and queries.
    assert {("GET", "/v1/meta"), ("POST", "/v1/schema")} <= set(server.requests)
    assert {("grpc", call) for call in ("BatchObjects", "Search", "BatchDelete", "Aggregate")} <= set(server.requests)
    # No start-up call leaves for pypi.org: the gRPC health check is the only one made.
    assert ("GET", "/v1/.well-known/openid-configuration") not in server.requests


def test_service_errors_map_to_the_error_tree(server: WeaviateStandIn) -> None:
    with pytest.raises(StoreError) as refused:  # Weaviate answers 401 to the client's first call, GET /v1/meta
        _opener(server, key="wrong-key")()
    assert refused.value.backend == "weaviate" and "wrong-key" not in str(refused.value)
    with _opener(server)() as store:
        store.create_collection("docs", 2, "cosine")
        store.insert("docs", [KnowledgeDocument(id="a", embedding=[1.0, 0.0])])
        server.classes["Praisonkb_" + b"docs".hex()].dimension = 3  # Weaviate's index now holds 3-d vectors
        with pytest.raises(InvalidInputError, match="vector with length 2"):
            store.insert("docs", [KnowledgeDocument(id="b", embedding=[0.0, 1.0])])
        # A class of the same name in another case is taken (Weaviate's names are case-insensitive): 422.
        server.classes["PRAISONKB_" + b"taken".hex()] = server.classes["Praisonkb_" + b"docs".hex()]
        with pytest.raises(AlreadyExistsError):
            store.create_collection("taken", 2, "cosine")
        # gRPC's answer for a class that is gone, from the client's own exception.
        client = store._client  # type: ignore[attr-defined]
        with pytest.raises(Exception) as gone:
            client.collections.get("Praisonkb_00").query.fetch_objects(limit=1)
        assert isinstance(store._translate_error(gone.value), NotFoundError)  # type: ignore[attr-defined]


def test_unreachable_apis_are_backend_unavailable(server: WeaviateStandIn) -> None:
    half = WeaviateStandIn(api_key="wv-secret")
    half._grpc.stop(grace=None).wait()  # REST answers, gRPC does not: the health check fails the open
    try:
        with pytest.raises(BackendUnavailableError):
            _opener(half)()
    finally:
        half.stop()
    with pytest.raises(BackendUnavailableError, match="cannot reach Weaviate"):
        _opener(half)()  # nothing listens any more


def test_the_stand_in_refuses_what_weaviate_refuses(server: WeaviateStandIn) -> None:
    """The stand-in's own checks, through the client: what the docs say it models."""
    import weaviate
    from weaviate.classes.config import Configure, DataType, Property
    from weaviate.classes.query import Filter
    from weaviate.exceptions import UnexpectedStatusCodeError, WeaviateQueryError

    client = weaviate.connect_to_custom(
        http_host="127.0.0.1",
        http_port=server.http_port,
        http_secure=False,
        grpc_host="127.0.0.1",
        grpc_port=server.grpc_port,
        grpc_secure=False,
        auth_credentials=weaviate.classes.init.Auth.api_key("wv-secret"),
        skip_init_checks=True,
    )
    try:
        with pytest.raises(UnexpectedStatusCodeError) as refused:
            client.collections.create("Bad-name", vector_config=Configure.Vectors.self_provided())
        assert refused.value.status_code == 422
        properties = [Property(name="body", data_type=DataType.TEXT, index_filterable=False)]
        docs = client.collections.create("Docs", properties=properties, vector_config=Configure.Vectors.self_provided())
        with pytest.raises(WeaviateQueryError, match="requires inverted index"):
            docs.query.fetch_objects(filters=Filter.by_property("body").equal("x"))
        assert not client.collections.exists("Missing")
    finally:
        client.close()


def test_config_forms_and_secret_masking() -> None:
    config = WeaviateKnowledgeConfig.from_options("weaviates://:wv-secret@cluster.weaviate.cloud")
    assert config.secure and config.http_port == 443 and config.grpc_port == 443
    # One host cannot serve both APIs on one port: gRPC goes to Weaviate Cloud's grpc-<host> endpoint.
    assert config.grpc_endpoint_host == "grpc-cluster.weaviate.cloud"
    local = WeaviateKnowledgeConfig.from_options("weaviate://localhost:8080?grpc_port=50051&grpc_host=127.0.0.1")
    assert (local.grpc_endpoint_host, local.grpc_port) == ("127.0.0.1", 50051)
    with pytest.raises(ConfigError, match="cannot share one host and port"):
        WeaviateKnowledgeConfig.from_options("weaviate://db:8080?grpc_port=8080&grpc_host=db")
    assert config.api_key is not None and "wv-secret" not in repr(config)
    with pytest.raises(ConfigError):
        WeaviateKnowledgeConfig.from_options(None, {"collection_prefix": "lower"})


def test_transfer_extras(server: WeaviateStandIn) -> None:
    with _opener(server)() as store:
        check_transfer_extras(store, "euclidean")
