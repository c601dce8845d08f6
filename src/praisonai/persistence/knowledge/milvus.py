"""Milvus knowledge store: pymilvus's ``MilvusClient`` on milvus-lite (embedded) or a Milvus server.

Engine: Milvus. Drivers: ``pymilvus`` and, for local files, ``milvus-lite`` (extra ``milvus``;
pymilvus 3 no longer depends on milvus-lite, so the extra installs both).
URL forms: a local path (milvus-lite; ``.db`` by convention), ``milvus:///relative.db``,
``milvus:////absolute.db``; servers ``http[s]://host:19530`` with ``token``
(``user:password`` or an API key; ``milvus://user:password@host:19530/db_name``).
Test tiers: embedded (milvus-lite 3 on a local file) and server (a Milvus 2.3 standalone
server from the PyPI package ``milvus``, on loopback); both run the knowledge contract, and
the async contract on ``async_milvus``.

Each store opens its own ``MilvusClient``; no process-global connection alias
(pymilvus's old ``connections.connect``) is used.

``MilvusKnowledgeStore`` and ``AsyncMilvusKnowledgeStore`` (``async_milvus``) run one copy of the
engine steps (``_MilvusSteps``, sans-IO: :mod:`.._sansio`) on ``MilvusClient`` and, against a
server, on ``AsyncMilvusClient`` (one per event loop). On milvus-lite the async store runs each
step's calls on the sync client in a worker thread: milvus-lite does not implement
``AllocTimestamp``, which the async client's ``create_index`` waits on.

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

import asyncio
import importlib
import math
import os
import re
import time
from collections.abc import Iterator
from typing import Any, ClassVar, TypeVar

from .._sansio import Call, Operation, call_on, drive, throw_in_everything
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
from ._layers.async_store_base import AsyncEmbeddedOrServerStore
from ._layers.checks import partly_stored
from ._layers.contract import EngineStepsPrimitives
from ._layers.records import document_from_record
from ._layers.store_base import CollectionSettings, KnowledgeStoreBase, raised_by
from .base import Distance, KnowledgeDocument
from .config import MilvusKnowledgeConfig
from .filters import FilterNode

__all__ = ["AsyncMilvusKnowledgeStore", "MilvusKnowledgeStore"]

R = TypeVar("R")

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


def _client_options(config: MilvusKnowledgeConfig) -> dict[str, Any]:
    """The keyword arguments of ``MilvusClient`` / ``AsyncMilvusClient`` (a local file's directory made)."""
    uri = config.uri
    if config.is_local:
        uri = os.path.abspath(os.path.expanduser(uri))
        os.makedirs(os.path.dirname(uri), exist_ok=True)
    token = config.token.get_secret_value() if config.token is not None else ""
    return {"uri": uri, "token": token, "db_name": config.db_name, "timeout": config.timeout}


class _MilvusSteps(EngineStepsPrimitives):
    """Milvus's engine primitives as steps of client calls (:mod:`.._sansio`), and the mapping of
    documents and filters: one copy for the sync store (``MilvusClient``) and the async one
    (``AsyncMilvusClient``, whose methods have the same names and arguments). The load poll's pauses
    are calls too, on ``_clock`` (``time`` or ``asyncio``: both have ``sleep(seconds)``)."""

    config: MilvusKnowledgeConfig
    _pymilvus: Any
    _clock: Any
    _loaded: set[str]  # native names of collections this store has loaded
    _unflushed: dict[str, int]  # milvus-lite: rows this store wrote per native name since a flush
    exact_filter_numbers: ClassVar[int | None] = 2**53  # numbers are indexed as 64-bit floats
    max_search_results: ClassVar[int | None] = 16384

    def _find_steps(self, name: str) -> Operation[Call, CollectionSettings | None]:
        native = _native_name(name)
        if not (yield Call("has_collection", (native,))):
            return None
        settings = yield from self._settings_steps(native)
        if settings is not None and native not in self._loaded:
            # After milvus-lite (or a server) restarts, collections are "released": search, get and
            # query refuse them until loaded. Loading a loaded collection is a no-op; once per store.
            yield Call("load_collection", (native,))
            self._loaded.add(native)
        return settings

    def _settings_steps(self, native: str) -> Operation[Call, CollectionSettings | None]:
        """The settings of an existing collection; None if it is not one of ours."""
        properties = (yield Call("describe_collection", (native,))).get("properties") or {}
        stored = properties.get(_PROPERTY)
        return None if stored is None else CollectionSettings.from_json(stored)

    def _create_steps(
        self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None
    ) -> Operation[Call, None]:
        types, client = self._pymilvus.DataType, self._pymilvus.MilvusClient
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", types.VARCHAR, is_primary=True, max_length=1024)
        schema.add_field("vector", types.FLOAT_VECTOR, dim=dimension)
        schema.add_field("content", types.VARCHAR, max_length=_MAX_TEXT)
        schema.add_field("metadata", types.VARCHAR, max_length=_MAX_TEXT)
        schema.add_field("content_hash", types.VARCHAR, max_length=256)
        schema.add_field("created_at", types.DOUBLE)
        schema.add_field("idx", types.JSON)
        index = client.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type=_METRIC[distance])
        native = _native_name(name)
        yield Call(
            "create_collection",
            (native,),
            {
                "schema": schema,
                "consistency_level": "Strong",
                "properties": {_PROPERTY: CollectionSettings(dimension, distance, metadata).to_json()},
            },
        )
        # The three steps of pymilvus's create_collection(index_params=...), without its fixed waits: a new
        # collection has no segments, so its index is complete once created (pymilvus sleeps 500 ms before
        # asking), and the load is polled every 20 ms instead of 200.
        try:
            yield Call("create_index", (native, index), {"sync": False})
            yield Call("load_collection", (native,), {"_async": True})
            deadline = time.monotonic() + self.config.timeout
            while (yield Call("get_load_state", (native,)))["state"].name != "Loaded":
                if time.monotonic() > deadline:
                    raise EngineError(f"the collection was not loaded within {self.config.timeout:g} s")
                yield Call("sleep", (_LOAD_POLL_SECONDS,), on=self._clock)
        except GeneratorExit:
            raise
        except BaseException:
            # Without its index (or never loaded) the collection would refuse every later call, the
            # lookup of delete_collection included: a failed or cancelled create takes it back.
            yield Call("drop_collection", (native,))
            raise
        self._loaded.add(native)

    def _drop_steps(self, name: str, target: CollectionSettings) -> Operation[Call, None]:
        native = _native_name(name)
        yield Call("drop_collection", (native,))
        self._loaded.discard(native)
        self._unflushed.pop(native, None)

    def _names_steps(self) -> Operation[Call, list[str]]:
        # Listing reads each collection's description, and loads none of them into memory.
        names = []
        for native in (yield Call("list_collections")):
            name = _portable_name(native)
            if _is_portable(name) and _native_name(name) == native and (yield from self._described_steps(native)):
                names.append(name)
        return names

    def _described_steps(self, native: str) -> Operation[Call, bool]:
        """Whether ``native`` is one of ours; False if another client dropped it since it was listed."""
        try:
            return (yield from self._settings_steps(native)) is not None
        except Exception:
            if (yield Call("has_collection", (native,))):
                raise
            return False

    def _taken_steps(self, name: str, target: CollectionSettings, ids: list[str]) -> Operation[Call, list[str]]:
        native = _native_name(name)
        taken: list[str] = []
        for start in range(0, len(ids), _WRITE):
            rows = yield Call(
                "query", (native,), {"filter": _ids_expression(ids[start : start + _WRITE]), "output_fields": ["id"]}
            )
            taken += [row["id"] for row in rows]
        return taken

    def _put_steps(
        self, name: str, target: CollectionSettings, documents: list[KnowledgeDocument], *, overwrite: bool
    ) -> Operation[Call, None]:
        rows = [self._row(document) for document in documents]
        native = _native_name(name)
        write = "upsert" if overwrite else "insert"
        # In parts of _WRITE rows: one gRPC request must stay under the server's message size limit
        # and end within the client's timeout.
        written: list[str] = []
        try:
            for start in range(0, len(rows), _WRITE):
                part = rows[start : start + _WRITE]
                written += [row["id"] for row in part]  # before the request: its outcome is unknown if it fails
                yield Call(write, (native, part))
        except Exception as error:
            if not overwrite and len(rows) > _WRITE:
                # An insert is all or nothing: take back the parts already written (they were new).
                try:
                    for start in range(0, len(written), _WRITE):
                        yield Call("delete", (native,), {"filter": _ids_expression(written[start : start + _WRITE])})
                except Exception as cleanup:
                    if len(written) > _WRITE:  # parts before the last were stored for sure
                        raise partly_stored(name, len(written), error, cleanup) from error
            raise
        finally:
            if self.config.is_local:  # a server seals its segments itself
                self._unflushed[native] = self._unflushed.get(native, 0) + len(written)

    def _search_steps(
        self, name: str, target: CollectionSettings, query: list[float], limit: int, node: FilterNode | None
    ) -> Operation[Call, list[KnowledgeDocument]]:
        expression = self._expression(node)
        if expression is nodes.NEVER:
            return []
        native = _native_name(name)
        if self._unflushed.get(native, 0) >= _FLUSH_ROWS:
            yield Call("flush", (native,))
            del self._unflushed[native]
        found = yield Call(
            "search",
            (native,),
            {
                "data": [query],
                "limit": limit,
                "filter": expression or "",
                "output_fields": _OUTPUT,
                "search_params": {"metric_type": _METRIC[target.distance]},
            },
        )
        results = []
        for hit in found[0]:
            raw = float(hit["distance"])
            document = self._document({**hit["entity"], "id": hit["id"]})
            document.score = 1.0 / (1.0 + math.sqrt(max(raw, 0.0))) if target.distance == "euclidean" else raw
            results.append(document)
        return results

    def _fetch_steps(
        self, name: str, target: CollectionSettings, ids: list[str]
    ) -> Operation[Call, dict[str, KnowledgeDocument]]:
        rows = yield Call("query", (_native_name(name),), {"filter": _ids_expression(ids), "output_fields": _OUTPUT})
        return {row["id"]: self._document(row) for row in rows}

    def _remove_steps(
        self, name: str, target: CollectionSettings, ids: list[str] | None, node: FilterNode | None
    ) -> Operation[Call, int]:
        native = _native_name(name)
        if ids is not None:
            rows = yield Call("query", (native,), {"filter": _ids_expression(ids), "output_fields": ["id", "metadata"]})
            if node is not None:
                lowered = lower(node, chunk_limit=_CHUNKS)
                rows = [row for row in rows if evaluate(lowered, _index(load_json(row["metadata"])))]
            doomed = [row["id"] for row in rows]
            if doomed:
                yield Call("delete", (native,), {"filter": _ids_expression(doomed)})
            return len(doomed)
        expression = self._expression(node)
        if expression is nodes.NEVER:
            return 0
        deleted = 0
        while True:
            rows = yield Call("query", (native,), {"filter": expression or "", "output_fields": ["id"], "limit": _PAGE})
            if not rows:
                return deleted
            yield Call("delete", (native,), {"filter": _ids_expression([row["id"] for row in rows])})
            deleted += len(rows)

    def _count_steps(self, name: str, target: CollectionSettings) -> Operation[Call, int]:
        rows = yield Call("query", (_native_name(name),), {"filter": "", "output_fields": ["count(*)"]})
        return int(rows[0]["count(*)"])

    def _translate_error(self, error: Exception) -> Exception | None:
        if not self.config.is_local and raised_by(error, _UNREACHABLE, _UNREACHABLE_TEXTS):
            return BackendUnavailableError(f"cannot reach the Milvus server: {type(error).__name__}")
        return None

    # -- helpers ---------------------------------------------------------------

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

    def _document(self, row: dict[str, Any]) -> KnowledgeDocument:
        # Milvus has no null VARCHAR here: an empty content_hash stands for None.
        return document_from_record({**row, "content_hash": row["content_hash"] or None}, "vector")

    def _expression(self, node: FilterNode | None) -> Any:
        return render(node, _render, chunk_limit=_CHUNKS)


class MilvusKnowledgeStore(_MilvusSteps, KnowledgeStoreBase[CollectionSettings, MilvusKnowledgeConfig]):
    """A KnowledgeStore on Milvus (milvus-lite or a server)."""

    backend = "milvus"

    def __init__(self, config: MilvusKnowledgeConfig) -> None:
        super().__init__(config)
        self._pymilvus = self._import_driver("pymilvus")
        self._clock = time
        self._loaded = set()
        self._unflushed = {}
        if config.is_local:
            self._import_driver("milvus_lite")
        with self._translating:
            self._client: Any = self._pymilvus.MilvusClient(**_client_options(config))

    # -- engine primitives (called with the lock held): the steps of _MilvusSteps ------

    def _engine(self, steps: Operation[Call, R]) -> R:
        return drive(steps, call_on(self._client), throw_in_everything)

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


class _WithoutWaits:
    """An ``AsyncMilvusClient`` whose ``create_index`` and ``load_collection`` send their request and
    return, as the sync client's do with ``sync=False`` / ``_async=True`` (the async client always
    waits: for an index, 500 ms and ``AllocTimestamp`` first; a load, polled every 200 ms). The steps
    poll the load themselves (:meth:`_MilvusSteps._create_steps`)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._prepare = importlib.import_module("pymilvus.client.prepare").Prepare
        self._check_status = importlib.import_module("pymilvus.client.utils").check_status

    def __getattr__(self, method: str) -> Any:
        return getattr(self.client, method)

    async def create_index(self, native: str, index_params: Any, **options: Any) -> None:
        handler = await self.client._get_connection()
        for index in index_params:
            request = self._prepare.create_index_request(
                native, index.field_name, index.get_index_configs(), index_name=index.index_name
            )
            self._check_status(await handler._async_stub.CreateIndex(request, timeout=self.client._timeout))

    async def load_collection(self, native: str, **options: Any) -> None:
        if not options.pop("_async", False):
            await self.client.load_collection(native, **options)
            return
        handler = await self.client._get_connection()
        request = self._prepare.load_collection(native)
        self._check_status(await handler._async_stub.LoadCollection(request, timeout=self.client._timeout))


class AsyncMilvusKnowledgeStore(_MilvusSteps, AsyncEmbeddedOrServerStore[CollectionSettings, MilvusKnowledgeConfig]):
    """An AsyncKnowledgeStore on Milvus: the sync store's steps, awaited on pymilvus's ``AsyncMilvusClient``.

    Against a server, the client opens on the first call, one per event loop (its gRPC channel belongs
    to the loop that opened it; the client of a loop this store has left is dropped). On milvus-lite
    (a local file) each step runs on the sync ``MilvusClient`` in a worker thread, one at a time (a
    cancelled step finishes in its thread first): milvus-lite does not implement ``AllocTimestamp``,
    on which the async client's index creation waits.
    """

    backend = "async_milvus"

    def __init__(self, config: MilvusKnowledgeConfig) -> None:
        super().__init__(config)
        self._pymilvus = self._import_driver("pymilvus")
        self._loaded = set()
        self._unflushed = {}
        if config.is_local:
            self._import_driver("milvus_lite")
            self._clock = time
            with self._translating:
                self._client = self._pymilvus.MilvusClient(**_client_options(config))
        else:
            self._clock = asyncio

    @property
    def _embedded(self) -> bool:
        return self.config.is_local

    async def _server_client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            # dedicated: pymilvus shares a connection per loop id, which a later loop can reuse.
            options = _client_options(self.config)
            self._client = _WithoutWaits(self._pymilvus.AsyncMilvusClient(**options, dedicated=True))
            self._client_loop = loop
        return self._client

    async def _close_server_client(self, client: Any) -> None:
        await client.close()


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
