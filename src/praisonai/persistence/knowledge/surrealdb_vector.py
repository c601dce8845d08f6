"""SurrealDB vectors: one table per collection, exact search with SurrealQL's vector functions.

Engine: SurrealDB, embedded in process by the official SDK (``mem://``,
``surrealkv://``) or a server (``ws://``, ``http://``). Driver: the
``surrealdb`` SDK (``pip install "praisonai-persistence[surrealdb]"``).

URL forms: ``mem://``; ``surrealkv:///abs/dir``, ``surrealkv://relative/dir``,
``surrealkv+versioned://``, ``file://``; ``ws[s]://user:password@host:8000/rpc``
or ``http[s]://host:8000`` with ``?ns=&db=``. A bare path means ``surrealkv://<path>``.

Test tier: embedded (the SDK's in-process engine, ``mem://`` and ``surrealkv://``).
Servers are not exercised (no SurrealDB server installs from the package registries
this project is tested with).

Layout: a catalogue table ``<prefix>collections`` (record id = collection name)
and a table ``<prefix><name>`` per collection whose record ids are the document
ids. Search is exact: ``vector::similarity::cosine``, ``vector::dot`` and
``1 / (1 + vector::distance::euclidean)`` over every record that passes the
filter, best first (the fields of the best only are read). A zero vector has no
cosine and scores 0.0.

With numpy installed and an embedded engine (``mem://``, ``surrealkv://``), a
search does not ask the engine to score: its vector functions cost about 0.1 ms a
row (2-3 s for 20,000 x 384). The process keeps each collection's embeddings and
metadata (read once, then updated by every write this process makes, and only this
process can write an embedded engine), and ranks them as the ``memory`` store does
(:mod:`._layers.matrix`: a float32 product picks a proven superset of the best,
scored exactly with :func:`~praisonai.persistence.knowledge.base.similarity`; equal
scores in record-id order). Servers, which other processes write, are searched in
SurrealQL.

Metadata is kept twice: ``metadata_json`` (the exact JSON text, returned) and
``meta`` (an object, filtered on; see :mod:`._filters.sql`). The SDK sends
Python ``None`` as NONE, which erases an object key, so the keys whose value is
``null`` are listed in ``meta_nulls``; integers beyond 64 bits are stored in
``meta`` as exact decimals. SurrealDB cannot return strings containing NUL:
such content is refused with :class:`InvalidInputError`.

A ``surrealkv`` directory is locked (``<dir>.lock``) while a store has it open:
the engine itself does not stop a second process from opening it. The stores of
one process on one directory, ``surrealdb`` conversation stores included, share
one engine (see :mod:`praisonai.persistence._surreal`).
"""

from __future__ import annotations

import heapq
import threading
import time
import weakref
from array import array
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from .._surreal import SurrealEngine, open_engine, release_engine
from .._values import dump_json, load_json
from ..errors import AlreadyExistsError, InvalidInputError, StoreError
from ._filters.sql import SURREAL_DECIMAL, Parameters, SurrealObject, surreal_scalar, translate_filter
from ._layers import matrix
from ._layers.checks import (
    check_collection_name,
    collection_exists,
    document_exists,
)
from ._layers.store_base import CollectionSettings, KnowledgeStoreBase
from .base import Distance, KnowledgeDocument, similarity
from .config import SurrealVectorKnowledgeConfig
from .filters import FilterNode

__all__ = ["SurrealVectorKnowledgeStore"]

T = TypeVar("T")

_SCORES: dict[str, str] = {
    # A zero vector has no cosine (NaN or an infinity, which SurrealDB sorts first): score it 0.0. The
    # cosine divides by the product of the magnitudes, so it is finite only if neither is zero: only a
    # cosine that is not finite needs them (a vector function call costs about as much as the cosine).
    "cosine": "{ LET $cosine = vector::similarity::cosine(embedding, $query); "
    "RETURN IF $cosine > -math::inf AND $cosine < math::inf THEN $cosine "
    "ELSE IF vector::magnitude(embedding) = 0 OR vector::magnitude($query) = 0 THEN 0.0 ELSE $cosine END; }",
    "dot": "vector::dot(embedding, $query)",
    "euclidean": "1 / (1 + vector::distance::euclidean(embedding, $query))",
}
_DOCUMENT_FIELDS = ("content", "embedding", "metadata_json", "content_hash", "created_at")
_FIELDS = ", ".join(["record::id(id) AS id", *_DOCUMENT_FIELDS])
# The same, read through the record id (search reads them only for the rows it returns).
_LINKED_FIELDS = ", ".join(["record::id(id) AS id", *(f"id.{name} AS {name}" for name in _DOCUMENT_FIELDS)])
_DOCUMENT_EXISTS = "already exists"


_Key = tuple[str, str, str]  # namespace, database, table
# record id -> embedding, metadata; embeddings as arrays of doubles (the same floats in an eighth of
# the memory of a list: a mirror of 20,000 x 384 is 61 MB, not 250)
_Rows = dict[str, tuple["array[float]", Any]]


class _Index:
    """A numpy index of a table's rows in record-id order (immutable once built)."""

    def __init__(self, distance: Distance, rows: _Rows) -> None:
        np = matrix.numpy_or_none()
        assert np is not None
        self.ids = sorted(rows)
        self.embeddings = [rows[i][0] for i in self.ids]
        # numpy cannot shape an empty matrix of unknown width; an empty table has nothing to rank.
        self.matrix = (
            matrix.MatrixIndex(np, distance, self.embeddings, [rows[i][1] for i in self.ids]) if rows else None
        )


class _Mirror:
    """The embeddings and metadata of the tables of one embedded engine, shared by this process's stores.

    Every write applies itself here after the engine committed it; a table read while a write ran
    (its generation moved) is not kept.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tables: dict[_Key, _Rows] = {}
        self.indexes: dict[_Key, _Index] = {}
        self.generations: dict[_Key, int] = {}

    def index(self, key: _Key, distance: Distance, read: Callable[[], _Rows]) -> _Index:
        with self.lock:
            index = self.indexes.get(key)
            if index is not None:
                return index
            rows = self.tables.get(key)
            generation = self.generations.get(key, 0)
        if rows is None:
            rows = read()
        with self.lock:
            if self.generations.get(key, 0) == generation:
                self.tables[key] = rows
                index = self.indexes[key] = _Index(distance, rows)
                return index
        return _Index(distance, rows)  # a write ran meanwhile: good for this search (it overlapped), not kept

    def changed(
        self, key: _Key, put: _Rows | None = None, removed: list[str] | None = None, *, created: bool = False
    ) -> None:
        """Apply a committed write; with neither ``put`` nor ``removed`` the table is forgotten, or known
        empty if this process just ``created`` it (its rows are never read from the engine then)."""
        with self.lock:
            self.generations[key] = self.generations.get(key, 0) + 1
            self.indexes.pop(key, None)
            if created:
                self.tables[key] = {}
                return
            rows = self.tables.get(key)
            if rows is None:
                return
            if put is None and removed is None:
                del self.tables[key]
                return
            rows = self.tables[key] = dict(rows)  # an index being built from the old dict keeps it
            rows.update(put or {})
            for record_id in removed or ():
                rows.pop(record_id, None)


_MIRRORS: weakref.WeakKeyDictionary[SurrealEngine, _Mirror] = weakref.WeakKeyDictionary()
_MIRRORS_LOCK = threading.Lock()


class _QueryFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _filter_copy(value: Any) -> Any:
    """``value`` as SurrealDB can store it for filtering: big integers as decimals, ``None`` dropped from objects."""
    if isinstance(value, dict):
        return {key: _filter_copy(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_filter_copy(item) for item in value]
    return surreal_scalar(value)


class SurrealVectorKnowledgeStore(KnowledgeStoreBase[CollectionSettings, SurrealVectorKnowledgeConfig]):
    """Knowledge store on SurrealDB; thread-safe (one connection behind a lock)."""

    backend = "surrealdb_vector"
    float32_embeddings = False  # SurrealDB keeps 64-bit floats
    exact_filter_numbers = SURREAL_DECIMAL  # integers beyond 64 bits are bound as decimals (96-bit mantissa)

    def __init__(self, config: SurrealVectorKnowledgeConfig | None = None) -> None:
        super().__init__(config or SurrealVectorKnowledgeConfig())
        self._sdk = self._import_driver("surrealdb")
        self._engine: SurrealEngine | None = None  # opened on first use
        self._catalogue = f"{self.config.table_prefix}collections"

    def __repr__(self) -> str:
        return f"SurrealVectorKnowledgeStore(url={self.config.url!r}, namespace={self.config.namespace!r})"

    # -- engine primitives (called with the lock held) ----------------------

    def _find(self, name: str) -> CollectionSettings | None:
        [rows] = self._query(
            "SELECT dimension, distance, metadata_json FROM $record", {"record": self._record(self._catalogue, name)}
        )
        if not rows:
            return None
        row = rows[0]
        return CollectionSettings(int(row["dimension"]), row["distance"], load_json(row["metadata_json"]))

    def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        record = {
            "id": self._record(self._catalogue, name),
            "dimension": dimension,
            "distance": distance,
            "metadata_json": dump_json(metadata, what="metadata"),
            "created_at": time.time(),
        }
        table = self._quoted_table(name)
        try:
            self._query(
                "BEGIN TRANSACTION; "
                f"CREATE $record.id CONTENT $record RETURN NONE; REMOVE TABLE IF EXISTS {table}; "
                f"DEFINE TABLE {table} SCHEMALESS; COMMIT TRANSACTION;",
                {"record": record},
            )
        except _QueryFailed as error:
            if _DOCUMENT_EXISTS in error.message:
                raise collection_exists(name) from None
            raise self._error(error) from None
        self._changed(name, created=True)

    def _drop(self, name: str, target: CollectionSettings) -> None:
        self._query(
            f"BEGIN TRANSACTION; DELETE $record; REMOVE TABLE IF EXISTS {self._quoted_table(name)}; "
            "COMMIT TRANSACTION;",
            {"record": self._record(self._catalogue, name)},
        )
        self._changed(name)

    def _names(self) -> list[str]:
        [names] = self._query("SELECT VALUE record::id(id) FROM type::table($table)", {"table": self._catalogue})
        return list(names)

    def _taken(self, name: str, target: CollectionSettings, ids: list[str]) -> tuple[()]:
        return ()  # _put's INSERT refuses taken ids itself, storing none of the batch

    def _put(
        self, name: str, target: CollectionSettings, documents: list[KnowledgeDocument], *, overwrite: bool
    ) -> None:
        table = self._table(name)
        rows = [self._row(table, document, index) for index, document in enumerate(documents)]
        quoted = self._quoted_table(name)
        try:
            if overwrite:
                self._query(
                    f"BEGIN TRANSACTION; DELETE $records; INSERT INTO {quoted} $rows RETURN NONE; COMMIT TRANSACTION;",
                    {"records": [row["id"] for row in rows], "rows": rows},
                )
            else:
                self._query(f"INSERT INTO {quoted} $rows RETURN NONE", {"rows": rows})
        except _QueryFailed as error:
            if _DOCUMENT_EXISTS in error.message:
                [taken] = self._query(
                    "SELECT VALUE record::id(id) FROM $records", {"records": [row["id"] for row in rows]}
                )
                raise document_exists(name, taken or [document.id for document in documents]) from None
            raise self._error(error) from None
        # check_documents gave every document an embedding
        self._changed(
            name, put={document.id: (array("d", document.embedding or ()), document.metadata) for document in documents}
        )

    def _search(
        self, name: str, target: CollectionSettings, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        found = self._search_mirror(name, target, query, limit, node)
        if found is not None:
            return found
        params = Parameters()
        where = "" if node is None else " WHERE " + translate_filter(node, SurrealObject("meta", "meta_nulls"), params)
        # Ranking rows of id and score only: projecting every row's fields first costs as much as the scores.
        [rows] = self._query(
            f"SELECT score, {_LINKED_FIELDS} FROM (SELECT id, {_SCORES[target.distance]} AS score "
            f"FROM type::table($table){where} ORDER BY score DESC LIMIT $limit)",
            {**params.values, "table": self._table(name), "query": query, "limit": limit},
        )
        results = []
        for row in rows:
            document = _document(row)
            document.score = float(row["score"])
            results.append(document)
        return results

    def _fetch(self, name: str, target: CollectionSettings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        table = self._table(name)
        [rows] = self._query(f"SELECT {_FIELDS} FROM $records", {"records": [self._record(table, i) for i in ids]})
        return {row["id"]: _document(row) for row in rows}

    def _remove(self, name: str, target: CollectionSettings, ids: list[str] | None, node: FilterNode | None) -> int:
        table = self._table(name)
        params = Parameters()
        where = "" if node is None else " WHERE " + translate_filter(node, SurrealObject("meta", "meta_nulls"), params)
        values: dict[str, Any]
        if ids is not None:
            target_records, values = "$records", {"records": [self._record(table, i) for i in ids]}
        else:
            target_records, values = "type::table($table)", {"table": table}
        [deleted] = self._query(f"DELETE {target_records}{where} RETURN BEFORE", {**params.values, **values})
        self._changed(name, removed=[row["id"].id for row in deleted])
        return len(deleted)

    def _count(self, name: str, target: CollectionSettings) -> int:
        [rows] = self._query("SELECT count() FROM type::table($table) GROUP ALL", {"table": self._table(name)})
        return int(rows[0]["count"]) if rows else 0

    def _scan(self, name: str, target: CollectionSettings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        def page(_: CollectionSettings, start: int) -> list[Any]:
            rows: list[Any]
            [rows] = self._query(
                f"SELECT {_FIELDS} FROM type::table($table) ORDER BY id LIMIT $size START $start",
                {"table": self._table(name), "size": batch_size, "start": start},
            )
            return rows

        pages = self._pages_of(name, target, page, 0, lambda start, rows: start + len(rows))
        return ([_document(row) for row in rows] for rows in pages)

    def _release(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            release_engine(engine)

    # -- the process's copy of embedded tables (numpy search) ---------------

    def _mirror(self) -> _Mirror | None:
        """The mirror of this store's engine: None for servers or without numpy."""
        if not self.config.is_embedded or matrix.numpy_or_none() is None:
            return None
        if self._engine is None:
            self._engine = open_engine(self.config, self._sdk, self.backend)
        with _MIRRORS_LOCK:
            mirror = _MIRRORS.get(self._engine)
            if mirror is None:
                mirror = _MIRRORS[self._engine] = _Mirror()
            return mirror

    def _key(self, name: str) -> _Key:
        return (self.config.namespace, self.config.database, self._table(name))

    def _changed(
        self, name: str, put: _Rows | None = None, removed: list[str] | None = None, *, created: bool = False
    ) -> None:
        mirror = self._mirror()
        if mirror is not None:
            mirror.changed(self._key(name), put, removed, created=created)

    def _read_rows(self, name: str) -> _Rows:
        [rows] = self._query(
            "SELECT record::id(id) AS id, embedding, metadata_json FROM type::table($table)",
            {"table": self._table(name)},
        )
        return {row["id"]: (array("d", row["embedding"]), load_json(row["metadata_json"])) for row in rows}

    def _search_mirror(
        self, name: str, target: CollectionSettings, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument] | None:
        """The exact top ``limit`` from the mirror; None when there is none or numpy cannot bound the query."""
        mirror = self._mirror()
        if mirror is None:
            return None
        index = mirror.index(self._key(name), target.distance, lambda: self._read_rows(name))
        if index.matrix is None:
            return []
        rows = index.matrix.candidates(query, limit, node)
        if rows is None:
            return None
        scored = [(similarity(target.distance, query, index.embeddings[row]), row) for row in rows]
        best = heapq.nsmallest(limit, scored, key=lambda item: (-item[0], item[1]))
        ids = [index.ids[row] for _, row in best]
        documents = self._fetch(name, target, ids)
        results = []
        for (score, _), record_id in zip(best, ids, strict=True):
            document = documents.get(record_id)
            if document is not None:  # None: another thread deleted it since the index was taken
                document.score = score
                results.append(document)
        return results

    # -- internals ----------------------------------------------------------

    def _row(self, table: str, document: KnowledgeDocument, index: int) -> dict[str, Any]:
        if "\x00" in document.content:
            raise InvalidInputError(
                f"documents[{index}].content contains a NUL character, which SurrealDB cannot return"
            )
        metadata = document.metadata or {}
        row: dict[str, Any] = {
            "id": self._record(table, document.id),
            "content": document.content,
            "embedding": document.embedding,
            "metadata_json": dump_json(document.metadata, what="metadata"),
            "meta": _filter_copy(metadata),
            "meta_nulls": [key for key, value in metadata.items() if value is None],
            "created_at": document.created_at,
        }
        if document.content_hash is not None:
            row["content_hash"] = document.content_hash
        return row

    def _table(self, collection: str) -> str:
        return f"{self.config.table_prefix}{check_collection_name(collection)}"

    def _quoted_table(self, collection: str) -> str:
        # Validated names only (letters, digits, '_', '-'); backticks make '-' legal in SurrealQL.
        return f"`{self._table(collection)}`"

    def _record(self, table: str, record_id: str) -> Any:
        return self._sdk.RecordID(table, record_id)

    def _query(self, statement: str, variables: dict[str, Any]) -> list[Any]:
        """Run ``statement``; the result of each statement that returns one. Raises _QueryFailed on ERR."""
        if self._engine is None:
            self._engine = open_engine(self.config, self._sdk, self.backend)
        try:
            response = self._engine.query_raw(self.config, self.backend, statement, variables)
        except RuntimeError as error:
            raise StoreError(f"SurrealDB refused a statement: {error}") from error
        if "error" in response:
            raise StoreError(f"SurrealDB error: {response['error']}")
        results = []
        for item in response["result"]:
            if item.get("status") != "OK":
                raise _QueryFailed(str(item.get("result")))
            if item.get("result") is not None:
                results.append(item["result"])
        return results

    def _error(self, error: _QueryFailed) -> StoreError:
        if _DOCUMENT_EXISTS in error.message:
            return AlreadyExistsError(error.message)
        return StoreError(f"SurrealDB error: {error.message}")


def _document(row: dict[str, Any]) -> KnowledgeDocument:
    return KnowledgeDocument(
        id=row["id"],
        content=row.get("content") or "",
        embedding=[float(value) for value in row["embedding"]],
        metadata=load_json(row["metadata_json"]),
        content_hash=row.get("content_hash"),
        created_at=float(row["created_at"]),
    )


SurrealDBVectorKnowledgeStore = SurrealVectorKnowledgeStore
"""PraisonAI 4.7.19's name of :class:`SurrealVectorKnowledgeStore`."""
