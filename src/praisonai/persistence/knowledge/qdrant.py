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
:mod:`._filter_native` that filters run on: ``t.<key>`` (kind), ``s.<key>``,
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

import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from .._loading import import_driver
from .._values import dump_json, load_json
from ..errors import BackendUnavailableError, StoreError
from ._common import (
    check_collection_metadata,
    check_collection_name,
    check_delete_args,
    check_dimension,
    check_distance,
    check_document_ids,
    check_documents,
    check_embedding,
    check_score_threshold,
    check_search_limit,
    collection_exists,
    collection_not_found,
    document_exists,
    parse_filters,
)
from ._filter_native import (
    ALWAYS,
    NEVER,
    All,
    Chunk,
    Eq,
    IsKind,
    Lowered,
    Ne,
    Range,
    StrRange,
    field_key,
    index_metadata,
    lower,
)
from ._filter_native import (
    Any as AnyOf,
)
from ._store import error_chain
from .base import CollectionInfo, Distance, Filter, KnowledgeDocument, KnowledgeStore
from .config import QdrantKnowledgeConfig

__all__ = ["QdrantKnowledgeStore"]

_BACKEND = "qdrant"
_EXTRA = "qdrant"
_ID_NAMESPACE = uuid.UUID("8f4d7c1e-5b1a-4f0e-9a51-2f6b1c6a9d30")
_MARKER = "praisonai_knowledge"
_CHUNKS = 32
_NATIVE = {"cosine": "Cosine", "dot": "Dot", "euclidean": "Euclid"}
_PAGE = 256


def _point_id(document_id: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, document_id))


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


class QdrantKnowledgeStore(KnowledgeStore):
    """A KnowledgeStore on Qdrant (local mode or server)."""

    backend = _BACKEND

    def __init__(self, config: QdrantKnowledgeConfig) -> None:
        self.config = config
        qdrant_client = import_driver("qdrant_client", backend=_BACKEND, extra=_EXTRA)
        self._models: Any = import_driver("qdrant_client.models", backend=_BACKEND, extra=_EXTRA)
        self._shared_path: str | None = None
        self._closed = False
        local = config.local_path
        if local is None:
            assert config.url is not None
            api_key = config.api_key.get_secret_value() if config.api_key is not None else None
            self._client: Any = qdrant_client.QdrantClient(
                url=config.url,
                api_key=api_key,
                prefer_grpc=config.prefer_grpc,
                timeout=int(config.timeout),
                check_compatibility=False,
            )
            self._lock = threading.RLock()
        elif local == ":memory:":
            self._client = qdrant_client.QdrantClient(location=":memory:")
            self._lock = threading.RLock()
        else:
            path = os.path.realpath(os.path.expanduser(local))
            os.makedirs(path, exist_ok=True)
            self._client, self._lock = _SharedLocalClient.acquire(path, lambda: qdrant_client.QdrantClient(path=path))
            self._shared_path = path

    # -- collections ----------------------------------------------------------

    def create_collection(
        self,
        name: str,
        dimension: int,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        check_collection_name(name, _BACKEND)
        check_dimension(dimension, _BACKEND)
        check_distance(distance, _BACKEND)
        metadata = check_collection_metadata(metadata, _BACKEND)
        models = self._models
        settings = {"dimension": dimension, "distance": distance, "metadata": dump_json(metadata, _BACKEND)}
        with self._call():
            if self._client.collection_exists(name):
                raise collection_exists(name, _BACKEND)
            self._client.create_collection(
                name,
                vectors_config=models.VectorParams(size=dimension, distance=models.Distance(_NATIVE[distance])),
                metadata={_MARKER: settings},
            )

    def delete_collection(self, name: str) -> bool:
        check_collection_name(name, _BACKEND)
        with self._call():
            if not self._client.collection_exists(name):
                return False
            self._client.delete_collection(name)
            return True

    def collection_exists(self, name: str) -> bool:
        check_collection_name(name, _BACKEND)
        with self._call():
            return self._settings(name) is not None

    def list_collections(self) -> list[str]:
        with self._call():
            names = [collection.name for collection in self._client.get_collections().collections]
            return sorted(name for name in names if self._settings(name) is not None)

    def describe_collection(self, name: str) -> CollectionInfo:
        """The collection's dimension, distance and metadata (see ``KnowledgeTransfer``)."""
        with self._call():
            dimension, distance = self._require(name)
            info = self._client.get_collection(name)
        metadata = load_json(info.config.metadata[_MARKER]["metadata"])
        return CollectionInfo(name, dimension, distance, metadata)

    def iter_documents(self, collection: str, batch_size: int = 1000) -> Iterator[list[KnowledgeDocument]]:
        """Every document, embeddings included, ``batch_size`` at a time (see ``KnowledgeTransfer``)."""
        offset = None
        while True:
            with self._call():
                _, distance = self._require(collection)
                records, offset = self._client.scroll(
                    collection, limit=batch_size, offset=offset, with_payload=True, with_vectors=distance != "cosine"
                )
            if records:
                yield [self._document(record, distance) for record in records]
            if offset is None:
                return

    # -- documents -------------------------------------------------------------

    def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self._write(collection, documents, overwrite=False)

    def upsert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self._write(collection, documents, overwrite=True)

    def _write(self, collection: str, documents: Sequence[KnowledgeDocument], *, overwrite: bool) -> list[str]:
        with self._call():
            dimension, distance = self._require(collection)
            prepared = check_documents(documents, dimension, _BACKEND)
            if not prepared:
                return []
            points = [self._point(document, distance) for document in prepared]
            if not overwrite:
                found = self._client.retrieve(
                    collection, ids=[point.id for point in points], with_payload=["id"], with_vectors=False
                )
                if found:
                    raise document_exists(collection, [record.payload["id"] for record in found], _BACKEND)
            self._client.upsert(collection, points=points, wait=True)
            return [document.id for document in prepared]

    def _point(self, document: KnowledgeDocument, distance: Distance) -> Any:
        assert document.embedding is not None
        payload: dict[str, Any] = {
            "id": document.id,
            "content": document.content,
            "metadata": dump_json(document.metadata, _BACKEND, "metadata"),
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

    def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        limit = check_search_limit(limit, _BACKEND)
        threshold = check_score_threshold(score_threshold, _BACKEND)
        with self._call():
            dimension, distance = self._require(collection)
            query = check_embedding(query_embedding, dimension, _BACKEND, "query_embedding")
            native = self._filter(filters)
            if native is NEVER:
                return []
            response = self._client.query_points(
                collection,
                query=query,
                limit=limit,
                query_filter=native,
                with_payload=True,
                with_vectors=distance != "cosine",
            )
        results = []
        for point in response.points:
            raw = float(point.score)
            score = 1.0 / (1.0 + raw) if distance == "euclidean" else raw
            if threshold is not None and score < threshold:
                continue
            document = self._document(point, distance)
            document.score = score
            results.append(document)
        return results

    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        wanted = check_document_ids(ids, _BACKEND)
        with self._call():
            _, distance = self._require(collection)
            if not wanted:
                return []
            records = self._client.retrieve(
                collection,
                ids=list(dict.fromkeys(_point_id(i) for i in wanted)),
                with_payload=True,
                with_vectors=distance != "cosine",
            )
        found = {record.payload["id"]: record for record in records}
        return [self._document(found[i], distance) for i in wanted if i in found]

    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        wanted, node = check_delete_args(ids, filters, _BACKEND)
        with self._call():
            self._require(collection)
            models = self._models
            conditions: list[Any] = []
            if wanted is not None:
                if not wanted:
                    return 0
                conditions.append(models.HasIdCondition(has_id=list(dict.fromkeys(_point_id(i) for i in wanted))))
            native = self._filter(filters) if node is not None else None
            if native is NEVER:
                return 0
            if native is not None:
                conditions.append(native)
            doomed = self._matching_points(collection, models.Filter(must=conditions))
            if doomed:
                self._client.delete(collection, points_selector=models.PointIdsList(points=doomed), wait=True)
            return len(doomed)

    def _matching_points(self, collection: str, native: Any) -> list[Any]:
        found: list[Any] = []
        offset = None
        while True:
            records, offset = self._client.scroll(
                collection, scroll_filter=native, limit=_PAGE, offset=offset, with_payload=False, with_vectors=False
            )
            found.extend(record.id for record in records)
            if offset is None:
                return found

    def count(self, collection: str) -> int:
        with self._call():
            self._require(collection)
            return int(self._client.count(collection, exact=True).count)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._shared_path is not None:
            _SharedLocalClient.release(self._shared_path)
        else:
            with self._lock:
                self._client.close()

    # -- helpers ---------------------------------------------------------------

    @contextmanager
    def _call(self) -> Iterator[None]:
        if self._closed:
            raise StoreError("the store is closed", backend=_BACKEND)
        with self._lock:
            try:
                yield
            except StoreError:
                raise
            except Exception as error:
                if _is_connection_error(error):
                    raise BackendUnavailableError(
                        f"cannot reach the Qdrant server: {type(error).__name__}", backend=_BACKEND
                    ) from error
                raise

    def _settings(self, name: str) -> tuple[int, Distance] | None:
        if not self._client.collection_exists(name):
            return None
        info = self._client.get_collection(name)
        settings = (info.config.metadata or {}).get(_MARKER)
        if not isinstance(settings, dict):
            return None
        return int(settings["dimension"]), settings["distance"]

    def _require(self, collection: str) -> tuple[int, Distance]:
        check_collection_name(collection, _BACKEND)
        settings = self._settings(collection)
        if settings is None:
            raise collection_not_found(collection, _BACKEND)
        return settings

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

    def _filter(self, filters: Filter | None) -> Any:
        node = parse_filters(filters, _BACKEND)
        if node is None:
            return None
        lowered = lower(node, _BACKEND, chunk_limit=_CHUNKS)
        if lowered == NEVER:
            return NEVER
        if lowered == ALWAYS:
            return None
        rendered = self._render(lowered)
        return rendered if isinstance(rendered, self._models.Filter) else self._models.Filter(must=[rendered])

    def _render(self, node: Lowered) -> Any:
        models = self._models
        if isinstance(node, All):
            return models.Filter(must=[self._render(part) for part in node.parts])
        if isinstance(node, AnyOf):
            return models.Filter(should=[self._render(part) for part in node.parts])
        if isinstance(node, Ne):
            return models.Filter(must_not=[self._render(Eq(node.field, node.kind, node.value))])
        key = field_key(node.field)
        if isinstance(node, Eq):
            if node.kind == "null":
                return models.FieldCondition(key=f"t.{key}", match=models.MatchValue(value="null"))
            if node.kind == "number":
                # Qdrant matches integers exactly but never floats: compare numbers as a range.
                assert isinstance(node.value, (int, float))
                return models.FieldCondition(key=f"n.{key}", range=models.Range(gte=node.value, lte=node.value))
            return models.FieldCondition(key=f"{node.kind[0]}.{key}", match=models.MatchValue(value=node.value))
        if isinstance(node, IsKind):
            return models.FieldCondition(key=f"t.{key}", match=models.MatchValue(value=node.kind))
        if isinstance(node, Range):
            return models.FieldCondition(key=f"n.{key}", range=models.Range(**{node.op: node.value}))
        if isinstance(node, Chunk):
            bounds = {"eq": {"gte": node.value, "lte": node.value}, "gt": {"gt": node.value}, "lt": {"lt": node.value}}
            return models.FieldCondition(key=f"c.{key}_{node.index}", range=models.Range(**bounds[node.op]))
        assert not isinstance(node, StrRange), "lowered with chunks"
        raise AssertionError(f"unexpected filter node {node!r}")


def _floats(values: Sequence[Any]) -> list[float]:
    """A new list of floats; a list that holds only floats already is copied at C speed."""
    if set(map(type, values)) == {float}:
        return list(values)
    return [float(x) for x in values]


def _is_connection_error(error: BaseException) -> bool:
    names = {type(error).__name__ for error in error_chain(error)}
    return bool(names & {"ConnectError", "ConnectTimeout", "ConnectionError", "ResponseHandlingException"})
