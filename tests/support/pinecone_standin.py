"""An HTTP stand-in of Pinecone's REST API, written from Pinecone's API reference, for the real ``pinecone`` SDK.

The control plane (``/indexes``) listens on one loopback port; each index gets its own data-plane
port, whose URL ``describe_index`` returns as the index's ``host`` (as Pinecone does, one host per
index). What it models, as the reference documents it:

- control plane: list, create (``schema`` with one ``dense_vector`` field, ``deployment``, ``tags``),
  describe, delete; names (1-45 lower-case letters, digits, ``-``) and tags validated;
  409 ``ALREADY_EXISTS``, 404 ``NOT_FOUND``, 400 ``INVALID_ARGUMENT`` with Pinecone's error body
  ``{"error": {"code", "message"}, "status"}``; every request needs an ``Api-Key`` header (401).
- data plane: ``/vectors/upsert`` (dimension checked, all-zero vectors refused on cosine indexes,
  metadata values limited to strings, numbers, booleans and lists of strings, at most 40 KB of
  metadata per record, at most 1000 vectors and 2 MB per request), ``/vectors/fetch``, ``/query``
  (``topK`` 1..10000, metadata filters with ``$eq $ne $gt $gte $lt $lte $in $nin $exists $and $or``),
  ``/vectors/delete`` (ids, ``deleteAll``, filter), ``/describe_index_stats``, ``/vectors/list``
  (ids in order, ``limit`` 1..100, ``paginationToken``, ``prefix``).

Not modelled: approximate search (ranking is exact, on float32 values), eventual consistency
(writes are visible at once), rate limits, pod indexes, sparse and integrated-embedding indexes.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import struct
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.hosted_fakes import mql_matches

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,43}[a-z0-9])?$")
_TAG_KEY = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_TAG_VALUE = re.compile(r"^[A-Za-z0-9_-]{0,120}$")
_METRICS = ("cosine", "dotproduct", "euclidean")
MAX_METADATA_BYTES = 40 * 1024
MAX_REQUEST_BYTES = 2 * 1024 * 1024
MAX_UPSERT = 1000
MAX_TOP_K = 10_000


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _f32(values: list[float]) -> list[float]:
    return [struct.unpack("f", struct.pack("f", value))[0] for value in values]


def _score(metric: str, query: list[float], values: list[float]) -> float:
    dot = sum(a * b for a, b in zip(query, values, strict=True))
    if metric == "dotproduct":
        return dot
    if metric == "cosine":
        norm = (sum(a * a for a in query) ** 0.5) * (sum(b * b for b in values) ** 0.5)
        return dot / norm if norm else 0.0
    return sum((a - b) ** 2 for a, b in zip(query, values, strict=True))  # squared euclidean, smaller is closer


def _check_metadata(metadata: Any) -> None:
    if not isinstance(metadata, dict):
        raise ApiError(400, "INVALID_ARGUMENT", "metadata must be an object")
    for key, value in metadata.items():
        ok = (
            isinstance(value, (str, bool, int, float))
            or (isinstance(value, list) and all(isinstance(item, str) for item in value))
        ) and value is not None
        if not ok:
            raise ApiError(
                400,
                "INVALID_ARGUMENT",
                f"Metadata value must be a string, number, boolean or list of strings, got '{key}'",
            )
    if len(json.dumps(metadata).encode()) > MAX_METADATA_BYTES:
        raise ApiError(400, "INVALID_ARGUMENT", f"Metadata size exceeds the limit of {MAX_METADATA_BYTES} bytes")


class _Index:
    def __init__(self, name: str, dimension: int, metric: str, tags: dict[str, str] | None, cloud: str, region: str):
        self.name, self.dimension, self.metric, self.tags = name, dimension, metric, tags
        self.cloud, self.region = cloud, region
        self.namespaces: dict[str, dict[str, dict[str, Any]]] = {}
        self.lock = threading.RLock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def model(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "status": {"ready": True, "state": "Ready"},
            "schema": {
                "fields": {"_values": {"type": "dense_vector", "dimension": self.dimension, "metric": self.metric}}
            },
            "deployment": {"deployment_type": "managed", "cloud": self.cloud, "region": self.region},
            "deletion_protection": "disabled",
            "tags": self.tags,
        }

    # -- data plane ---------------------------------------------------------------------------------------------

    def upsert(self, body: dict[str, Any]) -> dict[str, Any]:
        vectors = body.get("vectors")
        if not isinstance(vectors, list) or not vectors:
            raise ApiError(400, "INVALID_ARGUMENT", "vectors must be a non-empty list")
        if len(vectors) > MAX_UPSERT:
            raise ApiError(400, "INVALID_ARGUMENT", f"Upsert accepts at most {MAX_UPSERT} vectors per request")
        staged = []
        for vector in vectors:
            values = vector.get("values")
            if not isinstance(vector.get("id"), str) or not vector["id"] or len(vector["id"].encode()) > 512:
                raise ApiError(400, "INVALID_ARGUMENT", "Vector ID must be a non-empty string of at most 512 bytes")
            if not isinstance(values, list) or len(values) != self.dimension:
                size = len(values) if isinstance(values, list) else 0
                raise ApiError(
                    400,
                    "INVALID_ARGUMENT",
                    f"Vector dimension {size} does not match the dimension of the index {self.dimension}",
                )
            if self.metric == "cosine" and not any(values):
                raise ApiError(400, "INVALID_ARGUMENT", "Dense vectors must contain at least one non-zero value")
            metadata = vector.get("metadata") or {}
            _check_metadata(metadata)
            staged.append({"id": vector["id"], "values": _f32(values), "metadata": metadata})
        with self.lock:
            space = self.namespaces.setdefault(body.get("namespace") or "", {})
            for record in staged:
                space[record["id"]] = record
        return {"upsertedCount": len(staged)}

    def fetch(self, query: dict[str, list[str]]) -> dict[str, Any]:
        namespace = (query.get("namespace") or [""])[0]
        ids = query.get("ids") or []
        if not ids:
            raise ApiError(400, "INVALID_ARGUMENT", "ids must be given")
        with self.lock:
            space = self.namespaces.get(namespace, {})
            found = {i: dict(space[i]) for i in ids if i in space}
        return {"vectors": found, "namespace": namespace, "usage": {"readUnits": 1}}

    def query(self, body: dict[str, Any]) -> dict[str, Any]:
        top_k = body.get("topK")
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise ApiError(400, "INVALID_ARGUMENT", f"topK must be an integer from 1 to {MAX_TOP_K}")
        vector = body.get("vector")
        if not isinstance(vector, list) or len(vector) != self.dimension:
            raise ApiError(400, "INVALID_ARGUMENT", f"Query vector dimension does not match the index {self.dimension}")
        filter_ = body.get("filter")
        namespace = body.get("namespace") or ""
        with self.lock:
            candidates = list(self.namespaces.get(namespace, {}).values())
        try:
            matched = [record for record in candidates if filter_ is None or mql_matches(filter_, record["metadata"])]
        except (TypeError, ValueError, KeyError) as error:
            raise ApiError(400, "INVALID_ARGUMENT", f"Invalid filter: {error}") from error
        scored = [(_score(self.metric, vector, record["values"]), record) for record in matched]
        scored.sort(
            key=lambda pair: (pair[0], pair[1]["id"]) if self.metric == "euclidean" else (-pair[0], pair[1]["id"])
        )
        matches = []
        for score, record in scored[:top_k]:
            match: dict[str, Any] = {"id": record["id"], "score": score}
            if body.get("includeValues"):
                match["values"] = record["values"]
            if body.get("includeMetadata"):
                match["metadata"] = record["metadata"]
            matches.append(match)
        return {"matches": matches, "namespace": namespace, "usage": {"readUnits": 5}}

    def delete(self, body: dict[str, Any]) -> dict[str, Any]:
        namespace = body.get("namespace") or ""
        with self.lock:
            space = self.namespaces.get(namespace, {})
            if body.get("deleteAll"):
                space.clear()
            elif body.get("ids") is not None:
                for i in body["ids"]:
                    space.pop(i, None)
            elif body.get("filter") is not None:
                for i in [i for i, record in space.items() if mql_matches(body["filter"], record["metadata"])]:
                    del space[i]
            else:
                raise ApiError(400, "INVALID_ARGUMENT", "give ids, deleteAll or filter")
        return {}

    def stats(self) -> dict[str, Any]:
        with self.lock:
            namespaces = {name: {"vectorCount": len(space)} for name, space in self.namespaces.items() if space}
        return {
            "namespaces": namespaces,
            "dimension": self.dimension,
            "indexFullness": 0.0,
            "totalVectorCount": sum(item["vectorCount"] for item in namespaces.values()),
            "metric": self.metric,
            "vectorType": "dense",
        }

    def list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        namespace = (query.get("namespace") or [""])[0]
        limit = int((query.get("limit") or ["100"])[0])
        if not 1 <= limit <= 100:
            raise ApiError(400, "INVALID_ARGUMENT", "limit must be from 1 to 100")
        prefix = (query.get("prefix") or [""])[0]
        token = (query.get("paginationToken") or [None])[0]
        after = base64.urlsafe_b64decode(token.encode()).decode() if token else None
        with self.lock:
            ids = sorted(i for i in self.namespaces.get(namespace, {}) if i.startswith(prefix))
        if after is not None:
            ids = [i for i in ids if i > after]
        page = ids[:limit]
        response: dict[str, Any] = {
            "vectors": [{"id": i} for i in page],
            "namespace": namespace,
            "usage": {"readUnits": 1},
        }
        if len(ids) > limit:
            response["pagination"] = {"next": base64.urlsafe_b64encode(page[-1].encode()).decode()}
        return response


class PineconeStandIn:
    """Pinecone's control plane and one data-plane server per index, on loopback; ``url`` is the control plane."""

    def __init__(self, api_key: str = "pc-standin-key") -> None:
        self.api_key = api_key
        self.indexes: dict[str, _Index] = {}
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, for the tests
        self._control = self._serve(self._control_plane)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._control.server_address[1]}"

    def stop(self) -> None:
        with self.lock:
            for index in self.indexes.values():
                if index.server is not None:
                    index.server.shutdown()
                    index.server.server_close()
        self._control.shutdown()
        self._control.server_close()

    def _serve(self, route: Callable[[str, str, dict[str, list[str]], Any], tuple[int, Any]]) -> ThreadingHTTPServer:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body leave in two writes: without this, Nagle and the client's delayed ACK
                # hold every response for 40 ms.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                stand_in.requests.append((method, parts.path))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    if self.headers.get("Api-Key") != stand_in.api_key:
                        raise ApiError(401, "UNAUTHENTICATED", "Invalid API Key")
                    if len(raw) > MAX_REQUEST_BYTES:
                        raise ApiError(
                            413, "OUT_OF_RANGE", f"Request size exceeds the limit of {MAX_REQUEST_BYTES} bytes"
                        )
                    try:
                        body = json.loads(raw) if raw else None
                    except ValueError as error:
                        raise ApiError(400, "INVALID_ARGUMENT", f"malformed JSON: {error}") from error
                    status, payload = route(method, parts.path, parse_qs(parts.query), body)
                except ApiError as error:
                    status = error.status
                    payload = {"error": {"code": error.code, "message": error.message}, "status": error.status}
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
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

            def do_PATCH(self) -> None:
                self._handle("PATCH")

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return server

    # -- control plane ------------------------------------------------------------------------------------------------

    def _control_plane(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if path == "/indexes" and method == "GET":
            with self.lock:
                return 200, {"indexes": [index.model() for index in self.indexes.values()]}
        if path == "/indexes" and method == "POST":
            return 201, self._create(body)
        match = re.fullmatch(r"/indexes/([^/]+)", path)
        if match:
            name = match.group(1)
            with self.lock:
                index = self.indexes.get(name)
                if index is None:
                    raise ApiError(404, "NOT_FOUND", f"Resource {name} not found")
                if method == "GET":
                    return 200, index.model()
                if method == "DELETE":
                    del self.indexes[name]
                    assert index.server is not None
                    threading.Thread(target=index.server.shutdown, daemon=True).start()
                    return 202, None
        raise ApiError(404, "NOT_FOUND", f"no route {method} {path}")

    def _create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_ARGUMENT", "body must be an object")
        name = body.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ApiError(
                400,
                "INVALID_ARGUMENT",
                "Name must consist of lower case alphanumeric characters or '-', and be at most 45 characters",
            )
        fields = ((body.get("schema") or {}).get("fields") or {}).values()
        dense = [field for field in fields if field.get("type") == "dense_vector"]
        if len(dense) != 1:
            raise ApiError(400, "INVALID_ARGUMENT", "this stand-in models indexes of one dense_vector field")
        dimension, metric = dense[0].get("dimension"), dense[0].get("metric", "cosine")
        if not isinstance(dimension, int) or not 1 <= dimension <= 20000 or metric not in _METRICS:
            raise ApiError(
                400, "INVALID_ARGUMENT", "dimension must be 1 to 20000 and metric one of " + ", ".join(_METRICS)
            )
        tags = body.get("tags")
        for key, value in (tags or {}).items():
            if not _TAG_KEY.match(key) or not isinstance(value, str) or not _TAG_VALUE.match(value):
                raise ApiError(400, "INVALID_ARGUMENT", f"Invalid tag {key!r}")
        deployment = body.get("deployment") or {}
        with self.lock:
            if name in self.indexes:
                raise ApiError(409, "ALREADY_EXISTS", f"Resource {name} already exists")
            index = _Index(
                name, dimension, metric, tags, deployment.get("cloud", "aws"), deployment.get("region", "us-east-1")
            )
            index.server = self._serve(
                lambda method, path, query, payload: self._data_plane(index, method, path, query, payload)
            )
            self.indexes[name] = index
            return index.model()

    def _data_plane(
        self, index: _Index, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        with self.lock:
            if self.indexes.get(index.name) is not index:
                raise ApiError(404, "NOT_FOUND", f"Index {index.name} not found")
        routes: dict[tuple[str, str], Callable[[], Any]] = {
            ("POST", "/vectors/upsert"): lambda: index.upsert(body or {}),
            ("GET", "/vectors/fetch"): lambda: index.fetch(query),
            ("POST", "/query"): lambda: index.query(body or {}),
            ("POST", "/vectors/delete"): lambda: index.delete(body or {}),
            ("POST", "/describe_index_stats"): index.stats,
            ("GET", "/describe_index_stats"): index.stats,
            ("GET", "/vectors/list"): lambda: index.list(query),
        }
        route = routes.get((method, path))
        if route is None:
            raise ApiError(404, "NOT_FOUND", f"no route {method} {path}")
        return 200, route()
