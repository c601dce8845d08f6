"""Upstash Vector knowledge store: one namespace of one index per collection, through upstash-vector.

Engine: Upstash Vector (REST). Driver: ``upstash-vector`` (extra ``upstash-vector``).
URL forms: the index's REST URL ``https://<name>-<region>-vector.upstash.io`` with ``token``,
or ``upstash-vector://:TOKEN@host``.
Test tier: fake (an HTTP stand-in). The tests run the real upstash-vector client against
tests/support/upstash_vector_standin.py, which serves the REST endpoints the client calls
(``/upsert``, ``/query``, ``/fetch``, ``/delete``, ``/range``, ``/info`` with a namespace
suffix, bearer token) and evaluates the documented SQL-like filter syntax with exact
brute-force search. Upstash's own ANN, its filter parser, eventual consistency and
quotas are not exercised.

An Upstash Vector index has one dimension and one similarity function, chosen when it
is created in the console: every collection must use them (``create_collection``
raises InvalidInputError otherwise). Collections are namespaces ``<prefix><name>``; the
catalogue (each collection's settings) is the namespace ``<prefix>.catalogue``.

Filters are strings in Upstash's SQL-like language, built only from tokens of a fixed
alphabet (:mod:`._layers.records`: field names in hex, strings as SHA-256 digests, numbers as
plain decimal literals), so no caller text is ever spliced in: equality is
``ix CONTAINS '<token>'`` / ``ix NOT CONTAINS '<token>'``, ranges compare ``n.<key>`` and the
string chunks ``c.<key>_<j>``. Delete by filter is the API's own ``delete(filter=...)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .._values import dump_json, load_json
from ..errors import InvalidInputError
from ._filters.native import All, Chunk, Eq, IsKind, Lowered, Ne, Range, string_digest
from ._filters.native import Any as AnyOf
from ._filters.tokens import decimal_literal
from ._layers.hosted_store import HostedVectorStore, Settings
from ._layers.records import document_from_record, kind_token, number_key, value_token
from .base import Distance, KnowledgeDocument
from .config import UpstashVectorKnowledgeConfig

__all__ = ["UpstashVectorKnowledgeStore", "render_filter"]

_FUNCTIONS: dict[str, Distance] = {"COSINE": "cosine", "DOT_PRODUCT": "dot", "EUCLIDEAN": "euclidean"}
_SAFE = re.compile(r"^[A-Za-z0-9:=._+-]+$")
_BATCH = 100
_TOP_K = 1000


def _literal(token: str) -> str:
    assert _SAFE.match(token), token  # tokens come from a fixed alphabet: never caller text
    return f"'{token}'"


def id_token(document_id: str) -> str:
    return f"id:{string_digest(document_id)}"


def render_filter(node: Lowered) -> str:
    """A lowered filter in Upstash Vector's filter syntax."""
    if isinstance(node, All):
        return "(" + " AND ".join(render_filter(part) for part in node.parts) + ")"
    if isinstance(node, AnyOf):
        return "(" + " OR ".join(render_filter(part) for part in node.parts) + ")"
    if isinstance(node, Eq):
        return f"ix CONTAINS {_literal(value_token(node.field, node.kind, node.value))}"
    if isinstance(node, Ne):
        return f"ix NOT CONTAINS {_literal(value_token(node.field, node.kind, node.value))}"
    if isinstance(node, IsKind):
        return f"ix CONTAINS {_literal(kind_token(node.field, node.kind))}"
    ops = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "="}
    if isinstance(node, Range):
        return f"n.{number_key(node.field)} {ops[node.op]} {decimal_literal(node.value)}"
    if isinstance(node, Chunk):
        return f"c.{number_key(node.field)}_{node.index} {ops[node.op]} {node.value}"
    raise AssertionError(f"unexpected filter node {node!r}")


class UpstashVectorKnowledgeStore(HostedVectorStore[UpstashVectorKnowledgeConfig]):
    """A KnowledgeStore on the namespaces of one Upstash Vector index."""

    engine = "Upstash Vector"

    def __init__(self, config: UpstashVectorKnowledgeConfig) -> None:
        super().__init__(config)
        upstash_vector = self._import_driver("upstash_vector")
        with self._translating:
            self._index: Any = upstash_vector.Index(
                url=config.url, token=config.token.get_secret_value(), retries=0, allow_telemetry=False
            )
            self._vector_type: Any = upstash_vector.Vector
            self._shape: tuple[int, Distance] | None = None
            self._catalogue = f"{config.namespace_prefix}.catalogue"

    def _namespace(self, name: str) -> str:
        return f"{self.config.namespace_prefix}{name}"

    def _index_shape(self) -> tuple[int, Distance]:
        if self._shape is None:
            info = self._index.info()
            self._shape = (int(info.dimension), _FUNCTIONS[str(info.similarity_function)])
        return self._shape

    # -- primitives --------------------------------------------------------------------

    def _native_create(self, name: str, settings: Settings) -> bool:
        dimension, distance = self._index_shape()
        if (settings.dimension, settings.distance) != (dimension, distance):
            raise InvalidInputError(
                f"this Upstash Vector index has dimension {dimension} and distance {distance!r}; "
                f"a collection cannot use dimension {settings.dimension} and {settings.distance!r}"
            )
        if self._index.fetch(ids=[name], namespace=self._catalogue)[0] is not None:
            return False
        entry = {"settings": dump_json(settings.metadata)}
        self._index.upsert(
            vectors=[self._vector_type(id=name, vector=[1.0] * dimension, metadata=entry)], namespace=self._catalogue
        )
        return True

    def _native_drop(self, name: str) -> bool:
        if self._namespace(name) in self._index.list_namespaces():
            self._index.delete_namespace(self._namespace(name))
        return bool(self._index.delete(ids=[name], namespace=self._catalogue).deleted)

    def _find(self, name: str) -> Settings | None:
        [entry] = self._index.fetch(ids=[name], include_metadata=True, namespace=self._catalogue)
        if entry is None:
            return None
        dimension, distance = self._index_shape()
        return Settings(dimension, distance, load_json(entry.metadata["settings"]))

    def _names(self) -> list[str]:
        names: list[str] = []
        cursor = ""
        while True:
            page = self._index.range(cursor=cursor, limit=_TOP_K, namespace=self._catalogue)
            names.extend(str(vector.id) for vector in page.vectors)
            cursor = page.next_cursor
            if not cursor:
                return names

    def _taken(self, name: str, settings: Settings, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), _BATCH):
            results = self._index.fetch(ids=ids[start : start + _BATCH], namespace=self._namespace(name))
            found.update(str(result.id) for result in results if result is not None)
        return found

    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        vectors = []
        for record in records:
            metadata = {key: value for key, value in record.items() if key != "embedding"}
            metadata["ix"] = [*record["ix"], id_token(record["id"])]
            vectors.append(self._vector_type(id=record["id"], vector=record["embedding"], metadata=metadata))
        for start in range(0, len(vectors), _BATCH):
            self._index.upsert(vectors=vectors[start : start + _BATCH], namespace=self._namespace(name))

    def _fetch(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        found: dict[str, KnowledgeDocument] = {}
        for start in range(0, len(ids), _BATCH):
            results = self._index.fetch(
                ids=ids[start : start + _BATCH],
                include_vectors=True,
                include_metadata=True,
                namespace=self._namespace(name),
            )
            for result in results:
                if result is not None:
                    found[str(result.id)] = self._document(result)
        return found

    def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        results = self._index.query(
            vector=vector,
            top_k=min(limit, _TOP_K),
            include_vectors=True,
            include_metadata=True,
            filter="" if node is None else render_filter(node),
            namespace=self._namespace(name),
        )
        return [self._document(result) for result in results]

    def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        raise AssertionError("upstash_vector deletes by filter natively")  # pragma: no cover

    def _native_delete_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> int:
        rendered = render_filter(node)
        if ids is not None:
            wanted = " OR ".join(f"ix CONTAINS {_literal(id_token(i))}" for i in ids)
            rendered = f"({rendered} AND ({wanted}))"
        return int(self._index.delete(filter=rendered, namespace=self._namespace(name)).deleted)

    def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None:
        for start in range(0, len(ids), _BATCH):
            self._index.delete(ids=ids[start : start + _BATCH], namespace=self._namespace(name))

    def _count(self, name: str, settings: Settings) -> int:
        summary = self._index.info().namespaces.get(self._namespace(name))
        return 0 if summary is None else int(summary.vector_count) + int(summary.pending_vector_count)

    def _scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        cursor = ""
        while True:
            page = self._index.range(
                cursor=cursor,
                limit=min(batch_size, _TOP_K),
                include_vectors=True,
                include_metadata=True,
                namespace=self._namespace(name),
            )
            yield [self._document(result) for result in page.vectors]
            cursor = page.next_cursor
            if not cursor:
                return

    def _release(self) -> None:
        client = getattr(self._index, "_client", None)
        close = getattr(client, "close", None)
        if callable(close):
            close()

    @staticmethod
    def _document(result: Any) -> KnowledgeDocument:
        metadata = dict(result.metadata)
        metadata["embedding"] = list(result.vector)
        return document_from_record(metadata)
