"""In-memory knowledge store: exact brute-force search, by numpy matrix product when installed.

Engine: dicts in this process (no extra needed; ``pip install "praisonai-persistence[numpy]"``
makes search on large collections a matrix product), optionally kept in a JSON file.
URL forms: ``memory://``; ``memory:///srv/k.json`` (absolute, as ``file:///``; ``memory:////srv/k.json`` the same)
(``?autosave=false`` to write only on ``save()`` / ``close()``); or ``path=``.
Test tier: embedded (the store itself, with and without a file).

This is the reference backend: scores are computed with
:func:`~praisonai.persistence.knowledge.base.similarity` and filters with
:func:`~praisonai.persistence.knowledge.filters.matches`, so every other
backend is measured against exactly this behaviour. Search is exact and costs
O(documents x dimension) per query. From ``_layers.matrix.MIN_ROWS`` documents on, with
numpy installed, a float32 matrix product picks a proven superset of the best documents
and only those are scored exactly (same ids, order and scores as without numpy; see
:mod:`._layers.matrix`): 20,000 x 384 is about 1 ms a query instead of ~0.4 s.

Documents are copied on the way in and on the way out, so callers cannot change
what is stored. All operations hold one lock. Search scores every document
exactly as ``similarity`` does (cosine keeps each document's norm between
searches) and copies only the documents it returns.

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
import heapq
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import mul
from pathlib import Path
from typing import Any, cast

from .._files import open_lock_file
from .._files import write_atomically as _write_atomically
from .._values import dump_json, load_json
from ..errors import StoreError
from ._layers import matrix
from ._layers.checks import check_embedding, copy_document
from ._layers.matrix import MatrixIndex
from ._layers.store_base import HeldCollection, InProcessKnowledgeStore
from .base import Distance, KnowledgeDocument, similarity
from .config import MemoryKnowledgeConfig
from .filters import FilterNode, matches

__all__ = ["MemoryKnowledgeStore"]

_FORMAT = "praisonai-knowledge-memory"
_VERSION = 1


@dataclass(slots=True)
class _Collection(HeldCollection):
    # Norms of stored documents, filled by searches. A write drops the entries of the ids it
    # touches, so an entry present belongs to the document stored now (a rollback only loses entries).
    norms: dict[str, float] = field(default_factory=dict)
    # The numpy view of ``documents`` and its rows (built by a search, dropped by every write);
    # see _layers/matrix.py.
    index: tuple[MatrixIndex, list[KnowledgeDocument]] | None = None

    def snapshot(self) -> _Collection:
        return _Collection(self.dimension, self.distance, self.metadata, dict(self.documents))

    def changed(self) -> None:
        self.index = None

    def matrix(self) -> tuple[MatrixIndex, list[KnowledgeDocument]] | None:
        """The numpy index of the documents and its rows, built on demand; None without numpy or
        below ``matrix.MIN_ROWS`` documents."""
        if self.index is None and len(self.documents) >= matrix.MIN_ROWS:
            np = matrix.numpy_or_none()
            if np is not None:
                documents = list(self.documents.values())
                embeddings = [cast("list[float]", document.embedding) for document in documents]
                built = MatrixIndex(np, self.distance, embeddings, [document.metadata for document in documents])
                self.index = (built, documents)
        return self.index


class MemoryKnowledgeStore(InProcessKnowledgeStore[_Collection, MemoryKnowledgeConfig]):
    """Thread-safe in-process vector store with exact search and an optional JSON file."""

    backend = "memory"
    float32_embeddings = False  # Python floats
    handles_zero_vectors = True  # the reference itself

    def __init__(self, config: MemoryKnowledgeConfig | None = None) -> None:
        super().__init__(config or MemoryKnowledgeConfig())
        self._collections: dict[str, _Collection] = {}
        self._path: Path | None = None
        self._lock_fd: int | None = None
        with self._translating:
            if self.config.path is not None:
                self._open_file(Path(self.config.path).expanduser())

    # -- engine primitives (called with the lock held) ------------------------

    def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        created = _Collection(dimension, distance, metadata)

        def change() -> None:
            self._collections[name] = created

        self._commit(change)

    def _drop(self, name: str, target: _Collection) -> None:
        def change() -> None:
            del self._collections[name]

        self._commit(change)

    def _put(self, name: str, target: _Collection, documents: list[KnowledgeDocument], *, overwrite: bool) -> None:
        def change() -> None:
            target.changed()
            for document in documents:
                target.documents[document.id] = document
                target.norms.pop(document.id, None)

        self._commit(change)

    def _search(
        self, name: str, target: _Collection, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        query_norm: float | None = None
        if target.distance == "cosine":
            with contextlib.suppress(OverflowError):  # then similarity() itself fails, if a document is scored
                query_norm = math.sqrt(math.fsum(map(mul, query, query)))
        indexed = target.matrix()
        rows = None if indexed is None else indexed[0].candidates(query, limit, node)
        if indexed is not None and rows is not None:
            # numpy narrowed the field to a superset of the top `limit`; rank it exactly as below.
            documents = indexed[1]
            scored = [(_score(target, query, query_norm, documents[row]), row, documents[row]) for row in rows]
        else:
            scored = [
                (_score(target, query, query_norm, document), row, document)
                for row, document in enumerate(target.documents.values())
                if node is None or matches(node, document.metadata)
            ]
        results = []
        # Best first; equal scores keep insertion order (the index), as a stable sort would.
        for score, _, document in heapq.nsmallest(limit, scored, key=lambda item: (-item[0], item[1])):
            result = copy_document(document)
            result.score = score
            results.append(result)
        return results

    def _discard(self, name: str, target: _Collection, ids: list[str]) -> None:
        def change() -> None:
            target.changed()
            for document_id in ids:
                del target.documents[document_id]
                target.norms.pop(document_id, None)

        self._commit(change)

    def _release(self) -> None:
        try:
            if self._path is not None and not self.config.autosave:
                self._save()
        finally:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    # -- the file -----------------------------------------------------------

    def save(self) -> None:
        """Write the file now (needed only with ``autosave=False``)."""
        with self._held, self._guard:
            if self._path is None:
                raise StoreError("no path was configured; nothing to save to")
            self._save()

    def __repr__(self) -> str:
        return f"MemoryKnowledgeStore(path={self.config.path!r})"

    # -- internals (called with the lock held) ------------------------------

    def _commit(self, change: Callable[[], None]) -> None:
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
                current.changed()
            raise

    def _open_file(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.with_name(path.name + ".lock")
        lock_fd = open_lock_file(lock_path, f"{path} is in use by another store", self.backend)
        try:
            if path.exists():
                self._collections = _load(path)
        except BaseException:
            os.close(lock_fd)
            raise
        self._lock_fd = lock_fd
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
                    "documents": collection.stored_documents(),
                }
                for name, collection in self._collections.items()
            },
        }
        text = dump_json(data, what="collections")
        _write_atomically(self._path, text)


def _score(target: _Collection, query: list[float], query_norm: float | None, document: KnowledgeDocument) -> float:
    """``similarity(target.distance, query, document.embedding)`` to the bit, with the document's norm
    kept between searches and the query's computed once: the same sums in the same order."""
    embedding = cast("list[float]", document.embedding)  # check_documents and _load guarantee one
    if target.distance == "dot":
        return math.fsum(map(mul, query, embedding))
    if target.distance == "cosine" and query_norm is not None:
        dot = math.fsum(map(mul, query, embedding))
        norm = target.norms.get(document.id)
        if norm is None:
            norm = target.norms[document.id] = math.sqrt(math.fsum(map(mul, embedding, embedding)))
        scale = query_norm * norm
        return dot / scale if scale else 0.0
    return similarity(target.distance, query, embedding)


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
                    # Checked like an insert's: search relies on every embedding having the dimension.
                    embedding=check_embedding(item["embedding"], collection.dimension, f"embedding of {item['id']!r}"),
                    metadata=item["metadata"],
                    content_hash=item["content_hash"],
                    created_at=item["created_at"],
                )
            collections[name] = collection
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise StoreError(f"cannot read {path}: {error}") from error
    return collections
