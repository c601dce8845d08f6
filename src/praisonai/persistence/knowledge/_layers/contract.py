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
touched.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

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
    check_score_threshold,
    check_search_limit,
    collection_exists,
    collection_not_found,
    document_exists,
    parse_filters,
)

__all__ = ["ContractSteps", "above_threshold"]


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


class ContractSteps(Generic[C]):
    """The contract's argument checks and steps, over the primitives ``_find`` ... ``_count``."""

    unsupported_filters: ClassVar[frozenset[str]] = frozenset()
    """Filter operators the engine cannot express: refused with UnsupportedFilterError before any call."""
    max_search_results: ClassVar[int | None] = None
    """The most results the engine returns for one search (Milvus: 16384); a larger ``limit`` is refused."""

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
        return limit, check_score_threshold(score_threshold), parse_filters(filters, self.unsupported_filters)

    def _get_args(self, ids: Sequence[str]) -> list[str]:
        return list(dict.fromkeys(check_document_ids(ids)))

    def _delete_args(
        self, ids: Sequence[str] | None, filters: Filter | None
    ) -> tuple[list[str] | None, FilterNode | None]:
        wanted, node = check_delete_args(ids, filters, self.unsupported_filters)
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
        found: list[KnowledgeDocument] = yield Call("_search", (collection, target, query, limit, node))
        return found

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
