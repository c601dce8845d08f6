"""The search and filter part of the knowledge contract suite, and the fixtures and helpers it shares.

:class:`~praisonai.persistence.testing.KnowledgeStoreContract` (in :mod:`.knowledge`)
inherits it; backends subclass that, not this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from ..errors import InvalidInputError, UnsupportedFilterError
from ..knowledge._layers.checks import FILTER_OPERATORS, filter_operators
from ..knowledge.base import DISTANCES, Distance, KnowledgeStore, similarity
from ..knowledge.filters import matches, parse_filter
from ._knowledge_data import (
    DELETE_FILTERS,
    FILTER_DATA,
    FILTER_DIMENSION,
    FILTER_DOCUMENTS,
    FILTERS,
    MALFORMED_FILTERS,
    NULL_FILTERS,
    SCORE_TOLERANCE,
    _close,
    _document,
    _ids,
    _unique,
    _vectors,
)
from ._support import StoreContractBase

__all__ = ["KnowledgeSearchContract"]


class KnowledgeSearchContract(StoreContractBase[KnowledgeStore]):
    """The fixtures, helpers, search and filter tests of :class:`KnowledgeStoreContract`."""

    protocol = KnowledgeStore
    wanted = "yield a fresh, empty KnowledgeStore"

    unsupported_filter_operators: ClassVar[frozenset[str]] = frozenset()
    supported_distances: ClassVar[tuple[Distance, ...]] = DISTANCES

    # -- helpers ----------------------------------------------------------------

    def _collection(self, store: KnowledgeStore, dimension: int = 8, distance: Distance | None = None) -> str:
        name = _unique()
        store.create_collection(name, dimension, distance or self.supported_distances[0])
        return name

    def _filter_collection(self, store: KnowledgeStore) -> str:
        name = self._collection(store, FILTER_DIMENSION)
        store.insert(name, [_document(i, vector, **metadata) for i, vector, metadata in FILTER_DATA])
        return name

    def _is_unsupported(self, filters: Mapping[str, Any]) -> bool:
        return bool(filter_operators(parse_filter(filters)) & self.unsupported_filter_operators)

    def _check_search_filter(self, store: KnowledgeStore, filters: dict[str, Any]) -> None:
        name = self._filter_collection(store)
        query = _vectors(99, 1, FILTER_DIMENSION)[0]
        if self._is_unsupported(filters):
            with pytest.raises(UnsupportedFilterError):
                store.search(name, query, limit=FILTER_DOCUMENTS, filters=filters)
            return
        node = parse_filter(filters)
        expected = {i for i, _, metadata in FILTER_DATA if matches(node, metadata)}
        results = store.search(name, query, limit=FILTER_DOCUMENTS, filters=filters)
        assert set(_ids(results)) == expected, f"filter {filters!r}"
        assert len(results) == len(expected), f"filter {filters!r} returned duplicates"
        vectors = {i: vector for i, vector, _ in FILTER_DATA}
        distance = self.supported_distances[0]
        for result in results:
            assert result.score is not None
            assert _close(result.score, similarity(distance, query, vectors[result.id]))

    def _check_delete_filter(self, store: KnowledgeStore, filters: dict[str, Any]) -> None:
        name = self._filter_collection(store)
        every_id = [i for i, _, _ in FILTER_DATA]
        if self._is_unsupported(filters):
            with pytest.raises(UnsupportedFilterError):
                store.delete(name, filters=filters)
            assert store.count(name) == FILTER_DOCUMENTS
            return
        node = parse_filter(filters)
        doomed = {i for i, _, metadata in FILTER_DATA if matches(node, metadata)}
        assert store.delete(name, filters=filters) == len(doomed), f"filter {filters!r}"
        assert set(_ids(store.get(name, every_id))) == set(every_id) - doomed, f"filter {filters!r}"
        assert store.count(name) == FILTER_DOCUMENTS - len(doomed)

    # -- search -----------------------------------------------------------------------

    @pytest.mark.parametrize("distance", DISTANCES)
    def test_search_scores_match_the_reference(self, store: KnowledgeStore, distance: Distance) -> None:
        if distance not in self.supported_distances:
            pytest.skip(f"this backend does not support the {distance} distance")
        dimension, count, limit = 12, 120, 10
        vectors = _vectors(11, count, dimension)
        name = self._collection(store, dimension, distance)
        store.insert(name, [_document(f"s{i:03d}", vector) for i, vector in enumerate(vectors)])
        by_id = {f"s{i:03d}": vector for i, vector in enumerate(vectors)}
        for query in _vectors(12, 3, dimension):
            reference = sorted((similarity(distance, query, vector) for vector in vectors), reverse=True)
            results = store.search(name, query, limit=limit)
            assert len(results) == limit
            assert len(set(_ids(results))) == limit
            for rank, result in enumerate(results):
                assert isinstance(result.score, float), f"score must be a float, got {result.score!r}"
                expected = similarity(distance, query, by_id[result.id])
                assert _close(result.score, expected), (
                    f"{distance}: {result.id} scored {result.score}, expected {expected}"
                )
                assert _close(result.score, reference[rank]), f"{distance}: rank {rank} is not the reference's"
                assert result.content == f"content of {result.id}"

    def test_search_returns_best_first(self, store: KnowledgeStore) -> None:
        name = self._collection(store, 8, self.supported_distances[0])
        base = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        store.insert(
            name,
            [
                _document("far", [-1.0, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
                _document("near", [0.9, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
                _document("exact", base),
                _document("middle", [0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            ],
        )
        results = store.search(name, base, limit=4)
        assert _ids(results) == ["exact", "near", "middle", "far"]
        scores = [result.score for result in results]
        assert all(score is not None for score in scores)
        assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]

    def test_search_limit(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        store.insert(name, [_document(f"l{i}", v) for i, v in enumerate(_vectors(13, 9, 8))])
        query = _vectors(14, 1, 8)[0]
        assert len(store.search(name, query, limit=3)) == 3
        assert len(store.search(name, query, limit=1)) == 1
        assert len(store.search(name, query)) == 5
        assert len(store.search(name, query, limit=50)) == 9

    def test_search_of_an_empty_collection(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        assert store.search(name, [1.0] * 8, limit=3) == []

    @pytest.mark.parametrize("distance", DISTANCES)
    def test_score_threshold_keeps_scores_at_or_above_it(self, store: KnowledgeStore, distance: Distance) -> None:
        if distance not in self.supported_distances:
            pytest.skip(f"this backend does not support the {distance} distance")
        vectors = _vectors(15, 60, 8)
        name = self._collection(store, 8, distance)
        store.insert(name, [_document(f"t{i}", vector) for i, vector in enumerate(vectors)])
        query = _vectors(16, 1, 8)[0]
        reference = sorted((similarity(distance, query, vector) for vector in vectors), reverse=True)
        # A threshold between two scores far enough apart that float error cannot move a document across it.
        cut = next(i for i in range(6, len(reference) - 1) if reference[i] - reference[i + 1] > 10 * SCORE_TOLERANCE)
        threshold = (reference[cut] + reference[cut + 1]) / 2
        results = store.search(name, query, limit=60, score_threshold=threshold)
        assert len(results) == cut + 1
        assert all(result.score is not None and result.score >= threshold for result in results)
        limited = store.search(name, query, limit=3, score_threshold=threshold)
        assert _ids(limited) == _ids(results)[:3]
        assert store.search(name, query, limit=60, score_threshold=reference[0] + 1.0) == []

    # -- filters ---------------------------------------------------------------------

    @pytest.mark.parametrize("filter_name", list(FILTERS))
    def test_search_filter(self, store: KnowledgeStore, filter_name: str) -> None:
        self._check_search_filter(store, FILTERS[filter_name])

    @pytest.mark.parametrize("filter_name", list(NULL_FILTERS))
    def test_search_filter_on_null_values(self, store: KnowledgeStore, filter_name: str) -> None:
        self._check_search_filter(store, NULL_FILTERS[filter_name])

    @pytest.mark.parametrize("filter_name", DELETE_FILTERS)
    def test_delete_by_filter(self, store: KnowledgeStore, filter_name: str) -> None:
        self._check_delete_filter(store, {**FILTERS, **NULL_FILTERS}[filter_name])

    def test_search_filter_with_limit_returns_the_best_matches(self, store: KnowledgeStore) -> None:
        filters = {"group": "b"}
        if self._is_unsupported(filters):
            pytest.skip("this backend cannot express equality filters")
        name = self._filter_collection(store)
        distance = self.supported_distances[0]
        query = _vectors(17, 1, FILTER_DIMENSION)[0]
        node = parse_filter(filters)
        reference = sorted(
            (similarity(distance, query, vector) for _, vector, metadata in FILTER_DATA if matches(node, metadata)),
            reverse=True,
        )
        results = store.search(name, query, limit=3, filters=filters)
        assert len(results) == 3
        for rank, result in enumerate(results):
            assert result.metadata is not None and result.metadata["group"] == "b"
            assert result.score is not None and _close(result.score, reference[rank])

    @pytest.mark.parametrize("filter_name", list(MALFORMED_FILTERS))
    def test_malformed_filters_are_refused(self, store: KnowledgeStore, filter_name: str) -> None:
        name = self._collection(store)
        store.insert(name, [_document("a", [1.0] * 8, a=1)])
        filters = MALFORMED_FILTERS[filter_name]
        with pytest.raises(InvalidInputError):
            store.search(name, [1.0] * 8, filters=filters)
        with pytest.raises(InvalidInputError):
            store.delete(name, filters=filters)
        assert store.count(name) == 1

    def test_declared_unsupported_operators_raise(self, store: KnowledgeStore) -> None:
        unsupported = self.unsupported_filter_operators
        assert unsupported <= FILTER_OPERATORS, f"unknown operators declared: {sorted(unsupported - FILTER_OPERATORS)}"
        if not unsupported:
            pytest.skip("this backend declares no unsupported filter operators")
        samples: dict[str, dict[str, Any]] = {
            "$eq": {"group": "a"},
            "$ne": {"group": {"$ne": "a"}},
            "$gt": {"i": {"$gt": 1}},
            "$gte": {"i": {"$gte": 1}},
            "$lt": {"i": {"$lt": 1}},
            "$lte": {"i": {"$lte": 1}},
            "$in": {"i": {"$in": [1]}},
            "$nin": {"i": {"$nin": [1]}},
            "$and": {"$and": [{"i": {"$gte": 1}}, {"i": {"$lte": 9}}]},
            "$or": {"$or": [{"i": {"$gte": 1}}, {"i": {"$lte": 9}}]},
        }
        name = self._filter_collection(store)
        for operator in sorted(unsupported):
            with pytest.raises(UnsupportedFilterError):
                store.search(name, [1.0] * FILTER_DIMENSION, filters=samples[operator])
            with pytest.raises(UnsupportedFilterError):
                store.delete(name, filters=samples[operator])
        assert store.count(name) == FILTER_DOCUMENTS
