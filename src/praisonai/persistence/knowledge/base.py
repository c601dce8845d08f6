"""The knowledge store contract: collections of embedded documents, searched by vector.

``KnowledgeStore`` is a runtime-checkable Protocol; subclass it explicitly to
inherit the context manager. ``AsyncKnowledgeStore`` is its asyncio twin: the
same methods as coroutines, the same semantics and errors, an async context
manager (every built-in backend has one: ``async_<name>``; see
:mod:`praisonai.persistence.knowledge.offload` for any other store).

Semantics every backend keeps (checked by ``praisonai.persistence.testing``):

- ``search`` returns documents with a ``score``, higher is closer, and the same
  number for the same data on every backend (within float tolerance):
  ``cosine`` -> cosine similarity, ``dot`` -> dot product, ``euclidean`` ->
  ``1 / (1 + L2 distance)``. ``score_threshold`` keeps scores ``>=`` it.
- ``insert`` never overwrites: an id already in the collection raises
  :class:`AlreadyExistsError` and nothing of that call is stored. ``upsert``
  replaces. Documents keep the caller's id, or get a fresh one.
- ``filters`` use the portable language of :mod:`praisonai.persistence.knowledge.filters`;
  an operator a backend cannot express raises :class:`UnsupportedFilterError`.
  Metadata round-trips exactly.
- ``delete`` with neither ``ids`` nor ``filters`` is an error, never "delete all".

The optional extras of :class:`KnowledgeTransfer` are not part of the contract.
The contract cannot list a collection's documents or read back its dimension
and distance, so ``praisonai-persistence migrate`` / ``export`` can read only
from stores that have them (any store can be written to).
"""

from __future__ import annotations

import hashlib
import math
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import mul
from typing import Any, Literal, NamedTuple, Protocol, TypeAlias, runtime_checkable

from .._closing import AsyncClosing, Closing
from .._compat import validate_dimension
from .._compat import validate_nonempty_identifier as validate_identifier
from .._values import DictForm, new_id

__all__ = [
    "DISTANCES",
    "AsyncKnowledgeStore",
    "AsyncKnowledgeTransfer",
    "CollectionInfo",
    "Distance",
    "Filter",
    "KnowledgeDocument",
    "KnowledgeStore",
    "KnowledgeTransfer",
    "score_from_distance",
    "similarity",
    "validate_dimension",
    "validate_identifier",
]

Distance: TypeAlias = Literal["cosine", "dot", "euclidean"]
DISTANCES: tuple[Distance, ...] = ("cosine", "dot", "euclidean")

Filter: TypeAlias = Mapping[str, Any]
"""A filter in the portable language; see :mod:`praisonai.persistence.knowledge.filters`."""


@dataclass(slots=True)
class KnowledgeDocument(DictForm):
    """A piece of content with its embedding. ``score`` is set on search results."""

    id: str = field(default_factory=new_id)
    content: str = ""
    embedding: list[float] | None = None
    metadata: dict[str, Any] | None = None
    content_hash: str | None = None
    created_at: float = field(default_factory=time.time)
    score: float | None = None

    def __post_init__(self) -> None:
        if self.content and not self.content_hash:
            self.content_hash = hashlib.sha256(self.content.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def score_from_distance(distance: Distance, raw: float) -> float:
    """Turn an engine's raw euclidean distance into the portable score; other kinds pass through."""
    return 1.0 / (1.0 + raw) if distance == "euclidean" else raw


def similarity(distance: Distance, a: Sequence[float], b: Sequence[float]) -> float:
    """The portable score of ``b`` for query ``a``: the reference every backend must match."""
    if len(a) != len(b):
        raise ValueError(f"vectors of dimensions {len(a)} and {len(b)}")
    # map(mul) is zip's products without a generator frame: the same numbers, and fsum is exact.
    if distance == "dot":
        return math.fsum(map(mul, a, b))
    if distance == "cosine":
        dot = math.fsum(map(mul, a, b))
        norm = math.sqrt(math.fsum(map(mul, a, a))) * math.sqrt(math.fsum(map(mul, b, b)))
        return dot / norm if norm else 0.0
    return 1.0 / (1.0 + math.sqrt(math.fsum((x - y) ** 2 for x, y in zip(a, b, strict=True))))


@runtime_checkable
class KnowledgeStore(Closing, Protocol):
    """A synchronous vector store for retrieval-augmented generation."""

    @abstractmethod
    def create_collection(
        self,
        name: str,
        dimension: int,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create a collection; raise AlreadyExistsError if it exists."""

    @abstractmethod
    def delete_collection(self, name: str) -> bool: ...

    @abstractmethod
    def collection_exists(self, name: str) -> bool: ...

    @abstractmethod
    def list_collections(self) -> list[str]: ...

    @abstractmethod
    def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        """Add new documents; raise AlreadyExistsError (storing none) if an id is taken."""

    @abstractmethod
    def upsert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]: ...

    @abstractmethod
    def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        """The closest documents, best first, each with its ``score``."""

    @abstractmethod
    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        """The documents that exist among ``ids``, in the order asked."""

    @abstractmethod
    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        """Delete by ids and/or filter; return how many were deleted."""

    @abstractmethod
    def count(self, collection: str) -> int: ...


@runtime_checkable
class AsyncKnowledgeStore(AsyncClosing, Protocol):
    """The asyncio twin of :class:`KnowledgeStore`, with the same semantics and errors."""

    @abstractmethod
    async def create_collection(
        self,
        name: str,
        dimension: int,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create a collection; raise AlreadyExistsError if it exists."""

    @abstractmethod
    async def delete_collection(self, name: str) -> bool: ...

    @abstractmethod
    async def collection_exists(self, name: str) -> bool: ...

    @abstractmethod
    async def list_collections(self) -> list[str]: ...

    @abstractmethod
    async def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        """Add new documents; raise AlreadyExistsError (storing none) if an id is taken."""

    @abstractmethod
    async def upsert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]: ...

    @abstractmethod
    async def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        """The closest documents, best first, each with its ``score``."""

    @abstractmethod
    async def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        """The documents that exist among ``ids``, in the order asked."""

    @abstractmethod
    async def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        """Delete by ids and/or filter; return how many were deleted."""

    @abstractmethod
    async def count(self, collection: str) -> int: ...


class CollectionInfo(NamedTuple):
    """How a collection was created."""

    name: str
    dimension: int
    distance: Distance
    metadata: dict[str, Any] | None


@runtime_checkable
class KnowledgeTransfer(Protocol):
    """Optional extras of a :class:`KnowledgeStore` that let the command line copy it.

    Not part of the contract (the registry does not require them).
    """

    def describe_collection(self, name: str) -> CollectionInfo:
        """The collection's dimension, distance and metadata; NotFoundError if it does not exist."""
        ...

    def iter_documents(self, collection: str, batch_size: int = 1000) -> Iterator[list[KnowledgeDocument]]:
        """Every document of the collection, embeddings included, in lists of at most ``batch_size``,
        each document exactly once, holding one list in memory at a time."""
        ...


@runtime_checkable
class AsyncKnowledgeTransfer(Protocol):
    """The asyncio twin of :class:`KnowledgeTransfer` (optional extras of an :class:`AsyncKnowledgeStore`)."""

    async def describe_collection(self, name: str) -> CollectionInfo:
        """The collection's dimension, distance and metadata; NotFoundError if it does not exist."""
        ...

    def iter_documents(self, collection: str, batch_size: int = 1000) -> AsyncIterator[list[KnowledgeDocument]]:
        """Every document of the collection, as :meth:`KnowledgeTransfer.iter_documents`, asynchronously."""
        ...
