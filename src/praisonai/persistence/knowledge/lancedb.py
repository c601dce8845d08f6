"""LanceDB knowledge store: one Lance table per collection, searched exactly.

Engine: LanceDB (Lance tables). Drivers: ``lancedb`` and ``pyarrow`` (extra ``lancedb``).
URL forms: a directory, ``lancedb:///relative/dir``, ``lancedb:////absolute/dir``;
``s3://``, ``gs://``, ``az://`` object stores; ``db://database`` (LanceDB Cloud, with
``api_key`` and ``region``).
Test tier: embedded (LanceDB on a local directory). Object stores and LanceDB Cloud
use the same table API but are not exercised by the tests.

Each store opens its own connection (``lancedb.connect_async``); nothing is process-global.
Both stores run one implementation of the engine calls, as steps over LanceDB's async
API: ``async_lancedb`` awaits them in the caller's event loop, ``lancedb`` runs them on
LanceDB's background loop (as LanceDB's own sync API does).

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

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .._closing import close_client
from .._sansio import Operation, drive, drive_async, throw_in_everything
from .._values import dump_json
from ._filters import native as nodes
from ._filters.native import (
    NEVER,
    as_float,
    field_key,
    index_metadata,
    render,
)
from ._layers.async_store_base import AsyncKnowledgeStoreBase
from ._layers.contract import EngineStepsPrimitives
from ._layers.records import document_from_record
from ._layers.store_base import CollectionSettings, OffsetPagedStore, OpenedCollection, score_of_distance
from .base import Distance, KnowledgeDocument
from .config import LanceDbKnowledgeConfig
from .filters import FilterNode

__all__ = ["AsyncLanceDbKnowledgeStore", "LanceDbKnowledgeStore"]

R = TypeVar("R")

_MARKER = b"praisonai_knowledge"
_NATIVE = {"cosine": "cosine", "dot": "dot", "euclidean": "l2"}
_BASE_COLUMNS = ("id", "content", "metadata", "content_hash", "created_at", "vector")
# Typed columns of one metadata field: suffix -> (arrow type name, SQL default for existing rows).
_TYPED = {"t": ("string", "CAST('' AS STRING)"), "s": ("string", "CAST('' AS STRING)"),
          "n": ("float64", "CAST(0 AS DOUBLE)"), "b": ("bool", "false")}  # fmt: skip


def _column(key: str, suffix: str) -> str:
    return f"m_{key}_{suffix}"


class _LanceSteps(EngineStepsPrimitives):
    """LanceDB's engine primitives as steps (:mod:`.._sansio`) yielding the coroutines of its async
    API (``AsyncConnection``, ``AsyncTable``), one copy for both stores: the async store awaits
    them in the caller's event loop; the sync store runs them on LanceDB's background loop, which
    is what LanceDB's own sync API does."""

    config: LanceDbKnowledgeConfig
    _db: Any  # the AsyncConnection
    _pa: Any
    _expr: Any

    def _use_driver(self, import_driver: Callable[[str], Any]) -> None:
        self._lancedb: Any = import_driver("lancedb")
        self._pa = import_driver("pyarrow")
        self._expr = import_driver("lancedb.expr")

    def _connecting(self) -> Awaitable[Any]:
        config = self.config
        options: dict[str, Any] = {}
        if config.api_key is not None:
            options["api_key"] = config.api_key.get_secret_value()
        if config.region is not None:
            options["region"] = config.region
        connecting: Awaitable[Any] = self._lancedb.connect_async(config.uri, **options)
        return connecting

    # -- the steps ---------------------------------------------------------------------

    def _find_steps(self, name: str) -> Operation[Awaitable[Any], OpenedCollection | None]:
        try:
            table = yield self._db.open_table(name)
        except (FileNotFoundError, ValueError):
            return None
        stored = ((yield table.schema()).metadata or {}).get(_MARKER)
        if stored is None:
            return None
        return OpenedCollection(table, *CollectionSettings.from_json(stored))

    def _create_steps(
        self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None
    ) -> Operation[Awaitable[Any], None]:
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
        yield self._db.create_table(name, schema=schema)

    def _drop_steps(self, name: str, target: OpenedCollection) -> Operation[Awaitable[Any], None]:
        yield self._db.drop_table(name)

    def _names_steps(self) -> Operation[Awaitable[Any], list[str]]:
        names: list[str] = []
        token = None
        while True:
            page = yield self._db.list_tables(page_token=token)
            names.extend(page.tables)
            token = page.page_token
            if not token:
                break
        ours = []
        for name in names:
            if (yield from self._find_steps(name)) is not None:
                ours.append(name)
        return ours

    def _taken_steps(self, name: str, target: OpenedCollection, ids: list[str]) -> Operation[Awaitable[Any], list[str]]:
        rows = yield target.native.query().where(self._expr.col("id").isin(ids)).select(["id"]).to_list()
        return [row["id"] for row in rows]

    def _put_steps(
        self, name: str, target: OpenedCollection, documents: list[KnowledgeDocument], overwrite: bool
    ) -> Operation[Awaitable[Any], None]:
        table = target.native
        schema = yield table.schema()
        present = set(schema.names)
        missing: dict[str, str] = {}
        for document in documents:
            for indexed in index_metadata(document.metadata):
                for suffix, (_, default) in _TYPED.items():
                    name = _column(indexed.key, suffix)
                    if name not in present:
                        missing[name] = default
        if missing:
            yield table.add_columns(missing)
            schema = yield table.schema()
        data = self._rows(schema, documents)
        if overwrite:
            yield table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(data)
        else:
            yield table.add(data)

    def _search_steps(
        self, name: str, target: OpenedCollection, query: list[float], limit: int, node: FilterNode | None
    ) -> Operation[Awaitable[Any], list[KnowledgeDocument]]:
        rows = yield from self._nearest(target, query, target.distance, limit, node)
        results = []
        for row in rows:
            document = self._document(row)
            document.score = score_of_distance(target.distance, float(row["_distance"]))
            results.append(document)
        return results

    def _zero_vectors_steps(
        self, name: str, target: OpenedCollection, limit: int, node: FilterNode | None
    ) -> Operation[Awaitable[Any], list[KnowledgeDocument]]:
        """Cosine: LanceDB leaves zero vectors out (NaN distance). From the origin, in L2, they come first."""
        rows = yield from self._nearest(target, [0.0] * target.dimension, "euclidean", limit, node)
        found = []
        for row in rows:
            if float(row["_distance"]) != 0.0:
                break
            document = self._document(row)
            document.score = 0.0
            found.append(document)
        return found

    def _nearest(
        self, target: OpenedCollection, query: list[float], distance: Distance, limit: int, node: FilterNode | None
    ) -> Operation[Awaitable[Any], list[dict[str, Any]]]:
        """The ``limit`` rows nearest ``query`` that match ``node`` (a prefilter), with ``_distance``."""
        where = yield from self._where(target.native, node)
        if where is NEVER:
            return []
        search = (
            target.native.query()
            .nearest_to(query)
            .column("vector")
            .distance_type(_NATIVE[distance])
            .select([*_BASE_COLUMNS, "_distance"])  # named: lance warns when it adds _distance on its own
            .limit(limit)
        )
        if where is not None:
            search = search.where(where)
        rows: list[dict[str, Any]] = yield search.to_list()
        return rows

    def _fetch_steps(
        self, name: str, target: OpenedCollection, ids: list[str]
    ) -> Operation[Awaitable[Any], dict[str, KnowledgeDocument]]:
        rows = yield target.native.query().where(self._expr.col("id").isin(ids)).select(list(_BASE_COLUMNS)).to_list()
        return {row["id"]: self._document(row) for row in rows}

    def _remove_steps(
        self, name: str, target: OpenedCollection, ids: list[str] | None, node: FilterNode | None
    ) -> Operation[Awaitable[Any], int]:
        where = yield from self._where(target.native, node)
        if where is nodes.NEVER:
            return 0
        if ids is not None:
            by_id = self._expr.col("id").isin(ids)
            where = by_id if where is None else by_id & where
        if where is None:  # a filter every document matches
            where = self._expr.lit(True)
        return int((yield target.native.delete(where)).num_deleted_rows)

    def _count_steps(self, name: str, target: OpenedCollection) -> Operation[Awaitable[Any], int]:
        return int((yield target.native.count_rows()))

    def _page_steps(
        self, target: OpenedCollection, offset: int, size: int
    ) -> Operation[Awaitable[Any], list[KnowledgeDocument]]:
        rows = yield target.native.query().select(list(_BASE_COLUMNS)).offset(offset).limit(size).to_list()
        return [self._document(row) for row in rows]

    # -- helpers ---------------------------------------------------------------

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

    def _document(self, row: dict[str, Any]) -> KnowledgeDocument:
        return document_from_record(row, "vector")

    def _where(self, table: Any, node: FilterNode | None) -> Operation[Awaitable[Any], Any]:
        if node is None:
            return None
        columns = set((yield table.schema()).names)

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


class LanceDbKnowledgeStore(_LanceSteps, OffsetPagedStore[OpenedCollection, LanceDbKnowledgeConfig]):
    """A KnowledgeStore on LanceDB tables."""

    backend = "lancedb"
    exact_filter_numbers = 2**53  # numbers are indexed as 64-bit floats

    def __init__(self, config: LanceDbKnowledgeConfig) -> None:
        super().__init__(config)
        self._use_driver(self._import_driver)
        self._background: Any = self._import_driver("lancedb.background_loop").LOOP
        with self._translating:
            self._db = self._background.run(self._connecting())

    # -- engine primitives (called with the lock held): the steps of _LanceSteps -------------

    def _engine(self, steps: Operation[Awaitable[Any], R]) -> R:
        return drive(steps, self._background.run, throw_in_everything)

    def _release(self) -> None:
        close_client(self._db)


class AsyncLanceDbKnowledgeStore(_LanceSteps, AsyncKnowledgeStoreBase[OpenedCollection, LanceDbKnowledgeConfig]):
    """An AsyncKnowledgeStore on LanceDB tables through ``lancedb.connect_async``: the sync store's
    steps, awaited in the caller's event loop.

    The connection opens on the first call, and again in another event loop (a second
    ``asyncio.run``), the old one closed. A cancelled call stops at an ``await``; each
    LanceDB write is one commit of a new table version, applied whole or not at all.
    """

    backend = "async_lancedb"
    exact_filter_numbers = 2**53

    def __init__(self, config: LanceDbKnowledgeConfig) -> None:
        super().__init__(config)
        self._use_driver(self._import_driver)
        self._db = None
        self._db_loop: asyncio.AbstractEventLoop | None = None

    async def _engine(self, steps: Operation[Awaitable[Any], R]) -> R:
        loop = asyncio.get_running_loop()
        if self._db is None or self._db_loop is not loop:
            if self._db is not None:
                close_client(self._db)
            self._db, self._db_loop = await self._connecting(), loop
        return await drive_async(steps, _awaited, throw_in_everything)

    async def _release(self) -> None:
        database, self._db = self._db, None
        if database is not None:
            close_client(database)


async def _awaited(request: Awaitable[Any]) -> Any:
    return await request


LanceDBKnowledgeStore = LanceDbKnowledgeStore
"""PraisonAI 4.7.19's name of :class:`LanceDbKnowledgeStore`."""
