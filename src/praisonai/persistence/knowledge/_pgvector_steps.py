"""pgvector's statements, written once as sans-IO steps for the sync and the async store.

:class:`_PgvectorSteps` holds the engine primitives of
:mod:`..pgvector` as generators of :class:`_Sql` requests (see
:mod:`praisonai.persistence._sansio`): the schema set-up, the catalogue
table, each collection's table and HNSW index, the searches (iterative and
exact scans, zero vectors), the writes and the scan, with the row layout and
the scores. :class:`~..pgvector.PgvectorKnowledgeStore` runs them on a
psycopg ``Connection`` (:func:`_run`), :class:`~..pgvector.AsyncPgvectorKnowledgeStore`
on an ``AsyncConnection`` (:func:`_run_async`).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from .._fields import libpq_seconds
from .._sansio import Operation
from .._values import dump_json, load_json
from ..errors import BackendUnavailableError, InvalidInputError, StoreError, UnsupportedFilterError
from ._filters.sql import Parameters, PostgresJsonb, translate_filter
from ._layers.checks import collection_exists, collection_not_found, document_exists
from ._layers.contract import EngineStepsPrimitives
from .base import Distance, KnowledgeDocument, score_from_distance
from .config import PgvectorKnowledgeConfig
from .filters import Comparison, FilterNode

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql as psql

__all__ = ["MAX_DIMENSION", "MAX_INDEXED_DIMENSION", "table_name"]

R = TypeVar("R")

MAX_DIMENSION = 16000
"""The most dimensions pgvector's ``vector`` type holds."""
MAX_INDEXED_DIMENSION = 2000
"""The most dimensions an HNSW index on ``vector`` covers."""
_MAX_EF_SEARCH = 1000

_OPERATORS: dict[str, tuple[str, str]] = {
    "cosine": ("<=>", "vector_cosine_ops"),
    "dot": ("<#>", "vector_ip_ops"),
    "euclidean": ("<->", "vector_l2_ops"),
}
_COLUMNS = "id, content, metadata_json, content_hash, created_at, embedding::float4[]"


@dataclass(frozen=True, slots=True)
class _Collection:
    table: psql.Composable
    dimension: int
    distance: Distance
    metadata_json: str | None  # parsed only when asked for (describe_collection), not on every call

    @property
    def metadata(self) -> dict[str, Any] | None:
        return None if self.metadata_json is None else load_json(self.metadata_json)


def table_name(prefix: str, collection: str) -> str:
    """The table of ``collection``: ``<prefix><name>``, or shortened with a hash beyond 63 bytes."""
    name = f"{prefix}{collection}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(collection.encode("utf-8")).hexdigest()[:10]
    return f"{name[: 63 - 11]}_{digest}"


def _score(distance: Distance, raw: float | None) -> float:
    if raw is None or math.isnan(raw):
        return 0.0  # a zero vector has no cosine
    if distance == "cosine":
        return 1.0 - raw
    if distance == "dot":
        return -raw
    return score_from_distance("euclidean", raw)


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any("\x00" in key or _has_nul(item) for key, item in value.items())
    return False


def _filter_has_nul(node: FilterNode) -> bool:
    if isinstance(node, Comparison):
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        return "\x00" in node.field or any(isinstance(value, str) and "\x00" in value for value in values)
    return any(_filter_has_nul(part) for part in node.clauses)


class _Sql(NamedTuple):
    """One statement for the held connection; answered with its rows, or its row count when it returns none."""

    statement: Any  # str or a psycopg.sql composition
    params: Any = None
    many: bool = False  # params is a sequence of parameter rows
    prepare: bool | None = None


_BEGIN = _Sql("BEGIN")
_COMMIT = _Sql("COMMIT")
_ROLLBACK = _Sql("ROLLBACK")


def _run(connection: psycopg.Connection[Any], request: _Sql) -> Any:
    """The sync store's ``execute``: ``request`` on a psycopg ``Connection``."""
    cursor = connection.cursor()
    if request.many:
        return cursor.executemany(request.statement, request.params)
    cursor.execute(request.statement, request.params, prepare=request.prepare)
    return cursor.rowcount if cursor.description is None else cursor.fetchall()


async def _run_async(connection: psycopg.AsyncConnection[Any], request: _Sql) -> Any:
    """The async store's: on a psycopg ``AsyncConnection``."""
    cursor = connection.cursor()
    await (
        cursor.executemany(request.statement, request.params)
        if request.many
        else cursor.execute(request.statement, request.params, prepare=request.prepare)
    )
    return cursor.rowcount if cursor.description is None else await cursor.fetchall()


def _idle(connection: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Whether ``connection`` can go back to the pool: open, and not in a transaction (a call cancelled
    or interrupted half-way leaves one open: the connection is closed instead, so the server rolls it back)."""
    return not connection.closed and connection.info.transaction_status.name == "IDLE"


class _PgvectorSteps(EngineStepsPrimitives):
    """pgvector's engine primitives as steps of statements (:mod:`.._sansio`), one copy for the sync
    store (psycopg's ``Connection``) and the async one (``AsyncConnection``); also the pieces both
    stores share: the driver, the names, connecting options and error mapping."""

    backend: str
    config: PgvectorKnowledgeConfig
    _iterative_scan = False
    _ready = False

    if TYPE_CHECKING:

        def _import_driver(self, module: str) -> Any: ...  # GuardedStore's

    def _use_driver(self) -> None:
        self._psycopg: Any = self._import_driver("psycopg")
        self._sql: Any = self._import_driver("psycopg.sql")
        schema = self._sql.Identifier(self.config.db_schema)
        self._schema = schema
        self._catalogue = self._sql.SQL("{}.{}").format(
            schema, self._sql.Identifier(f"{self.config.table_prefix}collections")
        )

    def _connect_options(self) -> dict[str, Any]:
        config = self.config
        options: dict[str, Any] = {
            "host": config.host,
            "port": config.port,
            "user": config.user,
            "dbname": config.database,
            "sslmode": config.sslmode,
            "connect_timeout": libpq_seconds(config.connect_timeout),
            "application_name": "praisonai-persistence",
        }
        if config.password is not None:
            options["password"] = config.password.get_secret_value()
        return {"autocommit": True, **{key: value for key, value in options.items() if value is not None}}

    def _is_broken(self, error: BaseException | None) -> bool:
        return isinstance(error, (BackendUnavailableError, self._psycopg.OperationalError))

    # -- the steps ---------------------------------------------------------------------

    def _taken_steps(self, name: str, target: _Collection, ids: list[str]) -> Operation[_Sql, tuple[()]]:
        """None: ``_put`` checks, in the transaction it writes in."""
        yield from ()
        return ()

    def _find_steps(self, name: str) -> Operation[_Sql, _Collection | None]:
        sql = self._sql
        rows = yield _Sql(
            sql.SQL("SELECT table_name, dimension, distance, metadata FROM {} WHERE name = %s").format(self._catalogue),
            (name,),
        )
        if not rows:
            return None
        table, dimension, distance, metadata = rows[0]
        return _Collection(
            sql.SQL("{}.{}").format(self._schema, sql.Identifier(table)), int(dimension), distance, metadata
        )

    def _create_steps(
        self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None
    ) -> Operation[_Sql, None]:
        if dimension > MAX_DIMENSION:
            raise InvalidInputError(f"dimension {dimension} is above pgvector's limit of {MAX_DIMENSION}")
        yield from self._transaction(self._create_statements(name, dimension, distance, metadata))

    def _create_statements(
        self, name: str, dimension: int, distance: Distance, metadata: dict[str, Any] | None
    ) -> Operation[_Sql, None]:
        table = table_name(self.config.table_prefix, name)
        sql = self._sql
        inserted = yield _Sql(
            sql.SQL(
                "INSERT INTO {} (name, table_name, dimension, distance, metadata, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING name"
            ).format(self._catalogue),
            (name, table, dimension, distance, _optional_json(metadata), time.time()),
        )
        if not inserted:
            raise collection_exists(name)
        target = sql.SQL("{}.{}").format(self._schema, sql.Identifier(table))
        yield _Sql(
            sql.SQL(
                "CREATE TABLE {} (id text PRIMARY KEY, content text NOT NULL, "
                "embedding vector({}) NOT NULL, metadata jsonb, metadata_json text, "
                "content_hash text, created_at double precision NOT NULL)"
            ).format(target, sql.Literal(dimension))
        )
        if self.config.index == "hnsw" and dimension <= MAX_INDEXED_DIMENSION:
            yield _Sql(
                sql.SQL("CREATE INDEX ON {} USING hnsw (embedding {}) WITH (m = {}, ef_construction = {})").format(
                    target,
                    sql.SQL(_OPERATORS[distance][1]),
                    sql.Literal(self.config.hnsw_m),
                    sql.Literal(self.config.hnsw_ef_construction),
                )
            )
        if distance == "cosine":
            # Finds the zero vectors (no cosine, left out of HNSW) without a scan: see _zero_vectors.
            yield _Sql(sql.SQL("CREATE INDEX ON {} (id) WHERE vector_norm(embedding) = 0").format(target))

    def _drop_steps(self, name: str, target: _Collection) -> Operation[_Sql, None]:
        yield from self._transaction(self._drop_statements(name))

    def _drop_statements(self, name: str) -> Operation[_Sql, None]:
        sql = self._sql
        rows = yield _Sql(
            sql.SQL("DELETE FROM {} WHERE name = %s RETURNING table_name").format(self._catalogue), (name,)
        )
        if not rows:
            raise collection_not_found(name)
        yield _Sql(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(self._schema, sql.Identifier(rows[0][0])))

    def _names_steps(self) -> Operation[_Sql, list[str]]:
        rows = yield _Sql(self._sql.SQL("SELECT name FROM {}").format(self._catalogue))
        return [row[0] for row in rows]

    def _put_steps(
        self, name: str, target: _Collection, documents: list[KnowledgeDocument], overwrite: bool
    ) -> Operation[_Sql, None]:
        rows = [self._row(document, index) for index, document in enumerate(documents)]
        yield from self._transaction(self._put_statements(name, target, rows, overwrite))

    def _put_statements(
        self, name: str, target: _Collection, rows: list[tuple[Any, ...]], overwrite: bool
    ) -> Operation[_Sql, None]:
        sql = self._sql
        ids = [row[0] for row in rows]
        yield from self._hold(name, target.dimension)
        if not overwrite:
            taken = yield _Sql(sql.SQL("SELECT id FROM {} WHERE id = ANY(%s)").format(target.table), (ids,))
            if taken:
                raise document_exists(name, [row[0] for row in taken])
        conflict = sql.SQL(
            " ON CONFLICT (id) DO UPDATE SET content = EXCLUDED.content, embedding = EXCLUDED.embedding, "
            "metadata = EXCLUDED.metadata, metadata_json = EXCLUDED.metadata_json, "
            "content_hash = EXCLUDED.content_hash, created_at = EXCLUDED.created_at"
            if overwrite
            else ""
        )
        statement = (
            sql.SQL(
                "INSERT INTO {} (id, content, embedding, metadata, metadata_json, content_hash, created_at) "
                "VALUES (%s, %s, %s::float8[]::vector, %s::jsonb, %s, %s, %s)"
            ).format(target.table)
            + conflict
        )
        try:
            yield _Sql(statement, rows, many=True)
        except self._psycopg.errors.UniqueViolation as error:
            # Another writer took an id between our check and our insert.
            raise document_exists(name, ids) from error

    def _search_steps(
        self, name: str, target: _Collection, query: list[float], limit: int, node: FilterNode | None
    ) -> Operation[_Sql, list[KnowledgeDocument]]:
        sql = self._sql
        params = Parameters()
        where = self._optional_where(node, params, " WHERE ")
        operator = sql.SQL(_OPERATORS[target.distance][0])
        statement = sql.SQL(
            "SELECT " + _COLUMNS + ", embedding {op} %(query)s::float8[]::vector AS distance "
            "FROM {table}{where} ORDER BY embedding {op} %(query)s::float8[]::vector LIMIT %(limit)s"
        ).format(op=operator, table=target.table, where=where)
        values = {**params.values, "query": query, "limit": limit}
        exact = self.config.exact_search or limit > _MAX_EF_SEARCH
        rows = yield from self._transaction(self._search_statements(statement, values, limit, exact, node is not None))
        if node is not None and len(rows) < limit and not exact:
            # The index ran out of candidates before the filter found ``limit`` matches (iterative
            # scans stop at hnsw.max_scan_tuples; pgvector < 0.8 has none): ask again, exactly.
            rows = yield from self._transaction(self._search_statements(statement, values, limit, True, True))
        results = []
        for row in rows:
            document = _document(row)
            document.score = math.nan if row[6] is None or math.isnan(row[6]) else _score(target.distance, row[6])
            results.append(document)
        return results

    def _search_statements(
        self, statement: psql.Composable, values: dict[str, Any], limit: int, exact: bool, filtered: bool
    ) -> Operation[_Sql, list[Any]]:
        # Per-transaction HNSW settings: enough candidates for ``limit``, or an exact scan.
        if exact:
            yield _Sql("SELECT set_config('enable_indexscan', 'off', true)")
        else:
            yield _Sql("SELECT set_config('hnsw.ef_search', %s, true)", (str(max(self.config.ef_search, limit)),))
            if filtered and self._iterative_scan:
                yield _Sql("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)")
        # Never prepared: a prepared statement's cached generic plan ignores the settings above
        # (an index scan with the default ef_search of 40 where an exact scan was asked for).
        rows: list[Any] = yield _Sql(statement, values, prepare=False)
        return rows

    def _zero_vectors_steps(
        self, name: str, target: _Collection, limit: int, node: FilterNode | None
    ) -> Operation[_Sql, list[KnowledgeDocument]]:
        """Cosine: zero vectors, which HNSW leaves out and an exact scan ranks last (NaN distance)."""
        sql = self._sql
        params = Parameters()
        where = self._optional_where(node, params, " AND ")
        rows = yield _Sql(
            sql.SQL(
                "SELECT " + _COLUMNS + " FROM {} WHERE vector_norm(embedding) = 0{} ORDER BY id LIMIT %(limit)s"
            ).format(target.table, where),
            {**params.values, "limit": limit},
        )
        found = []
        for row in rows:
            document = _document(row)
            document.score = 0.0
            found.append(document)
        return found

    def _fetch_steps(
        self, name: str, target: _Collection, ids: list[str]
    ) -> Operation[_Sql, dict[str, KnowledgeDocument]]:
        rows = yield _Sql(
            self._sql.SQL("SELECT " + _COLUMNS + " FROM {} WHERE id = ANY(%s)").format(target.table), (ids,)
        )
        return {row[0]: _document(row) for row in rows}

    def _remove_steps(
        self, name: str, target: _Collection, ids: list[str] | None, node: FilterNode | None
    ) -> Operation[_Sql, int]:
        sql = self._sql
        params = Parameters()
        conditions: list[psql.Composable] = []
        if ids is not None:
            conditions.append(sql.SQL("id = ANY(%(ids)s)"))
        if node is not None:
            conditions.append(self._where(node, params))
        deleted: int = yield _Sql(
            sql.SQL("DELETE FROM {} WHERE ").format(target.table) + sql.SQL(" AND ").join(conditions),
            {**params.values, "ids": ids},
        )
        return max(deleted, 0)

    def _count_steps(self, name: str, target: _Collection) -> Operation[_Sql, int]:
        rows = yield _Sql(self._sql.SQL("SELECT count(*) FROM {}").format(target.table))
        return int(rows[0][0])

    def _page_steps(
        self, target: _Collection, after: str | None, size: int
    ) -> Operation[_Sql, list[KnowledgeDocument]]:
        rows = yield _Sql(
            self._sql.SQL(
                "SELECT " + _COLUMNS + ' FROM {} WHERE %(after)s::text IS NULL OR id COLLATE "C" > %(after)s '
                'ORDER BY id COLLATE "C" LIMIT %(size)s'
            ).format(target.table),
            {"after": after, "size": size},
        )
        return [_document(row) for row in rows]

    def _setup_steps(self) -> Operation[_Sql, None]:
        """Once per store: the extension, the schema and the catalogue table."""
        sql = self._sql
        version = yield from self._extension_version()
        statements = [
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(self._schema),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, table_name text NOT NULL UNIQUE, "
                "dimension integer NOT NULL, distance text NOT NULL, metadata text, "
                "created_at double precision NOT NULL)"
            ).format(self._catalogue),
        ]
        for statement in statements:
            # UniqueViolation: another process created it at the same moment; it exists now.
            with contextlib.suppress(self._psycopg.errors.UniqueViolation):
                yield _Sql(statement)
        self._iterative_scan = version >= (0, 8)
        self._ready = True

    def _extension_version(self) -> Operation[_Sql, tuple[int, ...]]:
        query = "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        rows = yield _Sql(query)
        if not rows and self.config.create_extension:
            try:
                yield _Sql("CREATE EXTENSION IF NOT EXISTS vector")
            except self._psycopg.Error as error:
                raise StoreError(
                    f"the pgvector extension is not installed in this database and could not be created "
                    f"({type(error).__name__}: {error}); install pgvector on the server and run "
                    "CREATE EXTENSION vector as a privileged user"
                ) from error
            rows = yield _Sql(query)
        if not rows:
            raise StoreError(
                "the pgvector extension is not enabled in this database; run CREATE EXTENSION vector "
                "(or allow create_extension)"
            )
        return tuple(int(part) for part in str(rows[0][0]).split(".")[:2] if part.isdigit())

    def _transaction(self, statements: Operation[_Sql, R]) -> Operation[_Sql, R]:
        """``statements`` in one transaction, rolled back when one fails. A call cancelled half-way
        leaves it open: its connection is then closed rather than pooled (see :func:`_idle`)."""
        yield _BEGIN
        try:
            result = yield from statements
        except Exception:
            yield _ROLLBACK
            raise
        yield _COMMIT
        return result

    def _hold(self, name: str, dimension: int) -> Operation[_Sql, None]:
        """Lock the collection's catalogue row for this transaction, so it cannot be dropped between
        ``_find`` and a write of several statements (one statement holds its table while it runs)."""
        rows = yield _Sql(
            self._sql.SQL("SELECT dimension FROM {} WHERE name = %s FOR SHARE").format(self._catalogue), (name,)
        )
        if not rows or int(rows[0][0]) != dimension:
            raise collection_not_found(name)  # dropped (and maybe re-created) since _find

    # -- helpers -------------------------------------------------------------------------

    def _optional_where(self, node: FilterNode | None, params: Parameters, keyword: str) -> psql.Composable:
        """``keyword`` and the filter's condition, or nothing without a filter."""
        clause: psql.Composable = self._sql.SQL("")
        if node is not None:
            clause = self._sql.SQL(keyword) + self._where(node, params)
        return clause

    def _where(self, node: FilterNode, params: Parameters) -> psql.Composable:
        if _filter_has_nul(node):
            raise UnsupportedFilterError(
                "filter field names and string values cannot contain NUL characters on PostgreSQL"
            )
        where: psql.Composable = self._sql.SQL(translate_filter(node, PostgresJsonb("metadata"), params))
        return where

    def _row(self, document: KnowledgeDocument, index: int) -> tuple[Any, ...]:
        if "\x00" in document.content:
            raise InvalidInputError(
                f"documents[{index}].content contains a NUL character, which PostgreSQL text cannot hold"
            )
        if document.metadata is not None and _has_nul(document.metadata):
            raise InvalidInputError(
                f"documents[{index}].metadata contains a NUL character, which PostgreSQL jsonb cannot hold"
            )
        metadata = _optional_json(document.metadata)
        return (
            document.id,
            document.content,
            document.embedding,
            metadata,
            metadata,
            document.content_hash,
            document.created_at,
        )

    def _translate_error(self, error: Exception) -> Exception | None:
        errors = self._psycopg.errors
        if isinstance(error, self._psycopg.OperationalError):
            config = self.config
            return BackendUnavailableError(f"PostgreSQL at {config.host}:{config.port} is unreachable: {error}")
        if isinstance(error, errors.UndefinedTable):
            return StoreError(f"a table of this store is missing (dropped outside the store?): {error}")
        if isinstance(error, errors.DataError):
            return InvalidInputError(f"PostgreSQL refused a value: {error}")
        return None

    def __repr__(self) -> str:
        config = self.config
        return (
            f"{type(self).__name__}(host={config.host!r}, port={config.port}, database={config.database!r}, "
            f"schema={config.db_schema!r})"
        )


def _optional_json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else dump_json(value, what="metadata")


def _document(row: Sequence[Any]) -> KnowledgeDocument:
    return KnowledgeDocument(
        id=row[0],
        content=row[1],
        metadata=None if row[2] is None else load_json(row[2]),
        content_hash=row[3],
        created_at=float(row[4]),
        embedding=[float(value) for value in row[5]],
    )
