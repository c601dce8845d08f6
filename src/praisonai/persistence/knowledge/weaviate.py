"""Weaviate knowledge store: one Weaviate collection per collection, through weaviate-client v4.

Engine: Weaviate 1.28+ (``ContainsNone`` filters). Driver: ``weaviate-client`` v4 (extra
``weaviate``): REST for the schema, gRPC for data and queries.
URL forms: ``weaviate://host:8080?grpc_port=50051``, ``weaviates://host`` (TLS, ports 443), with
``api_key`` (or ``weaviate://:API_KEY@host``); PraisonAI's ``http://host:8080`` / ``https://host``
(ports 8080 / 443). ``additional_headers`` (masked) go with every request.
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
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from ..errors import AlreadyExistsError, BackendUnavailableError, InvalidInputError, NotFoundError
from ._filters.native import All, Eq, Lowered, Ne
from ._filters.native import Any as AnyOf
from ._layers.hosted_store import HostedVectorStore, Settings
from ._layers.records import RANGE_OPERATORS, document_from_record, value_token
from ._layers.store_base import error_chain, raised_by
from .base import KnowledgeDocument
from .config import WeaviateKnowledgeConfig

__all__ = ["WeaviateKnowledgeStore"]

_NAMESPACE = uuid.UUID("5b2f0d3c-8a7e-4c1b-9f64-1d2e3c4b5a69")
_DISTANCES = {"cosine": "COSINE", "dot": "DOT", "euclidean": "L2_SQUARED"}
_PROPERTIES = ("doc_id", "content", "metadata", "content_hash", "created_at", "embedding")
_BATCH = 100
_FETCH_PAGE = 1000  # ids per fetch query, well below Weaviate's QUERY_MAXIMUM_RESULTS
_PAGE = 10000


def _uuid(document_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, document_id))


def _ping_grpc(client: Any) -> None:
    """The client's own gRPC health check (``grpc.health.v1.Health/Check``), so that an unreachable gRPC
    port fails the open at once rather than the first query after the client's ~60 s of retries."""
    ping = getattr(client._connection, "_ping_grpc", None)
    if ping is not None:
        ping("sync")


def _grpc_code(error: BaseException) -> str | None:
    """The gRPC status name (``UNAVAILABLE``) behind a client error: the client raises its own error while
    handling grpc's ``RpcError``, so the status is on the error it was handling."""
    for current in error_chain(error):
        code = getattr(current, "code", None)
        if callable(code) and type(current).__module__.startswith("grpc"):
            name = getattr(code(), "name", None)
            return name if isinstance(name, str) else None
    return None


class WeaviateKnowledgeStore(HostedVectorStore[WeaviateKnowledgeConfig]):
    """A KnowledgeStore on Weaviate collections."""

    engine = "Weaviate"
    unsupported_filters = RANGE_OPERATORS

    def __init__(self, config: WeaviateKnowledgeConfig) -> None:
        super().__init__(config)
        weaviate = self._import_driver("weaviate")
        self._config_classes: Any = self._import_driver("weaviate.classes.config")
        self._query_classes: Any = self._import_driver("weaviate.classes.query")
        self._data_classes: Any = self._import_driver("weaviate.classes.data")
        init = self._import_driver("weaviate.classes.init")
        auth = None if config.api_key is None else init.Auth.api_key(config.api_key.get_secret_value())
        headers = {name: value.get_secret_value() for name, value in (config.additional_headers or {}).items()}
        with self._translating:  # an unreachable engine is BackendUnavailableError
            self._client: Any = weaviate.connect_to_custom(
                http_host=config.host,
                http_port=config.http_port,
                http_secure=config.secure,
                grpc_host=config.host,
                grpc_port=config.grpc_port,
                grpc_secure=config.secure,
                auth_credentials=auth,
                headers=headers or None,
                additional_config=init.AdditionalConfig(
                    timeout=init.Timeout(init=config.timeout, query=config.timeout)
                ),
                # The client's start-up checks look the latest release up on pypi.org at every connect;
                # a store talks to its own server only. The gRPC health check among them runs below.
                skip_init_checks=True,
            )
            _ping_grpc(self._client)

    def _name(self, name: str) -> str:
        return f"{self.config.collection_prefix}_{name.encode().hex()}"

    def _collection(self, name: str) -> Any:
        return self._client.collections.get(self._name(name))

    # -- primitives -----------------------------------------------------------------------

    def _native_create(self, name: str, settings: Settings) -> bool:
        native = self._name(name)
        if self._client.collections.exists(native):
            return False
        c = self._config_classes
        text = c.DataType.TEXT
        self._client.collections.create(
            native,
            description=settings.to_json(),
            properties=[
                c.Property(name="doc_id", data_type=text, tokenization=c.Tokenization.FIELD),
                c.Property(name="content", data_type=text, skip_vectorization=True, index_filterable=False),
                c.Property(name="metadata", data_type=text, index_filterable=False, index_searchable=False),
                c.Property(name="content_hash", data_type=text, index_searchable=False),
                c.Property(name="created_at", data_type=c.DataType.NUMBER),
                c.Property(name="embedding", data_type=c.DataType.NUMBER_ARRAY, index_filterable=False),
                c.Property(name="ix", data_type=c.DataType.TEXT_ARRAY, tokenization=c.Tokenization.FIELD),
            ],
            vector_config=c.Configure.Vectors.self_provided(
                vector_index_config=c.Configure.VectorIndex.hnsw(
                    distance_metric=getattr(c.VectorDistances, _DISTANCES[settings.distance])
                )
            ),
        )
        return True

    def _native_drop(self, name: str) -> bool:
        self._client.collections.delete(self._name(name))
        return True

    def _find(self, name: str) -> Settings | None:
        native = self._name(name)
        if not self._client.collections.exists(native):
            return None
        description = self._collection(name).config.get(simple=True).description
        return Settings.from_json(description)

    def _names(self) -> list[str]:
        prefix = f"{self.config.collection_prefix}_"
        names = []
        for native in self._client.collections.list_all(simple=True):
            if native.startswith(prefix):
                try:
                    names.append(bytes.fromhex(native[len(prefix) :]).decode())
                except ValueError:
                    continue
        return names

    def _taken(self, name: str, settings: Settings, ids: list[str]) -> set[str]:
        return set(self._fetch(name, settings, ids))

    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
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
        collection = self._collection(name)
        for start in range(0, len(objects), _BATCH):
            result = collection.data.insert_many(objects[start : start + _BATCH])
            if result.errors:
                # insert_many upserts by uuid: Weaviate refuses an object for its values (a property of the
                # wrong type, a vector of another length), never as a duplicate.
                first = next(iter(result.errors.values()))
                raise InvalidInputError(f"Weaviate refused {len(result.errors)} object(s): {first.message}")

    def _fetch(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        # In pages: one query returns at most QUERY_MAXIMUM_RESULTS (10,000 by default) objects.
        found: dict[str, KnowledgeDocument] = {}
        for start in range(0, len(ids), _FETCH_PAGE):
            page = ids[start : start + _FETCH_PAGE]
            filters = self._query_classes.Filter.by_id().contains_any([_uuid(i) for i in page])
            response = self._collection(name).query.fetch_objects(filters=filters, limit=len(page))
            found.update((str(obj.properties["doc_id"]), self._document(obj)) for obj in response.objects)
        return found

    def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        response = self._collection(name).query.near_vector(
            near_vector=vector, limit=limit, filters=None if node is None else self._filter(node)
        )
        return [self._document(obj) for obj in response.objects]

    def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        Filter = self._query_classes.Filter
        native = self._filter(node)
        if ids is not None:
            native = Filter.all_of([native, Filter.by_id().contains_any([_uuid(i) for i in ids])])
        response = self._collection(name).query.fetch_objects(filters=native, limit=_PAGE, return_properties=["doc_id"])
        matched = [str(obj.properties["doc_id"]) for obj in response.objects]
        if len(matched) >= _PAGE:
            # Weaviate returns at most QUERY_MAXIMUM_RESULTS objects: delete this page and look again.
            self._native_remove(name, settings, matched)
            return matched + self._native_matching(name, settings, node, ids)
        return matched

    def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None:
        Filter = self._query_classes.Filter
        for start in range(0, len(ids), _BATCH):
            uuids = [_uuid(i) for i in ids[start : start + _BATCH]]
            self._collection(name).data.delete_many(where=Filter.by_id().contains_any(uuids))

    def _count(self, name: str, settings: Settings) -> int:
        return int(self._collection(name).aggregate.over_all(total_count=True).total_count)

    def _scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        page: list[KnowledgeDocument] = []
        for obj in self._collection(name).iterator():
            page.append(self._document(obj))
            if len(page) >= batch_size:
                yield page
                page = []
        if page:
            yield page

    def _release(self) -> None:
        self._client.close()

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
