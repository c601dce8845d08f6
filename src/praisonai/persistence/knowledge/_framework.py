"""What the LangChain and LlamaIndex adapters share: collections inside one framework vector store.

A framework vector store is a single pool of documents with no notion of
collections, dimensions or "insert without overwriting". The adapters layer the
knowledge contract on top of it:

- Collections are kept by the adapter object (name, dimension, distance,
  metadata, and the ids of the documents written through it). A second adapter
  over the same framework store starts with no collections.
- Every document is written with reserved metadata keys (``_praisonai_*``): the
  collection, the caller's id, the exact JSON of the caller's metadata, the
  creation time and content hash. Top-level scalar metadata values are also
  copied as plain keys, for native filters.
- The framework store's ids are ``uuid5(collection, id)``, valid in every
  framework store (some accept only UUIDs).
- Search always filters (at least by collection). The framework's in-memory
  store is filtered exactly with :func:`~praisonai.persistence.knowledge.filters.matches`;
  any other store needs ``filter_translator`` (the parsed filter tree, with the
  collection clause, to the store's native filter), else a search raises
  :class:`UnsupportedFilterError`. ``delete`` by filter is exact everywhere.
- Scores are the store's, through ``score_transform`` when given.
"""

from __future__ import annotations

import threading
import uuid
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._values import check_limit, dump_json, load_json
from ..errors import InvalidInputError, StoreError, UnsupportedFilterError
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
from .base import CollectionInfo, Distance, Filter, KnowledgeDocument, KnowledgeStore
from .config import LangChainKnowledgeConfig, LlamaIndexKnowledgeConfig
from .filters import And, Comparison, FilterNode, matches

__all__ = [
    "COLLECTION_KEY",
    "CONTENT_KEY",
    "ID_KEY",
    "METADATA_KEY",
    "RESERVED_PREFIX",
    "FrameworkKnowledgeStore",
    "Hit",
    "StoredRecord",
]

RESERVED_PREFIX = "_praisonai_"
COLLECTION_KEY = "_praisonai_collection"
ID_KEY = "_praisonai_id"
METADATA_KEY = "_praisonai_metadata"
CONTENT_KEY = "_praisonai_content"
CREATED_KEY = "_praisonai_created_at"
HASH_KEY = "_praisonai_content_hash"

_NAMESPACE = uuid.UUID("4f0b8d1e-5c1a-4d8e-9a57-2f1c7e0b9d34")


@dataclass(slots=True)
class StoredRecord:
    """A document as read back from the framework store."""

    content: str
    metadata: dict[str, Any]
    embedding: list[float] | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    store_id: str
    raw_score: float
    record: StoredRecord | None = None


@dataclass(slots=True)
class _Collection:
    dimension: int
    distance: Distance
    metadata: dict[str, Any] | None
    ids: dict[str, str] = field(default_factory=dict)  # caller's id -> store id, insertion-ordered


class FrameworkKnowledgeStore(KnowledgeStore):
    """Base of the framework adapters; subclasses speak to the framework store."""

    backend = "framework"
    config: LangChainKnowledgeConfig | LlamaIndexKnowledgeConfig

    def __init__(self, config: LangChainKnowledgeConfig | LlamaIndexKnowledgeConfig) -> None:
        self.config = config
        self.vector_store: Any = config.vector_store
        self._lock = threading.RLock()
        self._collections: dict[str, _Collection] = {}
        self._closed = False

    # -- what a framework adapter provides -------------------------------------

    @abstractmethod
    def _add(self, items: list[tuple[str, KnowledgeDocument, dict[str, Any]]]) -> None:
        """Write ``(store_id, document, framework_metadata)`` items."""

    @abstractmethod
    def _remove(self, store_ids: list[str]) -> None: ...

    @abstractmethod
    def _fetch(self, store_ids: list[str]) -> dict[str, StoredRecord]:
        """The records that exist among ``store_ids``."""

    @abstractmethod
    def _exact_search(
        self, query: list[float], limit: int, collection: str, node: FilterNode | None
    ) -> list[Hit] | None:
        """Search the framework's in-memory store with exact filtering, or None if it is another store."""

    @abstractmethod
    def _native_search(self, query: list[float], limit: int, native_filter: Any) -> list[Hit]:
        """Search any store of the framework with a filter from ``filter_translator``."""

    # -- collections ------------------------------------------------------------

    def create_collection(
        self,
        name: str,
        dimension: int,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        name = check_collection_name(name, self.backend)
        dimension = check_dimension(dimension, self.backend)
        distance = check_distance(distance, self.backend, supported=(self.config.distance,))
        copied = check_collection_metadata(metadata, self.backend)
        with self._lock:
            self._check_open()
            if name in self._collections:
                raise collection_exists(name, self.backend)
            self._collections[name] = _Collection(dimension, distance, copied)

    def delete_collection(self, name: str) -> bool:
        name = check_collection_name(name, self.backend)
        with self._lock:
            self._check_open()
            target = self._collections.get(name)
            if target is None:
                return False
            if target.ids:
                self._remove(list(target.ids.values()))
            del self._collections[name]
            return True

    def collection_exists(self, name: str) -> bool:
        name = check_collection_name(name, self.backend)
        with self._lock:
            self._check_open()
            return name in self._collections

    def list_collections(self) -> list[str]:
        with self._lock:
            self._check_open()
            return sorted(self._collections)

    # -- documents ----------------------------------------------------------------

    def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        with self._lock:
            target = self._collection(collection)
            prepared = check_documents(documents, target.dimension, self.backend)
            taken = [document.id for document in prepared if document.id in target.ids]
            if taken:
                raise document_exists(collection, taken, self.backend)
            self._write(collection, target, prepared)
            return [document.id for document in prepared]

    def upsert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        with self._lock:
            target = self._collection(collection)
            prepared = check_documents(documents, target.dimension, self.backend)
            replaced = [target.ids[document.id] for document in prepared if document.id in target.ids]
            if replaced:
                self._remove(replaced)
                for document in prepared:
                    target.ids.pop(document.id, None)
            self._write(collection, target, prepared)
            return [document.id for document in prepared]

    def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        limit = check_search_limit(limit, self.backend)
        threshold = check_score_threshold(score_threshold, self.backend)
        node = parse_filters(filters, self.backend)
        with self._lock:
            target = self._collection(collection)
            query = check_embedding(query_embedding, target.dimension, self.backend, "query_embedding")
            if not target.ids:
                return []
            hits = self._exact_search(query, min(limit, len(target.ids)), collection, node)
            if hits is None:
                translator = self.config.filter_translator
                if translator is None:
                    raise UnsupportedFilterError(
                        f"{type(self.vector_store).__name__} is not the framework's in-memory store: give "
                        "filter_translator to turn filters (every search filters by collection) into its native form",
                        backend=self.backend,
                    )
                scope: FilterNode = Comparison(COLLECTION_KEY, "$eq", collection)
                hits = self._native_search(query, limit, translator(scope if node is None else And((scope, node))))
            missing = [hit.store_id for hit in hits if hit.record is None]
            fetched = self._fetch(missing) if missing else {}
            transform = self.config.score_transform
            results = []
            for hit in hits:
                record = hit.record or fetched.get(hit.store_id)
                if record is None or record.metadata.get(COLLECTION_KEY) != collection:
                    continue  # deleted meanwhile, or a document this adapter did not write
                document = self._document(record)
                document.score = float(transform(hit.raw_score) if transform is not None else hit.raw_score)
                if threshold is not None and document.score < threshold:
                    continue
                results.append(document)
            results.sort(key=lambda document: -(document.score or 0.0))
            return results[:limit]

    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        wanted = check_document_ids(ids, self.backend)
        with self._lock:
            target = self._collection(collection)
            present = [document_id for document_id in dict.fromkeys(wanted) if document_id in target.ids]
            if not present:
                return []
            records = self._fetch([target.ids[document_id] for document_id in present])
            return [
                self._document(records[target.ids[document_id]])
                for document_id in present
                if target.ids[document_id] in records
            ]

    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        wanted, node = check_delete_args(ids, filters, self.backend)
        with self._lock:
            target = self._collection(collection)
            candidates = [
                document_id
                for document_id in (target.ids if wanted is None else dict.fromkeys(wanted))
                if document_id in target.ids
            ]
            if node is not None and candidates:
                records = self._fetch([target.ids[document_id] for document_id in candidates])
                candidates = [
                    document_id
                    for document_id in candidates
                    if target.ids[document_id] in records
                    and matches(node, _user_metadata(records[target.ids[document_id]].metadata))
                ]
            if candidates:
                self._remove([target.ids[document_id] for document_id in candidates])
                for document_id in candidates:
                    del target.ids[document_id]
            return len(candidates)

    def count(self, collection: str) -> int:
        with self._lock:
            return len(self._collection(collection).ids)

    # -- KnowledgeTransfer extras (for migrate / export) ------------------------------

    def describe_collection(self, name: str) -> CollectionInfo:
        with self._lock:
            target = self._collection(name)
            return CollectionInfo(
                name, target.dimension, target.distance, check_collection_metadata(target.metadata, self.backend)
            )

    def iter_documents(self, collection: str, batch_size: int = 1000) -> Iterator[list[KnowledgeDocument]]:
        size = check_limit(batch_size, self.backend, "batch_size", allow_zero=False)
        with self._lock:
            ids = list(self._collection(collection).ids)
        for start in range(0, len(ids), size):
            with self._lock:
                target = self._collection(collection)
                wanted = [target.ids[i] for i in ids[start : start + size] if i in target.ids]
                records = self._fetch(wanted) if wanted else {}
                batch = [self._document(records[store_id]) for store_id in wanted if store_id in records]
            if batch:
                yield batch

    def close(self) -> None:
        # The framework store belongs to the caller: it stays open.
        with self._lock:
            self._closed = True

    # -- helpers for subclasses -------------------------------------------------------

    def store_id(self, collection: str, document_id: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{collection}\x00{document_id}"))

    def framework_metadata(self, collection: str, document: KnowledgeDocument) -> dict[str, Any]:
        """The metadata written to the framework store: reserved keys plus scalar copies for native filters."""
        metadata: dict[str, Any] = {}
        for key, value in (document.metadata or {}).items():
            if key.startswith(RESERVED_PREFIX):
                raise InvalidInputError(
                    f"metadata key {key!r} is reserved by the {self.backend} adapter", backend=self.backend
                )
            if isinstance(value, (str, int, float, bool)) and key not in self._framework_keys():
                metadata[key] = value
        metadata[COLLECTION_KEY] = collection
        metadata[ID_KEY] = document.id
        metadata[METADATA_KEY] = dump_json(document.metadata, self.backend, "metadata")
        metadata[CREATED_KEY] = document.created_at
        if document.content_hash is not None:
            metadata[HASH_KEY] = document.content_hash
        return metadata

    def _framework_keys(self) -> frozenset[str]:
        """Metadata keys the framework writes itself (user values under them are not copied)."""
        return frozenset()

    def exact_filter(self, collection: str, node: FilterNode | None, metadata: dict[str, Any]) -> bool:
        """Whether framework ``metadata`` belongs to ``collection`` and satisfies ``node`` (reference semantics)."""
        if metadata.get(COLLECTION_KEY) != collection:
            return False
        return node is None or matches(node, _user_metadata(metadata))

    # -- internals ------------------------------------------------------------------

    def _write(self, collection: str, target: _Collection, documents: list[KnowledgeDocument]) -> None:
        items = [
            (self.store_id(collection, document.id), document, self.framework_metadata(collection, document))
            for document in documents
        ]
        if not items:
            return
        self._add(items)
        for store_id, document, _ in items:
            target.ids[document.id] = store_id

    def _document(self, record: StoredRecord) -> KnowledgeDocument:
        metadata = record.metadata
        return KnowledgeDocument(
            id=str(metadata[ID_KEY]),
            content=record.content,
            embedding=None if record.embedding is None else [float(value) for value in record.embedding],
            metadata=_user_metadata(metadata),
            content_hash=metadata.get(HASH_KEY),
            created_at=float(metadata[CREATED_KEY]),
        )

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed", backend=self.backend)

    def _collection(self, name: str) -> _Collection:
        self._check_open()
        check_collection_name(name, self.backend)
        target = self._collections.get(name)
        if target is None:
            raise collection_not_found(name, self.backend)
        return target


def _user_metadata(metadata: dict[str, Any]) -> Any:
    """The caller's metadata, decoded afresh from its exact JSON (so callers never share it)."""
    return load_json(metadata[METADATA_KEY])
