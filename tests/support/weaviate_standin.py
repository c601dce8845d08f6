"""A REST + gRPC stand-in of Weaviate, written from Weaviate's API reference and the protobuf stubs that
weaviate-client v4 ships (``weaviate.proto.v1``), for the real client.

It listens on two loopback ports, like Weaviate (HTTP 8080, gRPC 50051), and answers as Weaviate 1.32 does:

- REST: ``GET /v1/meta``, ``/v1/.well-known/ready`` and ``/live``, ``/v1/.well-known/openid-configuration``
  (404: no OIDC), ``GET|POST /v1/schema``, ``GET|DELETE /v1/schema/{class}``. A created class is stored
  with the defaults Weaviate fills in (property index flags and tokenization, the HNSW settings, the
  inverted-index, sharding, replication and multi-tenancy configs) and validated as Weaviate validates it:
  class and property names, data types, tokenizations, ``indexSearchable`` only on text, reserved
  property names, the vector index type and distance. Errors carry Weaviate's status codes and bodies:
  422 ``{"error": [{"message": ...}]}`` for a refused schema (a taken class name among them), 404 with an
  empty body for a missing class, 401 ``{"code": 401, "message": ...}`` without the right API key.
- gRPC (service ``weaviate.v1.Weaviate`` and ``grpc.health.v1.Health/Check``): ``BatchObjects`` (per-object
  errors for unknown properties, values of the wrong type, a vector whose length differs from the
  collection's, as Weaviate reports them; an existing UUID is replaced), ``Search`` (``near_vector`` ranked
  exactly by the collection's distance, ``fetch_objects`` in UUID order, the ``after`` cursor, filters,
  ``limit`` up to ``QUERY_MAXIMUM_RESULTS`` = 10,000, the properties and metadata asked for),
  ``BatchDelete`` (at most ``QUERY_MAXIMUM_RESULTS`` objects per call, ``dry_run``, ``verbose``) and
  ``Aggregate`` (``objects_count``, with a filter). A missing class, a bad filter or a bad query is the
  gRPC status ``UNKNOWN`` with Weaviate's message (Weaviate returns its Go errors as they are); a call
  without the API key is ``UNAUTHENTICATED``.
- Filters: ``And``, ``Or``, ``Not``, ``Equal``, ``NotEqual``, ``ContainsAny``, ``ContainsAll``,
  ``ContainsNone``, ``IsNull`` and the four ordering comparisons, on properties and on ``_id``; filtering a
  property with ``indexFilterable: false`` is refused as Weaviate refuses it. Text is compared as ``field``
  tokenization does (the whole value, trimmed).

Not modelled: the HNSW approximate index (search is an exact scan: Weaviate's results may differ near ties
and with ``ef`` too low), other tokenizations in filters (``word`` splitting, stop words), BM25 / hybrid /
vectorizer modules, named vectors other than ``default``, multi-tenancy, replication and consistency
levels, auto-schema (off: an unknown property is refused), GraphQL, ``/v1/objects`` and the REST batch
endpoints (weaviate-client v4 writes and queries over gRPC), persistence across restarts.
"""

from __future__ import annotations

import copy
import json
import math
import re
import socket
import struct
import threading
import uuid as uuid_lib
from collections.abc import Callable, Iterable
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import grpc
from google.protobuf import json_format
from weaviate.proto.v1 import (
    aggregate_pb2,
    base_pb2,
    batch_delete_pb2,
    batch_pb2,
    health_weaviate_pb2,
    properties_pb2,
    search_get_pb2,
    weaviate_pb2_grpc,
)

VERSION = "1.32.0"
QUERY_MAXIMUM_RESULTS = 10_000
DEFAULT_LIMIT = 10  # QUERY_DEFAULTS_LIMIT
GRPC_MAX_MESSAGE_SIZE = 104_858_000
_CLASS_NAME = re.compile(r"^[A-Z][_0-9A-Za-z]{0,254}$")
_PROPERTY_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,230}$")
_RESERVED = {"_additional", "_id", "id"}
_DATA_TYPES = {
    "text", "text[]", "int", "int[]", "number", "number[]", "boolean", "boolean[]", "date", "date[]",
    "uuid", "uuid[]", "blob", "geoCoordinates", "phoneNumber", "object", "object[]",
}  # fmt: skip
_TEXT_TYPES = {"text", "text[]"}
_TOKENIZATIONS = {"word", "lowercase", "whitespace", "field", "trigram", "gse", "kagome_kr", "kagome_ja"}
_DISTANCES = {"cosine", "dot", "l2-squared", "hamming", "manhattan"}
_INDEX_TYPES = {"hnsw", "flat", "dynamic"}
_HNSW_DEFAULTS: dict[str, Any] = {
    "skip": False,
    "cleanupIntervalSeconds": 300,
    "maxConnections": 32,
    "efConstruction": 128,
    "ef": -1,
    "dynamicEfMin": 100,
    "dynamicEfMax": 500,
    "dynamicEfFactor": 8,
    "vectorCacheMaxObjects": 1_000_000_000_000,
    "flatSearchCutoff": 40_000,
    "distance": "cosine",
    "pq": {"enabled": False, "bitCompression": False, "segments": 0, "centroids": 256, "trainingLimit": 100_000,
           "encoder": {"type": "kmeans", "distribution": "log-normal"}},
    "bq": {"enabled": False},
    "sq": {"enabled": False, "trainingLimit": 100_000, "rescoreLimit": 20},
    "filterStrategy": "sweeping",
    "multivector": {"enabled": False, "aggregation": "maxSim"},
}  # fmt: skip
_CLASS_DEFAULTS: dict[str, Any] = {
    "invertedIndexConfig": {
        "bm25": {"b": 0.75, "k1": 1.2},
        "cleanupIntervalSeconds": 60,
        "stopwords": {"preset": "en", "additions": None, "removals": None},
        "usingBlockMaxWAND": True,
    },
    "multiTenancyConfig": {"enabled": False, "autoTenantCreation": False, "autoTenantActivation": False},
    "replicationConfig": {"factor": 1, "asyncEnabled": False, "deletionStrategy": "NoAutomatedResolution"},
    "shardingConfig": {
        "actualCount": 1, "actualVirtualCount": 128, "desiredCount": 1, "desiredVirtualCount": 128,
        "function": "murmur3", "key": "_id", "strategy": "hash", "virtualPerPhysical": 128,
    },
}  # fmt: skip
_Op = base_pb2.Filters
_OTHER_SEARCHES = (
    "hybrid_search", "bm25_search", "near_object", "near_text", "near_image", "near_audio", "near_video",
    "near_depth", "near_thermal", "near_imu", "group_by", "generative", "rerank", "boost",
)  # fmt: skip


class RestError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.status, self.body = status, body


def _unprocessable(message: str) -> RestError:
    return RestError(422, {"error": [{"message": message}]})


class GrpcError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _unknown(message: str) -> GrpcError:
    return GrpcError(grpc.StatusCode.UNKNOWN, message)


def _f32(values: Iterable[float]) -> list[float]:
    values = list(values)
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def _distance(metric: str, query: list[float], vector: list[float]) -> float:
    """Weaviate's distances: smaller is closer (``dot`` is the negative dot product)."""
    if metric == "cosine":
        dot = sum(a * b for a, b in zip(query, vector, strict=True))
        norm = math.sqrt(sum(a * a for a in query)) * math.sqrt(sum(b * b for b in vector))
        return 1.0 - dot / norm if norm else 1.0
    if metric == "dot":
        return -sum(a * b for a, b in zip(query, vector, strict=True))
    if metric == "l2-squared":
        return sum((a - b) ** 2 for a, b in zip(query, vector, strict=True))
    if metric == "manhattan":
        return sum(abs(a - b) for a, b in zip(query, vector, strict=True))
    return float(sum(1 for a, b in zip(query, vector, strict=True) if a != b))  # hamming


class _Class:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.name: str = schema["class"]
        self.properties: dict[str, dict[str, Any]] = {prop["name"]: prop for prop in schema["properties"]}
        vector = schema["vectorConfig"]["default"]
        self.distance: str = vector["vectorIndexConfig"]["distance"]
        self.dimension: int | None = None  # set by the first vector, as Weaviate's index does
        self.objects: dict[str, dict[str, Any]] = {}  # uuid -> {"properties", "vector"}


# -- schema (REST) -------------------------------------------------------------------------------------------


def _complete_property(prop: Any) -> dict[str, Any]:
    if not isinstance(prop, dict):
        raise _unprocessable("property must be an object")
    name = prop.get("name")
    if not isinstance(name, str) or not _PROPERTY_NAME.match(name):
        raise _unprocessable(f"'{name}' is not a valid property name. Property names in Weaviate are restricted "
                             "to valid GraphQL names, which must be “/[_A-Za-z][_0-9A-Za-z]{0,230}/”.")  # fmt: skip
    if name in _RESERVED:
        raise _unprocessable(f"'{name}' is a reserved property name")
    data_type = prop.get("dataType")
    if not isinstance(data_type, list) or len(data_type) != 1 or data_type[0] not in _DATA_TYPES:
        raise _unprocessable(f"property '{name}': invalid dataType: {data_type}")
    kind = data_type[0]
    text = kind in _TEXT_TYPES
    tokenization = prop.get("tokenization")
    if tokenization is not None and (not text or tokenization not in _TOKENIZATIONS):
        raise _unprocessable(f"tokenization '{tokenization}' is not allowed for data type '{kind}'")
    if prop.get("indexSearchable") is True and not text:
        raise _unprocessable(
            "`indexSearchable` is allowed only for text/text[] data types. For other data types set false or "
            "leave empty"
        )
    completed: dict[str, Any] = {
        "name": name,
        "dataType": [kind],
        "description": prop.get("description", ""),
        "indexFilterable": prop.get("indexFilterable", True) is not False,
        "indexSearchable": text and prop.get("indexSearchable", True) is not False,
        "indexRangeFilters": bool(prop.get("indexRangeFilters", False)),
    }
    if text:
        completed["tokenization"] = tokenization or "word"
    return completed


def _complete_class(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _unprocessable("class must be an object")
    name = body.get("class")
    if not isinstance(name, str) or not _CLASS_NAME.match(name):
        raise _unprocessable(f"'{name}' is not a valid class name")
    properties = [_complete_property(prop) for prop in body.get("properties") or []]
    seen: set[str] = set()
    for prop in properties:
        if prop["name"].lower() in seen:
            raise _unprocessable(f"class '{name}' has a property with the name '{prop['name']}' already")
        seen.add(prop["name"].lower())
    vectors = body.get("vectorConfig")
    if not isinstance(vectors, dict) or set(vectors) != {"default"}:
        raise _unprocessable("this stand-in models classes with one named vector, 'default'")
    vector = vectors["default"]
    if vector.get("vectorizer") != {"none": {}}:
        raise _unprocessable("vectorizer modules are not enabled: use 'none' (self-provided vectors)")
    index_type = vector.get("vectorIndexType", "hnsw")
    if index_type not in _INDEX_TYPES:
        raise _unprocessable(f"unrecognized or unsupported vectorIndexType {index_type!r}")
    index_config = {**_HNSW_DEFAULTS, **(vector.get("vectorIndexConfig") or {})}
    if index_config["distance"] not in _DISTANCES:
        raise _unprocessable(f"invalid vectorIndexConfig: distance {index_config['distance']!r} is not supported")
    schema = copy.deepcopy(_CLASS_DEFAULTS)
    schema.update(
        {
            "class": name,
            "description": body.get("description", ""),
            "properties": properties,
            "vectorConfig": {
                "default": {
                    "vectorizer": {"none": {}},
                    "vectorIndexType": index_type,
                    "vectorIndexConfig": index_config,
                }
            },
        }
    )
    return schema


# -- values -----------------------------------------------------------------------------------------------------


def _check_value(kind: str, value: Any) -> bool:
    scalar = kind.removesuffix("[]")
    values = value if kind.endswith("[]") else [value]
    if kind.endswith("[]") and not isinstance(value, list):
        return False
    for item in values:
        if scalar in ("text", "date", "uuid", "blob"):
            ok = isinstance(item, str)
        elif scalar == "number":
            ok = isinstance(item, (int, float)) and not isinstance(item, bool)
        elif scalar == "int":
            ok = (isinstance(item, int) and not isinstance(item, bool)) or (
                isinstance(item, float) and item.is_integer()
            )
        elif scalar == "boolean":
            ok = isinstance(item, bool)
        else:
            ok = True
        if not ok:
            return False
    return True


def _encode(kind: str, value: Any) -> properties_pb2.Value:
    if kind == "text":
        return properties_pb2.Value(text_value=value)
    if kind == "number":
        return properties_pb2.Value(number_value=float(value))
    if kind == "int":
        return properties_pb2.Value(int_value=int(value))
    if kind == "boolean":
        return properties_pb2.Value(bool_value=value)
    if kind == "uuid":
        return properties_pb2.Value(uuid_value=value)
    if kind == "date":
        return properties_pb2.Value(date_value=value)
    if kind == "blob":
        return properties_pb2.Value(blob_value=value)
    if kind == "text[]":
        return properties_pb2.Value(list_value=properties_pb2.ListValue(text_values={"values": value}))
    if kind == "number[]":
        packed = struct.pack(f"<{len(value)}d", *value)
        return properties_pb2.Value(list_value=properties_pb2.ListValue(number_values={"values": packed}))
    if kind == "int[]":
        packed = struct.pack(f"<{len(value)}q", *[int(v) for v in value])
        return properties_pb2.Value(list_value=properties_pb2.ListValue(int_values={"values": packed}))
    if kind == "boolean[]":
        return properties_pb2.Value(list_value=properties_pb2.ListValue(bool_values={"values": value}))
    if kind == "uuid[]":
        return properties_pb2.Value(list_value=properties_pb2.ListValue(uuid_values={"values": value}))
    if kind == "date[]":
        return properties_pb2.Value(list_value=properties_pb2.ListValue(date_values={"values": value}))
    raise _unknown(f"the stand-in does not return {kind} properties")


def _decode_properties(props: batch_pb2.BatchObject.Properties) -> dict[str, Any]:
    decoded: dict[str, Any] = {
        key: value
        for key, value in json_format.MessageToDict(props.non_ref_properties).items()
        if value is not None  # Weaviate stores no nulls
    }
    for array in props.number_array_properties:
        raw = array.values_bytes
        decoded[array.prop_name] = (
            list(struct.unpack(f"<{len(raw) // 8}d", raw)) if raw else [float(v) for v in array.values]
        )
    for int_array in props.int_array_properties:
        decoded[int_array.prop_name] = list(int_array.values)
    for text_array in props.text_array_properties:
        decoded[text_array.prop_name] = list(text_array.values)
    for bool_array in props.boolean_array_properties:
        decoded[bool_array.prop_name] = list(bool_array.values)
    for name in props.empty_list_props:
        decoded[name] = []
    if props.object_properties or props.object_array_properties or props.single_target_ref_props:
        raise ValueError("the stand-in does not model object properties or references")
    return decoded


def _object_vector(obj: batch_pb2.BatchObject) -> list[float] | None:
    if obj.vector_bytes:
        return list(struct.unpack(f"<{len(obj.vector_bytes) // 4}f", obj.vector_bytes))
    if obj.vector:
        return _f32(obj.vector)
    for vector in obj.vectors:
        if vector.name in ("", "default") and vector.type != base_pb2.Vectors.VECTOR_TYPE_MULTI_FP32:
            raw = vector.vector_bytes
            return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return None


def _query_vector(near: Any) -> list[float]:
    if near.vector_bytes:
        return list(struct.unpack(f"<{len(near.vector_bytes) // 4}f", near.vector_bytes))
    if near.vector:
        return _f32(near.vector)
    for vector in near.vectors:
        if vector.type == base_pb2.Vectors.VECTOR_TYPE_MULTI_FP32:
            raise _unknown("multi-vectors are not enabled on this collection")
        return list(struct.unpack(f"<{len(vector.vector_bytes) // 4}f", vector.vector_bytes))
    raise _unknown("near_vector: no vector given")


# -- filters ---------------------------------------------------------------------------------------------------


def _filter_values(node: base_pb2.Filters) -> list[Any]:
    which = {
        "value_text_array": lambda: list(node.value_text_array.values),
        "value_int_array": lambda: list(node.value_int_array.values),
        "value_number_array": lambda: list(node.value_number_array.values),
        "value_boolean_array": lambda: list(node.value_boolean_array.values),
        "value_text": lambda: [node.value_text],
        "value_int": lambda: [node.value_int],
        "value_number": lambda: [node.value_number],
        "value_boolean": lambda: [node.value_boolean],
    }
    kind = node.WhichOneof("test_value")
    if kind not in which:
        raise _unknown(f"filter value of kind {kind} is not supported")
    return which[kind]()


def _matcher(cls: _Class, node: base_pb2.Filters) -> Callable[[str, dict[str, Any]], bool]:
    """A predicate on (uuid, properties) for a gRPC filter, checked against the class as Weaviate checks it."""
    op = node.operator
    if op in (_Op.OPERATOR_AND, _Op.OPERATOR_OR, _Op.OPERATOR_NOT):
        parts = [_matcher(cls, part) for part in node.filters]
        if not parts:
            raise _unknown("invalid where filter: operands must not be empty")
        if op == _Op.OPERATOR_AND:
            return lambda key, props: all(part(key, props) for part in parts)
        if op == _Op.OPERATOR_OR:
            return lambda key, props: any(part(key, props) for part in parts)
        return lambda key, props: not parts[0](key, props)
    if node.HasField("target"):
        if node.target.WhichOneof("target") != "property":
            raise _unknown("reference filters are not modelled by the stand-in")
        path = node.target.property
    elif len(node.on) == 1:
        path = node.on[0]
    else:
        raise _unknown("invalid where filter: a filter needs one property path")
    if path == "_id":
        kind, tokenization = "uuid", "field"
    else:
        prop = cls.properties.get(path)
        if prop is None:
            raise _unknown(f"no such prop with name '{path}' found in class '{cls.name}' in the schema. Check your "
                           "schema files for which properties in this class are available")  # fmt: skip
        if not prop["indexFilterable"]:
            raise _unknown(
                f"Filtering by property '{path}' requires inverted index. Is `indexFilterable` option of property "
                f"'{path}' enabled? Set it to `true` or leave empty"
            )
        kind, tokenization = prop["dataType"][0], prop.get("tokenization")
        if kind in _TEXT_TYPES and tokenization not in ("field", None):
            raise _unknown(f"the stand-in filters text with field tokenization only, not {tokenization!r}")
    if op == _Op.OPERATOR_IS_NULL:
        wanted_null = node.value_boolean

        def is_null(key: str, props: dict[str, Any]) -> bool:
            return (props.get(path) in (None, [])) == wanted_null

        return is_null
    values = _filter_values(node)
    if not values and op in (_Op.OPERATOR_CONTAINS_ANY, _Op.OPERATOR_CONTAINS_ALL, _Op.OPERATOR_CONTAINS_NONE):
        raise _unknown("invalid where filter: empty value list")
    if kind in ("uuid", "uuid[]"):
        try:
            values = [str(uuid_lib.UUID(str(value))) for value in values]
        except ValueError as error:
            raise _unknown(f"invalid where filter: {error}") from error
    elif kind in _TEXT_TYPES:
        values = [str(value).strip() for value in values]

    def present(key: str, props: dict[str, Any]) -> list[Any]:
        value = key if path == "_id" else props.get(path)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        return [item.strip() for item in items] if kind in _TEXT_TYPES else items

    wanted = frozenset(values)  # fetches by id send up to 1,000 values
    if op == _Op.OPERATOR_CONTAINS_ANY:
        return lambda key, props: any(item in wanted for item in present(key, props))
    if op == _Op.OPERATOR_CONTAINS_ALL:
        return lambda key, props: wanted <= set(present(key, props))
    if op == _Op.OPERATOR_CONTAINS_NONE:
        return lambda key, props: not any(item in wanted for item in present(key, props))
    if len(values) != 1:
        raise _unknown("invalid where filter: this operator takes one value")
    [value] = values
    comparisons: dict[int, Callable[[Any], bool]] = {
        _Op.OPERATOR_EQUAL: lambda item: item == value,
        _Op.OPERATOR_NOT_EQUAL: lambda item: item != value,
        _Op.OPERATOR_GREATER_THAN: lambda item: item > value,
        _Op.OPERATOR_GREATER_THAN_EQUAL: lambda item: item >= value,
        _Op.OPERATOR_LESS_THAN: lambda item: item < value,
        _Op.OPERATOR_LESS_THAN_EQUAL: lambda item: item <= value,
    }
    compare = comparisons.get(op)
    if compare is None:
        raise _unknown(f"operator {_Op.Operator.Name(op)} is not modelled by the stand-in")
    if op == _Op.OPERATOR_NOT_EQUAL:
        return lambda key, props: all(compare(item) for item in present(key, props))
    return lambda key, props: any(compare(item) for item in present(key, props))


# -- the server --------------------------------------------------------------------------------------------------


class WeaviateStandIn:
    """Weaviate's REST API on ``http_port`` and its gRPC API on ``grpc_port``, both on 127.0.0.1."""

    def __init__(self, api_key: str | None = "wv-standin-key") -> None:
        self.api_key = api_key
        self.classes: dict[str, _Class] = {}
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str]] = []  # ("GET", "/v1/schema") or ("grpc", "Search"), for the tests
        self.headers: list[dict[str, str]] = []  # each request's headers or gRPC metadata, names lower-cased
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        options = [
            ("grpc.max_receive_message_length", GRPC_MAX_MESSAGE_SIZE),
            ("grpc.max_send_message_length", GRPC_MAX_MESSAGE_SIZE),
        ]
        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=options)
        weaviate_pb2_grpc.add_WeaviateServicer_to_server(_Service(self), self._grpc)
        check = grpc.unary_unary_rpc_method_handler(
            self._health,
            request_deserializer=health_weaviate_pb2.WeaviateHealthCheckRequest.FromString,
            response_serializer=health_weaviate_pb2.WeaviateHealthCheckResponse.SerializeToString,
        )
        self._grpc.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": check})]
        )
        self.grpc_port = self._grpc.add_insecure_port("127.0.0.1:0")
        self._grpc.start()

    @property
    def http_port(self) -> int:
        return int(self._http.server_address[1])

    def reset(self) -> None:
        """Drop every class and forget the requests (between tests sharing one stand-in)."""
        with self.lock:
            self.classes.clear()
            self.requests.clear()
            self.headers.clear()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._grpc.stop(grace=None).wait()

    def _authorized(self, header: str | None) -> bool:
        return self.api_key is None or header == f"Bearer {self.api_key}"

    @staticmethod
    def _health(request: Any, context: grpc.ServicerContext) -> Any:
        return health_weaviate_pb2.WeaviateHealthCheckResponse(
            status=health_weaviate_pb2.WeaviateHealthCheckResponse.SERVING
        )

    # -- REST -------------------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self, method: str) -> None:
                path = urlsplit(self.path).path
                stand_in.requests.append((method, path))
                stand_in.headers.append({name.lower(): value for name, value in self.headers.items()})
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    public = path.startswith("/v1/.well-known/")
                    if not public and not stand_in._authorized(self.headers.get("Authorization")):
                        raise RestError(401, {"code": 401, "message": "unauthorized: invalid api key"})
                    try:
                        body = json.loads(raw) if raw else None
                    except ValueError as error:
                        raise _unprocessable(f'parsing body body from "" failed: {error}') from error
                    status, payload = stand_in._route(method, path, body)
                except RestError as error:
                    status, payload = error.status, error.body
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

            def do_PUT(self) -> None:
                self._handle("PUT")

        return Handler

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if path in ("/v1/.well-known/ready", "/v1/.well-known/live") and method == "GET":
            return 200, None
        if path == "/v1/.well-known/openid-configuration":
            return 404, None
        if path == "/v1/meta" and method == "GET":
            return 200, {
                "hostname": f"http://127.0.0.1:{self.http_port}",
                "version": VERSION,
                "modules": {},
                "grpcMaxMessageSize": GRPC_MAX_MESSAGE_SIZE,
            }
        with self.lock:
            if path == "/v1/schema" and method == "GET":
                return 200, {"classes": [copy.deepcopy(cls.schema) for cls in self.classes.values()]}
            if path == "/v1/schema" and method == "POST":
                schema = _complete_class(body)
                if schema["class"].lower() in (name.lower() for name in self.classes):
                    raise _unprocessable(f'class name "{schema["class"]}" already exists')
                self.classes[schema["class"]] = _Class(schema)
                return 200, copy.deepcopy(schema)
            match = re.fullmatch(r"/v1/schema/([^/]+)", path)
            if match:
                cls = self.classes.get(match.group(1))
                if method == "GET":
                    return (404, None) if cls is None else (200, copy.deepcopy(cls.schema))
                if method == "DELETE":  # deleting a missing class succeeds, as in Weaviate
                    self.classes.pop(match.group(1), None)
                    return 200, None
        raise RestError(404, {"code": 404, "message": f"path {path} was not found"})

    # -- gRPC ---------------------------------------------------------------------------------------------------

    def _class(self, name: str) -> _Class:
        cls = self.classes.get(name)
        if cls is None:
            raise _unknown(f"could not find class {name} in schema")
        return cls

    def batch_objects(self, request: batch_pb2.BatchObjectsRequest) -> batch_pb2.BatchObjectsReply:
        errors = []
        with self.lock:
            for index, obj in enumerate(request.objects):
                try:
                    self._put(obj)
                except (GrpcError, ValueError) as error:
                    errors.append(batch_pb2.BatchObjectsReply.BatchError(index=index, error=str(error)))
        return batch_pb2.BatchObjectsReply(took=0.001, errors=errors)

    def _put(self, obj: batch_pb2.BatchObject) -> None:
        cls = self.classes.get(obj.collection)
        if cls is None:
            raise ValueError(f'class "{obj.collection}" not found in schema')
        key = str(uuid_lib.UUID(obj.uuid))
        properties = _decode_properties(obj.properties)
        for name, value in properties.items():
            prop = cls.properties.get(name)
            if prop is None:
                raise ValueError(f"no such prop with name '{name}' found in class '{cls.name}' in the schema. Check "
                                 "your schema files for which properties in this class are available")  # fmt: skip
            if not _check_value(prop["dataType"][0], value):
                raise ValueError(f"invalid {prop['dataType'][0]} property '{name}' on class '{cls.name}': "
                                 f"{value!r}")  # fmt: skip
        vector = _object_vector(obj)
        if vector is not None:
            if cls.dimension is not None and len(vector) != cls.dimension:
                raise ValueError(f"insert to vector index: new node has a vector with length {len(vector)}. "
                                 f"Existing nodes have vectors with length {cls.dimension}")  # fmt: skip
            cls.dimension = len(vector)
        cls.objects[key] = {"properties": properties, "vector": vector}

    def search(self, request: search_get_pb2.SearchRequest) -> search_get_pb2.SearchReply:
        with self.lock:
            cls = self._class(request.collection)
            limit = request.limit or DEFAULT_LIMIT
            if limit + request.offset > QUERY_MAXIMUM_RESULTS:
                raise _unknown("query maximum results exceeded")
            for search in _OTHER_SEARCHES:
                if request.HasField(search):
                    raise _unknown(f"the stand-in does not model {search}")
            match = _matcher(cls, request.filters) if request.HasField("filters") else None
            entries = [(key, obj) for key, obj in cls.objects.items() if match is None or match(key, obj["properties"])]
            distances: dict[str, float] = {}
            if request.HasField("near_vector"):
                query = _query_vector(request.near_vector)
                if cls.dimension is not None and len(query) != cls.dimension:
                    raise _unknown(f"vector search: knn search: distance between entrypoint and query node: "
                                   f"vector lengths don't match: {cls.dimension} vs {len(query)}")  # fmt: skip
                entries = [(key, obj) for key, obj in entries if obj["vector"] is not None]
                distances = {key: _distance(cls.distance, query, obj["vector"]) for key, obj in entries}
                entries.sort(key=lambda pair: (distances[pair[0]], pair[0]))
            else:
                if request.after:
                    if match is not None or request.offset:
                        raise _unknown(
                            "cursor api: invalid 'after' parameter: where cannot be set with after and limit"
                        )
                    after = str(uuid_lib.UUID(request.after))
                    entries = [(key, obj) for key, obj in entries if key > after]
                entries.sort(key=lambda pair: pair[0])
            page = entries[request.offset : request.offset + limit]
            results = [self._result(cls, request, key, obj, distances.get(key)) for key, obj in page]
        return search_get_pb2.SearchReply(took=0.001, results=results)

    @staticmethod
    def _result(
        cls: _Class, request: search_get_pb2.SearchRequest, key: str, obj: dict[str, Any], distance: float | None
    ) -> search_get_pb2.SearchResult:
        wanted = request.properties
        if wanted.return_all_nonref_properties or not request.HasField("properties"):
            names = list(obj["properties"])
        else:
            names = list(wanted.non_ref_properties)
            for name in names:
                if name not in cls.properties:
                    raise _unknown(f"no such prop with name '{name}' found in class '{cls.name}' in the schema")
        fields = {
            name: _encode(cls.properties[name]["dataType"][0], obj["properties"][name])
            for name in names
            if obj["properties"].get(name) is not None
        }
        metadata = search_get_pb2.MetadataResult(id=key, id_as_bytes=uuid_lib.UUID(key).bytes)
        if request.metadata.distance and distance is not None:
            metadata.distance, metadata.distance_present = distance, True
        if (request.metadata.vector or "default" in request.metadata.vectors) and obj["vector"] is not None:
            packed = struct.pack(f"<{len(obj['vector'])}f", *obj["vector"])
            metadata.vectors.append(
                base_pb2.Vectors(name="default", vector_bytes=packed, type=base_pb2.Vectors.VECTOR_TYPE_SINGLE_FP32)
            )
        return search_get_pb2.SearchResult(
            metadata=metadata,
            properties=search_get_pb2.PropertiesResult(
                non_ref_props=properties_pb2.Properties(fields=fields), target_collection=cls.name
            ),
        )

    def batch_delete(self, request: batch_delete_pb2.BatchDeleteRequest) -> batch_delete_pb2.BatchDeleteReply:
        with self.lock:
            cls = self._class(request.collection)
            if not request.HasField("filters"):
                raise _unknown("batch delete params: filters must be set")
            match = _matcher(cls, request.filters)
            doomed = sorted(key for key, obj in cls.objects.items() if match(key, obj["properties"]))
            doomed = doomed[:QUERY_MAXIMUM_RESULTS]
            if not request.dry_run:
                for key in doomed:
                    del cls.objects[key]
        objects = (
            [batch_delete_pb2.BatchDeleteObject(uuid=uuid_lib.UUID(key).bytes, successful=True) for key in doomed]
            if request.verbose
            else []
        )
        return batch_delete_pb2.BatchDeleteReply(
            took=0.001, failed=0, matches=len(doomed), successful=len(doomed), objects=objects
        )

    def aggregate(self, request: aggregate_pb2.AggregateRequest) -> aggregate_pb2.AggregateReply:
        with self.lock:
            cls = self._class(request.collection)
            if request.aggregations or request.HasField("group_by") or request.WhichOneof("search") is not None:
                raise _unknown("the stand-in aggregates objects_count only")
            match = _matcher(cls, request.filters) if request.HasField("filters") else None
            count = sum(1 for key, obj in cls.objects.items() if match is None or match(key, obj["properties"]))
        return aggregate_pb2.AggregateReply(
            took=0.001, single_result=aggregate_pb2.AggregateReply.Single(objects_count=count)
        )


class _Service(weaviate_pb2_grpc.WeaviateServicer):
    def __init__(self, stand_in: WeaviateStandIn) -> None:
        self._stand_in = stand_in

    def _call(self, name: str, context: grpc.ServicerContext, run: Callable[[], Any]) -> Any:
        self._stand_in.requests.append(("grpc", name))
        metadata = {key.lower(): value for key, value in context.invocation_metadata()}
        self._stand_in.headers.append(metadata)
        if not self._stand_in._authorized(metadata.get("authorization")):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "unauthorized: invalid api key")
        try:
            return run()
        except GrpcError as error:
            context.abort(error.code, error.message)

    def Search(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._call("Search", context, lambda: self._stand_in.search(request))

    def BatchObjects(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._call("BatchObjects", context, lambda: self._stand_in.batch_objects(request))

    def BatchDelete(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._call("BatchDelete", context, lambda: self._stand_in.batch_delete(request))

    def Aggregate(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._call("Aggregate", context, lambda: self._stand_in.aggregate(request))


_TLS_CONTEXTS: dict[bool, Any] = {}


def share_tls_context(monkeypatch: Any) -> None:
    """Let httpx clients share one default TLS context while ``monkeypatch`` lasts.

    httpx loads certifi's CA bundle into a new context for every client (~70 ms on these machines), even
    for ``http://`` URLs, and weaviate-client makes one client per connection: the suites open hundreds
    of stores. Only the default context (``verify=True``, no client certificate) is shared.
    """
    from httpx._transports import default

    original = default.create_ssl_context

    def shared(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is not True or cert is not None:
            return original(verify=verify, cert=cert, trust_env=trust_env)
        if trust_env not in _TLS_CONTEXTS:
            _TLS_CONTEXTS[trust_env] = original(verify=verify, cert=cert, trust_env=trust_env)
        return _TLS_CONTEXTS[trust_env]

    monkeypatch.setattr(default, "create_ssl_context", shared)
