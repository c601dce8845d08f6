"""Milvus knowledge store: pymilvus's ``MilvusClient`` on milvus-lite (embedded) or a Milvus server.

Engine: Milvus. Drivers: ``pymilvus`` and, for local files, ``milvus-lite`` (extra ``milvus``;
pymilvus 3 no longer depends on milvus-lite, so the extra installs both).
URL forms: a local path (milvus-lite; ``.db`` by convention), ``milvus:///relative.db``,
``milvus:////absolute.db``; servers ``http[s]://host:19530`` with ``token``
(``user:password`` or an API key; ``milvus://user:password@host:19530/db_name``).
Test tiers: embedded (milvus-lite 3 on a local file) and server (a Milvus 2.3 standalone
server from the PyPI package ``milvus``, on loopback); both run the knowledge contract.

Each store opens its own ``MilvusClient``; no process-global connection alias
(pymilvus's old ``connections.connect``) is used.

Layout: one collection per collection, consistency level ``Strong``, fields ``id``
(VARCHAR primary key), ``vector`` (FLOAT_VECTOR with a FLAT index, so search is
exact), ``content`` and ``metadata`` (VARCHAR, at most 65535 UTF-8 bytes each; the
metadata is the exact JSON, which is what is returned), ``content_hash``,
``created_at``, and ``idx``, a JSON field with the typed index of
:mod:`._filters.native` that filters run on. The collection's dimension, distance
and metadata live in a collection property. Milvus collection names allow only
letters, digits and ``_``, so a name with ``-`` is stored as ``h<hex of the name>``
padded with ``_`` to 64+ characters (longer than any portable name, so this never
collides); only collections carrying the property are listed.

Filters: milvus-lite has no expression templates, so the expression is built
from a closed alphabet instead of bound parameters: field names appear as hex
keys (``idx["s_6b696e64"]``), strings are compared through their SHA-256 digest,
string ordering through integer chunks, numbers are Python's own ``repr`` of an
int or a finite float, and booleans ``true``/``false``. Nothing the caller passes is
ever spliced into the expression. Every comparison is guarded with ``exists``
(Milvus comparisons on a missing JSON key are NULL), so ``not`` is two-valued.
``delete`` with both ids and a filter fetches those ids and applies the filter
to their index with the reference evaluator (pymilvus cannot combine the two).

Search: milvus-lite searches rows it has not flushed to a sealed segment about 20 times
slower than flushed ones, so a search flushes the collection first once this store has
written 1000 rows or more to it since the last flush (a server seals segments itself).

Scores: Milvus's COSINE and IP scores are the portable ones; L2 is the squared
distance, returned as ``1 / (1 + sqrt(d))``. Vectors are float32. A search
returns at most 16384 results (Milvus's top-k limit).
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Iterator
from typing import Any

from .._values import dump_json, load_json
from ..errors import BackendUnavailableError, EngineError, InvalidInputError
from ._filters import native as nodes
from ._filters.native import (
    evaluate,
    field_key,
    flat_index,
    index_metadata,
    int64_or_float,
    lower,
    render,
    string_digest,
)
from ._layers.checks import partly_stored
from ._layers.records import document_from_record
from ._layers.store_base import CollectionSettings, KnowledgeStoreBase, raised_by
from .base import Distance, KnowledgeDocument
from .config import MilvusKnowledgeConfig
from .filters import FilterNode

__all__ = ["MilvusKnowledgeStore"]

_PROPERTY = "praisonai.knowledge"
_METRIC = {"cosine": "COSINE", "dot": "IP", "euclidean": "L2"}
_CHUNKS = 32
_MAX_TEXT = 65535
# milvus-lite searches rows not yet flushed ("growing") about 20x slower than flushed ones (some 40 µs
# a row at 384 dimensions against 2); once this many have built up, a search flushes them first.
_FLUSH_ROWS = 1000
_PAGE = 1000
_WRITE = 1000
_LOAD_POLL_SECONDS = 0.02
_NATIVE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UNREACHABLE = frozenset({"MilvusUnavailableException", "ConnectionError"})
_UNREACHABLE_TEXTS = ("UNAVAILABLE", "Fail connecting to server")
_OUTPUT = ["id", "vector", "content", "metadata", "content_hash", "created_at"]


def _native_name(name: str) -> str:
    if _NATIVE_NAME.match(name):
        return name
    encoded = "h" + name.encode().hex()
    return encoded + "_" * max(0, 64 - len(encoded))


def _portable_name(native: str) -> str:
    if len(native) >= 64 and native.startswith("h"):
        try:
            return bytes.fromhex(native.rstrip("_")[1:]).decode()
        except ValueError:
            pass  # not one of ours
    return native


def _ids_expression(ids: list[str]) -> str:
    """``id in [...]`` with the ids as Milvus string literals. pymilvus's own ``ids=`` does not escape
    a backslash (``'a\\b'`` fails as an unknown escape); Milvus reads ``\\\\ \\" \\n \\t \\r``."""
    escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    quoted = ('"' + "".join(escapes.get(character, character) for character in value) + '"' for value in ids)
    return "id in [" + ", ".join(quoted) + "]"


def _literal(value: object) -> str:
    """A Milvus literal from a closed alphabet: digests, kind names, numbers and booleans only."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        assert math.isfinite(value)
        return repr(value)
    assert isinstance(value, str)
    assert re.fullmatch(r"[a-z0-9]*", value), "only digests and kind names"
    return f'"{value}"'


class MilvusKnowledgeStore(KnowledgeStoreBase[CollectionSettings, MilvusKnowledgeConfig]):
    """A KnowledgeStore on Milvus (milvus-lite or a server)."""

    backend = "milvus"
    exact_filter_numbers = 2**53  # numbers are indexed as 64-bit floats
    max_search_results = 16384

    def __init__(self, config: MilvusKnowledgeConfig) -> None:
        super().__init__(config)
        pymilvus = self._import_driver("pymilvus")
        self._types: Any = pymilvus.DataType
        self._loaded: set[str] = set()  # native names of collections this store has loaded
        self._unflushed: dict[str, int] = {}  # milvus-lite: rows this store wrote per native name since a flush
        with self._translating:
            uri = config.uri
            if config.is_local:
                self._import_driver("milvus_lite")
                uri = os.path.abspath(os.path.expanduser(uri))
                os.makedirs(os.path.dirname(uri), exist_ok=True)
            token = config.token.get_secret_value() if config.token is not None else ""
            self._client: Any = pymilvus.MilvusClient(
                uri=uri, token=token, db_name=config.db_name, timeout=config.timeout
            )

    # -- engine primitives (called with the lock held) ---------------------------

    def _find(self, name: str) -> CollectionSettings | None:
        native = _native_name(name)
        if not self._client.has_collection(native):
            return None
        settings = self._settings(native)
        if settings is not None and native not in self._loaded:
            # After milvus-lite (or a server) restarts, collections are "released": search, get and
            # query refuse them until loaded. Loading a loaded collection is a no-op; once per store.
            self._client.load_collection(native)
            self._loaded.add(native)
        return settings

    def _settings(self, native: str) -> CollectionSettings | None:
        """The settings of an existing collection; None if it is not one of ours."""
        properties = self._client.describe_collection(native).get("properties") or {}
        stored = properties.get(_PROPERTY)
        return None if stored is None else CollectionSettings.from_json(stored)

    def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        types = self._types
        schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", types.VARCHAR, is_primary=True, max_length=1024)
        schema.add_field("vector", types.FLOAT_VECTOR, dim=dimension)
        schema.add_field("content", types.VARCHAR, max_length=_MAX_TEXT)
        schema.add_field("metadata", types.VARCHAR, max_length=_MAX_TEXT)
        schema.add_field("content_hash", types.VARCHAR, max_length=256)
        schema.add_field("created_at", types.DOUBLE)
        schema.add_field("idx", types.JSON)
        index = self._client.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type=_METRIC[distance])
        native = _native_name(name)
        self._client.create_collection(
            native,
            schema=schema,
            consistency_level="Strong",
            properties={_PROPERTY: CollectionSettings(dimension, distance, metadata).to_json()},
        )
        # The three steps of pymilvus's create_collection(index_params=...), without its fixed waits: a new
        # collection has no segments, so its index is complete once created (pymilvus sleeps 500 ms before
        # asking), and the load is polled every 20 ms instead of 200.
        self._client.create_index(native, index, sync=False)
        self._client.load_collection(native, _async=True)
        self._wait_until_loaded(native)
        self._loaded.add(native)

    def _wait_until_loaded(self, native: str) -> None:
        deadline = time.monotonic() + self.config.timeout
        while self._client.get_load_state(native)["state"].name != "Loaded":
            if time.monotonic() > deadline:
                raise EngineError(f"the collection was not loaded within {self.config.timeout:g} s")
            time.sleep(_LOAD_POLL_SECONDS)

    def _drop(self, name: str, target: CollectionSettings) -> None:
        self._client.drop_collection(_native_name(name))
        self._loaded.discard(_native_name(name))
        self._unflushed.pop(_native_name(name), None)

    def _names(self) -> list[str]:
        # Listing reads each collection's description, and loads none of them into memory.
        names = []
        for native in self._client.list_collections():
            name = _portable_name(native)
            if _is_portable(name) and _native_name(name) == native and self._described(native):
                names.append(name)
        return names

    def _described(self, native: str) -> bool:
        """Whether ``native`` is one of ours; False if another client dropped it since it was listed."""
        try:
            return self._settings(native) is not None
        except Exception:
            if self._client.has_collection(native):
                raise
            return False

    def _taken(self, name: str, target: CollectionSettings, ids: list[str]) -> list[str]:
        native = _native_name(name)
        return [
            row["id"]
            for start in range(0, len(ids), _WRITE)
            for row in self._client.query(
                native, filter=_ids_expression(ids[start : start + _WRITE]), output_fields=["id"]
            )
        ]

    def _put(
        self, name: str, target: CollectionSettings, documents: list[KnowledgeDocument], *, overwrite: bool
    ) -> None:
        rows = [self._row(document) for document in documents]
        native = _native_name(name)
        write = self._client.upsert if overwrite else self._client.insert
        # In parts of _WRITE rows: one gRPC request must stay under the server's message size limit
        # and end within the client's timeout.
        written: list[str] = []
        try:
            for start in range(0, len(rows), _WRITE):
                part = rows[start : start + _WRITE]
                written += [row["id"] for row in part]  # before the request: its outcome is unknown if it fails
                write(native, part)
        except Exception as error:
            if not overwrite and len(rows) > _WRITE:
                # An insert is all or nothing: take back the parts already written (they were new).
                try:
                    for start in range(0, len(written), _WRITE):
                        self._client.delete(native, filter=_ids_expression(written[start : start + _WRITE]))
                except Exception as cleanup:
                    if len(written) > _WRITE:  # parts before the last were stored for sure
                        raise partly_stored(name, len(written), error, cleanup) from error
            raise
        finally:
            if self.config.is_local:  # a server seals its segments itself
                self._unflushed[native] = self._unflushed.get(native, 0) + len(written)

    def _row(self, document: KnowledgeDocument) -> dict[str, Any]:
        metadata = dump_json(document.metadata, what="metadata")
        for what, text in (("content", document.content), ("metadata", metadata)):
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > _MAX_TEXT:
                raise InvalidInputError(
                    f"document {document.id!r}: {what} is {size} UTF-8 bytes; Milvus stores at most {_MAX_TEXT}"
                )
        index = flat_index(document.metadata, chunk_limit=_CHUNKS, number=int64_or_float)
        return {
            "id": document.id,
            "vector": document.embedding,
            "content": document.content,
            "metadata": metadata,
            "content_hash": document.content_hash or "",
            "created_at": document.created_at,
            "idx": index,
        }

    def _search(
        self, name: str, target: CollectionSettings, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        expression = self._expression(node)
        if expression is nodes.NEVER:
            return []
        native = _native_name(name)
        if self._unflushed.get(native, 0) >= _FLUSH_ROWS:
            self._client.flush(native)
            del self._unflushed[native]
        found = self._client.search(
            native,
            data=[query],
            limit=limit,
            filter=expression or "",
            output_fields=_OUTPUT,
            search_params={"metric_type": _METRIC[target.distance]},
        )
        results = []
        for hit in found[0]:
            raw = float(hit["distance"])
            document = self._document({**hit["entity"], "id": hit["id"]})
            document.score = 1.0 / (1.0 + math.sqrt(max(raw, 0.0))) if target.distance == "euclidean" else raw
            results.append(document)
        return results

    def _fetch(self, name: str, target: CollectionSettings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        rows = self._client.query(_native_name(name), filter=_ids_expression(ids), output_fields=_OUTPUT)
        return {row["id"]: self._document(row) for row in rows}

    def _remove(self, name: str, target: CollectionSettings, ids: list[str] | None, node: FilterNode | None) -> int:
        native = _native_name(name)
        if ids is not None:
            rows = self._client.query(native, filter=_ids_expression(ids), output_fields=["id", "metadata"])
            if node is not None:
                lowered = lower(node, chunk_limit=_CHUNKS)
                rows = [row for row in rows if evaluate(lowered, _index(load_json(row["metadata"])))]
            doomed = [row["id"] for row in rows]
            if doomed:
                self._client.delete(native, filter=_ids_expression(doomed))
            return len(doomed)
        expression = self._expression(node)
        if expression is nodes.NEVER:
            return 0
        deleted = 0
        while True:
            rows = self._client.query(native, filter=expression or "", output_fields=["id"], limit=_PAGE)
            if not rows:
                return deleted
            self._client.delete(native, filter=_ids_expression([row["id"] for row in rows]))
            deleted += len(rows)

    def _count(self, name: str, target: CollectionSettings) -> int:
        rows = self._client.query(_native_name(name), filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def _scan(self, name: str, target: CollectionSettings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        iterator = self._client.query_iterator(
            _native_name(name), batch_size=batch_size, filter="", output_fields=_OUTPUT
        )
        try:
            while True:
                rows = iterator.next()
                if not rows:
                    return
                yield [self._document(row) for row in rows]
        finally:
            iterator.close()

    def _release(self) -> None:
        self._client.close()

    def _translate_error(self, error: Exception) -> Exception | None:
        if not self.config.is_local and raised_by(error, _UNREACHABLE, _UNREACHABLE_TEXTS):
            return BackendUnavailableError(f"cannot reach the Milvus server: {type(error).__name__}")
        return None

    # -- helpers ---------------------------------------------------------------

    def _document(self, row: dict[str, Any]) -> KnowledgeDocument:
        # Milvus has no null VARCHAR here: an empty content_hash stands for None.
        return document_from_record({**row, "content_hash": row["content_hash"] or None}, "vector")

    def _expression(self, node: FilterNode | None) -> Any:
        return render(node, _render, chunk_limit=_CHUNKS)


def _index(metadata: Any) -> dict[str, Any]:
    return {field.name: field for field in index_metadata(metadata, chunk_limit=_CHUNKS)}


def _is_portable(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,62}", name) is not None


def _guarded(key: str, operator: str, value: object) -> str:
    path = f'idx["{key}"]'
    # Each side parenthesised: a Milvus server refuses ``exists a and a >= 1`` ("'and' can only be used
    # between boolean expressions"), which milvus-lite accepts.
    return f"((exists {path}) and ({path} {operator} {_literal(value)}))"


def _render(node: nodes.Lowered) -> str:
    if isinstance(node, (nodes.All, nodes.Any)):
        joiner = " and " if isinstance(node, nodes.All) else " or "
        return "(" + joiner.join(_render(part) for part in node.parts) + ")"
    key = field_key(node.field)
    if isinstance(node, (nodes.Eq, nodes.Ne)):
        if node.kind == "null":
            matched = _guarded(f"t_{key}", "==", "null")
        elif node.kind == "string":
            assert isinstance(node.value, str)
            matched = _guarded(f"s_{key}", "==", string_digest(node.value))
        elif node.kind == "number":
            assert isinstance(node.value, (int, float))
            matched = _guarded(f"n_{key}", "==", int64_or_float(node.value))
        else:
            matched = _guarded(f"b_{key}", "==", node.value)
        return matched if isinstance(node, nodes.Eq) else f"(not {matched})"
    if isinstance(node, nodes.IsKind):
        return _guarded(f"t_{key}", "==", node.kind)
    operators = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=="}
    if isinstance(node, nodes.Range):
        return _guarded(f"n_{key}", operators[node.op], int64_or_float(node.value))
    if isinstance(node, nodes.Chunk):
        return _guarded(f"c_{key}_{node.index}", operators[node.op], node.value)
    assert not isinstance(node, nodes.StrRange), "lowered with chunks"
    raise AssertionError(f"unexpected filter node {node!r}")
