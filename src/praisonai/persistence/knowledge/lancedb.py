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
the portable scores. Numbers compare as float64, so a filter number at or beyond
±2**53 is refused (``InvalidInputError``): it could compare wrongly against a stored
integer beyond 2**53 (the stored metadata itself stays exact). LanceDB drops a zero
vector from cosine searches (NaN distance): they are found from the origin in L2
and scored 0.0. ``insert`` checks and writes
under the store's lock; another process writing the same table can race between
the check and the write.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._closing import close_client
from .._values import dump_json
from ._filters import native as nodes
from ._filters.native import (
    NEVER,
    as_float,
    field_key,
    index_metadata,
    render,
)
from ._layers.records import document_from_record
from ._layers.store_base import CollectionSettings, KnowledgeStoreBase, OpenedCollection, score_of_distance
from .base import Distance, KnowledgeDocument
from .config import LanceDbKnowledgeConfig
from .filters import FilterNode

__all__ = ["LanceDbKnowledgeStore"]

_MARKER = b"praisonai_knowledge"
_NATIVE = {"cosine": "cosine", "dot": "dot", "euclidean": "l2"}
_BASE_COLUMNS = ("id", "content", "metadata", "content_hash", "created_at", "vector")
# Typed columns of one metadata field: suffix -> (arrow type name, SQL default for existing rows).
_TYPED = {"t": ("string", "CAST('' AS STRING)"), "s": ("string", "CAST('' AS STRING)"),
          "n": ("float64", "CAST(0 AS DOUBLE)"), "b": ("bool", "false")}  # fmt: skip


def _column(key: str, suffix: str) -> str:
    return f"m_{key}_{suffix}"


class LanceDbKnowledgeStore(KnowledgeStoreBase[OpenedCollection, LanceDbKnowledgeConfig]):
    """A KnowledgeStore on LanceDB tables."""

    backend = "lancedb"
    exact_filter_numbers = 2**53  # numbers are indexed as 64-bit floats

    def __init__(self, config: LanceDbKnowledgeConfig) -> None:
        super().__init__(config)
        lancedb = self._import_driver("lancedb")
        self._pa: Any = self._import_driver("pyarrow")
        self._expr: Any = self._import_driver("lancedb.expr")
        options: dict[str, Any] = {}
        if config.api_key is not None:
            options["api_key"] = config.api_key.get_secret_value()
        if config.region is not None:
            options["region"] = config.region
        with self._translating:
            self._db: Any = lancedb.connect(config.uri, **options)

    # -- engine primitives (called with the lock held) ---------------------------

    def _find(self, name: str) -> OpenedCollection | None:
        try:
            table = self._db.open_table(name)
        except (FileNotFoundError, ValueError):
            return None
        stored = (table.schema.metadata or {}).get(_MARKER)
        if stored is None:
            return None
        return OpenedCollection(table, *CollectionSettings.from_json(stored))

    def _create(self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None) -> None:
        pa = self._pa
        schema = pa.schema(
            [
                pa.field("id", pa.string(), nullable=False),
                pa.field("content", pa.string(), nullable=False),
                pa.field("metadata", pa.string(), nullable=False),
                pa.field("content_hash", pa.string()),
                pa.field("created_at", pa.float64(), nullable=False),
                pa.field("vector", pa.list_(pa.float32(), dimension), nullable=False),
            ],
            metadata={_MARKER: CollectionSettings(dimension, distance, metadata).to_json().encode()},
        )
        self._db.create_table(name, schema=schema)

    def _drop(self, name: str, target: OpenedCollection) -> None:
        self._db.drop_table(name)

    def _names(self) -> list[str]:
        names: list[str] = []
        token = None
        while True:
            page = self._db.list_tables(page_token=token)
            names.extend(page.tables)
            token = page.page_token
            if not token:
                break
        return [name for name in names if self._find(name) is not None]

    def _taken(self, name: str, target: OpenedCollection, ids: list[str]) -> list[str]:
        return [row["id"] for row in self._select(target.native, self._expr.col("id").isin(ids), ["id"])]

    def _put(self, name: str, target: OpenedCollection, documents: list[KnowledgeDocument], *, overwrite: bool) -> None:
        table = target.native
        self._add_typed_columns(table, documents)
        data = self._rows(table.schema, documents)
        if overwrite:
            table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(data)
        else:
            table.add(data)

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
            columns["metadata"].append(dump_json(document.metadata, what="metadata"))
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
                    values[_column(indexed.key, "n")] = as_float(indexed.value)
            for name in typed:
                default = {"t": "", "s": "", "n": 0.0, "b": False}[name[-1]]
                columns[name].append(values.get(name, default))
        return self._pa.Table.from_pydict(columns, schema=schema)

    def _search(
        self, name: str, target: OpenedCollection, query: list[float], limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        where = self._where(target.native, node)
        if where is nodes.NEVER:
            return []
        builder = (
            target.native.search(query, vector_column_name="vector")
            .distance_type(_NATIVE[target.distance])
            .select([*_BASE_COLUMNS, "_distance"])  # named: lance warns when it adds _distance on its own
            .limit(limit)
        )
        if where is not None:
            builder = builder.where(where, prefilter=True)
        results = []
        for row in builder.to_list():
            document = self._document(row)
            document.score = score_of_distance(target.distance, float(row["_distance"]))
            results.append(document)
        return results

    def _zero_vectors(
        self, name: str, target: OpenedCollection, limit: int, node: FilterNode | None
    ) -> list[KnowledgeDocument]:
        """Cosine: LanceDB leaves zero vectors out (NaN distance). From the origin, in L2, they come first."""
        where = self._where(target.native, node)
        if where is NEVER:
            return []
        builder = (
            target.native.search([0.0] * target.dimension, vector_column_name="vector")
            .distance_type("l2")
            .select([*_BASE_COLUMNS, "_distance"])
            .limit(limit)
        )
        if where is not None:
            builder = builder.where(where, prefilter=True)
        found = []
        for row in builder.to_list():
            if float(row["_distance"]) != 0.0:
                break
            document = self._document(row)
            document.score = 0.0
            found.append(document)
        return found

    def _fetch(self, name: str, target: OpenedCollection, ids: list[str]) -> dict[str, KnowledgeDocument]:
        rows = self._select(target.native, self._expr.col("id").isin(ids), list(_BASE_COLUMNS))
        return {row["id"]: self._document(row) for row in rows}

    def _remove(self, name: str, target: OpenedCollection, ids: list[str] | None, node: FilterNode | None) -> int:
        where = self._where(target.native, node)
        if where is nodes.NEVER:
            return 0
        if ids is not None:
            by_id = self._expr.col("id").isin(ids)
            where = by_id if where is None else by_id & where
        if where is None:  # a filter every document matches
            where = self._expr.lit(True)
        return int(target.native.delete(where).num_deleted_rows)

    def _count(self, name: str, target: OpenedCollection) -> int:
        return int(target.native.count_rows())

    def _scan(self, name: str, target: OpenedCollection, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        table, offset = target.native, 0
        while True:
            rows = table.search().select(list(_BASE_COLUMNS)).offset(offset).limit(batch_size).to_list()
            if not rows:
                return
            yield [self._document(row) for row in rows]
            offset += len(rows)
            table = self._require(name).native

    def _release(self) -> None:
        close_client(self._db)

    # -- helpers ---------------------------------------------------------------

    def _select(self, table: Any, where: Any, columns: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = table.search().where(where).select(columns).limit(None).to_list()
        return rows

    def _document(self, row: dict[str, Any]) -> KnowledgeDocument:
        return document_from_record(row, "vector")

    def _where(self, table: Any, node: FilterNode | None) -> Any:
        if node is None:
            return None
        columns = set(table.schema.names)

        def known(atom: nodes.Atom) -> bool | None:
            # A field no document ever carried has no columns: decide its atoms now.
            if _column(field_key(atom.field), "t") in columns:
                return None
            return isinstance(atom, nodes.Ne)

        return render(node, self._render, known=known)

    def _render(self, node: nodes.Lowered) -> Any:
        col, lit = self._expr.col, self._expr.lit
        if isinstance(node, (nodes.All, nodes.Any)):
            parts = [self._render(part) for part in node.parts]
            combined = parts[0]
            for part in parts[1:]:
                combined = combined & part if isinstance(node, nodes.All) else combined | part
            return combined
        key = field_key(node.field)
        kind_column = col(_column(key, "t"))
        if isinstance(node, (nodes.Eq, nodes.Ne)):
            matched = kind_column == lit(node.kind)
            if node.kind == "number":
                assert isinstance(node.value, (int, float))
                matched = matched & (col(_column(key, "n")) == lit(float(node.value)))
            elif node.kind != "null":
                matched = matched & (col(_column(key, node.kind[0])) == lit(node.value))
            return matched if isinstance(node, nodes.Eq) else ~matched
        if isinstance(node, nodes.IsKind):
            return kind_column == lit(node.kind)
        if isinstance(node, (nodes.Range, nodes.StrRange)):
            kind, suffix = ("number", "n") if isinstance(node, nodes.Range) else ("string", "s")
            value = lit(float(node.value)) if isinstance(node, nodes.Range) else lit(node.value)
            stored = col(_column(key, suffix))
            compared = {"gt": stored > value, "gte": stored >= value, "lt": stored < value, "lte": stored <= value}
            return (kind_column == lit(kind)) & compared[node.op]
        assert not isinstance(node, nodes.Chunk), "lowered without chunks"
        raise AssertionError(f"unexpected filter node {node!r}")


LanceDBKnowledgeStore = LanceDbKnowledgeStore
"""PraisonAI 4.7.19's name of :class:`LanceDbKnowledgeStore`."""
