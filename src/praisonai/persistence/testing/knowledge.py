"""Contract suite for knowledge stores: the semantics of ``knowledge/base.py`` and ``knowledge/filters.py``.

Subclass :class:`KnowledgeStoreContract` with a ``store`` fixture yielding a
fresh, empty :class:`~praisonai.persistence.knowledge.base.KnowledgeStore`::

    class TestMyVectors(KnowledgeStoreContract):
        unsupported_filter_operators = frozenset({"$nin"})   # if the engine cannot express it
        supported_distances = ("cosine", "euclidean")        # if it lacks one

        @pytest.fixture
        def store(self):
            store = MyVectorStore(...)
            yield store
            store.close()

The reference for every expected result is computed in pure Python: scores with
:func:`~praisonai.persistence.knowledge.base.similarity`, filters with
:func:`~praisonai.persistence.knowledge.filters.matches`. The suite creates its
own collections with unique names, uses small deterministic data (at most 200
documents of dimension 8 to 16) and needs nothing beyond pytest.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from contextlib import closing
from typing import Any

import pytest

from ..errors import AlreadyExistsError, InvalidInputError, NotFoundError
from ..knowledge.base import DISTANCES, KnowledgeDocument, KnowledgeStore, similarity
from ._knowledge_search import KnowledgeSearchContract
from ._support import reopener, run_in_threads

__all__ = ["KnowledgeStoreContract"]

# The suite's data stays importable from here (backends' tests read the filter catalogue).
from ._knowledge_data import DELETE_FILTERS as DELETE_FILTERS
from ._knowledge_data import (
    FILTER_DATA,
    ROUND_TRIP_METADATA,
    _assert_same_json,
    _close,
    _document,
    _ids,
    _unique,
    _vectors,
)
from ._knowledge_data import FILTER_DIMENSION as FILTER_DIMENSION
from ._knowledge_data import FILTER_DOCUMENTS as FILTER_DOCUMENTS
from ._knowledge_data import FILTERS as FILTERS
from ._knowledge_data import MALFORMED_FILTERS as MALFORMED_FILTERS
from ._knowledge_data import NULL_FILTERS as NULL_FILTERS
from ._knowledge_data import SCORE_TOLERANCE as SCORE_TOLERANCE


class KnowledgeStoreContract(KnowledgeSearchContract):
    """Subclass with a ``store`` fixture yielding a fresh, empty KnowledgeStore.

    Optionally override ``reopen`` to return a zero-argument callable that opens
    a second store on the same data; the suite closes ``store`` before calling it.

    Class attributes a backend may narrow (each narrowing is itself checked: the
    backend must refuse what it declares it cannot do, never ignore it):

    - ``unsupported_filter_operators``: operators (of ``$eq $ne $gt $gte $lt
      $lte $in $nin $and $or``) the engine cannot express; filters using them
      must raise :class:`UnsupportedFilterError`. A filter naming two fields is
      an ``$and``, plain equality is ``$eq``.
    - ``supported_distances``: the distances ``create_collection`` accepts; the
      others must raise ``ValueError``.
    """

    # -- protocol and collections --------------------------------------------------

    def test_collection_lifecycle(self, store: KnowledgeStore) -> None:
        first, second = _unique(), _unique()
        assert not store.collection_exists(first)
        store.create_collection(first, 8, self.supported_distances[0])
        store.create_collection(second, 16, self.supported_distances[-1], metadata={"purpose": "test", "n": [1, 2]})
        assert store.collection_exists(first) and store.collection_exists(second)
        assert {first, second} <= set(store.list_collections())
        assert store.count(first) == 0
        assert store.delete_collection(first) is True
        assert not store.collection_exists(first)
        assert first not in store.list_collections()
        assert store.delete_collection(first) is False
        assert store.collection_exists(second)

    def test_collection_names_use_the_whole_portable_alphabet(self, store: KnowledgeStore) -> None:
        suffix = uuid.uuid4().hex[:8]
        names = [f"Mixed-Case_{suffix}", f"_{suffix}-9", f"x{suffix}" + "y" * 54]
        for name in names:
            store.create_collection(name, 8, self.supported_distances[0])
            store.insert(name, [_document("a", [1.0] * 8)])
        for name in names:
            assert store.collection_exists(name)
            assert store.count(name) == 1
        assert set(names) <= set(store.list_collections())

    def test_delete_collection_removes_its_documents(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        store.insert(name, [_document("a", [1.0] * 8)])
        assert store.delete_collection(name) is True
        store.create_collection(name, 8, self.supported_distances[0])
        assert store.count(name) == 0
        assert store.get(name, ["a"]) == []

    def test_create_existing_collection_raises_and_keeps_it(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        store.insert(name, [_document("a", [1.0] * 8)])
        with pytest.raises(AlreadyExistsError):
            store.create_collection(name, 8, self.supported_distances[0])
        with pytest.raises(AlreadyExistsError):
            store.create_collection(name, 12, self.supported_distances[0])
        assert store.count(name) == 1

    @pytest.mark.parametrize(
        "bad_name",
        ["", "bad name", "x'; DROP TABLE y; --", "../escape", "nul\x00byte", "a" * 300, 'quote"d', "semi;colon"],
    )
    def test_bad_collection_names_are_refused(self, store: KnowledgeStore, bad_name: str) -> None:
        with pytest.raises(ValueError):
            store.create_collection(bad_name, 8, self.supported_distances[0])

    def test_non_str_collection_name_is_refused(self, store: KnowledgeStore) -> None:
        with pytest.raises((ValueError, TypeError)):
            store.create_collection(42, 8, self.supported_distances[0])  # type: ignore[arg-type]

    @pytest.mark.parametrize("bad_dimension", [0, -1, 8.5, "8", True, None])
    def test_bad_dimensions_are_refused(self, store: KnowledgeStore, bad_dimension: Any) -> None:
        name = _unique()
        with pytest.raises((ValueError, TypeError)):
            store.create_collection(name, bad_dimension, self.supported_distances[0])
        assert not store.collection_exists(name)

    @pytest.mark.parametrize("bad_distance", ["manhattan", "l2", "ip", "", "COSINE", None])
    def test_unknown_distances_are_refused(self, store: KnowledgeStore, bad_distance: Any) -> None:
        name = _unique()
        with pytest.raises(ValueError):
            store.create_collection(name, 8, bad_distance)
        assert not store.collection_exists(name)

    def test_unsupported_distances_are_refused(self, store: KnowledgeStore) -> None:
        assert set(self.supported_distances) <= set(DISTANCES), "supported_distances names an unknown distance"
        assert self.supported_distances, "supported_distances is empty"
        missing = [distance for distance in DISTANCES if distance not in self.supported_distances]
        if not missing:
            pytest.skip("this backend supports every portable distance")
        for distance in missing:
            name = _unique()
            with pytest.raises(ValueError):
                store.create_collection(name, 8, distance)
            assert not store.collection_exists(name)

    def test_operations_on_a_missing_collection(self, store: KnowledgeStore) -> None:
        name = _unique("missing")
        document = _document("a", [1.0] * 8)
        assert store.collection_exists(name) is False
        assert store.delete_collection(name) is False
        with pytest.raises(NotFoundError):
            store.insert(name, [document])
        with pytest.raises(NotFoundError):
            store.upsert(name, [document])
        with pytest.raises(NotFoundError):
            store.search(name, [1.0] * 8)
        with pytest.raises(NotFoundError):
            store.get(name, ["a"])
        with pytest.raises(NotFoundError):
            store.count(name)
        with pytest.raises(NotFoundError):
            store.delete(name, ids=["a"])
        assert not store.collection_exists(name)

    # -- insert, upsert, get ------------------------------------------------------

    def test_insert_returns_ids_in_order_and_keeps_callers_ids(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        vectors = _vectors(1, 4, 8)
        default = KnowledgeDocument(content="default id", embedding=vectors[3])
        documents = [
            _document("zeta", vectors[0]),
            _document("alpha", vectors[1]),
            KnowledgeDocument(id="", content="fresh id", embedding=vectors[2]),
            default,
        ]
        ids = store.insert(name, documents)
        assert len(ids) == 4
        assert ids[:2] == ["zeta", "alpha"]
        assert ids[2] and ids[2] not in ("zeta", "alpha", default.id)
        assert ids[3] == default.id
        assert store.count(name) == 4
        fetched = store.get(name, ids)
        assert _ids(fetched) == ids
        assert [document.content for document in fetched] == [
            "content of zeta",
            "content of alpha",
            "fresh id",
            "default id",
        ]

    def test_empty_id_gets_a_fresh_id_each_time(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        vectors = _vectors(2, 3, 8)
        first = store.insert(name, [KnowledgeDocument(id="", embedding=v) for v in vectors[:2]])
        second = store.insert(name, [KnowledgeDocument(id="", embedding=vectors[2])])
        assert len(set(first + second)) == 3 and all(first + second)
        assert store.count(name) == 3

    def test_document_round_trip(self, store: KnowledgeStore) -> None:
        name = self._collection(store, dimension=12)
        embedding = _vectors(3, 1, 12, exact32=False)[0]
        content = "Ünïcødé content ✓ 日本語 \U0001f600\nsecond line\ttab 'quote' \"double\""
        store.insert(
            name, [KnowledgeDocument(id="doc-1", content=content, embedding=embedding, metadata=ROUND_TRIP_METADATA)]
        )
        [loaded] = store.get(name, ["doc-1"])
        assert loaded.id == "doc-1"
        assert loaded.content == content
        _assert_same_json(loaded.metadata, ROUND_TRIP_METADATA)
        assert loaded.embedding is not None and len(loaded.embedding) == 12
        assert loaded.embedding == pytest.approx(embedding, rel=1e-6, abs=1e-7)

    def test_empty_content_and_no_metadata(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        store.insert(name, [KnowledgeDocument(id="bare", content="", embedding=[0.5] * 8)])
        store.insert(name, [KnowledgeDocument(id="empty-meta", content="x", embedding=[0.5] * 8, metadata={})])
        bare, empty = store.get(name, ["bare", "empty-meta"])
        assert bare.content == ""
        assert bare.metadata in (None, {})
        assert empty.metadata in (None, {})

    def test_metadata_types_round_trip_through_search(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        store.insert(name, [_document("typed", [1.0] * 8, **ROUND_TRIP_METADATA)])
        [found] = store.search(name, [1.0] * 8, limit=1)
        assert found.id == "typed" and found.content == "content of typed"
        _assert_same_json(found.metadata, ROUND_TRIP_METADATA)

    def test_insert_existing_id_raises_and_stores_nothing(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        vectors = _vectors(4, 4, 8)
        store.insert(name, [_document("taken", vectors[0], content="original", version=1)])
        batch = [
            _document("new-1", vectors[1]),
            _document("taken", vectors[2], content="intruder"),
            _document("new-2", vectors[3]),
        ]
        with pytest.raises(AlreadyExistsError):
            store.insert(name, batch)
        assert store.count(name) == 1
        assert store.get(name, ["new-1", "new-2"]) == []
        [kept] = store.get(name, ["taken"])
        assert kept.content == "original" and kept.metadata == {"version": 1}
        assert kept.embedding == pytest.approx(vectors[0], rel=1e-6, abs=1e-7)

    def test_duplicate_ids_in_one_insert_store_nothing(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        vectors = _vectors(5, 3, 8)
        batch = [_document("dup", vectors[0]), _document("other", vectors[1]), _document("dup", vectors[2])]
        with pytest.raises((InvalidInputError, AlreadyExistsError)):
            store.insert(name, batch)
        assert store.count(name) == 0
        assert store.get(name, ["dup", "other"]) == []

    def test_upsert_inserts_then_replaces(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        old, new, other = _vectors(6, 3, 8)
        assert store.upsert(name, [_document("u", old, content="v1", version=1, stale=True)]) == ["u"]
        store.insert(name, [_document("neighbour", other, content="untouched")])
        assert store.upsert(name, [_document("u", new, content="v2", version=2)]) == ["u"]
        assert store.count(name) == 2
        [loaded] = store.get(name, ["u"])
        assert loaded.content == "v2"
        assert loaded.metadata == {"version": 2}
        assert loaded.embedding == pytest.approx(new, rel=1e-6, abs=1e-7)
        [best] = store.search(name, new, limit=1)
        assert best.id == "u"
        [neighbour] = store.get(name, ["neighbour"])
        assert neighbour.content == "untouched"

    def test_upsert_with_empty_id_gets_fresh_ids(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        ids = store.upsert(name, [KnowledgeDocument(id="", embedding=v) for v in _vectors(8, 2, 8)])
        assert len(set(ids)) == 2 and all(ids)
        assert store.count(name) == 2

    def test_get_keeps_the_order_asked_and_skips_missing(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        vectors = _vectors(9, 5, 8)
        store.insert(name, [_document(f"g{i}", vector) for i, vector in enumerate(vectors)])
        assert _ids(store.get(name, ["g3", "nope", "g0", "g4", "also-missing", "g1"])) == ["g3", "g0", "g4", "g1"]
        assert store.get(name, []) == []
        assert store.get(name, ["missing"]) == []

    def test_stored_documents_are_not_shared_with_the_caller(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        document = _document("c", [1.0] * 8, tags=["a"], nested={"k": "v"})
        store.insert(name, [document])
        assert document.metadata is not None and document.embedding is not None
        document.metadata["tags"].append("mutated")
        document.metadata["nested"]["k"] = "mutated"
        document.embedding[0] = -1.0
        document.content = "mutated"
        [loaded] = store.get(name, ["c"])
        assert loaded.metadata == {"tags": ["a"], "nested": {"k": "v"}}
        assert loaded.content == "content of c"
        assert loaded.embedding is not None and loaded.embedding[0] == pytest.approx(1.0)
        assert loaded.metadata is not None
        loaded.metadata["tags"].append("mutated again")
        [again] = store.get(name, ["c"])
        assert again.metadata == {"tags": ["a"], "nested": {"k": "v"}}

    def test_count(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        other = self._collection(store)
        store.insert(name, [_document(f"n{i}", v) for i, v in enumerate(_vectors(10, 7, 8))])
        store.insert(other, [_document("o", [1.0] * 8)])
        assert store.count(name) == 7
        store.delete(name, ids=["n0", "n1"])
        assert store.count(name) == 5
        assert store.count(other) == 1

    # -- validation -----------------------------------------------------------------

    @pytest.mark.parametrize(
        "embedding",
        [None, [1.0] * 7, [1.0] * 9, [], [1.0] * 7 + [math.nan], [1.0] * 7 + [math.inf], [1.0] * 7 + ["x"]],
        ids=["missing", "short", "long", "empty", "nan", "inf", "str"],
    )
    def test_bad_embeddings_are_refused_and_nothing_stored(self, store: KnowledgeStore, embedding: Any) -> None:
        name = self._collection(store)
        batch = [_document("good", [1.0] * 8), KnowledgeDocument(id="bad", embedding=embedding)]
        with pytest.raises(InvalidInputError):
            store.insert(name, batch)
        with pytest.raises(InvalidInputError):
            store.upsert(name, batch)
        assert store.count(name) == 0

    @pytest.mark.parametrize(
        "query", [[1.0] * 7, [1.0] * 9, [], [1.0] * 7 + [math.nan]], ids=["short", "long", "empty", "nan"]
    )
    def test_bad_queries_are_refused(self, store: KnowledgeStore, query: list[float]) -> None:
        name = self._collection(store)
        store.insert(name, [_document("a", [1.0] * 8)])
        with pytest.raises(InvalidInputError):
            store.search(name, query)

    @pytest.mark.parametrize("bad_id", ["x" * 256, "nul\x00byte"])
    def test_bad_document_ids_are_refused(self, store: KnowledgeStore, bad_id: str) -> None:
        name = self._collection(store)
        with pytest.raises(InvalidInputError):
            store.insert(name, [_document(bad_id, [1.0] * 8)])
        assert store.count(name) == 0

    def test_non_json_metadata_is_refused_and_nothing_stored(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        batch = [_document("good", [1.0] * 8), _document("bad", [1.0] * 8, when=object())]
        with pytest.raises((ValueError, TypeError)):
            store.insert(name, batch)
        assert store.count(name) == 0

    # -- delete ----------------------------------------------------------------------

    def test_delete_by_ids(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        store.insert(name, [_document(f"x{i}", v) for i, v in enumerate(_vectors(18, 5, 8))])
        assert store.delete(name, ids=["x1", "x3", "missing"]) == 2
        assert _ids(store.get(name, [f"x{i}" for i in range(5)])) == ["x0", "x2", "x4"]
        assert store.delete(name, ids=["x1"]) == 0
        assert store.count(name) == 3

    def test_delete_by_ids_and_filter_deletes_documents_matching_both(self, store: KnowledgeStore) -> None:
        filters = {"flag": True}
        if self._is_unsupported(filters):
            pytest.skip("this backend cannot express equality filters")
        name = self._filter_collection(store)
        ids = ["d000", "d001", "d002", "d003", "d004"]
        flagged = {i for i, _, metadata in FILTER_DATA if metadata["flag"] and i in ids}
        assert store.delete(name, ids=ids, filters=filters) == len(flagged) == 3
        remaining = set(_ids(store.get(name, [i for i, _, _ in FILTER_DATA])))
        assert remaining == {i for i, _, _ in FILTER_DATA} - flagged

    def test_delete_with_neither_ids_nor_filters_is_refused(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        store.insert(name, [_document("keep", [1.0] * 8)])
        with pytest.raises(InvalidInputError):
            store.delete(name)
        with pytest.raises(InvalidInputError):
            store.delete(name, ids=None, filters=None)
        assert store.count(name) == 1

    def test_deleted_documents_are_not_searchable(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        vectors = _vectors(19, 4, 8)
        store.insert(name, [_document(f"r{i}", v) for i, v in enumerate(vectors)])
        store.delete(name, ids=["r0"])
        results = store.search(name, vectors[0], limit=10)
        assert "r0" not in _ids(results) and len(results) == 3

    # -- lifecycle -------------------------------------------------------------------

    def test_context_manager_closes(self, store: KnowledgeStore) -> None:
        with store as entered:
            assert entered is store
            name = self._collection(entered)
        with pytest.raises(Exception):  # noqa: B017 - any error: the store is closed
            store.count(name)

    def test_close_is_idempotent(self, store: KnowledgeStore) -> None:
        store.close()
        store.close()

    def test_concurrent_inserts_lose_nothing(self, store: KnowledgeStore) -> None:
        name = self._collection(store)
        writers, per_writer = 4, 10
        vectors = _vectors(20, writers * per_writer, 8)

        def write(writer: int) -> None:
            for index in range(per_writer):
                number = writer * per_writer + index
                store.insert(name, [_document(f"w{number}", vectors[number])])

        assert run_in_threads(write, writers) == []
        assert store.count(name) == writers * per_writer

    def test_reopen_reads_what_was_written(
        self, store: KnowledgeStore, reopen: Callable[[], KnowledgeStore] | None
    ) -> None:
        open_second = reopener(reopen)
        distance = self.supported_distances[-1]
        vectors = _vectors(21, 6, 8, exact32=False)
        name = _unique()
        store.create_collection(name, 8, distance, metadata={"owner": "contract"})
        store.insert(name, [_document(f"p{i}", v, n=i) for i, v in enumerate(vectors[:5])])
        store.insert(name, [KnowledgeDocument(id="meta", embedding=vectors[5], metadata=ROUND_TRIP_METADATA)])
        store.delete(name, ids=["p4"])
        store.close()
        with closing(open_second()) as second:
            assert second.collection_exists(name)
            assert second.count(name) == 5
            loaded = second.get(name, ["p0", "p3", "p4", "meta"])
            assert _ids(loaded) == ["p0", "p3", "meta"]
            assert loaded[0].metadata == {"n": 0} and loaded[0].content == "content of p0"
            _assert_same_json(loaded[2].metadata, ROUND_TRIP_METADATA)
            assert loaded[1].embedding == pytest.approx(vectors[3], rel=1e-6, abs=1e-7)
            [best] = second.search(name, vectors[2], limit=1)
            assert best.id == "p2"
            assert best.score is not None and _close(best.score, similarity(distance, vectors[2], vectors[2]))
            with pytest.raises(AlreadyExistsError):
                second.insert(name, [_document("p0", vectors[0])])
