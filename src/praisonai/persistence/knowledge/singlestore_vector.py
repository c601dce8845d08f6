"""SingleStore knowledge store: one table per collection, exact vector search in SQL, through singlestoredb.

Engine: SingleStore (any version with ``JSON_ARRAY_PACK`` / ``DOT_PRODUCT`` /
``EUCLIDEAN_DISTANCE``). Driver: ``singlestoredb`` (extra ``singlestore``, shared with the
``singlestore`` conversation store).
URL forms: ``singlestoredb://user:password@host:3306/database`` (also ``singlestore://``,
``mysql://``), option ``table_prefix``.
Test tier: fake, in part (a MySQL-protocol stand-in). The tests run the real driver and
the adapter's exact statements on MariaDB 10.11 over the MySQL protocol, with the five
SingleStore functions the statements use (``JSON_ARRAY_PACK``, ``DOT_PRODUCT``,
``EUCLIDEAN_DISTANCE``, ``JSON_ARRAY_CONTAINS_STRING``, ``JSON_EXTRACT_DOUBLE``) defined as
stored functions with SingleStore's documented results (tests/support/singlestore_shim.py).
SingleStore itself (its function implementations, packed float32 vectors, sharding) is
not exercised.

Layout: ``<prefix>collections`` (name, settings JSON) and per collection a table
``<prefix><sha1 of the name, 24 hex>`` with the fields of :func:`~._layers.records.document_record`:
the embedding as JSON text (returned exactly) and as a packed ``vec`` blob (ranked with
``DOT_PRODUCT`` / ``EUCLIDEAN_DISTANCE``; cosine divides by the stored vector's norm),
the filter tokens ``ix``, numbers ``n`` and chunks ``c`` as JSON columns. Filters become
a WHERE clause with ``%(p)s`` parameters: ``JSON_ARRAY_CONTAINS_STRING(ix, %(p0)s)``,
``JSON_EXTRACT_DOUBLE(n, %(p1)s) > %(p2)s``. Search scans exactly (no vector index).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from .._singlestore import connect
from .._values import dump_json
from ._filters.native import Lowered
from ._filters.tokens import SqlSpelling, SqlTokens
from ._layers.hosted_store import HostedVectorStore, Settings
from ._layers.records import RECORD_COLUMNS, document_from_record
from ._layers.store_base import read_pages
from .base import KnowledgeDocument
from .config import SingleStoreVectorKnowledgeConfig

__all__ = ["SingleStoreFilter", "SingleStoreVectorKnowledgeStore"]

_FIELDS = ", ".join(RECORD_COLUMNS)
_TEXT = "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"


class SingleStoreFilter(SqlTokens):
    """The SingleStore SQL spelling of a filter: ``%(name)s`` parameters, JSON columns."""

    spelling = SqlSpelling(
        placeholder="%({})s",
        contains="JSON_ARRAY_CONTAINS_STRING(ix, {})",
        number="JSON_EXTRACT_DOUBLE(n, {})",
        chunk="JSON_EXTRACT_DOUBLE(c, {})",
        present="JSON_EXTRACT_DOUBLE(c, {}) IS NOT NULL",
    )


def _row(row: Any) -> KnowledgeDocument:
    record = dict(zip(RECORD_COLUMNS, row, strict=True))
    record["embedding"] = _json(record["embedding"])
    return document_from_record(record)


def _json(value: Any) -> Any:
    from .._values import load_json

    return load_json(value.decode() if isinstance(value, bytes) else value)


class SingleStoreVectorKnowledgeStore(HostedVectorStore[SingleStoreVectorKnowledgeConfig]):
    """A KnowledgeStore on SingleStore tables; one connection, serialised by the store lock."""

    engine = "SingleStore"

    def __init__(self, config: SingleStoreVectorKnowledgeConfig) -> None:
        super().__init__(config)
        self._s2: Any = self._import_driver("singlestoredb")
        with self._translating:  # an unreachable engine is BackendUnavailableError
            self._connection: Any = connect(self._s2, config)
            self._catalogue = f"`{config.table_prefix}collections`"
            self._execute(
                f"CREATE TABLE IF NOT EXISTS {self._catalogue} "
                f"(name VARCHAR(64) {_TEXT} NOT NULL, settings LONGTEXT NOT NULL, PRIMARY KEY (name))"
            )

    def _table(self, name: str) -> str:
        return f"`{self.config.table_prefix}{hashlib.sha1(name.encode()).hexdigest()[:24]}`"  # noqa: S324

    def _execute(self, statement: str, parameters: Any = None) -> list[Any]:
        with self._connection.cursor() as cursor:
            cursor.execute(statement, parameters)
            return list(cursor.fetchall()) if cursor.description else []

    # -- primitives -----------------------------------------------------------------------

    def _native_create(self, name: str, settings: Settings) -> bool:
        if self._execute(f"SELECT 1 FROM {self._catalogue} WHERE name = %s", (name,)):
            return False
        self._execute(
            f"CREATE TABLE IF NOT EXISTS {self._table(name)} ("
            f"id VARCHAR(255) {_TEXT} NOT NULL, content LONGTEXT NOT NULL, metadata LONGTEXT NOT NULL, "
            "content_hash VARCHAR(64), created_at DOUBLE NOT NULL, embedding LONGTEXT NOT NULL, "
            "vec LONGBLOB NOT NULL, ix JSON NOT NULL, n JSON NOT NULL, c JSON NOT NULL, PRIMARY KEY (id))"
        )
        self._execute(
            f"INSERT INTO {self._catalogue} (name, settings) VALUES (%s, %s)",
            (name, settings.to_json()),
        )
        return True

    def _native_drop(self, name: str) -> bool:
        self._execute(f"DROP TABLE IF EXISTS {self._table(name)}")
        self._execute(f"DELETE FROM {self._catalogue} WHERE name = %s", (name,))
        return True

    def _find(self, name: str) -> Settings | None:
        rows = self._execute(f"SELECT settings FROM {self._catalogue} WHERE name = %s", (name,))
        return Settings.from_json(rows[0][0]) if rows else None

    def _names(self) -> list[str]:
        return [str(row[0]) for row in self._execute(f"SELECT name FROM {self._catalogue}")]

    def _taken(self, name: str, settings: Settings, ids: list[str]) -> set[str]:
        marks = ", ".join(["%s"] * len(ids))
        return {str(row[0]) for row in self._execute(f"SELECT id FROM {self._table(name)} WHERE id IN ({marks})", ids)}

    def _native_put(self, name: str, settings: Settings, records: list[dict[str, Any]]) -> None:
        statement = (
            f"REPLACE INTO {self._table(name)} "
            "(id, content, metadata, content_hash, created_at, embedding, vec, ix, n, c) "
            "VALUES (%s, %s, %s, %s, %s, %s, JSON_ARRAY_PACK(%s), %s, %s, %s)"
        )
        with self._connection.cursor() as cursor:
            for r in records:
                stored = {**r, "embedding": dump_json(r["embedding"])}  # the JSON twice: as text and packed
                cursor.execute(
                    statement,
                    (
                        *(stored[column] for column in RECORD_COLUMNS),
                        stored["embedding"],
                        dump_json(r["ix"]),
                        dump_json(r["n"]),
                        dump_json(r["c"]),
                    ),
                )

    def _fetch(self, name: str, settings: Settings, ids: list[str]) -> dict[str, KnowledgeDocument]:
        marks = ", ".join(["%s"] * len(ids))
        rows = self._execute(f"SELECT {_FIELDS} FROM {self._table(name)} WHERE id IN ({marks})", ids)
        return {str(row[0]): _row(row) for row in rows}

    def _native_query(
        self, name: str, settings: Settings, vector: list[float], limit: int, node: Lowered | None
    ) -> list[KnowledgeDocument]:
        where = SingleStoreFilter()
        clause = "" if node is None else f" WHERE {where.render(node)}"
        query = where.param(dump_json(vector))
        if settings.distance == "euclidean":
            order = f"EUCLIDEAN_DISTANCE(vec, JSON_ARRAY_PACK({query})) ASC"
        elif settings.distance == "dot":
            order = f"DOT_PRODUCT(vec, JSON_ARRAY_PACK({query})) DESC"
        else:
            # A zero vector's norm is 0: the division gives NULL, which sorts last; its cosine is 0.
            order = f"COALESCE(DOT_PRODUCT(vec, JSON_ARRAY_PACK({query})) / SQRT(DOT_PRODUCT(vec, vec)), 0) DESC"
        statement = f"SELECT {_FIELDS} FROM {self._table(name)}{clause} ORDER BY {order}, id LIMIT {int(limit)}"
        return [_row(row) for row in self._execute(statement, where.values)]

    def _native_matching(self, name: str, settings: Settings, node: Lowered, ids: list[str] | None) -> list[str]:
        where = SingleStoreFilter()
        clause = where.render(node)
        if ids is not None:
            clause += " AND id IN (" + ", ".join(where.param(i) for i in ids) + ")"
        return [
            str(row[0]) for row in self._execute(f"SELECT id FROM {self._table(name)} WHERE {clause}", where.values)
        ]

    def _native_remove(self, name: str, settings: Settings, ids: list[str]) -> None:
        marks = ", ".join(["%s"] * len(ids))
        self._execute(f"DELETE FROM {self._table(name)} WHERE id IN ({marks})", ids)

    def _count(self, name: str, settings: Settings) -> int:
        return int(self._execute(f"SELECT COUNT(*) FROM {self._table(name)}")[0][0])

    def _scan(self, name: str, settings: Settings, batch_size: int) -> Iterator[list[KnowledgeDocument]]:
        statement = f"SELECT {_FIELDS} FROM {self._table(name)} WHERE id > %s ORDER BY id LIMIT {int(batch_size)}"
        pages = read_pages(lambda last: self._execute(statement, (last,)), "", lambda _, rows: str(rows[-1][0]))
        return ([_row(row) for row in rows] for rows in pages)

    def _release(self) -> None:
        self._connection.close()
