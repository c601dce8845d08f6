"""The knowledge contract written once, on top of a backend's engine primitives.

:class:`KnowledgeStoreBase` does everything the contract asks that is not a
call to the engine, in the same order on every backend built on it (memory,
lightrag, the framework adapters, chroma, lancedb, milvus, qdrant, pgvector,
redis, clickhouse, surrealdb_vector, and the hosted services of
:mod:`.hosted_store`), so their
semantics cannot drift apart:

- arguments are checked with :mod:`.checks` before the engine is touched
  (filters included, with the operators in ``unsupported_filters`` refused);
- each call holds :attr:`~KnowledgeStoreBase._held`, the store's lock (pgvector
  holds a pooled connection instead, so its calls run in parallel), and runs
  under the call guard of :mod:`praisonai.persistence._guard`: after
  :meth:`~KnowledgeStoreBase.close` (idempotent) it raises
  :class:`~praisonai.persistence.errors.StoreClosedError`, and an engine error
  escaping it (or a backend's connecting in ``__init__``, run under
  ``self._translating``) becomes one of the documented errors, through the
  backend's ``_translate_error`` for its own mappings;
- a missing collection is :class:`NotFoundError` (``delete_collection`` and
  ``collection_exists`` say False), creating an existing one
  :class:`AlreadyExistsError`; ``insert`` refuses (storing nothing) when an id
  is taken; ``get`` answers in the order asked, each id once; ``search`` keeps
  the scores ``>= score_threshold``; ``delete`` never means "delete all";
- the :class:`~..base.KnowledgeTransfer` extras.

A backend implements the ``_find`` ... ``_scan`` primitives below. Each is
called inside ``_held`` and the guard, the store open and its arguments validated; ``C`` is
what the backend's ``_find`` returns for an existing collection (its handle,
with at least the collection's dimension, distance and metadata); ``K`` is its config
model, which ``__init__(config)`` keeps as ``self.config``. :class:`HeldCollection` is the
handle of the stores that hold their documents in this process.

``_scan`` pages: :func:`read_pages` is the loop (read at a position until a page is empty),
:meth:`KnowledgeStoreBase._pages_of` the same with the collection looked up again between pages,
and :class:`OffsetPagedStore` the ``_scan`` of the backends whose steps read a page at an offset.
"""

from __future__ import annotations

import math
import threading
from abc import abstractmethod
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar

from typing_extensions import TypeVar as DefaultedTypeVar

from ..._sansio import Call, Operation, drive, runs, throw_in_everything
from ..._values import check_limit, dump_json, load_json
from ..base import Distance, KnowledgeDocument, KnowledgeStore
from ..filters import FilterNode, matches
from .checks import check_collection_name, collection_not_found, copy_document
from .contract import C, ContractSteps, Held, _Collection

if TYPE_CHECKING:
    from ..._config import StoreConfig

__all__ = [
    "CollectionSettings",
    "InProcessKnowledgeStore",
    "KnowledgeStoreBase",
    "OffsetPagedStore",
    "OpenedCollection",
    "raised_by",
    "read_pages",
    "score_of_distance",
]


R = TypeVar("R")


class _HeldCollection(_Collection, Protocol):
    documents: dict[str, KnowledgeDocument]  # by id, in insertion order; never shared with callers


H = TypeVar("H", bound=_HeldCollection)
P = TypeVar("P")
S = TypeVar("S", bound=Sequence[Any])
K = DefaultedTypeVar("K", bound="StoreConfig", default=Any)
"""The backend's config model, kept as ``self.config``."""


class CollectionSettings(NamedTuple):
    """How a collection was created, for backends that keep it as JSON text (see :meth:`to_json`)."""

    dimension: int
    distance: Distance
    metadata: dict[str, Any] | None

    def to_json(self) -> str:
        return dump_json({"dimension": self.dimension, "distance": self.distance, "metadata": self.metadata})

    @classmethod
    def from_json(cls, text: str | bytes) -> CollectionSettings:
        stored = load_json(text)
        return cls(int(stored["dimension"]), stored["distance"], stored["metadata"])


class OpenedCollection(NamedTuple):
    """A collection found by ``_find`` on engines that hand out a collection object (Chroma, LanceDB)."""

    native: Any  # the engine's collection (Chroma) or table (LanceDB)
    dimension: int
    distance: Distance
    metadata: dict[str, Any] | None


def score_of_distance(distance: Distance, raw: float) -> float:
    """The portable score of the distance Chroma, LanceDB and RediSearch report: ``1 - d`` for their
    cosine and inner-product distances, ``1 / (1 + sqrt(d))`` for their *squared* L2 distance."""
    if distance == "euclidean":
        return 1.0 / (1.0 + math.sqrt(max(raw, 0.0)))
    return 1.0 - raw


def error_chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and the errors it was raised from or while handling, each once (for telling engine errors apart)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def raised_by(error: BaseException, names: Collection[str], texts: Sequence[str] = ()) -> bool:
    """Whether ``error``, or an error it was raised from or while handling, is of a class named in
    ``names`` or says one of ``texts``: drivers' errors told apart without importing their classes."""
    return any(
        type(current).__name__ in names or any(text in str(current) for text in texts) for current in error_chain(error)
    )


def read_pages(read: Callable[[P], S], start: P, advance: Callable[[P, S], P]) -> Iterator[S]:
    """The pages ``read(position)`` answers, from ``start`` on, until one is empty: the paging of a
    backend's ``_scan``. After each page the position moves on to ``advance(position, page)`` (an
    offset plus the page's length, or the page's last id)."""
    position = start
    while True:
        page = read(position)
        if not page:
            return
        yield page
        position = advance(position, page)


class KnowledgeStoreBase(ContractSteps[C], KnowledgeStore, Generic[C, K]):
    """The knowledge contract on top of ``_find`` ... ``_scan`` (called with ``_held`` held, under the guard).

    The contract itself is :class:`~.contract.ContractSteps`'s, shared with the async base.
    """

    def __init__(self, config: K) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._closed = False

    # -- engine primitives ------------------------------------------------------

    @abstractmethod
    def _find(self, name: str) -> C | None:
        """The collection ``name``, or None if there is none (or it is not one of this backend's)."""

    @abstractmethod
    def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        """Create the collection (``_find`` just found none); raise ``collection_exists`` on a lost race."""

    @abstractmethod
    def _drop(self, name: str, target: C) -> None:
        """Drop the collection; raise ``collection_not_found`` if another client dropped it meanwhile."""

    @abstractmethod
    def _names(self) -> Iterable[str]:
        """The names of this backend's collections, in any order."""

    @abstractmethod
    def _taken(self, name: str, target: C, ids: list[str]) -> Collection[str]:
        """The ids among ``ids`` that are stored already. A backend whose ``_put`` checks while it
        writes (raising ``document_exists``, storing nothing) may answer none here."""

    @abstractmethod
    def _put(self, name: str, target: C, documents: list[KnowledgeDocument], *, overwrite: bool) -> None:
        """Store ``documents`` (validated copies, at least one); ``overwrite`` replaces stored ones."""

    @abstractmethod
    def _search(
        self, name: str, target: C, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        """At most ``limit`` documents matching ``node`` (None: all), nearest first, each with its score."""

    @abstractmethod
    def _fetch(self, name: str, target: C, ids: list[str]) -> Mapping[str, KnowledgeDocument]:
        """The stored documents among ``ids`` (distinct, at least one), by id."""

    @abstractmethod
    def _remove(self, name: str, target: C, ids: list[str] | None, node: FilterNode | None) -> int:
        """Delete the documents among ``ids`` (distinct, at least one; None: any) that match ``node``
        (None: all); ``ids`` and ``node`` are never both None. How many were deleted."""

    @abstractmethod
    def _count(self, name: str, target: C) -> int: ...

    @abstractmethod
    def _scan(self, name: str, target: C, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        """Every document, embeddings included, at most ``batch_size`` at a time. Each page is read
        with the lock held and the store open (a page may look the collection up again)."""

    def _release(self) -> None:
        """Release the engine; ``close`` calls this once."""

    def _run_steps(self, steps: Operation[Call, R]) -> R:
        """Run contract steps, each request a call of one of the primitives above."""
        return drive(steps, self._primitive, throw_in_everything)

    def _primitive(self, call: Call) -> Any:
        return getattr(self, call.method)(*call.args, **(call.kwargs or {}))

    def _zero_vectors(self, name: str, target: C, limit: int, node: FilterNode | None) -> list[KnowledgeDocument]:
        """At most ``limit`` documents with an all-zero embedding matching ``node``, for a cosine
        collection whose engine leaves them out of its searches (its index skips them); others: none."""
        return []

    # -- the contract: ContractSteps' operations, each Held request run with ``_held`` held ----

    def _drive(self, operation: Operation[Held, R]) -> R:
        return drive(operation, self._run_held)

    def _run_held(self, held: Held) -> Any:
        with self._held, self._guard:
            return self._run_steps(held.steps)

    create_collection = runs(ContractSteps._create_collection_call)
    delete_collection = runs(ContractSteps._delete_collection_call)
    collection_exists = runs(ContractSteps._collection_exists_call)
    list_collections = runs(ContractSteps._list_collections_call)
    insert = runs(ContractSteps._insert_call)
    upsert = runs(ContractSteps._upsert_call)
    search = runs(ContractSteps._search_call)
    get = runs(ContractSteps._get_call)
    delete = runs(ContractSteps._delete_call)
    count = runs(ContractSteps._count_call)

    # -- KnowledgeTransfer extras (for migrate / export) -------------------------------

    describe_collection = runs(ContractSteps._describe_collection_call)

    def iter_documents(self, collection: str, batch_size: int = 1000) -> Iterator[list[KnowledgeDocument]]:
        """Every document, embeddings included, ``batch_size`` at a time (see ``KnowledgeTransfer``)."""
        with self._translating:
            size = check_limit(batch_size, what="batch_size", allow_zero=False)
        with self._held, self._guard:
            pages = self._scan(collection, self._require(collection), size)
        try:
            while True:
                with self._held, self._guard:
                    page = next(pages, None)
                if page is None:
                    return
                if page:
                    yield page
        finally:
            if isinstance(pages, Generator):
                pages.close()  # runs the scan's own clean-up now, not when it is collected

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        with self._lock, self._translating:
            if self._closed:
                return
            self._closed = True
            self._release()

    # -- helpers for backends ------------------------------------------------------------

    @property
    def _held(self) -> AbstractContextManager[Any]:
        """What one call holds while it runs: the store's lock (pgvector: a pooled connection)."""
        return self._lock

    def _require(self, name: str) -> C:
        """The collection ``name``; NotFoundError if there is none."""
        check_collection_name(name)
        target = self._find(name)
        if target is None:
            raise collection_not_found(name)
        return target

    def _batches_of(self, name: str, ids: list[str], batch_size: int) -> Iterator[tuple[C, list[str]]]:
        """``ids`` (a snapshot of the collection's) in batches of ``batch_size``, each with the collection
        looked up again (NotFoundError once it has been dropped): the ``_scan`` of the stores that hold
        their documents' ids in this process. A batch's ids may be gone since the snapshot."""
        for start in range(0, len(ids), batch_size):
            yield self._require(name), ids[start : start + batch_size]

    def _pages_of(
        self, name: str, target: C, read: Callable[[C, P], S], start: P, advance: Callable[[P, S], P]
    ) -> Iterator[S]:
        """:func:`read_pages` with the collection's handle: ``read(handle, position)`` reads the first page
        from ``target``, each later one from the collection looked up again (a fresh handle; NotFoundError
        once it has been dropped)."""
        first = True

        def page(position: P) -> S:
            nonlocal first
            handle, first = (target if first else self._require(name)), False
            return read(handle, position)

        return read_pages(page, start, advance)


class OffsetPagedStore(KnowledgeStoreBase[C, K]):
    """A store whose ``_scan`` reads pages at growing offsets (chroma, lancedb): the steps
    ``_page_steps(target, offset, limit)``, run by its ``_engine``."""

    @abstractmethod
    def _engine(self, steps: Operation[Any, R]) -> R: ...

    @abstractmethod
    def _page_steps(self, target: C, offset: int, limit: int) -> Operation[Any, list[KnowledgeDocument]]: ...

    def _scan(self, name: str, target: C, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        return self._pages_of(
            name,
            target,
            lambda current, offset: self._engine(self._page_steps(current, offset, batch_size)),
            0,
            lambda offset, documents: offset + len(documents),
        )


@dataclass(slots=True)
class HeldCollection:
    """A collection held in this process: how it was created and its documents (the in-process stores' base)."""

    dimension: int
    distance: Distance
    metadata: dict[str, Any] | None
    # Insertion-ordered; stored documents are never mutated, only replaced.
    documents: dict[str, KnowledgeDocument] = field(default_factory=dict)

    def stored_documents(self) -> list[dict[str, Any]]:
        """The documents as the JSON the in-process stores save to their files, in insertion order."""
        return [
            {
                "id": document.id,
                "content": document.content,
                "embedding": document.embedding,
                "metadata": document.metadata,
                "content_hash": document.content_hash,
                "created_at": document.created_at,
            }
            for document in self.documents.values()
        ]


class InProcessKnowledgeStore(KnowledgeStoreBase[H, K]):
    """A store that holds every collection's documents in this process (``memory``; ``lightrag``'s copies).

    ``_collections`` maps each name to a collection with a ``documents`` dict;
    ``get``, ``delete``, ``count`` and the scan read it (filters with the
    reference :func:`~..filters.matches`) and return copies. A backend adds the
    writes (``_create``, ``_drop``, ``_put``, :meth:`_discard`) and ``_search``.
    """

    _collections: dict[str, H]

    @abstractmethod
    def _discard(self, name: str, target: H, ids: list[str]) -> None:
        """Delete the stored documents ``ids`` of the collection."""

    def _find(self, name: str) -> H | None:
        return self._collections.get(name)

    def _names(self) -> list[str]:
        return list(self._collections)

    def _taken(self, name: str, target: H, ids: list[str]) -> list[str]:
        return [document_id for document_id in ids if document_id in target.documents]

    def _fetch(self, name: str, target: H, ids: list[str]) -> dict[str, KnowledgeDocument]:
        documents = target.documents
        return {document_id: copy_document(documents[document_id]) for document_id in ids if document_id in documents}

    def _remove(self, name: str, target: H, ids: list[str] | None, node: FilterNode | None) -> int:
        documents = target.documents
        doomed = [
            document_id
            for document_id in (documents if ids is None else ids)
            if document_id in documents and (node is None or matches(node, documents[document_id].metadata))
        ]
        if doomed:
            self._discard(name, target, doomed)
        return len(doomed)

    def _count(self, name: str, target: H) -> int:
        return len(target.documents)

    def _scan(self, name: str, target: H, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        for current, batch in self._batches_of(name, list(target.documents), batch_size):
            yield [copy_document(current.documents[i]) for i in batch if i in current.documents]
