"""Weaviate knowledge store: one Weaviate collection per collection, through weaviate-client v4.

Engine: Weaviate 1.28+ (``ContainsNone`` filters). Driver: ``weaviate-client`` v4 (extra
``weaviate``): REST for the schema, gRPC for data and queries.
URL forms: ``weaviate://host:8080?grpc_port=50051``, ``weaviates://host`` (TLS, ports 443; gRPC on
``grpc-<host>``, Weaviate Cloud's endpoint, unless ``grpc_host`` says otherwise), with ``api_key``
(or ``weaviate://:API_KEY@host``); PraisonAI's ``http://host:8080`` / ``https://host`` (ports 8080 /
443). ``additional_headers`` (masked) go with every request.
Test tier: wire. The tests drive the real client against a REST + gRPC stand-in of Weaviate 1.32
(tests/support/weaviate_standin.py), written from Weaviate's API reference and the protobuf stubs the
client ships: the schema endpoints, ``BatchObjects``, ``Search``, ``BatchDelete``, ``Aggregate``, the
gRPC health check, API-key auth and Weaviate's errors (422/404/401 bodies, gRPC statuses), searched
exactly. Weaviate itself (its HNSW index, its filter engine beyond ``field`` tokens) is not exercised.

Connecting: ``connect_to_custom`` with the client's start-up checks off (they look the latest
client release up on pypi.org at every connect) and its gRPC health check run on its own, so a
store talks to its server only and an unreachable gRPC port fails the open. Errors: REST 422 is
InvalidInputError (AlreadyExistsError for a taken name), 404 and gRPC's "could not find class"
NotFoundError, objects Weaviate refuses InvalidInputError, 429/5xx, gRPC ``UNAVAILABLE`` /
``DEADLINE_EXCEEDED`` and the client's retries running out BackendUnavailableError.

Layout: a collection is the Weaviate collection ``<prefix>_<hex of the name>`` with a
self-provided HNSW vector (``cosine``, ``dot``, ``l2-squared``), its settings JSON as the
collection description, and the properties ``doc_id``, ``content``, ``metadata`` (exact
JSON), ``content_hash``, ``created_at``, ``embedding`` (exact floats) and ``ix`` (the filter
tokens of :mod:`._layers.records`, ``field`` tokenization). Object UUIDs are ``uuid5`` of the id.

Filters: equality atoms become ``ix`` ``contains_any`` / ``contains_none``. Ordering
comparisons would need one typed property per metadata key and raise
UnsupportedFilterError.

asyncio: ``async_weaviate`` (:class:`AsyncWeaviateKnowledgeStore`) runs the same steps
(:class:`_WeaviateSteps`, client calls as :class:`~.._sansio.Call`) on ``WeaviateAsyncClient``,
whose collection API has the sync client's names; its client connects on the first call, one
per event loop.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any, TypeVar

from .._sansio import Call, Operation, drive, drive_async
from ..errors import AlreadyExistsError, BackendUnavailableError, InvalidInputError, NotFoundError
from ._filters.native import All, Eq, Lowered, Ne
from ._filters.native import Any as AnyOf
from ._layers.hosted_store import AsyncSteppedHostedVectorStore, HostedEngineSteps, Settings, SteppedHostedVectorStore
from ._layers.records import RANGE_OPERATORS, document_from_record, value_token
from ._layers.store_base import error_chain, raised_by
from .base import KnowledgeDocument
from .config import WeaviateKnowledgeConfig

__all__ = ["AsyncWeaviateKnowledgeStore", "WeaviateKnowledgeStore"]

R = TypeVar("R")

_NAMESPACE = uuid.UUID("5b2f0d3c-8a7e-4c1b-9f64-1d2e3c4b5a69")
_DISTANCES = {"cosine": "COSINE", "dot": "DOT", "euclidean": "L2_SQUARED"}
_PROPERTIES = ("doc_id", "content", "metadata", "content_hash", "created_at", "embedding")
_BATCH = 100
_FETCH_PAGE = 1000  # ids per fetch query, well below Weaviate's QUERY_MAXIMUM_RESULTS
_PAGE = 10000
_SCAN_PAGE = 1000  # ids per page of a whole-collection delete


def _uuid(document_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, document_id))


def _grpc_code(error: BaseException) -> str | None:
    """The gRPC status name (``UNAVAILABLE``) behind a client error: the client raises its own error while
    handling grpc's ``RpcError``, so the status is on the error it was handling."""
    for current in error_chain(error):
        code = getattr(current, "code", None)
        if callable(code) and type(current).__module__.startswith("grpc"):
            name = getattr(code(), "name", None)
            return name if isinstance(name, str) else None
    return None


def _bound(client: Any, call: Call) -> tuple[Any, tuple[Any, ...]]:
    """The client method a step's :class:`Call` names, and its arguments: ``collections.<method>`` is on
    the client's collections; any other path is on the collection named by the first argument."""
    head, _, method = call.method.partition(".")
    if head == "collections":
        return getattr(client.collections, method), call.args
    target = client.collections.get(call.args[0])
    for part in call.method.split("."):
        target = getattr(target, part)
    return target, call.args[1:]


def _connect_options(config: WeaviateKnowledgeConfig, init: Any) -> dict[str, Any]:
    """The keyword arguments of ``connect_to_custom`` / ``use_async_with_custom``."""
    auth = None if config.api_key is None else init.Auth.api_key(config.api_key.get_secret_value())
    headers = {name: value.get_secret_value() for name, value in (config.additional_headers or {}).items()}
    return {
        "http_host": config.host,
        "http_port": config.http_port,
        "http_secure": config.secure,
        "grpc_host": config.grpc_endpoint_host,
        "grpc_port": config.grpc_port,
        "grpc_secure": config.secure,
        "auth_credentials": auth,
        "headers": headers or None,
        "additional_config": init.AdditionalConfig(timeout=init.Timeout(init=config.timeout, query=config.timeout)),
        # The client's start-up checks look the latest client release up on pypi.org at every connect;
        # a store talks to its own server only. The gRPC health check among them is run on its own.
        "skip_init_checks": True,
    }


def _ping_grpc(client: Any, colour: str) -> Any:
    """The client's own gRPC health check (``grpc.health.v1.Health/Check``; an awaitable for the async
    client), so that an unreachable gRPC port fails the open at once rather than the first query after
    the client's ~60 s of retries."""
    ping = getattr(client._connection, "_ping_grpc", None)
    return None if ping is None else ping(colour)


class _WeaviateSteps(HostedEngineSteps):
    """Weaviate's primitives as steps of client calls (:mod:`.._sansio`), and the translation of filters
    and objects: one copy for the sync store (``WeaviateClient``) and the async one
    (``WeaviateAsyncClient``), whose collection APIs have the same names and arguments."""

    config: WeaviateKnowledgeConfig
    _config_classes: Any
    _query_classes: Any
    _data_classes: Any
    engine = "Weaviate"
    unsupported_filters = RANGE_OPERATORS

    def _import_classes(self, import_driver: Any) -> None:
        self._config_classes = import_driver("weaviate.classes.config")
        self._query_classes = import_driver("weaviate.classes.query")
        self._data_classes = import_driver("weaviate.classes.data")

    def _name(self, name: str) -> str:
        return f"{self.config.collection_prefix}_{name.encode().hex()}"

    def _native_create_steps(self, name: str, settings: Settings) -> Operation[Call, bool]:
        native = self._name(name)
        if (yield Call("collections.exists", (native,))):
            return False
        c = self._config_classes
        text = c.DataType.TEXT
        yield Call(
            "collections.create",
            (native,),
            {
                "description": settings.to_json(),
                "properties": [
                    c.Property(name="doc_id", data_type=text, tokenization=c.Tokenization.FIELD),
                    c.Property(name="content", data_type=text, skip_vectorization=True, index_filterable=False),
                    c.Property(name="metadata", data_type=text, index_filterable=False, index_searchable=False),
                    c.Property(name="content_hash", data_type=text, index_searchable=False),
                    c.Property(name="created_at", data_type=c.DataType.NUMBER),
                    c.Property(name="embedding", data_type=c.DataType.NUMBER_ARRAY, index_filterable=False),
                    c.Property(name="ix", data_type=c.DataType.TEXT_ARRAY, tokenization=c.Tokenization.FIELD),
                ],
                "vector_config": c.Configure.Vectors.self_provided(
                    vector_index_config=c.Configure.VectorIndex.hnsw(
                        distance_metric=getattr(c.VectorDistances, _DISTANCES[settings.distance])
                    )
                ),
            },
        )
        return True

    def _native_drop_steps(self, name: str) -> Operation[Call, bool]:
        yield Call("collections.delete", (self._name(name),))
        return True

    def _find_steps(self, name: str) -> Operation[Call, Settings | None]:
        native = self._name(name)
        if not (yield Call("collections.exists", (native,))):
            return None
        config = yield Call("config.get", (native,), {"simple": True})
        return Settings.from_json(config.description)

    def _names_steps(self) -> Operation[Call, list[str]]:
        prefix = f"{self.config.collection_prefix}_"
        names = []
        for native in (yield Call("collections.list_all", (), {"simple": True})):
            if native.startswith(prefix):
                try:
                    names.append(bytes.fromhex(native[len(prefix) :]).decode())
                except ValueError:
                    continue
        return names

    def _native_put_steps(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> Operation[Call, None]:
        objects = []
        for record in records:
            properties = {key: record[key] for key in _PROPERTIES if key != "doc_id"}
            properties["doc_id"] = record["id"]
            properties["ix"] = record["ix"]
            objects.append(
                self._data_classes.DataObject(
                    properties=properties, uuid=_uuid(record["id"]), vector=record["embedding"]
                )
            )
        for start in range(0, len(objects), _BATCH):
            result = yield Call("data.insert_many", (self._name(name), objects[start : start + _BATCH]))
            if result.errors:
                # insert_many upserts by uuid: Weaviate refuses an object for its values (a property of the
                # wrong type, a vector of another length), never as a duplicate.
                first = next(iter(result.errors.values()))
                raise InvalidInputError(f"Weaviate refused {len(result.errors)} object(s): {first.message}")

    def _taken_steps(self, name: str, settings: Settings, ids: list[str]) -> Operation[Call, set[str]]:
        return set((yield from self._fetch_steps(name, settings, ids)))

    def _fetch_steps(
        self, name: str, settings: Settings, ids: list[str]
    ) -> Operation[Call, dict[str, KnowledgeDocument]]:
        # In pages: one query returns at most QUERY_MAXIMUM_RESULTS (10,000 by default) objects.
        found: dict[str, KnowledgeDocument] = {}
        for start in range(0, len(ids), _FETCH_PAGE):
            page = ids[start : start + _FETCH_PAGE]
            filters = self._query_classes.Filter.by_id().contains_any([_uuid(i) for i in page])
            response = yield Call("query.fetch_objects", (self._name(name),), {"filters": filters, "limit": len(page)})
            found.update((str(obj.properties["doc_id"]), self._document(obj)) for obj in response.objects)
        return found

    def _native_query_steps(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> Operation[Call, list[KnowledgeDocument]]:
        filters = None if node is None else self._filter(node)
        response = yield Call(
            "query.near_vector", (self._name(name),), {"near_vector": vector, "limit": limit, "filters": filters}
        )
        return [self._document(obj) for obj in response.objects]

    def _native_matching_steps(
        self, name: str, settings: Settings, node: Lowered, ids: list[str] | None
    ) -> Operation[Call, list[str]]:
        Filter = self._query_classes.Filter
        native = self._filter(node)
        if ids is not None:
            native = Filter.all_of([native, Filter.by_id().contains_any([_uuid(i) for i in ids])])
        response = yield Call(
            "query.fetch_objects",
            (self._name(name),),
            {"filters": native, "limit": _PAGE, "return_properties": ["doc_id"]},
        )
        matched = [str(obj.properties["doc_id"]) for obj in response.objects]
        if len(matched) >= _PAGE:
            # Weaviate returns at most QUERY_MAXIMUM_RESULTS objects: delete this page and look again.
            yield from self._native_remove_steps(name, settings, matched)
            return matched + (yield from self._native_matching_steps(name, settings, node, ids))
        return matched

    def _native_remove_steps(self, name: str, settings: Settings, ids: list[str]) -> Operation[Call, None]:
        Filter = self._query_classes.Filter
        for start in range(0, len(ids), _BATCH):
            uuids = [_uuid(i) for i in ids[start : start + _BATCH]]
            yield Call("data.delete_many", (self._name(name),), {"where": Filter.by_id().contains_any(uuids)})

    def _count_steps(self, name: str, settings: Settings) -> Operation[Call, int]:
        return int((yield Call("aggregate.over_all", (self._name(name),), {"total_count": True})).total_count)

    def _all_ids_steps(self, name: str, settings: Settings) -> Operation[Call, list[str]]:
        """Every document id of the collection, in pages (the ``after`` cursor, in UUID order)."""
        ids: list[str] = []
        after = None
        while True:
            response = yield Call(
                "query.fetch_objects",
                (self._name(name),),
                {"limit": _SCAN_PAGE, "after": after, "return_properties": ["doc_id"]},
            )
            ids.extend(str(obj.properties["doc_id"]) for obj in response.objects)
            if len(response.objects) < _SCAN_PAGE:
                return ids
            after = response.objects[-1].uuid

    def _translate_error(self, error: Exception) -> Exception | None:
        # REST answers (the schema): 422 a refused class or a taken name, 404 a missing class, 429 and 5xx
        # worth a retry. gRPC answers (data, queries): Weaviate returns its errors as UNKNOWN with its
        # message ("could not find class X in schema"); UNAVAILABLE and timeouts mean the engine is away.
        status = getattr(error, "status_code", None)
        detail = str(error)[:300]
        if raised_by(error, {"WeaviateInsertManyAllFailedError"}):
            return InvalidInputError(f"Weaviate refused the objects: {detail}")
        if status == 422 or raised_by(error, {"WeaviateInvalidInputError"}):
            if "already exists" in detail:
                return AlreadyExistsError(f"Weaviate: {detail}")
            return InvalidInputError(f"Weaviate refused the request: {detail}")
        if status == 404 or "could not find class" in detail:
            return NotFoundError(f"Weaviate: {detail}")
        code = _grpc_code(error)
        if (
            status == 429
            or (isinstance(status, int) and status >= 500)
            or code in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED")
            or raised_by(error, {"WeaviateRetryError", "WeaviateTimeoutError", "WeaviateGRPCUnavailableError"})
        ):
            return BackendUnavailableError(f"Weaviate is unavailable for now: {detail}")
        return super()._translate_error(error)

    # -- translation -------------------------------------------------------------------------

    def _filter(self, node: Lowered) -> Any:
        Filter = self._query_classes.Filter
        if isinstance(node, All):
            return Filter.all_of([self._filter(part) for part in node.parts])
        if isinstance(node, AnyOf):
            return Filter.any_of([self._filter(part) for part in node.parts])
        if isinstance(node, Eq):
            return Filter.by_property("ix").contains_any([value_token(node.field, node.kind, node.value)])
        if isinstance(node, Ne):
            return Filter.by_property("ix").contains_none([value_token(node.field, node.kind, node.value)])
        raise AssertionError(f"unexpected filter node {node!r} (ranges are unsupported)")

    @staticmethod
    def _document(obj: Any) -> KnowledgeDocument:
        properties = dict(obj.properties)
        properties["id"] = properties.pop("doc_id")
        return document_from_record(properties)


class WeaviateKnowledgeStore(_WeaviateSteps, SteppedHostedVectorStore[WeaviateKnowledgeConfig]):
    """A KnowledgeStore on Weaviate collections (``WeaviateClient``)."""

    def __init__(self, config: WeaviateKnowledgeConfig) -> None:
        super().__init__(config)
        weaviate = self._import_driver("weaviate")
        self._import_classes(self._import_driver)
        init = self._import_driver("weaviate.classes.init")
        with self._translating:  # an unreachable engine is BackendUnavailableError
            self._client: Any = weaviate.connect_to_custom(**_connect_options(config, init))
            try:
                _ping_grpc(self._client, "sync")
            except BaseException:
                self._client.close()
                raise

    def _engine(self, steps: Operation[Call, R]) -> R:
        def execute(call: Call) -> Any:
            method, args = _bound(self._client, call)
            return method(*args, **(call.kwargs or {}))

        return drive(steps, execute)

    def _scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        page: list[KnowledgeDocument] = []
        for obj in self._client.collections.get(self._name(name)).iterator():
            page.append(self._document(obj))
            if len(page) >= batch_size:
                yield page
                page = []
        if page:
            yield page

    def _release(self) -> None:
        self._client.close()


class AsyncWeaviateKnowledgeStore(_WeaviateSteps, AsyncSteppedHostedVectorStore[WeaviateKnowledgeConfig]):
    """An AsyncKnowledgeStore on Weaviate through ``WeaviateAsyncClient``: the sync store's steps, awaited.

    The client connects on the first call. It is bound to its event loop (httpx and grpc.aio), so
    another loop gets a client of its own.
    """

    def __init__(self, config: WeaviateKnowledgeConfig) -> None:
        super().__init__(config)
        self._weaviate: Any = self._import_driver("weaviate")
        self._import_classes(self._import_driver)
        self._init: Any = self._import_driver("weaviate.classes.init")
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    async def _loop_client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            client = self._weaviate.use_async_with_custom(**_connect_options(self.config, self._init))
            try:
                await client.connect()
                ping = _ping_grpc(client, "async")
                if ping is not None:
                    await ping
            except BaseException:
                await client.close()
                raise
            self._client, self._client_loop = client, loop  # a client of a dead loop is dropped
        return self._client

    async def _engine(self, steps: Operation[Call, R]) -> R:
        client = await self._loop_client()

        async def execute(call: Call) -> Any:
            method, args = _bound(client, call)
            return await method(*args, **(call.kwargs or {}))

        return await drive_async(steps, execute)

    async def _release(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._client_loop is asyncio.get_running_loop():
            await client.close()
