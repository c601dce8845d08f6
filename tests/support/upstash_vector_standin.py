"""An HTTP stand-in of the Upstash Vector REST API, for the real upstash-vector client.

It serves what the client sends for the calls the ``upstash_vector`` adapter makes
(verified against the client's source): ``POST /upsert[/<ns>]``, ``/query[/<ns>]``,
``/fetch[/<ns>]``, ``/delete[/<ns>]`` (ids or ``filter``), ``/range[/<ns>]``, ``/info``,
``/list-namespaces``, ``/delete-namespace/<ns>``, each with ``Authorization: Bearer
<token>``; replies are ``{"result": ...}`` or ``{"error": "..."}``. One index of a fixed
dimension and similarity function; exact brute-force search with the portable
reference; the documented SQL-like filter syntax for the subset the adapter emits
(``=`` ``!=`` ``<`` ``<=`` ``>`` ``>=`` on dotted keys, ``CONTAINS`` / ``NOT CONTAINS``,
``AND`` / ``OR``, parentheses, single-quoted strings, numbers). Upstash's ANN, its
real filter parser, eventual consistency and quotas are not imitated.
"""

from __future__ import annotations

import copy
import json
import re
import struct
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from praisonai.persistence.knowledge.base import Distance, similarity

__all__ = ["UpstashVectorStandIn", "parse_filter"]

_FUNCTIONS: dict[str, Distance] = {"COSINE": "cosine", "DOT_PRODUCT": "dot", "EUCLIDEAN": "euclidean"}
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'[^']*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|=|<|>|\(|\))|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
_MISSING: Any = object()

Predicate = Callable[[dict[str, Any]], bool]


def _read(metadata: dict[str, Any], path: str) -> Any:
    value: Any = metadata
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def parse_filter(text: str) -> Predicate:
    """Compile a filter string of the subset described above; raise ValueError on anything else."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot parse filter at {text[position : position + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    index = 0

    def peek() -> tuple[str, str] | None:
        return tokens[index] if index < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal index
        token = peek()
        if token is None:
            raise ValueError("unexpected end of filter")
        index += 1
        return token

    def literal() -> Any:
        kind, value = take()
        if kind == "string":
            return value[1:-1]
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "word" and value in ("true", "false"):
            return value == "true"
        raise ValueError(f"expected a literal, got {value!r}")

    def either() -> Predicate:
        parts = [both()]
        while peek() == ("word", "OR"):
            take()
            parts.append(both())
        return parts[0] if len(parts) == 1 else (lambda m: any(p(m) for p in parts))

    def both() -> Predicate:
        parts = [atom()]
        while peek() == ("word", "AND"):
            take()
            parts.append(atom())
        return parts[0] if len(parts) == 1 else (lambda m: all(p(m) for p in parts))

    def atom() -> Predicate:
        if peek() == ("op", "("):
            take()
            inner = either()
            if take() != ("op", ")"):
                raise ValueError("expected )")
            return inner
        kind, key = take()
        if kind != "word":
            raise ValueError(f"expected a key, got {key!r}")
        negated = False
        if peek() == ("word", "NOT"):
            take()
            negated = True
        kind, op = take()
        if op == "CONTAINS":
            value = literal()

            def contains(m: dict[str, Any]) -> bool:
                actual = _read(m, key)
                found = isinstance(actual, list) and value in actual
                return not found if negated else found

            return contains
        if negated or kind != "op":
            raise ValueError(f"operator {op!r} is not imitated")
        value = literal()

        def compare(m: dict[str, Any]) -> bool:
            actual = _read(m, key)
            if actual is _MISSING or isinstance(actual, (dict, list)):
                return False
            numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (actual, value))
            if op in ("=", "!="):
                same = type(actual) is type(value) or numbers
                equal = same and actual == value
                return equal if op == "=" else not equal
            if not numbers:
                return False  # ordering applies to numbers only
            return {"<": actual < value, "<=": actual <= value, ">": actual > value, ">=": actual >= value}[op]

        return compare

    predicate = either()
    if index != len(tokens):
        raise ValueError(f"unparsed filter input {tokens[index:]!r}")
    return predicate


def _f32(values: list[float]) -> list[float]:
    return [struct.unpack("f", struct.pack("f", float(x)))[0] for x in values]


class UpstashVectorStandIn:
    """Serve one index on ``127.0.0.1:<ephemeral port>``: ``url`` and ``token`` are for the client."""

    def __init__(self, dimension: int, function: str = "COSINE", token: str = "stand-in-token") -> None:
        self.dimension = dimension
        self.function = function
        self.token = token
        self.namespaces: dict[str, dict[str, dict[str, Any]]] = {"": {}}
        self.requests: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.headers.get("Authorization") != f"Bearer {standin.token}":
                    self._reply(401, {"error": "Unauthorized: invalid token"})
                    return
                body = json.loads(raw) if raw else None
                try:
                    with standin._lock:
                        result = standin.handle(self.path, body)
                except (ValueError, KeyError) as error:
                    self._reply(400, {"error": f"{type(error).__name__}: {error}"})
                    return
                self._reply(200, {"result": result})

            do_GET = do_POST

            def _reply(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- the API -----------------------------------------------------------------------

    def handle(self, path: str, body: Any) -> Any:
        self.requests.append((path, body))
        route, _, namespace = path.lstrip("/").partition("/")
        if route == "info":
            return {
                "vectorCount": sum(len(space) for space in self.namespaces.values()),
                "pendingVectorCount": 0,
                "indexSize": 0,
                "dimension": self.dimension,
                "similarityFunction": self.function,
                "namespaces": {
                    name: {"vectorCount": len(space), "pendingVectorCount": 0}
                    for name, space in self.namespaces.items()
                },
            }
        if route == "list-namespaces":
            return sorted(self.namespaces)
        if route == "delete-namespace":
            if namespace == "" or namespace not in self.namespaces:
                raise ValueError(f"namespace {namespace!r} does not exist")
            del self.namespaces[namespace]
            return "Success"
        space = self.namespaces.setdefault(namespace, {})
        if route == "upsert":
            for vector in body:
                values = vector["vector"]
                if len(values) != self.dimension:
                    raise ValueError(f"Invalid vector dimension: {len(values)}, expected: {self.dimension}")
                space[vector["id"]] = {
                    "id": vector["id"],
                    "vector": _f32(values),
                    "metadata": copy.deepcopy(vector.get("metadata")),
                }
            return "Success"
        if route == "fetch":
            return [None if i not in space else self._item(space[i], body) for i in body["ids"]]
        if route == "query":
            if not 1 <= body["topK"] <= 1000:
                raise ValueError("topK must be 1 to 1000")
            predicate = parse_filter(body["filter"]) if body.get("filter") else None
            distance = _FUNCTIONS[self.function]
            scored = []
            for position, item in enumerate(space.values()):
                if predicate is not None and not predicate(item["metadata"] or {}):
                    continue
                score = similarity(distance, body["vector"], item["vector"])
                scored.append((-score, position, item, score))
            scored.sort(key=lambda entry: (entry[0], entry[1]))
            results = []
            for _, _, item, score in scored[: body["topK"]]:
                result = self._item(item, body)
                result["score"] = score
                results.append(result)
            return results
        if route == "delete":
            if "filter" in body:
                predicate = parse_filter(body["filter"])
                doomed = [key for key, item in space.items() if predicate(item["metadata"] or {})]
            else:
                doomed = [key for key in body["ids"] if key in space]
            for key in doomed:
                del space[key]
            return {"deleted": len(doomed)}
        if route == "range":
            keys = sorted(space)
            start = int(body["cursor"] or 0)
            page = keys[start : start + body["limit"]]
            following = start + len(page)
            return {
                "nextCursor": str(following) if following < len(keys) else "",
                "vectors": [self._item(space[key], body) for key in page],
            }
        raise ValueError(f"route {path!r} is not imitated")

    @staticmethod
    def _item(item: dict[str, Any], body: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"id": item["id"]}
        if body.get("includeVectors"):
            out["vector"] = list(item["vector"])
        if body.get("includeMetadata"):
            out["metadata"] = copy.deepcopy(item["metadata"])
        return out
