"""The knowledge contract as sans-IO steps: one copy for the sync and the async store bases.

Each ``_step_*`` method is a generator (see :mod:`praisonai.persistence._sansio`)
that yields :class:`~praisonai.persistence._sansio.Call` requests naming a
backend's engine primitive (``Call("_find", (name,))``) and gets its answer
back. :class:`~.store_base.KnowledgeStoreBase` answers them by calling its
primitives, :class:`~.async_store_base.AsyncKnowledgeStoreBase` by awaiting
its async ones; everything else (the order of the calls, the checks, the
errors) is here, so a backend's sync and async forms cannot drift apart.
Errors a primitive raises are thrown back in at its ``yield``
(``throw_in_everything``): ``delete_collection`` catches a lost race there.

The ``_*_args`` methods check a call's arguments before any lock or engine is
touched. The ``_*_call`` operations are the contract's methods themselves
(``_search_call`` is ``search``, with its signature): they check the arguments,
then yield :class:`Held` steps, which each base runs holding its lock (a
thread lock, an asyncio lock) under the call guard; the bases make them
methods with :func:`~praisonai.persistence._sansio.runs` and
:func:`~praisonai.persistence._sansio.runs_async`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from ..._guard import GuardedStore
from ..._sansio import Call, Operation
from ...errors import InvalidInputError, NotFoundError
from ..base import DISTANCES, CollectionInfo, Distance, Filter, KnowledgeDocument
from ..filters import FilterNode
from .checks import (
    check_collection_metadata,
    check_collection_name,
    check_delete_args,
    check_dimension,
    check_distance,
    check_document_ids,
    check_documents,
    check_embedding,
    check_filter_numbers,
    check_float32,
    check_score_threshold,
    check_search_limit,
    collection_exists,
    collection_not_found,
    document_exists,
    parse_filters,
)

__all__ = ["ContractSteps", "EnginePrimitive", "EngineStepsPrimitives", "Held", "above_threshold"]

_LARGE_LIMIT = 10_000
"""A search asking for more results than this is first cut to the collection's size."""


class _Collection(Protocol):
    @property
    def dimension(self) -> int: ...

    @property
    def distance(self) -> Distance: ...

    @property
    def metadata(self) -> dict[str, Any] | None: ...


C = TypeVar("C", bound=_Collection)


def above_threshold(found: list[KnowledgeDocument], threshold: float | None) -> list[KnowledgeDocument]:
    """The results whose score is at least ``threshold`` (all of them when it is None)."""
    if threshold is None:
        return found
    return [document for document in found if document.score is not None and document.score >= threshold]


@dataclass(frozen=True, slots=True)
class Held:
    """A request of a ``_*_call`` operation: run ``steps`` holding the store's lock, under its call guard."""

    steps: Operation[Call, Any]


class EnginePrimitive:
    """A primitive of a backend whose primitives are steps of engine requests: ``_find = EnginePrimitive()``
    runs ``self._find_steps(...)`` (same parameters) with ``self._engine``, which drives it on the sync
    store and returns an awaitable on the async one. One definition serves both stores."""

    __slots__ = ("_steps",)

    def __set_name__(self, owner: type, name: str) -> None:
        self._steps = f"{name}_steps"

    def __get__(self, store: Any, owner: type | None = None) -> Callable[..., Any]:
        if store is None:
            return self  # type: ignore[return-value]  # looked up on the class (ABCMeta's abstract check)
        steps, engine = getattr(store, self._steps), store._engine
        return lambda *args, **kwargs: engine(steps(*args, **kwargs))


class EngineStepsPrimitives:
    """Mixin of a backend's steps class (pgvector, redis, qdrant, lancedb, chroma, milvus) whose engine primitives are
    steps: it writes ``_find_steps`` ... ``_count_steps`` with the primitives' parameters, each of its
    stores an ``_engine(steps)``, and these run one with the other."""

    _find = EnginePrimitive()
    _create = EnginePrimitive()
    _drop = EnginePrimitive()
    _names = EnginePrimitive()
    _taken = EnginePrimitive()
    _put = EnginePrimitive()
    _search = EnginePrimitive()
    _zero_vectors = EnginePrimitive()
    _fetch = EnginePrimitive()
    _remove = EnginePrimitive()
    _count = EnginePrimitive()

    def _zero_vectors_steps(
        self, name: str, target: Any, limit: int, node: FilterNode | None
    ) -> Operation[Any, list[Any]]:
        """None by default: see :meth:`.store_base.KnowledgeStoreBase._zero_vectors`."""
        yield from ()
        return []


class ContractSteps(GuardedStore, Generic[C]):
    """The contract's argument checks and steps, over the primitives ``_find`` ... ``_count``."""

    unsupported_filters: ClassVar[frozenset[str]] = frozenset()
    """Filter operators the engine cannot express: refused with UnsupportedFilterError before any call."""
    max_search_results: ClassVar[int | None] = None
    """The most results the engine returns for one search (Milvus: 16384); a larger ``limit`` is refused.
    Other engines get a ``limit`` above 10,000 cut to the collection's size first."""
    float32_embeddings: bool = True
    """The engine stores embeddings as float32: values beyond its range are refused, not made infinite."""
    exact_filter_numbers: ClassVar[int | None] = None
    """Filter numbers must be below this in magnitude (engines indexing numbers as 64-bit floats: 2**53);
    None: the engine compares any number exactly. See :func:`.checks.check_filter_numbers`."""
    exact_range_numbers: ClassVar[int | None] = None
    """The same bound for ordering operators only (engines with exact equality tokens but float ranges)."""
    exact_float_numbers: ClassVar[int | None] = None
    """The same bound for float filter values only (pgvector's ``jsonb``: floats as shortest decimals)."""
    handles_zero_vectors: ClassVar[bool] = False
    """``_search`` already scores zero vectors as the reference does (the memory store): no correction."""

    def _supported_distances(self) -> Collection[str]:
        return DISTANCES

    # -- argument checks (no engine, no lock) ------------------------------------------

    def _collection_args(
        self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None
    ) -> tuple[str, int, Distance, dict[str, Any] | None]:
        return (
            check_collection_name(name),
            check_dimension(dimension),
            check_distance(distance, self._supported_distances()),
            check_collection_metadata(metadata),
        )

    def _search_args(
        self, limit: int, score_threshold: float | None, filters: Filter | None
    ) -> tuple[int, float | None, FilterNode | None]:
        limit = check_search_limit(limit)
        if self.max_search_results is not None and limit > self.max_search_results:
            raise InvalidInputError(f"limit is {limit}; this engine returns at most {self.max_search_results}")
        return limit, check_score_threshold(score_threshold), self._parse_filters(filters)

    def _parse_filters(self, filters: Filter | None) -> FilterNode | None:
        node = parse_filters(filters, self.unsupported_filters)
        if node is not None:
            self._check_filter_numbers(node)
        return node

    def _check_filter_numbers(self, node: FilterNode) -> None:
        check_filter_numbers(node, self.exact_filter_numbers, self.exact_range_numbers, self.exact_float_numbers)

    def _get_args(self, ids: Sequence[str]) -> list[str]:
        return list(dict.fromkeys(check_document_ids(ids)))

    def _delete_args(
        self, ids: Sequence[str] | None, filters: Filter | None
    ) -> tuple[list[str] | None, FilterNode | None]:
        wanted, node = check_delete_args(ids, filters, self.unsupported_filters)
        if node is not None:
            self._check_filter_numbers(node)
        return (None if wanted is None else list(dict.fromkeys(wanted))), node

    # -- steps ---------------------------------------------------------------------------

    def _step_require(self, name: str) -> Operation[Call, C]:
        """The collection ``name``; NotFoundError if there is none."""
        check_collection_name(name)
        target: C | None = yield Call("_find", (name,))
        if target is None:
            raise collection_not_found(name)
        return target

    def _step_create_collection(
        self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None
    ) -> Operation[Call, None]:
        if (yield Call("_find", (name,))) is not None:
            raise collection_exists(name)
        yield Call("_create", (name, dimension, distance, metadata))

    def _step_delete_collection(self, name: str) -> Operation[Call, bool]:
        target = yield Call("_find", (name,))
        if target is None:
            return False
        try:
            yield Call("_drop", (name, target))
        except NotFoundError:
            return False  # dropped meanwhile by another client: this call deleted nothing
        return True

    def _step_collection_exists(self, name: str) -> Operation[Call, bool]:
        return (yield Call("_find", (name,))) is not None

    def _step_list_collections(self) -> Operation[Call, list[str]]:
        names: Iterable[str] = yield Call("_names")
        return sorted(names)

    def _step_write(
        self, collection: str, documents: Sequence[KnowledgeDocument], overwrite: bool
    ) -> Operation[Call, list[str]]:
        target = yield from self._step_require(collection)
        prepared = check_documents(documents, target.dimension)
        if not prepared:
            return []
        if self.float32_embeddings:
            for index, document in enumerate(prepared):
                assert document.embedding is not None
                check_float32(document.embedding, f"documents[{index}].embedding")
        ids = [document.id for document in prepared]
        if not overwrite:
            taken: Collection[str] = yield Call("_taken", (collection, target, ids))
            if taken:
                raise document_exists(collection, taken)
        yield Call("_put", (collection, target, prepared), {"overwrite": overwrite})
        return ids

    def _step_search(
        self, collection: str, query_embedding: Sequence[float], limit: int, node: FilterNode | None
    ) -> Operation[Call, list[KnowledgeDocument]]:
        target = yield from self._step_require(collection)
        query = check_embedding(query_embedding, target.dimension, "query_embedding")
        if self.float32_embeddings:
            check_float32(query, "query_embedding")
        if limit > _LARGE_LIMIT:
            limit = min(limit, (yield Call("_count", (collection, target))))  # no engine is asked for 2**63
            if limit == 0:
                return []
        return (yield from self._step_ranked_search(collection, target, query, limit, node))

    def _step_ranked_search(
        self, name: str, target: C, query: list[float], limit: int, node: FilterNode | None
    ) -> Operation[Call, list[KnowledgeDocument]]:
        """``_search`` with the reference's cosine semantics for zero vectors on every engine.

        A zero vector has no direction: its cosine with anything is 0.0 (``similarity``). A zero
        query scores every document 0.0 (the engine is asked with a unit vector, for any order).
        Engines that score a zero document NaN and rank it first (RediSearch, llama-index) are asked
        again for more until ``limit`` scored documents are in hand; those whose index skips zero
        documents (pgvector's HNSW) add them through ``_zero_vectors``. Then every zero document
        scores 0.0 and takes its place by score.
        """
        if target.distance != "cosine" or self.handles_zero_vectors:
            found: list[KnowledgeDocument] = yield Call("_search", (name, target, query, limit, node))
            return found
        zero_query = not any(query)
        if zero_query:
            query = [1.0] + [0.0] * (len(query) - 1)
        asked = limit
        while True:
            found = yield Call("_search", (name, target, query, asked, node))
            unscored = sum(1 for document in found if document.score is None or math.isnan(document.score))
            if not unscored or len(found) < asked or len(found) - unscored >= limit:
                break
            if self.max_search_results is not None and asked >= self.max_search_results:
                break
            asked = min(asked * 2, self.max_search_results or asked * 2)
        seen = {document.id for document in found}
        zeros: list[KnowledgeDocument] = yield Call("_zero_vectors", (name, target, limit, node))
        found += [document for document in zeros if document.id not in seen]
        for document in found:
            if zero_query or document.score is None or math.isnan(document.score):
                document.score = 0.0
        found.sort(key=lambda document: -(document.score or 0.0))  # stable: the engine's order among ties
        return found[:limit]

    def _step_get(self, collection: str, wanted: list[str]) -> Operation[Call, list[KnowledgeDocument]]:
        target = yield from self._step_require(collection)
        if not wanted:
            return []
        found: Mapping[str, KnowledgeDocument] = yield Call("_fetch", (collection, target, wanted))
        return [found[document_id] for document_id in wanted if document_id in found]

    def _step_delete(self, collection: str, wanted: list[str] | None, node: FilterNode | None) -> Operation[Call, int]:
        target = yield from self._step_require(collection)
        if wanted is not None and not wanted:
            return 0
        deleted: int = yield Call("_remove", (collection, target, wanted, node))
        return deleted

    def _step_count(self, collection: str) -> Operation[Call, int]:
        target = yield from self._step_require(collection)
        counted: int = yield Call("_count", (collection, target))
        return counted

    def _step_describe(self, name: str) -> Operation[Call, CollectionInfo]:
        target = yield from self._step_require(name)
        metadata = check_collection_metadata(target.metadata)  # a copy
        return CollectionInfo(name, target.dimension, target.distance, metadata)

    # -- the contract's methods (``_search_call`` is ``search``): checks, then Held steps ---------

    def _create_collection_call(
        self,
        name: str,
        dimension: int,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> Operation[Held, None]:
        with self._translating:
            arguments = self._collection_args(name, dimension, distance, metadata)
        yield Held(self._step_create_collection(*arguments))

    def _delete_collection_call(self, name: str) -> Operation[Held, bool]:
        with self._translating:
            name = check_collection_name(name)
        deleted: bool = yield Held(self._step_delete_collection(name))
        return deleted

    def _collection_exists_call(self, name: str) -> Operation[Held, bool]:
        with self._translating:
            name = check_collection_name(name)
        exists: bool = yield Held(self._step_collection_exists(name))
        return exists

    def _list_collections_call(self) -> Operation[Held, list[str]]:
        names: list[str] = yield Held(self._step_list_collections())
        return names

    def _insert_call(self, collection: str, documents: Sequence[KnowledgeDocument]) -> Operation[Held, list[str]]:
        ids: list[str] = yield Held(self._step_write(collection, documents, False))
        return ids

    def _upsert_call(self, collection: str, documents: Sequence[KnowledgeDocument]) -> Operation[Held, list[str]]:
        ids: list[str] = yield Held(self._step_write(collection, documents, True))
        return ids

    def _search_call(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> Operation[Held, list[KnowledgeDocument]]:
        with self._translating:
            limit, threshold, node = self._search_args(limit, score_threshold, filters)
        found: list[KnowledgeDocument] = yield Held(self._step_search(collection, query_embedding, limit, node))
        return above_threshold(found, threshold)

    def _get_call(self, collection: str, ids: Sequence[str]) -> Operation[Held, list[KnowledgeDocument]]:
        with self._translating:
            wanted = self._get_args(ids)
        found: list[KnowledgeDocument] = yield Held(self._step_get(collection, wanted))
        return found

    def _delete_call(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> Operation[Held, int]:
        with self._translating:
            wanted, node = self._delete_args(ids, filters)
        deleted: int = yield Held(self._step_delete(collection, wanted, node))
        return deleted

    def _count_call(self, collection: str) -> Operation[Held, int]:
        counted: int = yield Held(self._step_count(collection))
        return counted

    def _describe_collection_call(self, name: str) -> Operation[Held, CollectionInfo]:
        """The collection's dimension, distance and metadata (see ``KnowledgeTransfer``)."""
        info: CollectionInfo = yield Held(self._step_describe(name))
        return info
