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
- Exact search at the speed of a matrix product: with numpy installed, a cosine
  collection of at least :data:`~.matrix.MIN_ROWS` documents in the
  framework's in-memory store keeps a :class:`~.matrix.MatrixIndex` of the
  vectors written through the adapter (rebuilt on the first search after a write
  through it). The index picks the candidates (a superset of the top k, the filter
  evaluated over columns); the framework's own similarity function then scores
  just those, read afresh from the store, so the scores are the framework's. A
  document changed in the framework store behind the adapter's back is scored as
  it now is, but was chosen (or not) by the vector it had when written.
"""

from __future__ import annotations

import uuid
from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..._values import dump_json, load_json
from ...errors import InvalidInputError, UnsupportedFilterError
from ..base import Distance, KnowledgeDocument
from ..config import LangChainKnowledgeConfig, LlamaIndexKnowledgeConfig
from ..filters import And, Comparison, FilterNode, matches
from . import matrix
from .store_base import KnowledgeStoreBase

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
    # The numpy index of the documents (and their store ids, row by row); None: build on the next search.
    numpy_index: tuple[matrix.MatrixIndex, list[str]] | None = None


class FrameworkKnowledgeStore(KnowledgeStoreBase[_Collection, LangChainKnowledgeConfig | LlamaIndexKnowledgeConfig]):
    """Base of the framework adapters; subclasses speak to the framework store.

    ``close`` leaves the framework store open: it belongs to the caller.
    """

    backend = "framework"
    float32_embeddings = False  # the frameworks' in-memory stores keep Python or numpy float64 values
    _scores_in_process = False  # the wrapped store is the framework's in-memory one: _similarities works

    def __init__(self, config: LangChainKnowledgeConfig | LlamaIndexKnowledgeConfig) -> None:
        super().__init__(config)
        self.vector_store: Any = config.vector_store
        self._collections: dict[str, _Collection] = {}

    # -- what a framework adapter provides -------------------------------------

    @abstractmethod
    def _add(self, items: list[tuple[str, KnowledgeDocument, dict[str, Any]]]) -> None:
        """Write ``(store_id, document, framework_metadata)`` items."""

    @abstractmethod
    def _remove_records(self, store_ids: list[str]) -> None: ...

    @abstractmethod
    def _fetch_records(self, store_ids: list[str]) -> dict[str, StoredRecord]:
        """The records that exist among ``store_ids``."""

    @abstractmethod
    def _exact_search(
        self, query: list[float], limit: int, collection: str, node: FilterNode | None
    ) -> list[Hit] | None:
        """Search the framework's in-memory store with exact filtering, or None if it is another store."""

    @abstractmethod
    def _native_search(self, query: list[float], limit: int, native_filter: Any) -> list[Hit]:
        """Search any store of the framework with a filter from ``filter_translator``."""

    def _similarities(self, query: list[float], vectors: list[list[float]]) -> list[float] | None:
        """The framework's cosine similarity of ``query`` to each vector, with its own function (as its
        in-memory store scores); None where the wrapped store is not the in-memory one."""
        return None

    # -- engine primitives (called with the lock held) --------------------------------

    def _supported_distances(self) -> tuple[Distance]:
        return (self.config.distance,)

    def _find(self, name: str) -> _Collection | None:
        return self._collections.get(name)

    def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        self._collections[name] = _Collection(dimension, distance, metadata)

    def _drop(self, name: str, target: _Collection) -> None:
        if target.ids:
            self._remove_records(list(target.ids.values()))
        del self._collections[name]

    def _names(self) -> list[str]:
        return list(self._collections)

    def _taken(self, name: str, target: _Collection, ids: list[str]) -> list[str]:
        return [document_id for document_id in ids if document_id in target.ids]

    def _put(self, name: str, target: _Collection, documents: list[KnowledgeDocument], *, overwrite: bool) -> None:
        target.numpy_index = None
        replaced = [target.ids[document.id] for document in documents if document.id in target.ids]
        if replaced:
            self._remove_records(replaced)
            for document in documents:
                target.ids.pop(document.id, None)
        items = [
            (self.store_id(name, document.id), document, self.framework_metadata(name, document))
            for document in documents
        ]
        self._add(items)
        for store_id, document, _ in items:
            target.ids[document.id] = store_id

    def _search(
        self, name: str, target: _Collection, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        if not target.ids:
            return []
        hits = self._matrix_search(target, query, min(limit, len(target.ids)), node)
        if hits is None:
            hits = self._exact_search(query, min(limit, len(target.ids)), name, node)
        if hits is None:
            translator = self.config.filter_translator
            if translator is None:
                raise UnsupportedFilterError(
                    f"{type(self.vector_store).__name__} is not the framework's in-memory store: give "
                    "filter_translator to turn filters (every search filters by collection) into its native form"
                )
            scope: FilterNode = Comparison(COLLECTION_KEY, "$eq", name)
            hits = self._native_search(query, limit, translator(scope if node is None else And((scope, node))))
        missing = [hit.store_id for hit in hits if hit.record is None]
        fetched = self._fetch_records(missing) if missing else {}
        transform = self.config.score_transform
        results = []
        for hit in hits:
            record = hit.record or fetched.get(hit.store_id)
            if record is None or record.metadata.get(COLLECTION_KEY) != name:
                continue  # deleted meanwhile, or a document this adapter did not write
            document = self._document(record)
            document.score = float(transform(hit.raw_score) if transform is not None else hit.raw_score)
            results.append(document)
        results.sort(key=lambda document: -(document.score or 0.0))
        return results[:limit]

    def _matrix_search(
        self, target: _Collection, query: list[float], limit: int, node: FilterNode | None
    ) -> list[Hit] | None:
        """The top ``limit`` through the numpy index (see the module docstring); None: take the framework's path."""
        if target.distance != "cosine" or len(target.ids) < matrix.MIN_ROWS or not self._scores_in_process:
            return None
        np = matrix.numpy_or_none()
        if np is None:
            return None
        if target.numpy_index is None:
            store_ids = list(target.ids.values())
            records = self._fetch_records(store_ids)
            stored = [records.get(store_id) for store_id in store_ids]
            vectors = [record.embedding for record in stored if record is not None and record.embedding is not None]
            if len(vectors) != len(store_ids):  # changed behind the adapter's back: leave it to the framework
                return None
            metadatas = [_user_metadata(record.metadata) for record in stored if record is not None]
            target.numpy_index = (matrix.MatrixIndex(np, "cosine", vectors, metadatas), store_ids)
        index, store_ids = target.numpy_index
        rows = index.candidates(query, limit, node)
        if rows is None:
            return None
        chosen = [store_ids[row] for row in rows]
        records = self._fetch_records(chosen)
        present = [store_id for store_id in chosen if store_id in records and records[store_id].embedding is not None]
        if not present:
            return []
        scores = self._similarities(query, [records[store_id].embedding or [] for store_id in present])
        if scores is None:
            return None
        return [Hit(store_id, score, records[store_id]) for store_id, score in zip(present, scores, strict=True)]

    def _fetch(self, name: str, target: _Collection, ids: list[str]) -> dict[str, KnowledgeDocument]:
        present = [document_id for document_id in ids if document_id in target.ids]
        if not present:
            return {}
        records = self._fetch_records([target.ids[document_id] for document_id in present])
        return {
            document_id: self._document(records[target.ids[document_id]])
            for document_id in present
            if target.ids[document_id] in records
        }

    def _remove(self, name: str, target: _Collection, ids: list[str] | None, node: FilterNode | None) -> int:
        candidates = [document_id for document_id in (target.ids if ids is None else ids) if document_id in target.ids]
        if node is not None and candidates:
            records = self._fetch_records([target.ids[document_id] for document_id in candidates])
            candidates = [
                document_id
                for document_id in candidates
                if target.ids[document_id] in records
                and matches(node, _user_metadata(records[target.ids[document_id]].metadata))
            ]
        if candidates:
            target.numpy_index = None
            self._remove_records([target.ids[document_id] for document_id in candidates])
            for document_id in candidates:
                del target.ids[document_id]
        return len(candidates)

    def _count(self, name: str, target: _Collection) -> int:
        return len(target.ids)

    def _scan(self, name: str, target: _Collection, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        for current, batch in self._batches_of(name, list(target.ids), batch_size):
            wanted = [current.ids[i] for i in batch if i in current.ids]
            records = self._fetch_records(wanted) if wanted else {}
            yield [self._document(records[store_id]) for store_id in wanted if store_id in records]

    # -- helpers for subclasses -------------------------------------------------------

    def store_id(self, collection: str, document_id: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{collection}\x00{document_id}"))

    def framework_metadata(self, collection: str, document: KnowledgeDocument) -> dict[str, Any]:
        """The metadata written to the framework store: reserved keys plus scalar copies for native filters."""
        metadata: dict[str, Any] = {}
        for key, value in (document.metadata or {}).items():
            if key.startswith(RESERVED_PREFIX):
                raise InvalidInputError(f"metadata key {key!r} is reserved by the {self.backend} adapter")
            if isinstance(value, (str, int, float, bool)) and key not in self._framework_keys():
                metadata[key] = value
        metadata[COLLECTION_KEY] = collection
        metadata[ID_KEY] = document.id
        metadata[METADATA_KEY] = dump_json(document.metadata, what="metadata")
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


def _user_metadata(metadata: dict[str, Any]) -> Any:
    """The caller's metadata, decoded afresh from its exact JSON (so callers never share it)."""
    return load_json(metadata[METADATA_KEY])
