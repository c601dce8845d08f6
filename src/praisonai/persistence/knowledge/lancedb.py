"""LanceDB knowledge store: one Lance table per collection, searched exactly.

Engine: LanceDB (Lance tables). Drivers: ``lancedb`` and ``pyarrow`` (extra ``lancedb``).
URL forms: a directory, ``lancedb:///relative/dir``, ``lancedb:////absolute/dir``;
``s3://``, ``gs://``, ``az://`` object stores; ``db://database`` (LanceDB Cloud, with
``api_key`` and ``region``).
Test tier: embedded (LanceDB on a local directory). Object stores and LanceDB Cloud
use the same table API but are not exercised by the tests.

Each store opens its own connection (``lancedb.connect``); nothing is process-global.

Layout: columns ``id``, ``vector`` (fixed-size float32 list), ``content``,
``metadata`` (the exact metadata JSON, which is what is returned), ``content_hash``,
``created_at``, and per metadata field the typed columns filters run on:
``m_<key>_t`` (the kind: ``string``, ``number``, ``bool``, ``null``, or ``""`` when
absent or not a scalar), ``m_<key>_s``, ``m_<key>_n`` (float64), ``m_<key>_b``, where
``<key>`` is the field name in hex. They are added to the table (with
non-null defaults) the first time a document carries that field, so every
comparison is two-valued and ``$ne`` / ``$nin`` match absent fields. The
collection's dimension, distance and metadata live in the table's schema
metadata; only tables carrying it are listed.

Filters are built with LanceDB's typed expression builder (``lancedb.expr``:
``col``/``lit``), never as SQL text, and applied before the vector search
(prefilter). No ANN index is created, so search is an exact scan; LanceDB returns
cosine ``1 - similarity``, dot ``1 - dot`` and the squared L2 distance, turned into
the portable scores. Numbers compare as float64, so integers beyond 2**53 lose
exactness in filters (not in the stored metadata). ``insert`` checks and writes
under the store's lock; another process writing the same table can race between
the check and the write.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .._loading import import_driver
from .._values import dump_json, load_json
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
    document_exists,
    parse_filters,
)
from ._filter_native import (
    ALWAYS,
    NEVER,
    All,
    Atom,
    Chunk,
    Eq,
    IsKind,
    Lowered,
    Ne,
    Range,
    StrRange,
    field_key,
    index_metadata,
    lower,
    simplify,
)
from ._filter_native import (
    Any as AnyOf,
)
from .base import CollectionInfo, Distance, Filter, KnowledgeDocument, KnowledgeStore
from .config import LanceDbKnowledgeConfig

__all__ = ["LanceDbKnowledgeStore"]

_BACKEND = "lancedb"
_EXTRA = "lancedb"
_MARKER = b"praisonai_knowledge"
_NATIVE = {"cosine": "cosine", "dot": "dot", "euclidean": "l2"}
_BASE_COLUMNS = ("id", "content", "metadata", "content_hash", "created_at", "vector")
# Typed columns of one metadata field: suffix -> (arrow type name, SQL default for existing rows).
_TYPED = {"t": ("string", "CAST('' AS STRING)"), "s": ("string", "CAST('' AS STRING)"),
          "n": ("float64", "CAST(0 AS DOUBLE)"), "b": ("bool", "false")}  # fmt: skip


def _column(key: str, suffix: str) -> str:
    return f"m_{key}_{suffix}"


class LanceDbKnowledgeStore(KnowledgeStore):
    """A KnowledgeStore on LanceDB tables."""

    backend = _BACKEND

    def __init__(self, config: LanceDbKnowledgeConfig) -> None:
        self.config = config
        lancedb = import_driver("lancedb", backend=_BACKEND, extra=_EXTRA)
        self._pa: Any = import_driver("pyarrow", backend=_BACKEND, extra=_EXTRA)
        self._expr: Any = import_driver("lancedb.expr", backend=_BACKEND, extra=_EXTRA)
        options: dict[str, Any] = {}
        if config.api_key is not None:
            options["api_key"] = config.api_key.get_secret_value()
        if config.region is not None:
            options["region"] = config.region
        self._db: Any = lancedb.connect(config.uri, **options)
        self._lock = threading.RLock()
        self._closed = False

    # -- collections ----------------------------------------------------------

    def create_collection(
        self,
        name: str,
        dimension: int,
        distance: Distance = "cosine",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        check_collection_name(name, _BACKEND)
        check_dimension(dimension, _BACKEND)
        check_distance(distance, _BACKEND)
        metadata = check_collection_metadata(metadata, _BACKEND)
        pa = self._pa
        settings = dump_json({"dimension": dimension, "distance": distance, "metadata": metadata}, _BACKEND)
        schema = pa.schema(
            [
                pa.field("id", pa.string(), nullable=False),
                pa.field("content", pa.string(), nullable=False),
                pa.field("metadata", pa.string(), nullable=False),
                pa.field("content_hash", pa.string()),
                pa.field("created_at", pa.float64(), nullable=False),
                pa.field("vector", pa.list_(pa.float32(), dimension), nullable=False),
            ],
            metadata={_MARKER: settings.encode()},
        )
        with self._call():
            if self._table(name) is not None:
                raise collection_exists(name, _BACKEND)
            self._db.create_table(name, schema=schema)

    def delete_collection(self, name: str) -> bool:
        check_collection_name(name, _BACKEND)
        with self._call():
            if self._table(name) is None:
                return False
            self._db.drop_table(name)
            return True

    def collection_exists(self, name: str) -> bool:
        check_collection_name(name, _BACKEND)
        with self._call():
            return self._table(name) is not None

    def list_collections(self) -> list[str]:
        with self._call():
            names: list[str] = []
            token = None
            while True:
                page = self._db.list_tables(page_token=token)
                names.extend(page.tables)
                token = page.page_token
                if not token:
                    break
            return sorted(name for name in names if self._table(name) is not None)

    def describe_collection(self, name: str) -> CollectionInfo:
        """The collection's dimension, distance and metadata (see ``KnowledgeTransfer``)."""
        with self._call():
            _, settings = self._require(name)
        return CollectionInfo(name, settings["dimension"], settings["distance"], settings["metadata"])

    def iter_documents(self, collection: str, batch_size: int = 1000) -> Iterator[list[KnowledgeDocument]]:
        """Every document, embeddings included, ``batch_size`` at a time (see ``KnowledgeTransfer``)."""
        offset = 0
        while True:
            with self._call():
                table, _ = self._require(collection)
                rows = table.search().select(list(_BASE_COLUMNS)).offset(offset).limit(batch_size).to_list()
            if not rows:
                return
            yield [self._document(row) for row in rows]
            offset += len(rows)

    # -- documents -------------------------------------------------------------

    def insert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self._write(collection, documents, overwrite=False)

    def upsert(self, collection: str, documents: Sequence[KnowledgeDocument]) -> list[str]:
        return self._write(collection, documents, overwrite=True)

    def _write(self, collection: str, documents: Sequence[KnowledgeDocument], *, overwrite: bool) -> list[str]:
        with self._call():
            table, settings = self._require(collection)
            prepared = check_documents(documents, settings["dimension"], _BACKEND)
            if not prepared:
                return []
            ids = [document.id for document in prepared]
            if not overwrite:
                taken = [row["id"] for row in self._select(table, self._expr.col("id").isin(ids), ["id"])]
                if taken:
                    raise document_exists(collection, taken, _BACKEND)
            self._add_typed_columns(table, prepared)
            data = self._rows(table.schema, prepared)
            if overwrite:
                table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(data)
            else:
                table.add(data)
            return ids

    def _add_typed_columns(self, table: Any, documents: list[KnowledgeDocument]) -> None:
        present = set(table.schema.names)
        missing: dict[str, str] = {}
        for document in documents:
            for indexed in index_metadata(document.metadata):
                for suffix, (_, default) in _TYPED.items():
                    name = _column(indexed.key, suffix)
                    if name not in present:
                        missing[name] = default
        if missing:
            table.add_columns(missing)

    def _rows(self, schema: Any, documents: list[KnowledgeDocument]) -> Any:
        columns: dict[str, list[Any]] = {name: [] for name in schema.names}
        typed = [name for name in schema.names if name not in _BASE_COLUMNS]
        for document in documents:
            columns["id"].append(document.id)
            columns["content"].append(document.content)
            columns["metadata"].append(dump_json(document.metadata, _BACKEND, "metadata"))
            columns["content_hash"].append(document.content_hash)
            columns["created_at"].append(document.created_at)
            columns["vector"].append(document.embedding)
            values: dict[str, Any] = {}
            for indexed in index_metadata(document.metadata):
                values[_column(indexed.key, "t")] = indexed.kind
                if indexed.kind in ("string", "bool"):
                    values[_column(indexed.key, indexed.kind[0])] = indexed.value
                elif indexed.kind == "number":
                    assert isinstance(indexed.value, (int, float))
                    values[_column(indexed.key, "n")] = float(indexed.value)
            for name in typed:
                default = {"t": "", "s": "", "n": 0.0, "b": False}[name[-1]]
                columns[name].append(values.get(name, default))
        return self._pa.Table.from_pydict(columns, schema=schema)

    def search(
        self,
        collection: str,
        query_embedding: Sequence[float],
        limit: int = 5,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[KnowledgeDocument]:
        limit = check_search_limit(limit, _BACKEND)
        threshold = check_score_threshold(score_threshold, _BACKEND)
        with self._call():
            table, settings = self._require(collection)
            distance: Distance = settings["distance"]
            query = check_embedding(query_embedding, settings["dimension"], _BACKEND, "query_embedding")
            where = self._where(table, filters)
            if where is NEVER:
                return []
            builder = (
                table.search(query, vector_column_name="vector")
                .distance_type(_NATIVE[distance])
                .select(list(_BASE_COLUMNS))
                .limit(limit)
            )
            if where is not None:
                builder = builder.where(where, prefilter=True)
            rows = builder.to_list()
        results = []
        for row in rows:
            score = _score(distance, float(row["_distance"]))
            if threshold is not None and score < threshold:
                continue
            document = self._document(row)
            document.score = score
            results.append(document)
        return results

    def get(self, collection: str, ids: Sequence[str]) -> list[KnowledgeDocument]:
        wanted = check_document_ids(ids, _BACKEND)
        with self._call():
            table, _ = self._require(collection)
            if not wanted:
                return []
            rows = self._select(table, self._expr.col("id").isin(list(dict.fromkeys(wanted))), list(_BASE_COLUMNS))
        found = {row["id"]: row for row in rows}
        return [self._document(found[i]) for i in wanted if i in found]

    def delete(
        self,
        collection: str,
        ids: Sequence[str] | None = None,
        filters: Filter | None = None,
    ) -> int:
        wanted, node = check_delete_args(ids, filters, _BACKEND)
        with self._call():
            table, _ = self._require(collection)
            if wanted is not None and not wanted:
                return 0
            where = self._where(table, filters) if node is not None else None
            if where is NEVER:
                return 0
            if wanted is not None:
                by_id = self._expr.col("id").isin(list(dict.fromkeys(wanted)))
                where = by_id if where is None else by_id & where
            if where is None:  # a filter every document matches
                where = self._expr.lit(True)
            result = table.delete(where)
            return int(result.num_deleted_rows)

    def count(self, collection: str) -> int:
        with self._call():
            table, _ = self._require(collection)
            return int(table.count_rows())

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            close = getattr(self._db, "close", None)
            if callable(close):
                close()

    # -- helpers ---------------------------------------------------------------

    @contextmanager
    def _call(self) -> Iterator[None]:
        with self._lock:
            if self._closed:
                raise StoreError("the store is closed", backend=_BACKEND)
            yield

    def _table(self, name: str) -> Any:
        try:
            table = self._db.open_table(name)
        except (FileNotFoundError, ValueError):
            return None
        return table if _MARKER in (table.schema.metadata or {}) else None

    def _require(self, name: str) -> tuple[Any, dict[str, Any]]:
        check_collection_name(name, _BACKEND)
        table = self._table(name)
        if table is None:
            raise collection_not_found(name, _BACKEND)
        settings: dict[str, Any] = load_json(table.schema.metadata[_MARKER])
        return table, settings

    def _select(self, table: Any, where: Any, columns: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = table.search().where(where).select(columns).limit(None).to_list()
        return rows

    def _document(self, row: dict[str, Any]) -> KnowledgeDocument:
        return KnowledgeDocument(
            id=row["id"],
            content=row["content"],
            embedding=[float(x) for x in row["vector"]],
            metadata=load_json(row["metadata"]),
            content_hash=row["content_hash"],
            created_at=float(row["created_at"]),
        )

    def _where(self, table: Any, filters: Filter | None) -> Any:
        node = parse_filters(filters, _BACKEND)
        if node is None:
            return None
        columns = set(table.schema.names)

        def known(atom: Atom) -> bool | None:
            # A field no document ever carried has no columns: decide its atoms now.
            if _column(field_key(atom.field), "t") in columns:
                return None
            return isinstance(atom, Ne)

        lowered = simplify(lower(node, _BACKEND), known)
        if lowered == NEVER:
            return NEVER
        if lowered == ALWAYS:
            return None
        return self._render(lowered)

    def _render(self, node: Lowered) -> Any:
        col, lit = self._expr.col, self._expr.lit
        if isinstance(node, (All, AnyOf)):
            parts = [self._render(part) for part in node.parts]
            combined = parts[0]
            for part in parts[1:]:
                combined = combined & part if isinstance(node, All) else combined | part
            return combined
        key = field_key(node.field)
        kind_column = col(_column(key, "t"))
        if isinstance(node, (Eq, Ne)):
            matched = kind_column == lit(node.kind)
            if node.kind == "number":
                assert isinstance(node.value, (int, float))
                matched = matched & (col(_column(key, "n")) == lit(float(node.value)))
            elif node.kind != "null":
                matched = matched & (col(_column(key, node.kind[0])) == lit(node.value))
            return matched if isinstance(node, Eq) else ~matched
        if isinstance(node, IsKind):
            return kind_column == lit(node.kind)
        if isinstance(node, (Range, StrRange)):
            kind, suffix = ("number", "n") if isinstance(node, Range) else ("string", "s")
            value = lit(float(node.value)) if isinstance(node, Range) else lit(node.value)
            stored = col(_column(key, suffix))
            compared = {"gt": stored > value, "gte": stored >= value, "lt": stored < value, "lte": stored <= value}
            return (kind_column == lit(kind)) & compared[node.op]
        assert not isinstance(node, Chunk), "lowered without chunks"
        raise AssertionError(f"unexpected filter node {node!r}")


def _score(distance: Distance, raw: float) -> float:
    if distance == "euclidean":
        return 1.0 / (1.0 + math.sqrt(max(raw, 0.0)))
    return 1.0 - raw
