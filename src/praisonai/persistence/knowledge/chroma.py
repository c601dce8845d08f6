"""Chroma knowledge store: chromadb's embedded persistent client, or its HTTP client.

Engine: Chroma. Driver: ``chromadb`` (extra ``chroma``).
URL forms: a directory, ``chroma:///relative/dir``, ``chroma:////absolute/dir`` (embedded);
``http[s]://host:8000`` or ``chroma://host:8000`` with ``?tenant=&database=`` and ``token``
(server).
Test tier: server, and embedded: the contract suite runs on ``PersistentClient`` and on
``HttpClient`` against chroma's own server (``chroma run``) on loopback.

Embeddings are always passed to Chroma; collections are created and opened with
``embedding_function=None`` and no text is ever sent to be embedded, so Chroma
never loads (or downloads) an embedding model. Telemetry is turned off.

Layout: one Chroma collection per collection, with the portable settings in the
collection's metadata (``hnsw:space`` is ``cosine``, ``ip`` or ``l2``). Chroma
names need 3+ characters starting and ending with a letter or digit, so a name
that is not already such a name is stored as ``k.<name>.k`` (portable names
have no ``.``, so this never collides). Only collections created by this
backend are listed. Each document's Chroma metadata holds the exact metadata
JSON, the hash and the creation time, plus the typed index of
:mod:`._filter_native` (keys ``t:``, ``s:``, ``n:``, ``b:``, ``c<j>:`` followed by the
field name) that filters are translated onto: Chroma's ``where`` compares
numbers across int and float, keeps bools apart, and lets ``$ne`` match an absent
key, as the portable language needs.

Scores: Chroma returns distances: cosine ``1 - similarity``, ip ``1 - dot``, l2 the
*squared* L2 distance; they are turned into the portable scores. Chroma stores
float32 and searches an HNSW index, which is approximate on large collections.
``insert`` checks and writes under the store's lock; against a server, a second
writer can race between the check and the write (Chroma's ``add`` silently
ignores existing ids, so the check is needed).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

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
    index_metadata,
    lower,
)
from ._filter_native import (
    Any as AnyOf,
)
from .base import CollectionInfo, Distance, Filter, KnowledgeDocument, KnowledgeStore
from .config import ChromaKnowledgeConfig

__all__ = ["ChromaKnowledgeStore"]

_BACKEND = "chroma"
_EXTRA = "chroma"
_SPACE = {"cosine": "cosine", "dot": "ip", "euclidean": "l2"}
_CHUNKS = 32
_INT64 = 2**63
_NATIVE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,510}[A-Za-z0-9]$")
# Keys of the collection's and the documents' Chroma metadata that belong to this backend.
_DIMENSION = "praisonai:dimension"
_DISTANCE = "praisonai:distance"
_COLLECTION_METADATA = "praisonai:metadata"
_METADATA = "praisonai:metadata"
_HASH = "praisonai:content_hash"
_CREATED = "praisonai:created_at"
_INCLUDE = ["documents", "metadatas", "embeddings"]


def _native_name(name: str) -> str:
    return name if _NATIVE_NAME.match(name) else f"k.{name}.k"


def _portable_name(native: str) -> str:
    return native[2:-2] if native.startswith("k.") and native.endswith(".k") else native


def _number(value: int | float) -> int | float:
    # Chroma keeps integers in 64 bits; larger ones are compared as floats (stored and queried alike).
    return float(value) if isinstance(value, int) and not -_INT64 <= value < _INT64 else value


class ChromaKnowledgeStore(KnowledgeStore):
    """A KnowledgeStore on Chroma (embedded persistent client or HTTP client)."""

    backend = _BACKEND

    def __init__(self, config: ChromaKnowledgeConfig) -> None:
        self.config = config
        chromadb = import_driver("chromadb", backend=_BACKEND, extra=_EXTRA)
        settings = chromadb.Settings(anonymized_telemetry=False)
        self._lock = threading.RLock()
        self._closed = False
        local = config.local_path
        try:
            if local is not None:
                self._client: Any = chromadb.PersistentClient(
                    path=local, settings=settings, tenant=config.tenant, database=config.database
                )
            else:
                assert config.host is not None
                headers = {"X-Chroma-Token": config.token.get_secret_value()} if config.token is not None else None
                self._client = chromadb.HttpClient(
                    host=config.host,
                    port=config.port,
                    ssl=config.ssl,
                    headers=headers,
                    settings=settings,
                    tenant=config.tenant,
                    database=config.database,
                )
        except Exception as error:
            if local is None and _is_connection_error(error):
                raise BackendUnavailableError(
                    f"cannot reach the Chroma server at {config.host}:{config.port}: {type(error).__name__}",
                    backend=_BACKEND,
                ) from error
            raise

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
        with self._call():
            if self._collection(name) is not None:
                raise collection_exists(name, _BACKEND)
            self._client.create_collection(
                _native_name(name),
                embedding_function=None,
                metadata={
                    "hnsw:space": _SPACE[distance],
                    _DIMENSION: dimension,
                    _DISTANCE: distance,
                    _COLLECTION_METADATA: dump_json(metadata, _BACKEND),
                },
            )

    def delete_collection(self, name: str) -> bool:
        check_collection_name(name, _BACKEND)
        with self._call():
            if self._collection(name) is None:
                return False
            self._client.delete_collection(_native_name(name))
            return True

    def collection_exists(self, name: str) -> bool:
        check_collection_name(name, _BACKEND)
        with self._call():
            return self._collection(name) is not None

    def list_collections(self) -> list[str]:
        with self._call():
            found = self._client.list_collections()
        return sorted(
            _portable_name(collection.name) for collection in found if _DIMENSION in (collection.metadata or {})
        )

    def describe_collection(self, name: str) -> CollectionInfo:
        """The collection's dimension, distance and metadata (see ``KnowledgeTransfer``)."""
        with self._call():
            collection, dimension, distance = self._require(name)
            metadata = load_json(collection.metadata[_COLLECTION_METADATA])
        return CollectionInfo(name, dimension, distance, metadata)

    def iter_documents(self, collection: str, batch_size: int = 1000) -> Iterator[list[KnowledgeDocument]]:
        """Every document, embeddings included, ``batch_size`` at a time (see ``KnowledgeTransfer``)."""
        offset = 0
        while True:
            with self._call():
                native, _, _ = self._require(collection)
                page = native.get(limit=batch_size, offset=offset, include=_INCLUDE)
            documents = self._documents(page)
            if not documents:
                return
            yield documents
            offset += len(documents)

    # -- documents -------------------------------------------------------------

    def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self._write(collection, documents, overwrite=False)

    def upsert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self._write(collection, documents, overwrite=True)

    def _write(self, collection: str, documents: Sequence[KnowledgeDocument], *, overwrite: bool) -> list[str]:
        with self._call():
            native, dimension, _ = self._require(collection)
            prepared = check_documents(documents, dimension, _BACKEND)
            if not prepared:
                return []
            ids = [document.id for document in prepared]
            if not overwrite:
                taken = native.get(ids=ids, include=[])["ids"]
                if taken:
                    raise document_exists(collection, taken, _BACKEND)
            write = native.upsert if overwrite else native.add
            step = max(1, int(self._client.get_max_batch_size()))
            for start in range(0, len(prepared), step):
                batch = prepared[start : start + step]
                write(
                    ids=[document.id for document in batch],
                    embeddings=[document.embedding for document in batch],
                    documents=[document.content for document in batch],
                    metadatas=[self._metadata(document) for document in batch],
                )
            return ids

    def _metadata(self, document: KnowledgeDocument) -> dict[str, Any]:
        stored: dict[str, Any] = {
            _METADATA: dump_json(document.metadata, _BACKEND, "metadata"),
            _CREATED: document.created_at,
        }
        if document.content_hash is not None:
            stored[_HASH] = document.content_hash
        for indexed in index_metadata(document.metadata, chunk_limit=_CHUNKS):
            stored[f"t:{indexed.name}"] = indexed.kind
            if indexed.kind == "number":
                assert isinstance(indexed.value, (int, float))
                stored[f"n:{indexed.name}"] = _number(indexed.value)
            elif indexed.kind != "null":
                stored[f"{indexed.kind[0]}:{indexed.name}"] = indexed.value
            for position, chunk in enumerate(indexed.chunks):
                stored[f"c{position}:{indexed.name}"] = chunk
        return stored

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
            native, dimension, distance = self._require(collection)
            query = check_embedding(query_embedding, dimension, _BACKEND, "query_embedding")
            where = self._where(filters)
            if where is NEVER:
                return []
            found = native.query(
                query_embeddings=[query],
                n_results=limit,
                where=where,
                include=[*_INCLUDE, "distances"],
            )
        page = {key: (None if value is None else value[0]) for key, value in found.items() if key != "included"}
        results = []
        for document, raw in zip(self._documents(page), page["distances"] or [], strict=True):
            score = _score(distance, float(raw))
            if threshold is not None and score < threshold:
                continue
            document.score = score
            results.append(document)
        return results

    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        wanted = check_document_ids(ids, _BACKEND)
        with self._call():
            native, _, _ = self._require(collection)
            if not wanted:
                return []
            page = native.get(ids=list(dict.fromkeys(wanted)), include=_INCLUDE)
        found = {document.id: document for document in self._documents(page)}
        return [found[i] for i in wanted if i in found]

    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        wanted, node = check_delete_args(ids, filters, _BACKEND)
        with self._call():
            native, _, _ = self._require(collection)
            if wanted is not None and not wanted:
                return 0
            where = self._where(filters) if node is not None else None
            if where is NEVER:
                return 0
            selection: dict[str, Any] = {"include": []}
            if wanted is not None:
                selection["ids"] = list(dict.fromkeys(wanted))
            if where is not None:
                selection["where"] = where
            doomed = native.get(**selection)["ids"]
            if doomed:
                native.delete(ids=doomed)
            return len(doomed)

    def count(self, collection: str) -> int:
        with self._call():
            native, _, _ = self._require(collection)
            return int(native.count())

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            close = getattr(self._client, "close", None)
            if callable(close):
                close()

    # -- helpers ---------------------------------------------------------------

    @contextmanager
    def _call(self) -> Iterator[None]:
        with self._lock:
            if self._closed:
                raise StoreError("the store is closed", backend=_BACKEND)
            try:
                yield
            except StoreError:
                raise
            except Exception as error:
                if self.config.local_path is None and _is_connection_error(error):
                    raise BackendUnavailableError(
                        f"cannot reach the Chroma server: {type(error).__name__}", backend=_BACKEND
                    ) from error
                raise

    def _collection(self, name: str) -> Any:
        errors = import_driver("chromadb.errors", backend=_BACKEND, extra=_EXTRA)
        try:
            collection = self._client.get_collection(_native_name(name), embedding_function=None)
        except (errors.NotFoundError, ValueError):
            return None
        return collection if _DIMENSION in (collection.metadata or {}) else None

    def _require(self, name: str) -> tuple[Any, int, Distance]:
        check_collection_name(name, _BACKEND)
        collection = self._collection(name)
        if collection is None:
            raise collection_not_found(name, _BACKEND)
        return collection, int(collection.metadata[_DIMENSION]), collection.metadata[_DISTANCE]

    def _documents(self, page: dict[str, Any]) -> list[KnowledgeDocument]:
        documents = []
        embeddings = page.get("embeddings")
        for index, document_id in enumerate(page["ids"]):
            stored = page["metadatas"][index] or {}
            documents.append(
                KnowledgeDocument(
                    id=document_id,
                    content=page["documents"][index] or "",
                    embedding=None if embeddings is None else [float(x) for x in embeddings[index]],
                    metadata=load_json(stored[_METADATA]),
                    content_hash=stored.get(_HASH),
                    created_at=float(stored[_CREATED]),
                )
            )
        return documents

    def _where(self, filters: Filter | None) -> Any:
        node = parse_filters(filters, _BACKEND)
        if node is None:
            return None
        lowered = lower(node, _BACKEND, chunk_limit=_CHUNKS)
        if lowered == NEVER:
            return NEVER
        if lowered == ALWAYS:
            return None
        return _render(lowered)


def _render(node: Lowered) -> dict[str, Any]:
    if isinstance(node, (All, AnyOf)):
        parts = [_render(part) for part in node.parts]
        return {"$and" if isinstance(node, All) else "$or": parts}
    if isinstance(node, (Eq, Ne)):
        operator = "$eq" if isinstance(node, Eq) else "$ne"
        if node.kind == "null":
            return {f"t:{node.field}": {operator: "null"}}
        value = _number(node.value) if node.kind == "number" else node.value  # type: ignore[arg-type]
        return {f"{node.kind[0]}:{node.field}": {operator: value}}
    if isinstance(node, IsKind):
        return {f"t:{node.field}": {"$eq": node.kind}}
    if isinstance(node, Range):
        return {f"n:{node.field}": {f"${node.op}": _number(node.value)}}
    if isinstance(node, Chunk):
        return {f"c{node.index}:{node.field}": {f"${node.op}": node.value}}
    assert not isinstance(node, StrRange), "lowered with chunks"
    raise AssertionError(f"unexpected filter node {node!r}")


def _score(distance: Distance, raw: float) -> float:
    if distance == "euclidean":
        return 1.0 / (1.0 + math.sqrt(max(raw, 0.0)))
    return 1.0 - raw


def _is_connection_error(error: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in ("ConnectError", "ConnectTimeout", "ConnectionError", "ConnectionRefusedError"):
            return True
        if "Could not connect to a Chroma server" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False
