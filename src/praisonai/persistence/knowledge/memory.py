"""In-memory knowledge store: exact brute-force search in pure Python.

Engine: dicts in this process (no extra needed), optionally kept in a JSON file.
URL forms: ``memory://``; ``memory:///relative.json`` or ``memory:////absolute.json``
(``?autosave=false`` to write only on ``save()`` / ``close()``); or ``path=``.
Test tier: embedded (the store itself, with and without a file).

This is the reference backend: scores are computed with
:func:`~praisonai.persistence.knowledge.base.similarity` and filters with
:func:`~praisonai.persistence.knowledge.filters.matches`, so every other
backend is measured against exactly this behaviour. Search is exact and costs
O(documents x dimension) per query: meant for tests, notebooks and small corpora.

Documents are copied on the way in and on the way out, so callers cannot change
what is stored. All operations hold one lock.

With a ``path``, the collections are loaded when the store opens. With
``autosave=True`` (the default) every write rewrites the whole file before it
returns: the new contents go to a temporary file in the same directory, which
is fsynced and renamed over the old one (then the directory is fsynced), so the
file always holds either the state before or after a write, never a torn one.
If that write fails, the change is rolled back in memory and the error raised.
With ``autosave=False`` the file is written the same way only by ``save()`` and
``close()``. An exclusive lock on ``<path>.lock`` keeps a second store (in this
or another process) from opening the same file while the first is open.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .._values import check_limit, dump_json, load_json
from ..errors import StoreError
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
    copy_document,
    document_exists,
    parse_filters,
)
from .base import CollectionInfo, Distance, Filter, KnowledgeDocument, KnowledgeStore, similarity
from .config import MemoryKnowledgeConfig
from .filters import matches

__all__ = ["MemoryKnowledgeStore"]

_FORMAT = "praisonai-knowledge-memory"
_VERSION = 1


@dataclass(slots=True)
class _Collection:
    dimension: int
    distance: Distance
    metadata: dict[str, Any] | None
    # Insertion-ordered; stored documents are never mutated, only replaced.
    documents: dict[str, KnowledgeDocument] = field(default_factory=dict)

    def snapshot(self) -> _Collection:
        return _Collection(self.dimension, self.distance, self.metadata, dict(self.documents))


class MemoryKnowledgeStore(KnowledgeStore):
    """Thread-safe in-process vector store with exact search and an optional JSON file."""

    backend = "memory"

    def __init__(self, config: MemoryKnowledgeConfig | None = None) -> None:
        self.config = config or MemoryKnowledgeConfig()
        self._lock = threading.Lock()
        self._collections: dict[str, _Collection] = {}
        self._closed = False
        self._path: Path | None = None
        self._lock_file: IO[str] | None = None
        if self.config.path is not None:
            self._open_file(Path(self.config.path).expanduser())

    # -- collections --------------------------------------------------------

    def create_collection(
        self,
        name: str,
        dimension: int,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        name = check_collection_name(name, self.backend)
        dimension = check_dimension(dimension, self.backend)
        distance = check_distance(distance, self.backend)
        copied = check_collection_metadata(metadata, self.backend)
        with self._lock:
            self._check_open()
            if name in self._collections:
                raise collection_exists(name, self.backend)
            created = _Collection(dimension, distance, copied)

            def change() -> None:
                self._collections[name] = created

            self._write(change)

    def delete_collection(self, name: str) -> bool:
        name = check_collection_name(name, self.backend)
        with self._lock:
            self._check_open()
            if name not in self._collections:
                return False

            def change() -> None:
                del self._collections[name]

            self._write(change)
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

    # -- documents ----------------------------------------------------------

    def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        with self._lock:
            target = self._collection(collection)
            prepared = check_documents(documents, target.dimension, self.backend)
            taken = [document.id for document in prepared if document.id in target.documents]
            if taken:
                raise document_exists(collection, taken, self.backend)
            self._write(lambda: _put_all(target, prepared))
            return [document.id for document in prepared]

    def upsert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        with self._lock:
            target = self._collection(collection)
            prepared = check_documents(documents, target.dimension, self.backend)
            self._write(lambda: _put_all(target, prepared))
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
            scored: list[tuple[float, KnowledgeDocument]] = []
            for document in target.documents.values():
                if node is not None and not matches(node, document.metadata):
                    continue
                assert document.embedding is not None  # check_documents guarantees it
                score = similarity(target.distance, query, document.embedding)
                if threshold is None or score >= threshold:
                    scored.append((score, document))
            # Stable: equal scores keep insertion order.
            scored.sort(key=lambda pair: -pair[0])
            results = []
            for score, document in scored[:limit]:
                result = copy_document(document)
                result.score = score
                results.append(result)
            return results

    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        wanted = check_document_ids(ids, self.backend)
        with self._lock:
            target = self._collection(collection)
            found: list[KnowledgeDocument] = []
            seen: set[str] = set()
            for document_id in wanted:
                document = target.documents.get(document_id)
                if document is not None and document_id not in seen:
                    seen.add(document_id)
                    found.append(copy_document(document))
            return found

    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        wanted, node = check_delete_args(ids, filters, self.backend)
        with self._lock:
            target = self._collection(collection)
            candidates = target.documents if wanted is None else dict.fromkeys(wanted)
            doomed = [
                document_id
                for document_id in candidates
                if document_id in target.documents
                and (node is None or matches(node, target.documents[document_id].metadata))
            ]
            if doomed:

                def change() -> None:
                    for document_id in doomed:
                        del target.documents[document_id]

                self._write(change)
            return len(doomed)

    def count(self, collection: str) -> int:
        with self._lock:
            return len(self._collection(collection).documents)

    # -- KnowledgeTransfer --------------------------------------------------

    def describe_collection(self, name: str) -> CollectionInfo:
        with self._lock:
            target = self._collection(name)
            return CollectionInfo(
                name, target.dimension, target.distance, check_collection_metadata(target.metadata, self.backend)
            )

    def iter_documents(self, collection: str, batch_size: int = 1000) -> Iterator[list[KnowledgeDocument]]:
        size = check_limit(batch_size, self.backend, "batch_size", allow_zero=False)
        with self._lock:
            ids = list(self._collection(collection).documents)
        for start in range(0, len(ids), size):
            with self._lock:
                documents = self._collection(collection).documents
                batch = [copy_document(documents[i]) for i in ids[start : start + size] if i in documents]
            if batch:
                yield batch

    # -- lifecycle ----------------------------------------------------------

    def save(self) -> None:
        """Write the file now (needed only with ``autosave=False``)."""
        with self._lock:
            self._check_open()
            if self._path is None:
                raise StoreError("no path was configured; nothing to save to", backend=self.backend)
            self._save()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._path is not None and not self.config.autosave:
                    self._save()
            finally:
                if self._lock_file is not None:
                    self._lock_file.close()
                    self._lock_file = None

    def __repr__(self) -> str:
        return f"MemoryKnowledgeStore(path={self.config.path!r})"

    # -- internals (called with the lock held) ------------------------------

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

    def _write(self, change: Callable[[], None]) -> None:
        """Apply ``change()``; with autosave, persist it or roll it back."""
        if self._path is None or not self.config.autosave:
            change()
            return
        backup = {name: collection.snapshot() for name, collection in self._collections.items()}
        change()
        try:
            self._save()
        except BaseException:
            # Restore the same _Collection objects' contents so outstanding references stay valid.
            for name in list(self._collections):
                if name not in backup:
                    del self._collections[name]
            for name, saved in backup.items():
                current = self._collections.setdefault(name, saved)
                current.documents = saved.documents
            raise

    def _open_file(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.with_name(path.name + ".lock")
        lock_file = open(lock_path, "a", encoding="utf-8")  # noqa: SIM115 - held for the store's life
        try:
            _lock_exclusively(lock_file, path)
            if path.exists():
                self._collections = _load(path)
        except BaseException:
            lock_file.close()
            raise
        self._lock_file = lock_file
        self._path = path

    def _save(self) -> None:
        assert self._path is not None
        data = {
            "format": _FORMAT,
            "version": _VERSION,
            "collections": {
                name: {
                    "dimension": collection.dimension,
                    "distance": collection.distance,
                    "metadata": collection.metadata,
                    "documents": [
                        {
                            "id": document.id,
                            "content": document.content,
                            "embedding": document.embedding,
                            "metadata": document.metadata,
                            "content_hash": document.content_hash,
                            "created_at": document.created_at,
                        }
                        for document in collection.documents.values()
                    ],
                }
                for name, collection in self._collections.items()
            },
        }
        text = dump_json(data, self.backend, "collections")
        _write_atomically(self._path, text)


def _put_all(collection: _Collection, documents: list[KnowledgeDocument]) -> None:
    for document in documents:
        collection.documents[document.id] = document


def _load(path: Path) -> dict[str, _Collection]:
    try:
        data = load_json(path.read_bytes())
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError("not a memory knowledge store file")
        if data.get("version") != _VERSION:
            raise ValueError(f"unsupported version {data.get('version')!r}")
        collections: dict[str, _Collection] = {}
        for name, raw in data["collections"].items():
            collection = _Collection(raw["dimension"], raw["distance"], raw["metadata"])
            for item in raw["documents"]:
                collection.documents[item["id"]] = KnowledgeDocument(
                    id=item["id"],
                    content=item["content"],
                    embedding=item["embedding"],
                    metadata=item["metadata"],
                    content_hash=item["content_hash"],
                    created_at=item["created_at"],
                )
            collections[name] = collection
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise StoreError(f"cannot read {path}: {error}", backend="memory") from error
    return collections


def _write_atomically(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _lock_exclusively(file: IO[str], path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one store per file is the caller's duty
        return
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise StoreError(f"{path} is in use by another store", backend="memory") from None


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
