"""Qdrant knowledge store: qdrant-client in local mode (the embedded default) or against a server.

Engine: Qdrant. Driver: ``qdrant-client`` (extra ``qdrant``).
URL forms: a directory or ``:memory:`` (local mode), ``qdrant:///relative/dir``,
``qdrant:////absolute/dir``; servers ``http[s]://host:6333``, ``qdrant://host:6333``
(``qdrants://`` for TLS) with ``api_key``.
Test tier: embedded (qdrant-client's local mode, on a directory and in memory). The
server code path is the same client API over HTTP; no Qdrant server binary is
installable from PyPI or Debian, so it is not exercised by the tests.

Layout: one Qdrant collection per collection, with one unnamed vector of the
collection's distance (``Cosine``, ``Dot``, ``Euclid``) and the portable settings
in the collection's metadata. Point ids must be unsigned integers or UUIDs, so a
document's id maps to ``uuid5(namespace, id)``; the id itself is kept in the
payload and is what every method returns. The payload holds the document
(content, the exact metadata JSON, hash, creation time) plus the typed index of
:mod:`._filters.native` that filters run on: ``t.<key>`` (kind), ``s.<key>``,
``n.<key>``, ``b.<key>`` and the string chunks ``c.<key>_<j>``, where ``<key>`` is
the field name in hex, so every field name is a valid payload path. Cosine
collections also keep the caller's embedding in the payload (Qdrant normalises
cosine vectors on the way in).

Scores: Qdrant's cosine and dot scores are the portable ones; its euclidean
score is the L2 distance ``d``, returned as ``1 / (1 + d)``. ``score_threshold``
is applied to the portable score of the best ``limit`` hits, which is exact.

Local mode allows one client per directory (Qdrant locks it): stores of this
process that open the same directory share one client, closed with the last of
them. Local mode searches exactly (brute force); a Qdrant server uses its HNSW
index. ``insert`` checks and writes under the store's lock; against a server, a
second writer can race between the check and the write (Qdrant has no
insert-if-absent).
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, NamedTuple, TypeVar

from .._sansio import Call, Operation, call_on, call_on_async, drive, drive_async, throw_in_everything
from .._values import dump_json, load_json
from ..errors import BackendUnavailableError
from ._filters import native as nodes
from ._filters.native import (
    field_key,
    index_metadata,
    lower,
)
from ._layers.async_store_base import AsyncKnowledgeStoreBase
from ._layers.checks import collection_exists, collection_not_found, document_exists, partly_stored
from ._layers.contract import EngineStepsPrimitives
from ._layers.store_base import KnowledgeStoreBase, raised_by
from .base import Distance, KnowledgeDocument
from .config import QdrantKnowledgeConfig
from .filters import FilterNode

__all__ = ["AsyncQdrantKnowledgeStore", "QdrantKnowledgeStore"]

R = TypeVar("R")

_ID_NAMESPACE = uuid.UUID("8f4d7c1e-5b1a-4f0e-9a51-2f6b1c6a9d30")
_MARKER = "praisonai_knowledge"
_CHUNKS = 32
_NATIVE = {"cosine": "Cosine", "dot": "Dot", "euclidean": "Euclid"}
_PAGE = 256
_WRITE = 1000
_UNREACHABLE = frozenset({"ConnectError", "ConnectTimeout", "ConnectionError", "ResponseHandlingException"})


def _point_id(document_id: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, document_id))


def _server_options(config: QdrantKnowledgeConfig) -> dict[str, Any]:
    """The keyword arguments of ``QdrantClient`` / ``AsyncQdrantClient`` for the configured server."""
    assert config.url is not None
    api_key = config.api_key.get_secret_value() if config.api_key is not None else None
    return {
        "url": config.url,
        "api_key": api_key,
        "prefer_grpc": config.prefer_grpc,
        "grpc_port": config.grpc_port,
        "timeout": int(config.timeout),
        "check_compatibility": False,
    }


def _local_directory(local: str) -> str:
    """Local mode's directory, made if missing, as one canonical path (the key of the shared clients)."""
    path = os.path.realpath(os.path.expanduser(local))
    os.makedirs(path, exist_ok=True)
    return path


class _SharedLocalClient:
    """One local-mode client per directory in this process, shared by reference count."""

    _lock = threading.Lock()
    _clients: ClassVar[dict[str, tuple[Any, threading.RLock, int]]] = {}

    @classmethod
    def acquire(cls, path: str, factory: Any) -> tuple[Any, threading.RLock]:
        with cls._lock:
            entry = cls._clients.get(path)
            if entry is None:
                entry = (factory(), threading.RLock(), 0)
            client, lock, count = entry
            cls._clients[path] = (client, lock, count + 1)
            return client, lock

    @classmethod
    def release(cls, path: str) -> None:
        with cls._lock:
            client, lock, count = cls._clients[path]
            if count > 1:
                cls._clients[path] = (client, lock, count - 1)
                return
            del cls._clients[path]
        with lock:
            client.close()


class _Target(NamedTuple):
    dimension: int
    distance: Distance
    metadata_json: str  # parsed only when asked for (describe_collection), not on every call

    @property
    def metadata(self) -> dict[str, Any] | None:
        metadata: dict[str, Any] | None = load_json(self.metadata_json)
        return metadata


class _QdrantSteps(EngineStepsPrimitives):
    """Qdrant's engine primitives as steps of client calls (:mod:`.._sansio`), and the mapping of
    documents and filters: one copy for the sync store (``QdrantClient``) and the async one
    (``AsyncQdrantClient``), whose methods have the same names and arguments."""

    _models: Any
    exact_filter_numbers: ClassVar[int | None] = 2**53  # numbers are indexed as 64-bit floats

    def _taken_steps(self, name: str, target: _Target, ids: list[str]) -> Operation[Call, tuple[()]]:
        """None: ``_put`` checks, on the point ids it computes anyway."""
        yield from ()
        return ()

    def _find_steps(self, name: str) -> Operation[Call, _Target | None]:
        if not (yield Call("collection_exists", (name,))):
            return None
        settings = ((yield Call("get_collection", (name,))).config.metadata or {}).get(_MARKER)
        if not isinstance(settings, dict):
            return None  # a Qdrant collection this backend did not create
        return _Target(int(settings["dimension"]), settings["distance"], settings["metadata"])

    def _create_steps(
        self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None
    ) -> Operation[Call, None]:
        if (yield Call("collection_exists", (name,))):
            raise collection_exists(name)  # one this backend did not create has the name
        models = self._models
        settings = {"dimension": dimension, "distance": distance, "metadata": dump_json(metadata)}
        yield Call(
            "create_collection",
            (name,),
            {
                "vectors_config": models.VectorParams(size=dimension, distance=models.Distance(_NATIVE[distance])),
                "metadata": {_MARKER: settings},
            },
        )

    def _drop_steps(self, name: str, target: _Target) -> Operation[Call, None]:
        if not (yield Call("delete_collection", (name,))):
            raise collection_not_found(name)

    def _names_steps(self) -> Operation[Call, list[str]]:
        names = [collection.name for collection in (yield Call("get_collections")).collections]
        ours = []
        for name in names:
            if (yield from self._find_steps(name)) is not None:
                ours.append(name)
        return ours

    def _put_steps(
        self, name: str, target: _Target, documents: list[KnowledgeDocument], overwrite: bool
    ) -> Operation[Call, None]:
        points = [self._point(document, target.distance) for document in documents]
        # In parts of _WRITE points: a Qdrant server refuses a request body over 32 MiB, and each
        # request must end within the client's timeout.
        parts = [points[start : start + _WRITE] for start in range(0, len(points), _WRITE)]
        if not overwrite:
            for part in parts:
                found = yield Call(
                    "retrieve",
                    (name,),
                    {"ids": [point.id for point in part], "with_payload": ["id"], "with_vectors": False},
                )
                if found:
                    raise document_exists(name, [record.payload["id"] for record in found])
        written: list[Any] = []
        try:
            for part in parts:
                written += part  # before the request: its outcome is unknown if it fails
                yield Call("upsert", (name,), {"points": part, "wait": True})
        except Exception as error:
            if not overwrite and len(parts) > 1:
                # An insert is all or nothing: take back the parts already written (they were new).
                doomed = self._models.PointIdsList(points=[point.id for point in written])
                try:
                    yield Call("delete", (name,), {"points_selector": doomed, "wait": True})
                except Exception as cleanup:
                    raise partly_stored(name, len(written), error, cleanup) from error
            raise

    def _search_steps(
        self, name: str, target: _Target, query: list[float], limit: int, node: FilterNode | None
    ) -> Operation[Call, list[KnowledgeDocument]]:
        native = self._filter(node)
        if native is nodes.NEVER:
            return []
        distance = target.distance
        response = yield Call(
            "query_points",
            (name,),
            {
                "query": query,
                "limit": limit,
                "query_filter": native,
                "with_payload": True,
                "with_vectors": distance != "cosine",
            },
        )
        results = []
        for point in response.points:
            raw = float(point.score)
            document = self._document(point, distance)
            document.score = 1.0 / (1.0 + raw) if distance == "euclidean" else raw
            results.append(document)
        return results

    def _fetch_steps(self, name: str, target: _Target, ids: list[str]) -> Operation[Call, dict[str, KnowledgeDocument]]:
        records = yield Call(
            "retrieve",
            (name,),
            {"ids": [_point_id(i) for i in ids], "with_payload": True, "with_vectors": target.distance != "cosine"},
        )
        return {record.payload["id"]: self._document(record, target.distance) for record in records}

    def _remove_steps(
        self, name: str, target: _Target, ids: list[str] | None, node: FilterNode | None
    ) -> Operation[Call, int]:
        models = self._models
        conditions: list[Any] = []
        if ids is not None:
            conditions.append(models.HasIdCondition(has_id=[_point_id(i) for i in ids]))
        native = self._filter(node)
        if native is nodes.NEVER:
            return 0
        if native is not None:
            conditions.append(native)
        doomed = yield from self._matching_points(name, models.Filter(must=conditions))
        if doomed:
            yield Call("delete", (name,), {"points_selector": models.PointIdsList(points=doomed), "wait": True})
        return len(doomed)

    def _count_steps(self, name: str, target: _Target) -> Operation[Call, int]:
        return int((yield Call("count", (name,), {"exact": True})).count)

    def _matching_points(self, collection: str, native: Any) -> Operation[Call, list[Any]]:
        found: list[Any] = []
        offset = None
        while True:
            records, offset = yield Call(
                "scroll",
                (collection,),
                {
                    "scroll_filter": native,
                    "limit": _PAGE,
                    "offset": offset,
                    "with_payload": False,
                    "with_vectors": False,
                },
            )
            found.extend(record.id for record in records)
            if offset is None:
                return found

    def _translate_error(self, error: Exception) -> Exception | None:
        if raised_by(error, _UNREACHABLE):
            return BackendUnavailableError(f"cannot reach the Qdrant server: {type(error).__name__}")
        return None

    # -- helpers ---------------------------------------------------------------

    def _point(self, document: KnowledgeDocument, distance: Distance) -> Any:
        assert document.embedding is not None
        payload: dict[str, Any] = {
            "id": document.id,
            "content": document.content,
            "metadata": dump_json(document.metadata, what="metadata"),
            "content_hash": document.content_hash,
            "created_at": document.created_at,
            "t": {},
            "s": {},
            "n": {},
            "b": {},
            "c": {},
        }
        if distance == "cosine":
            payload["embedding"] = document.embedding
        for indexed in index_metadata(document.metadata, chunk_limit=_CHUNKS):
            payload["t"][indexed.key] = indexed.kind
            if indexed.kind != "null":
                payload[indexed.kind[0]][indexed.key] = indexed.value
            for position, chunk in enumerate(indexed.chunks):
                payload["c"][f"{indexed.key}_{position}"] = chunk
        return self._models.PointStruct(id=_point_id(document.id), vector=document.embedding, payload=payload)

    def _document(self, record: Any, distance: Distance) -> KnowledgeDocument:
        payload = record.payload
        embedding = _floats(payload["embedding"] if distance == "cosine" else record.vector)
        return KnowledgeDocument(
            id=payload["id"],
            content=payload["content"],
            embedding=embedding,
            metadata=load_json(payload["metadata"]),
            content_hash=payload["content_hash"],
            created_at=float(payload["created_at"]),
        )

    def _filter(self, node: FilterNode | None) -> Any:
        if node is None:
            return None
        lowered = lower(node, chunk_limit=_CHUNKS)
        if lowered == nodes.NEVER:
            return nodes.NEVER
        if lowered == nodes.ALWAYS:
            return None
        rendered = self._render(lowered)
        return rendered if isinstance(rendered, self._models.Filter) else self._models.Filter(must=[rendered])

    def _render(self, node: nodes.Lowered) -> Any:
        models = self._models
        if isinstance(node, nodes.All):
            return models.Filter(must=[self._render(part) for part in node.parts])
        if isinstance(node, nodes.Any):
            return models.Filter(should=[self._render(part) for part in node.parts])
        if isinstance(node, nodes.Ne):
            return models.Filter(must_not=[self._render(nodes.Eq(node.field, node.kind, node.value))])
        key = field_key(node.field)
        if isinstance(node, nodes.Eq):
            if node.kind == "null":
                return models.FieldCondition(key=f"t.{key}", match=models.MatchValue(value="null"))
            if node.kind == "number":
                # Qdrant matches integers exactly but never floats: compare numbers as a range.
                assert isinstance(node.value, (int, float))
                return models.FieldCondition(key=f"n.{key}", range=models.Range(gte=node.value, lte=node.value))
            return models.FieldCondition(key=f"{node.kind[0]}.{key}", match=models.MatchValue(value=node.value))
        if isinstance(node, nodes.IsKind):
            return models.FieldCondition(key=f"t.{key}", match=models.MatchValue(value=node.kind))
        if isinstance(node, nodes.Range):
            return models.FieldCondition(key=f"n.{key}", range=models.Range(**{node.op: node.value}))
        if isinstance(node, nodes.Chunk):
            bounds = {"eq": {"gte": node.value, "lte": node.value}, "gt": {"gt": node.value}, "lt": {"lt": node.value}}
            return models.FieldCondition(key=f"c.{key}_{node.index}", range=models.Range(**bounds[node.op]))
        assert not isinstance(node, nodes.StrRange), "lowered with chunks"
        raise AssertionError(f"unexpected filter node {node!r}")


class QdrantKnowledgeStore(_QdrantSteps, KnowledgeStoreBase[_Target, QdrantKnowledgeConfig]):
    """A KnowledgeStore on Qdrant (local mode or server)."""

    backend = "qdrant"

    def __init__(self, config: QdrantKnowledgeConfig) -> None:
        super().__init__(config)
        qdrant_client = self._import_driver("qdrant_client")
        self._models: Any = self._import_driver("qdrant_client.models")
        self._shared_path: str | None = None
        local = config.local_path
        with self._translating:
            if local is None:
                self._client: Any = qdrant_client.QdrantClient(**_server_options(config))
            elif local == ":memory:":
                self._client = qdrant_client.QdrantClient(location=":memory:")
            else:
                path = _local_directory(local)
                # Stores sharing the directory's client share its lock too.
                self._client, self._lock = _SharedLocalClient.acquire(
                    path, lambda: qdrant_client.QdrantClient(path=path)
                )
                self._shared_path = path

    # -- engine primitives (called with the lock held): the steps of _QdrantSteps ------

    def _engine(self, steps: Operation[Call, R]) -> R:
        return drive(steps, call_on(self._client), throw_in_everything)

    def _scan(self, name: str, target: _Target, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        offset = None
        while True:
            records, offset = self._client.scroll(
                name, limit=batch_size, offset=offset, with_payload=True, with_vectors=target.distance != "cosine"
            )
            if records:
                yield [self._document(record, target.distance) for record in records]
            if offset is None:
                return
            target = self._require(name)

    def _release(self) -> None:
        if self._shared_path is not None:
            _SharedLocalClient.release(self._shared_path)
        else:
            self._client.close()


class AsyncQdrantKnowledgeStore(_QdrantSteps, AsyncKnowledgeStoreBase[_Target, QdrantKnowledgeConfig]):
    """An AsyncKnowledgeStore on Qdrant through ``AsyncQdrantClient``: the sync store's steps, awaited.

    The client opens on the first call. A server's client is bound to its event loop, so
    another loop gets a client of its own; local mode's is not, and stays. Local mode
    locks its directory: a sync and an async store of one process cannot share one.
    """

    backend = "async_qdrant"

    def __init__(self, config: QdrantKnowledgeConfig) -> None:
        super().__init__(config)
        self._qdrant: Any = self._import_driver("qdrant_client")
        self._models = self._import_driver("qdrant_client.models")
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def _open_client(self) -> Any:
        config, qdrant_client = self.config, self._qdrant
        local = config.local_path
        if local is None:
            return qdrant_client.AsyncQdrantClient(**_server_options(config))
        if local == ":memory:":
            return qdrant_client.AsyncQdrantClient(location=":memory:")
        return qdrant_client.AsyncQdrantClient(path=_local_directory(local))

    def _loop_client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or (self.config.local_path is None and self._client_loop is not loop):
            self._client, self._client_loop = self._open_client(), loop  # a server client of a dead loop is dropped
        return self._client

    async def _engine(self, steps: Operation[Call, R]) -> R:
        return await drive_async(steps, call_on_async(self._loop_client()), throw_in_everything)

    async def _release(self) -> None:
        client, self._client = self._client, None
        if client is not None and (
            self.config.local_path is not None or self._client_loop is asyncio.get_running_loop()
        ):
            await client.close()


def _floats(values: Sequence[Any]) -> list[float]:
    """A new list of floats; a list that holds only floats already is copied at C speed."""
    if set(map(type, values)) == {float}:
        return list(values)
    return [float(x) for x in values]
